#!/bin/sh
# Installs the Debian 12 packages edgeos builds and tests with, and nothing else.
# Idempotent: when every package is already present it prints nothing and exits 0.
#
# Usage: scripts/install-deps.sh            (as root, or with sudo available)
#        EDGEOS_NO_INSTALL=1 scripts/install-deps.sh   (only report what is missing)
set -eu

# One package per line: what it is for follows the '#'.
PACKAGES="
build-essential      # g++ 12, make
cmake                # build system (>= 3.25)
ninja-build          # fast parallel builds
libgtest-dev         # unit tests
libgmock-dev         # unit tests (matchers)
libbenchmark-dev     # bench/ (Google Benchmark)
libfmt-dev           # hosted formatting
libcli11-dev         # the edgeos command line
nlohmann-json3-dev   # summary.json, JSON Lines traces
libtomlplusplus-dev  # scenario files (TOML)
libeigen3-dev        # linear algebra (MMPP arrivals)
libpcap-dev          # pcap trace replay
pkg-config           # finds libpcap
python3              # Debian's /usr/bin/python3 for test scripts
qemu-system-x86      # runs the x86-64 kernel (edgeos boot, kernel tests)
grub-pc-bin          # GRUB ISO for BIOS machines (edgeos boot --iso)
grub-efi-amd64-bin   # GRUB ISO for UEFI machines (edgeos boot --iso --uefi)
xorriso              # grub-mkrescue writes the ISO with it
mtools               # grub-mkrescue builds the EFI system partition with it
ovmf                 # UEFI firmware for QEMU (edgeos boot --uefi)
bochs                # a second x86 emulator, with PCID and the TSC-deadline timer (edgeos boot --emulator bochs)
bochs-term           # Bochs's text display (runs without X)
bochsbios            # Bochs's BIOS
vgabios              # Bochs's VGA BIOS
bsdutils             # script(1): gives Bochs's text display a terminal
busybox-static       # make paper: the static program every startup is timed with (/bin/busybox true)
crun                 # make paper: OCI container runtime timed against FWP startup
runc                 # make paper: the reference OCI runtime, timed likewise
linux-image-amd64    # make paper: Debian's Linux booted on the same QEMU machine as edgeos (density baseline)
cpio                 # make paper: packs that Linux guest's initramfs (busybox-static, memcached)
libsimgrid-dev       # SimGrid 3.32: the simulated edge platform (edgeos sim --backend simgrid)
pybind11-dev         # the _edgeos Python extension
python3-dev          # Python headers for the extension
python3-venv         # make python: .venv with --system-site-packages
python3-numpy        # traces as arrays
python3-pandas       # traces as DataFrames
python3-matplotlib   # figures (Gantt charts, CDFs, curves)
python3-tqdm         # progress bars on sweeps
python3-distributed  # sweeps on a Dask cluster
python3-pytest       # Python tests
python3-nbclient     # runs the notebooks headless in make test
python3-nbformat     # reads the notebooks
python3-ipykernel    # the kernel nbclient runs them in
memcached            # tests: the booted memcached tenant compared byte for byte with the real server; edgeos replay --target linux
libcoap3-bin         # tests: coap-client, a real CoAP client for the booted CoAP tenant; coap-server to compare with
python3-scapy        # tests: Ethernet frames built and checked independently of the packet stack
iproute2             # network namespaces, veths, bridges and taps that tests and edgeos replay --target linux/kernel make and remove
iputils-ping         # tests: ping through a tap device into the booted kernel
libdpdk-dev          # edgeos replay: DPDK 22.11 sends request packets and takes replies (net_pcap, net_null, net_af_packet; --no-huge --no-pci)
clang-14             # make fuzz: the libFuzzer harnesses are built with clang
libclang-rt-14-dev   # make fuzz: libFuzzer and the sanitizer runtimes for clang 14
"

names=$(printf '%s\n' "$PACKAGES" | sed -e 's/#.*//' -e '/^[[:space:]]*$/d' | tr -s ' \n' ' ')

missing=""
for pkg in $names; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $pkg" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "install-deps: missing Debian packages:$missing"
if [ "${EDGEOS_NO_INSTALL:-0}" = 1 ]; then
    echo "install-deps: EDGEOS_NO_INSTALL=1, not installing" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: installed$missing"
