#!/usr/bin/python3
"""The network path of the booted kernel: instructions per UDP echo, and packets per second.

    bench/net_bench.py [--build DIR] [--count N] [--model virtio|e1000]

1. Instructions: boots a scenario with a driver FWP and a UDP echo tenant under TCG with -icount
   (QEMU advances the guest's TSC one tick per guest instruction, so the counts are exact
   instructions, not time), on `--net dgram` (each Ethernet frame one UDP datagram over loopback),
   sends N echo requests one at a time, and reads the driver's own count of cycles per datagram
   (kernel_backend/fwp/programs.cpp, "cycles per datagram"), split into: device-rx (taking the
   frame out of the NIC's DMA buffer), stack (Ethernet/IPv4/UDP parse and checksums), ring-in (the
   system call that copies it into the tenant's ring), notify (the system call that releases the
   tenant's job), tenant (from taking it out of its ring to handing its reply to its ring), and
   ring-out+tx (taking the reply out, building the frame, the device's transmit and doorbell). Not
   in these parts: the kernel dispatching the tenant's job and the device model itself (QEMU).
2. Packets per second: the same echo path under TCG without -icount (real time), requests kept
   in flight from one Python client, against the Linux kernel on this host answering UDP echo
   from a Python server on loopback in the same script: context for the emulated figure, not a
   claim (both sides here are limited by the Python client, and the guest is emulated).
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCENARIO = """
[scenario]
name = "net-bench"
duration = "{duration}"

[[server]]
cpus = 1
policy = "fp"
nic = {{ model = "{model}" }}

[[tenant]]
name = "net"

[[tenant]]
name = "echo"
udp = [9007]

[[thread]]
name = "driver"
tenant = "net"
program = "nic-driver"
period = "100us"
cost = "20us"
priority = 9

[[thread]]
name = "echo"
tenant = "echo"
program = "udp-echo"
release = "sporadic"
period = "10us"
deadline = "1ms"
cost = "10us"
priority = 5
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frame(payload, port=9007):
    """An Ethernet/IPv4/UDP frame to the guest's UDP `port` (the echo tenant's), checksums computed here."""
    import struct

    def csum(data):
        if len(data) % 2:
            data += b"\0"
        s = sum(struct.unpack(f"!{len(data) // 2}H", data))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return ~s & 0xFFFF

    src, dst = bytes([10, 0, 2, 99]), bytes([10, 0, 2, 15])
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", 40000, port, udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xFFFF) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 1, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("525400123456") + bytes.fromhex("020000000001") + b"\x08\x00"
    return eth + ip + udp


def boot(build, model, duration, icount, qemu_port, mine, scenario=None):
    """Boots `scenario` (default: the echo scenario on NIC `model`) on `--net dgram`; (folder, process)."""
    d = tempfile.mkdtemp(prefix="edgeos-net-bench-")
    path = os.path.join(d, "bench.toml")
    with open(path, "w") as f:
        f.write(scenario if scenario is not None else SCENARIO.format(model=model, duration=duration))
    cmd = [os.path.join(build, "cli", "edgeos"), "boot", path, "--net", f"dgram:{qemu_port}:{mine}",
           "--out", os.path.join(d, "out"), "--quiet"]
    cmd += ["--icount", "--duration", duration] if icount else ["--serve", duration, "--accel", "tcg"]
    return d, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_first_frame(sock, seconds):
    end = time.monotonic() + seconds
    sock.settimeout(0.5)
    while time.monotonic() < end:
        try:
            sock.recvfrom(65536)
            return True
        except socket.timeout:
            pass
    return False


class BenchError(RuntimeError):
    pass


def instructions(build, model, count, scenario=None, port=9007, payloads=None):
    """Sends `count` requests one at a time under -icount (request i: payloads(i) to UDP port
    port(i) if callable, else `port`; default 64 bytes of x for the echo tenant) and reads the
    driver's cycles per datagram, by part:
    (requests answered, {part: guest instructions}). BenchError if the guest sent or counted nothing."""
    qemu_port, sock = free_port(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    d, proc = boot(build, model, "30s", True, qemu_port, sock.getsockname()[1], scenario)
    try:
        if not wait_first_frame(sock, 60):
            raise BenchError("the guest sent nothing")
        answered = 0
        sock.settimeout(2)
        for i in range(count):
            sock.sendto(frame(payloads(i) if payloads else b"x" * 64, port(i) if callable(port) else port),
                        ("127.0.0.1", qemu_port))
            try:
                while True:  # skip anything but the echo (ARP)
                    data = sock.recvfrom(65536)[0]
                    if data[12:14] == b"\x08\x00" and data[23] == 17:
                        answered += 1
                        break
            except socket.timeout:
                pass
        proc.wait(timeout=600)
        with open(os.path.join(d, "out", "serial.log")) as f:
            lines = [l for l in f.read().splitlines() if "cycles per datagram" in l]
        if not lines:
            raise BenchError("the driver reported no cycles (did any request go through the tenant?)")
        parts = dict(re.findall(r"([a-z+-]+) (\d+)", lines[-1].split("datagram:")[1]))
        return answered, {k: int(v) for k, v in parts.items()}
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def guest_pps(build, model, seconds=8, window=16):
    qemu_port, sock = free_port(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    d, proc = boot(build, model, f"{seconds + 6}s", False, qemu_port, sock.getsockname()[1])
    try:
        if not wait_first_frame(sock, 30):
            return 0.0
        return pump(lambda p: sock.sendto(p, ("127.0.0.1", qemu_port)), sock, frame(b"y" * 64), seconds - 2, window,
                    is_reply=lambda d: d[12:14] == b"\x08\x00" and d[23] == 17)
    finally:
        proc.kill()
        sock.close()


def pump(send, sock, request, seconds, window, is_reply=lambda d: True):
    """Keeps `window` requests in flight for `seconds`; replies per second."""
    sock.settimeout(0.2)
    for _ in range(window):
        send(request)
    replies, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            data = sock.recvfrom(65536)[0]
        except socket.timeout:
            for _ in range(window):  # lost ones: top the window up
                send(request)
            continue
        if is_reply(data):
            replies += 1
            send(request)
    return replies / (time.monotonic() - start)


def linux_pps(seconds=6, window=16):
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    port, stop = server.getsockname()[1], threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                data, peer = server.recvfrom(65536)
                server.sendto(data, peer)
            except socket.timeout:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        return pump(lambda p: client.sendto(p, ("127.0.0.1", port)), client, b"y" * 64, seconds, window)
    finally:
        stop.set()
        t.join()
        client.close()
        server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--count", type=int, default=500, help="echo requests for the instruction count")
    ap.add_argument("--model", default="virtio", choices=["virtio", "e1000"])
    a = ap.parse_args()
    try:
        answered, parts = instructions(a.build, a.model, a.count)
    except BenchError as e:
        sys.exit(f"net_bench: {e}")
    total = sum(v for k, v in parts.items() if k != "over")
    print(f"UDP echo through driver FWP -> echo tenant -> driver ({a.model}, -icount: guest instructions, not time)")
    print(f"  {answered} of {a.count} requests answered; the driver timed {parts.get('over', 0)} datagrams")
    for k in ("device-rx", "stack", "ring-in", "notify", "tenant", "ring-out+tx"):
        print(f"  {k:<12} {parts.get(k, 0):>7}")
    print(f"  {'total':<12} {total:>7}  (goal <= 3,000; the tenant's job dispatch and QEMU's device model not included)")
    g = guest_pps(a.build, a.model)
    l = linux_pps()
    print(f"packets per second, one Python client, 16 in flight: edgeos under TCG {g:,.0f}/s; Linux on this host "
          f"(loopback, Python echo server) {l:,.0f}/s; ratio {g / l:.3f} (context, not a claim: emulated guest)")


if __name__ == "__main__":
    main()
