#!/usr/bin/env python3
"""tests/preflight/lib/fault_server.py: a loopback AWS endpoint that misbehaves on cue,
for tests/preflight/aws_client.sh. Listens on 127.0.0.1 only, on a free port that it
writes to --port-file; stops by itself after --lifetime seconds.

Each request takes the next step of --script, a comma-separated list of KIND or KIND*N
(the last step repeats for ever), and answers as that KIND:

  ok            forward the request unchanged (same Host header, so a SigV4 signature
                still verifies) to --upstream (moto) and relay its answer
  throttle      HTTP 400, Query XML error Throttling (STS style)
  limit         HTTP 503, EC2 XML error RequestLimitExceeded (EC2 style)
  throttle-json HTTP 400, JSON {"__type": "ThrottlingException"} (JSON protocol)
  e500 e502 e503 e504   that status, an InternalError document
  e501          HTTP 501 (not retryable)
  reset         close the connection without an answer (a transient network error)
  hang          answer nothing for --hang seconds (a timeout)
  denied        HTTP 403, AccessDenied (not retryable)
  clock         the server's clock is the real one plus --skew seconds: a request whose
                X-Amz-Date is more than 300 s from it gets HTTP 400 --skew-code with that
                clock in the Date header; otherwise it is forwarded as `ok`
  expired       HTTP 400 --skew-code whatever the request time (with the skewed Date)
  badsig        HTTP 403 SignatureDoesNotMatch with the true Date (a wrong secret, no skew)
  page          forward as `ok`, then cut a Describe answer's list into pages of one item:
                the request's NextToken (absent: 0) picks the item, and <nextToken> names
                the next one (moto paginates none of the calls the path analysis makes; the
                request goes upstream unchanged, so its signature still verifies)

Every answer carries a Date header from the server's clock (real time + --skew). One line
per request is appended to --log:
  "<n> <monotonic seconds> <kind> <status> amzdate=<X-Amz-Date or ->"
"""
import argparse
import calendar
import http.client
import json
import socket
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


# the list wrappers of the Describe answers the preflight reads (children of the root)
PAGED = ("networkInterfaceSet", "routeTableSet", "networkAclSet", "securityGroupInfo",
         "vpcPeeringConnectionSet", "entrySet", "transitGatewayAttachments", "routeSet")


def one_page(data, form):
    """data with only the item the form's NextToken names, and the next token."""
    token = urllib.parse.parse_qs(form.decode("utf-8", "replace")).get("NextToken", ["0"])[0]
    index = int(token) if token.isdigit() else 0
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return data
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    for wrapper in list(root):
        if wrapper.tag[len(ns):] not in PAGED:
            continue
        items = list(wrapper)
        if len(items) < 2:
            return data
        for i, item in enumerate(items):
            if i != index:
                wrapper.remove(item)
        for old in root.findall(ns + "nextToken"):
            root.remove(old)
        if index + 1 < len(items):
            ET.SubElement(root, ns + "nextToken").text = str(index + 1)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def parse_steps(script):
    steps = []
    for part in script.split(","):
        kind, _, count = part.partition("*")
        steps.append((kind.strip(), int(count) if count else 1))
    return steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", default="ok")
    ap.add_argument("--upstream", default="")
    ap.add_argument("--skew", type=int, default=0)
    ap.add_argument("--skew-code", default="RequestExpired")
    ap.add_argument("--hang", type=float, default=30.0)
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()
    steps = parse_steps(args.script)
    lock = threading.Lock()
    state = {"n": 0}

    def next_kind():
        with lock:
            state["n"] += 1
            n = left = state["n"]
        for kind, count in steps:
            if left <= count:
                return n, kind
            left -= count
        return n, steps[-1][0]

    def server_now():
        return time.time() + args.skew

    def xml_error(code, msg, ec2=False):
        if ec2:
            return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
                    f"<Code>{code}</Code><Message>{msg}</Message></Error></Errors>"
                    "<RequestID>fault-1</RequestID></Response>").encode()
        return ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
                f"<Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error>"
                "<RequestId>fault-1</RequestId></ErrorResponse>").encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def record(self, n, kind, status):
            with open(args.log, "a") as f:
                f.write("%d %.3f %s %d amzdate=%s\n" % (n, time.monotonic(), kind, status,
                                                        self.headers.get("X-Amz-Date", "-")))

        def answer(self, status, body, ctype="text/xml", extra=()):
            self.send_response_only(status)
            self.send_header("Date", formatdate(server_now(), usegmt=True))
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def forward(self, body, paged=False):
            if not args.upstream:
                self.answer(200, b"<ok/>")
                return 200
            host = args.upstream.split("//", 1)[1].rstrip("/")
            conn = http.client.HTTPConnection(host, timeout=30)
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in ("content-length", "connection"):
                    conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read()
            extra = [(k, v) for k, v in r.getheaders()
                     if k.lower() not in ("content-length", "date", "content-type",
                                          "connection", "server", "transfer-encoding")]
            if paged and r.status == 200:
                data = one_page(data, body)
            self.answer(r.status, data, r.getheader("Content-Type", "text/xml"), extra)
            conn.close()
            return r.status

        def request_skewed(self):
            amz = self.headers.get("X-Amz-Date", "")
            try:
                t = calendar.timegm(time.strptime(amz, "%Y%m%dT%H%M%SZ"))
            except ValueError:
                return True
            return abs(t - server_now()) > 300

        def handle_any(self):
            n, kind = next_kind()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            status = 0
            if kind == "ok" or (kind == "clock" and not self.request_skewed()):
                status = self.forward(body)
            elif kind == "page":
                status = self.forward(body, paged=True)
            elif kind in ("clock", "expired"):
                status = 403 if args.skew_code in ("SignatureDoesNotMatch", "AuthFailure",
                                                   "RequestTimeTooSkewed") else 400
                self.answer(status, xml_error(args.skew_code,
                                              "Request has expired.", ec2=True))
            elif kind == "badsig":
                status = 403
                self.answer(status, xml_error("SignatureDoesNotMatch",
                                              "The request signature we calculated does not "
                                              "match the signature you provided."))
            elif kind == "throttle":
                status = 400
                self.answer(status, xml_error("Throttling", "Rate exceeded"))
            elif kind == "limit":
                status = 503
                self.answer(status, xml_error("RequestLimitExceeded",
                                              "Request limit exceeded.", ec2=True))
            elif kind == "throttle-json":
                status = 400
                self.answer(status, json.dumps({"__type": "ThrottlingException",
                                                "message": "Rate exceeded"}).encode(),
                            "application/x-amz-json-1.1")
            elif kind in ("e500", "e502", "e503", "e504", "e501"):
                status = int(kind[1:])
                self.answer(status, xml_error("InternalError", "injected"))
            elif kind == "denied":
                status = 403
                self.answer(status, xml_error("AccessDenied", "not allowed"))
            elif kind == "reset":
                self.record(n, kind, 0)
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                except OSError:
                    pass
                return
            elif kind == "hang":
                self.record(n, kind, 0)
                time.sleep(args.hang)
                self.close_connection = True
                return
            else:
                status = 500
                self.answer(status, xml_error("InternalError", "unknown script step"))
            self.record(n, kind, status)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_any

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    threading.Timer(args.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
