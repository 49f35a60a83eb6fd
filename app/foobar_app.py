#!/usr/bin/python3
"""foobar-app: the www.foobar.com application server.

A small HTTP service on the Python standard library plus PyMySQL (Debian's python3-pymysql):

  GET  /               page naming this host, with the row count and last row read from the REPLICA
  GET  /?format=json   the same as JSON
  POST /write          inserts a row into the PRIMARY (form field or JSON key "msg", or a raw body)
  GET  /write?msg=...  the same, for quick checks with curl
  GET  /healthz        200 "ok <version>": the process is up and serving (no database round trip,
                       so a database outage does not take every app host out of rotation at once)
  GET  /version        the version string
  GET  /slow?seconds=N  answers after N seconds (at most 8, below nginx's 10 s proxy timeout): long
                       requests, to exercise the load balancer's leastconn

Every response carries X-App-Host and X-App-Version, which nginx passes on.
With tls_cert and tls_key set, it serves HTTPS only (nginx verifies that certificate); with
ssl_ca set, its MariaDB connections use TLS and verify the server's certificate and name.
Settings come from an INI file (FOOBAR_APP_CONFIG, default /etc/foobar-app/app.conf); the version
from the VERSION file beside this script, so each release directory knows its own version.
"""

import configparser
import html
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = "messages"
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,"
    " msg VARCHAR(255) NOT NULL,"
    " app_host VARCHAR(64) NOT NULL,"
    " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
)
NO_SUCH_TABLE = 1146


def read_version() -> str:
    try:
        with open(os.path.join(HERE, "VERSION"), encoding="utf-8") as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"


def load_settings(path: str) -> dict:
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path, encoding="utf-8"):
        sys.exit(f"foobar-app: cannot read config {path}")
    app = parser["app"] if parser.has_section("app") else {}
    db = parser["database"]
    return {
        "host_name": app.get("host_name") or socket.gethostname(),
        "listen": app.get("listen", "0.0.0.0"),
        "port": int(app.get("port", "8000")),
        "db_name": db["name"],
        "db_user": db["user"],
        "db_password": db["password"],
        "db_port": int(db.get("port", "3306")),
        "primary": db["primary"],
        "replica": db.get("replica") or db["primary"],
        "tls_cert": app.get("tls_cert") or None,
        "tls_key": app.get("tls_key") or None,
        "db_ssl_ca": db.get("ssl_ca") or None,
    }


SETTINGS: dict = {}
VERSION = read_version()
UNHEALTHY_FLAG = "/etc/foobar-app/unhealthy"
SLOW_MAX_SECONDS = 8.0


def connect(host: str) -> pymysql.connections.Connection:
    return pymysql.connect(
        host=host,
        port=SETTINGS["db_port"],
        user=SETTINGS["db_user"],
        password=SETTINGS["db_password"],
        database=SETTINGS["db_name"],
        connect_timeout=3,
        read_timeout=5,
        write_timeout=5,
        autocommit=True,
        charset="utf8mb4",
        # The primary and replica are named by IP address: their certificates carry it as a SAN.
        ssl={"ca": SETTINGS["db_ssl_ca"], "check_hostname": True} if SETTINGS["db_ssl_ca"] else None,
    )


def read_summary() -> dict:
    """Row count and last row, from the replica."""
    conn = connect(SETTINGS["replica"])
    try:
        with conn.cursor() as cur:
            try:
                cur.execute(f"SELECT COUNT(*) FROM {TABLE}")
                count = cur.fetchone()[0]
                cur.execute(f"SELECT id, msg, app_host, created_at FROM {TABLE} ORDER BY id DESC LIMIT 1")
                last = cur.fetchone()
            except pymysql.err.ProgrammingError as e:
                # Nothing written yet: the table appears on the replica with the first write.
                if e.args and e.args[0] == NO_SUCH_TABLE:
                    count, last = 0, None
                else:
                    raise
    finally:
        conn.close()
    row = None if last is None else {"id": last[0], "msg": last[1], "app_host": last[2], "created_at": str(last[3])}
    return {"rows": count, "last": row, "read_from": SETTINGS["replica"]}


def write_row(msg: str) -> dict:
    """Insert on the primary; the schema is created on first use, so a fresh database works."""
    conn = connect(SETTINGS["primary"])
    try:
        with conn.cursor() as cur:
            cur.execute(SCHEMA)
            cur.execute(f"INSERT INTO {TABLE} (msg, app_host) VALUES (%s, %s)", (msg[:255], SETTINGS["host_name"]))
            row_id = cur.lastrowid
    finally:
        conn.close()
    return {"id": row_id, "msg": msg[:255], "app_host": SETTINGS["host_name"], "written_to": SETTINGS["primary"]}


def page(summary: dict) -> str:
    last = summary["last"]
    last_text = "none yet" if last is None else f'#{last["id"]} "{last["msg"]}" from {last["app_host"]} at {last["created_at"]}'
    host = html.escape(SETTINGS["host_name"])
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>www.foobar.com</title>"
        "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n<body>\n"
        f"<h1>www.foobar.com</h1>\n"
        f"<p>Served by app host <b id=\"app-host\">{host}</b>, version {html.escape(VERSION)}.</p>\n"
        f"<p>Database (replica {html.escape(summary['read_from'])}): <span id=\"rows\">{summary['rows']}</span> rows; "
        f"last row: <span id=\"last\">{html.escape(last_text)}</span>.</p>\n"
        "</body></html>\n"
    )


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that nginx can keep upstream connections alive; idle ones time out.
    protocol_version = "HTTP/1.1"
    timeout = 5
    server_version = "foobar-app"
    sys_version = ""

    def log_message(self, fmt: str, *args) -> None:  # journald adds the time already
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-App-Host", SETTINGS["host_name"])
        self.send_header("X-App-Version", VERSION)
        self.send_header("Cache-Control", "no-store")
        if STOPPING.is_set():
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, status: int, value: dict) -> None:
        self.send(status, json.dumps(value) + "\n", "application/json")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/healthz":
            # An operator's switch: this file fails the health check (and stops a roll).
            if os.path.exists(UNHEALTHY_FLAG):
                self.send(503, f"unhealthy {VERSION}\n")
            else:
                self.send(200, f"ok {VERSION}\n")
        elif url.path == "/version":
            self.send(200, f"{VERSION}\n")
        elif url.path == "/slow":
            try:
                seconds = float((query.get("seconds") or ["1"])[0])
                if seconds != seconds:  # NaN
                    raise ValueError
                seconds = min(max(seconds, 0.0), SLOW_MAX_SECONDS)
            except ValueError:
                self.send(400, "seconds=N, a number\n")
                return
            time.sleep(seconds)
            self.send(200, f"slept {seconds:g} s\n")
        elif url.path == "/write":
            self.write((query.get("msg") or [""])[0])
        elif url.path == "/":
            try:
                summary = read_summary()
            except pymysql.MySQLError as e:
                self.send(503, f"database unavailable: {e}\n")
                return
            if (query.get("format") or [""])[0] == "json":
                self.send_json(200, {"app_host": SETTINGS["host_name"], "version": VERSION, **summary})
            else:
                self.send(200, page(summary), "text/html; charset=utf-8")
        else:
            self.send(404, "not found\n")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length > 0 else ""
        if url.path != "/write":
            self.send(404, "not found\n")
            return
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if kind == "application/json":
            try:
                msg = str(json.loads(body or "{}").get("msg", ""))
            except (ValueError, AttributeError):
                self.send(400, "bad JSON\n")
                return
        elif kind == "application/x-www-form-urlencoded":
            msg = (parse_qs(body).get("msg") or [""])[0]
        else:
            msg = body
        self.write(msg)

    def write(self, msg: str) -> None:
        msg = msg.strip()
        if not msg:
            self.send(400, "give a message: msg=...\n")
            return
        try:
            self.send_json(201, write_row(msg))
        except pymysql.MySQLError as e:
            self.send(503, f"database unavailable: {e}\n")


STOPPING = threading.Event()


class Server(ThreadingHTTPServer):
    """The HTTP server, HTTPS when given a TLS context. The handshake runs in the request's own
    thread, so a slow or broken client never holds up the accept loop."""

    tls: "ssl.SSLContext | None" = None

    def finish_request(self, request, client_address) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(Handler.timeout)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write(f"{client_address[0]} TLS handshake failed: {e}\n")
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


def main() -> None:
    SETTINGS.update(load_settings(os.environ.get("FOOBAR_APP_CONFIG", "/etc/foobar-app/app.conf")))
    server = Server((SETTINGS["listen"], SETTINGS["port"]), Handler)
    if SETTINGS["tls_cert"] and SETTINGS["tls_key"]:
        server.tls = tls_context(SETTINGS["tls_cert"], SETTINGS["tls_key"])
    # On SIGTERM (systemctl stop/restart) stop accepting, let requests in flight finish, then exit:
    # a restart during a rolling upgrade drops nothing that already reached us.
    server.daemon_threads = False
    server.block_on_close = True

    def stop(signum, frame) -> None:
        STOPPING.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheme = "https" if server.tls else "http"
    sys.stderr.write(f"foobar-app {VERSION} on {scheme}://{SETTINGS['listen']}:{SETTINGS['port']}, primary {SETTINGS['primary']}, replica {SETTINGS['replica']}\n")
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
