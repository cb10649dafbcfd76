#include "edgeos/hosted/summary.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace edgeos {
namespace {

Duration ms(int64_t v) { return Duration::milliseconds(v); }

TEST(Percentile, NearestRankDefinition) {
  // 1..10: p50 is the 5th value, p99 the 10th (ceil(9.9) = 10), p10 the 1st.
  std::vector<Duration> v;
  for (int i = 1; i <= 10; ++i) v.push_back(ms(i));
  EXPECT_EQ(percentile(v, 50), ms(5));
  EXPECT_EQ(percentile(v, 99), ms(10));
  EXPECT_EQ(percentile(v, 10), ms(1));
  EXPECT_EQ(percentile(v, 100), ms(10));
  // 200 values: p99 is the 198th.
  std::vector<Duration> w;
  for (int i = 1; i <= 200; ++i) w.push_back(ms(i));
  EXPECT_EQ(percentile(w, 99), ms(198));
  EXPECT_EQ(percentile({}, 50), Duration::zero());
}

TEST(ResponseStats, MinMaxMean) {
  const ResponseStats s = response_stats({ms(4), ms(1), ms(7)});
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.min, ms(1));
  EXPECT_EQ(s.max, ms(7));
  EXPECT_EQ(s.p50, ms(4));
  EXPECT_EQ(s.mean, ms(4));
}

TEST(Summary, CountsPerTenantFromATrace) {
  auto rec = [](int64_t t, TraceEvent e, uint32_t fwp, uint32_t th, int64_t v) {
    TraceRecord r;
    r.time_ns = t;
    r.event = e;
    r.fwp = fwp;
    r.thread = th;
    r.value = v;
    return r;
  };
  const std::vector<TraceRecord> records = {
      rec(0, TraceEvent::kRelease, 0, 0, 10),  rec(0, TraceEvent::kRelease, 1, 1, 10),
      rec(0, TraceEvent::kStart, 0, 0, 0),     rec(3, TraceEvent::kComplete, 0, 0, 3),
      rec(3, TraceEvent::kStart, 1, 1, 0),     rec(10, TraceEvent::kDeadlineMiss, 1, 1, 10),
      rec(12, TraceEvent::kComplete, 1, 1, 12),
  };
  TraceNames names;
  names.fwps = {"alpha", "beta"};
  const Summary s = summarize(records, names, Instant::epoch(), Instant::from_ns(20));
  ASSERT_EQ(s.tenants.size(), 2u);
  EXPECT_EQ(s.tenants[0].name, "alpha");
  EXPECT_EQ(s.tenants[0].completed, 1u);
  EXPECT_EQ(s.tenants[0].misses, 0u);
  EXPECT_EQ(s.tenants[1].misses, 1u);
  EXPECT_EQ(s.tenants[1].response.max, Duration::nanoseconds(12));
  EXPECT_EQ(s.tenants[1].cpu_time, Duration::nanoseconds(9));
  EXPECT_EQ(s.total.released, 2u);
  ASSERT_EQ(s.cpus.size(), 1u);
  EXPECT_EQ(s.cpus[0].busy, Duration::nanoseconds(12));
  EXPECT_DOUBLE_EQ(s.cpus[0].utilisation, 0.6);
  const nlohmann::json j = nlohmann::json::parse(summary_json(s));
  EXPECT_EQ(j["tenants"][1]["deadline_misses"], 1);
  EXPECT_NE(format_summary_table(s).find("beta"), std::string::npos);
}

TEST(Summary, PacketsAndDropsByCausePerTenantAndGroup) {
  auto rec = [](TraceEvent e, uint32_t fwp, int64_t v) {
    TraceRecord r;
    r.event = e;
    r.fwp = fwp;
    r.thread = 0;  // the driver's thread moves every packet
    r.value = v;
    return r;
  };
  // FWP 0 is the driver, 1 and 2 tenants of one group: 1 receives 100 + 20 bytes and replies
  // once, then its ring overflows twice (cause 27); the driver drops two frames of cause 12 and
  // one of cause 5 before any tenant is known.
  const std::vector<TraceRecord> records = {
      rec(TraceEvent::kPktRx, 1, 100), rec(TraceEvent::kPktRx, 1, 20),   rec(TraceEvent::kPktTx, 1, 7),
      rec(TraceEvent::kPktDrop, 1, 27), rec(TraceEvent::kPktDrop, 1, 27), rec(TraceEvent::kPktDrop, 0, 12),
      rec(TraceEvent::kPktDrop, 0, 12), rec(TraceEvent::kPktDrop, 0, 5),  rec(TraceEvent::kPktRx, 2, 1),
  };
  TraceNames names;
  names.fwps = {"driver", "t.0", "t.1"};
  SummaryBuilder b;
  b.set_groups({0, 1, 1}, {"net", "t"});
  for (const TraceRecord& r : records) b.write(r);
  Summary s = b.finish(names, Instant::epoch(), Instant::from_ns(20));
  ASSERT_EQ(s.tenants.size(), 3u);
  EXPECT_EQ(s.tenants[1].packets_in, 2u);
  EXPECT_EQ(s.tenants[1].bytes_in, 120u);
  EXPECT_EQ(s.tenants[1].packets_out, 1u);
  EXPECT_EQ(s.tenants[1].packets_dropped, 2u);
  EXPECT_EQ(s.tenants[1].drops, (std::map<int64_t, uint64_t>{{27, 2}}));
  EXPECT_EQ(s.tenants[0].drops, (std::map<int64_t, uint64_t>{{5, 1}, {12, 2}}));
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[1].packets_in, 3u);
  EXPECT_EQ(s.groups[1].packets_dropped, 2u);
  EXPECT_EQ(s.total.packets_dropped, 5u);

  // summary.json names causes with the backend's names, and falls back to the number.
  s.drop_cause_name = [](int64_t cause) -> const char* { return cause == 27 ? "ring_full" : nullptr; };
  const auto j = nlohmann::json::parse(summary_json(s));
  EXPECT_EQ(j["tenants"][1]["drops"], nlohmann::json::parse(R"({"ring_full": 2})"));
  EXPECT_EQ(j["tenant_groups"][0]["drops"], nlohmann::json::parse(R"({"cause_12": 2, "cause_5": 1})"));
  EXPECT_EQ(j["total"]["packets_dropped"], 5);
  EXPECT_EQ(j["tenants"][2]["drops"], nlohmann::json::object());
  const std::string table = format_summary_table(s);
  EXPECT_NE(table.find("packets: 3 in (121 bytes), 1 out (7 bytes), 5 dropped (cause_5 1, cause_12 2, ring_full 2)"),
            std::string::npos)
      << table;
}

TEST(FormatDurationShort, ThreeDecimalsAtMost) {
  EXPECT_EQ(format_duration_short(Duration::nanoseconds(830)), "830ns");
  EXPECT_EQ(format_duration_short(Duration::microseconds(1250)), "1.25ms");
  EXPECT_EQ(format_duration_short(Duration::nanoseconds(12'345'678'901)), "12.346s");
  EXPECT_EQ(format_duration_short(Duration::milliseconds(2)), "2ms");
}

}  // namespace
}  // namespace edgeos
