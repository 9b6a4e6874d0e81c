"""Your own data in headless Chromium: a melody entered by keyboard buttons and by text,
trained on, continued and downloaded; an edge list pasted and laid out, bad files refused."""

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app.main import app
from pages import graph_layout as graph_page
from pages import rnn as rnn_page
from tests.browser.helpers import assert_clean, start, wait_until

pytestmark = pytest.mark.browser

RNN_FREE = f"/rnn?step={len(rnn_page.STEPS)}&hidden=24&steps=80"
GRAPH_FREE = f"/graph-layout?step={len(graph_page.STEPS)}&steps=60"


def text_of(dash_duo, css: str) -> str:
    return dash_duo.find_element(css).text


def melody_text(dash_duo) -> str:
    return dash_duo.find_element('textarea[id*="melody-text"]').get_attribute("value")


def key(dash_duo, note: str):
    return dash_duo.find_element(f'button[data-note="{note}"]')


def pick_length(dash_duo, label: str) -> None:
    dash_duo.driver.find_element(
        By.XPATH, f"//div[contains(@class,'mk-lengths')]//label[normalize-space()='{label}']").click()


def replace_text(dash_duo, css: str, text: str) -> None:
    field = dash_duo.find_element(css)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)
    wait_until(lambda: field.get_attribute("value") == text, message="the text typed")


def summary(dash_duo) -> str:
    return dash_duo.find_element('[id*="panel"][id*="summary"]').text


def test_a_melody_by_keys_and_by_text_is_trained_on_continued_and_downloaded(dash_duo):
    start(dash_duo, app, RNN_FREE)
    wait_until(lambda: dash_duo.find_element(".mk-keyboard").is_displayed(), 60, "the melody keyboard")
    for note in ("C4", "E4", "G4"):
        key(dash_duo, note).click()
    wait_until(lambda: melody_text(dash_duo) == "C4:1 E4:1 G4:1", message="three notes from the keys")
    pick_length(dash_duo, "0.5 beats")
    wait_until(lambda: key(dash_duo, "B3").get_attribute("disabled"), message="B3 has no half-beat token")
    assert key(dash_duo, "B3").size["height"] >= 44
    key(dash_duo, "E4").click()
    wait_until(lambda: melody_text(dash_duo) == "C4:1 E4:1 G4:1 E4:0.5", message="a half-beat E4")
    dash_duo.find_element(".mk-use").click()
    wait_until(lambda: "melody of 4 notes" in text_of(dash_duo, '[id*="melody-message"]'), 30, "the melody taken")
    wait_until(lambda: "melody=C4%3A1" in dash_duo.driver.current_url, 30, "the melody in the link")
    wait_until(lambda: "The first 4 notes are your melody" in summary(dash_duo), 90, "the network's continuation")

    replace_text(dash_duo, 'textarea[id*="melody-text"]', "C4:1 C5:1")
    dash_duo.find_element(".mk-use").click()
    wait_until(lambda: "note 2" in text_of(dash_duo, '[id*="melody-message"]'), 30, "the bad note named")
    assert "C5" in text_of(dash_duo, '[id*="melody-message"]')
    assert "melody=C4%3A1+E4%3A1+G4%3A1+E4%3A0.5" in dash_duo.driver.current_url, "nothing half-loaded"

    replace_text(dash_duo, 'textarea[id*="melody-text"]', "E4:1 D4:1 C4:1 D4:1 E4:1 E4:1 E4:2")
    dash_duo.find_element(".mk-use").click()
    wait_until(lambda: "The first 7 notes are your melody" in summary(dash_duo), 90, "the typed melody continued")

    dash_duo.find_element(".rnn-play").click()
    dash_duo.find_element(".rnn-stop").click()
    folder = Path(dash_duo.download_path)
    before = {p.name for p in folder.iterdir()}
    dash_duo.find_element(".rnn-wav").click()
    wav = wait_until(lambda: [p for p in folder.glob("*.wav") if p.name not in before and p.stat().st_size > 44],
                     30, "the WAV download")[0]
    assert wav.read_bytes()[:4] == b"RIFF"
    assert_clean(dash_duo)


def test_an_edge_list_is_pasted_and_laid_out_and_bad_files_are_refused(dash_duo, tmp_path):
    start(dash_duo, app, GRAPH_FREE)
    wait_until(lambda: dash_duo.find_element(".gl-own-graph").is_displayed(), 60, "the edge-list panel")
    replace_text(dash_duo, 'textarea[id*="edges-text"]', "source,target\nalice bob\nbob,carol\ncarol dave\n"
                                                           "dave alice\nalice carol\n1 alice")
    dash_duo.find_element(".gl-edges-use").click()
    wait_until(lambda: "5 circles, 6 links" in text_of(dash_duo, '[id*="edges-message"]'), 30, "the pasted graph")
    dash_duo.find_element(".gl-run").click()
    wait_until(lambda: text_of(dash_duo, '[id*="caption"]').startswith("Your graph of 5 circles and 6 links"), 60,
               "the pasted graph laid out")
    wait_until(lambda: "graph=g" in dash_duo.driver.current_url, 30, "the graph in the link")

    upload = dash_duo.find_element('[id*="edges-upload"] input[type="file"]')
    bad = tmp_path / "bad-edges.csv"
    bad.write_text("a,b\nb,c\nc\n")
    upload.send_keys(str(bad))
    wait_until(lambda: "line 3" in text_of(dash_duo, '[id*="edges-message"]'), 30, "the bad line named")
    assert "one field" in text_of(dash_duo, '[id*="edges-message"]')
    binary = tmp_path / "picture.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    upload.send_keys(str(binary))
    wait_until(lambda: "binary" in text_of(dash_duo, '[id*="edges-message"]'), 30, "a binary file refused")
    assert text_of(dash_duo, '[id*="caption"]').startswith("Your graph of 5 circles"), "nothing half-loaded"
    assert "graph=g" in dash_duo.driver.current_url
    assert_clean(dash_duo)
