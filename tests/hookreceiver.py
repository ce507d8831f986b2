"""A webhook receiver for tests: a real HTTP server on loopback, in its own process.

    python hookreceiver.py PORT LOG MODE_FILE

Every request is appended to LOG as a JSON line (headers, body) and fsynced *when it
arrives*, before the answer; the answer depends on the first word of MODE_FILE, read per
request: `ok` (204), `refuse` (503), `slow N` (sleep N seconds, then 204).
"""

from __future__ import annotations

import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    port, log, mode_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with open(log, "a") as fh:
                fh.write(json.dumps({"at": time.time(), "path": self.path,
                                     "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "body": body.decode()}) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                mode = open(mode_file).read().split()
            except OSError:
                mode = ["ok"]
            if mode and mode[0] == "slow":
                time.sleep(float(mode[1]))
            if mode and mode[0] == "refuse":
                self.send_response(503)
            else:
                self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
