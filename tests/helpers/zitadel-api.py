#!/usr/bin/python3
"""zitadel-api: a stand-in for Zitadel's user service v2 search, for the
`postino reconcile --source zitadel` tests (t1022-t1025).

    zitadel-api.py STATE_DIR [--tls CERT KEY]

Serves ListUsers over HTTP/JSON as Zitadel's grpc-gateway does: POST
/v2/users (and /v2beta/users, the same messages in the beta service).
Everything is read again from STATE_DIR on every request, so a test
changes the IdP between runs by rewriting files:

  users.json  the people, in creation order, in a short form:
              [{"id": "...", "email": "a@b", "given": "A", "family": "B",
                "display": "...", "state": "ACTIVE", "org": "...",
                "username": "...", "login_names": [...],
                "machine": false}, ...]
  token       the bearer token the stub accepts
  mode        optional, one word: "401", "403", "500", "503",
              "truncated" (a 200 whose JSON is cut short), "garbage" (a
              200 that is not JSON), "no-v2" (/v2/users is 404, as on an
              instance older than the v2 API), "grow" (one more user in
              totalResult on every later page), "fail-page2" (500 from
              the second page on)
  max_limit   optional: the largest query.limit accepted (Zitadel's
              default is 1000), a larger one is 400
and the stub writes:
  port        the port it listens on (127.0.0.1), once listening
  requests    one JSON line a request: path, offset, limit, asc,
              sortingColumn, queries, and whether the token matched (the
              token itself is never written)

Shapes, taken from the proto files of github.com/zitadel/zitadel (field
names as protojson / grpc-gateway print them: lowerCamelCase; uint64 as
JSON strings; enums by name; unset fields left out):
  - proto/zitadel/user/v2/user_service.proto @ 030cccc616e7d52fb31788e1
    9885a4bcd96dee78: rpc ListUsers, `post: "/v2/users" body: "*"`;
    ListUsersRequest {query, sortingColumn, queries};
    ListUsersResponse {details, sortingColumn, result}
  - proto/zitadel/object/v2/object.proto @ 10226b4972ebec6d67620fd62623
    0934e4153408: ListQuery {offset (uint64), limit (uint32), asc},
    ListDetails {totalResult, processedSequence (uint64), timestamp},
    Details {sequence, changeDate, resourceOwner}
  - proto/zitadel/user/v2/user.proto @ 1046cffb23567850ea39fdb9e43c1780
    38279304: User {userId, details, state, username, loginNames,
    preferredLoginName, oneof human | machine}; HumanUser {profile,
    email, ...}; HumanProfile {givenName, familyName, nickName,
    displayName, preferredLanguage, gender}; UserState USER_STATE_*
  - proto/zitadel/user/v2/email.proto @ 03457e89d797e55f42ee4f894b8f2fd7
    903cecb5: HumanEmail {email, isVerified}
  - proto/zitadel/user/v2/query.proto @ 59459f2d8bcf6330e4b85f56373a05b7
    a962c23e: SearchQuery oneof (typeQuery {type: TYPE_HUMAN |
    TYPE_MACHINE}, organizationIdQuery {organizationId}, stateQuery
    {state}, ...), UserFieldName USER_FIELD_NAME_*
  - proto/zitadel/user/v2beta/query.proto @ 226e75e7fc0f9868e9da82e5c05b
    4fe98cd3254a: the beta service's queries, the same oneof names and
    UserFieldName values (USER_FIELD_NAME_CREATION_DATE included), so
    /v2beta/users takes the same request
  - errors: google.rpc.Status as grpc-gateway writes it, {"code": <gRPC
    code>, "message": "...", "details": [...]}, with the HTTP status of
    that code (16 UNAUTHENTICATED 401, 7 PERMISSION_DENIED 403, 13
    INTERNAL 500, 14 UNAVAILABLE 503, 3 INVALID_ARGUMENT 400, 5
    NOT_FOUND 404).

Only the Python standard library is used.
"""
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = sys.argv[1]
LOCK = threading.Lock()
COUNT = {"pages": 0}
STAMP = "2026-12-07T10:00:00.000000Z"


def read(name, default=None):
    try:
        with open(os.path.join(STATE, name), encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return default


def status_body(code, message):
    return {"code": code, "message": message, "details": [{
        "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
        "id": "STUB-%d" % code, "message": message}]}


def render(u, seq):
    """One short-form user as a zitadel.user.v2.User."""
    org = u.get("org", "300000000000000001")
    out = {
        "userId": u["id"],
        "details": {"sequence": str(seq), "changeDate": STAMP,
                    "resourceOwner": org},
        "state": "USER_STATE_" + u.get("state", "ACTIVE"),
        "username": u.get("username", u.get("email", u["id"])),
    }
    names = u.get("login_names")
    if names is None and "email" in u:
        names = [u["email"]]
    if names:
        out["loginNames"] = names
        out["preferredLoginName"] = names[0]
    if u.get("machine"):
        out["machine"] = {"name": u.get("username", u["id"]),
                          "description": "a service user",
                          "hasSecret": False}
        return out
    profile = {}
    for short, key in (("given", "givenName"), ("family", "familyName"),
                       ("display", "displayName")):
        if u.get(short):
            profile[key] = u[short]
    if "displayName" not in profile and profile:
        profile["displayName"] = " ".join(
            profile[k] for k in ("givenName", "familyName") if k in profile)
    profile["preferredLanguage"] = "en"
    human = {"profile": profile}
    if u.get("email"):
        human["email"] = {"email": u["email"], "isVerified": True}
    out["human"] = human
    return out


def matches(u, q):
    """Whether the short-form user u passes one SearchQuery."""
    if "typeQuery" in q:
        want = q["typeQuery"].get("type", "TYPE_UNSPECIFIED")
        return want == ("TYPE_MACHINE" if u.get("machine") else "TYPE_HUMAN")
    if "organizationIdQuery" in q:
        return q["organizationIdQuery"].get("organizationId") == \
            u.get("org", "300000000000000001")
    if "stateQuery" in q:
        return q["stateQuery"].get("state") == \
            "USER_STATE_" + u.get("state", "ACTIVE")
    raise ValueError("query not served by the stub: %s" % sorted(q))


def as_uint(v, default):
    """A uint64 as protojson reads it: a number or a string of digits."""
    if v is None:
        return default
    if isinstance(v, bool):
        raise ValueError("not a number")
    if isinstance(v, int) and v >= 0:
        return v
    if isinstance(v, str) and v.isdigit():
        return int(v)
    raise ValueError("not a uint: %r" % (v,))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, obj=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, entry):
        with LOCK, open(os.path.join(STATE, "requests"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_GET(self):
        self.send(404, status_body(5, "Not Found"))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        mode = (read("mode", "") or "").strip()
        token = (read("token", "") or "").strip()
        auth = self.headers.get("Authorization", "")
        ok = token != "" and auth == "Bearer " + token
        entry = {"path": self.path, "token_ok": ok}
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = None
        if isinstance(req, dict):
            q = req.get("query", {})
            entry.update(offset=q.get("offset"), limit=q.get("limit"),
                         asc=q.get("asc"),
                         sortingColumn=req.get("sortingColumn"),
                         queries=req.get("queries"))
        self.record(entry)
        if self.path not in ("/v2/users", "/v2beta/users") or \
                (mode == "no-v2" and self.path == "/v2/users"):
            return self.send(404, status_body(5, "Not Found"))
        if self.headers.get("Content-Type", "") != "application/json":
            return self.send(415, status_body(3, "not JSON"))
        if mode == "401" or not ok:
            return self.send(401, status_body(
                16, "Errors.Token.Invalid (AUTH-7fs1e)"))
        if mode == "403":
            return self.send(403, status_body(
                7, "No matching permissions found (AUTH-5mWD2)"))
        if mode in ("500", "503"):
            return self.send(int(mode), status_body(
                13 if mode == "500" else 14, "Errors.Internal"))
        if not isinstance(req, dict):
            return self.send(400, status_body(3, "invalid JSON body"))
        try:
            q = req.get("query", {})
            offset = as_uint(q.get("offset"), 0)
            limit = as_uint(q.get("limit"), 0) or 1000
            max_limit = int((read("max_limit", "1000") or "1000").strip())
            if limit > max_limit:
                return self.send(400, status_body(
                    3, "Errors.Query.LimitExceeded (QUERY-4M9fs)"))
            users = json.loads(read("users.json", "[]"))
            for sq in req.get("queries", []):
                users = [u for u in users if matches(u, sq)]
        except ValueError as e:
            return self.send(400, status_body(3, str(e)))
        if not q.get("asc", False):
            users = list(reversed(users))
        with LOCK:
            COUNT["pages"] += 1
            page_no = COUNT["pages"]
        first_page = offset == 0
        if mode == "fail-page2" and not first_page:
            return self.send(500, status_body(13, "Errors.Internal"))
        total = len(users)
        if mode == "grow" and not first_page:
            total += page_no
        page = users[offset:offset + limit]
        body = {
            "details": {"totalResult": str(total),
                        "processedSequence": "4242",
                        "timestamp": STAMP},
            "sortingColumn": req.get("sortingColumn",
                                     "USER_FIELD_NAME_UNSPECIFIED"),
            "result": [render(u, offset + i + 1)
                       for i, u in enumerate(page)],
        }
        if not body["result"]:
            del body["result"]
        data = json.dumps(body).encode()
        if mode == "truncated":
            data = data[:len(data) // 2]
        elif mode == "garbage":
            data = b"<html><body>502 Bad Gateway</body></html>"
        self.send(200, raw=data)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 5 and sys.argv[2] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = os.path.join(STATE, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, os.path.join(STATE, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
