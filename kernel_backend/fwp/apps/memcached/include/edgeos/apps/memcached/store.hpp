// The item store of the memcached tenant application: a hash table with LRU eviction, all of it
// inside one memory region the tenant hands over at init (no heap, no exceptions, nothing of libc
// but mem*), so that a tenant's cache can never grow past its budget and an FWP template's
// checkpoint copies it whole.
//
// The region is cut into 64-byte chunks. An item is a chain of chunks: the first carries the item's
// header and the start of its key, the others 60 bytes of key or value each. Any free chunk serves
// any item, so the store never fragments: storing an item of n chunks evicts least recently used
// items until n chunks are free, and succeeds whenever n is at most the region's chunk count.
// (memcached's slab classes keep values contiguous, but memory given to one class serves no other;
// a tenant's budget is small, and chunks leave none of it stranded.) Items refer to one another by
// chunk index, never by address, so a region copied elsewhere (a template's checkpoint mapped at
// another address) can be adopted with attach().
//
// Layout of the region (aligned up to 64 bytes): the header, the bucket array (chunk index of each
// bucket's first item), then the chunks. Items of one bucket are chained by `hash_next`; every
// linked item is on one doubly linked LRU list, most recently used first; free chunks are chained
// by `next`.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace edgeos::apps::memcached {

class ItemStore {
 public:
  // An item, named by the index of its first chunk.
  using Ref = uint32_t;
  static constexpr Ref kNone = 0xffff'ffffu;

  static constexpr size_t kChunkBytes = 64;
  static constexpr size_t kHeadDataBytes = 20;  // key/value bytes in an item's first chunk
  static constexpr size_t kChunkDataBytes = 60;  // in each further chunk
  static constexpr size_t kMaxKeyBytes = 250;    // memcached's KEY_MAX_LENGTH

  // Chunks an item with this key and value occupies.
  static constexpr uint64_t chunks_for(size_t key_len, uint64_t value_len) {
    const uint64_t bytes = key_len + value_len;
    return bytes <= kHeadDataBytes ? 1 : 1 + (bytes - kHeadDataBytes + kChunkDataBytes - 1) / kChunkDataBytes;
  }
  // The smallest region init() accepts (room for a handful of small items).
  static constexpr size_t kMinRegionBytes = 2048;

  // Lays out an empty store in [mem, mem + bytes). False (and the store unusable) if the region is
  // smaller than kMinRegionBytes or larger than 2^32 chunks can address.
  [[nodiscard]] bool init(void* mem, size_t bytes, uint32_t hash_seed);
  // Adopts a region init() laid out, possibly copied to another address since (at the same address
  // modulo 64, as page copies are). False if [mem, mem + bytes) does not hold one.
  [[nodiscard]] bool attach(void* mem, size_t bytes);
  bool ready() const { return hdr_ != nullptr; }

  // The live item with this key, or kNone. An item whose expiry time is at or before `now` (Unix
  // seconds; 0 = no clock, nothing expires) is removed here and counted as reclaimed.
  Ref find(const uint8_t* key, size_t key_len, uint32_t now);

  // A new unlinked item for this key with room for `value_len` bytes of value, flags/cas/expiry 0.
  // Evicts least recently used items until its chunks are free. kNone if it needs more chunks than
  // the whole store has (nothing is evicted then). Any linked item may be evicted meanwhile,
  // including one the caller looked up before: look it up again afterwards.
  Ref allocate(const uint8_t* key, size_t key_len, uint32_t value_len);
  // Makes an allocated item findable, most recently used. An item with the same key must not be
  // linked (remove it first).
  void link(Ref item);
  // Unlinks a linked item and frees its chunks.
  void remove(Ref item);
  // Frees an item allocate() returned that was never linked.
  void discard(Ref item);
  // Marks a linked item most recently used.
  void touch(Ref item);

  uint32_t key_len(Ref item) const;
  uint32_t value_len(Ref item) const;
  uint32_t flags(Ref item) const;
  uint64_t cas(Ref item) const;
  uint32_t expires_at(Ref item) const;  // Unix seconds, 0 = never
  void set_meta(Ref item, uint32_t flags, uint64_t cas, uint32_t expires_at);
  void set_cas(Ref item, uint64_t cas);

  // Sequential access to an item's value bytes (the chunk chain after the key).
  class Cursor {
   public:
    // Copies up to n bytes out; returns how many (fewer only at the value's end).
    size_t read(uint8_t* dst, size_t n);
    // Copies n bytes in (or fewer, at the value's end); returns how many.
    size_t write(const uint8_t* src, size_t n);
    // Writes n copies of `byte`; returns how many.
    size_t fill(uint8_t byte, size_t n);
    // The next byte, or false at the value's end.
    bool next(uint8_t& byte);
    size_t remaining() const { return remaining_; }

   private:
    friend class ItemStore;
    template <class Op>
    size_t walk(size_t n, Op op);
    const ItemStore* store_ = nullptr;
    uint32_t chunk_ = kNone;
    uint32_t offset_ = 0;  // into the chunk's data
    bool in_head_ = false;  // chunk_ is the item's first chunk (a shorter data area)
    uint32_t remaining_ = 0;
  };
  Cursor value(Ref item) const;

  // Bookkeeping.
  uint32_t item_count() const;
  uint32_t total_chunks() const;
  uint32_t free_chunks() const;
  uint32_t bucket_count() const;
  uint64_t evictions() const;  // live items removed to make room
  uint64_t reclaimed() const;  // expired items removed (by find, or at the LRU tail)
  // The LRU list, for tests and diagnostics: most recently used first.
  Ref lru_first() const;
  Ref lru_next(Ref item) const;
  // Copies an item's key out (dst has room for kMaxKeyBytes); returns its length.
  size_t copy_key(Ref item, uint8_t* dst) const;
  // Walks every structure and checks that they agree (tests and fuzzing): each chunk free or in
  // exactly one linked item, hash chains and LRU list hold the same items, counts match.
  bool check_invariants() const;

 private:
  struct Header;
  struct ItemHead;
  struct Chunk;

  uint32_t hash(const uint8_t* key, size_t key_len) const;
  bool key_equals(Ref item, const uint8_t* key, size_t key_len) const;
  void evict_tail();
  void free_chain(Ref first);
  void unlink_lists(Ref item);
  ItemHead* head(Ref item) const;
  Chunk* chunk(uint32_t index) const;

  Header* hdr_ = nullptr;
  uint32_t* buckets_ = nullptr;
  uint8_t* chunks_ = nullptr;
};

}  // namespace edgeos::apps::memcached
