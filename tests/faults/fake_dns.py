#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""fake_dns.py - a fake DNS server for the fault tests, UDP and TCP on ADDR PORT.

Its behaviour is the first word of MODE_FILE, read again for every query:
  ok        NOERROR, authoritative, the question echoed, one SOA answer
  servfail  SERVFAIL, the question echoed
  garbage   the query's ID with QR set, then bytes that are no DNS message
  silent    no answer at all (TCP: the connection stays open, unanswered)
It counts queries per mode in MODE_FILE.count (one line "mode count" each), so a test can
tell that the agent kept asking. Usage: fake_dns.py ADDR PORT MODE_FILE
"""
import os
import socket
import struct
import sys
import threading

addr, port, mode_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counts = {}
lock = threading.Lock()


def mode():
    try:
        with open(mode_file) as f:
            return (f.read().split() or ["ok"])[0]
    except OSError:
        return "ok"


def question_end(q):
    i = 12
    while i < len(q) and q[i] != 0:
        i += q[i] + 1
    return i + 5


def answer(q, m):
    with lock:
        counts[m] = counts.get(m, 0) + 1
        tmp = mode_file + ".count.tmp"
        with open(tmp, "w") as f:
            for k, v in sorted(counts.items()):
                f.write("%s %d\n" % (k, v))
        os.replace(tmp, mode_file + ".count")
    if len(q) < 12 or m == "silent":
        return None
    if m == "garbage":
        return q[:2] + b"\x84\x00" + b"\xff\xfe garbage, not a DNS message \x00\x01"
    qend = question_end(q)
    question = q[12:qend]
    if m == "servfail":
        return q[:2] + struct.pack(">HHHHH", 0x8402, 1, 0, 0, 0) + question
    soa = (b"\xc0\x0c" + struct.pack(">HHIH", 6, 1, 300, 24) + b"\xc0\x0c\xc0\x0c" +
           struct.pack(">IIIII", 1, 3600, 900, 604800, 300))
    return q[:2] + struct.pack(">HHHHH", 0x8400, 1, 1, 0, 0) + question + soa


def udp(s):
    while True:
        q, peer = s.recvfrom(4096)
        r = answer(q, mode())
        if r is not None:
            s.sendto(r, peer)


def tcp_conn(c):
    held = []
    try:
        while True:
            hdr = c.recv(2)
            if len(hdr) < 2:
                return
            n = struct.unpack(">H", hdr)[0]
            q = b""
            while len(q) < n:
                chunk = c.recv(n - len(q))
                if not chunk:
                    return
                q += chunk
            r = answer(q, mode())
            if r is None:
                held.append(q)
                continue
            c.sendall(struct.pack(">H", len(r)) + r)
    finally:
        c.close()


def tcp(s):
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()


fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
us = socket.socket(fam, socket.SOCK_DGRAM)
us.bind((addr, port))
ts = socket.socket(fam, socket.SOCK_STREAM)
ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ts.bind((addr, port))
ts.listen(64)
threading.Thread(target=tcp, args=(ts,), daemon=True).start()
with open(mode_file + ".ready", "w") as f:
    f.write("ready\n")
udp(us)
