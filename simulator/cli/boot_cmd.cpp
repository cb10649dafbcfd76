// edgeos boot: run a scenario on the x86-64 kernel under QEMU, with the same outputs as sim.
#include <fmt/format.h>

#include <memory>

#include "cli.hpp"
#include "edgeos/harness/boot.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/scenario_compile.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::cli {

namespace {

struct BootCmdOptions {
  std::string file;
  std::string out = "out/boot";
  std::string seed;
  std::string duration;
  std::string trace = "both";
  harness::BootOptions boot;
  bool quiet = false;
};

int run_boot(BootCmdOptions& o) {
  scenario::Scenario s = scenario::load_scenario(o.file);
  if (!o.seed.empty()) s.seed = parse_uint(o.seed, "--seed");
  if (!o.duration.empty()) {
    s.duration = parse_duration(o.duration, "--duration");
    if (s.duration <= Duration::zero()) throw InputError("--duration: must be > 0");
  }
  uint32_t cpus = 0;
  for (const scenario::Server& sv : s.servers) cpus += sv.cpus;
  if (cpus != 1) {
    throw InputError(fmt::format("{}: the scenario has {} CPUs; the kernel backend runs scenarios on one CPU for now", s.file, cpus));
  }
  // Names for the trace: the kernel instantiates in the canonical order, so the simulator's
  // instantiation of the same scenario has the same thread and FWP indices.
  TraceNames names;
  std::vector<uint32_t> tenant_of_fwp;
  {
    CountingSink none;
    sim::ScenarioRun layout(s, {}, none);
    names = layout.names();
    tenant_of_fwp = layout.layout().tenant_of_fwp;
  }
  names.run = s.name + " [kernel]";
  const std::string blob = scenario::compile_scenario(s);

  const bool bochs = o.boot.emulator == "bochs";
  if (!o.quiet) {
    if (bochs) {
      fmt::print(stderr, "booting {} under Bochs ({})...\n", s.name, o.boot.bochs_cpu);
    } else {
      fmt::print(stderr, "booting {} under QEMU ({}{})...\n", s.name, o.boot.accel, o.boot.icount ? ", icount" : "");
    }
  }
  const harness::BootResult r = harness::boot(blob, s.duration.ns(), o.boot);
  write_file_atomically(o.out + "/serial.log", r.serial);
  if (!r.ok) {
    fmt::print(stderr, "{}", r.serial);
    throw std::runtime_error(r.failure);  // exit 1: the kernel or QEMU failed, not the input
  }
  const Instant end = Instant::epoch() + s.duration;
  SummaryBuilder summary;
  std::vector<std::string> groups;
  for (const scenario::Tenant& t : s.tenants) groups.push_back(t.name);
  summary.set_groups(tenant_of_fwp, groups);
  for (const TraceRecord& rec : r.records) summary.write(rec);
  const Summary sum = summary.finish(names, Instant::epoch(), end);
  if (o.trace == "csv" || o.trace == "both") write_trace_csv(o.out + "/trace.csv", r.records);
  if (o.trace == "perfetto" || o.trace == "both") write_perfetto_json(o.out + "/trace.perfetto.json", r.records, names, end);
  std::string json = summary_json(sum);
  json.insert(json.find('{') + 1, fmt::format("\n  \"backend\": \"kernel\",\n  \"emulator\": \"{}\",\n  \"accel\": \"{}\",\n  \"icount\": {},\n  \"wall_seconds\": {:.3f},",
                                              o.boot.emulator, r.accel, o.boot.icount || bochs, r.wall_seconds));
  write_file_atomically(o.out + "/summary.json", json);
  if (!o.quiet) {
    if (bochs) {
      fmt::print("== {} | kernel under Bochs ({}) | {} run, seed {} ==\n", s.name, o.boot.bochs_cpu,
                 format_duration_short(s.duration), s.seed);
    } else {
      fmt::print("== {} | kernel under QEMU ({}{}) | {} run, seed {} ==\n", s.name, r.accel, o.boot.icount ? ", icount" : "",
                 format_duration_short(s.duration), s.seed);
    }
    fmt::print("{}", format_summary_table(sum));
    fmt::print("\n{} trace records in {:.1f} s of wall time -> {}/{{summary.json, trace.csv, trace.perfetto.json, serial.log}}\n",
               r.records.size(), r.wall_seconds, o.out);
  }
  return kExitOk;
}

}  // namespace

Action add_boot(CLI::App& app) {
  auto opt = std::make_shared<BootCmdOptions>();
  CLI::App* cmd = app.add_subcommand(
      "boot",
      "Run a scenario on the x86-64 kernel under QEMU (or Bochs): compile it, boot the kernel with it as a\n"
      "boot module, and write the kernel's trace as trace.csv, trace.perfetto.json and summary.json\n"
      "(the same files as sim), plus the kernel's console output (serial.log).");
  cmd->add_option("scenario", opt->file, "scenario file (TOML), one CPU")->required();
  cmd->add_option("--out", opt->out, "output directory")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "replace the scenario's seed");
  cmd->add_option("--duration", opt->duration, "replace the scenario's duration (with a unit)");
  cmd->add_option("--trace", opt->trace, "which trace files to write: csv, perfetto, both or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"csv", "perfetto", "both", "none"}));
  cmd->add_option("--accel", opt->boot.accel,
                  "auto (KVM if it really boots this kernel here, else TCG), tcg or kvm")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "tcg", "kvm"}));
  cmd->add_flag("--icount", opt->boot.icount,
                "deterministic clock: QEMU counts one instruction per nanosecond (TCG); two runs give identical traces");
  cmd->add_flag("--iso", opt->boot.iso, "boot from a GRUB ISO (grub-mkrescue) instead of QEMU's -kernel");
  cmd->add_flag("--uefi", opt->boot.uefi, "with --iso: boot under UEFI firmware (OVMF) instead of SeaBIOS");
  cmd->add_option("--emulator", opt->boot.emulator,
                  "qemu, or bochs: the GRUB ISO under Bochs, whose CPU model has PCID, the TSC-deadline timer and\n"
                  "x2APIC (QEMU's TCG CPU has none of them), with a clock of one instruction per nanosecond")
      ->capture_default_str()
      ->check(CLI::IsMember({"qemu", "bochs"}));
  cmd->add_option("--bochs-cpu", opt->boot.bochs_cpu, "with --emulator bochs: the CPU model (bochs --help cpu lists them)")
      ->capture_default_str();
  cmd->add_option("--kernel", opt->boot.kernel, "the kernel image (default: the one built next to this program)");
  cmd->add_option("--timeout", opt->boot.timeout_s, "seconds of wall time before giving up (default: from the duration)");
  cmd->add_option("--cmdline", opt->boot.cmdline, "the kernel's command line");
  cmd->add_option("--memory", opt->boot.memory, "the machine's memory, as QEMU's -m takes it (256M, 2G)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        const size_t digits = v.find_first_not_of("0123456789");
        const bool ok = digits > 0 && digits != std::string::npos && digits + 1 == v.size() &&
                        (v.back() == 'M' || v.back() == 'G');
        return ok ? std::string() : std::string("expected a size in M or G, e.g. 256M or 2G");
      });
  cmd->add_flag("--quiet", opt->quiet, "print nothing; only write the files");
  return [cmd, opt]() { return cmd->parsed() ? run_boot(*opt) : -1; };
}

}  // namespace edgeos::cli
