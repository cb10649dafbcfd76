#include "edgeos/core/time.hpp"

#include <gtest/gtest.h>

namespace edgeos {
namespace {

using namespace time_literals;

TEST(Time, UnitsAreNanoseconds) {
  EXPECT_EQ((1_us).ns(), 1'000);
  EXPECT_EQ((3_ms).ns(), 3'000'000);
  EXPECT_EQ((2_s).ns(), 2'000'000'000);
  EXPECT_EQ(Duration::seconds(1), 1000_ms);
}

TEST(Time, InstantArithmetic) {
  const Instant a = Instant::from_ns(100);
  const Instant b = a + 50_ns;
  EXPECT_EQ(b.ns(), 150);
  EXPECT_EQ(b - a, 50_ns);
  EXPECT_EQ(a - b, -(50_ns));
  EXPECT_LT(a, b);
  EXPECT_EQ(b - 50_ns, a);
}

TEST(Time, DurationArithmetic) {
  EXPECT_EQ(2_ms * 3, 6_ms);
  EXPECT_EQ(7_ms / 2_ms, 3);
  EXPECT_EQ(7_ms % 2_ms, 1_ms);
  EXPECT_EQ(6_ms / 3, 2_ms);
  Duration d = 1_ms;
  d += 500_us;
  EXPECT_EQ(d, 1500_us);
  d -= 1_ms;
  EXPECT_EQ(d, 500_us);
}

TEST(Time, NeverAndInfiniteSaturate) {
  EXPECT_TRUE((Instant::never() + 5_s).is_never());
  EXPECT_TRUE((Instant::epoch() + Duration::infinite()).is_never());
  EXPECT_TRUE((Duration::infinite() + 1_s).is_infinite());
  EXPECT_TRUE((Duration::infinite() - 1_s).is_infinite());
  EXPECT_TRUE(Duration::seconds(INT64_MAX / 2).is_infinite());  // saturating multiply
  EXPECT_GT(Instant::never(), Instant::from_ns(INT64_MAX - 1));
  EXPECT_TRUE((Instant::never() - Instant::epoch()).is_infinite());
}

TEST(Time, MinMax) {
  EXPECT_EQ(min(Instant::from_ns(3), Instant::from_ns(2)).ns(), 2);
  EXPECT_EQ(max(1_ms, 2_ms), 2_ms);
}

}  // namespace
}  // namespace edgeos
