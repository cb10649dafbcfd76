#include "edgeos/harness/boot.hpp"

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
};

// Runs a program with its output sent to `log` (appended), killing it after `timeout_s`.
Exit run_program(const std::vector<std::string>& argv, const fs::path& log, int timeout_s) {
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
  std::vector<std::string> a = {o.qemu, "-machine", "q35", "-m", o.memory, "-display", "none", "-no-reboot",
                                "-monitor", "none", "-serial", "file:" + serial.string(),
                                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"};
  if (!trace.empty()) {
    a.push_back("-debugcon");
    a.push_back("file:" + trace.string());
  }
  if (accel == "kvm") {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    a.insert(a.end(), {"-accel", "tcg", "-cpu", "max"});
    if (o.icount) a.insert(a.end(), {"-icount", "shift=0,sleep=off"});
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
    // build/simulator/cli/edgeos -> build/kernel_backend/edgeos-kernel.elf
    const fs::path candidate = self.parent_path().parent_path().parent_path() / "kernel_backend" / "edgeos-kernel.elf";
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
  std::vector<TraceRecord> out;
  if (bytes.size() < 32 || bytes.compare(0, 8, "EDGEOSTR") != 0) {
    throw InputError(fmt::format("{}: not an edgeos kernel trace (no EDGEOSTR header)", name));
  }
  auto u32 = [&](size_t off) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(bytes[off + i]);
    return v;
  };
  auto u64 = [&](size_t off) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(bytes[off + i]);
    return v;
  };
  if (u32(8) != 1 || u32(12) != 40) throw InputError(fmt::format("{}: unsupported trace version or record size", name));
  if ((bytes.size() - 32) % 40 != 0) throw InputError(fmt::format("{}: truncated (a partial record at the end)", name));
  for (size_t off = 32; off + 40 <= bytes.size(); off += 40) {
    TraceRecord r;
    r.time_ns = static_cast<int64_t>(u64(off));
    r.cpu = static_cast<uint16_t>(u32(off + 8) & 0xffff);
    const uint8_t ev = static_cast<uint8_t>(bytes[off + 10]);
    if (ev >= kNumTraceEvents) throw InputError(fmt::format("{}: record {}: unknown event {}", name, (off - 32) / 40, ev));
    r.event = static_cast<TraceEvent>(ev);
    r.fwp = u32(off + 12);
    r.thread = u32(off + 16);
    r.job = u64(off + 24);
    r.value = static_cast<int64_t>(u64(off + 32));
    out.push_back(r);
  }
  return out;
}

BootResult boot(const std::string& blob, int64_t duration_ns, const BootOptions& o) {
  BootResult result;
  const std::string kernel = o.kernel.empty() ? find_kernel() : o.kernel;
  if (!fs::exists(kernel)) throw InputError(fmt::format("--kernel: {} does not exist", kernel));
  if (o.accel != "auto" && o.accel != "tcg" && o.accel != "kvm") throw InputError("--accel: expected auto, tcg or kvm");
  if (o.icount && o.accel == "kvm") throw InputError("--icount needs TCG (QEMU counts instructions only when it emulates them); use --accel tcg or auto");
  {
    // Is QEMU there at all?
    TempDir probe(o.work_dir);
    const Exit e = run_program({o.qemu, "--version"}, probe.path() / "v.log", 20);
    if (!e.started || e.status != 0) {
      throw InputError(fmt::format("cannot run {} (install the Debian package qemu-system-x86)", o.qemu));
    }
  }
  result.accel = o.accel == "auto" ? (!o.icount && kvm_boots(o, kernel) ? "kvm" : "tcg") : o.accel;

  TempDir tmp(o.work_dir);
  const fs::path blob_path = tmp.path() / "scenario.bin";
  write_file_atomically(blob_path.string(), blob);
  const fs::path serial = tmp.path() / "serial.log";
  const fs::path trace = tmp.path() / "trace.bin";
  std::vector<std::string> a = qemu_args(o, result.accel, serial, trace);
  if (o.iso) {
    const fs::path root = tmp.path() / "iso";
    fs::create_directories(root / "boot" / "grub");
    fs::copy_file(kernel, root / "boot" / "edgeos-kernel.elf");
    fs::copy_file(blob_path, root / "boot" / "scenario.bin");
    write_file_atomically((root / "boot" / "grub" / "grub.cfg").string(),
                          fmt::format("set timeout=0\nset default=0\nserial --unit=0 --speed=115200\n"
                                      "terminal_input serial console\nterminal_output serial console\n"
                                      "menuentry \"edgeos\" {{\n  multiboot2 /boot/edgeos-kernel.elf {}\n"
                                      "  module2 /boot/scenario.bin scenario\n  boot\n}}\n",
                                      o.cmdline));
    const fs::path iso = tmp.path() / "edgeos.iso";
    const Exit mk = run_program({"grub-mkrescue", "-o", iso.string(), root.string()}, tmp.path() / "grub.log", 120);
    if (!mk.started || mk.status != 0 || !fs::exists(iso)) {
      throw InputError(fmt::format("grub-mkrescue failed (install grub-pc-bin, grub-efi-amd64-bin, xorriso and mtools): {}",
                                   read_file(tmp.path() / "grub.log")));
    }
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
  const int timeout = o.timeout_s > 0 ? o.timeout_s : 120 + static_cast<int>(60 * (duration_ns / 1'000'000'000 + 1));
  const auto t0 = std::chrono::steady_clock::now();
  const Exit e = run_program(a, tmp.path() / "qemu.log", timeout);
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.qemu_status = e.status;
  result.serial = read_file(serial);
  if (!e.started) throw InputError(fmt::format("cannot run {}", o.qemu));
  if (e.timed_out) {
    result.failure = fmt::format("the kernel did not finish within {} s (give --timeout to wait longer)", timeout);
  } else if (e.status == 33) {
    result.ok = true;
  } else if (e.status == 35) {
    result.failure = "the kernel reported a failure (see its console output)";
  } else {
    result.failure = fmt::format("QEMU exited with status {} (a triple fault resets the machine; -no-reboot makes that an exit): {}",
                                 e.status, read_file(tmp.path() / "qemu.log"));
  }
  if (fs::exists(trace) && fs::file_size(trace) > 0) result.records = decode_kernel_trace(read_file(trace), "kernel trace");
  return result;
}

}  // namespace edgeos::harness
