#include "edgeos/core/list.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace edgeos {
namespace {

struct Item : ListNode {
  int v = 0;
};

std::vector<int> values(const List<Item>& l) {
  std::vector<int> out;
  l.for_each([&](const Item& i) { out.push_back(i.v); });
  return out;
}

TEST(List, PushPopRemoveKeepOrder) {
  Item a, b, c, d;
  a.v = 1;
  b.v = 2;
  c.v = 3;
  d.v = 4;
  List<Item> l;
  EXPECT_TRUE(l.empty());
  l.push_back(b);
  l.push_back(c);
  l.push_front(a);
  l.push_back(d);
  EXPECT_EQ(values(l), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(l.size(), 4u);
  l.remove(c);
  EXPECT_FALSE(c.linked());
  EXPECT_EQ(values(l), (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(l.pop_front(), &a);
  EXPECT_EQ(l.front(), &b);
  EXPECT_EQ(l.back(), &d);
  EXPECT_EQ(l.next(b), &d);
  EXPECT_EQ(l.next(d), nullptr);
  l.for_each([&](Item& i) { l.remove(i); });  // removal while iterating
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.pop_front(), nullptr);
}

}  // namespace
}  // namespace edgeos
