// The item store: hash table, LRU eviction and chunk chains, against a model written with standard
// containers (which knows nothing of the store but the documented chunk size).
#include "edgeos/apps/memcached/store.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <list>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace edgeos::apps::memcached {
namespace {

constexpr uint8_t kCanary = 0xa5;
constexpr size_t kGuard = 256;

// A region with guard bytes on both sides, 64-aligned at its start plus `misalign`.
class Region {
 public:
  explicit Region(size_t bytes, size_t misalign = 0) : bytes_(bytes), misalign_(misalign) {
    buffer_.assign(bytes + 2 * kGuard + 64, kCanary);
    const auto base = reinterpret_cast<uintptr_t>(buffer_.data()) + kGuard;
    start_ = reinterpret_cast<uint8_t*>(((base + 63) & ~uintptr_t{63}) + misalign);
  }
  void* data() { return start_; }
  size_t size() const { return bytes_; }
  // True if nothing outside [data, data + size) was written.
  bool guards_intact() const {
    for (const uint8_t* p = buffer_.data(); p < start_; ++p) {
      if (*p != kCanary) return false;
    }
    for (const uint8_t* p = start_ + bytes_; p < buffer_.data() + buffer_.size(); ++p) {
      if (*p != kCanary) return false;
    }
    return true;
  }

 private:
  std::vector<uint8_t> buffer_;
  size_t bytes_;
  size_t misalign_;
  uint8_t* start_ = nullptr;
};

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

ItemStore::Ref put(ItemStore& store, const std::string& key, const std::string& value, uint32_t flags = 0,
                   uint32_t expires_at = 0) {
  const ItemStore::Ref old = store.find(u8(key), key.size(), 0);
  if (old != ItemStore::kNone) store.remove(old);
  const ItemStore::Ref item = store.allocate(u8(key), key.size(), static_cast<uint32_t>(value.size()));
  if (item == ItemStore::kNone) return item;
  ItemStore::Cursor c = store.value(item);
  EXPECT_EQ(c.write(u8(value), value.size()), value.size());
  store.set_meta(item, flags, 1, expires_at);
  store.link(item);
  return item;
}

std::string value_of(const ItemStore& store, ItemStore::Ref item) {
  std::string out(store.value_len(item), '\0');
  ItemStore::Cursor c = store.value(item);
  EXPECT_EQ(c.read(reinterpret_cast<uint8_t*>(out.data()), out.size()), out.size());
  EXPECT_EQ(c.remaining(), 0u);
  return out;
}

std::string key_of(const ItemStore& store, ItemStore::Ref item) {
  uint8_t key[ItemStore::kMaxKeyBytes];
  const size_t n = store.copy_key(item, key);
  return std::string(reinterpret_cast<char*>(key), n);
}

std::vector<std::string> lru_keys(const ItemStore& store) {
  std::vector<std::string> out;
  for (ItemStore::Ref r = store.lru_first(); r != ItemStore::kNone; r = store.lru_next(r)) out.push_back(key_of(store, r));
  return out;
}

TEST(ItemStore, ChunksFor) {
  EXPECT_EQ(ItemStore::chunks_for(1, 0), 1u);
  EXPECT_EQ(ItemStore::chunks_for(1, 19), 1u);
  EXPECT_EQ(ItemStore::chunks_for(1, 20), 2u);
  EXPECT_EQ(ItemStore::chunks_for(20, 60), 2u);
  EXPECT_EQ(ItemStore::chunks_for(20, 61), 3u);
  EXPECT_EQ(ItemStore::chunks_for(250, 1000), 1u + (250 + 1000 - 20 + 59) / 60);
}

TEST(ItemStore, RefusesRegionsTooSmall) {
  Region r(ItemStore::kMinRegionBytes);
  ItemStore store;
  EXPECT_FALSE(store.init(nullptr, 1 << 20, 0));
  EXPECT_FALSE(store.init(r.data(), ItemStore::kMinRegionBytes - 1, 0));
  EXPECT_FALSE(store.ready());
  ASSERT_TRUE(store.init(r.data(), r.size(), 0));
  EXPECT_GE(store.total_chunks(), 16u);
  EXPECT_TRUE(store.check_invariants());
}

TEST(ItemStore, KeysAndValuesAcrossChunkBoundaries) {
  for (size_t misalign : {0, 1, 8, 63}) {
    Region r(64 * 1024, misalign);
    ItemStore store;
    ASSERT_TRUE(store.init(r.data(), r.size(), 7));
    std::map<std::string, std::string> want;
    int i = 0;
    for (size_t klen : {1, 19, 20, 21, 79, 80, 81, 140, 250}) {
      for (size_t vlen : {0, 1, 19, 20, 39, 40, 41, 59, 60, 61, 100, 1000}) {
        std::string key(klen, static_cast<char>('a' + i % 26));
        key[0] = static_cast<char>('0' + vlen % 10);
        key += std::to_string(i++);
        key.resize(klen < key.size() ? klen : key.size());
        std::string value;
        for (size_t j = 0; j < vlen; ++j) value.push_back(static_cast<char>((j * 7 + klen) & 0xff));
        if (want.count(key) != 0) continue;
        ASSERT_NE(put(store, key, value, static_cast<uint32_t>(vlen)), ItemStore::kNone);
        want[key] = value;
      }
    }
    ASSERT_EQ(store.evictions(), 0u) << "the region is large enough for all";
    EXPECT_EQ(store.item_count(), want.size());
    for (const auto& [key, value] : want) {
      const ItemStore::Ref item = store.find(u8(key), key.size(), 0);
      ASSERT_NE(item, ItemStore::kNone) << key;
      EXPECT_EQ(value_of(store, item), value);
      EXPECT_EQ(key_of(store, item), key);
      EXPECT_EQ(store.flags(item), value.size());
    }
    EXPECT_EQ(store.find(u8(std::string("absent")), 6, 0), ItemStore::kNone);
    EXPECT_TRUE(store.check_invariants());
    EXPECT_TRUE(r.guards_intact());
  }
}

TEST(ItemStore, EvictsLeastRecentlyUsedFirst) {
  Region r(8192);
  ItemStore store;
  ASSERT_TRUE(store.init(r.data(), r.size(), 0));
  const std::string value(100, 'v');  // two or three chunks each
  std::vector<std::string> keys;
  for (int i = 0; store.evictions() == 0; ++i) {
    keys.push_back("key" + std::to_string(i));
    ASSERT_NE(put(store, keys.back(), value), ItemStore::kNone);
  }
  // The first key went first; the others are in LRU order, newest first.
  EXPECT_EQ(store.evictions(), 1u);
  EXPECT_EQ(store.find(u8(keys[0]), keys[0].size(), 0), ItemStore::kNone);
  std::vector<std::string> order(keys.rbegin(), keys.rend() - 1);
  EXPECT_EQ(lru_keys(store), order);
  // A touched item is the most recently used: the next oldest goes instead.
  store.touch(store.find(u8(keys[1]), keys[1].size(), 0));
  ASSERT_NE(put(store, "new", value), ItemStore::kNone);
  EXPECT_NE(store.find(u8(keys[1]), keys[1].size(), 0), ItemStore::kNone);
  EXPECT_EQ(store.find(u8(keys[2]), keys[2].size(), 0), ItemStore::kNone);
  EXPECT_EQ(lru_keys(store).front(), "new");
  EXPECT_TRUE(store.check_invariants());
  EXPECT_TRUE(r.guards_intact());
}

TEST(ItemStore, AnItemLargerThanTheStoreEvictsNothing) {
  Region r(8192);
  ItemStore store;
  ASSERT_TRUE(store.init(r.data(), r.size(), 0));
  put(store, "a", "1");
  put(store, "b", "2");
  const uint32_t too_many = store.total_chunks() * 60;
  EXPECT_EQ(store.allocate(u8(std::string("c")), 1, too_many), ItemStore::kNone);
  EXPECT_EQ(store.item_count(), 2u);
  EXPECT_EQ(store.evictions(), 0u);
  // The largest item that fits evicts everything else.
  const uint32_t fits = static_cast<uint32_t>(ItemStore::kHeadDataBytes - 1 + (store.total_chunks() - 1) * 60);
  const ItemStore::Ref all = store.allocate(u8(std::string("c")), 1, fits);
  ASSERT_NE(all, ItemStore::kNone);
  EXPECT_EQ(store.free_chunks(), 0u);
  EXPECT_EQ(store.item_count(), 0u);
  store.discard(all);
  EXPECT_EQ(store.free_chunks(), store.total_chunks());
  EXPECT_TRUE(store.check_invariants());
}

TEST(ItemStore, ExpiredItemsAreReclaimedWhenFound) {
  Region r(8192);
  ItemStore store;
  ASSERT_TRUE(store.init(r.data(), r.size(), 0));
  put(store, "soon", "x", 0, 1000);
  put(store, "never", "y", 0, 0);
  EXPECT_NE(store.find(u8(std::string("soon")), 4, 0), ItemStore::kNone) << "no clock: nothing expires";
  EXPECT_NE(store.find(u8(std::string("soon")), 4, 999), ItemStore::kNone);
  EXPECT_EQ(store.find(u8(std::string("soon")), 4, 1000), ItemStore::kNone);
  EXPECT_EQ(store.reclaimed(), 1u);
  EXPECT_NE(store.find(u8(std::string("never")), 5, 0xffffffffu), ItemStore::kNone);
  EXPECT_EQ(store.item_count(), 1u);
  EXPECT_TRUE(store.check_invariants());
}

TEST(ItemStore, CollidingBucketsStillFindEveryKey) {
  // The smallest store has 16 buckets: hundreds of keys share each.
  Region r(64 * 1024);
  ItemStore store;
  ASSERT_TRUE(store.init(r.data(), 4096, 0));
  ASSERT_EQ(store.bucket_count(), 16u);
  std::vector<std::string> live;
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "c" + std::to_string(i);
    put(store, key, "");
  }
  // Without evictions' interference: the most recent `items` keys are there.
  const uint32_t items = store.item_count();
  EXPECT_GT(items, 40u);
  for (int i = 5000 - static_cast<int>(items); i < 5000; ++i) {
    const std::string key = "c" + std::to_string(i);
    EXPECT_NE(store.find(u8(key), key.size(), 0), ItemStore::kNone) << key;
  }
  EXPECT_TRUE(store.check_invariants());
}

TEST(ItemStore, AttachAdoptsACopyAtAnotherAddress) {
  Region a(32 * 1024, 8), b(32 * 1024, 8);
  ItemStore store;
  ASSERT_TRUE(store.init(a.data(), a.size(), 3));
  for (int i = 0; i < 50; ++i) put(store, "k" + std::to_string(i), std::string(static_cast<size_t>(i * 13), 'x'));
  std::memcpy(b.data(), a.data(), a.size());
  ItemStore copy;
  ASSERT_TRUE(copy.attach(b.data(), b.size()));
  EXPECT_TRUE(copy.check_invariants());
  EXPECT_EQ(lru_keys(copy), lru_keys(store));
  // The copy is independent of the original.
  put(copy, "k1", "changed");
  EXPECT_EQ(value_of(copy, copy.find(u8(std::string("k1")), 2, 0)), "changed");
  EXPECT_EQ(value_of(store, store.find(u8(std::string("k1")), 2, 0)), std::string(13, 'x'));
  // Not a store, or another size: refused.
  ItemStore other;
  std::memset(b.data(), 0, b.size());
  EXPECT_FALSE(other.attach(b.data(), b.size()));
  EXPECT_FALSE(other.attach(a.data(), a.size() - 64));
}

// Random sets, deletes, reads and touches against a model: a map of values and an LRU list, with
// eviction predicted from the chunk counts.
TEST(ItemStore, MatchesAModelUnderRandomOperations) {
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    Region r(16 * 1024 + seed * 1000);
    ItemStore store;
    ASSERT_TRUE(store.init(r.data(), r.size(), seed));
    std::mt19937 rng(seed);
    std::map<std::string, std::string> values;
    std::list<std::string> lru;  // most recent first
    uint64_t used = 0;
    uint64_t evictions = 0;
    auto chunks = [](const std::string& k, const std::string& v) { return ItemStore::chunks_for(k.size(), v.size()); };
    auto drop = [&](const std::string& k) {
      used -= chunks(k, values[k]);
      values.erase(k);
      lru.remove(k);
    };
    for (int step = 0; step < 20000; ++step) {
      const std::string key = "k" + std::to_string(rng() % 300) + std::string(rng() % 4 == 0 ? rng() % 200 : 0, 'p');
      const int op = static_cast<int>(rng() % 10);
      if (op < 5) {
        std::string value(rng() % 8 == 0 ? rng() % 3000 : rng() % 100, static_cast<char>('a' + rng() % 26));
        // What the model expects: allocate first (evicting from the tail), then replace.
        const uint64_t need = chunks(key, value);
        const bool fits = need <= store.total_chunks();
        if (fits) {
          while (store.total_chunks() - used < need) {
            drop(lru.back());
            ++evictions;
          }
        }
        const ItemStore::Ref item = store.allocate(u8(key), key.size(), static_cast<uint32_t>(value.size()));
        ASSERT_EQ(item != ItemStore::kNone, fits);
        if (!fits) continue;
        store.value(item).write(u8(value), value.size());
        const ItemStore::Ref old = store.find(u8(key), key.size(), 0);
        if (old != ItemStore::kNone) store.remove(old);
        if (values.count(key) != 0) drop(key);
        store.link(item);
        values[key] = value;
        lru.push_front(key);
        used += need;
      } else if (op < 7) {
        const ItemStore::Ref item = store.find(u8(key), key.size(), 0);
        ASSERT_EQ(item != ItemStore::kNone, values.count(key) == 1) << key;
        if (item != ItemStore::kNone) {
          store.remove(item);
          drop(key);
        }
      } else {
        const ItemStore::Ref item = store.find(u8(key), key.size(), 0);
        ASSERT_EQ(item != ItemStore::kNone, values.count(key) == 1) << key;
        if (item != ItemStore::kNone) {
          ASSERT_EQ(value_of(store, item), values[key]);
          store.touch(item);
          lru.remove(key);
          lru.push_front(key);
        }
      }
      ASSERT_EQ(store.item_count(), values.size());
      ASSERT_EQ(store.evictions(), evictions);
      if (step % 500 == 0) {
        ASSERT_TRUE(store.check_invariants());
        ASSERT_EQ(lru_keys(store), std::vector<std::string>(lru.begin(), lru.end()));
      }
    }
    EXPECT_GT(evictions, 100u) << "the budget was exercised";
    EXPECT_TRUE(store.check_invariants());
    EXPECT_TRUE(r.guards_intact());
  }
}

}  // namespace
}  // namespace edgeos::apps::memcached
