"""Screenshots of lesson steps at a phone, a desktop and presenter size, to look at.

    python -m bench.screenshots --base http://127.0.0.1:8050 --out shots [--sizes phone,desktop,present]
        [--pages /perceptron?step=1 ...]

Without --pages: the first and last step of every lesson. Each shot waits until
the page has drawn its figures and nothing is loading (at most --wait seconds),
then saves `<out>/<size>-<page>.png`. Prints one JSON line per shot.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from selenium import webdriver

SIZES = {"phone": (390, 844), "desktop": (1400, 900), "present": (1920, 1080)}
DRAWN = """
const busy = document.querySelector('[data-dash-is-loading="true"], .site-job.is-running');
const graphs = Array.from(document.querySelectorAll('.ls-figure:not(.ls-hidden) .js-plotly-plot'));
return document.querySelector('.ls-progress, .lesson-card') !== null && !busy
    && graphs.every(g => g.data && g.data.length);
"""


def default_pages() -> list[str]:
    from app.main import app  # noqa: F401 - registers the pages
    from components.site import lessons
    return [f"{p['relative_path']}?step={s}" for p in lessons() for s in (1, p.get("steps", 1))]


def browser(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options)


def shoot(driver, url: str, path: Path, wait_s: float) -> dict:
    started = time.monotonic()
    driver.get(url)
    drawn = False
    while time.monotonic() - started < wait_s:
        try:
            if driver.execute_script(DRAWN):
                drawn = True
                break
        except Exception:  # the page is still loading
            pass
        time.sleep(0.2)
    time.sleep(0.5)  # let the last transition settle
    driver.save_screenshot(str(path))
    width = driver.execute_script("return document.documentElement.scrollWidth")
    return {"url": url, "file": str(path), "drawn": drawn, "seconds": round(time.monotonic() - started, 1),
            "scroll_width": width}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8050")
    parser.add_argument("--out", default="shots")
    parser.add_argument("--sizes", default="phone,desktop,present")
    parser.add_argument("--pages", nargs="*")
    parser.add_argument("--wait", type=float, default=40.0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pages = args.pages or default_pages()
    for size in args.sizes.split(","):
        width, height = SIZES[size]
        driver = browser(max(width, 500), height)
        # Headless Chromium keeps windows at least 500 px wide: phones are emulated.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": size == "phone"})
        try:
            for page in pages:
                url = args.base + page + (("&" if "?" in page else "?") + "present=1" if size == "present" else "")
                name = re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-") or "home"
                print(json.dumps(shoot(driver, url, out / f"{size}-{name}.png", args.wait)), flush=True)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
