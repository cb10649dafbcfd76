#!/usr/bin/python3
"""The packet stack against frames built by scapy (Debian's python3-scapy).

Usage: scapy_test.py EDGEOS_NET_PARSE

Builds frames with scapy (ARP, ICMP echo, UDP with and without checksums, bad checksums,
fragments, IP options, runts, truncated headers, unknown ethertypes, oversized frames), writes them
to a pcap, runs edgeos-net-parse over it, and checks every verdict and drop cause, the counters,
and every reply the stack wrote: scapy dissects each reply and recomputes its checksums (IPv4
header, ICMP, UDP over the pseudo-header), which must equal the stack's. Exits 77 (ctest: skipped)
where scapy is missing.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import logging

    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import (ARP, ICMP, IP, IPv6, LLC, UDP, TCP, Dot1Q, Dot3, Ether, IPOption_LSRR,
                           IPOption_Router_Alert, IPOption_RR, IPOption_SSRR, Raw, RawPcapWriter,
                           fragment, raw)
except ImportError:
    print("scapy is missing (Debian: python3-scapy); skipped")
    sys.exit(77)

OUR_MAC = "02:00:00:00:00:01"
OUR_IP = "10.0.2.15"
PEER_MAC = "52:54:00:12:34:56"
PEER_IP = "10.0.2.2"
OTHER_MAC = "52:54:00:ab:cd:ef"
BROADCAST = "ff:ff:ff:ff:ff:ff"


def eth(dst=OUR_MAC, src=PEER_MAC):
    return Ether(dst=dst, src=src)


def ip(**kw):
    fields = {"src": PEER_IP, "dst": OUR_IP, "id": 0x1c46}
    fields.update(kw)
    return IP(**fields)


def cut(pkt, n):
    return raw(pkt)[:n]


def ip_payload(frame):
    """The bytes of the IP payload (no Ethernet padding), from the header's own lengths."""
    b = raw(frame)
    ihl = (b[14] & 0x0f) * 4
    total = int.from_bytes(b[16:18], "big")
    return b[14 + ihl:14 + total]


def recomputed(pkt, layer):
    """scapy's own checksum for layer of pkt: the field deleted, the packet rebuilt."""
    copy = pkt.copy()
    del copy[layer].chksum
    return Ether(raw(copy))[layer].chksum


class Case:
    def __init__(self, name, frame, verdict, cause="none", check=None):
        self.name = name
        self.frame = raw(frame) if not isinstance(frame, bytes) else frame
        self.verdict = verdict
        self.cause = cause
        self.check = check


class Failures(list):
    def expect(self, ok, what):
        if not ok:
            self.append(what)


# --- checks of the replies --------------------------------------------------------------------------

def check_arp_reply(case, out, fail):
    r = Ether(bytes.fromhex(out["reply"]))
    req = Ether(case.frame)
    fail.expect(len(bytes.fromhex(out["reply"])) >= 60, "reply shorter than 60 bytes")
    fail.expect(r.dst == req[ARP].hwsrc and r.src == OUR_MAC and r.type == 0x0806, f"Ethernet header {r.summary()}")
    a = r[ARP]
    fail.expect(a.hwtype == 1 and a.ptype == 0x0800 and a.hwlen == 6 and a.plen == 4, "ARP header fields")
    fail.expect(a.op == 2, f"op {a.op}")
    fail.expect(a.hwsrc == OUR_MAC and a.psrc == OUR_IP, f"sender {a.hwsrc} {a.psrc}")
    fail.expect(a.hwdst == req[ARP].hwsrc and a.pdst == req[ARP].psrc, f"target {a.hwdst} {a.pdst}")


def check_echo_reply(case, out, fail):
    reply = bytes.fromhex(out["reply"])
    r = Ether(reply)
    req = Ether(case.frame)
    fail.expect(r.dst == req.src and r.src == OUR_MAC and r.type == 0x0800, f"Ethernet header {r.summary()}")
    fail.expect(IP in r and ICMP in r, "not IP/ICMP")
    if IP not in r or ICMP not in r:
        return
    fail.expect(r[IP].version == 4 and r[IP].ihl == 5, "reply carries IP options")
    fail.expect(r[IP].src == OUR_IP and r[IP].dst == req[IP].src, f"addresses {r[IP].src} -> {r[IP].dst}")
    fail.expect(r[IP].proto == 1 and r[IP].ttl > 0 and r[IP].frag == 0 and "MF" not in r[IP].flags, "IP fields")
    fail.expect(r[IP].chksum == recomputed(r, IP), f"IP checksum {r[IP].chksum:#x} != {recomputed(r, IP):#x}")
    fail.expect(r[ICMP].type == 0 and r[ICMP].code == 0, f"ICMP type {r[ICMP].type} code {r[ICMP].code}")
    fail.expect(r[ICMP].chksum == recomputed(r, ICMP), f"ICMP checksum {r[ICMP].chksum:#x} != {recomputed(r, ICMP):#x}")
    fail.expect(r[ICMP].id == req[ICMP].id and r[ICMP].seq == req[ICMP].seq, "id/seq")
    fail.expect(ip_payload(r)[8:] == ip_payload(req)[8:], "echo data differs")
    fail.expect(r[IP].len == 20 + len(ip_payload(req)), f"IP total length {r[IP].len}")


def check_delivery(case, out, fail, sport, dport, data):
    fail.expect(out.get("dst_port") == dport and out.get("src_port") == sport, f"ports {out}")
    fail.expect(out.get("src_ip") == PEER_IP, f"source {out.get('src_ip')}")
    fail.expect(bytes.fromhex(out.get("payload", "")) == data, "payload differs")
    # The echo tenant's answer, built by Stack::build_udp_reply.
    r = Ether(bytes.fromhex(out["udp_reply"]))
    fail.expect(r.dst == Ether(case.frame).src and r.src == OUR_MAC, f"reply Ethernet {r.summary()}")
    fail.expect(IP in r and UDP in r, "reply not IP/UDP")
    if IP not in r or UDP not in r:
        return
    fail.expect(r[IP].src == OUR_IP and r[IP].dst == PEER_IP and r[IP].ihl == 5, "reply IP header")
    fail.expect(r[IP].chksum == recomputed(r, IP), "reply IP checksum")
    fail.expect(r[UDP].sport == dport and r[UDP].dport == sport, "reply ports")
    fail.expect(r[UDP].len == 8 + len(data), f"reply UDP length {r[UDP].len}")
    fail.expect(r[UDP].chksum != 0 and r[UDP].chksum == recomputed(r, UDP),
                f"reply UDP checksum {r[UDP].chksum:#x} != {recomputed(r, UDP):#x}")
    fail.expect(ip_payload(r)[8:] == data, "reply payload differs")


def delivered(sport, dport, data):
    return lambda case, out, fail: check_delivery(case, out, fail, sport, dport, data)


# --- the frames ------------------------------------------------------------------------------------

def cases():
    data = bytes(range(56))
    big = bytes((i * 7) & 0xff for i in range(1472))
    echo = eth() / ip() / ICMP(type=8, id=0x4242, seq=7) / data
    udp = eth() / ip() / UDP(sport=40000, dport=7) / b"hello, edge"
    rr = IPOption_RR(routers=["0.0.0.0"])
    c = [
        # ARP
        Case("arp request for us", eth(BROADCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP),
             "reply", check=check_arp_reply),
        Case("arp request unicast", eth() / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, hwdst=OUR_MAC, pdst=OUR_IP),
             "reply", check=check_arp_reply),
        Case("arp probe (sender 0.0.0.0)", eth(BROADCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc="0.0.0.0", pdst=OUR_IP),
             "reply", check=check_arp_reply),
        Case("arp request for another", eth(BROADCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst="10.0.2.99"),
             "drop", "arp_not_for_us"),
        Case("arp reply to us", eth(src=OTHER_MAC) / ARP(op=2, hwsrc=OTHER_MAC, psrc="10.0.2.3", hwdst=OUR_MAC,
                                                            pdst=OUR_IP), "consumed"),
        Case("arp gratuitous claiming our address",
             eth(BROADCAST, OTHER_MAC) / ARP(op=1, hwsrc=OTHER_MAC, psrc=OUR_IP, pdst=OUR_IP), "drop", "arp_conflict"),
        Case("arp truncated", cut(eth(BROADCAST) / ARP(pdst=OUR_IP, psrc=PEER_IP, hwsrc=PEER_MAC), 14 + 27),
             "drop", "arp_malformed"),
        Case("arp hardware type 6", eth(BROADCAST) / ARP(hwtype=6, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP),
             "drop", "arp_malformed"),
        Case("arp operation 3", eth(BROADCAST) / ARP(op=3, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP),
             "drop", "arp_malformed"),
        Case("arp ipv6 protocol", eth(BROADCAST) / ARP(ptype=0x86dd, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP),
             "drop", "arp_malformed"),
        # ICMP
        Case("echo request", echo, "reply", check=check_echo_reply),
        Case("echo request, broadcast MAC", eth(BROADCAST) / ip() / ICMP(id=1, seq=2) / b"x", "reply",
             check=check_echo_reply),
        Case("echo request, no data", eth() / ip() / ICMP(id=3, seq=4), "reply", check=check_echo_reply),
        Case("echo request, odd data", eth() / ip() / ICMP(id=5, seq=6) / b"abc", "reply", check=check_echo_reply),
        Case("echo request, full size", eth() / ip() / ICMP(id=9, seq=9) / big, "reply",
             check=check_echo_reply),
        Case("echo request with record route", eth() / ip(options=[rr]) / ICMP(id=7, seq=1) / data, "reply",
             check=check_echo_reply),
        Case("echo request, bad ICMP checksum", eth() / ip() / ICMP(id=1, seq=1, chksum=0x1234) / data,
             "drop", "bad_icmp_checksum"),
        Case("echo request, bad IP checksum", eth() / ip(chksum=0xdead) / ICMP() / data, "drop", "bad_ip_checksum"),
        Case("echo reply (never asked)", eth() / ip() / ICMP(type=0) / data, "drop", "unknown_icmp"),
        Case("timestamp request", eth() / ip() / ICMP(type=13, ts_ori=0, ts_rx=0, ts_tx=0), "drop", "unknown_icmp"),
        Case("echo request code 1", eth() / ip() / ICMP(type=8, code=1), "drop", "unknown_icmp"),
        Case("icmp shorter than 8 bytes", eth() / ip(proto=1) / b"\x08\x00\xf7\xff", "drop", "bad_icmp_length"),
        # UDP
        Case("udp with checksum", udp, "deliver", check=delivered(40000, 7, b"hello, edge")),
        Case("udp without checksum", eth() / ip() / UDP(sport=5683, dport=5683, chksum=0) / b"coap",
             "deliver", check=delivered(5683, 5683, b"coap")),
        Case("udp empty", eth() / ip() / UDP(sport=1, dport=11211), "deliver", check=delivered(1, 11211, b"")),
        Case("udp odd length", eth() / ip() / UDP(sport=2, dport=9) / b"odd", "deliver", check=delivered(2, 9, b"odd")),
        Case("udp full size", eth() / ip() / UDP(sport=3, dport=9) / big, "deliver", check=delivered(3, 9, big)),
        Case("udp in padded frame", raw(eth() / ip() / UDP(sport=4, dport=9) / b"p") + b"\0" * 17, "deliver",
             check=delivered(4, 9, b"p")),
        Case("udp bad checksum", eth() / ip() / UDP(sport=40000, dport=7, chksum=0xbeef) / b"hello", "drop",
             "bad_udp_checksum"),
        Case("udp data changed after checksum", raw(udp)[:-1] + b"E", "drop", "bad_udp_checksum"),
        Case("udp length beyond datagram", eth() / ip() / UDP(sport=1, dport=7, len=100) / b"hello", "drop",
             "bad_udp_length"),
        Case("udp length below header", eth() / ip() / UDP(sport=1, dport=7, len=7) / b"hello", "drop",
             "bad_udp_length"),
        Case("udp header cut by IP length", eth() / ip(len=24, proto=17) / b"\x00\x01\x00\x07", "drop",
             "bad_udp_length"),
        # IPv4 options
        Case("udp with record route", eth() / ip(options=[rr]) / UDP(sport=6, dport=7) / b"rr", "deliver",
             check=delivered(6, 7, b"rr")),
        Case("udp with router alert", eth() / ip(options=[IPOption_Router_Alert()]) / UDP(sport=6, dport=7) / b"ra",
             "deliver", check=delivered(6, 7, b"ra")),
        Case("loose source route", eth() / ip(options=[IPOption_LSRR(routers=["10.0.2.1"])]) / UDP() / b"x",
             "drop", "ip_source_route"),
        Case("strict source route", eth() / ip(options=[IPOption_SSRR(routers=["10.0.2.1"])]) / UDP() / b"x",
             "drop", "ip_source_route"),
        Case("option length past header", eth() / ip(options=[Raw(b"\x07\x09\x04\x00")]) / UDP() / b"x",
             "drop", "bad_ip_options"),
        Case("option length 0", eth() / ip(options=[Raw(b"\x44\x00\x00\x00")]) / UDP() / b"x",
             "drop", "bad_ip_options"),
        # fragments (each one dropped, none reassembled)
        *[Case(f"fragment {i}", eth() / f, "drop", "ip_fragment")
          for i, f in enumerate(fragment(ip() / UDP(sport=7, dport=7) / bytes(300), fragsize=128))],
        Case("lone more-fragments", eth() / ip(flags="MF") / UDP() / b"x", "drop", "ip_fragment"),
        # IPv4 header
        Case("ip version 6 in an IPv4 frame", eth() / ip(version=6) / UDP() / b"x", "drop", "bad_ip_version"),
        Case("ip ihl 4", eth() / ip(ihl=4) / UDP() / b"x", "drop", "bad_ip_ihl"),
        Case("ip ihl 15 on a short datagram", cut(eth() / ip(ihl=15) / UDP() / b"x", 14 + 29), "drop", "ip_truncated"),
        Case("ip header truncated", cut(udp, 14 + 12), "drop", "ip_truncated"),
        Case("ip total length beyond frame", eth() / ip(len=1000) / UDP() / b"x", "drop", "bad_ip_total_length"),
        Case("ip total length below header", eth() / ip(len=12) / UDP() / b"x", "drop", "bad_ip_total_length"),
        Case("udp datagram truncated", cut(udp, len(raw(udp)) - 3), "drop", "bad_ip_total_length"),
        Case("ip to another host", eth() / ip(dst="10.0.2.16") / UDP() / b"x", "drop", "ip_not_for_us"),
        Case("ip limited broadcast", eth(BROADCAST) / ip(dst="255.255.255.255") / UDP() / b"x", "drop",
             "ip_not_for_us"),
        Case("ip from loopback", eth() / ip(src="127.0.0.1") / ICMP() / b"x", "drop", "bad_ip_source"),
        Case("ip from multicast", eth() / ip(src="224.0.0.5") / UDP() / b"x", "drop", "bad_ip_source"),
        Case("tcp", eth() / ip() / TCP(dport=80), "drop", "unknown_ip_protocol"),
        # Ethernet
        Case("runt 1 byte", b"\xff", "drop", "runt"),
        Case("runt 13 bytes", cut(udp, 13), "drop", "runt"),
        Case("header only, IPv4", cut(udp, 14), "drop", "ip_truncated"),
        Case("oversized", eth() / ip() / UDP() / bytes(1600), "drop", "too_long"),
        Case("one byte too long", raw(eth() / ip() / UDP() / big) + b"\0", "drop", "too_long"),
        Case("ipv6", eth() / IPv6() / UDP(), "drop", "bad_ethertype"),
        Case("802.1Q tagged", eth() / Dot1Q(vlan=5) / ip() / UDP() / b"x", "drop", "bad_ethertype"),
        Case("LLDP ethertype", Ether(dst=OUR_MAC, src=PEER_MAC, type=0x88cc) / bytes(46), "drop", "bad_ethertype"),
        Case("802.3 length field", Dot3(dst=OUR_MAC, src=PEER_MAC) / LLC() / bytes(40), "drop", "bad_ethertype"),
        Case("another host's MAC", eth(dst=OTHER_MAC) / ip() / UDP() / b"x", "drop", "mac_not_for_us"),
        Case("multicast MAC", eth(dst="01:00:5e:00:00:01") / ip() / UDP() / b"x", "drop", "mac_not_for_us"),
        Case("multicast source MAC", eth(src="01:00:5e:00:00:01") / ip() / UDP() / b"x", "drop", "bad_eth_source"),
    ]
    return c


def run_tool(tool, frames, extra=()):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "frames.pcap")
        w = RawPcapWriter(path, linktype=1, snaplen=65535)
        for f in frames:
            w.write(f)
        w.close()
        p = subprocess.run([tool, "--mac", OUR_MAC, "--ip", OUR_IP, "--echo-udp", *extra, path],
                           capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"edgeos-net-parse failed ({p.returncode}): {p.stderr}")
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    return lines[:-1], lines[-1]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tool = sys.argv[1]

    all_cases = cases()
    outs, counters = run_tool(tool, [c.frame for c in all_cases])
    failures = []
    if len(outs) != len(all_cases):
        sys.exit(f"{len(outs)} output lines for {len(all_cases)} frames")
    for i, (case, out) in enumerate(zip(all_cases, outs)):
        fail = Failures()
        fail.expect(out["frame"] == i + 1 and out["len"] == len(case.frame), f"frame numbering {out}")
        fail.expect(out["verdict"] == case.verdict and out["cause"] == case.cause,
                    f"got {out['verdict']}/{out['cause']}, want {case.verdict}/{case.cause}")
        if not fail and case.check is not None:
            try:
                case.check(case, out, fail)
            except Exception as e:  # a reply scapy cannot even dissect
                fail.append(f"check raised {e!r}")
        if fail:
            failures.append(f"frame {i + 1} ({case.name}): " + "; ".join(fail))

    # The counters agree with the verdicts.
    c = counters["counters"]
    want_drops = {}
    for case in all_cases:
        if case.verdict == "drop":
            want_drops[case.cause] = want_drops.get(case.cause, 0) + 1
    for cause, n in c["drops"].items():
        if n != want_drops.get(cause, 0):
            failures.append(f"counter {cause} = {n}, want {want_drops.get(cause, 0)}")
    unknown = set(want_drops) - set(c["drops"])
    if unknown:
        failures.append(f"causes the tool does not count: {sorted(unknown)}")
    kinds = [case.verdict for case in all_cases]
    expect = {
        "rx_frames": len(all_cases),
        "udp_delivered": kinds.count("deliver"),
        "udp_no_checksum": 1,
        "ip_options_skipped": 3,
        "arp_replies": sum(1 for case in all_cases if case.verdict == "reply" and case.name.startswith("arp")),
        "icmp_echo_replies": sum(1 for case in all_cases if case.verdict == "reply" and case.name.startswith("echo")),
    }
    for name, n in expect.items():
        if c[name] != n:
            failures.append(f"counter {name} = {c[name]}, want {n}")
    # Learnt: the two requesters (10.0.2.2, once, then refreshed) and 10.0.2.3 from its reply.
    if counters["arp_cache"] != 2:
        failures.append(f"ARP cache holds {counters['arp_cache']} entries, want 2")

    # No room for the reply: dropped as such, and counted.
    small = [raw(eth(BROADCAST) / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=OUR_IP)),
             raw(eth() / ip() / ICMP(id=1, seq=1) / b"ping")]
    outs, counters = run_tool(tool, small, ["--reply-cap", "59"])
    for out in outs:
        if out["verdict"] != "drop" or out["cause"] != "no_reply_room":
            failures.append(f"reply cap 59: frame {out['frame']}: {out['verdict']}/{out['cause']}")
    if counters["counters"]["drops"]["no_reply_room"] != 2:
        failures.append("reply cap 59: no_reply_room not counted")

    for f in failures:
        print("FAIL", f)
    print(f"{len(all_cases) + len(small)} frames, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
