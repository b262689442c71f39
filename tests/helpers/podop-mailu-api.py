#!/usr/bin/python3
"""A tiny stand-in for Mailu's internal API, for podop's url table tests.

    podop-mailu-api.py DATA.json PORTFILE

Serves HTTP/1.1 with keep-alive on 127.0.0.1 (a free port, written to
PORTFILE).  DATA.json is read again on every request, so a test changes
the answers by rewriting it:

    {"postfix": {"alias": {"a@x.org": "b@x.org"}, ...},
     "dovecot": {"passdb": {"u@x.org": {...}}, "userdb": {...}},
     "status": {"postfix/alias/boom@x.org": 500}, "sleep": {...},
     "headers": {"postfix/alias/k": {"Cache-Control": "no-store"}},
     "redirect": {"postfix/alias/old@x.org": "/internal/postfix/alias/new"},
     "limit": {"postfix/senderrate/u@x.org": [2, "450 4.2.1 too fast"]}}

GET /internal/<area>/<table>/<key> answers 200 with the JSON value or 404
(a "redirect" entry answers 302 with that Location instead; a "limit"
entry [N, VALUE] is a rate limiter: 404 for the first N requests, then
200 with VALUE, as Mailu's senderrate);
GET /internal/dovecot/<table>/ answers the JSON list of keys;
POST stores the JSON body under its path in memory (see /stats);
DELETE forgets it; GET /stats answers the counters (connections,
requests, posts).  Only the Python standard library is used.
"""
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA = sys.argv[1]
LOCK = threading.Lock()
STATS = {"connections": 0, "requests": 0, "posts": {}, "paths": [],
         "hits": {}}


def load():
    with open(DATA, encoding="utf-8") as f:
        return json.load(f)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            STATS["connections"] += 1

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=None, headers=None):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def rel(self):
        path = urllib.parse.unquote(self.path)
        return path[len("/internal/"):] if path.startswith("/internal/") \
            else None

    def special(self, data, rel):
        delay = data.get("sleep", {}).get(rel)
        if delay:
            time.sleep(delay)
        return data.get("status", {}).get(rel), \
            data.get("headers", {}).get(rel)

    def do_GET(self):
        data = load()
        with LOCK:
            STATS["requests"] += 1
            STATS["paths"].append(self.path)
        if self.path == "/stats":
            with LOCK:
                return self.reply(200, STATS)
        rel = self.rel()
        if rel is None:
            return self.reply(404)
        status, headers = self.special(data, rel)
        with LOCK:
            STATS["hits"][rel] = STATS["hits"].get(rel, 0) + 1
            hits = STATS["hits"][rel]
        limit = data.get("limit", {}).get(rel)
        if limit:
            return self.reply(404) if hits <= limit[0] \
                else self.reply(200, limit[1])
        where = data.get("redirect", {}).get(rel)
        if where:
            return self.reply(302, None, {"Location": where})
        if status:
            return self.reply(status, {"error": "as configured"}, headers)
        parts = rel.split("/", 2)
        if len(parts) < 3:
            return self.reply(404)
        area, table, key = parts
        values = data.get(area, {}).get(table, {})
        if key == "":
            return self.reply(200, sorted(values), headers)
        if key in values:
            return self.reply(200, values[key], headers)
        return self.reply(404, None, headers)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"null")
        rel = self.rel()
        status, headers = self.special(load(), rel or "")
        with LOCK:
            STATS["requests"] += 1
            STATS["posts"][rel] = body
        self.reply(status or 200, None, headers)

    def do_DELETE(self):
        rel = self.rel()
        with LOCK:
            STATS["requests"] += 1
            STATS["posts"].pop(rel, None)
        self.reply(200)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[2] + ".tmp", "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
