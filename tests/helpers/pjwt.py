#!/usr/bin/python3
"""pjwt: signing keys, a JWKS server and bearer tokens for postinod's tests.

Run with Debian's /usr/bin/python3 (python3-jwt, python3-cryptography).

  pjwt.py keys DIR              make keys in DIR and DIR/jwks.json
  pjwt.py serve DIR PORTFILE    serve DIR/jwks.json (re-read per request) at
                                /.well-known/jwks.json on a free loopback
                                port, written to PORTFILE; each request
                                appends a line to DIR/hits; a file DIR/down
                                makes it answer 503, DIR/garbage 200 with a
                                body that is no key set, and DIR/hang
                                accept the request and never answer (while
                                the file exists)
  pjwt.py token DIR [options]   print a token (see --help)

Keys (kid: algorithm): rsa1 RS256/PS256, ec1 ES256, ed1 EdDSA, weak1 (an
RSA-1024 key in the set, which postinod must refuse), rsa2 (RS256, kept
out of the set until "pjwt.py rotate DIR" adds it).
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import time
import socketserver

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def save_private(key, path):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def load_private(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def public_jwk(kid, key):
    pub = key.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        nums = pub.public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig",
                "n": int_b64u(nums.n), "e": int_b64u(nums.e)}
    if isinstance(pub, ec.EllipticCurvePublicKey):
        nums = pub.public_numbers()
        return {"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256",
                "x": b64u(nums.x.to_bytes(32, "big")),
                "y": b64u(nums.y.to_bytes(32, "big"))}
    raw = pub.public_bytes(serialization.Encoding.Raw,
                           serialization.PublicFormat.Raw)
    return {"kty": "OKP", "kid": kid, "use": "sig", "crv": "Ed25519",
            "x": b64u(raw)}


IN_SET = ["rsa1", "ec1", "ed1", "weak1"]


def write_set(d, kids):
    keys = [public_jwk(k, load_private(os.path.join(d, k + ".pem")))
            for k in kids]
    tmp = os.path.join(d, "jwks.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"keys": keys}, f)
    os.rename(tmp, os.path.join(d, "jwks.json"))


def cmd_keys(a):
    os.makedirs(a.dir, exist_ok=True)
    save_private(rsa.generate_private_key(65537, 2048),
                 os.path.join(a.dir, "rsa1.pem"))
    save_private(rsa.generate_private_key(65537, 2048),
                 os.path.join(a.dir, "rsa2.pem"))
    save_private(rsa.generate_private_key(65537, 1024),
                 os.path.join(a.dir, "weak1.pem"))
    save_private(ec.generate_private_key(ec.SECP256R1()),
                 os.path.join(a.dir, "ec1.pem"))
    save_private(ed25519.Ed25519PrivateKey.generate(),
                 os.path.join(a.dir, "ed1.pem"))
    write_set(a.dir, IN_SET)
    with open(os.path.join(a.dir, "rsa1.pub.pem"), "wb") as f:
        f.write(load_private(os.path.join(a.dir, "rsa1.pem")).public_key()
                .public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo))


def cmd_rotate(a):
    write_set(a.dir, IN_SET + ["rsa2"])


def cmd_serve(a):
    d = a.dir

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(os.path.join(d, "hits"), "a") as f:
                f.write(self.path + "\n")
            while os.path.exists(os.path.join(d, "hang")):
                time.sleep(0.05)
            if os.path.exists(os.path.join(d, "garbage")):
                body = b"\x00\xffnot a {key set\n" * 50
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if os.path.exists(os.path.join(d, "down")):
                self.send_error(503)
                return
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            with open(os.path.join(d, "jwks.json"), "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    # One thread per connection, so that a hanging answer holds only its
    # own client.
    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.portfile)
    srv.serve_forever()


def cmd_token(a):
    now = int(time.time())
    claims = {"iss": a.iss, "aud": a.aud, "sub": a.sub,
              "iat": now - a.iat_ago, "exp": now + a.exp_in}
    if a.no_exp:
        del claims["exp"]
    if a.no_iat:
        del claims["iat"]
    if a.nbf_in is not None:
        claims["nbf"] = now + a.nbf_in
    if a.aud_list:
        claims["aud"] = ["someone-else", a.aud]
    header = {"alg": a.alg, "typ": "JWT"}
    if a.kid != "":
        header["kid"] = a.kid
    if a.alg == "none":
        # An unsigned token: header.payload. (empty signature).
        tok = "%s.%s." % (b64u(json.dumps(header).encode()),
                          b64u(json.dumps(claims).encode()))
    elif a.alg == "HS256":
        # The classic confusion attack: HMAC keyed with the RSA public key.
        with open(os.path.join(a.dir, "rsa1.pub.pem"), "rb") as f:
            secret = f.read()
        signing = "%s.%s" % (b64u(json.dumps(header).encode()),
                             b64u(json.dumps(claims).encode()))
        mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
        tok = signing + "." + b64u(mac)
    else:
        key = load_private(os.path.join(a.dir, a.key + ".pem"))
        tok = jwt.encode(claims, key, algorithm=a.alg, headers=header)
    if a.tamper:
        head, body, sig = tok.split(".")
        claims["sub"] = "mallory"
        tok = "%s.%s.%s" % (head, b64u(json.dumps(claims).encode()), sig)
    print(tok)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keys")
    k.add_argument("dir")
    r = sub.add_parser("rotate")
    r.add_argument("dir")
    s = sub.add_parser("serve")
    s.add_argument("dir")
    s.add_argument("portfile")
    t = sub.add_parser("token")
    t.add_argument("dir")
    t.add_argument("--alg", default="RS256")
    t.add_argument("--key", default="rsa1", help="private key file name")
    t.add_argument("--kid", default=None, help="default: the key's name")
    t.add_argument("--iss", required=True)
    t.add_argument("--aud", default="postino-test")
    t.add_argument("--aud-list", action="store_true")
    t.add_argument("--sub", default="scim-tester")
    # A test mints its token once and may run for many minutes on a
    # saturated machine (t5002 took over five under load 40): a lifetime
    # no test outlives; the tests of expiry pass --exp-in themselves.
    t.add_argument("--exp-in", type=int, default=6 * 3600)
    t.add_argument("--iat-ago", type=int, default=0)
    t.add_argument("--nbf-in", type=int, default=None)
    t.add_argument("--no-exp", action="store_true")
    t.add_argument("--no-iat", action="store_true")
    t.add_argument("--tamper", action="store_true")
    a = p.parse_args()
    if a.cmd == "token" and a.kid is None:
        a.kid = a.key
    {"keys": cmd_keys, "rotate": cmd_rotate, "serve": cmd_serve,
     "token": cmd_token}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
