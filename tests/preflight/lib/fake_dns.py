#!/usr/bin/env python3
"""tests/preflight/lib/fake_dns.py: a tiny authoritative DNS server over UDP for the
preflight tests (tests/preflight/netns.sh), to resolve names the way RDS endpoints resolve:
through a chain of CNAMEs (a cluster endpoint, then the current instance's) to an A record.
It listens where it is told, in the test's own network namespace only.

    fake_dns.py --listen 127.0.0.1 --port 53 --log FILE --port-file FILE \\
        NAME=CNAME:TARGET ... NAME=A:ADDRESS ...

Answers: the chain of CNAMEs from the name asked, then its A record for an A (or ANY)
question; for AAAA the chain alone (no address: NOERROR, as RDS answers); NXDOMAIN for a
name it does not know. One line per question in the log: "QTYPE NAME RCODE".
"""
import argparse
import socket
import struct

TYPES = {1: "A", 5: "CNAME", 28: "AAAA", 255: "ANY"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def decode_name(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        labels.append(msg[off:off + n].decode())
        off += n


def rr(name, rtype, data):
    return encode_name(name) + struct.pack("!HHIH", rtype, 1, 30, len(data)) + data


def answer(query, zone):
    ident, flags = struct.unpack("!HH", query[:4])
    name, off = decode_name(query, 12)
    qtype = struct.unpack("!H", query[off:off + 2])[0]
    question = query[12:off + 4]
    answers, cur, rcode = [], name, 0
    for _ in range(8):
        kind, value = zone.get(cur, (None, None))
        if kind == "CNAME":
            answers.append(rr(cur, 5, encode_name(value)))
            cur = value
            continue
        if kind == "A" and qtype in (1, 255):
            answers.append(rr(cur, 1, socket.inet_aton(value)))
        if kind is None and not answers:
            rcode = 3
        break
    head = struct.pack("!HHHHHH", ident, 0x8400 | (flags & 0x0100) | 0x0080 | rcode, 1,
                       len(answers), 0, 0)
    return head + question + b"".join(answers), name, qtype, rcode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("records", nargs="+")
    a = ap.parse_args()
    zone = {}
    for rec in a.records:
        name, _, rest = rec.partition("=")
        kind, _, value = rest.partition(":")
        zone[name.lower().rstrip(".")] = (kind.upper(), value.lower().rstrip(".")
                                          if kind.upper() == "CNAME" else value)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.listen, a.port))
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write("%d\n" % s.getsockname()[1])
    while True:
        query, peer = s.recvfrom(4096)
        try:
            reply, name, qtype, rcode = answer(query, zone)
        except (IndexError, struct.error, UnicodeDecodeError):
            continue
        s.sendto(reply, peer)
        with open(a.log, "a") as f:
            f.write("%s %s %d\n" % (TYPES.get(qtype, qtype), name, rcode))


if __name__ == "__main__":
    main()
