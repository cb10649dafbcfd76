"""Linux under the same QEMU as the booted edgeos kernel: the density experiment's baseline (b).

EdgeOS's density claim compares FWPs with Linux processes. Measured natively, Linux runs on the
host's CPU and NIC while edgeos runs emulated, which says little. :class:`LinuxGuest` boots
Debian's own kernel (``linux-image-amd64``) on the machine ``edgeos boot`` gives the edgeos kernel
(q35, one CPU, ``-cpu max`` under TCG, a virtio 1.0 NIC, QEMU's user network with every tenant's
UDP port forwarded from 127.0.0.1) with an initramfs built here from Debian's binaries:

* ``busybox`` (busybox-static) as ``/init``'s shell and its tools (``insmod``, ``ip``, ``nc``);
* the virtio modules of the installed kernel, in ``modules.dep`` order;
* Debian's ``memcached`` and the shared libraries ``ldd`` names for it.

``/init`` starts N memcached processes, instance k on UDP port ``base + k``, prints
``edgeos-linux-guest: ready N`` on the serial console, and waits for one TCP connection on the
control port: to it, :meth:`LinuxGuest.report` reads each memcached's PSS (``smaps_rollup``) and the
guest's ``MemAvailable`` before and after the tenants started; then the guest powers off.
Everything lives in a temporary folder the caller owns; QEMU is killed on exit.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

__all__ = ["GuestError", "LinuxGuest", "GuestReport", "find_linux"]

GUEST_IP = "10.0.2.15"  # QEMU's user network gives the guest this address (as edgeos boot assumes)
CONTROL_PORT = 11999    # the guest's TCP port the report is read from
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
nc -l -p {control} -e /report
poweroff -f
"""

REPORT = r"""#!/bin/sh
for p in $(pidof memcached); do
  echo "pss $p $(grep '^Pss:' /proc/$p/smaps_rollup | tr -s ' ' | cut -d' ' -f2)"
done
echo "before $(tr -s ' ' < /before | cut -d' ' -f2)"
echo "after $(grep MemAvailable /proc/meminfo | tr -s ' ' | cut -d' ' -f2)"
echo "end"
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

    def __init__(self, work: pathlib.Path, tenants: int, guest_base: int, host_base: int, memory_mib: int,
                 qemu: str = "qemu-system-x86_64"):
        self.work, self.tenants, self.guest_base, self.host_base = work, tenants, guest_base, host_base
        self.memory_mib, self.qemu = memory_mib, shutil.which(qemu) or qemu
        self.control = host_base + tenants  # the host port forwarded to the guest's control port
        self.serial = work / "linux-serial.log"
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
        init = INIT.replace("{ip}", GUEST_IP).replace("{tenants}", str(self.tenants)) \
                   .replace("{base}", str(self.guest_base)).replace("{control}", str(CONTROL_PORT))
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
        netdev = "user,id=net0"
        for k in range(self.tenants):
            netdev += f",hostfwd=udp:127.0.0.1:{self.host_base + k}-{GUEST_IP}:{self.guest_base + k}"
        netdev += f",hostfwd=tcp:127.0.0.1:{self.control}-{GUEST_IP}:{CONTROL_PORT}"
        return [self.qemu, "-machine", "q35", "-m", f"{self.memory_mib}M", "-smp", "1", "-display", "none",
                "-no-reboot", "-monitor", "none", "-serial", f"file:{self.serial}",
                "-netdev", netdev, "-device", "virtio-net-pci,disable-legacy=on,netdev=net0,mac=52:54:00:12:34:56",
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

    def report(self, timeout_s: float = 60.0) -> GuestReport:
        """Reads the guest's memory report from its control port (and so lets it power off)."""
        text = b""
        with socket.create_connection(("127.0.0.1", self.control), timeout=timeout_s) as s:
            s.settimeout(timeout_s)
            while b"end\n" not in text:
                chunk = s.recv(65536)
                if not chunk:
                    break
                text += chunk
        r = GuestReport()
        for line in text.decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "pss" and parts[2].isdigit():
                r.pss_kib.append(int(parts[2]))
            elif len(parts) == 2 and parts[0] in ("before", "after") and parts[1].isdigit():
                setattr(r, f"available_{parts[0]}_kib", int(parts[1]))
        if "end" not in text.decode(errors="replace"):
            raise GuestError(f"the guest's report was cut short: {text[-300:]!r}")
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
