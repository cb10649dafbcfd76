// Scenarios run on the core simulator: the examples produce the counts their parameters imply;
// pipelines, synchronous calls and trace replay give the exact times worked out by hand; runs are
// deterministic; instances are laid out as documented.
#include "edgeos/simulator/scenario_run.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::sim {
namespace {

std::string examples() { return EDGEOS_EXAMPLES_DIR; }

scenario::Scenario parse(const std::string& text, const std::string& base_dir = "") {
  return scenario::parse_scenario(text, "test.toml", base_dir);
}

struct Ran {
  std::vector<TraceRecord> records;
  Summary summary;
  std::vector<WorkloadResult> workloads;
  RunStats stats;
  TraceNames names;
};

Ran run(const scenario::Scenario& s, ScenarioOptions opt = {}) {
  opt.check_invariants = true;
  TraceBuffer buffer;
  ScenarioRun r(s, opt, buffer);
  Ran out;
  out.stats = r.run();
  out.records = buffer.records();
  out.summary = summarize(out.records, r.names(), Instant::epoch(), r.end());
  out.workloads = r.workload_results();
  out.names = r.names();
  return out;
}

const JobStats& thread_stats(const Ran& r, const std::string& name) {
  for (const JobStats& t : r.summary.threads) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no thread " + name);
}

const WorkloadResult& workload(const Ran& r, const std::string& name) {
  for (const WorkloadResult& w : r.workloads) {
    if (w.name == name) return w;
  }
  throw std::runtime_error("no workload " + name);
}

TEST(Examples, EdgeServerCountsFollowFromItsParameters) {
  const Ran r = run(scenario::load_scenario(examples() + "/edge-server.toml"));
  // batch: periodic 20ms every 100ms for 2s: 20 jobs, 400ms of CPU, never late (CPU 3 is at
  // most 20% + the kv reservation's 40% loaded).
  const JobStats& batch = thread_stats(r, "batch");
  EXPECT_EQ(batch.released, 20u);
  EXPECT_EQ(batch.completed, 20u);
  EXPECT_EQ(batch.cpu_time, Duration::milliseconds(400));
  EXPECT_EQ(batch.misses, 0u);
  // camera: 60 fps for 2s = 120 frames; every stage sees each frame once.
  const WorkloadResult& camera = workload(r, "camera");
  EXPECT_EQ(camera.generated, 120u);
  EXPECT_EQ(camera.dropped, 0u);
  for (const char* stage : {"decode", "detect", "track", "render"}) EXPECT_EQ(thread_stats(r, stage).released, 120u) << stage;
  // render costs 7.2 Mcycles at 2.4 GHz = 3ms per frame; the frames done cover every one that
  // had time to cross the pipeline (the last arrives at 1.983s + jitter).
  const JobStats& render = thread_stats(r, "render");
  EXPECT_EQ(render.cpu_time, Duration::milliseconds(3) * static_cast<int64_t>(render.completed));
  EXPECT_GE(camera.frames_done, 119u);
  EXPECT_EQ(camera.frames_late, 0u);
  // A frame's end-to-end latency is at least the sum of the stages' minimum costs.
  EXPECT_GE(camera.e2e.min, Duration::microseconds(800 + 3000 + 1500 + 3000));
  // sensors: 200 sensors x 20 readings in 2s (a reading whose jitter pushes it past 2s is cut),
  // plus the 2000-reading storm.
  const WorkloadResult& sensors = workload(r, "sensors");
  EXPECT_GE(sensors.generated, 200u * 19 + 2000);
  EXPECT_LE(sensors.generated, 200u * 20 + 2000);
  // etc: 20k requests/s for 2s, a renewal process with a finite-variance gap: within 3%.
  const WorkloadResult& etc = workload(r, "etc");
  EXPECT_NEAR(static_cast<double>(etc.generated), 40000.0, 1200.0);
  uint64_t kinds = 0;
  for (const auto& [k, n] : etc.by_kind) kinds += n;
  EXPECT_EQ(kinds, etc.generated);
  EXPECT_EQ(etc.delivered + etc.dropped, etc.generated);
}

TEST(Examples, TheOthersRunAndAccountForEveryArrival) {
  for (const char* name : {"fp-servers.toml", "replay.toml", "kv-tenants.toml"}) {
    const Ran r = run(scenario::load_scenario(examples() + "/" + name));
    uint64_t generated = 0;
    for (const WorkloadResult& w : r.workloads) {
      EXPECT_EQ(w.delivered + w.dropped, w.generated) << name << " " << w.name;
      generated += w.generated;
    }
    EXPECT_GT(generated, 0u) << name;
    EXPECT_GT(r.summary.total.completed, 0u) << name;
  }
}

TEST(Examples, FpServersPeriodicJobCounts) {
  const Ran r = run(scenario::load_scenario(examples() + "/fp-servers.toml"));
  // 3s of 5ms and 20ms periods: 600 and 150 jobs; rate-monotonic with U = 0.2 + 0.2 + servers
  // (0.1 + 0.05): loop-fast, the highest priority, always responds in exactly its cost.
  EXPECT_EQ(thread_stats(r, "loop-fast").released, 600u);
  EXPECT_EQ(thread_stats(r, "loop-slow").released, 150u);
  EXPECT_EQ(thread_stats(r, "loop-fast").response.max, Duration::milliseconds(1));
  EXPECT_EQ(thread_stats(r, "loop-fast").misses, 0u);
  EXPECT_EQ(workload(r, "frames").generated, 90u);
}

TEST(Examples, KvTenantsSpreadOverTheCpus) {
  TraceBuffer sink;
  const scenario::Scenario s = scenario::load_scenario(examples() + "/kv-tenants.toml");
  ScenarioRun r(s, {}, sink);
  ASSERT_EQ(r.layout().threads.size(), 1u);
  ASSERT_EQ(r.layout().threads[0].size(), 300u);
  for (uint32_t k = 0; k < 300; ++k) {
    const Thread* t = *r.simulator().kernel().thread(r.layout().threads[0][k]);
    EXPECT_EQ(t->cpu, k % 8) << k;
    EXPECT_EQ(r.names().thread(r.layout().threads[0][k].index), "server#" + std::to_string(k));
    EXPECT_EQ(r.names().fwp(r.layout().fwps[0][k].index), "kv#" + std::to_string(k));
  }
  // One request stream per instance.
  EXPECT_EQ(r.workload_results()[0].sources, 300u);
}

// Three stages on three idle CPUs with fixed costs: every frame's end-to-end latency is exactly
// 1 + 2 + 3 = 6ms.
const char* const kPipeline = R"(
[scenario]
name = "pipeline"
duration = "1s"
[[server]]
cpus = 3
[[tenant]]
name = "ar"
[[thread]]
name = "a"
tenant = "ar"
cpu = 0
release = "sporadic"
period = "1ms"
deadline = "100ms"
cost = "1ms"
[[thread]]
name = "b"
tenant = "ar"
cpu = 1
release = "sporadic"
period = "1ms"
deadline = "100ms"
cost = "2ms"
[[thread]]
name = "c"
tenant = "ar"
cpu = 2
release = "sporadic"
period = "1ms"
deadline = "100ms"
cost = "3ms"
[[workload]]
name = "cam"
kind = "ar"
stages = ["a", "b", "c"]
fps = 10
e2e_deadline = "E2E"
)";

std::string with(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

TEST(Pipelines, EndToEndLatencyIsTheSumOfStageCosts) {
  const Ran r = run(parse(with(kPipeline, "E2E", "6ms")));
  const WorkloadResult& cam = workload(r, "cam");
  EXPECT_EQ(cam.generated, 10u);
  EXPECT_EQ(cam.frames_done, 10u);
  EXPECT_EQ(cam.frames_late, 0u);
  EXPECT_EQ(cam.e2e.min, Duration::milliseconds(6));
  EXPECT_EQ(cam.e2e.max, Duration::milliseconds(6));
  // Stage b's jobs are released the instant stage a's complete: 1ms after each frame.
  for (const TraceRecord& rec : r.records) {
    if (rec.event == TraceEvent::kRelease && r.names.thread(rec.thread) == "b") {
      EXPECT_EQ(rec.time_ns % 100'000'000, 1'000'000) << rec.time_ns;
    }
  }
  const Ran late = run(parse(with(kPipeline, "E2E", "5999us")));
  EXPECT_EQ(workload(late, "cam").frames_late, 10u);
}

// A client thread whose every job does 1ms of its own work, calls into the server tenant for 2ms,
// then does 2ms more. One reading every 20ms, so jobs never overlap.
const char* const kCalls = R"(
[scenario]
name = "calls"
duration = "100ms"
[[tenant]]
name = "app"
[[tenant]]
name = "db"
[[thread]]
name = "client"
tenant = "app"
release = "sporadic"
period = "1ms"
deadline = "20ms"
cost = "3ms"
SERVER
[[thread.call]]
to = "db"
at = "1ms"
cost = "2ms"
[[workload]]
name = "reads"
kind = "iot"
target = "client"
sensors = 1
period = "20ms"
)";

TEST(Calls, TheCalleesWorkRunsOnTheCallersBudget) {
  // No server: each job responds in 1 + 2 + 2 = 5ms, with the call at +1ms and the reply at +3ms.
  const Ran free = run(parse(with(kCalls, "SERVER", "")));
  const JobStats& client = thread_stats(free, "client");
  EXPECT_EQ(client.released, 5u);
  EXPECT_EQ(client.response.min, Duration::milliseconds(5));
  EXPECT_EQ(client.response.max, Duration::milliseconds(5));
  int64_t release = -1;
  int calls = 0;
  for (const TraceRecord& rec : free.records) {
    if (rec.event == TraceEvent::kRelease) release = rec.time_ns;
    if (rec.event == TraceEvent::kIpcCall) {
      EXPECT_EQ(rec.time_ns - release, Duration::milliseconds(1).ns());
      ++calls;
    }
    if (rec.event == TraceEvent::kIpcReply) {
      EXPECT_EQ(rec.time_ns - release, Duration::milliseconds(3).ns());
    }
  }
  EXPECT_EQ(calls, 5);

  // A sporadic server of 4ms per 10ms: the job's 5ms (own 3ms + the callee's 2ms, which the
  // caller pays) exhausts the budget at 4ms; the 4ms consumed from 0 come back at 10ms, and the
  // job finishes at 11ms. Were the callee's work not charged, 3ms would fit the budget.
  const Ran bounded = run(parse(with(kCalls, "SERVER", "server = \"sporadic\"\nbudget = \"4ms\"\nserver_period = \"10ms\"")));
  int64_t first_complete = -1;
  for (const TraceRecord& rec : bounded.records) {
    if (rec.event == TraceEvent::kComplete && first_complete < 0) first_complete = rec.value;
  }
  EXPECT_EQ(first_complete, Duration::milliseconds(11).ns());
}

TEST(Replay, ATraceYieldsExactlyItsArrivals) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("edgeos-replay-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Random arrivals at least 2us apart with costs below 1us: the thread is idle at each arrival,
  // so each is released at its own instant and completes after exactly its cost.
  std::vector<arrivals::Arrival> in;
  Rng rng(99);
  int64_t t = 0;
  for (int i = 0; i < 3000; ++i) {
    t += rng.between(2000, 400'000);
    arrivals::Arrival a;
    a.time = Instant::from_ns(t);
    a.cost = Duration::nanoseconds(rng.between(1, 999));
    in.push_back(a);
  }
  {
    arrivals::TraceWriter w((dir / "t.csv").string());
    for (const arrivals::Arrival& a : in) w.add(a, "sensor", "reading");
    w.commit();
  }
  const Ran r = run(parse(R"(
[scenario]
name = "replay"
duration = "2s"
[[tenant]]
name = "edge"
[[thread]]
name = "ingest"
tenant = "edge"
release = "sporadic"
period = "1us"
deadline = "1ms"
cost = "5ms"
[[workload]]
name = "trace"
kind = "trace"
file = "t.csv"
targets = { sensor = "ingest" }
)",
                          dir.string()));
  fs::remove_all(dir);
  std::vector<int64_t> releases, responses;
  for (const TraceRecord& rec : r.records) {
    if (rec.event == TraceEvent::kRelease) releases.push_back(rec.time_ns);
    if (rec.event == TraceEvent::kComplete) responses.push_back(rec.value);
  }
  size_t expected = 0;
  while (expected < in.size() && in[expected].time < Instant::epoch() + Duration::seconds(2)) ++expected;
  ASSERT_EQ(releases.size(), expected);
  ASSERT_EQ(responses.size(), expected);
  for (size_t i = 0; i < expected; ++i) {
    EXPECT_EQ(releases[i], in[i].time.ns()) << i;
    EXPECT_EQ(responses[i], in[i].cost.ns()) << i;  // the record's cost, not the thread's 5ms
  }
  EXPECT_EQ(workload(r, "trace").generated, expected);
}

TEST(Replay, RecordsWithoutACostTakeTheWorkloads) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("edgeos-replay-cost-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "t.csv");
    f << "time_us,tenant,cost_us\n100,a,0\n300,a,50\n600,a,0\n";
  }
  const Ran r = run(parse(R"(
[scenario]
name = "replay"
duration = "1s"
[[tenant]]
name = "edge"
[[thread]]
name = "w"
tenant = "edge"
release = "sporadic"
period = "1us"
deadline = "1ms"
cost = "5us"
[[workload]]
name = "trace"
kind = "trace"
file = "t.csv"
target = "w"
cost = "7us"
)",
                          dir.string()));
  fs::remove_all(dir);
  std::vector<int64_t> responses;
  for (const TraceRecord& rec : r.records) {
    if (rec.event == TraceEvent::kComplete) responses.push_back(rec.value);
  }
  // The workload's 7us where the record has none, the record's own 50us where it has one.
  EXPECT_EQ(responses, (std::vector<int64_t>{7000, 50000, 7000}));
}

TEST(Determinism, SameSeedSameTraceOtherSeedOtherTrace) {
  const scenario::Scenario s = scenario::load_scenario(examples() + "/edge-server.toml");
  ScenarioOptions opt;
  opt.duration = Duration::milliseconds(500);
  const Ran a = run(s, opt);
  const Ran b = run(s, opt);
  ASSERT_EQ(a.records.size(), b.records.size());
  EXPECT_TRUE(std::equal(a.records.begin(), a.records.end(), b.records.begin(), [](const TraceRecord& x, const TraceRecord& y) {
    return x.time_ns == y.time_ns && x.cpu == y.cpu && x.event == y.event && x.fwp == y.fwp && x.thread == y.thread &&
           x.job == y.job && x.value == y.value;
  }));
  opt.seed = 2;
  const Ran c = run(s, opt);
  EXPECT_NE(a.summary.total.released, c.summary.total.released);
}

TEST(Instances, WorkloadsDriveEveryInstanceOrTheOneNamed) {
  const char* text = R"(
[scenario]
name = "instances"
duration = "1s"
[[server]]
cpus = 2
[[tenant]]
name = "t"
instances = 4
[[thread]]
name = "w"
tenant = "t"
spread = true
release = "sporadic"
period = "1us"
deadline = "1ms"
cost = "10us"
[[workload]]
name = "all"
kind = "poisson"
target = "w"
rate = "100/s"
[[workload]]
name = "one"
kind = "poisson"
target = "w#2"
rate = "1k/s"
)";
  TraceBuffer sink;
  const scenario::Scenario s = parse(text);
  ScenarioRun r(s, {}, sink);
  for (uint32_t k = 0; k < 4; ++k) {
    EXPECT_EQ((*r.simulator().kernel().thread(r.layout().threads[0][k]))->cpu, k % 2);
  }
  r.run();
  const std::vector<WorkloadResult> w = r.workload_results();
  EXPECT_EQ(w[0].sources, 4u);
  EXPECT_EQ(w[1].sources, 1u);
  const Summary sum = summarize(sink.records(), r.names(), Instant::epoch(), r.end());
  std::map<std::string, uint64_t> released;
  for (const JobStats& t : sum.threads) released[t.name] = t.released;
  // w#2 gets ~100 + ~1000 arrivals, the others ~100 each (Poisson: 5 sd bounds).
  EXPECT_NEAR(static_cast<double>(released["w#2"]), 1100, 5 * std::sqrt(1100.0));
  for (const char* name : {"w#0", "w#1", "w#3"}) EXPECT_NEAR(static_cast<double>(released[name]), 100, 50) << name;
}

TEST(Errors, InstantiationProblemsNameTheScenarioEntity) {
  // 17 callees: one more than an FWP's capability table holds.
  std::string text = "[scenario]\nname = \"caps\"\nduration = \"1s\"\n[[tenant]]\nname = \"hub\"\n";
  for (int i = 0; i < 17; ++i) {
    text += "[[tenant]]\nname = \"leaf" + std::to_string(i) + "\"\n[[invoke]]\nfrom = \"hub\"\nto = \"leaf" + std::to_string(i) + "\"\n";
  }
  text += "[[thread]]\nname = \"t\"\ntenant = \"hub\"\nperiod = \"1ms\"\ncost = \"1us\"\n";
  TraceBuffer sink;
  const scenario::Scenario s = parse(text);
  try {
    ScenarioRun r(s, {}, sink);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("tenant \"hub\" needs more than 16 capabilities"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.toml:4:1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace edgeos::sim
