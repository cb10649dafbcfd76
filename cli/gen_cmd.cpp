// edgeos gen: generate workloads. `gen tasks` writes a random task set as CSV; `gen poisson`,
// `mmpp`, `iot`, `ar`, `kv` write arrival traces (CSV or JSON Lines, docs/traces.md) that a
// scenario's `trace` workload replays; `gen pcap` writes a packet capture.
#include <fmt/format.h>

#include <memory>

#include "cli.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "edgeos/workloads/generators.hpp"
#include "edgeos/workloads/scenario_toml.hpp"
#include "edgeos/workloads/task_set_io.hpp"
#include "options.hpp"

namespace edgeos::cli {
namespace {

struct GenTaskOptions {
  GeneratorOptions gen;
  std::string utilisation = "0.5";
  uint32_t cpus = 1;
  std::string fit = "worst";
  std::string seed = "1";
  std::string out = "out/tasks.csv";
};

int run_gen_tasks(const GenTaskOptions& o) {
  gen::TaskSetParams p = o.gen.params();
  if (o.cpus == 0) throw InputError("--cpus: must be >= 1");
  p.utilisation = parse_number(o.utilisation, "--utilisation");
  if (p.utilisation > 1.0 && p.utilisations == gen::Utilisations::kUUniFast) p.utilisations = gen::Utilisations::kUUniFastDiscard;
  const uint64_t seed = parse_uint(o.seed, "--seed");
  Rng rng(seed);
  const std::vector<analysis::Task> tasks = gen::generate(rng, p);
  std::vector<uint32_t> cpu;
  if (o.cpus > 1) {
    const analysis::Partition part = analysis::partition(tasks, o.cpus, parse_fit(o.fit, "--fit"), [](const auto& ts) {
      return analysis::compare_utilisation(ts, 1, 1) <= 0;
    });
    if (!part.ok) throw InputError("gen tasks: the generated set does not fit " + std::to_string(o.cpus) + " CPUs: " + part.detail);
    cpu = part.cpu;
  }
  const TaskSet set = gen::to_task_set(tasks, cpu, o.cpus, fmt::format("generated U={} seed={}", p.utilisation, seed));
  write_task_set_csv(o.out, set);
  fmt::print("{} tasks, U = {:.4f} on {} CPU(s) -> {}\n", tasks.size(), analysis::utilisation(tasks), o.cpus, o.out);
  return kExitOk;
}

struct GenTraceOptions {
  std::string kind;
  std::string out;
  std::string duration = "10s";
  std::string seed = "1";
  std::string tenant = "t0";
  std::string cost;
  std::string deadline;
  std::string rate = "1k/s";
  std::string rates, sojourn;
  uint32_t sensors = 100;
  std::string period = "1s";
  std::string jitter = "0ns";
  std::vector<std::string> bursts;
  double fps = 30;
  double get_ratio = 30.0 / 31.0;
  std::string cost_base, cost_per_kib;
  uint16_t port = 11211;
};

Duration positive_duration(const std::string& text, const char* what) {
  const Duration d = parse_duration(text, what);
  if (d <= Duration::zero()) throw InputError(fmt::format("{}: must be > 0, got '{}'", what, text));
  return d;
}

int run_gen_trace(const GenTraceOptions& o) {
  const Duration horizon = positive_duration(o.duration, "--duration");
  const Instant start = Instant::epoch();
  const Instant stop = start + horizon;
  const Rng rng(parse_uint(o.seed, "--seed"));
  const double rate = scenario::parse_rate(o.rate, "--rate");
  const Duration deadline = o.deadline.empty() ? Duration::zero() : positive_duration(o.deadline, "--deadline");
  const Duration fixed = o.cost.empty() ? Duration::zero() : positive_duration(o.cost, "--cost");
  const Duration base = o.cost_base.empty() ? Duration::zero() : parse_duration(o.cost_base, "--cost-base");
  const Duration per_kib = o.cost_per_kib.empty() ? Duration::zero() : parse_duration(o.cost_per_kib, "--cost-per-kib");
  if (base < Duration::zero() || per_kib < Duration::zero()) throw InputError("--cost-base, --cost-per-kib: must be >= 0");
  arrivals::CostFn cost;
  if (fixed > Duration::zero() || base > Duration::zero() || per_kib > Duration::zero()) {
    cost = [=](Rng&, uint32_t size) {
      return max(Duration::nanoseconds(1), (fixed > Duration::zero() ? fixed : base) + Duration::nanoseconds(per_kib.ns() * int64_t{size} / 1024));
    };
  }

  std::unique_ptr<arrivals::Source> src;
  if (o.kind == "poisson") {
    src = arrivals::poisson(rng, rate, start, stop, 0, cost);
  } else if (o.kind == "mmpp") {
    std::vector<double> rates;
    std::vector<Duration> sojourn;
    for (const std::string& r : split_list(o.rates)) rates.push_back(scenario::parse_rate(r, "--rates"));
    for (const std::string& d : split_list(o.sojourn)) sojourn.push_back(positive_duration(d, "--sojourn"));
    if (rates.size() < 2 || sojourn.size() != rates.size()) {
      throw InputError("mmpp: give --rates and --sojourn with one entry per state (at least two), e.g. --rates 100/s,2k/s --sojourn 1s,200ms");
    }
    src = arrivals::mmpp(rng, rates, sojourn, {}, start, stop, 0, cost);
  } else if (o.kind == "iot") {
    std::vector<arrivals::Burst> bursts;
    for (const std::string& b : o.bursts) {
      const std::vector<std::string> f = split_list(b);
      if (f.size() != 3) throw InputError(fmt::format("--burst: expected AT:COUNT:WITHIN, e.g. 5s:1000:100ms, got '{}'", b));
      bursts.push_back({start + parse_duration(f[0], "--burst"), static_cast<uint32_t>(parse_uint(f[1], "--burst")),
                        positive_duration(f[2], "--burst")});
    }
    src = arrivals::iot(rng, o.sensors, positive_duration(o.period, "--period"), parse_duration(o.jitter, "--jitter"), bursts,
                        start, stop, 0, cost);
  } else if (o.kind == "ar") {
    src = arrivals::ar_frames(rng, o.fps, parse_duration(o.jitter, "--jitter"), start, stop, 0);
  } else {  // kv
    if (!cost) throw InputError("kv: give a per-request cost: --cost, or --cost-base and --cost-per-kib");
    src = arrivals::kv(rng, rate, o.get_ratio, start, stop, 0, cost);
  }

  arrivals::TraceWriter out(o.out);
  const std::vector<std::string> kinds = src->kinds();
  const std::string frame = "frame";
  arrivals::Arrival a;
  while (src->next(a)) {
    if (a.deadline == Duration::zero()) a.deadline = deadline;
    out.add(a, o.tenant, o.kind == "ar" ? frame : kinds[a.kind]);
  }
  out.commit();
  fmt::print("{} arrivals over {} ({:.1f}/s) -> {}\n", out.written(), format_duration(horizon),
             static_cast<double>(out.written()) / (static_cast<double>(horizon.ns()) / 1e9), o.out);
  return kExitOk;
}

int run_gen_pcap(const GenTraceOptions& o) {
  const Duration horizon = positive_duration(o.duration, "--duration");
  Rng rng(parse_uint(o.seed, "--seed"));
  const double rate = scenario::parse_rate(o.rate, "--rate");
  // Poisson packets to one UDP port, payloads with the ETC value sizes, cut to one Ethernet MTU.
  std::unique_ptr<arrivals::Source> src = arrivals::poisson(Rng::derive(rng.next(), 0), rate, Instant::epoch(),
                                                            Instant::epoch() + horizon, 0, nullptr);
  std::vector<arrivals::Packet> packets;
  arrivals::Arrival a;
  while (src->next(a)) {
    packets.push_back({a.time, o.port, std::min<uint32_t>(arrivals::etc_sizes(rng).value, 1472)});
  }
  if (o.out.size() < 5 || o.out.substr(o.out.size() - 5) != ".pcap") throw InputError("--out: a capture file ends in .pcap");
  arrivals::write_pcap(o.out, packets);
  fmt::print("{} UDP packets to port {} over {} -> {}\n", packets.size(), o.port, format_duration(horizon), o.out);
  return kExitOk;
}

}  // namespace

Action add_gen(CLI::App& app) {
  auto opt = std::make_shared<GenTaskOptions>();
  CLI::App* cmd = app.add_subcommand("gen", "Generate workloads: a task set, or an arrival trace of a workload model.");
  cmd->require_subcommand(1);
  CLI::App* tasks = cmd->add_subcommand(
      "tasks", "A random periodic task set (UUniFast / RandFixedSum utilisations, log-uniform periods) as CSV.");
  tasks->add_option("--tasks", opt->gen.tasks, "number of tasks")->capture_default_str();
  tasks->add_option("--utilisation", opt->utilisation, "total utilisation")->capture_default_str();
  tasks->add_option("--cpus", opt->cpus, "CPUs to partition onto (by utilisation)")->capture_default_str();
  tasks->add_option("--fit", opt->fit, "partitioning heuristic: first, best or worst")->capture_default_str();
  tasks->add_option("--generator", opt->gen.generator, "uunifast, uunifast-discard or randfixedsum")->capture_default_str();
  tasks->add_option("--periods", opt->gen.periods, "log-uniform period range MIN:MAX")->capture_default_str();
  tasks->add_option("--granularity", opt->gen.granularity, "periods are multiples of this")->capture_default_str();
  tasks->add_option("--deadlines", opt->gen.deadlines, "implicit or constrained")->capture_default_str();
  tasks->add_option("--seed", opt->seed, "seed (same seed, same set)")->capture_default_str();
  tasks->add_option("--out", opt->out, "output CSV")->capture_default_str()->check(output_file());

  auto t = std::make_shared<GenTraceOptions>();
  struct Kind {
    const char* name;
    const char* help;
  };
  const Kind kinds[] = {
      {"poisson", "Open-loop Poisson arrivals at --rate."},
      {"mmpp", "A Markov-modulated Poisson process: --rates per state, --sojourn (mean holding time) per state."},
      {"iot", "A sensor fleet: --sensors reading every --period with --jitter, plus --burst AT:COUNT:WITHIN storms."},
      {"ar", "Camera frames at --fps (each delayed by up to --jitter)."},
      {"kv", "Memcached get/set requests with the Facebook ETC sizes and inter-arrival shape, at mean --rate."},
      {"pcap", "A packet capture: Poisson UDP packets to --port with ETC value sizes (<= 1472 B payload)."},
  };
  std::vector<CLI::App*> trace_cmds;
  for (const Kind& k : kinds) {
    const bool pcap = std::string_view(k.name) == "pcap";
    CLI::App* c = cmd->add_subcommand(k.name, pcap ? std::string(k.help) : std::string(k.help) + " Writes a trace (.csv or .jsonl).");
    c->add_option("--out", t->out, pcap ? "output .pcap file" : "output trace, .csv or .jsonl")->required()->check(output_file());
    c->add_option("--duration", t->duration, "span of the trace, with a unit")->capture_default_str();
    c->add_option("--seed", t->seed, "seed (same seed, same trace)")->capture_default_str();
    if (std::string_view(k.name) == "poisson" || std::string_view(k.name) == "kv" || pcap) {
      c->add_option("--rate", t->rate, "mean arrivals per second: 500/s, 2k/s, 1.5kHz")->capture_default_str();
    }
    if (!pcap) {
      c->add_option("--tenant", t->tenant, "the tenant column of every record")->capture_default_str();
      c->add_option("--deadline", t->deadline, "relative deadline written with each arrival (default none: the thread's)");
    }
    if (std::string_view(k.name) != "ar" && !pcap) {
      c->add_option("--cost", t->cost, "execution time written with each arrival (default none: the thread's cost)");
    }
    if (std::string_view(k.name) == "mmpp") {
      c->add_option("--rates", t->rates, "rate per state, e.g. 100/s,2k/s")->required();
      c->add_option("--sojourn", t->sojourn, "mean holding time per state, e.g. 1s,200ms")->required();
    }
    if (std::string_view(k.name) == "iot") {
      c->add_option("--sensors", t->sensors, "number of sensors")->capture_default_str();
      c->add_option("--period", t->period, "reading period of each sensor")->capture_default_str();
      c->add_option("--burst", t->bursts, "an alarm storm AT:COUNT:WITHIN, e.g. 5s:1000:100ms (repeatable)");
    }
    if (std::string_view(k.name) == "iot" || std::string_view(k.name) == "ar") {
      c->add_option("--jitter", t->jitter, "release jitter, uniform in [0, JITTER]")->capture_default_str();
    }
    if (std::string_view(k.name) == "ar") c->add_option("--fps", t->fps, "frames per second")->capture_default_str();
    if (std::string_view(k.name) == "kv") {
      c->add_option("--get-ratio", t->get_ratio, "fraction of gets (ETC: 30 gets per set)")->capture_default_str();
      c->add_option("--cost-base", t->cost_base, "cost of a request apart from its value size");
      c->add_option("--cost-per-kib", t->cost_per_kib, "cost per KiB of value");
    }
    if (pcap) c->add_option("--port", t->port, "UDP destination port")->capture_default_str();
    trace_cmds.push_back(c);
  }
  return [tasks, opt, trace_cmds, t]() {
    if (tasks->parsed()) return run_gen_tasks(*opt);
    for (CLI::App* c : trace_cmds) {
      if (!c->parsed()) continue;
      t->kind = c->get_name();
      return t->kind == "pcap" ? run_gen_pcap(*t) : run_gen_trace(*t);
    }
    return -1;
  };
}

}  // namespace edgeos::cli
