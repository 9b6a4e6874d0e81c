"""Start and stop the real servers production uses, on loopback only:
gunicorn (run exactly as the Procfile says), redis-server and a Celery worker.

Every wait is bounded; `stop` ends the process group it started and nothing else.
Used by the production tests and by the benchmarks in bench/.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def procfile_command(kind: str = "web") -> str:
    """The Procfile's command line for `kind`, with gunicorn/celery from this Python."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            command = line.split(":", 1)[1].strip()
            for tool in ("gunicorn", "celery"):
                if command.startswith(tool + " "):
                    command = f"{shlex.quote(sys.executable)} -m {command}"
            return command
    raise ValueError(f"Procfile has no {kind}: line")


class Server:
    """A started process group, its log file and (for web servers) its URL."""

    def __init__(self, process: subprocess.Popen, log: Path, url: str = ""):
        self.process, self.log, self.url = process, log, url

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        except ProcessLookupError:
            pass


def _spawn(command: str, env: dict, log_name: str) -> tuple[subprocess.Popen, Path]:
    log = Path(tempfile.mkdtemp(prefix="learnscape-")) / log_name
    handle = open(log, "wb")
    process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=ROOT, env=env, stdout=handle,
                               stderr=subprocess.STDOUT, start_new_session=True)
    handle.close()
    return process, log


def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CACHE_", "CELERY_", "BACKGROUND", "LEARNSCAPE_", "DASH_"))}
    # Compressing the static files at start takes seconds: only where they are weighed.
    # A step prefetch would compute every lesson's later steps: only where it is tested.
    env.update({"HOST": LOOPBACK, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "PRECOMPRESS_STATIC": "0",
                "PREFETCH": "0"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_http(url: str, timeout: float = 60.0, server: Server | None = None) -> None:
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if server is not None and not server.alive():
            raise RuntimeError(f"server exited early:\n{server.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise TimeoutError(f"{url} not up after {timeout} s ({last})")


def start_gunicorn(workers: int = 2, port: int | None = None, timeout: float = 90.0, app: str = "",
                   health: str = "/healthz", **env) -> Server:
    """gunicorn with the Procfile's `web` command on 127.0.0.1, waiting until it answers.

    app: another WSGI target than the site's ("module:attribute"), for tests.
    """
    port = port or free_port()
    environment = base_env(PORT=port, WEB_CONCURRENCY=workers, **env)
    command = procfile_command("web")
    if app:
        command = command.replace("app.main:server", app)
    process, log = _spawn(command, environment, "gunicorn.log")
    server = Server(process, log, f"http://{LOOPBACK}:{port}")
    try:
        wait_http(server.url + health, timeout, server)
    except Exception:
        server.stop()
        raise
    return server


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


def start_redis(port: int | None = None, timeout: float = 15.0) -> Server:
    """A throwaway redis-server on 127.0.0.1 (no persistence); url like redis://127.0.0.1:port/0."""
    port = port or free_port()
    command = (f"redis-server --port {port} --bind {LOOPBACK} --save '' --appendonly no "
               f"--protected-mode yes --dir {shlex.quote(tempfile.mkdtemp(prefix='learnscape-redis-'))}")
    process, log = _spawn(command, dict(os.environ), "redis.log")
    server = Server(process, log, f"redis://{LOOPBACK}:{port}/0")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return server
        except OSError:
            pass
        if not server.alive():
            break
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"redis-server did not start:\n{server.log_text()[-2000:]}")


def start_celery(timeout: float = 60.0, app: str = "", **env) -> Server:
    """The Procfile's `worker` (a Celery worker), waiting until it is ready.

    app: another Celery app than the site's ("module:attribute"), for tests.
    """
    environment = base_env(CELERY_CONCURRENCY=1, **env)
    command = procfile_command("worker")
    if app:
        command = command.replace("app.main:celery_app", app)
    process, log = _spawn(command, environment, "celery.log")
    server = Server(process, log)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "ready." in server.log_text():
            return server
        if not server.alive():
            break
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"celery worker did not start:\n{server.log_text()[-3000:]}")
