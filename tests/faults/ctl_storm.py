#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""ctl_storm.py - N control-socket clients at once against the agent, for the fault tests.

Opens N Unix-socket connections (a connect the full listen queue refuses with EAGAIN is
retried until DEADLINE), so that all of them are open together, then sends one status request
on each and reads every answer. Prints one line of counts:
  clients=N open=O ok=A busy=B closed=C refused=R errors=E seconds=S
(ok: a status snapshot; busy: the agent's "busy" answer; closed: closed without an answer,
as when the agent runs out of file descriptors; refused: never connected). Exits 0.
Usage: ctl_storm.py SOCKET N [DEADLINE_SECONDS]
"""
import errno
import json
import resource
import selectors
import socket
import sys
import time

path, n = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + (float(sys.argv[3]) if len(sys.argv) > 3 else 15.0)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 64)), hard))
t0 = time.monotonic()
counts = dict(clients=n, open=0, ok=0, busy=0, closed=0, refused=0, errors=0)
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    while True:
        try:
            s.connect(path)
            socks.append(s)
            break
        except BlockingIOError:  # the listen queue is full: the agent is accepting
            if time.monotonic() > deadline:
                counts["refused"] += 1
                s.close()
                break
            time.sleep(0.001)
        except OSError:
            counts["refused"] += 1
            s.close()
            break
counts["open"] = len(socks)
sel = selectors.DefaultSelector()
bufs = {}
for s in socks:
    try:
        s.send(b'{"verb":"status"}\n')
    except OSError:
        pass  # the agent closed it already; reading tells
    bufs[s] = b""
    sel.register(s, selectors.EVENT_READ)
while bufs and time.monotonic() < deadline:
    for key, _ in sel.select(timeout=0.5):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except OSError as e:
            data = b"" if e.errno in (errno.ECONNRESET, errno.EPIPE) else None
            if data is None:
                counts["errors"] += 1
                data = b""
        if data:
            bufs[s] += data
            if not bufs[s].endswith(b"\n"):
                continue
        line = bufs.pop(s)
        sel.unregister(s)
        s.close()
        if not line:
            counts["closed"] += 1
            continue
        try:
            r = json.loads(line)
        except ValueError:
            counts["errors"] += 1
            continue
        if r.get("ok") and "status" in r:
            counts["ok"] += 1
        elif r.get("code") == "busy":
            counts["busy"] += 1
        else:
            counts["errors"] += 1
counts["errors"] += len(bufs)  # no answer and no close before the deadline
print(" ".join("%s=%d" % kv for kv in counts.items()) +
      " seconds=%.2f" % (time.monotonic() - t0))
