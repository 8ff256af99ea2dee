#!/usr/bin/env python3
"""tests/preflight/lib/fake_metadata.py: a loopback stand-in for the ECS container
credentials endpoint and the EC2 instance metadata service (IMDSv2), for
tests/preflight/credentials.sh. Listens on 127.0.0.1 only, on a free port that it writes
to --port-file. One line per request is appended to --log: "METHOD PATH STATUS".

  --mode ecs   GET <any path> -> credentials JSON; with --auth-token, a request whose
               Authorization header differs gets 401
  --mode imds  PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds and returns
               a session token; every GET without that token in X-aws-ec2-metadata-token
               gets 401; GET /latest/meta-data/iam/security-credentials/ lists the role,
               GET .../<role> returns credentials JSON
  --fail-first N   the first N requests get 503 (retry tests)
  --expires-in S   Expiration = now + S seconds
"""
import argparse
import json
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

ROLE = "anonetl-test-role"
IMDS_TOKEN = "imds-session-token-0123456789"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["ecs", "imds"], required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--auth-token", default=None)
    ap.add_argument("--access-key-id", default="ASIAFAKEMETADATA0001")
    ap.add_argument("--secret", default="fake/metadata/secret/never+printed")
    ap.add_argument("--session-token", default="FakeSessionTokenFromMetadata")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--fail-first", type=int, default=0)
    args = ap.parse_args()
    state = {"n": 0}

    def creds_doc():
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + args.expires_in))
        doc = {"AccessKeyId": args.access_key_id, "SecretAccessKey": args.secret,
               "Token": args.session_token, "Expiration": exp}
        if args.mode == "imds":
            doc.update({"Code": "Success", "Type": "AWS-HMAC",
                        "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        else:
            doc["RoleArn"] = "arn:aws:iam::123456789012:role/" + ROLE
        return json.dumps(doc).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: the log file is the record
            pass

        def reply(self, status, body=b"", ctype="text/plain"):
            with open(args.log, "a") as f:
                f.write("%s %s %d\n" % (self.command, self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state["n"] += 1
            if state["n"] <= args.fail_first:
                return self.reply(503, b"busy")
            if args.mode == "ecs":
                return self.ecs()
            return self.imds()

        def ecs(self):
            if self.command != "GET":
                return self.reply(405)
            if args.auth_token is not None and self.headers.get("Authorization") != args.auth_token:
                return self.reply(401, b"bad authorization token")
            return self.reply(200, creds_doc(), "application/json")

        def imds(self):
            if self.command == "PUT" and self.path == "/latest/api/token":
                if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self.reply(400, b"missing ttl")
                return self.reply(200, IMDS_TOKEN.encode())
            if self.command != "GET":
                return self.reply(405)
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.reply(401)
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return self.reply(200, (ROLE + "\n").encode())
            if self.path == base + ROLE:
                return self.reply(200, creds_doc(), "text/plain")
            return self.reply(404)

        do_GET = do_PUT = do_POST = handle_any

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
