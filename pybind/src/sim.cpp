// Simulation from Python: task sets and scenarios on the core-only simulator, with the C++ or
// Python-defined policies, and the trace handed over as numpy columns without copying.
#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeos/core/fwp.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/core_sim.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/simulator/task_set_run.hpp"
#include "edgeos/workloads/scenario_toml.hpp"
#include "policy.hpp"

namespace edgeos::py_bindings {

namespace {

// The records of one run. Python sees them as numpy columns (strided views into this vector) that
// keep this object alive.
struct TraceData {
  std::vector<TraceRecord> records;
};

// Passes records on to a sink chosen after construction.
struct Forward final : TraceSink {
  TraceSink* to = nullptr;
  void write(const TraceRecord& r) override { to->write(r); }
};

// What the Python side passes as `policy`: a C++ policy name, or a factory that returns a Python
// policy object for each CPU.
struct PolicyChoice {
  std::optional<std::string> name;
  py::object factory = py::none();  // None unless Python policies
};

// The Python policies of a run, one per CPU, and the event hooks each defines: a policy with a
// method on_<event> (on_complete, on_budget_exhausted, ... for the events of docs/trace.md) is
// called as on_<event>(thread_index, time_ns, value) for every such record of its CPU.
struct Policies {
  std::vector<py::object> objects;  // kept alive for the run
  std::vector<PyPolicy*> raw;
  std::vector<std::array<py::object, kNumTraceEvents>> hooks;
  bool any_hook = false;
  ~Policies() {
    for (PyPolicy* p : raw) p->detach();
  }
};

class HookSink final : public TraceSink {
 public:
  HookSink(TraceSink& next, const Policies& policies) : next_(next), policies_(policies) {}
  void write(const TraceRecord& r) override {
    next_.write(r);
    if (r.cpu >= policies_.hooks.size()) return;
    const py::object& hook = policies_.hooks[r.cpu][static_cast<size_t>(r.event)];
    if (hook) hook(r.thread, r.time_ns, r.value);
  }

 private:
  TraceSink& next_;
  const Policies& policies_;
};

sim::SchedulerFactory make_factory(const PolicyChoice& choice, Policies& out, uint32_t max_threads) {
  if (choice.factory.is_none()) return nullptr;
  return [&choice, &out, max_threads](CpuId cpu) -> Scheduler* {
    py::object obj = choice.factory(cpu);
    if (!py::isinstance<PyPolicy>(obj)) {
      throw py::type_error(fmt::format("the policy for CPU {} is not an edgeos.Scheduler (got {})", cpu,
                                       py::repr(obj).cast<std::string>()));
    }
    PyPolicy* p = obj.cast<PyPolicy*>();
    p->attach(max_threads, obj);
    out.objects.push_back(obj);
    out.raw.push_back(p);
    std::array<py::object, kNumTraceEvents>& hooks = out.hooks.emplace_back();
    for (size_t e = 0; e < kNumTraceEvents; ++e) {
      const std::string name = std::string("on_") + trace_event_name(static_cast<TraceEvent>(e));
      if (py::hasattr(obj, name.c_str())) {
        hooks[e] = obj.attr(name.c_str());
        out.any_hook = true;
      }
    }
    return p;
  };
}

py::dict stats_dict(const sim::RunStats& s) {
  py::dict d;
  d["events"] = s.events;
  d["records"] = s.records;
  d["arrivals"] = s.arrivals;
  d["dropped_arrivals"] = s.dropped_arrivals;
  d["end_ns"] = s.end.ns();
  return d;
}

py::dict names_dict(const TraceNames& n, uint32_t cpus) {
  py::dict d;
  d["run"] = n.run;
  std::vector<std::string> cpu_names;
  for (uint32_t c = 0; c < cpus; ++c) cpu_names.push_back(n.cpu(c));
  d["threads"] = n.threads;
  d["fwps"] = n.fwps;
  d["cpus"] = cpu_names;
  return d;
}

py::dict run_output(std::shared_ptr<TraceData> data, const TraceNames& names, uint32_t cpus, const sim::RunStats& stats,
                    std::string summary, uint64_t seed) {
  py::dict out;
  out["trace"] = py::cast(std::move(data));
  out["names"] = names_dict(names, cpus);
  out["stats"] = stats_dict(stats);
  out["summary_json"] = std::move(summary);
  out["num_cpus"] = cpus;
  out["seed"] = seed;
  return out;
}

// The simulation runs without the GIL when no Python code takes part in it.
template <class F>
auto maybe_without_gil(bool python, F&& f) {
  if (python) return f();
  py::gil_scoped_release release;
  return f();
}

py::dict simulate_task_set(const TaskSet& set, const PolicyChoice& choice, int64_t horizon_ns, uint64_t seed,
                           bool check_invariants, const std::vector<int64_t>& overheads) {
  if (horizon_ns <= 0) throw InputError(fmt::format("duration must be > 0 ns, got {}", horizon_ns));
  sim::SimConfig config;
  config.num_cpus = set.num_cpus;
  if (choice.name) config.policy = sim::parse_policy(*choice.name, "policy");
  config.check_invariants = check_invariants;
  if (overheads.size() > kNumOverheads) throw InputError(fmt::format("overheads: at most {} values", kNumOverheads));
  for (size_t i = 0; i < overheads.size(); ++i) config.overheads.cost[i] = Duration::nanoseconds(overheads[i]);
  Policies policies;
  config.scheduler_factory = make_factory(choice, policies, config.max_threads);

  auto data = std::make_shared<TraceData>();
  TraceBuffer buffer;
  // Python policies exist only once the simulator has built them (through the factory), and the
  // hook sink needs them: records go through a forwarder that is pointed at it afterwards.
  Forward forward;
  forward.to = &buffer;
  sim::CoreSimulator simulator(config, forward);
  const bool python = !choice.factory.is_none();
  std::unique_ptr<HookSink> hooks;
  if (policies.any_hook) {
    hooks = std::make_unique<HookSink>(buffer, policies);
    forward.to = hooks.get();
  }
  const sim::LoadedTaskSet loaded = sim::load_task_set(simulator, set, seed);
  const sim::RunStats stats = maybe_without_gil(
      python, [&] { return simulator.run_until(Instant::epoch() + Duration::nanoseconds(horizon_ns)); });
  data->records = std::move(buffer.records());
  const Summary s = summarize(data->records, loaded.names, Instant::epoch(), stats.end);
  return run_output(data, loaded.names, set.num_cpus, stats, summary_json(s), seed);
}

py::dict simulate_scenario(const std::shared_ptr<scenario::Scenario>& scenario, const PolicyChoice& choice,
                           std::optional<uint64_t> seed, std::optional<int64_t> duration_ns, bool check_invariants) {
  scenario::Scenario s = *scenario;
  if (choice.name) {
    sim::parse_policy(*choice.name, "policy");  // an unknown name fails here, naming the argument
    for (scenario::Server& sv : s.servers) sv.policy = *choice.name;
    scenario::validate(s);  // e.g. CBS needs EDF
  }
  sim::ScenarioOptions opt;
  opt.seed = seed;
  if (duration_ns) {
    if (*duration_ns <= 0) throw InputError(fmt::format("duration must be > 0 ns, got {}", *duration_ns));
    opt.duration = Duration::nanoseconds(*duration_ns);
  }
  opt.check_invariants = check_invariants;
  Policies policies;
  uint32_t threads = 1;
  for (const scenario::ThreadSpec& th : s.threads) threads += s.find_tenant(th.tenant)->instances;
  opt.scheduler_factory = make_factory(choice, policies, threads);
  const bool python = !choice.factory.is_none();

  auto data = std::make_shared<TraceData>();
  TraceBuffer buffer;
  SummaryBuilder summary;
  TeeSink tee;
  tee.add(&summary);
  tee.add(&buffer);
  Forward forward;
  forward.to = &tee;
  sim::ScenarioRun run(s, opt, forward);
  std::unique_ptr<HookSink> hooks;
  if (policies.any_hook) {
    hooks = std::make_unique<HookSink>(tee, policies);
    forward.to = hooks.get();
  }
  sim::group_by_tenant(run, summary);
  const sim::RunStats stats = maybe_without_gil(python, [&] { return run.run(); });
  const Summary sum = summary.finish(run.names(), Instant::epoch(), run.end());
  std::string json = sim::scenario_summary_json(run, sum, stats);
  data->records = std::move(buffer.records());
  return run_output(data, run.names(), run.num_cpus(), stats, std::move(json), run.seed());
}

PolicyChoice policy_choice(const py::object& policy) {
  PolicyChoice c;
  if (policy.is_none()) return c;
  if (py::isinstance<py::str>(policy)) {
    c.name = policy.cast<std::string>();
    return c;
  }
  if (!PyCallable_Check(policy.ptr())) {
    throw py::type_error(fmt::format("policy must be 'fp', 'edf' or a callable returning an edgeos.Scheduler, got {}",
                                     py::repr(policy).cast<std::string>()));
  }
  c.factory = policy;
  return c;
}

}  // namespace

void bind_simulation(py::module_& m) {
  py::class_<TraceData, std::shared_ptr<TraceData>>(m, "TraceData", "The records of a run, owned by C++.")
      .def("__len__", [](const TraceData& d) { return d.records.size(); })
      .def(
          "columns",
          [](py::object self) {
            // Strided views into the 40-byte records (core/trace.hpp), no copy. The unsigned
            // "none" markers (0xffff, 0xffffffff) read as -1 through the signed types, exactly as
            // the CSV writes them.
            const TraceData& d = self.cast<const TraceData&>();
            const auto n = static_cast<py::ssize_t>(d.records.size());
            const char* base = reinterpret_cast<const char*>(d.records.data());
            const py::ssize_t stride = sizeof(TraceRecord);
            py::dict cols;
            auto col = [&](const char* name, py::dtype dt, size_t offset) {
              py::array a(dt, {n}, {stride}, base + offset, self);
              py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
              cols[name] = a;
            };
            col("time_ns", py::dtype::of<int64_t>(), offsetof(TraceRecord, time_ns));
            col("cpu", py::dtype::of<int16_t>(), offsetof(TraceRecord, cpu));
            col("event", py::dtype::of<int8_t>(), offsetof(TraceRecord, event));
            col("fwp", py::dtype::of<int32_t>(), offsetof(TraceRecord, fwp));
            col("thread", py::dtype::of<int32_t>(), offsetof(TraceRecord, thread));
            col("job", py::dtype::of<int64_t>(), offsetof(TraceRecord, job));
            col("value", py::dtype::of<int64_t>(), offsetof(TraceRecord, value));
            return cols;
          },
          "The columns as read-only numpy arrays that share the records' memory.")
      .def(
          "write_csv", [](const TraceData& d, const std::string& path) { write_trace_csv(path, d.records); },
          py::arg("path"), "Writes trace.csv exactly as `edgeos sim` does (atomically).")
      .def(
          "write_perfetto",
          [](const TraceData& d, const std::string& path, const py::dict& names, int64_t end_ns, const std::string& format) {
            TraceNames n;
            n.run = names["run"].cast<std::string>();
            n.threads = names["threads"].cast<std::vector<std::string>>();
            n.fwps = names["fwps"].cast<std::vector<std::string>>();
            n.cpus = names["cpus"].cast<std::vector<std::string>>();
            if (format != "proto" && format != "json") {
              throw py::value_error("format: \"proto\" (Perfetto's protobuf) or \"json\" (Chrome trace-event JSON), got \"" +
                                    format + "\"");
            }
            write_perfetto(format, path, d.records, n, Instant::from_ns(end_ns));
          },
          py::arg("path"), py::arg("names"), py::arg("end_ns"), py::arg("format") = "proto");

  m.def(
      "simulate_task_set",
      [](const TaskSet& set, const py::object& policy, int64_t duration_ns, uint64_t seed, bool check_invariants,
         const std::vector<int64_t>& overheads) {
        return simulate_task_set(set, policy_choice(policy), duration_ns, seed, check_invariants, overheads);
      },
      py::arg("task_set"), py::arg("policy"), py::arg("duration_ns"), py::arg("seed") = 1,
      py::arg("check_invariants") = false, py::arg("overheads") = std::vector<int64_t>{});
  m.def(
      "_bench_cpp_simulate",
      [](const TaskSet& set, const std::string& policy, int64_t duration_ns, uint64_t seed) {
        // The baseline of bench/python_bench.py: the same work as simulate_task_set with a C++
        // policy (simulate, then summarise), timed inside C++ without the GIL.
        sim::SimConfig config;
        config.policy = sim::parse_policy(policy, "policy");
        config.check_invariants = false;
        double seconds = 0;
        size_t records = 0, json_size = 0;
        uint64_t events = 0;
        {
          py::gil_scoped_release release;
          const auto start = std::chrono::steady_clock::now();
          const sim::SimulationResult r = sim::simulate(set, config, Duration::nanoseconds(duration_ns), seed);
          const Summary s = summarize(r.records, r.names, Instant::epoch(), r.stats.end);
          json_size = summary_json(s).size();
          seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          records = r.records.size();
          events = r.stats.events;
        }
        return py::make_tuple(seconds, records, events, json_size);
      },
      py::arg("task_set"), py::arg("policy"), py::arg("duration_ns"), py::arg("seed") = 1);
  m.def(
      "load_trace_csv",
      [](const std::string& path) {
        auto data = std::make_shared<TraceData>();
        data->records = read_trace_csv(path);
        return data;
      },
      py::arg("path"), "Reads a trace.csv (docs/trace.md) into records owned by C++.");
  m.def(
      "scenario_names",
      [](const std::shared_ptr<scenario::Scenario>& s) {
        // The names every backend gives the scenario's objects: they follow from instantiation
        // alone (the canonical order of simulator/scenario_run.hpp), not from a run.
        CountingSink none;
        const sim::ScenarioRun run(*s, {}, none);
        return names_dict(run.names(), run.num_cpus());
      },
      py::arg("scenario"));
  m.def(
      "simulate_scenario",
      [](const std::shared_ptr<scenario::Scenario>& s, const py::object& policy, std::optional<uint64_t> seed,
         std::optional<int64_t> duration_ns, bool check_invariants) {
        return simulate_scenario(s, policy_choice(policy), seed, duration_ns, check_invariants);
      },
      py::arg("scenario"), py::arg("policy") = py::none(), py::arg("seed") = py::none(),
      py::arg("duration_ns") = py::none(), py::arg("check_invariants") = false);
}

}  // namespace edgeos::py_bindings
