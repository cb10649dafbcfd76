#include "edgeos/hosted/parse.hpp"

#include <gtest/gtest.h>

#include "edgeos/hosted/error.hpp"

namespace edgeos {
namespace {

TEST(ParseDuration, UnitsAndDecimals) {
  EXPECT_EQ(parse_duration("2ms", "x").ns(), 2'000'000);
  EXPECT_EQ(parse_duration("500us", "x").ns(), 500'000);
  EXPECT_EQ(parse_duration("1.5s", "x").ns(), 1'500'000'000);
  EXPECT_EQ(parse_duration("0.25ms", "x").ns(), 250'000);
  EXPECT_EQ(parse_duration("7ns", "x").ns(), 7);
  EXPECT_EQ(parse_duration("2min", "x").ns(), 120'000'000'000);
  EXPECT_EQ(parse_duration("1h", "x").ns(), 3'600'000'000'000);
  EXPECT_EQ(parse_duration("0s", "x").ns(), 0);
  EXPECT_EQ(parse_duration("+3us", "x").ns(), 3'000);
}

TEST(ParseDuration, RejectsWhatIsAmbiguousOrWrong) {
  for (const char* bad : {"10", "", "ms", "-1ms", "1.5ns", "3 ms", "2hours", "1e3ms", "1.0000000001s",
                          "99999999999999999999s", "1..2ms"}) {
    EXPECT_THROW(parse_duration(bad, "--duration"), InputError) << bad;
  }
  try {
    parse_duration("10", "--duration");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--duration"), std::string::npos) << "names the option";
    EXPECT_NE(std::string(e.what()).find("missing unit"), std::string::npos) << e.what();
  }
}

TEST(FormatDuration, ExactAndRoundTrips) {
  EXPECT_EQ(format_duration(Duration::milliseconds(2)), "2ms");
  EXPECT_EQ(format_duration(Duration::microseconds(1500)), "1.5ms");
  EXPECT_EQ(format_duration(Duration::nanoseconds(12)), "12ns");
  EXPECT_EQ(format_duration(Duration::nanoseconds(1'000'001)), "1.000001ms");
  EXPECT_EQ(format_duration(Duration::infinite()), "inf");
  // The most negative duration has no positive counterpart in int64_t (found by tests/fuzz).
  EXPECT_EQ(format_duration(Duration::nanoseconds(INT64_MIN)), "-9223372036.854775808s");
  for (int64_t ns : {1LL, 999LL, 1000LL, 123456789LL, 5'000'000'000LL, 86'400'000'000'000LL}) {
    const Duration d = Duration::nanoseconds(ns);
    EXPECT_EQ(parse_duration(format_duration(d), "x"), d) << ns;
  }
}

TEST(ParseUint, Bounds) {
  EXPECT_EQ(parse_uint("0", "--seed"), 0u);
  EXPECT_EQ(parse_uint("18446744073709551615", "--seed"), UINT64_MAX);
  EXPECT_THROW(parse_uint("18446744073709551616", "--seed"), InputError);
  EXPECT_THROW(parse_uint("-1", "--seed"), InputError);
  EXPECT_THROW(parse_uint("", "--seed"), InputError);
}

}  // namespace
}  // namespace edgeos
