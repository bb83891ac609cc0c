# SPDX-License-Identifier: ISC
import os, struct, glob, shutil
top = os.getcwd()
C = os.path.join(top, 'tests/fuzz/corpus')
def put(h, name, data):
    d = os.path.join(C, h); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), 'wb').write(data)

# bird: prefix byte (split seed / line cap) + captured stream
for ver in ('bird2', 'bird16', 'bird163', 'bird217', 'bird3'):
    for f in sorted(glob.glob(f'tests/data/bird/{ver}/*')):
        b = os.path.basename(f)
        if b == 'bird.conf': continue
        put('bird', f'{ver}_{b}', b'\x07' + open(f, 'rb').read())
banner = open('tests/data/bird/bird2/banner', 'rb').read()
seq = banner + open('tests/data/bird/bird2/show_protocols', 'rb').read() + open('tests/data/bird/bird2/disable_message', 'rb').read()
put('bird', 'session_bird2', b'\x33' + seq)
seq = b''.join(open(f'tests/data/bird/bird3/{n}', 'rb').read()
               for n in ('banner', 'show_protocols', 'disable_message', 'show_route_for_ibgp4'))
put('bird', 'session_bird3', b'\x21' + seq)
put('bird', 'async_lines', b'\x01' + b'+log line\r\n0001 BIRD 2.0.12 ready.\n+async\n')
put('bird', 'small_cap', b'\x85' + b'0001 BIRD 2.0.12 ready.\n1002-' + b'x' * 40 + b'\n0000 \n')
put('bird', 'cut_reply', b'\x02' + b'1002-anycast4 Static master4 up 13:36\n continu')

# config: the golden configs and contrib (no @include)
for f in sorted(glob.glob('tests/config/*.conf')) + ['contrib/anycast-agent.conf']:
    t = open(f, 'rb').read()
    if b'@include' in t: continue
    put('config', os.path.basename(f), t)

# dns: 4 prefix bytes choose the expectation (see fuzz_dns.c), then the reply
def name(n):
    out = b''
    for l in n.strip('.').split('.'):
        if l: out += bytes([len(l)]) + l.encode()
    return out + b'\0'
def hdr(id, flags, qd, an, ns, ar): return struct.pack('>HHHHHH', id, flags, qd, an, ns, ar)
def rr(n, t, data, cls=1, ttl=300): return n + struct.pack('>HHIH', t, cls, ttl, len(data)) + data
QN = 'www.example.test.'
qtypes = [1, 28, 6, 255, 15, 16, 2, 5, 12, 39, 65, 0]
def pre(qname_i, qtype_i, tcp=0, aa=2, rcode=0, nans=0, ans_i=0, match_id=1, dsz=4):
    b0 = qname_i + 7 * qtype_i
    b1 = tcp | (aa << 1) | ((rcode + 1) << 3)   # aa 2 -> want 1; rcode+1 -> want rcode
    b2 = nans + 3 * ans_i
    b3 = match_id | (dsz << 2)
    return bytes([b0 & 0xff, b1 & 0xff, b2 & 0xff, b3 & 0xff])
def q(qn, t): return name(qn) + struct.pack('>HH', t, 1)
ID = 0x1234
# A with two answers, expected 192.0.2.1
m = hdr(ID, 0x8400, 1, 2, 0, 0) + q(QN, 1) + rr(b'\xc0\x0c', 1, bytes([192,0,2,1])) + rr(b'\xc0\x0c', 1, bytes([192,0,2,2]))
put('dns', 'a_ok', pre(0, 0, nans=1, ans_i=0) + m)
# AAAA
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 28) + rr(b'\xc0\x0c', 28, bytes.fromhex('20010db8000000000000000000000001'))
put('dns', 'aaaa_ok', pre(0, 1, nans=1, ans_i=1) + m)
# SOA answer, authoritative
soa = name('ns1.example.test.') + name('hostmaster.example.test.') + struct.pack('>IIIII', 2024010101, 3600, 600, 86400, 300)
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 6) + rr(b'\xc0\x0c', 6, soa)
put('dns', 'soa_ok', pre(0, 2, nans=1, ans_i=5) + m)
# SOA compressed into the authority section of an NXDOMAIN
soa_c = b'\x03ns1\xc0\x10' + b'\x0ahostmaster\xc0\x10' + struct.pack('>IIIII', 7, 3600, 600, 86400, 300)
m = hdr(ID, 0x8403, 1, 0, 1, 0) + q(QN, 1) + rr(b'\xc0\x10', 6, soa_c)
put('dns', 'nxdomain_soa_authority', pre(0, 0, rcode=3) + m)
# MX, TXT, NS, CNAME, PTR, unknown type
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 15) + rr(b'\xc0\x0c', 15, struct.pack('>H', 10) + name('mx.example.test.'))
put('dns', 'mx', pre(0, 4, nans=1, ans_i=3) + m)
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 16) + rr(b'\xc0\x0c', 16, b'\x0bv=spf1 -all' + b'\x03\x00\x01\xff')
put('dns', 'txt', pre(0, 5, nans=1, ans_i=4) + m)
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 2) + rr(b'\xc0\x0c', 2, b'\x03ns1\xc0\x10')
put('dns', 'ns_compressed', pre(0, 6, nans=1, ans_i=2) + m)
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 65) + rr(b'\xc0\x0c', 65, b'\x00\x01\x00\x00')
put('dns', 'type65_generic', pre(0, 10, nans=1, ans_i=6) + m)
m = hdr(ID, 0x8400, 1, 2, 0, 0) + q(QN, 255) + rr(b'\xc0\x0c', 1, bytes([192,0,2,1])) + rr(b'\xc0\x0c', 5, name('x.'))
put('dns', 'any', pre(0, 3, nans=2, ans_i=0) + m)
# root name, class CH, truncated over UDP, SERVFAIL, REFUSED, not authoritative
m = hdr(ID, 0x8400, 1, 0, 0, 0) + b'\x00' + struct.pack('>HH', 2, 1)
put('dns', 'root_ns_empty', pre(2, 6) + m)
m = hdr(ID, 0x8602, 1, 0, 0, 0) + q(QN, 1)
put('dns', 'truncated_udp', pre(0, 0) + m)
put('dns', 'truncated_tcp', pre(0, 0, tcp=1) + m)
m = hdr(ID, 0x8002, 1, 0, 0, 0) + q(QN, 1)
put('dns', 'servfail', pre(0, 0, rcode=0) + m)
m = hdr(ID, 0x8005, 0, 0, 0, 0)
put('dns', 'refused_no_question', pre(0, 0, rcode=5) + m)
m = hdr(ID, 0x8000, 1, 1, 0, 0) + q(QN, 1) + rr(b'\xc0\x0c', 1, bytes([192,0,2,1]))
put('dns', 'not_authoritative', pre(0, 0, aa=2) + m)
# compression loop, pointer past the end, a record cut short, garbage
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 1) + b'\xc0\x22' + b'\xc0\x20' + struct.pack('>HHIH', 1, 1, 0, 4) + b'\x01\x02\x03\x04'
put('dns', 'compression_loop', pre(0, 0, nans=1) + m)
m = hdr(ID, 0x8400, 1, 1, 0, 0) + q(QN, 1) + b'\xc0\xff' + struct.pack('>HHIH', 1, 1, 0, 4) + b'\x01\x02'
put('dns', 'record_cut', pre(0, 0, nans=1) + m)
put('dns', 'short_header', pre(0, 0) + b'\x12\x34\x84')
put('dns', 'garbage', pre(0, 0) + bytes(range(256)))
m = hdr(ID, 0x8400, 1, 0, 0, 0) + q('EXAMPLE.test.', 1)
put('dns', 'case_mismatch', pre(4, 0) + m)

# http_body: byte0 (body_max, regex), byte1 (piece seed), needle NUL body
bodies = [
    (0xf0, b'ok', b'ok\n'),
    (0xf1, b'healthy', b'{"status": "ok", "version": "1.2"}\n'),
    (0xf2, b'status', b'status: green\n'),
    (0xf3, b'"status"', b'{"status" : "up"}'),
    (0xf4, b'healthy', b'  healthy  '),
    (0x25, b'</html>', b'<html><body>' + b'x' * 200 + b'</body></html>'),
    (0x16, b'c', b'abababababababababc'),
    (0x87, b'</html>', b'<html>\0binary\0</html>'),
    (0x18, b'', b''),
    (0xfa, b'ok 12', b'ok 12'),
    (0x30, b'END', b'A' * 300 + b'END'),
]
for i, (b0, needle, body) in enumerate(bodies):
    put('http_body', f'body{i:02d}', bytes([b0, 0x5a]) + needle + b'\0' + body)

# exec_output: byte0 status/signal, byte1 detail size, then stdout
outs = [
    (0, b'DISK OK - free space: / 3326 MB (56% inode=99%);| /=2643MB;5948;5958;0;5968\n/ 15272 MB (77% inode=99%);\n'),
    (1, b'WARNING - load average: 5.01, 4.02, 3.10|load1=5.010;5;10;0 load5=4.020;4;8;0\n'),
    (2, b'CRITICAL - Socket timeout after 10 seconds\n'),
    (3, b'UNKNOWN - invalid argument\nUsage: check_foo -H host\n'),
    (4, b'exit four\n'),
    (0, b''),
    (0, b'   \t  padded line   \r\n'),
    (0, b'nul\0inside|perf\n'),
    (0x80 | (1 << 4), b'killed output\n'),
    (0x80 | (7 << 4), b''),
    (5, b'\xff\xfe non-ascii \x1b[31mred\x1b[0m\n'),
    (9, b'x' * 600),
]
for i, (b0, out) in enumerate(outs):
    put('exec_output', f'out{i:02d}', bytes([b0, 0xff]) + out)

# dnssec: byte0 question (qname index + 4 * qtype index, see fuzz_dnssec.c) | 0x80 validate,
# bytes 1-2 the answer's length, byte3 moves now / sets warn and fail days; then the answer and
# the DNSKEY reply: real nsd replies of ldns-signzone zones (tests/data/dnssec)
def rd(n): return open(os.path.join('tests/data/dnssec', n), 'rb').read()
for nm, a, k, b0, b3 in [
        ('ecdsa-soa', 'ecdsa-soa.bin', 'ecdsa-dnskey.bin', 0, 1),
        ('rsa-soa', 'rsa-soa.bin', 'rsa-dnskey.bin', 0, 1),
        ('ed-soa', 'ed-soa.bin', 'ed-dnskey.bin', 0, 1),
        ('ecdsa-www', 'ecdsa-www.bin', 'ecdsa-dnskey.bin', 1 + 4 * 1, 1),
        ('ed-wild', 'ed-wild.bin', 'ed-dnskey.bin', 2 + 4 * 1, 1),
        ('ecdsa-soa-rsa-keys', 'ecdsa-soa.bin', 'rsa-dnskey.bin', 0, 1),
        ('ecdsa-soa-expiring', 'ecdsa-soa.bin', 'ecdsa-dnskey.bin', 0, 8 * 4 + 3)]:
    A, K = rd(a), rd(k)
    for v in (0, 0x80):
        put('dnssec', nm + ('-validate' if v else ''),
            bytes([b0 | v, len(A) >> 8, len(A) & 0xff, b3]) + A + K)
# exec_helper: byte0 (bit 7: frames the helper reads, else frames the agent reads; bits 0-6:
# piece size), then the stream; frames as exec_proto.h describes them
def frame(t, id, payload): return struct.pack('>IBI', 5 + len(payload), t, id) + payload
def result(id, outcome, status, sig, data): return frame(0x81, id, struct.pack('>Bii', outcome, status, sig) + data)
def facts(uid, gid, groups, access):
    return frame(0x82, 0, struct.pack('>IIIII', uid, gid, uid, gid, len(groups)) +
                 b''.join(struct.pack('>I', g) for g in groups) + struct.pack('>I', len(access)) +
                 b''.join(struct.pack('>i', a) for a in access))
helper = [
    (0x03, facts(999, 998, [], [13, 30]) + result(1, 0, 0, 0, b'DISK OK - free space: / 3326 MB|/=2643MB\n')),
    (0x00, result(2, 0, 2, 0, b'CRITICAL - down\n') + result(3, 0, 0, 9, b'') + result(4, 1, 0, 0, b'partial')),
    (0x11, result(5, 2, 0, 0, b'no such file or directory')),
    (0x05, facts(65534, 65534, [4, 24, 27], [0, 13, 2, 30])),
    (0x00, result(6, 0, 300, 0, b'bad status')),
    (0x00, struct.pack('>IBI', 0x7fffffff, 0x81, 1)),
    (0x02, result(7, 0, 0, 0, b'x' * 5000)[:3000]),
    (0x81, frame(1, 1, struct.pack('>II', 500, 8192) + b'/usr/lib/nagios/plugins/check_disk\0-w\0' +
                 b'10%\0') + frame(2, 1, b'') + frame(3, 0, b'/var/lib/anycast-agent/bird\0/run/bird/bird.ctl\0')),
    (0x80, frame(1, 2, struct.pack('>II', 500, 8192) + b'relative\0')),
    (0x80, frame(3, 0, b'')),
]
for i, (b0, stream) in enumerate(helper):
    put('exec_helper', f'stream{i:02d}', bytes([b0]) + stream)
