"""Linux under the same QEMU as the booted edgeos kernel: the density experiment's baseline (b).

EdgeOS's density claim compares FWPs with Linux processes. Measured natively, Linux runs on the
host's CPU and NIC while edgeos runs emulated, which says little. :class:`LinuxGuest` boots
Debian's own kernel (``linux-image-amd64``) on the machine ``edgeos boot`` gives the edgeos kernel
(q35, one CPU, ``-cpu max`` under TCG, a virtio 1.0 NIC) on either of its networks: QEMU's user
network with every tenant's UDP port forwarded from 127.0.0.1, or a tap device (``edgeos replay
--target tap --launch``, which runs this module's command line), with an initramfs built here from
Debian's binaries:

* ``busybox`` (busybox-static) as ``/init``'s shell and its tools (``insmod``, ``ip``, ``nc``);
* the virtio modules of the installed kernel, in ``modules.dep`` order;
* Debian's ``memcached`` and the shared libraries ``ldd`` names for it.

``/init`` starts N memcached processes, instance k on UDP port ``base + k``, prints
``edgeos-linux-guest: ready N`` on its console (the first serial port, a file), and waits for a
line on its second serial port (a Unix socket of QEMU's): then it prints each memcached's PSS
(``smaps_rollup``) and the guest's ``MemAvailable`` before and after the tenants started, which
:meth:`LinuxGuest.report` reads, and powers off. Everything lives in a folder the caller owns; QEMU
is killed on exit.

    python3 -m edgeos.linux_guest --tap TAP --tenants N [--port 12000] [--mac M] [--ip A]
                                  [--serve SECONDS] [--report FILE.json]

boots it on tap TAP (the guest at the scenario's MAC and address, the replayer 10.0.2.99 a
permanent neighbour), serves until SIGINT, SIGTERM or the time is up, then writes the memory
report as JSON.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

__all__ = ["GuestError", "LinuxGuest", "GuestReport", "find_linux", "main"]

GUEST_IP = "10.0.2.15"  # QEMU's user network gives the guest this address (as edgeos boot assumes)
GUEST_MAC = "52:54:00:12:34:56"
# edgeos replay's source (docs/replay.md): it answers no ARP, so the guest knows it beforehand.
REPLAYER_IP, REPLAYER_MAC = "10.0.2.99", "02:00:0a:00:02:63"
NIC_MODULES = ["virtio_pci", "virtio_net"]


class GuestError(RuntimeError):
    """The Linux guest could not be built or booted; the message says how to fix it."""


def find_linux() -> "tuple[pathlib.Path, pathlib.Path]":
    """The newest installed Debian kernel image and its modules folder."""
    boot = sorted(pathlib.Path("/boot").glob("vmlinuz-*"))
    for image in reversed(boot):
        version = image.name[len("vmlinuz-"):]
        modules = pathlib.Path("/usr/lib/modules") / version
        if (modules / "modules.dep").exists() and os.access(image, os.R_OK):
            return image, modules
    raise GuestError("no readable Linux kernel with modules in /boot and /usr/lib/modules: install Debian's "
                     "linux-image-amd64 (scripts/install-deps.sh does)")


def _module_order(modules: pathlib.Path, wanted: List[str]) -> List[str]:
    """The .ko files (relative to `modules`) to insmod for `wanted`, each after its dependencies
    (modules.dep lists a module's dependencies after its colon)."""
    deps: Dict[str, List[str]] = {}
    by_name: Dict[str, str] = {}
    for line in (modules / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        mod, rest = line.split(":", 1)
        deps[mod] = rest.split()
        by_name[pathlib.Path(mod).name.split(".ko")[0].replace("-", "_")] = mod
    order: List[str] = []

    def visit(mod: str) -> None:
        if mod in order:
            return
        for d in deps.get(mod, []):
            visit(d)
        order.append(mod)

    for name in wanted:
        if name not in by_name:
            raise GuestError(f"the kernel in {modules.name} has no module {name}")
        visit(by_name[name])
    for mod in order:
        if not mod.endswith(".ko"):
            raise GuestError(f"{mod} is compressed; this builder copies plain .ko modules only")
    return order


def _libraries(binary: str) -> List[pathlib.Path]:
    """The shared objects the dynamic loader maps for `binary` (``ldd``), loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:
            libs.append(pathlib.Path(m.group(1)))
    return libs


INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m || echo "edgeos-linux-guest: insmod $m failed"; done
ip link set lo up
ip link set eth0 up || { echo "edgeos-linux-guest: no eth0"; poweroff -f; }
ip addr add {ip}/24 dev eth0
arp -i eth0 -s {peer_ip} {peer_mac} || echo "edgeos-linux-guest: no static neighbour {peer_ip}"
grep MemAvailable /proc/meminfo > /before
k=0
while [ $k -lt {tenants} ]; do
  memcached -U $(({base} + k)) -p 0 -l {ip} -t 1 -m 2 -c 64 -u root &
  k=$((k + 1))
  [ $((k % 100)) -eq 0 ] && echo "edgeos-linux-guest: $k started"
done
# Ready when every instance has bound its port (its UDP socket shows in /proc/net/udp).
while [ $(($(wc -l < /proc/net/udp) - 1)) -lt {tenants} ]; do sleep 0.2; done
echo "edgeos-linux-guest: ready {tenants}"
read line < /dev/ttyS1
/report
poweroff -f
"""

REPORT = r"""#!/bin/sh
for p in $(pidof memcached); do
  echo "edgeos-linux-guest: pss $p $(grep '^Pss:' /proc/$p/smaps_rollup | tr -s ' ' | cut -d' ' -f2)"
done
echo "edgeos-linux-guest: before $(tr -s ' ' < /before | cut -d' ' -f2)"
echo "edgeos-linux-guest: after $(grep MemAvailable /proc/meminfo | tr -s ' ' | cut -d' ' -f2)"
echo "edgeos-linux-guest: end"
"""


@dataclass
class GuestReport:
    pss_kib: List[int] = field(default_factory=list)  # one per memcached process
    available_before_kib: int = 0                     # MemAvailable before the tenants started
    available_after_kib: int = 0                      # ... and when the report was asked for

    def used_per_tenant_kib(self) -> float:
        """Guest memory the tenants took in all (user and kernel: page tables, sockets, tasks), each."""
        return (self.available_before_kib - self.available_after_kib) / max(1, len(self.pss_kib))


class LinuxGuest:
    """Debian's Linux booted under QEMU with `tenants` memcached processes; a context manager."""

    def __init__(self, work: pathlib.Path, tenants: int, guest_base: int, memory_mib: int, host_base: int = 0,
                 tap: str = "", mac: str = GUEST_MAC, ip: str = GUEST_IP, qemu: str = "qemu-system-x86_64"):
        """Forwards host UDP port host_base + k to instance k (QEMU's user network), or with `tap`
        attaches the NIC to that tap device."""
        self.work, self.tenants, self.guest_base, self.host_base = work, tenants, guest_base, host_base
        self.tap, self.mac, self.ip = tap, mac, ip
        self.memory_mib, self.qemu = memory_mib, shutil.which(qemu) or qemu
        self.serial = work / "linux-serial.log"
        self.control = work / "linux-control.sock"  # the guest's second serial port
        self.proc: Optional[subprocess.Popen] = None

    # -- building ---------------------------------------------------------------------------------

    def build_initramfs(self) -> pathlib.Path:
        """A gzip'd newc cpio archive (the kernel's initramfs format) in work/initramfs.cpio.gz."""
        image, modules = find_linux()
        self.image = image
        busybox = shutil.which("busybox")
        memcached = shutil.which("memcached")
        if busybox is None or memcached is None:
            raise GuestError("busybox (busybox-static) and memcached are needed for the Linux guest: "
                             "scripts/install-deps.sh installs them")
        if "=>" in subprocess.run(["ldd", busybox], capture_output=True, text=True).stdout:
            raise GuestError(f"{busybox} is linked dynamically; the guest needs busybox-static's")
        root = self.work / "initramfs"
        if root.exists():
            shutil.rmtree(root)
        for d in ("bin", "dev", "proc", "sys", "etc", "tmp", "lib/modules"):
            (root / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(busybox, root / "bin" / "busybox")
        shutil.copy2(memcached, root / "bin" / "memcached")
        for lib in _libraries(memcached):
            dest = root / lib.relative_to("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib.resolve(), dest)
        order = _module_order(modules, NIC_MODULES)
        for mod in order:
            dest = root / "lib" / "modules" / mod
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(modules / mod, dest)
        (root / "modules.order").write_text("\n".join(order) + "\n")
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\n")
        init = INIT
        for key, value in (("{ip}", self.ip), ("{peer_ip}", REPLAYER_IP), ("{peer_mac}", REPLAYER_MAC),
                           ("{tenants}", str(self.tenants)), ("{base}", str(self.guest_base))):
            init = init.replace(key, value)
        for name, text in (("init", init), ("report", REPORT)):
            (root / name).write_text(text)
            (root / name).chmod(0o755)
        archive = self.work / "initramfs.cpio.gz"
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        with open(archive, "wb") as out:
            cpio = subprocess.Popen(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
            gz = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=out)
            cpio.stdout.close()
            cpio.communicate(("\n".join(files) + "\n").encode())
            if gz.wait() != 0 or cpio.returncode != 0:
                raise GuestError("cpio or gzip failed to pack the initramfs (install cpio)")
        shutil.rmtree(root)
        return archive

    def command(self, initramfs: pathlib.Path) -> List[str]:
        """QEMU's command line: the machine `edgeos boot` gives the edgeos kernel, TCG, no -icount."""
        if self.tap:
            netdev = f"tap,id=net0,ifname={self.tap},script=no,downscript=no"
        else:
            netdev = "user,id=net0"
            for k in range(self.tenants):
                netdev += f",hostfwd=udp:127.0.0.1:{self.host_base + k}-{self.ip}:{self.guest_base + k}"
        return [self.qemu, "-machine", "q35", "-m", f"{self.memory_mib}M", "-smp", "1", "-display", "none",
                "-no-reboot", "-monitor", "none", "-serial", f"file:{self.serial}",
                "-chardev", f"socket,id=control,path={self.control},server=on,wait=off", "-serial", "chardev:control",
                "-netdev", netdev, "-device", f"virtio-net-pci,disable-legacy=on,netdev=net0,mac={self.mac}",
                "-accel", "tcg", "-cpu", "max", "-kernel", str(self.image), "-initrd", str(initramfs),
                "-append", "console=ttyS0 quiet panic=-1"]

    # -- running ----------------------------------------------------------------------------------

    def start(self, initramfs: pathlib.Path) -> None:
        self.proc = subprocess.Popen(self.command(initramfs), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_ready(self, timeout_s: float) -> float:
        """Seconds until the guest said its tenants are up; GuestError with the console's tail if not."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            text = self.serial.read_text(errors="replace") if self.serial.exists() else ""
            if f"edgeos-linux-guest: ready {self.tenants}" in text:
                return time.monotonic() - t0
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.2)
        tail = self.serial.read_text(errors="replace")[-600:] if self.serial.exists() else ""
        raise GuestError(f"the Linux guest did not start {self.tenants} memcached within {timeout_s:.0f} s; "
                         f"its console ends: {tail!r}")

    def report(self, timeout_s: float = 120.0) -> GuestReport:
        """Asks the guest for its memory report (a line on its second serial port) and reads it from
        its console; the guest powers off after it."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(self.control))
            s.sendall(b"report\n")
            t0 = time.monotonic()
            text = ""
            while time.monotonic() - t0 < timeout_s:
                text = self.serial.read_text(errors="replace")
                if "edgeos-linux-guest: end" in text:
                    break
                time.sleep(0.2)
        r = GuestReport()
        for line in text.splitlines():
            parts = line.split()
            if parts[:1] != ["edgeos-linux-guest:"]:
                continue
            parts = parts[1:]
            if len(parts) == 3 and parts[0] == "pss" and parts[2].isdigit():
                r.pss_kib.append(int(parts[2]))
            elif len(parts) == 2 and parts[0] in ("before", "after") and parts[1].isdigit():
                setattr(r, f"available_{parts[0]}_kib", int(parts[1]))
        if "edgeos-linux-guest: end" not in text:
            raise GuestError(f"the guest's memory report did not come within {timeout_s:.0f} s; its console ends: "
                             f"{text[-300:]!r}")
        return r

    def __enter__(self) -> "LinuxGuest":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=15)  # it powers off after its report
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main(argv: Optional[List[str]] = None) -> int:
    """The command line of edgeos replay --target tap --launch (see the module's documentation)."""
    import argparse
    import json
    import signal
    import tempfile
    ap = argparse.ArgumentParser(prog="python3 -m edgeos.linux_guest",
                                 description="Debian's Linux with N memcached processes under QEMU on a tap device, "
                                             "until SIGINT/SIGTERM or --serve seconds; then its memory report.")
    ap.add_argument("--tap", required=True, help="the tap device to attach the guest's virtio NIC to")
    ap.add_argument("--tenants", type=int, required=True, help="memcached processes, instance k on UDP port PORT + k")
    ap.add_argument("--port", type=int, default=12000, help="instance 0's UDP port")
    ap.add_argument("--mac", default=GUEST_MAC, help="the guest NIC's MAC (the scenario's nic.mac)")
    ap.add_argument("--ip", default=GUEST_IP, help="the guest's IPv4 address, /24 (the scenario's nic.ipv4)")
    ap.add_argument("--memory", type=int, default=0, help="guest MiB (default 512 + 4 per tenant)")
    ap.add_argument("--serve", type=float, default=600, help="seconds to serve at most")
    ap.add_argument("--report", help="write the memory report here as JSON")
    ap.add_argument("--console", help="copy the guest's console here when it ends")
    a = ap.parse_args(argv)
    if a.tenants < 1:
        ap.error("--tenants: at least 1")
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with tempfile.TemporaryDirectory(prefix="edgeos-linux-guest-") as tmp:
        guest = LinuxGuest(pathlib.Path(tmp), a.tenants, a.port, a.memory or 512 + 4 * a.tenants, tap=a.tap,
                           mac=a.mac, ip=a.ip)
        try:
            with guest:
                initramfs = guest.build_initramfs()
                guest.start(initramfs)
                ready = guest.wait_ready(120 + a.tenants // 2)
                print(f"linux_guest: {a.tenants} memcached up after {ready:.1f} s on {a.tap}", flush=True)
                t0 = time.monotonic()
                while not stop["now"] and time.monotonic() - t0 < a.serve and guest.proc.poll() is None:
                    time.sleep(0.1)
                report = guest.report()
                if a.report:
                    pathlib.Path(a.report).write_text(json.dumps({
                        "tenants": a.tenants, "pss_kib": report.pss_kib, "available_before_kib": report.available_before_kib,
                        "available_after_kib": report.available_after_kib,
                        "used_per_tenant_kib": report.used_per_tenant_kib()}) + "\n")
        except GuestError as e:
            print(f"linux_guest: {e}", file=sys.stderr, flush=True)
            return 2
        finally:
            if a.console and guest.serial.exists():
                shutil.copy(guest.serial, a.console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
