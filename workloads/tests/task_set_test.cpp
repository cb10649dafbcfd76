#include "edgeos/workloads/task_set.hpp"

#include <gtest/gtest.h>

#include "edgeos/hosted/error.hpp"

namespace edgeos {
namespace {

using namespace time_literals;

TaskSpec task(const char* name, Duration c, Duration t) {
  TaskSpec s;
  s.name = name;
  s.tenant = "tenant";
  s.wcet = c;
  s.period = t;
  return s;
}

bool mentions(const std::vector<std::string>& errors, const std::string& a, const std::string& b) {
  for (const std::string& e : errors) {
    if (e.find(a) != std::string::npos && e.find(b) != std::string::npos) return true;
  }
  return false;
}

TEST(TaskSet, ValidSetHasNoErrors) {
  TaskSet set;
  set.name = "ok";
  set.tasks = {task("a", 1_ms, 5_ms), task("b", 2_ms, 7_ms)};
  EXPECT_TRUE(validation_errors(set, 10).empty());
  EXPECT_NO_THROW(validate(set, 10));
}

TEST(TaskSet, ImpossibleParametersNameTaskAndField) {
  TaskSet set;
  set.name = "bad";
  set.num_cpus = 2;
  TaskSpec zero_c = task("zero-c", Duration::zero(), 5_ms);
  TaskSpec neg_t = task("neg-t", 1_ms, -(5_ms));
  TaskSpec c_gt_d = task("c-gt-d", 4_ms, 10_ms);
  c_gt_d.deadline = 3_ms;
  TaskSpec soft = task("soft-c-gt-d", 4_ms, 10_ms);
  soft.deadline = 3_ms;
  soft.hard = false;  // allowed
  TaskSpec cpu = task("cpu", 1_ms, 5_ms);
  cpu.cpu = 2;
  TaskSpec bcet = task("bcet", 1_ms, 5_ms);
  bcet.bcet = 2_ms;
  TaskSpec dup = task("zero-c", 1_ms, 5_ms);
  TaskSpec jitter = task("jitter", 1_ms, 5_ms);
  jitter.max_extra = 1_ms;  // periodic tasks have no random inter-arrival
  set.tasks = {zero_c, neg_t, c_gt_d, soft, cpu, bcet, dup, jitter};
  const std::vector<std::string> errors = validation_errors(set, 100);
  EXPECT_TRUE(mentions(errors, "\"zero-c\"", "field \"wcet\": must be > 0")) << ::testing::PrintToString(errors);
  EXPECT_TRUE(mentions(errors, "\"neg-t\"", "field \"period\": must be > 0"));
  EXPECT_TRUE(mentions(errors, "\"c-gt-d\"", "C <= D"));
  EXPECT_FALSE(mentions(errors, "\"soft-c-gt-d\"", "C <= D"));
  EXPECT_TRUE(mentions(errors, "\"cpu\"", "field \"cpu\""));
  EXPECT_TRUE(mentions(errors, "\"bcet\"", "field \"bcet\""));
  EXPECT_TRUE(mentions(errors, "\"zero-c\"", "duplicate task name"));
  EXPECT_TRUE(mentions(errors, "\"jitter\"", "field \"max_extra\""));
  EXPECT_THROW(validate(set, 100), InputError);
}

TEST(TaskSet, CapacityExceededIsReported) {
  TaskSet set;
  set.name = "big";
  for (int i = 0; i < 5; ++i) set.tasks.push_back(task(("t" + std::to_string(i)).c_str(), 1_ms, 10_ms));
  EXPECT_TRUE(mentions(validation_errors(set, 4), "5 tasks", "capacity of 4"));
  set.tasks.clear();
  EXPECT_TRUE(mentions(validation_errors(set, 4), "task set", "no tasks"));
}

TEST(TaskSet, RateAndDeadlineMonotonicPerCpu) {
  TaskSet set;
  set.num_cpus = 2;
  TaskSpec a = task("a", 1_ms, 20_ms);
  TaskSpec b = task("b", 1_ms, 5_ms);
  TaskSpec c = task("c", 1_ms, 10_ms);
  c.deadline = 3_ms;
  TaskSpec d = task("d", 1_ms, 50_ms);
  d.cpu = 1;
  set.tasks = {a, b, c, d};
  assign_rate_monotonic(set);
  EXPECT_EQ(set.tasks[1].priority, 255);  // T = 5
  EXPECT_EQ(set.tasks[2].priority, 254);  // T = 10
  EXPECT_EQ(set.tasks[0].priority, 253);  // T = 20
  EXPECT_EQ(set.tasks[3].priority, 255);  // alone on CPU 1
  assign_deadline_monotonic(set);
  EXPECT_EQ(set.tasks[2].priority, 255);  // D = 3
  EXPECT_EQ(set.tasks[1].priority, 254);  // D = 5
}

}  // namespace
}  // namespace edgeos
