# SPDX-License-Identifier: ISC
import socket, sys, re
# usage: cap.py SOCK OUTPREFIX cmd1 cmd2 ... ; writes OUTPREFIX.banner and OUTPREFIX.N (raw reply bytes)
def read_reply(s, buf):
    out = b""
    while True:
        while b"\n" not in buf:
            d = s.recv(65536)
            if not d: return out + buf, b""
            buf += d
        line, buf = buf.split(b"\n", 1)
        out += line + b"\n"
        if re.match(rb"^\d{4} ", line): return out, buf
sock, pfx = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.connect(sock)
b, rest = read_reply(s, b"")
open(pfx + ".banner", "wb").write(b)
for i, c in enumerate(sys.argv[3:]):
    s.sendall(c.encode() + b"\n")
    r, rest = read_reply(s, rest)
    open("%s.%d" % (pfx, i), "wb").write(r)
    sys.stdout.write("> %s\n%s" % (c, r.decode(errors="replace")))
