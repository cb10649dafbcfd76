// _edgeos: the private extension behind the `edgeos` Python package (pybind/edgeos/). Task sets,
// scenarios, generators, analyses and sweeps here; simulation in sim.cpp; Python-defined policies
// in policy.cpp. Times cross the boundary as integer nanoseconds (or strings with a unit, "5ms");
// errors the C++ side reports as InputError arrive in Python as edgeos.InputError (a ValueError)
// with the same message.
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "edgeos/analysis/analysis.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/core/trace.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/simulator/sweep.hpp"
#include "edgeos/workloads/generators.hpp"
#include "edgeos/workloads/scenario_toml.hpp"
#include "edgeos/workloads/task_set.hpp"
#include "edgeos/workloads/task_set_io.hpp"

namespace edgeos::py_bindings {

namespace {

// A duration argument: an int (nanoseconds) or a string with a unit ("5ms").
Duration to_duration(const py::handle& h, const char* what) {
  if (py::isinstance<py::str>(h)) return parse_duration(h.cast<std::string>(), what);
  if (py::isinstance<py::int_>(h) && !py::isinstance<py::bool_>(h)) {
    // Python's ints are unbounded; a duration is a signed 64-bit count of nanoseconds (about 292 years).
    const py::int_ v = py::reinterpret_borrow<py::int_>(h);
    if (v < py::int_(INT64_MIN) || v > py::int_(INT64_MAX)) {
      throw InputError(fmt::format("{}: {} ns is beyond what a duration holds (a signed 64-bit count of nanoseconds, "
                                   "about 292 years)", what, py::str(h).cast<std::string>()));
    }
    return Duration::nanoseconds(h.cast<int64_t>());
  }
  throw py::type_error(fmt::format("{}: expected an int (nanoseconds) or a string with a unit such as '5ms', got {}",
                                   what, py::repr(h).cast<std::string>()));
}

TaskKind parse_kind(const std::string& k) {
  if (k == "periodic") return TaskKind::kPeriodic;
  if (k == "sporadic") return TaskKind::kSporadic;
  throw InputError(fmt::format("kind: expected 'periodic' or 'sporadic', got '{}'", k));
}

analysis::Fit parse_fit(const std::string& f) {
  if (f == "first") return analysis::Fit::kFirst;
  if (f == "best") return analysis::Fit::kBest;
  if (f == "worst") return analysis::Fit::kWorst;
  throw InputError(fmt::format("fit: expected 'first', 'best' or 'worst', got '{}'", f));
}

py::object ns_list(const std::vector<Duration>& v) {
  py::list out;
  for (Duration d : v) out.append(d.is_infinite() ? py::object(py::none()) : py::object(py::int_(d.ns())));
  return out;
}

// Sweep parameters from keyword arguments (a plain dict, so that sweeps pickle to worker processes).
sim::SweepConfig sweep_config(const py::dict& kw) {
  sim::SweepConfig c;
  for (auto [k, v] : kw) {
    const std::string key = k.cast<std::string>();
    if (key == "tasks") c.tasks.tasks = v.cast<size_t>();
    else if (key == "cpus") c.cpus = v.cast<uint32_t>();
    else if (key == "u_from") c.u_from = v.cast<double>();
    else if (key == "u_to") c.u_to = v.cast<double>();
    else if (key == "u_step") c.u_step = v.cast<double>();
    else if (key == "sets") c.sets = v.cast<size_t>();
    else if (key == "tests") c.tests = v.cast<std::vector<std::string>>();
    else if (key == "fit") c.fit = parse_fit(v.cast<std::string>());
    else if (key == "horizon") c.horizon = to_duration(v, "horizon");
    else if (key == "seed") c.seed = v.cast<uint64_t>();
    else if (key == "period_min") c.tasks.period_min = to_duration(v, "period_min");
    else if (key == "period_max") c.tasks.period_max = to_duration(v, "period_max");
    else if (key == "granularity") c.tasks.granularity = to_duration(v, "granularity");
    else if (key == "utilisations") c.tasks.utilisations = gen::parse_utilisations(v.cast<std::string>(), "utilisations");
    else if (key == "deadlines") c.tasks.deadlines = gen::parse_deadlines(v.cast<std::string>(), "deadlines");
    else throw InputError(fmt::format("sweep: unknown parameter '{}'", key));
  }
  sim::validate(c);
  return c;
}

py::list sweep_rows(const std::vector<sim::SweepRow>& rows) {
  py::list out;
  for (const sim::SweepRow& r : rows) out.append(py::make_tuple(r.utilisation, r.test, r.accepted, r.sets));
  return out;
}

}  // namespace

void bind_model(py::module_& m) {
  // --- task sets -------------------------------------------------------------------------------
  py::class_<TaskSpec>(m, "Task", "A periodic or sporadic task (C, T, D) of a tenant, for simulation.")
      .def(py::init([](std::string name, py::object wcet, py::object period, py::object deadline, std::string tenant,
                       uint32_t cpu, std::string kind, uint8_t priority, py::object phase, py::object bcet,
                       py::object max_extra) {
             TaskSpec t;
             t.name = std::move(name);
             t.tenant = tenant.empty() ? t.name : std::move(tenant);
             t.cpu = cpu;
             t.kind = parse_kind(kind);
             t.wcet = to_duration(wcet, "wcet");
             t.period = to_duration(period, "period");
             t.deadline = to_duration(deadline, "deadline");
             t.phase = to_duration(phase, "phase");
             t.bcet = to_duration(bcet, "bcet");
             t.max_extra = to_duration(max_extra, "max_extra");
             t.priority = priority;
             return t;
           }),
           py::arg("name"), py::arg("wcet"), py::arg("period"), py::arg("deadline") = 0, py::arg("tenant") = "",
           py::arg("cpu") = 0, py::arg("kind") = "periodic", py::arg("priority") = 0, py::arg("phase") = 0,
           py::arg("bcet") = 0, py::arg("max_extra") = 0)
      .def_readonly("name", &TaskSpec::name)
      .def_readonly("tenant", &TaskSpec::tenant)
      .def_readonly("cpu", &TaskSpec::cpu)
      .def_readonly("priority", &TaskSpec::priority)
      .def_property_readonly("kind", [](const TaskSpec& t) { return t.kind == TaskKind::kPeriodic ? "periodic" : "sporadic"; })
      .def_property_readonly("wcet", [](const TaskSpec& t) { return t.wcet.ns(); })
      .def_property_readonly("period", [](const TaskSpec& t) { return t.period.ns(); })
      .def_property_readonly("deadline", [](const TaskSpec& t) { return t.effective_deadline().ns(); })
      .def_property_readonly("phase", [](const TaskSpec& t) { return t.phase.ns(); })
      .def_property_readonly("utilisation", &TaskSpec::utilisation)
      .def("__repr__", [](const TaskSpec& t) {
        return fmt::format("Task('{}', wcet={}, period={}, deadline={}, cpu={}, priority={})", t.name, t.wcet.ns(),
                           t.period.ns(), t.effective_deadline().ns(), t.cpu, t.priority);
      });

  py::class_<TaskSet>(m, "TaskSet", "Tasks on `cpus` CPUs (partitioned: each task names its CPU).")
      .def(py::init([](std::vector<TaskSpec> tasks, uint32_t cpus, std::string name) {
             TaskSet s;
             s.tasks = std::move(tasks);
             s.num_cpus = cpus;
             s.name = std::move(name);
             validate(s, 4096);
             return s;
           }),
           py::arg("tasks"), py::arg("cpus") = 1, py::arg("name") = "tasks")
      .def_readonly("name", &TaskSet::name)
      .def_readonly("cpus", &TaskSet::num_cpus)
      .def_readonly("tasks", &TaskSet::tasks)
      .def("__len__", [](const TaskSet& s) { return s.tasks.size(); })
      .def("to_csv", [](const TaskSet& s) { return task_set_csv(s); }, "The task-set CSV (`edgeos analyze` reads it).")
      .def("write_csv", [](const TaskSet& s, const std::string& path) { write_task_set_csv(path, s); }, py::arg("path"))
      .def("__repr__", [](const TaskSet& s) {
        return fmt::format("<TaskSet '{}': {} tasks on {} CPU(s)>", s.name, s.tasks.size(), s.num_cpus);
      });
  m.def("read_task_set_csv", &read_task_set_csv, py::arg("path"));
  m.def("rate_monotonic", [](TaskSet s) { assign_rate_monotonic(s); return s; }, py::arg("task_set"),
        "A copy with rate-monotonic priorities (per CPU).");
  m.def("deadline_monotonic", [](TaskSet s) { assign_deadline_monotonic(s); return s; }, py::arg("task_set"),
        "A copy with deadline-monotonic priorities (per CPU).");

  // --- scenarios --------------------------------------------------------------------------------
  py::class_<scenario::Scenario, std::shared_ptr<scenario::Scenario>>(m, "Scenario", "A scenario file (docs/scenario.md).")
      .def_readonly("name", &scenario::Scenario::name)
      .def_readonly("file", &scenario::Scenario::file)
      .def_readonly("seed", &scenario::Scenario::seed)
      .def_property_readonly("duration", [](const scenario::Scenario& s) { return s.duration.ns(); })
      .def_property_readonly("servers",
                             [](const scenario::Scenario& s) {
                               py::list out;
                               for (const scenario::Server& sv : s.servers) {
                                 py::dict d;
                                 d["name"] = sv.name;
                                 d["cpus"] = sv.cpus;
                                 d["policy"] = sv.policy;
                                 out.append(d);
                               }
                               return out;
                             })
      .def_property_readonly("tenants",
                             [](const scenario::Scenario& s) {
                               std::vector<std::string> names;
                               for (const scenario::Tenant& t : s.tenants) names.push_back(t.name);
                               return names;
                             })
      .def_property_readonly("threads",
                             [](const scenario::Scenario& s) {
                               std::vector<std::string> names;
                               for (const scenario::ThreadSpec& t : s.threads) names.push_back(t.name);
                               return names;
                             })
      .def("__repr__", [](const scenario::Scenario& s) {
        return fmt::format("<Scenario '{}' from '{}': {} servers, {} tenants>", s.name, s.file, s.servers.size(),
                           s.tenants.size());
      });
  m.def("load_scenario", [](const std::string& path) { return std::make_shared<scenario::Scenario>(scenario::load_scenario(path)); },
        py::arg("path"));
  m.def("parse_scenario",
        [](const std::string& text, const std::string& name, const std::string& base_dir) {
          return std::make_shared<scenario::Scenario>(scenario::parse_scenario(text, name, base_dir));
        },
        py::arg("text"), py::arg("name") = "<string>", py::arg("base_dir") = ".");

  // --- analysis ---------------------------------------------------------------------------------
  py::module_ a = m.def_submodule("analysis", "Schedulability analysis (schedulers/include/edgeos/analysis).");
  py::class_<analysis::Task>(a, "Task", "A sporadic task for analysis: C, T, D (ns), jitter, blocking, priority.")
      .def(py::init([](py::object wcet, py::object period, py::object deadline, py::object jitter, py::object blocking,
                       int priority) {
             analysis::Task t;
             t.wcet = to_duration(wcet, "wcet");
             t.period = to_duration(period, "period");
             t.deadline = deadline.is_none() ? t.period : to_duration(deadline, "deadline");
             t.jitter = to_duration(jitter, "jitter");
             t.blocking = to_duration(blocking, "blocking");
             t.priority = priority;
             return t;
           }),
           py::arg("wcet"), py::arg("period"), py::arg("deadline") = py::none(), py::arg("jitter") = 0,
           py::arg("blocking") = 0, py::arg("priority") = 0)
      .def_property_readonly("wcet", [](const analysis::Task& t) { return t.wcet.ns(); })
      .def_property_readonly("period", [](const analysis::Task& t) { return t.period.ns(); })
      .def_property_readonly("deadline", [](const analysis::Task& t) { return t.deadline.ns(); })
      .def_property_readonly("jitter", [](const analysis::Task& t) { return t.jitter.ns(); })
      .def_property_readonly("blocking", [](const analysis::Task& t) { return t.blocking.ns(); })
      .def_readonly("priority", &analysis::Task::priority)
      .def(py::pickle(
          [](const analysis::Task& t) {
            return py::make_tuple(t.wcet.ns(), t.period.ns(), t.deadline.ns(), t.jitter.ns(), t.blocking.ns(), t.priority);
          },
          [](const py::tuple& s) {
            analysis::Task t;
            t.wcet = Duration::nanoseconds(s[0].cast<int64_t>());
            t.period = Duration::nanoseconds(s[1].cast<int64_t>());
            t.deadline = Duration::nanoseconds(s[2].cast<int64_t>());
            t.jitter = Duration::nanoseconds(s[3].cast<int64_t>());
            t.blocking = Duration::nanoseconds(s[4].cast<int64_t>());
            t.priority = s[5].cast<int>();
            return t;
          }))
      .def("__repr__", [](const analysis::Task& t) {
        return fmt::format("Task(wcet={}, period={}, deadline={}, priority={})", t.wcet.ns(), t.period.ns(),
                           t.deadline.ns(), t.priority);
      });
  py::class_<analysis::Result>(a, "Result", "A test's verdict; response_times (ns, None if above D) for RTA.")
      .def_property_readonly("verdict", [](const analysis::Result& r) { return analysis::verdict_name(r.verdict); })
      .def_readonly("test", &analysis::Result::test)
      .def_readonly("detail", &analysis::Result::detail)
      .def_property_readonly("schedulable", &analysis::Result::schedulable)
      .def_property_readonly("response_times", [](const analysis::Result& r) { return ns_list(r.response_times); })
      .def("__bool__", &analysis::Result::schedulable)
      .def("__repr__", [](const analysis::Result& r) {
        return fmt::format("<{}: {}{}{}>", r.test, analysis::verdict_name(r.verdict), r.detail.empty() ? "" : ": ", r.detail);
      });
  using TaskList = const std::vector<analysis::Task>&;
  a.def("response_time_analysis", [](TaskList t) { return analysis::response_time_analysis(t); }, py::arg("tasks"),
        "Joseph & Pandya (1986), Audsley et al. (1993): exact for fixed priorities (uses each task's priority).");
  a.def("liu_layland_bound", [](TaskList t) { return analysis::liu_layland_bound(t); }, py::arg("tasks"));
  a.def("hyperbolic_bound", [](TaskList t) { return analysis::hyperbolic_bound(t); }, py::arg("tasks"));
  a.def("edf_utilisation", [](TaskList t) { return analysis::edf_utilisation(t); }, py::arg("tasks"));
  a.def("edf_demand", [](TaskList t) { return analysis::edf_demand(t); }, py::arg("tasks"),
        "Processor-demand test by QPA (Zhang & Burns 2009): exact for EDF on one CPU.");
  // Global scheduling on m CPUs sharing one ready queue (docs/analysis.md, "Global scheduling").
  a.def("gedf_density", [](TaskList t, uint32_t cpus) { return analysis::gedf_density(t, cpus); }, py::arg("tasks"), py::arg("m"),
        "G-EDF density bound of Goossens, Funk & Baruah (2003): sum C/D <= m - (m-1) max C/D (sufficient).");
  a.def("gedf_baker", [](TaskList t, uint32_t cpus) { return analysis::gedf_baker(t, cpus); }, py::arg("tasks"), py::arg("m"),
        "Baker's G-EDF test (RTSS 2003), sufficient.");
  a.def("gedf_bcl", [](TaskList t, uint32_t cpus) { return analysis::gedf_bcl(t, cpus); }, py::arg("tasks"), py::arg("m"),
        "Bertogna, Cirinei & Lipari's G-EDF test (ECRTS 2005), sufficient.");
  a.def("gfp_bcl", [](TaskList t, uint32_t cpus) { return analysis::gfp_bcl(t, cpus); }, py::arg("tasks"), py::arg("m"),
        "Bertogna, Cirinei & Lipari's global fixed-priority test (2005/2009), sufficient; uses each task's priority.");
  a.def("gfp_rta", [](TaskList t, uint32_t cpus) { return analysis::gfp_rta(t, cpus); }, py::arg("tasks"), py::arg("m"),
        "Bertogna & Cirinei's response-time analysis for global fixed priority (RTSS 2007): response-time bounds.");
  a.def("utilisation", [](TaskList t) { analysis::validate(t); return analysis::utilisation(t); }, py::arg("tasks"));
  a.def("compare_utilisation", [](TaskList t, int64_t num, int64_t den) {
          analysis::validate(t);
          if (num < 0 || den <= 0) throw InputError("compare_utilisation: need num >= 0 and den > 0");
          return analysis::compare_utilisation(t, num, den);
        },
        py::arg("tasks"), py::arg("num"), py::arg("den"),
        "-1, 0 or 1 as the exact utilisation sum C/T is below, equal to or above num/den.");
  a.def("busy_period", [](TaskList t) -> py::object {
          analysis::validate(t);
          const auto b = analysis::busy_period(t, Duration::nanoseconds(int64_t{1} << 62));
          return b ? py::int_(b->ns()) : py::object(py::none());
        },
        py::arg("tasks"), "The synchronous busy period in ns, or None past 2^62 ns.");
  a.def("demand_bound", [](TaskList t, py::object at) {
          analysis::validate(t);
          return analysis::demand_bound(t, to_duration(at, "t")).ns();
        },
        py::arg("tasks"), py::arg("t"), "dbf(t): the work of jobs released and due within a window of length t (ns).");
  a.def("demand_horizon", [](TaskList t) {
          const analysis::DemandHorizon h = analysis::demand_horizon(t);
          auto opt = [](const std::optional<Duration>& d) { return d ? py::object(py::int_(d->ns())) : py::object(py::none()); };
          py::dict r;
          r["busy_period"] = opt(h.busy_period);
          r["la"] = opt(h.la);
          r["l"] = h.l.is_infinite() ? py::object(py::none()) : py::object(py::int_(h.l.ns()));
          return r;
        },
        py::arg("tasks"),
        "The interval QPA checks: {'busy_period': L_b, 'la': L_a, 'l': min of them} in ns (None where unbounded).");
  a.def("rate_monotonic", [](TaskList t) { analysis::validate(t); return analysis::with_priorities(t, analysis::rate_monotonic(t)); },
        py::arg("tasks"), "A copy with rate-monotonic priorities.");
  a.def("deadline_monotonic",
        [](TaskList t) { analysis::validate(t); return analysis::with_priorities(t, analysis::deadline_monotonic(t)); },
        py::arg("tasks"), "A copy with deadline-monotonic priorities.");
  a.def("to_analysis", &gen::to_analysis, py::arg("task_set"), "A TaskSet's timing parameters (priorities kept).");

  // --- generators -------------------------------------------------------------------------------
  py::module_ g = m.def_submodule("generators", "Seeded task-set generators (workloads/generators.hpp).");
  g.def("uunifast", [](uint64_t seed, size_t n, double total) { Rng r(seed); return gen::uunifast(r, n, total); },
        py::arg("seed"), py::arg("n"), py::arg("total"), "Bini & Buttazzo (2005).");
  g.def("randfixedsum",
        [](uint64_t seed, size_t n, double total, double lo, double hi) { Rng r(seed); return gen::randfixedsum(r, n, total, lo, hi); },
        py::arg("seed"), py::arg("n"), py::arg("total"), py::arg("lo") = 0.0, py::arg("hi") = 1.0, "Stafford (2006).");
  g.def(
      "generate",
      [](uint64_t seed, size_t tasks, double utilisation, const std::string& utilisations, py::object period_min,
         py::object period_max, py::object granularity, const std::string& deadlines) {
        gen::TaskSetParams p;
        p.tasks = tasks;
        p.utilisation = utilisation;
        p.utilisations = gen::parse_utilisations(utilisations, "utilisations");
        p.period_min = to_duration(period_min, "period_min");
        p.period_max = to_duration(period_max, "period_max");
        p.granularity = to_duration(granularity, "granularity");
        p.deadlines = gen::parse_deadlines(deadlines, "deadlines");
        gen::validate(p);
        Rng r(seed);
        return gen::generate(r, p);
      },
      py::arg("seed"), py::arg("tasks") = 10, py::arg("utilisation") = 0.5, py::arg("utilisations") = "uunifast",
      py::arg("period_min") = "10ms", py::arg("period_max") = "1s", py::arg("granularity") = "1ms",
      py::arg("deadlines") = "implicit",
      "Random tasks with deadline-monotonic priorities; the same seed gives the same tasks.");
  g.def(
      "to_task_set",
      [](const std::vector<analysis::Task>& tasks, std::vector<uint32_t> cpu, uint32_t cpus, std::string name) {
        if (!cpu.empty() && cpu.size() != tasks.size()) throw InputError("to_task_set: one CPU per task, or none");
        return gen::to_task_set(tasks, cpu, cpus, std::move(name));
      },
      py::arg("tasks"), py::arg("cpu") = std::vector<uint32_t>{}, py::arg("cpus") = 1, py::arg("name") = "generated");
  g.def(
      "partition",
      [](const std::vector<analysis::Task>& tasks, uint32_t cpus, const std::string& fit, const std::string& admission) {
        analysis::validate(tasks);
        if (cpus == 0) throw InputError("partition: cpus must be >= 1");
        analysis::Admission admit;
        if (admission == "edf") admit = analysis::edf_admission();
        else if (admission == "fp") admit = analysis::fp_dm_admission();
        else throw InputError(fmt::format("admission: expected 'edf' or 'fp', got '{}'", admission));
        const analysis::Partition part = analysis::partition(tasks, cpus, parse_fit(fit), admit);
        return part.ok ? py::object(py::cast(part.cpu)) : py::object(py::none());
      },
      py::arg("tasks"), py::arg("cpus"), py::arg("fit") = "first", py::arg("admission") = "edf",
      "The CPU of each task, or None when the tasks do not fit.");

  // --- sweeps -----------------------------------------------------------------------------------
  m.def("sweep_tests", &sim::sweep_test_names);
  m.def("sweep_steps", [](const py::dict& kw) { return sim::sweep_steps(sweep_config(kw)); }, py::arg("params"));
  m.def(
      "sweep_sets",
      [](const py::dict& kw, size_t step, size_t first, size_t count) {
        const sim::SweepConfig c = sweep_config(kw);
        std::vector<sim::SweepRow> rows;
        {
          py::gil_scoped_release release;
          rows = sim::run_sweep_sets(c, step, first, count);
        }
        return sweep_rows(rows);
      },
      py::arg("params"), py::arg("step"), py::arg("first"), py::arg("count"),
      "Rows (utilisation, test, accepted, sets) for sets first..first+count-1 of one step.");
  m.def(
      "sweep",
      [](const py::dict& kw) {
        const sim::SweepConfig c = sweep_config(kw);
        std::vector<sim::SweepRow> rows;
        {
          py::gil_scoped_release release;
          rows = sim::run_sweep(c);
        }
        return sweep_rows(rows);
      },
      py::arg("params"), "The whole sweep in this process, as `edgeos sweep` runs it.");

  // --- small helpers ----------------------------------------------------------------------------
  m.def("duration", [](const py::object& v) { return to_duration(v, "duration").ns(); }, py::arg("value"),
        "Nanoseconds of an int or of a string with a unit ('5ms', '1.5s').");
  m.def("format_duration", [](int64_t ns) { return format_duration(Duration::nanoseconds(ns)); }, py::arg("ns"));
  std::vector<std::string> events;
  for (size_t e = 0; e < kNumTraceEvents; ++e) events.emplace_back(trace_event_name(static_cast<TraceEvent>(e)));
  m.attr("TRACE_EVENTS") = events;
}

}  // namespace edgeos::py_bindings

PYBIND11_MODULE(_edgeos, m) {
  namespace py = pybind11;
  m.doc() = "edgeos C++ core (private; use the `edgeos` package)";
  py::register_exception<edgeos::InputError>(m, "InputError", PyExc_ValueError);
  edgeos::py_bindings::bind_model(m);
  edgeos::py_bindings::bind_policies(m);
  edgeos::py_bindings::bind_simulation(m);
}
