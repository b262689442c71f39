#!/usr/bin/python3
"""A stand-in for Mailu's admin API (/internal/postfix/..., /internal/dovecot/...),
for t3007: the routes Mailu's Postfix and Dovecot containers query through
Podop, answering with the same status codes and JSON shapes as Mailu's
core/admin/mailu/internal/views/{postfix,dovecot}.py, on a small model
read from a JSON file.

    mailu-admin.py MODEL.json PORTFILE

MODEL.json is read again on every request (a test edits it as Mailu's web
UI would edit the database):

    {"domains": ["example.com"], "alternatives": {"alt.test": "example.com"},
     "users": {"alice@example.com": {"quota": 1000, "enabled": true,
                                     "forward": ["x@y"], "keep": true}},
     "aliases": {"info@example.com": ["alice@example.com"]},
     "relays": {"relay.test": "[smtp.relay.test]:2525"},
     "dane": ["dane.test"], "ratelimit": {"alice@example.com": 2},
     "ratelimit_exempt": [], "wildcard_senders": [],
     "subnet": "192.168.203.0/24", "delimiter": "+"}

The sender rate limiter counts hits per sender for the life of the
process: the first N lookups pass (404), the next ones are limited (200
with Mailu's 450 text).  SRS is a simplified, reversible stand-in
("SRS0=<local>=<domain>@<our domain>").  GET /stats answers the counters.
Only the Python standard library is used.
"""
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = sys.argv[1]
LOCK = threading.Lock()
STATS = {"requests": 0, "hits": {}, "quota": {}, "rate": {}}
LIMITED = "450 4.2.1 You are sending too many emails too fast."


class Abort(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


def load():
    with open(MODEL, encoding="utf-8") as f:
        return json.load(f)


def split(m, email):
    """(localpart or None, canonical domain) as Mailu's resolve_domain."""
    local, domain = email.rsplit("@", 1) if "@" in email else (None, email)
    return local, m.get("alternatives", {}).get(domain, domain)


def user(m, email):
    return m.get("users", {}).get(email)


def destination(m, local, domain, ignore_keep=False):
    """Mailu's resolve_destination, minus wildcards."""
    delim = m.get("delimiter", "")
    stripped = None
    for i, c in enumerate(local):
        if c in delim:
            stripped = local[:i]
            break
    email = "%s@%s" % (local, domain)
    u = user(m, email) or (stripped and user(m, "%s@%s" % (stripped, domain)))
    if u:
        if not u.get("forward"):
            return [email]
        dest = list(u["forward"])
        if u.get("keep") or ignore_keep:
            dest.append(email)
        return dest
    aliases = m.get("aliases", {})
    if email in aliases:
        return aliases[email]
    if stripped and "%s@%s" % (stripped, domain) in aliases:
        return aliases["%s@%s" % (stripped, domain)]
    return []


def unsupported(address):
    return address.count("@") > 1 or address.startswith('"')


def transport(m, email):
    if email == "*" or re.match(r"(^|.*@)\[.*\]$", email):
        raise Abort(404)
    _, domain = split(m, email)
    relay = m.get("relays", {}).get(domain)
    if relay is None:
        raise Abort(404)
    target, port, lmtp, mx = relay.lower(), None, False, False
    if target.startswith("mx:"):
        target, mx = target[3:], True
    elif target.startswith("lmtp:"):
        target, lmtp = target[5:], True
    if target.startswith("["):
        if mx or "]" not in target:
            raise Abort(400)
        host, rest = target[1:].split("]", 1)
        if rest.startswith(":"):
            port = rest[1:]
        elif rest:
            raise Abort(400)
    elif ":" in target:
        host, port = target.rsplit(":", 1)
    else:
        host = target
    if not host:
        if lmtp:
            raise Abort(400)
        host, mx = domain, True
    if port is not None and not port.isdigit():
        raise Abort(400)
    if ":" in host:
        host = "ipv6:" + host
    if host.startswith("ipv6:") or (not lmtp and not mx):
        host = "[%s]" % host
    return "%s:%s%s" % ("lmtp" if lmtp else "smtp", host,
                        "" if port is None else ":" + port)


def postfix(m, table, key):
    domains = m.get("domains", [])
    if table == "domain":
        if re.match(r"^\[.*\]$", key):
            raise Abort(404)
        if key in domains:
            return key
        if key in m.get("alternatives", {}):
            return key
        raise Abort(404)
    if table == "mailbox":
        if user(m, key):
            return key
        raise Abort(404)
    if table == "alias":
        if unsupported(key):
            raise Abort(404)
        local, domain = split(m, key)
        if local is None:
            return domain
        dest = destination(m, local, domain)
        if dest:
            return ",".join(dest)
        raise Abort(404)
    if table == "transport":
        return transport(m, key)
    if table == "dane":
        if key in m.get("dane", []):
            return "dane-only"
        raise Abort(404)
    if table == "recipient/map":
        hit = re.match(r"^SRS0=([^=]+)=([^@]+)@", key)
        if hit:
            return "%s@%s" % (hit.group(1), hit.group(2))
        raise Abort(404)
    if table == "sender/map":
        local, domain = split(m, key)
        if local is None or domain in domains:
            raise Abort(404)
        return "SRS0=%s=%s@%s" % (local, domain, domains[0])
    if table == "sender/login":
        if unsupported(key):
            raise Abort(404)
        wild = m.get("wildcard_senders", [])
        local, domain = split(m, key)
        if local is None:
            if wild:
                return ",".join(wild)
            raise Abort(404)
        for i, c in enumerate(local):
            if c in m.get("delimiter", ""):
                local = local[:i]
                break
        dest = set(destination(m, local, domain, True)) | set(wild)
        if dest:
            return ",".join(sorted(dest))
        raise Abort(404)
    if table == "sender/rate":
        if key in m.get("ratelimit_exempt", []) or not user(m, key):
            raise Abort(404)
        with LOCK:
            n = STATS["rate"][key] = STATS["rate"].get(key, 0) + 1
        if n <= m.get("ratelimit", {}).get(key, 1 << 30):
            raise Abort(404)
        return LIMITED
    raise Abort(404)


def dovecot_get(m, rest):
    if rest == "userdb/":
        return sorted(e for e, u in m.get("users", {}).items()
                      if u.get("enabled", True))
    kind, _, arg = rest.partition("/")
    if kind == "passdb":
        if not user(m, arg):
            raise Abort(404)
        return {"password": None, "nopassword": "Y",
                "allow_real_nets": m.get("subnet", "")}
    if kind == "userdb":
        u = user(m, arg)
        if not u:
            raise Abort(404)
        return {"quota_rule": "*:bytes=%d" % u.get("quota", 0)}
    hit = re.match(r"^sieve/name/([^/]+)/(.+)$", rest)
    if hit:
        return hit.group(1)
    hit = re.match(r"^sieve/data/default/(.+)$", rest)
    if hit:
        if not user(m, hit.group(1)):
            raise Abort(404)
        return 'require "fileinto";\nif header :contains "X-Spam" "yes" ' \
               '{\n  fileinto "Junk";\n  stop;\n}\n'
    raise Abort(404)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=None):
        raw = json.dumps(body).encode() if status == 200 else \
            b"<!doctype html><title>%d</title>" % status
        self.send_response(status)
        self.send_header("Content-Type", "application/json"
                         if status == 200 else "text/html")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def count(self):
        with LOCK:
            STATS["requests"] += 1
            STATS["hits"][self.path] = STATS["hits"].get(self.path, 0) + 1

    def do_GET(self):
        self.count()
        if self.path == "/stats":
            with LOCK:
                return self.reply(200, STATS)
        path = urllib.parse.unquote(self.path)
        m = load()
        try:
            if path.startswith("/internal/postfix/"):
                rest = path[len("/internal/postfix/"):]
                for table in ("recipient/map", "sender/map", "sender/login",
                              "sender/rate"):
                    if rest.startswith(table + "/"):
                        return self.reply(200, postfix(
                            m, table, rest[len(table) + 1:]))
                table, _, key = rest.partition("/")
                if not key:
                    raise Abort(404)
                return self.reply(200, postfix(m, table, key))
            if path.startswith("/internal/dovecot/"):
                return self.reply(200, dovecot_get(
                    m, path[len("/internal/dovecot/"):]))
            raise Abort(404)
        except Abort as a:
            return self.reply(a.status)

    def do_POST(self):
        self.count()
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n) or b"null")
        path = urllib.parse.unquote(self.path)
        hit = re.match(r"^/internal/dovecot/quota/([^/]+)/(.+)$", path)
        if not hit:
            return self.reply(405)
        if not user(load(), hit.group(2)):
            return self.reply(404)
        if hit.group(1) == "storage":
            with LOCK:
                STATS["quota"][hit.group(2)] = body
        return self.reply(200, None)


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
