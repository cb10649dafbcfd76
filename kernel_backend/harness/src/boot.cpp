#include "edgeos/harness/boot.hpp"
#include "edgeos/core/trace_wire.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"

extern char** environ;

namespace edgeos::harness {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What QEMU said when it failed, for a message: a host port it could not forward is named (with
// the way out), otherwise its last lines, each cut to a readable length (QEMU repeats the whole
// -netdev option in its error, which with a thousand forwarded ports is tens of kilobytes).
std::string qemu_failure_text(const std::string& log) {
  const std::string rule = "Could not set up host forwarding rule '";
  if (const size_t at = log.find(rule); at != std::string::npos) {
    const size_t end = log.find('\'', at + rule.size());
    const std::string what = log.substr(at + rule.size(), end == std::string::npos ? 80 : end - at - rule.size());
    return fmt::format("QEMU could not forward {} (is that host port in use? choose another --port-offset)", what);
  }
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.size() > 300) line = line.substr(0, 300) + " ...";
    lines.push_back(std::move(line));
  }
  std::string out;
  for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) out += (out.empty() ? "" : "\n") + lines[i];
  return out;
}

// A temporary directory removed when it goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& base) {
    std::string pattern = (fs::path(base.empty() ? fs::temp_directory_path().string() : base) / "edgeos-boot-XXXXXX").string();
    if (!base.empty()) fs::create_directories(base);
    if (::mkdtemp(pattern.data()) == nullptr) throw InputError(fmt::format("cannot create a temporary directory in {}", base));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct Exit {
  int status = -1;  // exit status, or -1 if killed by a signal
  bool timed_out = false;
  bool started = true;
  bool stopped = false;  // killed because the caller asked (BootOptions::stop)
};

// Runs a program with its output sent to `log` (appended), killing it after `timeout_s`.
Exit run_program(const std::vector<std::string>& argv, const fs::path& log, int timeout_s,
                 const std::atomic<bool>* stop = nullptr) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  Exit e;
  if (rc != 0) {
    e.started = false;
    return e;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) e.status = WEXITSTATUS(status);
      return e;
    }
    if (stop != nullptr && stop->load()) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      e.stopped = true;
      return e;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      e.timed_out = true;
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<std::string> qemu_args(const BootOptions& o, const std::string& accel, const fs::path& serial,
                                   const fs::path& trace) {
  std::vector<std::string> a = {o.qemu, "-machine", "q35", "-m", o.memory, "-smp", std::to_string(o.cpus), "-display", "none", "-no-reboot",
                                "-monitor", "none", "-serial", "file:" + serial.string(),
                                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"};
  // The NIC, if any, with a fixed MAC (the guest's; deterministic runs need it fixed too).
  if (o.nic.empty() || o.nic == "none") {
    a.insert(a.end(), {"-nic", "none"});
  } else {
    const std::string model = o.nic == "virtio" ? "virtio-net-pci,disable-legacy=on" : "e1000";
    std::string netdev;
    if (o.net.rfind("dgram:", 0) == 0) {
      const size_t colon = o.net.find(':', 6);
      netdev = fmt::format("dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port={},"
                           "remote.type=inet,remote.host=127.0.0.1,remote.port={}",
                           o.net.substr(6, colon - 6), o.net.substr(colon + 1));
    } else if (o.net.rfind("tap:", 0) == 0) {
      netdev = fmt::format("tap,id=net0,ifname={},script=no,downscript=no", o.net.substr(4));
    } else {
      netdev = "user,id=net0";
      for (const BootOptions::Forward& f : o.udp_forwards) {
        netdev += fmt::format(",hostfwd=udp:127.0.0.1:{}-{}:{}", f.host, o.guest_ip, f.guest);
      }
    }
    a.insert(a.end(), {"-netdev", netdev, "-device", model + ",netdev=net0,mac=" + o.mac});
    if (!o.rr_mode.empty()) a.insert(a.end(), {"-object", "filter-replay,id=replay0,netdev=net0"});
  }
  if (!trace.empty()) {
    a.push_back("-debugcon");
    a.push_back("file:" + trace.string());
  }
  if (accel == "kvm") {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    a.insert(a.end(), {"-accel", "tcg", "-cpu", "max"});
    if (!o.rr_mode.empty()) {
      // Record/replay keeps the guest's idle time in step with the host's (sleep on), so that the
      // frames a test sends meet a guest that is still running; replay needs no sender.
      a.insert(a.end(), {"-icount", "shift=0,rr=" + o.rr_mode + ",rrfile=" + o.rr_file});
    } else if (o.icount) {
      a.insert(a.end(), {"-icount", "shift=0,sleep=off"});
    }
  }
  return a;
}

}  // namespace

std::string find_ovmf() {
  for (const char* p : {"/usr/share/ovmf/OVMF.fd", "/usr/share/qemu/OVMF.fd", "/usr/share/OVMF/OVMF_CODE.fd"}) {
    if (fs::exists(p)) return p;
  }
  return "";
}

std::string find_kernel() {
  if (const char* env = std::getenv("EDGEOS_KERNEL"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/cli/edgeos -> build/kernel_backend/edgeos-kernel.elf
    const fs::path candidate = self.parent_path().parent_path() / "kernel_backend" / "edgeos-kernel.elf";
    if (fs::exists(candidate)) return candidate.string();
  }
  throw InputError("cannot find the kernel image edgeos-kernel.elf next to this program; build it (make) or give --kernel PATH "
                   "(or set EDGEOS_KERNEL)");
}

bool kvm_boots(const BootOptions& o, const std::string& kernel) {
  if (!fs::exists("/dev/kvm")) return false;
  TempDir tmp(o.work_dir);
  std::vector<std::string> a = qemu_args(o, "kvm", tmp.path() / "serial.log", {});
  a.insert(a.end(), {"-kernel", kernel, "-append", "probe"});
  const Exit e = run_program(a, tmp.path() / "qemu.log", 20);
  return e.started && !e.timed_out && e.status == 33 && read_file(tmp.path() / "serial.log").find("edgeos probe: ok") != std::string::npos;
}

std::vector<TraceRecord> decode_kernel_trace(const std::string& bytes, const std::string& name) {
  namespace wire = trace_wire;
  std::vector<TraceRecord> out;
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  switch (wire::check_header(data, bytes.size())) {
    case wire::HeaderCheck::kOk: break;
    case wire::HeaderCheck::kNotATrace:
      throw InputError(fmt::format("{}: not an edgeos kernel trace (no EDGEOSTR header)", name));
    case wire::HeaderCheck::kUnsupported:
      throw InputError(fmt::format("{}: unsupported trace version or record size", name));
  }
  if ((bytes.size() - wire::kHeaderSize) % wire::kRecordSize != 0) {
    throw InputError(fmt::format("{}: truncated (a partial record at the end)", name));
  }
  for (size_t off = wire::kHeaderSize; off + wire::kRecordSize <= bytes.size(); off += wire::kRecordSize) {
    TraceRecord r;
    if (!wire::decode(data + off, r)) {
      throw InputError(fmt::format("{}: record {}: unknown event {}", name, (off - wire::kHeaderSize) / wire::kRecordSize,
                                   data[off + 10]));
    }
    out.push_back(r);
  }
  return out;
}

namespace {

// A GRUB rescue ISO (BIOS and UEFI) with the kernel and the scenario as its boot module.
fs::path make_iso(const fs::path& tmp, const std::string& kernel, const fs::path& blob, const std::string& cmdline) {
  const fs::path root = tmp / "iso";
  fs::create_directories(root / "boot" / "grub");
  fs::copy_file(kernel, root / "boot" / "edgeos-kernel.elf");
  fs::copy_file(blob, root / "boot" / "scenario.bin");
  write_file_atomically((root / "boot" / "grub" / "grub.cfg").string(),
                        fmt::format("set timeout=0\nset default=0\nserial --unit=0 --speed=115200\n"
                                    "terminal_input serial console\nterminal_output serial console\n"
                                    "menuentry \"edgeos\" {{\n  multiboot2 /boot/edgeos-kernel.elf {}\n"
                                    "  module2 /boot/scenario.bin scenario\n  boot\n}}\n",
                                    cmdline));
  const fs::path iso = tmp / "edgeos.iso";
  const Exit mk = run_program({"grub-mkrescue", "-o", iso.string(), root.string()}, tmp / "grub.log", 120);
  if (!mk.started || mk.status != 0 || !fs::exists(iso)) {
    throw InputError(fmt::format("grub-mkrescue failed (install grub-pc-bin, grub-efi-amd64-bin, xorriso and mtools): {}",
                                 read_file(tmp / "grub.log")));
  }
  return iso;
}

// The processes whose parent is `pid` (from /proc).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const fs::directory_entry& d : fs::directory_iterator("/proc", ec)) {
    const std::string name = d.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    // /proc/PID/stat: "PID (command) STATE PPID ..."; the command may hold spaces and parentheses.
    const std::string stat = read_file(d.path() / "stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == pid) out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

// The status in the kernel's exit line, "edgeos: machine exit 0xNN" at the start of a line (what an
// FWP prints starts with its name, and is one line: it cannot pass for it); -1 if there is none.
int exit_code_of(const std::string& console) {
  constexpr std::string_view kExitLine = "edgeos: machine exit 0x";
  for (size_t at = console.find(kExitLine); at != std::string::npos; at = console.find(kExitLine, at + 1)) {
    if (at != 0 && console[at - 1] != '\n') continue;
    const size_t digits = at + kExitLine.size();
    if (console.size() < digits + 2) return -1;  // not all written yet
    int code = 0;
    for (size_t i = digits; i < digits + 2; ++i) {
      const char c = console[i];
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) return -1;
      code = code * 16 + v;
    }
    return code;
  }
  return -1;
}

// Bochs, booting `iso` from its CD-ROM drive. Its terminal display needs a terminal, so it runs
// under script(1), which gives it one; its standard output (port 0xe9: the trace, after Bochs's
// banner) goes to `e9`. The clock follows the instructions (sync=none, 10^9 per second: one per
// nanosecond, as QEMU's -icount shift=0), so a run is deterministic. It ends when the console
// shows the kernel's exit line, which gives the status QEMU's exit device would have; a Bochs
// that stops by itself (a triple fault is fatal here) or outlives `timeout_s` is a failure.
// Bochs and script are killed or gone whenever this returns, also on error.
Exit run_bochs(const BootOptions& o, const fs::path& tmp, const fs::path& iso, const fs::path& serial,
               const fs::path& e9, int timeout_s) {
  const fs::path rc = tmp / "bochsrc", commands = tmp / "bochs.commands";
  // The paths go into a shell command and a bochsrc between quotes: none may hold one.
  for (const std::string& p : {tmp.string(), iso.string(), serial.string(), e9.string(), o.bochs}) {
    if (p.find_first_of("'\"\n") != std::string::npos) {
      throw InputError(fmt::format("a path with a quote in it cannot be given to Bochs: {}", p));
    }
  }
  const char unit = o.memory.empty() ? 'M' : o.memory.back();
  const uint64_t megs = std::stoull(o.memory) * (unit == 'G' || unit == 'g' ? 1024 : 1);
  write_file_atomically(rc.string(),
                        fmt::format("megs: {}\ncpu: model={}, count={}, ips=1000000000, reset_on_triple_fault=0\n"
                                    "romimage: file=/usr/share/bochs/BIOS-bochs-latest\n"
                                    "vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest\n"
                                    "ata0-master: type=cdrom, path=\"{}\", status=inserted\nboot: cdrom\n"
                                    "clock: sync=none, time0=1\ncom1: enabled=1, mode=file, dev=\"{}\"\n"
                                    "display_library: term\nport_e9_hack: enabled=1\nspeaker: enabled=0\nsound: driver=dummy\n"
                                    "log: \"{}\"\npanic: action=fatal\nerror: action=report\ninfo: action=ignore\n",
                                    megs, o.bochs_cpu, o.cpus, iso.string(), serial.string(), (tmp / "bochs.log").string()));
  write_file_atomically(commands.string(), "c\n");  // the debugger's first prompt: continue
  const std::string command = fmt::format("exec '{}' -q -f '{}' -rc '{}' > '{}' 2>> '{}'", o.bochs, rc.string(),
                                          commands.string(), e9.string(), (tmp / "bochs.stderr").string());
  std::vector<std::string> argv = {"script", "-qfec", command, "/dev/null"};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // script runs the command with $SHELL: a POSIX one, whatever the user's is.
  std::vector<std::string> env_strings = {"TERM=xterm", "SHELL=/bin/sh"};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (v.substr(0, 5) != "TERM=" && v.substr(0, 6) != "SHELL=") env_strings.emplace_back(v);
  }
  std::vector<char*> env;
  for (std::string& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, (tmp / "script.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "script", &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  Exit e;
  if (spawned != 0) {
    e.started = false;
    return e;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool reaped = false;
  for (;;) {
    int status = 0;
    reaped = waitpid(pid, &status, WNOHANG) == pid;  // before reading: an exit line written just before is seen
    if (const int code = exit_code_of(read_file(serial)); code >= 0) {
      e.status = (code << 1) | 1;  // as QEMU's isa-debug-exit reports it
      break;
    }
    if (reaped) {
      e.status = -1;  // Bochs stopped without the kernel's verdict
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      e.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Port 0xe9's bytes come before the console line that ends the run. Bochs runs in a session
  // of its own under script (the terminal's), so it is killed by its pid, and with SIGKILL: a
  // hang-up would stop it in its debugger, which would print to the trace's channel.
  // script then reaps it and exits; if it does not within two seconds, it is killed too.
  if (!reaped) {
    for (const pid_t child : children_of(pid)) kill(child, SIGKILL);
    int status = 0;
    for (int i = 0; i < 100 && !reaped; ++i) {
      reaped = waitpid(pid, &status, WNOHANG) == pid;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
  }
  return e;
}

// The trace Bochs's port 0xe9 wrote, without the banner before it.
std::string e9_trace(const fs::path& e9) {
  const std::string bytes = read_file(e9);
  const size_t at = bytes.find("EDGEOSTR");
  return at == std::string::npos ? std::string() : bytes.substr(at);
}

}  // namespace

BootResult boot(const std::string& blob, int64_t duration_ns, const BootOptions& o) {
  BootResult result;
  const std::string kernel = o.kernel.empty() ? find_kernel() : o.kernel;
  std::error_code kernel_ec;
  if (!fs::exists(kernel, kernel_ec)) {
    throw InputError(kernel_ec ? fmt::format("--kernel: {} cannot be used: {}", kernel, kernel_ec.message())
                               : fmt::format("--kernel: {} does not exist", kernel));
  }
  if (o.accel != "auto" && o.accel != "tcg" && o.accel != "kvm") throw InputError("--accel: expected auto, tcg or kvm");
  if (o.icount && o.accel == "kvm") throw InputError("--icount needs TCG (QEMU counts instructions only when it emulates them); use --accel tcg or auto");
  if (o.emulator != "qemu" && o.emulator != "bochs") throw InputError("--emulator: expected qemu or bochs");
  if (!o.nic.empty() && o.nic != "none" && o.nic != "virtio" && o.nic != "e1000") {
    throw InputError("--nic: expected none, virtio or e1000");
  }
  if (o.cpus < 1 || o.cpus > 16) throw InputError(fmt::format("the kernel runs 1 to 16 CPUs, not {}", o.cpus));
  const bool bochs = o.emulator == "bochs";
  if (bochs && o.uefi) throw InputError("--uefi: Bochs boots by its BIOS; use --emulator qemu for UEFI (OVMF)");
  {
    // --net: user, dgram:LOCAL:REMOTE (two ports) or tap:IFNAME.
    auto port_ok = [](const std::string& p) {
      return !p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string::npos && std::stoi(p) >= 1 &&
             std::stoi(p) <= 65535;
    };
    bool ok = o.net == "user";
    if (o.net.rfind("dgram:", 0) == 0) {
      const size_t colon = o.net.find(':', 6);
      ok = colon != std::string::npos && port_ok(o.net.substr(6, colon - 6)) && port_ok(o.net.substr(colon + 1));
    } else if (o.net.rfind("tap:", 0) == 0) {
      const std::string name = o.net.substr(4);
      ok = !name.empty() && name.size() < 16 && name.find_first_of(",= /") == std::string::npos;
    }
    if (!ok) {
      throw InputError(fmt::format("--net: expected user, dgram:LOCALPORT:REMOTEPORT or tap:IFNAME (an interface name "
                                   "of at most 15 characters), got \"{}\"", o.net));
    }
  }
  if (!o.rr_mode.empty()) {
    if (o.rr_mode != "record" && o.rr_mode != "replay") throw InputError("record/replay: the mode is record or replay");
    if (o.rr_file.empty()) throw InputError("--record/--replay: give the file");
    if (bochs || o.accel == "kvm" || o.iso) throw InputError("--record/--replay: QEMU's TCG with -kernel only (no Bochs, KVM or --iso)");
    if (o.rr_mode == "replay" && !fs::exists(o.rr_file)) {
      throw InputError(fmt::format("--replay: {} does not exist (record it with --record)", o.rr_file));
    }
  }
  if (bochs && !o.nic.empty() && o.nic != "none") throw InputError("--nic: the Bochs machine has no NIC here; use --emulator qemu");
  if (bochs && o.accel == "kvm") throw InputError("--accel kvm: Bochs emulates every instruction; leave --accel out with --emulator bochs");
  {
    // Is the emulator there at all?
    TempDir probe(o.work_dir);
    const Exit e = bochs ? run_program({o.bochs, "--help", "cpu"}, probe.path() / "v.log", 20)
                         : run_program({o.qemu, "--version"}, probe.path() / "v.log", 20);
    if (!e.started || (!bochs && e.status != 0)) {
      throw InputError(bochs ? fmt::format("cannot run {} (install the Debian packages bochs, bochs-term and bochsbios)", o.bochs)
                             : fmt::format("cannot run {} (install the Debian package qemu-system-x86)", o.qemu));
    }
    if (bochs && read_file(probe.path() / "v.log").find(o.bochs_cpu) == std::string::npos) {
      throw InputError(fmt::format("{} has no CPU model {} (see bochs --help cpu)", o.bochs, o.bochs_cpu));
    }
  }
  result.accel = bochs ? "bochs" : o.accel == "auto" ? (!o.icount && kvm_boots(o, kernel) ? "kvm" : "tcg") : o.accel;

  TempDir tmp(o.work_dir);
  const fs::path blob_path = tmp.path() / "scenario.bin";
  write_file_atomically(blob_path.string(), blob);
  const fs::path serial = tmp.path() / "serial.log";
  const fs::path trace = tmp.path() / "trace.bin";
  const int timeout = o.timeout_s > 0 ? o.timeout_s
                                      : (bochs ? 300 : 120) + static_cast<int>((bochs ? 600 : 60) * (duration_ns / 1'000'000'000 + 1));
  const auto t0 = std::chrono::steady_clock::now();
  Exit e;
  std::string trace_bytes;
  if (bochs) {
    const fs::path iso = make_iso(tmp.path(), kernel, blob_path, o.cmdline);
    const fs::path e9 = tmp.path() / "e9.bin";
    e = run_bochs(o, tmp.path(), iso, serial, e9, timeout);
    trace_bytes = e9_trace(e9);
  } else {
    std::vector<std::string> a = qemu_args(o, result.accel, serial, trace);
    if (o.iso) {
      const fs::path iso = make_iso(tmp.path(), kernel, blob_path, o.cmdline);
      if (o.uefi) {
        const std::string ovmf = find_ovmf();
        if (ovmf.empty()) throw InputError("no OVMF firmware found (install the Debian package ovmf)");
        a.insert(a.end(), {"-bios", ovmf});
      }
      a.insert(a.end(), {"-cdrom", iso.string()});
    } else {
      a.insert(a.end(), {"-kernel", kernel, "-initrd", blob_path.string()});
      if (!o.cmdline.empty()) a.insert(a.end(), {"-append", o.cmdline});
    }
    e = run_program(a, tmp.path() / "qemu.log", timeout, o.stop);
    if (fs::exists(trace)) trace_bytes = read_file(trace);
  }
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.qemu_status = e.status;
  result.serial = read_file(serial);
  const std::string emulator = bochs ? o.bochs : o.qemu;
  if (!e.started) throw InputError(fmt::format("cannot run {}", emulator));
  if (e.stopped) {
    // Stopped on request: whole records only (the last one may have been cut).
    result.stopped = true;
    result.failure = "stopped before the end of the run";
    if (trace_bytes.size() >= 32) trace_bytes.resize(32 + (trace_bytes.size() - 32) / 40 * 40);
  } else if (e.timed_out) {
    result.failure = fmt::format("the kernel did not finish within {} s (give --timeout to wait longer)", timeout);
  } else if (e.status == 33) {
    result.ok = true;
  } else if (e.status == 35) {
    result.failure = "the kernel reported a failure (see its console output)";
  } else if (bochs) {
    result.failure = fmt::format("Bochs stopped without the kernel's verdict (a triple fault stops it): {}{}",
                                 read_file(tmp.path() / "bochs.stderr"), read_file(tmp.path() / "bochs.log"));
  } else {
    result.failure = e.status == 0
                         ? fmt::format("QEMU stopped without the kernel's verdict (a triple fault resets the machine; "
                                       "-no-reboot makes that an exit): {}", qemu_failure_text(read_file(tmp.path() / "qemu.log")))
                         : fmt::format("QEMU failed (status {}): {}", e.status, qemu_failure_text(read_file(tmp.path() / "qemu.log")));
  }
  if (!trace_bytes.empty()) result.records = decode_kernel_trace(trace_bytes, "kernel trace");
  return result;
}

}  // namespace edgeos::harness
