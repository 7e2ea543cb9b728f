"""What a real-browser test needs: an ASGI app served by uvicorn on a free 127.0.0.1 port in a
background thread, and Debian's headless Chromium (the same setup as tools/screenshots.py)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.types import ASGIApp

from tools.screenshots import CHROMEDRIVER, CHROMIUM, chromium, full_page_png, phone_width, sign_in

__all__ = ["chromium", "full_page_png", "needs_chromium", "phone_width", "serving", "sign_in"]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
    reason=f"no {CHROMIUM} and {CHROMEDRIVER}: install Debian's chromium and chromium-driver (make infra does)",
)


@contextmanager
def serving(app: ASGIApp, timeout_s: float = 10.0) -> Iterator[str]:
    """The app served until the block ends; yields its base URL. The socket is bound here and
    handed to uvicorn, so no other process can take the port between choosing and serving it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="board-web", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the board's web server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)
        listener.close()
