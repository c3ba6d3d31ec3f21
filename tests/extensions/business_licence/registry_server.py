"""A small business registry served over real HTTP (a thread of this process, on a free
port): JSON for the codes it knows, 404 for the others, 500 for one, and one it never
answers until it is stopped (a timeout for the client); a wrong token is 401."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "registry-secret"
KNOWN = {
    "91330100716105852F": {"holder": "Wang", "status": "存续", "address": "RA1 Road"},
    "914403001922038216": {"holder": "Wang", "status": "注销", "address": "RA1 Road"},
    "91440300708461136T": {"holder": "Li Ming", "status": "在业", "address": "RA1 Road"},
}
BROKEN = "9144030071526726XG"  # answers 500
SILENT = "91110108551385082Q"  # never answers (until the server stops)


class RegistryServer:
    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                code = self.path.rsplit("/", 1)[-1]
                owner.requests.append({"path": self.path,
                                       "auth": self.headers.get("Authorization")})
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"error": "unauthorised"})
                if code == SILENT:
                    owner.stopping.wait()
                    return None
                if code == BROKEN:
                    return self._send(500, {"error": "internal"})
                if code in KNOWN:
                    return self._send(200, {"code": code, **KNOWN[code]})
                return self._send(404, {"error": "unknown code"})

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/licences"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
