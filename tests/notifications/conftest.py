"""Fixtures of the notification tests: a grading scenario, and a real HTTP server on 127.0.0.1
that records what it receives (the webhook endpoint of an integration)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HookServer:
    """Answers each POST with the next status of ``statuses`` (then 200) and records it."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, kind: str) -> list[Received]:
        return [item for item in self.received if item.json["type"] == kind]


@pytest.fixture
def hook_server() -> Iterator[HookServer]:
    server_state: dict[str, HookServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            state = server_state["state"]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                # Header names are case-insensitive (RFC 9110): stored lower-cased.
                headers = {name.lower(): value for name, value in self.headers.items()}
                state.received.append(Received(headers, body))
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state["state"] = HookServer(url=f"http://127.0.0.1:{server.server_port}/hooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state["state"]
    finally:
        server.shutdown()
        server.server_close()
