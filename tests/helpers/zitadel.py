#!/usr/bin/python3
"""zitadel: a Zitadel-style Actions sender for postinod's webhook tests.

  zitadel.py URL --secret S --type user.human.added --email a@b [options]

Builds an event the way Zitadel's Actions v2 does (internal/execution:
the ContextInfoEvent fields in their order, compact, omitempty, created_at
in RFC 3339 with nanoseconds), signs the raw body and POSTs it.  The
subject is --subject (aggregateID), the creator --creator (userID); both
default to --user-id.  event_payload holds what the options give (as
Zitadel: userName/names/displayName/preferredLanguage/email for
user.human.added and selfregistered, only the changed names for a profile
change); --no-payload leaves it out (Zitadel does for user.deactivated,
reactivated, removed), --base64 sends it as older Zitadel did.  --form v1
(default) signs like Zitadel ("t=<unix>,v1=<hex of HMAC(t.body)>"), --form
hex like postino's own sender (bare hex HMAC of the body).  Prints
"<status> <body>" on one line.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import sys
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("url")
    p.add_argument("--secret", required=True)
    p.add_argument("--form", choices=["v1", "hex", "none"], default="v1")
    p.add_argument("--header", default="ZITADEL-Signature")
    p.add_argument("--t-offset", type=int, default=0,
                   help="seconds added to the signature timestamp")
    p.add_argument("--type", default="user.human.added")
    p.add_argument("--email", default=None)
    p.add_argument("--first", default=None)
    p.add_argument("--last", default=None)
    p.add_argument("--user-id", default="2718281828")
    p.add_argument("--subject", default=None, help="aggregateID")
    p.add_argument("--creator", default=None, help="userID")
    p.add_argument("--instance", default="27182")
    p.add_argument("--no-payload", action="store_true")
    p.add_argument("--base64", action="store_true")
    p.add_argument("--seq", type=int, default=1)
    p.add_argument("--created-offset", type=int, default=0,
                   help="seconds added to created_at")
    p.add_argument("--created", default=None, help="created_at verbatim")
    p.add_argument("--body", default=None, help="raw body instead")
    p.add_argument("--tamper", action="store_true",
                   help="change the body after signing")
    a = p.parse_args()

    if a.body is not None:
        body = a.body.encode()
    else:
        created = a.created
        if created is None:
            t = datetime.datetime.now(datetime.timezone.utc) + \
                datetime.timedelta(seconds=a.created_offset)
            created = t.isoformat(timespec="microseconds").replace(
                "+00:00", "Z")
        if a.created is None:
            # Go's RFC3339Nano: nanoseconds, trailing zeros dropped.
            frac = ("%09d" % (t.microsecond * 1000)).rstrip("0")
            created = t.strftime("%Y-%m-%dT%H:%M:%S") + \
                ("." + frac if frac else "") + "Z"
        human_add = a.type in ("user.human.added",
                               "user.human.selfregistered")
        payload = {}
        if human_add:
            payload["userName"] = a.email or ""
        if a.first is not None:
            payload["firstName"] = a.first
        if a.last is not None:
            payload["lastName"] = a.last
        if human_add:
            payload["displayName"] = " ".join(
                x for x in (a.first, a.last) if x)
            payload["preferredLanguage"] = "en"
        if a.email is not None:
            payload["email"] = a.email
        subject = a.subject if a.subject is not None else a.user_id
        creator = a.creator if a.creator is not None else a.user_id
        ev = {"aggregateID": subject, "aggregateType": "user",
              "resourceOwner": "31415", "instanceID": a.instance,
              "version": "v2", "sequence": a.seq, "event_type": a.type,
              "created_at": created, "userID": creator}
        raw = json.dumps(payload, separators=(",", ":"))
        if a.no_payload:
            pass
        elif a.base64:
            ev["event_payload"] = base64.b64encode(raw.encode()).decode()
        else:
            ev["event_payload"] = payload
        # omitempty, as encoding/json does
        ev = {k: v for k, v in ev.items() if v not in ("", 0, None)}
        body = json.dumps(ev, separators=(",", ":")).encode()

    key = a.secret.encode()
    headers = {"Content-Type": "application/json"}
    if a.form == "hex":
        headers[a.header] = hmac.new(key, body, hashlib.sha256).hexdigest()
    elif a.form == "v1":
        ts = int(time.time()) + a.t_offset
        mac = hmac.new(key, b"%d." % ts + body, hashlib.sha256).hexdigest()
        headers[a.header] = "t=%d,v1=%s" % (ts, mac)
    if a.tamper:
        body = body.replace(b"user", b"usEr", 1)

    u = urllib.parse.urlsplit(a.url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("POST", u.path, body=body, headers=headers)
    r = c.getresponse()
    print(r.status, r.read().decode(errors="replace").strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
