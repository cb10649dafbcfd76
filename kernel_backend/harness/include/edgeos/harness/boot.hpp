// The QEMU harness: boots the kernel with a compiled scenario and brings back its console output
// and its trace in the common schema (hosted).
//
// Acceleration: `tcg` always works; `kvm` only where the host's /dev/kvm really runs a bare
// kernel (on some machines it is a paravirtual variant that does not), so `auto` boots the kernel
// once under KVM with the command line "probe" and uses KVM only if that run reports success,
// else TCG. `icount` (deterministic instruction-driven clock: one instruction per nanosecond, idle
// time skipped) needs TCG.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "edgeos/core/trace.hpp"

namespace edgeos::harness {

struct BootOptions {
  std::string kernel;             // the kernel ELF; empty: find_kernel()
  std::string qemu = "qemu-system-x86_64";
  std::string accel = "auto";     // auto, tcg or kvm
  bool icount = false;
  bool iso = false;               // boot a GRUB ISO (grub-mkrescue) instead of -kernel
  bool uefi = false;              // the ISO under OVMF instead of SeaBIOS
  int timeout_s = 0;              // 0: 120 s plus 60 s per simulated second
  std::string cmdline;            // the kernel's command line
  std::string work_dir;           // temporary files (removed afterwards); empty: the system's
  std::string memory = "256M";
  int cpus = 1;                   // the machine's CPUs (the scenario's: the kernel runs one per CPU)
  std::string emulator = "qemu";  // qemu or bochs
  std::string bochs = "bochs";
  std::string bochs_cpu = "corei7_haswell_4770";  // a Bochs CPU model (bochs --help cpu)
  // The machine's network card: none (or empty), virtio (a virtio 1.0 modern virtio-net-pci) or
  // e1000 (the 82540EM), with MAC `mac`, on QEMU's user-mode network, which reaches nothing outside
  // the guest but the forwards: UDP to 127.0.0.1:host on the host arrives at guest_ip:guest.
  std::string nic = "none";
  std::string mac = "52:54:00:12:34:56";
  std::string guest_ip = "10.0.2.15";
  struct Forward {
    uint16_t host = 0, guest = 0;
  };
  std::vector<Forward> udp_forwards;
  // The network behind the NIC: "user" (QEMU's user-mode network, with the forwards above),
  // "dgram:LOCAL:REMOTE" (every Ethernet frame as one UDP datagram between 127.0.0.1:LOCAL, QEMU's
  // end, and 127.0.0.1:REMOTE, the test's: raw frames in and out, nothing else reachable), or
  // "tap:IFNAME" (an existing tap device, e.g. in a network namespace the caller made).
  std::string net = "user";
  // QEMU's record/replay (with -icount): "record" writes every nondeterministic input of the run
  // (network frames included) to `rr_file`; "replay" runs it again from that file, identically.
  std::string rr_mode;
  std::string rr_file;
  // Set (by a signal handler) to stop the run early: the machine is stopped and what it traced so
  // far is returned, marked stopped.
  const std::atomic<bool>* stop = nullptr;
};

struct BootResult {
  bool ok = false;                // the kernel ran the scenario and exited with success
  std::string failure;            // otherwise: why, for the user
  int qemu_status = -1;           // QEMU's exit status (33: success, 35: the kernel failed)
  std::string accel;              // what was used: "tcg", "kvm" or "bochs"
  std::string serial;             // the kernel's console output
  std::vector<TraceRecord> records;
  double wall_seconds = 0;
  bool stopped = false;           // ended early by BootOptions::stop: the records are a prefix
};

// Boots the kernel with `blob` (a compiled scenario) as its boot module and `duration_ns` of
// run. Throws InputError for what the user can fix (no QEMU, no kernel image, no OVMF).
BootResult boot(const std::string& blob, int64_t duration_ns, const BootOptions& options);

// Whether KVM boots this kernel here (a real boot, not a check of /dev/kvm).
bool kvm_boots(const BootOptions& options, const std::string& kernel);

// The kernel image next to this program in a build tree, or where EDGEOS_KERNEL points.
std::string find_kernel();

// Decodes the kernel's binary trace (kernel_backend/kernel/trace_out.hpp). Throws InputError
// naming the file and the record for malformed input.
std::vector<TraceRecord> decode_kernel_trace(const std::string& bytes, const std::string& name);

// The first OVMF firmware image found, or "".
std::string find_ovmf();

}  // namespace edgeos::harness
