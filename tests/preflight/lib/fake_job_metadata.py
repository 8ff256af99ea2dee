#!/usr/bin/env python3
"""tests/preflight/lib/fake_job_metadata.py: a loopback stand-in for the two services that
tell a job where it runs, for the path analysis tests (tests/preflight/aws_moto.sh,
tests/preflight/netns.sh). Listens on --host (default 127.0.0.1) on a free port written to
--port-file; one line per request is appended to --log: "METHOD PATH STATUS".

  --mode ecs   the ECS task metadata endpoint v4: GET /v4/<id>/task answers a task document
               whose container has --ip in a network of mode --network-mode (default
               awsvpc) and --mac, as Fargate does; GET /v4/<id> the container document.
               ECS_CONTAINER_METADATA_URI_V4=http://HOST:PORT/v4/<id>
  --mode imds  IMDSv2: PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds)
               gives a session token (--token hang: never answers; 403: refused); every
               GET without it is 401. Answers local-ipv4,
               mac, and network/interfaces/macs/<mac>/{interface-id, subnet-id, vpc-id,
               security-group-ids}. AWS_EC2_METADATA_SERVICE_ENDPOINT=http://HOST:PORT
"""
import argparse
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "imds-job-token-0123456789"
MAC = "0a:1b:2c:3d:4e:5f"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["ecs", "imds"], required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ip", required=True)
    ap.add_argument("--network-mode", default="awsvpc")
    ap.add_argument("--eni", default="")
    ap.add_argument("--subnet", default="")
    ap.add_argument("--vpc", default="")
    ap.add_argument("--groups", default="", help="comma-separated security group ids")
    ap.add_argument("--mac", default=MAC, help="the interface's MAC (moto's, to tell it apart)")
    ap.add_argument("--token", choices=["ok", "hang", "403"], default="ok",
                    help="the IMDSv2 token: given, never answered (a hop limit drops the "
                         "answer), or refused")
    args = ap.parse_args()
    mac = args.mac

    def task_doc():
        net = {"NetworkMode": args.network_mode, "IPv4Addresses": [args.ip],
               "AttachmentIndex": 0, "MACAddress": mac, "IPv4SubnetCIDRBlock": "",
               "PrivateDNSName": "ip-fake.ec2.internal"}
        container = {"DockerId": "cafe", "Name": "anonetl", "Networks": [net]}
        return {"Cluster": "anonetl", "TaskARN": "arn:aws:ecs:us-east-1:123456789012:task/x",
                "LaunchType": "FARGATE", "AvailabilityZone": "us-east-1a",
                "Containers": [container]}

    imds = {
        "/latest/meta-data/local-ipv4": args.ip,
        "/latest/meta-data/mac": mac,
        "/latest/meta-data/network/interfaces/macs/%s/interface-id" % mac: args.eni,
        "/latest/meta-data/network/interfaces/macs/%s/subnet-id" % mac: args.subnet,
        "/latest/meta-data/network/interfaces/macs/%s/vpc-id" % mac: args.vpc,
        "/latest/meta-data/network/interfaces/macs/%s/security-group-ids" % mac:
            "\n".join(g for g in args.groups.split(",") if g),
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
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
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            if args.mode == "ecs":
                return self.ecs()
            return self.imds()

        def ecs(self):
            if self.command != "GET" or not self.path.startswith("/v4/"):
                return self.reply(404)
            doc = task_doc()
            if self.path.endswith("/task"):
                return self.reply(200, json.dumps(doc).encode(), "application/json")
            return self.reply(200, json.dumps(doc["Containers"][0]).encode(),
                              "application/json")

        def imds(self):
            if self.command == "PUT" and self.path == "/latest/api/token":
                if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    return self.reply(400)
                if args.token == "hang":
                    with open(args.log, "a") as f:
                        f.write("PUT /latest/api/token hang\n")
                    time.sleep(30)
                    return None
                if args.token == "403":
                    return self.reply(403)
                return self.reply(200, TOKEN.encode())
            if self.command != "GET":
                return self.reply(405)
            if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
                return self.reply(401)
            val = imds.get(self.path)
            if not val:
                return self.reply(404)
            return self.reply(200, val.encode())

        do_GET = do_PUT = do_POST = handle_any

    srv = ThreadingHTTPServer((args.host, 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
