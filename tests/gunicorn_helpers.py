"""The app under gunicorn, as production runs it, for the tests that need real processes:
starting and stopping it, waiting for its port, and plain HTTP requests to it."""

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent

# wsgi.py's production app with the suite's cheap password hashing (argon2's defaults take
# half a second a login on a busy test machine; on SQLite a login holds the write lock while
# it hashes).
WSGI = """from mediation import create_app

app = create_app("production", ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8 * 1024)
"""


class Reply(NamedTuple):
    status: int
    set_cookie: str | None
    body: str
    location: str


def call(port: int, method: str, path: str, *, address: str | None = None,
         cookie: str | None = None, form: dict | None = None) -> Reply:
    """One request on a new connection (so that any worker may take it); ``address`` is the
    client as a trusted reverse proxy reports it (X-Forwarded-For)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Forwarded-For": address} if address else {}
    if cookie:
        headers["Cookie"] = cookie
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=urlencode(form) if form else None,
                           headers=headers)
        response = connection.getresponse()
        return Reply(response.status, response.getheader("Set-Cookie"),
                     response.read().decode(), response.getheader("Location") or "")
    finally:
        connection.close()


@contextmanager
def gunicorn_process(arguments: list[str], environment: dict, errors: Path, home: Path):
    """``python -m gunicorn arguments…`` with ``home`` (holding the test's WSGI module) on
    its path and its output in ``errors``; stopped, with its workers, on leaving."""
    with errors.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--no-control-socket",
             "--pythonpath", str(home), *arguments],
            cwd=ROOT, env=environment, stdout=log, stderr=log,
            start_new_session=True)  # its own process group: the workers go with it
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)  # quick shutdown
            with suppress(subprocess.TimeoutExpired):  # workers tearing down an interpreter
                process.wait(timeout=2)
            with suppress(ProcessLookupError):  # all gone already
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def serving_port(process: subprocess.Popen, errors: Path) -> int:
    """The port gunicorn bound (``--bind 127.0.0.1:0``), once its login page answers."""
    deadline = time.monotonic() + 60
    port = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{errors.read_text()}")
        if port is None:
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", errors.read_text())
            port = int(found.group(1)) if found else None
        if port is not None:
            with suppress(OSError):
                if call(port, "GET", "/login", address="192.0.2.1").status == 200:
                    return port
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer within a minute:\n{errors.read_text()}")
