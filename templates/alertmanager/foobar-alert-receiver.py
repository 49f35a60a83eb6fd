#!/usr/bin/python3
"""foobar-alert-receiver: a webhook receiver for Alertmanager, for the lab and for tests.

Usage: foobar-alert-receiver.py ADDRESS PORT LOGFILE

Every POST (one Alertmanager notification: a group of alerts, firing or resolved) is appended to
LOGFILE as one JSON line, with the time it arrived added as "receivedAt". Nothing else is done
with it: point Alertmanager's route at a real receiver (email, Slack, PagerDuty) in production.
"""

import json
import os
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20          # one notification; Alertmanager's are a few KiB
MAX_LOG = 16 << 20          # the log is moved to LOGFILE.1 beyond this size
LOCK = threading.Lock()


def append(path: str, record: dict) -> None:
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with LOCK:
        try:
            if os.path.getsize(path) > MAX_LOG:
                os.replace(path, path + ".1")
        except OSError:
            pass
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)


class Handler(BaseHTTPRequestHandler):
    server_version = "foobar-alert-receiver"
    sys_version = ""

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write("%s\n" % (fmt % args))

    def reply(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self.reply(413 if length > MAX_BODY else 400, "want one JSON notification\n")
            return
        try:
            payload = json.loads(self.rfile.read(length))
        except ValueError:
            self.reply(400, "not JSON\n")
            return
        if not isinstance(payload, dict):
            self.reply(400, "not a JSON object\n")
            return
        payload["receivedAt"] = datetime.now(timezone.utc).isoformat()
        append(self.server.log_path, payload)
        self.reply(200, "ok\n")


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    address, port, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    server = ThreadingHTTPServer((address, port), Handler)
    server.log_path = log_path
    sys.stderr.write(f"foobar-alert-receiver on {address}:{port}, writing {log_path}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
