// edgeos boot: run a scenario on the x86-64 kernel under QEMU, with the same outputs as sim.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "cli.hpp"
#include "options.hpp"
#include "edgeos/harness/boot.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/net/packet.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/simulator/validate.hpp"
#include "edgeos/workloads/scenario_arrivals.hpp"
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
  std::string serve;      // --serve DURATION: the run's length, in real time (no --icount)
  bool check_invariants = false;
  bool plans = false;
  std::string record, replay;
  int port_offset = 0;    // host port = bound port + this
  harness::BootOptions boot;
  bool quiet = false;
};

// The machine's network from the scenario: the first server with a NIC gives the model (unless
// --nic chose one), MAC and address; every bound UDP port is forwarded from 127.0.0.1.
void network_from_scenario(const scenario::Scenario& s, harness::BootOptions& boot, int port_offset) {
  const scenario::Server* with_nic = nullptr;
  for (const scenario::Server& sv : s.servers) {
    if (sv.nic.model != "none" && with_nic == nullptr) with_nic = &sv;
  }
  if (boot.nic.empty()) boot.nic = with_nic != nullptr ? with_nic->nic.model : "none";
  if (with_nic != nullptr) {
    const uint8_t* m = with_nic->nic.mac;
    boot.mac = fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
    const uint32_t ip = with_nic->nic.ipv4;
    boot.guest_ip = fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  }
  for (const scenario::Tenant& t : s.tenants) {
    for (const uint16_t first : t.udp_ports) {
      for (uint32_t k = 0; k < t.instances; ++k) {  // instance k is bound to port + k
        const int p = first + static_cast<int>(k);
        const int host = p + port_offset;
        if (host < 1 || host > 65535) {
          throw InputError(fmt::format("--port-offset: UDP port {} of tenant \"{}\" would be forwarded from host port {}, "
                                       "outside 1 to 65535", p, t.name, host));
        }
        boot.udp_forwards.push_back({static_cast<uint16_t>(host), static_cast<uint16_t>(p)});
      }
    }
  }
}

// A scenario as the kernel runs it: the file with --seed and --duration applied (one CPU), and
// the names of its objects. The kernel instantiates in the canonical order, so the simulator's
// instantiation of the same scenario has the same thread and FWP indices.
struct KernelScenario {
  scenario::Scenario s;
  TraceNames names;
  std::vector<uint32_t> tenant_of_fwp;
  std::set<uint32_t> not_tasks;  // thread indices of threads whose kernel program is not "task"
  int cpus = 1;                   // all servers' CPUs: the machine the kernel boots on
};

// Adds `word` to the kernel's command line (space-separated words; start.cpp's cmdline_has_word).
void add_cmdline_word(std::string& cmdline, const char* word) {
  if (!cmdline.empty()) cmdline += ' ';
  cmdline += word;
}

KernelScenario kernel_scenario(const std::string& file, const std::string& seed, const std::string& duration) {
  KernelScenario k;
  scenario::Scenario& s = k.s;
  s = scenario::load_scenario(file);
  if (!seed.empty()) s.seed = parse_uint(seed, "--seed");
  if (!duration.empty()) {
    s.duration = parse_duration(duration, "--duration");
    if (s.duration <= Duration::zero()) throw InputError("--duration: must be > 0");
  }
  uint32_t cpus = 0;
  for (const scenario::Server& sv : s.servers) cpus += sv.cpus;
  if (cpus > 16) {
    throw InputError(fmt::format("{}: the scenario has {} CPUs; the kernel backend runs at most 16 (one machine)", s.file, cpus));
  }
  k.cpus = static_cast<int>(cpus);
  CountingSink none;
  sim::ScenarioRun layout(s, {}, none);
  k.names = layout.names();
  k.tenant_of_fwp = layout.layout().tenant_of_fwp;
  for (size_t t = 0; t < s.threads.size(); ++t) {
    if (s.threads[t].program == 0) continue;
    for (const ThreadId id : layout.layout().threads[t]) k.not_tasks.insert(id.index);
  }
  k.names.run = s.name + " [kernel]";
  return k;
}

int run_boot(BootCmdOptions& o) {
  if (!o.serve.empty()) {
    if (o.boot.icount) {
      throw InputError("--serve: the guest serves real clients in real time; under --icount its clock would race ahead of "
                       "them (leave --icount out)");
    }
    if (!o.duration.empty()) throw InputError("--serve: give the run's length once (--serve or --duration)");
    o.duration = o.serve;
  }
  const KernelScenario k = kernel_scenario(o.file, o.seed, o.duration);
  network_from_scenario(k.s, o.boot, o.port_offset);
  if (o.check_invariants) add_cmdline_word(o.boot.cmdline, "invariants");
  if (o.plans) add_cmdline_word(o.boot.cmdline, "plans");
  if (!o.serve.empty()) add_cmdline_word(o.boot.cmdline, "stream");  // the trace kept if stopped
  if (!o.record.empty() && !o.replay.empty()) throw InputError("--record and --replay: one of them");
  if (!o.record.empty() || !o.replay.empty()) {
    if (!o.serve.empty()) throw InputError("--record/--replay: not with --serve (a recorded run has QEMU's counted clock)");
    o.boot.rr_mode = o.record.empty() ? "replay" : "record";
    o.boot.rr_file = o.record.empty() ? o.replay : o.record;
    o.boot.accel = "tcg";
  }
  const scenario::Scenario& s = k.s;
  const TraceNames& names = k.names;
  const std::vector<uint32_t>& tenant_of_fwp = k.tenant_of_fwp;
  const std::string blob = scenario::compile_scenario(s);

  const bool bochs = o.boot.emulator == "bochs";
  if (!o.quiet) {
    if (bochs) {
      fmt::print(stderr, "booting {} under Bochs ({})...\n", s.name, o.boot.bochs_cpu);
    } else {
      fmt::print(stderr, "booting {} under QEMU ({}{})...\n", s.name, o.boot.accel, o.boot.icount ? ", icount" : "");
    }
  }
  o.boot.cpus = k.cpus;
  if (!o.quiet && !o.boot.udp_forwards.empty()) {
    fmt::print(stderr, "{} NIC ({}, {}); UDP", o.boot.nic, o.boot.mac, o.boot.guest_ip);
    for (const harness::BootOptions::Forward& f : o.boot.udp_forwards) fmt::print(stderr, " 127.0.0.1:{}->{}", f.host, f.guest);
    fmt::print(stderr, "{}\n", o.serve.empty() ? "" : fmt::format(", serving for {}", o.serve));
  }
  // A signal stops the machine; with --serve, what it did until then is written, marked incomplete
  // (a server is stopped by Ctrl-C); otherwise nothing is written, as for an interrupted sim.
  StopOnSignal stop_on_signal;
  o.boot.stop = stop_on_signal.flag();
  const harness::BootResult r = harness::boot(blob, s.duration.ns(), o.boot);
  if (r.stopped && o.serve.empty()) return 128 + stop_on_signal.signal();
  write_file_atomically(o.out + "/serial.log", r.serial);
  if (!r.ok && !r.stopped) {
    fmt::print(stderr, "{}", r.serial);
    throw std::runtime_error(r.failure);  // exit 1: the kernel or QEMU failed, not the input
  }
  Instant end = Instant::epoch() + s.duration;
  if (r.stopped) end = Instant::epoch() + Duration::nanoseconds(r.records.empty() ? 0 : r.records.back().time_ns);
  SummaryBuilder summary;
  std::vector<std::string> groups;
  for (const scenario::Tenant& t : s.tenants) groups.push_back(t.name);
  summary.set_groups(tenant_of_fwp, groups);
  for (const TraceRecord& rec : r.records) summary.write(rec);
  Summary sum = summary.finish(names, Instant::epoch(), end);
  sum.drop_cause_name = [](int64_t cause) -> const char* {
    return cause > 0 && cause < static_cast<int64_t>(net::kDropCauseCount) ? net::drop_cause_name(static_cast<net::DropCause>(cause))
                                                                          : nullptr;
  };
  if (o.trace == "csv" || o.trace == "both") write_trace_csv(o.out + "/trace.csv", r.records);
  if (o.trace == "perfetto" || o.trace == "both") write_perfetto_json(o.out + "/trace.perfetto.json", r.records, names, end);
  std::string json = summary_json(sum);
  json.insert(json.find('{') + 1, fmt::format("\n  \"backend\": \"kernel\",\n  \"emulator\": \"{}\",\n  \"accel\": \"{}\",\n  \"icount\": {},\n  \"wall_seconds\": {:.3f},\n  \"complete\": {},",
                                              o.boot.emulator, r.accel, o.boot.icount || bochs, r.wall_seconds, !r.stopped));
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
  if (r.stopped) {
    if (!o.quiet) fmt::print(stderr, "stopped by {}: the outputs cover the run until then (summary.json: \"complete\": false)\n",
                             signal_name(stop_on_signal.signal()));
    return 128 + stop_on_signal.signal();
  }
  return kExitOk;
}

struct ValidateOptions {
  std::string file;
  std::string out = "out/validate";
  std::string seed;
  std::string duration;
  harness::BootOptions boot;
  bool plans = false;
  bool quiet = false;
};

std::string us(double ns) { return fmt::format("{:.1f}us", ns / 1e3); }

std::string stats_line(const sim::ResponseStats& r) {
  return fmt::format("mean {}, p50 {}, p99 {}, max {}, min {}", us(r.mean_ns), us(static_cast<double>(r.p50_ns)),
                     us(static_cast<double>(r.p99_ns)), us(static_cast<double>(r.max_ns)), us(static_cast<double>(r.min_ns)));
}

// The kernel's own latency reports at the run's end (kernel_backend/kernel/kernel.cpp, Latency):
// "WHAT: N NOUN, mean M, max X TSC cycles", by WHAT; those it did not print are left out.
nlohmann::json kernel_latencies(const std::string& serial) {
  static constexpr std::pair<const char*, const char*> kReports[] = {
      {"timer_to_user", "timer to user mode: "},
      {"migration", "migration, decision to user mode on the new CPU: "},
      {"remote_dispatch", "remote dispatch, decision to user mode: "},
  };
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, prefix] : kReports) {
    const size_t at = serial.find(prefix);
    if (at == std::string::npos) continue;
    unsigned long count = 0, mean = 0, max = 0;
    if (std::sscanf(serial.c_str() + at + std::strlen(prefix), "%lu %*[^,], mean %lu, max %lu", &count, &mean, &max) == 3) {
      out[key] = {{"count", count}, {"mean", mean}, {"max", max}};
    }
  }
  return out;
}

std::vector<int64_t> differences_of(const sim::Comparison& c) {
  std::vector<int64_t> d;
  for (const auto& [key, v] : c.response_differences) d.push_back(v);
  return d;
}

nlohmann::json jobs_json(const std::vector<sim::JobKey>& keys, const TraceNames& names) {
  nlohmann::json a = nlohmann::json::array();
  for (const sim::JobKey& k : keys) a.push_back(sim::job_name(k, names));
  return a;
}

nlohmann::json stats_json(const sim::ResponseStats& r) {
  return {{"jobs", r.jobs},         {"mean_ns", r.mean_ns}, {"mean_abs_ns", r.mean_abs_ns}, {"min_ns", r.min_ns},
          {"p50_ns", r.p50_ns},     {"p99_ns", r.p99_ns},   {"max_ns", r.max_ns}};
}

// The order, misses and completions of a comparison, as report lines.
std::vector<std::string> comparison_lines(const sim::Comparison& c, const TraceNames& names) {
  std::vector<std::string> lines;
  const auto list = [&names](const std::vector<sim::JobKey>& keys) {
    std::string out;
    for (size_t i = 0; i < keys.size() && i < 8; ++i) out += (i == 0 ? "" : ", ") + sim::job_name(keys[i], names);
    if (keys.size() > 8) out += fmt::format(", ... ({} in all)", keys.size());
    return out;
  };
  const auto named = [&names](const std::string& text) {
    // "thread#job" with the thread's index -> with its name.
    const size_t hash = text.find('#');
    if (hash == std::string::npos) return text;
    return sim::job_name({static_cast<uint32_t>(std::stoul(text.substr(0, hash))), std::stoull(text.substr(hash + 1))}, names);
  };
  if (c.same_order) {
    lines.push_back(fmt::format("job order        identical on every CPU ({} completions)", c.completions));
  } else {
    lines.push_back(fmt::format("job order        DIFFERS on CPU {} at completion {}: the simulator completes {}, the kernel {}",
                                c.diverge_cpu, c.diverge_index + 1, named(c.diverge_want), named(c.diverge_got)));
  }
  if (c.same_misses()) {
    lines.push_back("deadline misses  identical");
  } else {
    if (!c.missed_only_by_got.empty()) lines.push_back("deadline misses  only the kernel's: " + list(c.missed_only_by_got));
    if (!c.missed_only_by_want.empty()) lines.push_back("deadline misses  only the simulator's: " + list(c.missed_only_by_want));
  }
  if (!c.completed_only_by_got.empty()) lines.push_back("completed only by the kernel: " + list(c.completed_only_by_got));
  if (!c.completed_only_by_want.empty()) lines.push_back("completed only by the simulator: " + list(c.completed_only_by_want));
  return lines;
}

int run_validate(ValidateOptions& o) {
  const KernelScenario k = kernel_scenario(o.file, o.seed, o.duration);
  network_from_scenario(k.s, o.boot, 0);
  o.boot.udp_forwards.clear();  // an --icount run: no real clients
  const scenario::Scenario& s = k.s;
  const Instant end = Instant::epoch() + s.duration;
  for (const scenario::ThreadSpec& t : s.threads) {
    if (o.quiet) break;
    if (t.program != 0) {
      fmt::print(stderr, "note: thread {} runs another program than its task on the kernel (the simulator runs its task): "
                 "its jobs are left out of the comparison\n", t.name);
    }
  }

  // The simulation, and with --plans the plan of each job it ran, by canonical thread instance.
  TraceBuffer simulated;
  sim::Plans sim_plans;
  {
    sim::ScenarioRun run(s, {}, simulated);
    std::map<uint32_t, uint32_t> canonical;  // thread index -> canonical instance index
    if (o.plans) {
      for (const std::vector<ThreadId>& instances : run.layout().threads) {
        for (const ThreadId id : instances) canonical.emplace(id.index, static_cast<uint32_t>(canonical.size()));
      }
      run.simulator().on_plan([&](ThreadId id, uint64_t job, const std::vector<Duration>& segments) {
        std::vector<int64_t>& out = sim_plans[{canonical.at(id.index), job}];
        for (const Duration d : segments) out.push_back(d.ns());
      });
    }
    run.run();
  }
  if (o.plans) add_cmdline_word(o.boot.cmdline, "plans");
  // The kernel, deterministic: QEMU's instruction clock, or Bochs's.
  o.boot.icount = o.boot.emulator == "qemu";
  o.boot.accel = "tcg";
  if (!o.quiet) fmt::print(stderr, "simulated {}; booting it under {}...\n", s.name, o.boot.emulator == "bochs" ? "Bochs" : "QEMU (tcg, icount)");
  o.boot.cpus = k.cpus;
  const harness::BootResult r = harness::boot(scenario::compile_scenario(s), s.duration.ns(), o.boot);
  write_file_atomically(o.out + "/kernel/serial.log", r.serial);
  if (!r.ok) {
    fmt::print(stderr, "{}", r.serial);
    throw std::runtime_error(r.failure);
  }
  write_trace_csv(o.out + "/kernel/trace.csv", r.records);
  write_trace_csv(o.out + "/sim/trace.csv", simulated.records());

  const sim::Comparison c = sim::compare_runs(r.records, simulated.records(), k.not_tasks);
  std::optional<sim::PlanComparison> plans;
  if (o.plans) plans = sim::compare_plans(sim::kernel_plans(r.serial), sim_plans);
  const bool validated = c.identical() && (!plans || plans->identical());
  const sim::ResponseStats before = sim::response_stats(differences_of(c));
  // The overheads that account for the differences, and the simulation that charges them.
  const sim::OverheadFit fit = sim::fit_overheads(simulated.records(), c);
  std::optional<sim::Comparison> aware;
  if (fit.solved) {
    TraceBuffer with_overheads;
    sim::ScenarioOptions opt;
    opt.overheads = fit.model;
    sim::ScenarioRun run(s, opt, with_overheads);
    run.run();
    aware = sim::compare_runs(r.records, with_overheads.records(), k.not_tasks);
  }
  const sim::ResponseStats after = aware ? sim::response_stats(differences_of(*aware)) : sim::ResponseStats{};

  nlohmann::json j = {
      {"scenario", s.name},
      {"seed", s.seed},
      {"duration_ns", s.duration.ns()},
      {"emulator", o.boot.emulator},
      {"validated", validated},
      {"same_job_order", c.same_order},
      {"completions", c.completions},
      {"same_deadline_misses", c.same_misses()},
      {"missed_only_by_kernel", jobs_json(c.missed_only_by_got, k.names)},
      {"missed_only_by_simulator", jobs_json(c.missed_only_by_want, k.names)},
      {"completed_only_by_kernel", jobs_json(c.completed_only_by_got, k.names)},
      {"completed_only_by_simulator", jobs_json(c.completed_only_by_want, k.names)},
      {"response_difference", stats_json(before)},
  };
  j["kernel_latencies_tsc"] = kernel_latencies(r.serial);
  const scenario::ThreadInstances instances(s);
  const auto plan_name = [&](const sim::PlanKey& key) {
    return fmt::format("{}#{}", key.first < instances.size() ? instances.name(key.first) : std::to_string(key.first), key.second);
  };
  if (plans) {
    j["job_plans"] = {{"compared", plans->compared}, {"identical", plans->identical()}, {"differing", plans->differing},
                      {"planned_only_by_kernel", plans->only_got}, {"planned_only_by_simulator", plans->only_want}};
    if (!plans->identical()) {
      j["job_plans"]["first_difference"] = {{"job", plan_name(plans->first_difference)},
                                            {"kernel_ns", plans->first_got}, {"simulator_ns", plans->first_want}};
    }
  }
  if (!c.same_order) {
    j["first_order_difference"] = {{"cpu", c.diverge_cpu}, {"completion", c.diverge_index + 1}};
  }
  if (fit.solved) {
    const sim::OverheadModel& m = fit.model;
    j["fitted_overheads_ns"] = {{"release", m[Overhead::kRelease].ns()},
                                {"schedule", m[Overhead::kSchedule].ns()},
                                {"switch", m[Overhead::kContextSwitch].ns()},
                                {"timer", m[Overhead::kTimer].ns()},
                                {"invocation", m[Overhead::kInvocation].ns()},
                                {"migration", m[Overhead::kMigration].ns()},
                                {"equations", fit.equations},
                                {"sim_option", "--overheads " + sim::format_overheads(m)}};
    j["with_fitted_overheads"] = {{"same_job_order", aware->same_order},
                                  {"same_deadline_misses", aware->same_misses()},
                                  {"response_difference", stats_json(after)}};
  }
  write_file_atomically(o.out + "/validate.json", j.dump(2) + "\n");

  if (!o.quiet) {
    fmt::print("== {} | validate: the core-only simulator against the kernel under {} | {} run, seed {} ==\n", s.name,
               o.boot.emulator == "bochs" ? "Bochs" : "QEMU (tcg, icount)", format_duration_short(end - Instant::epoch()),
               s.seed);
    for (const std::string& line : comparison_lines(c, k.names)) fmt::print("{}\n", line);
    if (plans && plans->identical()) {
      fmt::print("job plans        identical ({} jobs drawn by both; {} by the kernel only, {} by the simulator only)\n",
                 plans->compared, plans->only_got, plans->only_want);
    } else if (plans) {
      fmt::print("job plans        DIFFER in {} of {} jobs; the first, {}: the simulator drew [{}] ns, the kernel [{}]\n",
                 plans->differing, plans->compared, plan_name(plans->first_difference), fmt::join(plans->first_want, " "),
                 fmt::join(plans->first_got, " "));
    }
    if (before.jobs > 0) {
      fmt::print("response time, kernel - simulator, {} jobs: {}\n", before.jobs, stats_line(before));
      const auto worst = std::max_element(c.response_differences.begin(), c.response_differences.end(),
                                          [](const auto& a, const auto& b) { return a.second < b.second; });
      fmt::print("  the most: {} ({})\n", sim::job_name(worst->first, k.names), us(static_cast<double>(worst->second)));
    }
    if (fit.solved) {
      const sim::OverheadModel& m = fit.model;
      fmt::print("kernel overheads fitted to them ({} jobs): entry {}, release {}, dispatch {}, call or reply {}, migration {}\n",
                 fit.equations, format_duration(m[Overhead::kSchedule]), format_duration(m[Overhead::kRelease]),
                 format_duration(m[Overhead::kContextSwitch]), format_duration(m[Overhead::kInvocation]),
                 format_duration(m[Overhead::kMigration]));
      fmt::print("  simulated with them (edgeos sim --overheads {}): kernel - simulator {}\n", sim::format_overheads(m),
                 stats_line(after));
      if (!aware->identical()) fmt::print("  (that simulation's job order or misses differ from the kernel's)\n");
    }
    // Measured by the kernel itself, in TSC cycles of the emulated machine (under -icount, guest
    // instructions of all its CPUs): not host time.
    const nlohmann::json& lat = j["kernel_latencies_tsc"];
    std::string measured;
    for (const auto& [key, label] : {std::pair{"timer_to_user", "timer to user mode"}, std::pair{"migration", "migration"},
                                     std::pair{"remote_dispatch", "dispatch decided on another CPU"}}) {
      if (!lat.contains(key)) continue;
      measured += fmt::format("{}{} mean {} (max {}, {} times)", measured.empty() ? "" : "; ", label,
                              lat[key]["mean"].get<uint64_t>(), lat[key]["max"].get<uint64_t>(), lat[key]["count"].get<uint64_t>());
    }
    if (!measured.empty()) fmt::print("kernel's own latencies, TSC cycles of the emulated machine: {}\n", measured);
    fmt::print("{}\n-> {}/{{validate.json, sim/trace.csv, kernel/trace.csv, kernel/serial.log}}\n",
               validated ? "VALIDATED: the kernel completes the same jobs in the same order and misses the same deadlines"
                         : "NOT VALIDATED: the kernel's schedule differs from the simulator's (see above)",
               o.out);
  }
  return validated ? kExitOk : kExitDiffers;
}

// The options of the machine the kernel boots on, shared by boot and validate.
void add_machine_options(CLI::App* cmd, harness::BootOptions& boot) {
  cmd->add_option("--emulator", boot.emulator,
                  "qemu, or bochs: the GRUB ISO under Bochs, whose CPU model has PCID, the TSC-deadline timer and\n"
                  "x2APIC (QEMU's TCG CPU has none of them), with a clock of one instruction per nanosecond")
      ->capture_default_str()
      ->check(CLI::IsMember({"qemu", "bochs"}));
  cmd->add_option("--bochs-cpu", boot.bochs_cpu, "with --emulator bochs: the CPU model (bochs --help cpu lists them)")
      ->capture_default_str();
  cmd->add_option("--kernel", boot.kernel, "the kernel image (default: the one built next to this program)");
  cmd->add_option("--nic", boot.nic,
                  "the machine's network card: none, virtio (virtio 1.0 virtio-net-pci) or e1000 (82540EM), on\n"
                  "QEMU's user-mode network (default: the scenario's server nic, else none); the kernel lists the\n"
                  "PCI devices it finds on its console")
      ->check(CLI::IsMember({"none", "virtio", "e1000"}));
  cmd->add_option("--timeout", boot.timeout_s, "seconds of wall time before giving up (default: from the duration)")
      ->check(positive_seconds());
  cmd->add_option("--cmdline", boot.cmdline, "the kernel's command line");
  cmd->add_option("--memory", boot.memory, "the machine's memory, as QEMU's -m takes it (256M, 2G)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        const size_t digits = v.find_first_not_of("0123456789");
        const bool ok = digits > 0 && digits != std::string::npos && digits + 1 == v.size() &&
                        (v.back() == 'M' || v.back() == 'G');
        return ok ? std::string() : std::string("expected a size in M or G, e.g. 256M or 2G");
      });
}

}  // namespace

Action add_boot(CLI::App& app) {
  auto opt = std::make_shared<BootCmdOptions>();
  opt->boot.nic = "";  // the scenario's, unless --nic says otherwise
  CLI::App* cmd = app.add_subcommand(
      "boot",
      "Run a scenario on the x86-64 kernel under QEMU (or Bochs): compile it, boot the kernel with it as a\n"
      "boot module, and write the kernel's trace as trace.csv, trace.perfetto.json and summary.json\n"
      "(the same files as sim), plus the kernel's console output (serial.log).");
  cmd->add_option("scenario", opt->file, "scenario file (TOML); the machine gets its CPUs (at most 16)")->required();
  cmd->add_option("--out", opt->out, "output directory")->capture_default_str()->check(output_dir());
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
  cmd->add_option("--serve", opt->serve,
                  "serve real clients for this long (a duration, e.g. 30s), in real time: the scenario's bound UDP\n"
                  "ports are forwarded from 127.0.0.1 (plus --port-offset); not with --icount");
  cmd->add_option("--port-offset", opt->port_offset,
                  "forward each bound UDP port P from host port P + this (default 0)")
      ->capture_default_str();
  cmd->add_option("--record", opt->record,
                  "record the run with QEMU's record/replay into this file: every input from outside the guest\n"
                  "(network frames included) is kept, so that --replay runs it again identically (implies a\n"
                  "deterministic clock)");
  cmd->add_option("--replay", opt->replay, "run again a run recorded with --record, from its file");
  cmd->add_flag("--check-invariants", opt->check_invariants,
                "the kernel checks the core's invariants after every event (slower; a broken one stops it\n"
                "with a panic naming it)");
  cmd->add_flag("--plans", opt->plans,
                "the kernel prints each job's plan on its console as it draws it (serial.log): \"plan: THREAD\n"
                "JOB OWN [CALLEE OWN]...\", the thread's canonical index, the job, its segments in ns; the\n"
                "simulator draws the same (the workload driver, workloads/job_driver.hpp)");
  cmd->add_option("--net", opt->boot.net,
                  "the network behind the NIC: user (QEMU's user-mode network; bound ports forwarded from\n"
                  "127.0.0.1), dgram:LOCAL:REMOTE (each Ethernet frame a UDP datagram between 127.0.0.1:LOCAL\n"
                  "and 127.0.0.1:REMOTE: raw frames for tests), or tap:IFNAME (an existing tap device)")
      ->capture_default_str();
  add_machine_options(cmd, opt->boot);
  cmd->add_flag("--quiet", opt->quiet, "print nothing; only write the files");
  return [cmd, opt]() { return cmd->parsed() ? run_boot(*opt) : -1; };
}

Action add_validate(CLI::App& app) {
  auto opt = std::make_shared<ValidateOptions>();
  opt->boot.nic = "";
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Run a scenario in the core-only simulator and on the x86-64 kernel (QEMU with -icount, or Bochs) and\n"
      "compare them job by job: the same jobs completed in the same order on every CPU, the same deadline\n"
      "misses, and the per-job response-time differences, which are the kernel's real overheads. Those are\n"
      "fitted to the simulator's overhead model (entry, release, dispatch, call/reply, migration) and the scenario is\n"
      "simulated again with them (edgeos sim --overheads). Writes validate.json, both traces and the console.\n"
      "Exit code 3 when the schedules differ.");
  cmd->add_option("scenario", opt->file, "scenario file (TOML); the machine gets its CPUs (at most 16)")->required();
  cmd->add_option("--out", opt->out, "output directory")->capture_default_str()->check(output_dir());
  cmd->add_option("--seed", opt->seed, "replace the scenario's seed");
  cmd->add_option("--duration", opt->duration, "replace the scenario's duration (with a unit)");
  add_machine_options(cmd, opt->boot);
  cmd->add_flag("--plans", opt->plans,
                "compare each job's plan too: the kernel prints the costs it draws (boot --plans) and they must\n"
                "equal the simulator's, job by job (one workload driver, workloads/job_driver.hpp); printing them\n"
                "adds kernel work, so the fitted overheads grow a little");
  cmd->add_flag("--quiet", opt->quiet, "print nothing; only write the files");
  return [cmd, opt]() { return cmd->parsed() ? run_validate(*opt) : -1; };
}

}  // namespace edgeos::cli
