#include "edgeos/workloads/task_set_io.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "edgeos/hosted/error.hpp"

namespace edgeos {
namespace {

namespace fs = std::filesystem;

std::string write(const std::string& name, const std::string& body) {
  const fs::path dir = fs::temp_directory_path() / ("edgeos-tsio-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p) << body;
  return p.string();
}

TEST(TaskSetCsv, RoundTripsAndAppliesDefaults) {
  const std::string p = write("set.csv",
                              "# a comment\n"
                              "period,name,wcet,cpu\n"
                              "5ms,a,1ms,0\n"
                              "\n"
                              "7ms,b,2.5ms,1\n");
  const TaskSet s = read_task_set_csv(p);
  ASSERT_EQ(s.tasks.size(), 2u);
  EXPECT_EQ(s.num_cpus, 2u);
  EXPECT_EQ(s.tasks[1].wcet, Duration::microseconds(2500));
  EXPECT_EQ(s.tasks[1].tenant, "b");
  EXPECT_EQ(s.tasks[1].effective_deadline(), Duration::milliseconds(7));
  const std::string q = write("again.csv", task_set_csv(s));
  const TaskSet t = read_task_set_csv(q);
  ASSERT_EQ(t.tasks.size(), 2u);
  EXPECT_EQ(t.tasks[0].period, s.tasks[0].period);
  EXPECT_EQ(t.tasks[1].cpu, 1u);
}

TEST(TaskSetCsv, ErrorsNameFileLineAndColumn) {
  auto expect_error = [](const std::string& body, const std::string& needle) {
    const std::string p = write("bad.csv", body);
    try {
      read_task_set_csv(p);
      ADD_FAILURE() << "accepted: " << body;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.csv"), std::string::npos) << e.what();
    }
  };
  expect_error("name,wcet,period\na,1,5ms\n", ":2: column 'wcet': invalid duration '1': missing unit");
  expect_error("name,wcet,period\na,1ms,5ms,9\n", ":2: expected 3 fields, got 4");
  expect_error("name,wcet,colour\n", ":1: unknown column 'colour'");
  expect_error("name,wcet\n", ":1: missing column 'period'");
  expect_error("name,wcet,period,priority\na,1ms,5ms,300\n", ":2: column 'priority': must be 0..255");
  expect_error("name,wcet,period,kind\na,1ms,5ms,aperiodic\n", "column 'kind': expected periodic or sporadic");
  expect_error("name,wcet,period\na,0ms,5ms\n", "field \"wcet\": must be > 0");
  expect_error("", "no header line");
}

}  // namespace
}  // namespace edgeos
