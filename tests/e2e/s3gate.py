#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""s3gate.py - an S3 front for the export tests, on 127.0.0.1 only.

It checks every request's AWS Signature Version 4 the way S3 does (s3rver,
the real S3-compatible server behind it, checks only the access key id),
including the payload hash against the body, forwards good requests to the
backend path-style (virtual-host requests are rewritten), and can misbehave
on purpose:

  --fail N            the first N uploads (PUTs other than the validation
                      object) get --fail-status (default 503 SlowDown)
  --drop N            the next N uploads are stored by the backend, then the
                      connection is closed without an answer (lost response)
  --down-after-validation
                      exit right after answering the validation object, so
                      every later connection is refused (a server that is down)

Prints "PORT <n>" on stdout once it listens. Writes one line per request to
--log: "<method> <key> <status>". Python 3 standard library only.
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import http.server
import os
import re
import socketserver
import sys
import threading
import urllib.parse

UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


def s3_uri_encode(path):
    """Canonical URI: decode what was sent, encode every byte but unreserved and '/'."""
    raw = urllib.parse.unquote_to_bytes(path)
    return "".join(chr(b) if chr(b) in UNRESERVED or b == 0x2F else "%%%02X" % b for b in raw)


def canonical_query(q):
    pairs = urllib.parse.parse_qsl(q, keep_blank_values=True)
    enc = [(urllib.parse.quote(k, safe=UNRESERVED), urllib.parse.quote(v, safe=UNRESERVED))
           for k, v in pairs]
    return "&".join(f"{k}={v}" for k, v in sorted(enc))


def hmac_sha256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Gate:
    def __init__(self, a):
        self.a = a
        self.creds = dict(c.split(":", 1) for c in a.creds)
        self.lock = threading.Lock()
        self.fail_left = a.fail
        self.drop_left = a.drop
        self.log = open(a.log, "a", buffering=1) if a.log else None

    def note(self, method, key, status):
        if self.log:
            with self.lock:
                self.log.write(f"{method} {key} {status}\n")


def s3_error(code, message, status):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>").encode()
    return status, body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gate = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def verify(self, body):
        """None when the signature is right, else (status, xml)."""
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return s3_error("AccessDenied", "Signature Version 4 required", 403)
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        akid, date, region, service, term = fields["Credential"].split("/")
        secret = self.gate.creds.get(akid)
        if secret is None:
            return s3_error("InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not exist in our records.",
                            403)
        signed = fields["SignedHeaders"].split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            return s3_error("AccessDenied", "host and x-amz-date must be signed", 403)
        payload_hash = self.headers.get("x-amz-content-sha256")
        if payload_hash is None:
            return s3_error("InvalidRequest",
                            "Missing required header for this request: x-amz-content-sha256",
                            400)
        if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != hashlib.sha256(body).hexdigest():
            return s3_error("XAmzContentSHA256Mismatch",
                            "The provided 'x-amz-content-sha256' header does not match what was computed.",
                            400)
        amz_date = self.headers.get("x-amz-date", "")
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
        if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 900:
            return s3_error("RequestTimeTooSkewed", "The difference between the request time "
                            "and the current time is too large.", 403)
        hdrs = []
        for h in signed:
            v = self.headers.get(h)
            if v is None:
                # A header that was signed but not sent (curl's empty "Expect:").
                return s3_error("SignatureDoesNotMatch", f"signed header {h} missing", 403)
            hdrs.append(f"{h}:{' '.join(v.strip().split())}\n")
        u = urllib.parse.urlsplit(self.path)
        creq = "\n".join([self.command, s3_uri_encode(u.path), canonical_query(u.query),
                          "".join(hdrs), ";".join(signed), payload_hash])
        scope = f"{date}/{region}/{service}/{term}"
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = hmac_sha256(("AWS4" + secret).encode(), date)
        for part in (region, service, term):
            k = hmac_sha256(k, part)
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, fields["Signature"]):
            return s3_error("SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature "
                            "you provided. Check your key and signing method.", 403)
        return None

    def backend_path(self):
        """Path-style path for the backend: a bucket in the Host becomes the first segment."""
        host = self.headers.get("Host", "").split(":")[0]
        u = urllib.parse.urlsplit(self.path)
        if host not in ("127.0.0.1", "localhost", "[::1]") and host.endswith(".localhost"):
            bucket = host[: -len(".localhost")]
            path = "/" + bucket + u.path
        else:
            path = u.path
        return path + (("?" + u.query) if u.query else "")

    def forward(self, body, path):
        b = urllib.parse.urlsplit(self.gate.a.backend)
        c = http.client.HTTPConnection(b.hostname, b.port, timeout=30)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("host", "expect", "connection", "content-length")}
        # s3rver checks only that the key id is its own; the signature was checked here.
        if "Authorization" in hdrs:
            hdrs["Authorization"] = re.sub(r"Credential=[^/]+/", "Credential=S3RVER/",
                                           hdrs["Authorization"])
        hdrs["Host"] = f"{b.hostname}:{b.port}"
        hdrs["Content-Length"] = str(len(body))
        c.request(self.command, path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        headers = [(k, v) for k, v in r.getheaders()
                   if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        c.close()
        return r.status, data, headers

    def handle_any(self):
        g = self.gate
        body = self.read_body()
        path = self.backend_path()
        key = urllib.parse.unquote(urllib.parse.urlsplit(path).path.lstrip("/"))
        bad = self.verify(body)
        if bad is not None:
            g.note(self.command, key, bad[0])
            self.reply(bad[0], bad[1], [("Content-Type", "application/xml")])
            return
        is_validation = key.endswith("/validation")
        if self.command == "PUT" and not is_validation:
            with g.lock:
                fail = g.fail_left > 0
                if fail:
                    g.fail_left -= 1
                drop = not fail and g.drop_left > 0
                if drop:
                    g.drop_left -= 1
            if fail:
                st, xml = s3_error("SlowDown" if g.a.fail_status == 503 else "InternalError",
                                   "Injected failure", g.a.fail_status)
                g.note(self.command, key, st)
                self.reply(st, xml, [("Content-Type", "application/xml")])
                return
            if drop:
                st, _, _ = self.forward(body, path)
                g.note(self.command, key, f"{st}-dropped")
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
        st, data, headers = self.forward(body, path)
        g.note(self.command, key, st)
        self.reply(st, data, headers)
        if is_validation and g.a.down_after_validation:
            self.wfile.flush()
            os._exit(0)

    do_PUT = do_GET = do_HEAD = do_DELETE = do_POST = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that went away (or a connection dropped on purpose) is not news.
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True)
    p.add_argument("--creds", action="append", default=[], help="AKID:SECRET")
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--fail-status", type=int, default=503)
    p.add_argument("--drop", type=int, default=0)
    p.add_argument("--down-after-validation", action="store_true")
    p.add_argument("--log")
    a = p.parse_args()
    Handler.gate = Gate(a)
    srv = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
