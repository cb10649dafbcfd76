#!/usr/bin/python3
"""The memcached tenant application over real loopback UDP (ctest label `net`; standard library only).

    memcached_udp_test.py EDGEOS_MEMCACHED_UDP [-k PATTERN]

What is checked, and against what:
  * Protocol: a memcached UDP client written here (socket and frame header, nothing shared with the
    engine) sends set/get/gets/add/replace/delete/incr/decr, noreply, several keys, bad commands
    and a 5,000-byte value, and checks every reply against protocol.txt: the frame header (request
    id echoed, sequence numbers 0..n-1, the total, datagrams of at most 1,400 bytes), the reply
    lines, cas uniques that change on every update.
  * AgainstMemcached: the same datagrams sent to Debian's memcached (`memcached -U PORT -p 0 -l
    127.0.0.1 -t 1 -o no_lru_crawler,no_lru_maintainer`, see class Memcached) and to the engine, every reply datagram compared byte for byte, headers
    included. The one allowance: the cas uniques of `gets` may differ in value; they are compared
    through the order in which each server hands them out (equal where the other's are equal). A
    fixed list of requests covers each behaviour the engine copies from memcached (README.md), a
    seeded random sequence the rest; memcached started with -I 2k checks "object too large".
  * MemoryBudget: with a small budget, the engine evicts least recently used items first (a get
    counts as a use), keeps serving, refuses an item larger than its memory with memcached's
    "SERVER_ERROR out of memory storing object", answers invalid lengths as memcached does, drops
    a data block cut short, and survives thousands of random datagrams.

Requests that would leave memcached waiting for more data (a data block cut short) are sent only
to the engine: memcached then reads the next datagram, whoever sends it, as the rest.

Without /usr/bin/memcached the tests that need it are skipped (exit code 77 when all are).
"""
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

ENGINE = None
MEMCACHED = "/usr/bin/memcached"
MAX_DATAGRAM = 1400
HEADER = 8
MAX_PAYLOAD = MAX_DATAGRAM - HEADER
SENTINEL = b"get __sentinel__\r\n"


def have_memcached():
    return os.access(MEMCACHED, os.X_OK)


# --- servers ---------------------------------------------------------------------------------------

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Engine:
    """edgeos-memcached-udp on a free loopback port; stop() returns its counters."""

    def __init__(self, *flags):
        self.proc = subprocess.Popen([ENGINE, "--seconds", "300", *flags], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.fullmatch(r"port (\d+)\n", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"engine did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.counters = None

    def stop(self):
        if self.counters is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                out, err = self.proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()  # stuck in a request: SIGTERM is only seen between requests
                self.proc.communicate()
                raise RuntimeError("engine did not stop on SIGTERM") from None
            if self.proc.returncode != 0:
                raise RuntimeError(f"engine exited with {self.proc.returncode}: {err}")
            self.counters = {k: int(v) for k, v in (l.split() for l in out.splitlines() if l.strip())}
        return self.counters


class Memcached:
    """Debian's memcached, UDP only, one worker thread (so replies keep the requests' order), and
    without its background LRU crawler and maintainer: while one of those holds a reference to an
    item, an incr/decr writes a new item instead of padding the old one in place, so that whether
    a value comes back space-padded would depend on thread timing."""

    def __init__(self, *flags):
        for _ in range(5):
            self.port = free_udp_port()
            args = [MEMCACHED, "-U", str(self.port), "-p", "0", "-l", "127.0.0.1", "-t", "1",
                    "-o", "no_lru_crawler,no_lru_maintainer", *flags]
            if os.geteuid() == 0:
                args += ["-u", "nobody"]
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                if self._answers():
                    return
            except BaseException:
                self.stop()
                raise
            self.stop()
        raise RuntimeError("memcached did not start")

    def _answers(self):
        c = Client(self.port)
        try:
            for _ in range(50):
                if self.proc.poll() is not None:
                    return False
                try:
                    c.sock.send(frame(1, SENTINEL))
                    c.sock.settimeout(0.1)
                    c.sock.recv(65536)
                    return True
                except socket.timeout:
                    pass
                except ConnectionRefusedError:  # not bound yet
                    time.sleep(0.05)
            return False
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)


# --- the client ------------------------------------------------------------------------------------

def frame(request_id, payload, seq=0, total=1, reserved=0):
    return struct.pack(">HHHH", request_id, seq, total, reserved) + payload


class Client:
    """A memcached UDP client. request() sends one datagram and a sentinel request behind it, and
    returns every datagram that came back before the sentinel's reply (the servers answer in order:
    one engine thread, memcached with -t 1); without it, nothing would tell "no reply" from "late"."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:  # room for long multi-datagram replies (SO_RCVBUFFORCE where permitted)
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.connect(("127.0.0.1", port))
        self.next_id = 1000

    def close(self):
        self.sock.close()

    def raw(self, datagram, wait=0.3):
        """Sends bytes as they are; returns what comes back within `wait` seconds of quiet."""
        self.sock.send(datagram)
        out = []
        self.sock.settimeout(wait)
        try:
            while True:
                out.append(self.sock.recv(65536))
        except socket.timeout:
            return out

    def request(self, payload, request_id=None, header=None):
        if request_id is None:
            request_id = self.next_id
            self.next_id = (self.next_id + 2) & 0xFFFF
        sentinel_id = (request_id + 1) & 0xFFFF
        self.sock.send(header + payload if header is not None else frame(request_id, payload))
        self.sock.send(frame(sentinel_id, SENTINEL))
        out = []
        self.sock.settimeout(5)
        while True:
            d = self.sock.recv(65536)
            rid, seq, total, _ = struct.unpack(">HHHH", d[:8])
            if rid == sentinel_id and d[8:] == b"END\r\n":
                return request_id, out
            out.append(d)


def messages(testcase, request_id, datagrams):
    """The reply messages in the datagrams, each checked against the UDP framing: the request's id,
    reserved 0, sequence numbers 0..total-1 in order, every datagram but a message's last full
    (1,400 bytes), none longer; an empty message is a bare header with total 0."""
    out = []
    i = 0
    while i < len(datagrams):
        d = datagrams[i]
        testcase.assertGreaterEqual(len(d), HEADER)
        testcase.assertLessEqual(len(d), MAX_DATAGRAM)
        rid, seq, total, reserved = struct.unpack(">HHHH", d[:8])
        testcase.assertEqual((rid, seq, reserved), (request_id, 0, 0), d[:60])
        if total == 0:
            testcase.assertEqual(len(d), HEADER)
            out.append(b"")
            i += 1
            continue
        parts = []
        for s in range(total):
            testcase.assertLess(i + s, len(datagrams), "message cut short")
            d = datagrams[i + s]
            testcase.assertEqual(struct.unpack(">HHHH", d[:8]), (request_id, s, total, 0))
            if s < total - 1:
                testcase.assertEqual(len(d), MAX_DATAGRAM)
            else:
                testcase.assertGreater(len(d), HEADER)
            parts.append(d[8:])
        out.append(b"".join(parts))
        i += total
    return out


VALUE_LINE = re.compile(rb"VALUE (\S+) (\d+) (\d+)(?: (\d+))?\r\n")


def parse_values(testcase, stream):
    """A get/gets reply stream -> ([(key, flags, data, cas or None)], rest after END)."""
    items = []
    pos = 0
    while not stream.startswith(b"END\r\n", pos):
        m = VALUE_LINE.match(stream, pos)
        testcase.assertIsNotNone(m, stream[pos:pos + 80])
        n = int(m.group(3))
        data = stream[m.end():m.end() + n]
        testcase.assertEqual(stream[m.end() + n:m.end() + n + 2], b"\r\n")
        items.append((m.group(1), int(m.group(2)), data, int(m.group(4)) if m.group(4) else None))
        pos = m.end() + n + 2
    return items, stream[pos + 5:]


# --- Protocol: the engine against protocol.txt ------------------------------------------------------

class Protocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = Engine()
        cls.client = Client(cls.engine.port)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.counters = cls.engine.stop()

    def ask(self, payload, **kw):
        """The reply messages to one request datagram."""
        rid, datagrams = self.client.request(payload, **kw)
        return messages(self, rid, datagrams)

    def stream(self, payload):
        return b"".join(self.ask(payload))

    def get(self, key):
        items, rest = parse_values(self, self.stream(b"get " + key + b"\r\n"))
        self.assertEqual(rest, b"")
        return items[0][1:3] if items else None

    def gets(self, key):
        items, _ = parse_values(self, self.stream(b"gets " + key + b"\r\n"))
        self.assertEqual(len(items), 1)
        self.assertIsNotNone(items[0][3])
        return items[0][3]

    def test_set_get(self):
        self.assertEqual(self.ask(b"set p:a 5 0 3\r\nabc\r\n"), [b"STORED\r\n"])
        self.assertEqual(self.get(b"p:a"), (5, b"abc"))
        self.assertEqual(self.get(b"p:missing"), None)
        # Flags are 32 bits; data is any bytes, "\r\n" included; empty data is data.
        blob = bytes(range(256)) + b"\r\n\r\n"
        self.assertEqual(self.ask(b"set p:b 4294967295 0 %d\r\n" % len(blob) + blob + b"\r\n"), [b"STORED\r\n"])
        self.assertEqual(self.get(b"p:b"), (4294967295, blob))
        self.assertEqual(self.ask(b"set p:c 0 0 0\r\n\r\n"), [b"STORED\r\n"])
        self.assertEqual(self.get(b"p:c"), (0, b""))

    def test_gets_cas_changes_on_update(self):
        self.ask(b"set p:cas 0 0 1\r\n1\r\n")
        seen = [self.gets(b"p:cas")]
        self.assertEqual(self.gets(b"p:cas"), seen[0], "a read does not change the cas unique")
        for update in (b"set p:cas 0 0 1\r\n2\r\n", b"replace p:cas 0 0 1\r\n3\r\n", b"incr p:cas 1\r\n",
                       b"decr p:cas 1\r\n"):
            self.ask(update)
            seen.append(self.gets(b"p:cas"))
        self.assertEqual(len(set(seen)), len(seen), seen)

    def test_add_replace(self):
        self.assertEqual(self.ask(b"add p:add 1 0 1\r\nx\r\n"), [b"STORED\r\n"])
        self.assertEqual(self.ask(b"add p:add 2 0 1\r\ny\r\n"), [b"NOT_STORED\r\n"])
        self.assertEqual(self.get(b"p:add"), (1, b"x"))
        self.assertEqual(self.ask(b"replace p:norep 0 0 1\r\nz\r\n"), [b"NOT_STORED\r\n"])
        self.assertIsNone(self.get(b"p:norep"))
        self.assertEqual(self.ask(b"replace p:add 3 0 2\r\nzz\r\n"), [b"STORED\r\n"])
        self.assertEqual(self.get(b"p:add"), (3, b"zz"))

    def test_delete(self):
        self.ask(b"set p:del 0 0 1\r\nx\r\n")
        self.assertEqual(self.ask(b"delete p:del\r\n"), [b"DELETED\r\n"])
        self.assertEqual(self.ask(b"delete p:del\r\n"), [b"NOT_FOUND\r\n"])
        self.assertIsNone(self.get(b"p:del"))

    def test_incr_decr(self):
        self.ask(b"set p:n 7 0 2\r\n10\r\n")
        self.assertEqual(self.ask(b"incr p:n 5\r\n"), [b"15\r\n"])
        self.assertEqual(self.ask(b"decr p:n 100\r\n"), [b"0\r\n"], "decr stops at 0")
        flags, data = self.get(b"p:n")
        self.assertEqual((flags, data.rstrip(b" ")), (7, b"0"), "the number, maybe space-padded")
        self.ask(b"set p:n 0 0 20\r\n18446744073709551615\r\n")
        self.assertEqual(self.ask(b"incr p:n 2\r\n"), [b"1\r\n"], "incr wraps at 2^64")
        self.assertEqual(self.ask(b"incr p:none 1\r\n"), [b"NOT_FOUND\r\n"])
        self.ask(b"set p:t 0 0 3\r\nabc\r\n")
        self.assertEqual(self.ask(b"incr p:t 1\r\n"), [b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"])
        self.assertEqual(self.ask(b"incr p:n x\r\n"), [b"CLIENT_ERROR invalid numeric delta argument\r\n"])
        # Whitespace alone is no number (memcached reads on past such a value: not compared).
        self.ask(b"set p:w 0 0 3\r\n \t\n\r\n")
        self.assertEqual(self.ask(b"incr p:w 1\r\n"), [b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"])

    def test_noreply(self):
        for payload in (b"set p:q 0 0 1 noreply\r\nq\r\n", b"add p:q 0 0 1 noreply\r\nr\r\n",
                        b"replace p:q 0 0 1 noreply\r\ns\r\n", b"incr p:q 1 noreply\r\n",
                        b"set p:q2 0 0 1 noreply\r\n1\r\n", b"incr p:q2 1 noreply\r\n", b"decr p:q2 1 noreply\r\n"):
            self.assertEqual(self.ask(payload), [], payload)
        self.assertEqual(self.get(b"p:q"), (0, b"s"))
        self.assertEqual(self.get(b"p:q2"), (0, b"1"))
        self.assertEqual(self.ask(b"delete p:q noreply\r\n"), [])
        self.assertIsNone(self.get(b"p:q"))

    def test_several_keys(self):
        self.ask(b"set p:k1 1 0 2\r\nv1\r\nset p:k3 3 0 2\r\nv3\r\n")
        items, rest = parse_values(self, self.stream(b"get p:k1 p:k2 p:k3 p:k1\r\n"))
        self.assertEqual(rest, b"")
        self.assertEqual([(k, f, d) for k, f, d, _ in items],
                         [(b"p:k1", 1, b"v1"), (b"p:k3", 3, b"v3"), (b"p:k1", 1, b"v1")])
        items, _ = parse_values(self, self.stream(b"gets p:k1 p:k3\r\n"))
        self.assertNotEqual(items[0][3], items[1][3])
        # Several commands in one datagram: each answered, in order.
        self.assertEqual(self.stream(b"delete p:k1\r\nget p:k1\r\nincr p:k3 1\r\n"),
                         b"DELETED\r\nEND\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n")

    def test_errors(self):
        self.assertEqual(self.ask(b"bogus\r\n"), [b"ERROR\r\n"])
        self.assertEqual(self.ask(b"get\r\n"), [b"ERROR\r\n"])
        self.assertEqual(self.ask(b"set p:e 0 0\r\n"), [b"ERROR\r\n"])
        self.assertEqual(self.ask(b"get " + b"k" * 251 + b"\r\n"), [b"CLIENT_ERROR bad command line format\r\n"])
        self.assertIsNone(self.get(b"k" * 250))
        # A bad line leaves its data to be read as a command (hence ERROR), as memcached does.
        self.assertEqual(self.ask(b"set p:e 0 0 -1\r\nx\r\n"), [b"CLIENT_ERROR bad command line format\r\n", b"ERROR\r\n"])
        self.assertEqual(self.ask(b"set p:e 0 0 1\r\nxyz\r\n"), [b"CLIENT_ERROR bad data chunk\r\n", b"ERROR\r\n"])
        self.assertEqual(self.ask(b"delete p:e 5\r\n"),
                         [b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"])

    def test_frame_header(self):
        for rid in (0, 1, 0x1234, 0xFFFF):
            d = self.client.raw(frame(rid, b"get p:nothing\r\n"))
            self.assertEqual(d, [struct.pack(">HHHH", rid, 0, 1, 0) + b"END\r\n"])
        # The sequence number and reserved field of a request are ignored; a request announcing
        # more than one datagram, or shorter than a header, is dropped (as memcached does).
        self.assertEqual(self.client.raw(frame(7, b"get p:nothing\r\n", seq=3, reserved=9)),
                         [struct.pack(">HHHH", 7, 0, 1, 0) + b"END\r\n"])
        self.assertEqual(self.client.raw(frame(7, b"get p:nothing\r\n", total=2)), [])
        self.assertEqual(self.client.raw(frame(7, b"get p:nothing\r\n", seq=1, total=2)), [])
        self.assertEqual(self.client.raw(b"\x00\x07\x00\x00\x00\x01\x00"), [])
        self.assertEqual(self.ask(b"get p:nothing\r\n"), [b"END\r\n"])

    def test_large_value_split(self):
        value = bytes(random.Random(5).randrange(256) for _ in range(5000))
        self.assertEqual(self.ask(b"set p:big 9 0 5000\r\n" + value + b"\r\n"), [b"STORED\r\n"])
        rid, datagrams = self.client.request(b"get p:big\r\n")
        body = b"VALUE p:big 9 5000\r\n" + value + b"\r\nEND\r\n"
        self.assertEqual(len(datagrams), (len(body) + MAX_PAYLOAD - 1) // MAX_PAYLOAD)
        self.assertEqual(messages(self, rid, datagrams), [body])
        # Exactly 1,392 bytes of payload fit one datagram; one more byte takes two.
        for size in (1392, 1393, 2784, 2785):
            n = size - len(b"VALUE p:edge 0 1000\r\n\r\nEND\r\n")  # four digits in all these cases
            self.ask(b"set p:edge 0 0 %d\r\n" % n + b"e" * n + b"\r\n")
            rid, datagrams = self.client.request(b"get p:edge\r\n")
            self.assertEqual(len(datagrams), (size + MAX_PAYLOAD - 1) // MAX_PAYLOAD, n)
            self.assertEqual(messages(self, rid, datagrams), [b"VALUE p:edge 0 %d\r\n" % n + b"e" * n + b"\r\nEND\r\n"])

    def test_expiry(self):
        self.assertEqual(self.ask(b"set p:x1 0 -1 1\r\nx\r\n"), [b"STORED\r\n"])
        self.assertIsNone(self.get(b"p:x1"), "a negative exptime expires at once")
        self.ask(b"set p:x2 0 1000 1\r\nx\r\n")
        self.assertEqual(self.get(b"p:x2"), (0, b"x"))
        past, future = int(time.time()) - 100, int(time.time()) + 1000
        self.ask(b"set p:x3 0 %d 1\r\nx\r\nset p:x4 0 %d 1\r\nx\r\n" % (past, future))
        self.assertIsNone(self.get(b"p:x3"), "an absolute time in the past")
        self.assertEqual(self.get(b"p:x4"), (0, b"x"))

    def test_incomplete_data_dropped(self):
        # The data block runs past the datagram: nothing is stored and nothing answered, not even
        # the replies still waiting; the next request is served normally.
        self.assertEqual(self.ask(b"delete p:nothing\r\nset p:cut 0 0 10\r\nabc"), [])
        self.assertIsNone(self.get(b"p:cut"))
        # A line with no end is ignored.
        self.assertEqual(self.ask(b"get p:cut"), [])


# --- AgainstMemcached: byte for byte ----------------------------------------------------------------

K251 = b"k" * 251
D = b"delete zz\r\n"


def fixed_sequence():
    """Datagram payloads covering each behaviour the engine copies from memcached."""
    now = int(time.time())
    blob = bytes(range(256))
    seq = [
        # basics
        b"set a 5 0 3\r\nabc\r\n", b"get a\r\n", b"gets a\r\n", b"set c 6 0 1\r\nc\r\n", b"gets a c\r\n",
        b"add a 0 0 1\r\nx\r\n", b"add q 1 0 1\r\nq\r\n", b"replace zz 0 0 1\r\nx\r\n", b"replace q 2 0 2\r\nqq\r\n",
        b"get q\r\n", b"delete q\r\n", b"delete q\r\n", b"set bin 0 0 256\r\n" + blob + b"\r\n", b"get bin\r\n",
        b"set e 0 0 0\r\n\r\nget e\r\n", b"set crlf 0 0 4\r\n\r\n\r\n\r\nget crlf\r\n",
        # several keys: one message per hit, END with the last key, the empty first message
        b"get a b\r\n", b"get b a\r\n", b"get a a\r\n", b"get b b\r\n", b"get b b b\r\n", b"get a b b a\r\n",
        b"get b a b a\r\n", b"get a c b\r\n", b"get b c a\r\n", b"get a noreply\r\n", b"gets b a c b\r\n",
        b"get " + b" ".join([b"a", b"b"] * 15) + b"\r\n", b"get " + b" ".join([b"b"] * 30) + b" a\r\n",
        # several commands in a datagram; replies waiting for the next get or the end
        b"set a 5 0 3\r\nabc\r\nget a\r\n", b"get a\r\nget a\r\n", b"get a\r\nget b a\r\n", b"get b a\r\nget a\r\n",
        b"delete zz\r\nget b b\r\n", b"bogus\r\nget b a\r\n", b"set x 0 0 1\r\n1\r\nget b b\r\n",
        b"set x 0 0 1 noreply\r\n1\r\nget b b\r\n", b"delete zz noreply\r\nget b b\r\n", b"get b\r\nget b b\r\n",
        b"get b b\r\nget b b\r\nget b b\r\n", b"incr zz 1\r\nget b a\r\n",
        # every 20 commands memcached sends what is waiting
        D * 20 + b"get b b\r\n", D * 21 + b"get b b\r\n", D * 22 + b"get b b\r\n", D * 41 + b"get b a\r\n",
        b"set y 0 0 1\r\n1\r\n" * 21 + b"get b b\r\n", b"get b\r\n" * 25 + b"get b b\r\n",
        # a get with a key too long answers only its error, dropping the replies waiting
        b"delete zz\r\nget a " + K251 + b"\r\n", b"get a\r\nget a " + K251 + b"\r\n", b"get a c " + K251 + b"\r\n",
        b"get " + K251 + b"\r\nget b b\r\n", D * 10 + b"get a " + K251 + b"\r\n", D * 21 + b"get a " + K251 + b"\r\n",
        D * 40 + b"get a " + K251 + b"\r\n", b"get b\r\n" * 19 + D + b"get a " + K251 + b"\r\n",
        b"delete zz noreply\r\n" * 20 + D + D + b"get a " + K251 + b"\r\n",
        b"set a 0 0 1\r\nxyz\r\n" * 10 + D + D + b"get a " + K251 + b"\r\n",
        # lines: "\n" alone, an '\r' too many, NUL bytes, spaces, tabs, empty lines
        b"set a 5 0 3\nabc\r\nget a\n", b"set a 0 0 3\r\r\nabc\r\n", b" get a\r\n", b"   \r\n", b"\r\n", b"\n",
        b"get a\r\n\r\n", b"get\ta\r\n", b"get a\tc\r\n", b"GET a\r\n", b"gets\r\n", b"getx a\r\n",
        b"set  a  0  0  3 \r\nabc\r\nget a\r\n", b"set a\x00 0 0 1\r\nx\r\n", b"set b 0 0 1\x00zz\r\nx\r\nget b\r\n",
        b"bogus\x00\r\n", b"get a\x00\r\n", b"\x00get a\r\n", b"get \x00a\r\n", b"set n0 0 0 1\r\n\x00\r\nget n0\r\n",
        b"get a\r\nget", b"set a 0 0 3\r\nabc\r\nget a",
        # keys
        b"set " + b"k" * 250 + b" 0 0 1\r\nx\r\nget " + b"k" * 250 + b"\r\n", b"set " + K251 + b" 0 0 1\r\nx\r\n",
        b"get " + K251 + b"\r\n", b"set tab\tkey 0 0 1\r\nt\r\nget tab\tkey\r\n",
        # numbers, read as strtoul/strtol then cut to the field's width
        b"set f +5 0 1\r\nx\r\nget f\r\n", b"set f -0 0 1\r\nx\r\nget f\r\n", b"set f -5 0 1\r\nx\r\nget f\r\n",
        b"set f 0x10 0 1\r\nx\r\n", b"set f 18446744073709551615 0 1\r\nx\r\nget f\r\n",
        b"set f 18446744073709551616 0 1\r\nx\r\n", b"set f 9223372036854775808 0 1\r\nx\r\nget f\r\n",
        b"set f 4294967296 0 1\r\nx\r\nget f\r\n", b"set f -9223372036854775808 0 1\r\nx\r\n",
        b"set f 5\t 0 1\r\nx\r\nget f\r\n", b"set f \t 0 1\r\nx\r\n", b"set f 0 \t 1\r\nx\r\n", b"set f 0 0 \t\r\n\r\n",
        b"set f 0 0 \x0c1\r\nx\r\nget f\r\n", b"set f 0 0 1\x01\r\nx\r\n", b"set f 0 0 03\r\nabc\r\nget f\r\n",
        b"set f 0 0 +3\r\nabc\r\nget f\r\n", b"set f 0 0 -0\r\n\r\nget f\r\n", b"set f 0 0 4294967299\r\nabc\r\nget f\r\n",
        b"set f 0 0 -4294967293\r\nabc\r\nget f\r\n", b"set f 0 0 2147483647\r\nx\r\n", b"set f 0 0 2147483648\r\nx\r\n",
        b"set f 0 0 x\r\nabc\r\n", b"set f x 0 3\r\nabc\r\n", b"set f 0 x 3\r\nabc\r\n",
        # exptime: negative, beyond 30 days (a Unix time, here past or future), cut to 32 bits
        b"set t 0 -1 1\r\nx\r\nget t\r\n", b"set t 0 2592000 1\r\nx\r\nget t\r\n", b"set t 0 2592001 1\r\nx\r\nget t\r\n",
        b"set t 0 9999999999 1\r\nx\r\nget t\r\n", b"set t 0 -9999999999 1\r\nx\r\nget t\r\n",
        b"set t 0 4294967296 1\r\nx\r\nget t\r\n", b"set t 0 99999999999999999999 1\r\nx\r\nget t\r\n",
        b"set t 0 %d 1\r\nx\r\nget t\r\n" % (now - 100), b"set t 0 %d 1\r\nx\r\nget t\r\n" % (now + 1000),
        b"set t 0 1000 1\r\nx\r\ngets t\r\n", b"add t 0 -1 1\r\ny\r\nget t\r\n", b"replace t 0 -1 1\r\ny\r\nget t\r\n",
        b"add t 0 -1 1\r\ny\r\nget t\r\n",
        # storage command lines
        b"set a 0 0 3 noreply extra\r\nabc\r\nget a\r\n", b"set a 0 0 3 bogus\r\nabc\r\nget a\r\n", b"set a 0 0\r\nabc\r\n",
        b"set a 0 0 3\r\nabcdefg\r\nget a\r\n", b"set a 0 0 3\r\nabc\nget a\r\n", b"set a 0 0 1 noreply\r\nxyz\r\n",
        b"set " + K251 + b" 0 0 1 noreply\r\nx\r\n", b"set a x 0 1 noreply\r\nx\r\n", b"set a 0 0 1 " + b"y" * 3000 + b"\r\n1\r\nget a\r\n",
        b"sets a 0 0 1\r\n1\r\n", b"add n 0 0 1 noreply\r\n7\r\nget n\r\n",
        # delete
        b"set d 0 0 1\r\nx\r\ndelete d 0\r\nget d\r\n", b"delete d 5\r\n", b"delete d x\r\n", b"delete d 00\r\n",
        b"delete d -0\r\n", b"delete d noreply 0\r\n", b"delete d 0 x\r\n", b"delete d x noreply\r\n", b"delete d b c d\r\n",
        b"delete\r\n", b"delete " + K251 + b"\r\n", b"delete " + K251 + b" 5\r\n", b"delete " + K251 + b" noreply\r\n",
        b"set d 0 0 1\r\nx\r\ndelete d 0 noreply\r\nget d\r\n",
        # incr/decr: in place and padded, longer, wrapping, odd numbers in the data. (Not a value of
        # whitespace alone, nor one of 2^63 or more: memcached's reading of those depends on the bytes
        # after the value in its memory, README.md.)
        b"set n 3 0 2\r\n10\r\ndecr n 1\r\nget n\r\nincr n 100\r\ngets n\r\n", b"set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\n",
        b"decr n 95\r\nget n\r\nincr n 5\r\nget n\r\n", b"set n 0 0 1\r\n5\r\nincr n -1\r\n",
        b"incr n 18446744073709551615\r\n", b"incr n 18446744073709551616\r\n", b"decr n 100\r\nget n\r\n",
        b"incr n\r\n", b"incr\r\n", b"incr n 1 2\r\n", b"incr n 1 noreply 2\r\n", b"incr " + K251 + b" 1\r\n",
        b"incr " + K251 + b" x\r\n", b"incr zz x\r\n", b"decr zz 1\r\n", b"incr n 1 noreply\r\nget n\r\n",
        b"incr n +1\r\n", b"incr n 01\r\n", b"incr n 1x\r\n", b"incr n  1\r\n", b"incr n \t\r\n", b"incr n x noreply\r\n",
        b"set n 0 0 2\r\n 5\r\nincr n 1\r\nget n\r\n", b"set n 0 0 2\r\n5 \r\nincr n 1\r\n", b"set n 0 0 2\r\n-5\r\nincr n 1\r\n",
        b"set n 0 0 4\r\n-0  \r\nincr n 1\r\n", b"set n 0 0 3\r\n5 x\r\nincr n 1\r\nget n\r\n", b"set n 0 0 2\r\n5x\r\nincr n 1\r\n",
        b"set n 0 0 2\r\n5\n\r\nincr n 1\r\n", b"set n 0 0 3\r\n\t5\t\r\nincr n 1\r\nget n\r\n", b"set n 0 0 1\r\n\x00\r\nincr n 1\r\n",
        b"set n 0 0 101\r\n" + b"0" * 100 + b"5\r\nincr n 1\r\nget n\r\n", b"set n 0 0 0\r\n\r\nincr n 1\r\n",
        b"set n 0 0 1\r\n9\r\ngets n\r\nincr n 1\r\ngets n\r\nincr n 10\r\ngets n\r\ndecr n 10\r\ngets n\r\n",
        b"set r 0 0 1\r\nx\r\nincr r 1\r\nset r2 0 0 1\r\nx\r\ngets r2\r\n", b"incr n 0\r\nget n\r\n",
        # large values: datagram boundaries
        b"set big 0 0 5000\r\n" + b"x" * 5000 + b"\r\n", b"get big\r\n", b"get big a big\r\n", b"gets big\r\n",
    ]
    for n in (1367, 1368, 1369, 2759, 2760, 10000, 30000):
        seq.append(b"set big 0 0 %d\r\n" % n + bytes(i % 251 for i in range(n)) + b"\r\nget big\r\n")
    return seq


def random_sequence(seed, count):
    """Seeded random datagrams of 1-4 commands (sometimes 15-44) over a few keys (no data block
    ever cut short)."""
    rnd = random.Random(seed)
    keys = [b"r%d" % i for i in range(8)] + [b"n", K251[:250]]

    def key():
        return K251 if rnd.random() < 0.03 else rnd.choice(keys)

    # Counters stay below 2^63 (see fixed_sequence): numbers below 10^12, and incr never adds 2^64 - 1
    # (that takes 0 to 2^64 - 1); decr may.
    def number(incr):
        return rnd.choice([b"0", b"1", b"7", b"42", b"-1", b"x", b"99999999999999999999", b"%d" % rnd.randrange(1 << 32),
                           b"+3", b"-0", b"3" if incr else b"18446744073709551615"])

    def value():
        kind = rnd.random()
        if kind < 0.4:
            return b"%d" % rnd.randrange(10 ** rnd.randrange(1, 13))
        if kind < 0.9:
            v = bytes(rnd.randrange(256) for _ in range(rnd.randrange(40)))
            # Not whitespace alone: incr/decr would have memcached read on past the value
            # (README.md), into whatever its memory holds there.
            return b"w" + v if v and not v.strip(b" \t\n\v\f\r") else v
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(1000, 3000)))

    def command():
        r = rnd.random()
        noreply = b" noreply" if rnd.random() < 0.15 else b""
        if r < 0.3:
            return rnd.choice([b"get", b"gets"]) + b"".join(b" " + key() for _ in range(rnd.randrange(1, 6))) + b"\r\n"
        if r < 0.6:
            v = value()
            n = len(v)
            length = b"%d" % n
            tail = b"\r\n"
            if rnd.random() < 0.05:  # a wrong length, the data block still inside the datagram
                length, tail = b"%d" % max(0, n - 2), b"\r\n"
            flags = b"%d" % rnd.choice([0, 1, 4294967295, rnd.randrange(1 << 32)])
            exptime = rnd.choice([b"0", b"0", b"-1", b"1000"])
            cmd = rnd.choice([b"set", b"set", b"add", b"replace"])
            return b"%s %s %s %s %s%s\r\n%s%s" % (cmd, key(), flags, exptime, length, noreply, v, tail)
        if r < 0.75:
            incr = rnd.random() < 0.5
            return (b"incr " if incr else b"decr ") + key() + b" " + number(incr) + noreply + b"\r\n"
        if r < 0.88:
            extra = rnd.choice([b"", b"", b" 0", b" 5", b" 0 noreply"])
            return b"delete " + key() + extra + noreply + b"\r\n"
        return rnd.choice([b"bogus\r\n", b"\r\n", b"get\r\n", b"set x\r\n", b"incr\r\n", b"flush\r\n"])

    def commands():  # now and then past memcached's 20 requests per event
        return rnd.randrange(1, 5) if rnd.random() < 0.9 else rnd.randrange(15, 45)

    return [b"".join(command() for _ in range(commands())) for _ in range(count)]


@unittest.skipUnless(have_memcached(), f"{MEMCACHED} is not installed (Debian package memcached)")
class AgainstMemcached(unittest.TestCase):
    def compare(self, payloads, engine_flags=(), memcached_flags=()):
        engine = Engine(*engine_flags)
        real = Memcached(*memcached_flags)
        ours, theirs = Client(engine.port), Client(real.port)
        # cas uniques, numbered in the order each server first shows them
        cas_ids = ({}, {})
        different_cas = 0
        try:
            for i, payload in enumerate(payloads):
                rid = 2 * (i % 30000) + 2
                _, got = ours.request(payload, request_id=rid)
                _, want = theirs.request(payload, request_id=rid)
                if got == want:
                    for m in messages(self, rid, want):  # learn the cas uniques on both sides
                        self.normalise(m, cas_ids[0], payload)
                        self.normalise(m, cas_ids[1], payload)
                    continue
                # Equal but for the cas uniques? Same frame headers and the same messages once each
                # cas is replaced by its rank.
                self.assertEqual([d[:8] for d in got], [d[:8] for d in want], f"request {i}: {payload[:200]!r}")
                norm_got = [self.normalise(m, cas_ids[0], payload) for m in messages(self, rid, got)]
                norm_want = [self.normalise(m, cas_ids[1], payload) for m in messages(self, rid, want)]
                self.assertEqual(norm_got, norm_want, f"request {i}: {payload[:200]!r}")
                different_cas += 1
        finally:
            ours.close()
            theirs.close()
            real.stop()
            counters = engine.stop()
        return counters, different_cas

    @staticmethod
    def normalise(message, ids, payload):
        m = VALUE_LINE.match(message)
        if not m or m.group(4) is None:
            return message
        n = ids.setdefault(int(m.group(4)), len(ids))
        return message[:m.start(4)] + b"<cas %d>" % n + message[m.end(4):]

    def test_fixed_sequence(self):
        counters, different_cas = self.compare(fixed_sequence())
        self.assertEqual(counters["tx_failed"], 0)
        self.assertEqual(different_cas, 0, "cas uniques are handed out as memcached does")

    def test_random_sequence(self):
        seed = int(os.environ.get("EDGEOS_MEMCACHED_SEED", "20240616"))
        counters, _ = self.compare(random_sequence(seed, 600))
        self.assertGreater(counters["get_hits"], 50, counters)
        self.assertGreater(counters["stored"], 100, counters)

    def test_too_large(self):
        # memcached with a 2 KiB item limit against the engine with the same: the error, the data
        # block skipped, a set's old value gone (add's and replace's kept), noreply silent.
        big = b"x" * 5000
        payloads = [b"set a 0 0 3\r\nabc\r\n", b"set a 0 0 5000\r\n" + big + b"\r\nget a\r\n", b"get a\r\n",
                    b"set b 0 0 1\r\nx\r\nset b 0 0 5000 noreply\r\n" + big + b"\r\nget b\r\n",
                    b"set c 0 0 1\r\nx\r\nadd c 0 0 5000\r\n" + big + b"\r\nget c\r\n",
                    b"replace c 0 0 5000\r\n" + big + b"\r\nget c\r\n",
                    b"set d 0 0 1500\r\n" + big[:1500] + b"\r\nget d\r\n",
                    b"set d 0 0 3000\r\n" + big[:3000] + b"\r\ndelete zz\r\nget d\r\n"]
        counters, _ = self.compare(payloads, ("--item-max", "2048"), ("-I", "2k", "-o", "slab_chunk_max=1024"))
        self.assertEqual(counters["too_large"], 5)


# --- MemoryBudget ----------------------------------------------------------------------------------

class MemoryBudget(unittest.TestCase):
    def test_lru_eviction(self):
        engine = Engine("--memory", "32768")
        c = Client(engine.port)
        try:
            value = b"v" * 1000

            def present(keys):
                out = set()
                for k in keys:
                    _, d = c.request(b"get " + k + b"\r\n")
                    stream = b"".join(x[8:] for x in d)
                    if stream != b"END\r\n":
                        self.assertTrue(stream.startswith(b"VALUE " + k + b" 0 1000\r\n"), stream[:40])
                        out.add(k)
                return out

            keys = [b"lru%02d" % i for i in range(40)]
            for k in keys:
                _, d = c.request(b"set " + k + b" 0 0 1000\r\n" + value + b"\r\n")
                self.assertEqual([x[8:] for x in d], [b"STORED\r\n"])
            # The survivors are the most recently stored ones, some of the first evicted.
            alive = present(keys)
            self.assertGreater(len(alive), 5)
            self.assertLess(len(alive), 40)
            self.assertEqual(alive, set(keys[40 - len(alive):]), "evicted in insertion order")
            # present() read every survivor, oldest first, so their order is unchanged; read the
            # oldest again: it is now the most recently used, and the next oldest goes first.
            oldest, next_oldest = keys[40 - len(alive)], keys[41 - len(alive)]
            c.request(b"get " + oldest + b"\r\n")
            _, d = c.request(b"set more 0 0 1000\r\n" + value + b"\r\n")
            self.assertEqual([x[8:] for x in d], [b"STORED\r\n"])
            now_alive = present([oldest, next_oldest, b"more"])
            self.assertEqual(now_alive, {oldest, b"more"})
            # Still serving: sets, gets, deletes.
            _, d = c.request(b"set after 0 0 2\r\nok\r\nget after\r\ndelete after\r\n")
            self.assertEqual(b"".join(x[8:] for x in d), b"STORED\r\nVALUE after 0 2\r\nok\r\nEND\r\nDELETED\r\n")
        finally:
            c.close()
            counters = engine.stop()
        self.assertEqual(counters["evictions"], 40 - len(alive) + 1)
        self.assertEqual(counters["items"], len(alive))

    def test_too_large_and_invalid_lengths(self):
        engine = Engine("--memory", "32768")
        c = Client(engine.port)
        try:
            def ask(payload):
                _, d = c.request(payload)
                return [x[8:] for x in d]

            self.assertEqual(ask(b"set keep 0 0 1\r\nk\r\n"), [b"STORED\r\n"])
            # Larger than the whole budget: memcached's out-of-memory reply; the data is skipped and
            # the next command runs; a failed set leaves no stale value behind.
            self.assertEqual(ask(b"set keep 0 0 40000\r\n" + b"x" * 40000 + b"\r\nget nothing\r\n"),
                             [b"SERVER_ERROR out of memory storing object\r\n", b"END\r\n"])
            self.assertEqual(ask(b"get keep\r\n"), [b"END\r\n"])
            self.assertEqual(ask(b"set keep 0 0 1\r\nk\r\n"), [b"STORED\r\n"])
            self.assertEqual(ask(b"add keep 0 0 40000\r\n" + b"x" * 40000 + b"\r\nget keep\r\n"),
                             [b"SERVER_ERROR out of memory storing object\r\n", b"VALUE keep 0 1\r\nk\r\nEND\r\n"])
            # Invalid lengths, as memcached answers them (its data line is then read as a command).
            self.assertEqual(ask(b"set x 0 0 -1\r\nx\r\n"), [b"CLIENT_ERROR bad command line format\r\n", b"ERROR\r\n"])
            self.assertEqual(ask(b"set x 0 0 2147483647\r\nx\r\n"), [b"CLIENT_ERROR bad command line format\r\n", b"ERROR\r\n"])
            self.assertEqual(ask(b"set x 0 0 99999999999999999999\r\nx\r\n"),
                             [b"CLIENT_ERROR bad command line format\r\n", b"ERROR\r\n"])
            # A length longer than the datagram: dropped, counted, nothing stored.
            self.assertEqual(ask(b"set x 0 0 100000\r\nxyz\r\n"), [])
            self.assertEqual(ask(b"get x keep\r\n"), [b"", b"VALUE keep 0 1\r\nk\r\nEND\r\n"])
            # Thousands of random datagrams, then still serving.
            rnd = random.Random(77)
            pieces = [b"get ", b"set ", b"incr ", b"delete ", b"k ", b"0 ", b"1 ", b"-1 ", b"\r\n", b"noreply", b"x" * 300]
            for i in range(3000):
                if i % 2:
                    body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(60)))
                else:
                    body = b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(12)))
                header = struct.pack(">HHHH", i & 0xFFFF, rnd.choice([0, 0, 1]), rnd.choice([1, 1, 1, 0, 2]), 0)
                c.sock.send((header + body)[:rnd.choice([3, 8, 400, 2000])])
            time.sleep(0.2)
            c.sock.settimeout(0.2)
            try:
                while True:
                    c.sock.recv(65536)
            except socket.timeout:
                pass
            self.assertEqual(ask(b"set alive 0 0 3\r\nyes\r\nget alive\r\n"), [b"STORED\r\n", b"VALUE alive 0 3\r\nyes\r\nEND\r\n"])
        finally:
            c.close()
            counters = engine.stop()
        self.assertEqual(counters["out_of_memory"], 2)
        self.assertGreaterEqual(counters["dropped_incomplete"], 1)
        self.assertGreater(counters["dropped_multi"], 100)
        self.assertGreater(counters["dropped_short"], 100)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ENGINE = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    if not have_memcached() and args and all(a in ("-k", "AgainstMemcached") for a in args):
        print(f"SKIP: {MEMCACHED} is not installed (Debian package memcached)")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], *args], verbosity=2)
