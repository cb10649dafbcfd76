// Scenario files: the examples parse to what they say; units convert exactly; errors name the
// file, line, column and key, and suggest the key that was meant.
#include "edgeos/workloads/scenario_toml.hpp"

#include <gtest/gtest.h>

#include "edgeos/hosted/error.hpp"

namespace edgeos::scenario {
namespace {

std::string examples() { return EDGEOS_EXAMPLES_DIR; }

TEST(ScenarioFile, TheDefaultExampleSaysWhatItMeans) {
  const Scenario s = load_scenario(examples() + "/edge-server.toml");
  EXPECT_EQ(s.name, "edge-server");
  EXPECT_EQ(s.duration, Duration::seconds(2));
  EXPECT_EQ(s.seed, 1u);
  ASSERT_EQ(s.servers.size(), 1u);
  EXPECT_EQ(s.servers[0].cpus, 4u);
  EXPECT_DOUBLE_EQ(s.servers[0].speed_hz, 2.4e9);
  EXPECT_EQ(s.tenants.size(), 5u);
  const ThreadSpec* render = s.find_thread("render");
  ASSERT_NE(render, nullptr);
  EXPECT_EQ(render->cost.kind, CostDist::Kind::kFixed);
  EXPECT_EQ(render->cost.value, Duration::milliseconds(3));  // 7.2 Mcycles at 2.4 GHz
  const ThreadSpec* kv = s.find_thread("memcached");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->sched.server, ServerKind::kCbs);
  EXPECT_EQ(kv->sched.budget, Duration::microseconds(400));
  EXPECT_EQ(kv->sched.period, Duration::milliseconds(1));
  EXPECT_EQ(kv->sched.relative_deadline, Duration::milliseconds(1));  // defaults to the job deadline
  ASSERT_EQ(kv->calls.size(), 1u);
  EXPECT_EQ(kv->calls[0].to, "storage");
  EXPECT_EQ(kv->calls[0].at, Duration::microseconds(2));
  const ThreadSpec* batch = s.find_thread("batch");
  EXPECT_EQ(batch->release, ReleaseKind::kPeriodic);
  EXPECT_EQ(batch->job_deadline(), Duration::milliseconds(100));  // implicit deadline
  ASSERT_EQ(s.workloads.size(), 3u);
  EXPECT_EQ(s.workloads[0].kind, WorkloadKind::kAr);
  EXPECT_EQ(s.workloads[0].stages, (std::vector<std::string>{"decode", "detect", "track", "render"}));
  EXPECT_EQ(s.workloads[1].bursts.size(), 1u);
  EXPECT_EQ(s.workloads[1].bursts[0].count, 2000u);
  EXPECT_DOUBLE_EQ(s.workloads[2].rate, 20000.0);
  // Periodic utilisation: only `batch` (20ms / 100ms).
  EXPECT_DOUBLE_EQ(stats(s).utilisation, 0.2);
  EXPECT_EQ(stats(s).fwps, 5u);
}

TEST(ScenarioFile, EveryExampleParses) {
  for (const char* name : {"edge-server.toml", "kv-tenants.toml", "fp-servers.toml", "replay.toml"}) {
    EXPECT_NO_THROW(load_scenario(examples() + "/" + name)) << name;
  }
  const Scenario kv = load_scenario(examples() + "/kv-tenants.toml");
  EXPECT_EQ(stats(kv).fwps, 300u);
  EXPECT_EQ(stats(kv).threads, 300u);
  const Scenario replay = load_scenario(examples() + "/replay.toml");
  // Relative file names resolve against the scenario's directory.
  EXPECT_EQ(replay.workloads[0].file, examples() + "/traces/iot-sample.jsonl");
}

TEST(Units, RatesFrequenciesAndSizes) {
  EXPECT_DOUBLE_EQ(parse_rate("500/s", "r"), 500);
  EXPECT_DOUBLE_EQ(parse_rate("2k/s", "r"), 2000);
  EXPECT_DOUBLE_EQ(parse_rate("1.5kHz", "r"), 1500);
  EXPECT_DOUBLE_EQ(parse_rate("100/ms", "r"), 100000);
  EXPECT_DOUBLE_EQ(parse_frequency("2.4GHz", "f"), 2.4e9);
  EXPECT_DOUBLE_EQ(parse_frequency("800MHz", "f"), 8e8);
  EXPECT_EQ(parse_size("256B", "s"), 256u);
  EXPECT_EQ(parse_size("4KiB", "s"), 4096u);
  EXPECT_EQ(parse_size("1MiB", "s"), 1048576u);
  for (const char* bad : {"500", "fast", "-3/s", "2x/s", ""}) EXPECT_THROW(parse_rate(bad, "r"), InputError) << bad;
  EXPECT_THROW(parse_size("1.5B", "s"), InputError);
  EXPECT_EQ(nearest("duraton", {"name", "duration", "seed"}), "duration");
  EXPECT_EQ(nearest("zzzzzz", {"name", "duration", "seed"}), "");
}

// Parses `text` as "bad.toml" and returns the error message.
std::string error_of(const std::string& text) {
  try {
    parse_scenario(text, "bad.toml", "");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

const char* const kHead = "[scenario]\nname = \"x\"\nduration = \"1s\"\n[[tenant]]\nname = \"t\"\n";

TEST(ScenarioErrors, NameFileLineColumnAndKey) {
  // A misspelt key: the line and column of the key, and the key that was meant.
  EXPECT_EQ(error_of(std::string(kHead) + "[[thread]]\nname = \"a\"\ntenant = \"t\"\nperiod = \"1ms\"\ncots = \"1ms\"\n"),
            "bad.toml:10:1: thread \"a\": unknown key \"cots\" (did you mean \"cost\"?)");
  // A bare number where a duration belongs.
  EXPECT_EQ(error_of(std::string(kHead) + "[[thread]]\nname = \"a\"\ntenant = \"t\"\nperiod = 5\ncost = \"1ms\"\n"),
            "bad.toml:9:10: thread \"a\": key \"period\": a bare number is not a duration; write it with a unit, e.g. "
            "\"5ms\"");
  // The TOML syntax itself.
  EXPECT_NE(error_of("[scenario\nname = 1\n").find("bad.toml:1:"), std::string::npos);
}

std::string dotted(size_t parts) {
  std::string k = "a";
  for (size_t i = 1; i < parts; ++i) k += ".a";
  return k;
}

TEST(ScenarioErrors, DeepKeysAreRefusedBeforeTheParserSeesThem) {
  // Tens of thousands of parts overflowed toml++'s stack (SIGSEGV).
  EXPECT_EQ(error_of("[" + dotted(40000) + "]\n").rfind("bad.toml:1:1: key nested 40000 levels deep, more than the 256 allowed", 0),
            0u);
  // Under [[tenant]], itself two levels deep (an array of tables, then its element).
  EXPECT_EQ(error_of(std::string(kHead) + "  " + dotted(40000) + " = 1\n").rfind("bad.toml:6:3: key nested 40002 levels", 0), 0u);
  EXPECT_EQ(error_of("[[" + dotted(300) + "]]\n").rfind("bad.toml:1:1: key nested 301 levels", 0), 0u);
  // Levels add up: header, dotted keys, arrays and inline tables around them.
  const std::string k = dotted(100);
  EXPECT_EQ(error_of("[" + k + "]\nx = [{" + k + " = { " + k + " = 1 }}]\n").rfind("bad.toml:2:", 0), 0u);
  EXPECT_NE(error_of("[" + k + "]\nx = [{" + k + " = { " + k + " = 1 }}]\n").find("key nested 302 levels"), std::string::npos);
  // Up to the limit, the file goes on to the parser (which refuses the unknown table).
  EXPECT_NE(error_of("[" + dotted(256) + "]\n").find("unknown table \"a\""), std::string::npos);
  // Dots inside strings, comments and multi-line strings are not keys.
  const std::string many(400, '.');
  const std::string text = std::string(kHead) + "# " + dotted(400) + "\n[[thread]]\nname = \"" + dotted(400) +
                           "\"\ntenant = 't'\nperiod = '''\n" + dotted(400) + "\n'''\ncost = \"\"\"\\\"\n" + many +
                           "\"\"\"\nx = [ \"a.b\", 1.5, { \"p\".'q' = [ [ 2 ] ] } ]\n";
  EXPECT_EQ(error_of(text).find("nested"), std::string::npos) << error_of(text);
}

TEST(ScenarioErrors, CrossReferencesAreChecked) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const std::string thread = "[[thread]]\nname = \"a\"\ntenant = \"t\"\n";
  const Case cases[] = {
      {thread + "period = \"1ms\"\ncost = \"1ms\"\ncpu = 3\n", "cpu 3 does not exist on server \"server0\" (CPUs 0 to 0)"},
      {"[[thread]]\nname = \"a\"\ntenant = \"nobody\"\nperiod = \"1ms\"\ncost = \"1ms\"\n", "unknown tenant \"nobody\""},
      {thread + "period = \"1ms\"\ncost = \"1ms\"\nserver = \"cbs\"\nbudget = \"1ms\"\nserver_period = \"2ms\"\n"
                "[[server]]\nname = \"s\"\npolicy = \"fp\"\n",
       "a CBS server needs an EDF server"},
      {thread + "period = \"1ms\"\ncost = \"1ms\"\nbudget = \"1ms\"\n", "only a thread with a server"},
      {thread + "period = \"1ms\"\ncost = \"1ms\"\nserver = \"sporadik\"\nbudget = \"1ms\"\nserver_period = \"2ms\"\n",
       "unknown server kind \"sporadik\" (did you mean \"sporadic\"?)"},
      {thread + "period = \"1ms\"\ncost = \"1ms\"\n[[workload]]\nname = \"w\"\nkind = \"poisson\"\ntarget = \"a\"\nrate = \"1/s\"\n",
       "thread \"a\" is periodic; a workload drives sporadic threads"},
      {thread + "release = \"sporadic\"\nperiod = \"1ms\"\ncost = \"1ms\"\n", "a sporadic thread needs key \"deadline\""},
      {thread + "period = \"1ms\"\ncost = { dist = \"gaussian\", mean = \"1ms\" }\n",
       "unknown distribution \"gaussian\""},
      {thread + "period = \"1ms\"\ncost = { dist = \"uniform\", min = \"2ms\", max = \"1ms\" }\n", "key \"max\": must be >= min"},
      {thread + "period = \"1ms\"\ncost = \"1ms\"\n[[workload]]\nname = \"w\"\nkind = \"poison\"\n",
       "unknown workload kind \"poison\" (did you mean \"poisson\"?)"},
      {thread + "period = \"-1ms\"\ncost = \"1ms\"\n", "must not be negative"},
      {thread + "period = \"1ms\"\ncost = { dist = \"uniform\", min = \"1ms\", max = \"2ms\", sd = \"1ms\" }\n",
       "key \"sd\": does not apply to dist \"uniform\" (its keys: dist, min, max)"},
      {thread + "release = \"sporadic\"\nperiod = \"1ms\"\ndeadline = \"1ms\"\nphase = \"1ms\"\ncost = \"1ms\"\n",
       "key \"phase\": applies to periodic threads only"},
      {thread + "period = \"1ms\"\ncost = \"1ms\"\n[[invoke]]\nfrom = \"t\"\nto = \"t\"\n", "invoke: \"t\" invoking itself"},
      {thread + "release = \"sporadic\"\nperiod = \"1ms\"\ndeadline = \"1ms\"\ncost = \"1ms\"\n[[workload]]\nname = \"w\"\n"
                "kind = \"trace\"\nfile = \"x.csv\"\ntarget = \"a\"\ntargets = { t = \"a\" }\n",
       "needs either \"target\" (one thread for every arrival) or \"targets\""},
      {thread + "release = \"sporadic\"\nperiod = \"1ms\"\ndeadline = \"1ms\"\ncost = \"1ms\"\n[[workload]]\nname = \"w\"\n"
                "kind = \"iot\"\ntarget = \"a\"\nsensors = 3\nperiod = \"10ms\"\njitter = \"11ms\"\n",
       "jitter 11ms exceeds the reading period 10ms"},
  };
  for (const Case& c : cases) {
    const std::string e = error_of(std::string(kHead) + c.body);
    EXPECT_NE(e.find("bad.toml:"), std::string::npos) << e;
    EXPECT_NE(e.find(c.expected), std::string::npos) << "expected \"" << c.expected << "\" in: " << e;
  }
}

TEST(ScenarioErrors, PcapPortsBeyondAnyIntegerAreNotPortNumbers) {
  // std::stoul threw std::out_of_range for these, past the InputError handling (found by tests/fuzz).
  const std::string body = "[[thread]]\nname = \"a\"\ntenant = \"t\"\nrelease = \"sporadic\"\nperiod = \"1ms\"\n"
                           "deadline = \"1ms\"\ncost = \"1ms\"\n[[workload]]\nname = \"w\"\nkind = \"pcap\"\nfile = \"" +
                           examples() + "/traces/sample.pcap\"\nports = { \"";
  for (const char* port : {"112888888888888888888", "65536", "4294967296", "-1", "+7", "7x"}) {
    const std::string e = error_of(std::string(kHead) + body + port + "\" = \"a\" }\n");
    EXPECT_NE(e.find(std::string("\"") + port + "\" is not a port number"), std::string::npos) << e;
  }
}

TEST(ScenarioErrors, UdpPortsAreIntegers) {
  // A float was converted to an integer before its type was checked: undefined for 5e83 (found
  // by tests/fuzz).
  for (const char* ports : {"[5e83]", "[7.0]", "[\"7\"]", "[0]", "[65536]"}) {
    const std::string e = error_of("[scenario]\nname = \"x\"\nduration = \"1s\"\n[[tenant]]\nname = \"t\"\nudp = " +
                                   std::string(ports) + "\n");
    EXPECT_NE(e.find("bad.toml:6:"), std::string::npos) << e;
    EXPECT_NE(e.find("expected an array of UDP port numbers (1 to 65535)"), std::string::npos) << e;
  }
}

TEST(ScenarioErrors, MemoryBudgetsAreWholeKibibytesOnTheirTemplate) {
  const std::string head = "[scenario]\nname = \"x\"\nduration = \"1s\"\n";
  for (const char* memory : {"\"3KiB\"", "\"4100B\"", "\"lots\"", "65536"}) {
    const std::string e = error_of(head + "[[template]]\nname = \"tp\"\nmemory = " + memory + "\n[[tenant]]\nname = \"t\"\n");
    EXPECT_NE(e.find("bad.toml:6:"), std::string::npos) << e;
    EXPECT_NE(e.find("template \"tp\": key \"memory\""), std::string::npos) << e;
  }
  EXPECT_NE(error_of(head + "[[template]]\nname = \"tp\"\n[[tenant]]\nname = \"t\"\ntemplate = \"tp\"\nmemory = \"64KiB\"\n")
                .find("made from template \"tp\": set `memory` there"),
            std::string::npos);
  const Scenario s = parse_scenario(head + "[[template]]\nname = \"tp\"\nmemory = \"1MiB\"\n[[tenant]]\nname = \"t\"\n"
                                           "template = \"tp\"\n[[tenant]]\nname = \"u\"\nmemory = \"64KiB\"\n"
                                           "[[thread]]\nname = \"a\"\ntenant = \"u\"\nperiod = \"1ms\"\ncost = \"1us\"\n",
                                    "ok.toml", "");
  EXPECT_EQ(s.templates[0].memory, 1u << 20);
  EXPECT_EQ(s.tenants[1].memory, 64u * 1024);
}

TEST(ScenarioErrors, PerClientTemplatesNeedABoundAndAFront) {
  const std::string head = "[scenario]\nname = \"x\"\nduration = \"1s\"\n";
  const std::string thread = "[[thread]]\nname = \"a\"\ntenant = \"t\"\nperiod = \"1ms\"\ncost = \"1us\"\n";
  EXPECT_NE(error_of(head + "[[template]]\nname = \"tp\"\nper_client = true\n[[tenant]]\nname = \"t\"\n" + thread)
                .find("bad.toml:6:14: template \"tp\": key \"per_client\": a per_client template needs max_instances"),
            std::string::npos);
  EXPECT_NE(error_of(head + "[[template]]\nname = \"tp\"\nidle_timeout = \"1s\"\n[[tenant]]\nname = \"t\"\n" + thread)
                .find("only a per_client template recycles its FWPs when idle"),
            std::string::npos);
  const std::string e = error_of(head + "[[template]]\nname = \"tp\"\nper_client = true\nmax_instances = 9\n[[tenant]]\n"
                                        "name = \"t\"\ntemplate = \"tp\"\n" + thread);
  EXPECT_NE(e.find("tenant \"t\": its template \"tp\" is per_client: the tenant is the front of its clients' FWPs and "
                   "needs one instance and a `udp` port"),
            std::string::npos)
      << e;
}

TEST(ScenarioFile, CyclesConvertWithTheSpeedOfTheDrivenThreadsServer) {
  // A trace workload that names its threads through `targets` only, on a 2 GHz server.
  const Scenario s = parse_scenario(R"(
[scenario]
name = "speed"
duration = "1s"
[[server]]
speed = "2GHz"
[[tenant]]
name = "t"
[[thread]]
name = "a"
tenant = "t"
release = "sporadic"
period = "1ms"
deadline = "1ms"
cost = "2Mcycles"
[[workload]]
name = "w"
kind = "azure"
file = "azure-sample.csv"
targets = ["a"]
cost = "4Mcycles"
)",
                                    "speed.toml", EDGEOS_EXAMPLES_DIR "/traces");
  EXPECT_EQ(s.find_thread("a")->cost.value, Duration::milliseconds(1));
  EXPECT_EQ(s.workloads[0].cost->value, Duration::milliseconds(2));
}

TEST(ThreadRefs, InstancesAreNumberedFromZero) {
  EXPECT_EQ(split_thread_ref("server#12").thread, "server");
  EXPECT_EQ(split_thread_ref("server#12").instance, 12u);
  EXPECT_FALSE(split_thread_ref("server").instance);
  EXPECT_FALSE(split_thread_ref("server#x").instance);
  EXPECT_FALSE(split_thread_ref("server#").instance);
}

}  // namespace
}  // namespace edgeos::scenario
