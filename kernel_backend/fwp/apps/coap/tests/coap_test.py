#!/usr/bin/python3
"""The CoAP sensor tenant (edgeos-coap-udp) against clients that share no code with it.

usage: coap_test.py EDGEOS_COAP_UDP [unittest arguments, e.g. -k RawClient]

- RealClient: Debian's coap-client (libcoap3-bin) does GET, PUT, NON, tokens, discovery.
- RawClient: CoAP packed by hand with struct (RFC 7252 section 3) for what a well-behaved client
  never sends: retransmissions, format errors, unknown options, extended option deltas.
- Libcoap: the same raw requests sent to Debian's coap-server, where RFC 7252 leaves one answer;
  and its /.well-known/core next to ours (RFC 6690).

Everything runs on loopback and is bounded: servers serve a bounded time, every receive has a
timeout, every client run has -B and a subprocess timeout. Exits 77 (skipped) when every selected
test was skipped (the tool it needs is not installed).
"""
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

SERVER_BINARY = None


def first_tool(*names):
    for name in names:
        path = shutil.which(name, path="/usr/bin")
        if path:
            return path
    return None


COAP_CLIENT = first_tool("coap-client-notls", "coap-client-gnutls", "coap-client-openssl", "coap-client")
COAP_SERVER = first_tool("coap-server-notls", "coap-server-gnutls", "coap-server-openssl", "coap-server")

# --- CoAP by hand (RFC 7252 section 3) ------------------------------------------------------------

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
URI_PATH, CONTENT_FORMAT, URI_QUERY, ACCEPT, SIZE1 = 11, 12, 15, 17, 60


def code(c, dd):
    return c << 5 | dd


def option_field(value):
    """The 4-bit field and extension bytes of an option delta or length (section 3.1)."""
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes([value - 13])
    return 14, struct.pack("!H", value - 269)


def encode(mtype, mcode, mid, token=b"", options=(), payload=b"", raw_payload_marker=False):
    out = struct.pack("!BBH", 0x40 | mtype << 4 | len(token), mcode, mid) + token
    last = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        if isinstance(value, str):
            value = value.encode()
        d, dext = option_field(number - last)
        l, lext = option_field(len(value))
        out += bytes([d << 4 | l]) + dext + lext + value
        last = number
    if payload or raw_payload_marker:
        out += b"\xff" + payload
    return out


def path_options(path):
    return [(URI_PATH, seg) for seg in path.strip("/").split("/") if seg]


class Decoded:
    def __init__(self, data):
        if len(data) < 4:
            raise ValueError("short")
        b0, self.code, self.mid = struct.unpack("!BBH", data[:4])
        self.version, self.type, tkl = b0 >> 6, (b0 >> 4) & 3, b0 & 15
        if self.version != 1 or tkl > 8 or len(data) < 4 + tkl:
            raise ValueError("bad header")
        self.token = data[4:4 + tkl]
        self.options, self.payload = [], b""
        i, number = 4 + tkl, 0
        while i < len(data):
            if data[i] == 0xFF:
                if i + 1 == len(data):
                    raise ValueError("empty payload after marker")
                self.payload = data[i + 1:]
                break
            d, l = data[i] >> 4, data[i] & 15
            i += 1
            vals = []
            for f in (d, l):
                if f == 13:
                    vals.append(data[i] + 13)
                    i += 1
                elif f == 14:
                    vals.append(struct.unpack("!H", data[i:i + 2])[0] + 269)
                    i += 2
                elif f == 15:
                    raise ValueError("nibble 15")
                else:
                    vals.append(f)
            number += vals[0]
            if i + vals[1] > len(data):
                raise ValueError("option past end")
            self.options.append((number, data[i:i + vals[1]]))
            i += vals[1]

    def option(self, number):
        for n, v in self.options:
            if n == number:
                return v
        return None

    def uint(self, number):
        v = self.option(number)
        return None if v is None else int.from_bytes(v, "big")

    @property
    def code_str(self):
        return "%d.%02d" % (self.code >> 5, self.code & 31)


class Endpoint:
    """A UDP socket of its own (a distinct peer for the server's dedup) with bounded receives."""

    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendto(data, self.addr)

    def recv(self, timeout=2.0):
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        return self.sock.recv(65536)

    def exchange(self, data, timeout=2.0):
        self.send(data)
        return self.recv(timeout)

    def silent(self, data, wait=0.3):
        self.send(data)
        return self.recv(wait) is None


# --- the servers ----------------------------------------------------------------------------------

class EdgeosServer:
    def __init__(self, seconds=120):
        self.proc = subprocess.Popen([SERVER_BINARY, "--seconds", str(seconds), "--max-requests", "100000"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        m = re.match(r"port (\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("edgeos-coap-udp did not report its port: %r" % line)
        self.port = int(m.group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LibcoapServer:
    """Debian's coap-server on loopback, for as long as the test class runs (and at most 120 s)."""

    def __init__(self):
        self.port = free_udp_port()
        self.proc = subprocess.Popen(["timeout", "120", COAP_SERVER, "-A", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ep = Endpoint(self.port)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if ep.exchange(encode(CON, 0, 1), 0.2) is not None:  # a ping's Reset
                    return
            self.stop()
            raise RuntimeError("coap-server did not answer a ping")
        finally:
            ep.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EdgeosServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.ep = Endpoint(self.server.port)
        self.addCleanup(self.ep.close)
        self.mid = int.from_bytes(os.urandom(2), "big")

    def next_mid(self):
        self.mid = (self.mid + 1) & 0xFFFF
        return self.mid

    def request(self, mcode, path, mtype=CON, token=b"", options=(), payload=b""):
        reply = self.ep.exchange(encode(mtype, mcode, self.next_mid(), token, path_options(path) + list(options),
                                        payload))
        self.assertIsNotNone(reply, "no reply to %s %s" % (mcode, path))
        return Decoded(reply)


# --- link format (RFC 6690 section 2), parsed strictly for the comparison --------------------------

LINK_PARAM = re.compile(r';([a-zA-Z0-9!#$&+\-.^_`|~*]+)(?:=("(?:[^"\\]|\\.)*"|[^;,"]*))?')


def parse_link_format(text):
    """[(href, [(name, value, quoted)])], or ValueError if it is not link-format."""
    links, i = [], 0
    while i < len(text):
        m = re.compile(r"<([^>]*)>").match(text, i)
        if not m:
            raise ValueError("expected <URI-Reference> at %d: %r" % (i, text[i:]))
        href, params, i = m.group(1), [], m.end()
        while i < len(text) and text[i] == ";":
            p = LINK_PARAM.match(text, i)
            if not p:
                raise ValueError("bad link-param at %d: %r" % (i, text[i:]))
            value = p.group(2)
            quoted = value is not None and value.startswith('"')
            params.append((p.group(1), value[1:-1] if quoted else value, quoted))
            i = p.end()
        links.append((href, params))
        if i < len(text):
            if text[i] != ",":
                raise ValueError("expected ',' at %d: %r" % (i, text[i:]))
            i += 1
    return links


# --- 1. the real client ---------------------------------------------------------------------------

@unittest.skipIf(COAP_CLIENT is None, "coap-client (libcoap3-bin) is not installed")
class RealClient(ServerTest):
    def client(self, *args, verbose=False):
        cmd = [COAP_CLIENT, "-B", "3"] + (["-v", "7"] if verbose else []) + list(args)
        p = subprocess.run(cmd, capture_output=True, timeout=20)
        out = p.stdout.decode(errors="replace")
        # coap-client ends the data it prints with a newline when stdout is not a terminal.
        if not verbose and out.endswith("\n"):
            out = out[:-1]
        return p.returncode, out, p.stderr.decode(errors="replace")

    def uri(self, path):
        return "coap://127.0.0.1:%d%s" % (self.server.port, path)

    def test_get_each_resource(self):
        self.assertEqual(self.client(self.uri("/temp"))[:2], (0, "22.50"))
        self.assertEqual(self.client(self.uri("/humidity"))[:2], (0, "41.00"))
        rc, out, _ = self.client(self.uri("/config"))
        self.assertEqual(rc, 0)

    def test_well_known_core(self):
        rc, out, err = self.client(self.uri("/.well-known/core"))
        self.assertEqual(rc, 0, err)
        links = dict(parse_link_format(out))
        self.assertEqual(set(links), {"/temp", "/humidity", "/config"})
        self.assertIn(("rt", "temperature-c", True), links["/temp"])
        self.assertIn(("ct", "0", False), links["/humidity"])
        # RFC 6690 section 4.1 filtering.
        rc, out, _ = self.client(self.uri("/.well-known/core?rt=temp*"))
        self.assertEqual([h for h, _ in parse_link_format(out)], ["/temp"])

    def test_put_then_get(self):
        rc, out, err = self.client("-m", "put", "-e", "interval=5;unit=s", self.uri("/config"))
        self.assertEqual((rc, out), (0, ""), err)
        self.assertEqual(self.client(self.uri("/config"))[:2], (0, "interval=5;unit=s"))
        # Too large (64 bytes at most): 4.13, and the old value stays.
        _, _, err = self.client("-m", "put", "-e", "x" * 65, self.uri("/config"))
        self.assertIn("4.13", err)
        self.assertEqual(self.client(self.uri("/config"))[1], "interval=5;unit=s")

    def test_errors(self):
        self.assertIn("4.04", self.client(self.uri("/nothing"))[2])
        self.assertIn("4.05", self.client("-m", "delete", self.uri("/config"))[2])
        self.assertIn("4.05", self.client("-m", "put", "-e", "1", self.uri("/temp"))[2])
        self.assertIn("4.02 bad option 19", self.client("-O", "19,x", self.uri("/temp"))[2])

    def exchange_log(self, *args):
        """A verbose coap-client run: its exit code, the payload of the response it logged, and the
        messages it logged [(type, code, mid, token)]. (It logs to stdout, around the data.)"""
        rc, out, err = self.client(*args, verbose=True)
        log = out + err
        lines = re.findall(r"v:1 t:(CON|NON|ACK|RST) c:([0-9A-Z.]+) i:([0-9a-f]{4}) \{([0-9a-f]*)\}", log)
        payloads = re.findall(r"v:1 t:(?:ACK|NON) c:2\.05 .* :: '([^']*)'", log)
        return rc, (payloads[0] if payloads else None), list(dict.fromkeys(lines))  # some PDUs are logged twice

    def test_con_token_and_piggybacked_ack(self):
        rc, out, log = self.exchange_log("-T", "cafe", self.uri("/temp"))
        self.assertEqual((rc, out), (0, "22.50"))
        requests = [l for l in log if l[1] == "GET"]
        responses = [l for l in log if l[1] == "2.05"]
        self.assertEqual(len(requests), 1, log)
        self.assertEqual(len(responses), 1, log)
        self.assertEqual(requests[0][0], "CON")
        self.assertEqual(responses[0][0], "ACK")
        self.assertEqual(responses[0][2], requests[0][2])  # Message ID
        self.assertEqual(responses[0][3], requests[0][3])  # token
        self.assertTrue(requests[0][3].startswith("6361"), log)  # libcoap derives it from -T "cafe"

    def test_non_requests(self):
        rc, out, log = self.exchange_log("-N", "-T", "beef", self.uri("/humidity"))
        self.assertEqual((rc, out), (0, "41.00"))
        requests = [l for l in log if l[1] == "GET"]
        responses = [l for l in log if l[1] == "2.05"]
        self.assertEqual([r[0] for r in requests + responses], ["NON", "NON"], log)
        self.assertEqual(responses[0][3], requests[0][3])
        # NON PUT, then a NON GET sees it.
        self.assertEqual(self.client("-N", "-m", "put", "-e", "non-put", self.uri("/config"))[0], 0)
        self.assertEqual(self.client("-N", self.uri("/config"))[1], "non-put")


# --- 2. the raw client ----------------------------------------------------------------------------

class RawClient(ServerTest):
    def test_piggybacked_ack(self):
        mid = self.next_mid()
        r = Decoded(self.ep.exchange(encode(CON, GET, mid, b"\x11\x22\x33", path_options("/temp"))))
        self.assertEqual((r.type, r.mid, r.token, r.code_str), (ACK, mid, b"\x11\x22\x33", "2.05"))
        self.assertEqual(r.option(CONTENT_FORMAT), b"")  # text/plain: 0, as an empty uint
        self.assertEqual(r.payload, b"22.50")
        # Token lengths 0 and 8.
        for token in (b"", b"12345678"):
            r = self.request(GET, "/humidity", token=token)
            self.assertEqual((r.type, r.token, r.payload), (ACK, token, b"41.00"))

    def test_non_gets_non_with_new_message_ids(self):
        a = self.request(GET, "/temp", mtype=NON, token=b"\x01")
        b = self.request(GET, "/temp", mtype=NON, token=b"\x02")
        self.assertEqual((a.type, a.token, a.payload), (NON, b"\x01", b"22.50"))
        self.assertEqual((b.type, b.token), (NON, b"\x02"))
        self.assertNotEqual(a.mid, b.mid)

    def test_duplicate_con_gets_identical_ack_and_put_applies_once(self):
        first = encode(CON, PUT, self.next_mid(), b"dup", path_options("/config"), b"first")
        ack1 = self.ep.exchange(first)
        self.assertEqual(Decoded(ack1).code_str, "2.04")
        second = self.request(PUT, "/config", payload=b"second")
        self.assertEqual(second.code_str, "2.04")
        for _ in range(3):  # retransmissions of the first PUT
            self.assertEqual(self.ep.exchange(first), ack1)
        self.assertEqual(self.request(GET, "/config").payload, b"second")
        # A duplicate GET gets byte-identical ACKs too.
        get = encode(CON, GET, self.next_mid(), b"g", path_options("/temp"))
        self.assertEqual(self.ep.exchange(get), self.ep.exchange(get))

    def test_duplicate_non_is_ignored(self):
        req = encode(NON, GET, self.next_mid(), b"n", path_options("/temp"))
        self.assertIsNotNone(self.ep.exchange(req))
        self.assertTrue(self.ep.silent(req))

    def test_rst_on_format_error_in_con(self):
        bad = {
            "token length 9": lambda mid: struct.pack("!BBH", 0x49, GET, mid) + b"123456789",
            "token past the end": lambda mid: struct.pack("!BBH", 0x44, GET, mid) + b"12",
            "delta nibble 15": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xf1x",
            "length nibble 15": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xbftemp",
            "option past the end": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xb8temp",
            "extended delta cut": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xe0\x01",
            "payload marker, empty payload": lambda mid: encode(CON, GET, mid, b"t", path_options("/temp"),
                                                                raw_payload_marker=True),
            "empty message with a token": lambda mid: struct.pack("!BBH", 0x41, 0, mid) + b"x",
        }
        for name, make in bad.items():
            with self.subTest(name):
                mid = self.next_mid()
                reply = self.ep.exchange(make(mid))
                self.assertEqual(reply, struct.pack("!BBH", 0x70, 0, mid))

    def test_silence_on_format_error_in_non(self):
        for data in (struct.pack("!BBH", 0x59, GET, 7) + b"123456789",
                     struct.pack("!BBH", 0x50, GET, 8) + b"\xf1x",
                     encode(NON, GET, 9, b"", path_options("/temp"), raw_payload_marker=True),
                     encode(ACK, 0x45, 10, b"", (), raw_payload_marker=True)):
            self.assertTrue(self.ep.silent(data), data.hex())
        # Other messages that are ignored: bad version, runts, ACK, RST, Empty NON.
        for data in (b"\x80\x01\x00\x01", b"\x40\x01", b"", encode(ACK, 0, 11), encode(RST, 0, 12),
                     encode(NON, 0, 13)):
            self.assertTrue(self.ep.silent(data), data.hex())
        self.assertEqual(self.request(GET, "/temp").payload, b"22.50")  # still serving

    def test_ping_gets_rst(self):
        mid = self.next_mid()
        self.assertEqual(self.ep.exchange(encode(CON, 0, mid)), struct.pack("!BBH", 0x70, 0, mid))

    def test_unknown_critical_option_is_bad_option(self):
        r = self.request(GET, "/temp", token=b"c", options=[(19, b"x")])
        self.assertEqual((r.type, r.token, r.code_str, r.payload), (ACK, b"c", "4.02", b"bad option 19"))
        r = self.request(GET, "/temp", options=[(2001, b"x")])  # critical, two-byte extended delta
        self.assertEqual(r.code_str, "4.02")
        r = self.request(GET, "/temp", options=[(ACCEPT, b""), (ACCEPT, b"")])  # repeated, not repeatable
        self.assertEqual(r.code_str, "4.02")
        self.assertTrue(self.ep.silent(encode(NON, GET, self.next_mid(), b"", path_options("/temp") + [(19, b"x")])))

    def test_extended_option_deltas(self):
        # Elective options are ignored whatever their encoding: 2000 (delta 1989: nibble 14), 24
        # (delta 13 exactly: nibble 13 with extension 0), 300 after 24 (delta 276: nibble 14).
        for extra in ([(2000, b"e")], [(24, b"")], [(24, b"a" * 13), (300, b"b" * 300)]):
            with self.subTest(extra=[n for n, _ in extra]):
                r = self.request(GET, "/temp", options=extra)
                self.assertEqual((r.code_str, r.payload), ("2.05", b"22.50"))
        # Values of 13 and 269 bytes (length nibbles 13 and 14) in recognised options: a 13-byte
        # query is read; a 269-byte Uri-Query is longer than the option allows (255), which makes
        # it unrecognised (section 5.4.3) and, being critical, 4.02; a 269-byte Proxy-Uri is read.
        r = self.request(GET, "/.well-known/core", options=[(URI_QUERY, "rt=humidity-*")])
        self.assertEqual(r.payload, b'</humidity>;rt="humidity-rh";if="sensor";ct=0')
        r = self.request(PUT, "/config", options=[(URI_QUERY, "q" * 269)], payload=b"v")
        self.assertEqual(r.code_str, "4.02")
        r = self.request(GET, "/temp", options=[(35, "coap://h/" + "p" * 260)])
        self.assertEqual(r.code_str, "5.05")

    def test_codes(self):
        self.assertEqual(self.request(GET, "/nothing").code_str, "4.04")
        self.assertEqual(self.request(GET, "/").code_str, "4.04")
        self.assertEqual(self.request(POST, "/temp", payload=b"1").code_str, "4.05")
        self.assertEqual(self.request(DELETE, "/config").code_str, "4.05")
        self.assertEqual(self.request(GET, "/temp", options=[(ACCEPT, b"\x28")]).code_str, "4.06")
        r = self.request(PUT, "/config", payload=b"x" * 65)
        self.assertEqual((r.code_str, r.uint(SIZE1)), ("4.13", 64))
        self.assertEqual(self.request(PUT, "/config", options=[(CONTENT_FORMAT, b"\x32")], payload=b"{}").code_str,
                         "4.15")
        self.assertEqual(self.request(GET, "/temp", options=[(35, "coap://a/b")]).code_str, "5.05")
        r = self.request(GET, "/.well-known/core")
        self.assertEqual((r.code_str, r.uint(CONTENT_FORMAT)), ("2.05", 40))

    def test_random_garbage_then_still_serving(self):
        rnd = random.Random(7)
        for _ in range(20):
            for _ in range(25):
                data = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 40)))
                if data and rnd.random() < 0.7:
                    data = bytes([0x40 | (data[0] & 0x37)]) + data[1:]  # version 1, TKL <= 7
                self.ep.send(data)
            reply = self.ep.recv(0.2)
            while reply is not None:  # whatever comes back must be well-formed
                Decoded(reply)
                reply = self.ep.recv(0.05)
        self.assertEqual(self.request(GET, "/temp").payload, b"22.50")


# --- 3. next to Debian's coap-server --------------------------------------------------------------

@unittest.skipIf(COAP_SERVER is None, "coap-server (libcoap3-bin) is not installed")
class Libcoap(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.libcoap = LibcoapServer()
        except Exception:
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.libcoap.stop()
        super().tearDownClass()

    def ask(self, port, make):
        """Sends make(mid) to the server on `port` from a fresh endpoint: (mid, reply or None)."""
        ep = Endpoint(port)
        try:
            mid = self.next_mid()
            return mid, ep.exchange(make(mid), 1.0)
        finally:
            ep.close()

    def both(self, make):
        return self.ask(self.server.port, make), self.ask(self.libcoap.port, make)

    def test_well_known_core_format(self):
        (_, ours), (_, theirs) = self.both(lambda mid: encode(CON, GET, mid, b"w", path_options("/.well-known/core")))
        ours, theirs = Decoded(ours), Decoded(theirs)
        self.assertEqual((ours.code_str, theirs.code_str), ("2.05", "2.05"))
        self.assertEqual((ours.uint(CONTENT_FORMAT), theirs.uint(CONTENT_FORMAT)), (40, 40))
        our_links = dict(parse_link_format(ours.payload.decode()))
        their_links = dict(parse_link_format(theirs.payload.decode()))
        # libcoap's /time (if="clock";rt="ticks";ct=0) and our /temp are the same kind of
        # resource: the shared parameters are written the same way (rt and if quoted, ct bare).
        def style(params):
            return {n: q for n, _, q in params}
        time_style, temp_style = style(their_links["/time"]), style(our_links["/temp"])
        for name in ("rt", "if", "ct"):
            self.assertEqual(temp_style[name], time_style[name], name)

    def test_same_answers_where_the_rfc_has_one(self):
        cases = {
            # Section 4.2: format errors in a CON -> RST.
            "token length 9": lambda mid: struct.pack("!BBH", 0x49, GET, mid) + b"123456789",
            "delta nibble 15": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xf1x",
            "length nibble 15": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xbftemp",
            "option past the end": lambda mid: struct.pack("!BBH", 0x40, GET, mid) + b"\xb8temp",
            "payload marker, empty payload": lambda mid: encode(CON, GET, mid, b"", path_options("/x"),
                                                                raw_payload_marker=True),
            # Section 4.3: ping -> RST. Section 12.1: reserved class 1 -> RST.
            "ping": lambda mid: encode(CON, 0, mid),
            "class 1": lambda mid: encode(CON, code(1, 1), mid),
        }
        for name, make in cases.items():
            with self.subTest(name):
                (mid1, ours), (mid2, theirs) = self.both(make)
                self.assertEqual(ours, struct.pack("!BBH", 0x70, 0, mid1))
                self.assertEqual(theirs, struct.pack("!BBH", 0x70, 0, mid2))
        # Requests, each to a resource of the same kind on each server: our /temp, libcoap's /time.
        requests = {
            "unknown path": (lambda path: [(URI_PATH, "no"), (URI_PATH, "such")], "4.04"),
            "critical option 19": (lambda path: path_options(path) + [(19, b"x")], "4.02"),
            "elective option 2000": (lambda path: path_options(path) + [(2000, b"e")], "2.05"),
            "no link matches": (lambda path: path_options("/.well-known/core") +
                                [(URI_QUERY, "rt=nothing-like-this")], "2.05"),
        }
        for name, (options, expected) in requests.items():
            with self.subTest(name):
                for port, path in ((self.server.port, "/temp"), (self.libcoap.port, "/time")):
                    mid, reply = self.ask(port, lambda mid: encode(CON, GET, mid, b"t", options(path)))
                    self.assertIsNotNone(reply, port)
                    r = Decoded(reply)
                    self.assertEqual((r.code_str, r.type, r.mid, r.token), (expected, ACK, mid, b"t"), port)
                    if name == "no link matches":
                        self.assertEqual(r.payload, b"")


def main():
    global SERVER_BINARY
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print(__doc__, file=sys.stderr)
        return 2
    SERVER_BINARY = sys.argv[1]
    prog = unittest.main(argv=[sys.argv[0]] + sys.argv[2:], exit=False, verbosity=2)
    result = prog.result
    if result.testsRun == 0:
        print("no test selected", file=sys.stderr)
        return 1
    if len(result.skipped) == result.testsRun:
        return 77
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
