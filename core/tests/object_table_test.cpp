#include "edgeos/core/object_table.hpp"

#include <gtest/gtest.h>

namespace edgeos {
namespace {

struct Obj : Slot {
  int payload = 0;
};
struct ObjTag;
using ObjId = Id<ObjTag>;

TEST(ObjectTable, ExhaustionIsAnErrorValue) {
  Obj storage[3];
  ObjectTable<Obj, ObjId> t;
  t.init(Span<Obj>(storage, 3));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.alloc().is_ok());
  const Result<Obj*> r = t.alloc();
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.error(), Error::kOutOfCapacity);
  EXPECT_EQ(t.live(), 3u);
}

TEST(ObjectTable, FreedIdsAreStaleAndSlotsReused) {
  Obj storage[2];
  ObjectTable<Obj, ObjId> t;
  t.init(Span<Obj>(storage, 2));
  Obj* a = *t.alloc();
  a->payload = 7;
  const ObjId id = t.id_of(*a);
  ASSERT_EQ(*t.lookup(id), a);
  t.free(*a);
  EXPECT_EQ(t.lookup(id).error(), Error::kStale);
  Obj* b = *t.alloc();  // LIFO free list: the same slot, a new generation
  EXPECT_EQ(b, a);
  EXPECT_EQ(b->payload, 0) << "objects are constructed fresh";
  EXPECT_NE(t.id_of(*b), id);
  EXPECT_EQ(t.lookup(id).error(), Error::kStale);
  EXPECT_TRUE(t.lookup(t.id_of(*b)).is_ok());
}

TEST(ObjectTable, RenewInvalidatesOldIdsWithoutFreeing) {
  Obj storage[1];
  ObjectTable<Obj, ObjId> t;
  t.init(Span<Obj>(storage, 1));
  Obj* a = *t.alloc();
  const ObjId old_id = t.id_of(*a);
  t.renew(*a);
  EXPECT_EQ(t.lookup(old_id).error(), Error::kStale);
  EXPECT_EQ(*t.lookup(t.id_of(*a)), a);
  EXPECT_EQ(t.live(), 1u);
}

TEST(ObjectTable, BadIdsAreNotFound) {
  Obj storage[1];
  ObjectTable<Obj, ObjId> t;
  t.init(Span<Obj>(storage, 1));
  EXPECT_EQ(t.lookup(ObjId{}).error(), Error::kNotFound);
  EXPECT_EQ(t.lookup(ObjId{5, 0}).error(), Error::kNotFound);
  EXPECT_EQ(t.lookup(ObjId{0, 0}).error(), Error::kStale);  // in range, but free
}

}  // namespace
}  // namespace edgeos
