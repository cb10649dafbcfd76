// Replays every tests/golden/*.golden file on the core-only simulator and compares the exact
// schedule: every slice (start, end, how it ended), every deadline miss, the listed response times.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "../support/core_sim_runner.hpp"
#include "../support/golden.hpp"
#include "../support/golden_scenario.hpp"

namespace edgeos::testing {
namespace {

class GoldenSchedule : public ::testing::TestWithParam<std::string> {};

// Every slice, miss, budget event and listed response time of `run` equals the golden file's.
void expect_golden(const GoldenCase& g, const TraceRun& run, int64_t unit_ns) {
  const int64_t horizon_ns = g.horizon * unit_ns;
  EXPECT_THAT(slices_of(run.records, run.names, unit_ns, horizon_ns), ::testing::ElementsAreArray(g.runs))
      << g.file << ": " << g.name;
  EXPECT_THAT(misses_of(run.records, run.names, unit_ns), ::testing::ElementsAreArray(g.misses)) << g.file;
  EXPECT_THAT(budget_events_of(run.records, run.names, TraceEvent::kBudgetExhausted, unit_ns),
              ::testing::ElementsAreArray(g.exhausted))
      << g.file << ": budget exhaustions";
  EXPECT_THAT(budget_events_of(run.records, run.names, TraceEvent::kReplenish, unit_ns),
              ::testing::ElementsAreArray(g.replenished))
      << g.file << ": replenishments";
  const std::vector<Response> responses = responses_of(run.records, run.names, unit_ns);
  for (const Response& want : g.responses) {
    const auto it = std::find_if(responses.begin(), responses.end(), [&](const Response& r) {
      return r.task == want.task && r.job == want.job;
    });
    ASSERT_NE(it, responses.end()) << g.file << ": no completion of " << want.task << " job " << want.job;
    EXPECT_EQ(*it, want) << g.file;
  }
}

TEST_P(GoldenSchedule, CoreSimulatorMatches) {
  const GoldenCase g = load_golden(GetParam());
  expect_golden(g, run_on_core_sim(g), g.unit_ns);
}

// The golden case written as a scenario file (as the kernel's test boots it, but with the costs
// as they are) and run as `edgeos sim` runs scenarios: the same schedule. This is what lets the
// kernel's replay of the scenario stand for a replay of the golden file.
TEST_P(GoldenSchedule, AsScenarioFileMatches) {
  const GoldenCase g = load_golden(GetParam());
  const std::string dir = ::testing::TempDir() + "golden-scenario-" + std::filesystem::path(GetParam()).stem().string();
  const std::string path = write_golden_scenario(golden_scenario(g, {}), dir);
  expect_golden(g, run_scenario_on_core_sim(path), g.unit_ns);
  std::filesystem::remove_all(dir);
}

// The same, one CPU at a time, as a one-CPU backend (the kernel) boots a file with several
// partitioned CPUs: each CPU's tasks alone give that CPU's part of the golden schedule.
TEST(GoldenFiles, EachCpuOfAMultiCpuFileAsScenarioFileMatches) {
  int files = 0;
  for (const std::string& file : golden_files(EDGEOS_GOLDEN_DIR)) {
    const GoldenCase g = load_golden(file);
    if (g.cpus == 1) continue;
    ++files;
    for (uint32_t cpu = 0; cpu < g.cpus; ++cpu) {
      SCOPED_TRACE(::testing::Message() << g.file << ", CPU " << cpu);
      const std::string dir = ::testing::TempDir() + "golden-cpu-" + std::to_string(cpu) + "-" +
                              std::filesystem::path(file).stem().string();
      GoldenScenarioOptions o;
      o.cpu = static_cast<int>(cpu);
      const std::string path = write_golden_scenario(golden_scenario(g, o), dir);
      const GoldenCase part = golden_cpu_part(g, cpu);
      ASSERT_FALSE(part.runs.empty());
      expect_golden(part, run_scenario_on_core_sim(path), g.unit_ns);
      std::filesystem::remove_all(dir);
    }
  }
  EXPECT_GE(files, 1);
}

std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = std::filesystem::path(info.param).stem().string();
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, GoldenSchedule, ::testing::ValuesIn(golden_files(EDGEOS_GOLDEN_DIR)), case_name);

TEST(GoldenFiles, AtLeastTheTextbookCasesArePresent) {
  const std::vector<std::string> files = golden_files(EDGEOS_GOLDEN_DIR);
  EXPECT_GE(files.size(), 7u);
}

}  // namespace
}  // namespace edgeos::testing
