// The item store: hash table, LRU list and chunk allocator in one region (see store.hpp).
#include "edgeos/apps/memcached/store.hpp"

namespace edgeos::apps::memcached {

namespace {

constexpr uint32_t kMagic = 0x4d435354;  // "MCST"
constexpr uint32_t kVersion = 2;  // 2: chunks past `fresh` are free without being listed
constexpr uint32_t kMinChunks = 16;

uintptr_t align_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }

uint32_t pow2_floor(uint32_t v) {
  uint32_t p = 1;
  while (p <= v / 2) p *= 2;
  return p;
}

}  // namespace

// At the start of the (64-aligned) region.
struct ItemStore::Header {
  uint32_t magic;
  uint32_t version;
  uint64_t region_bytes;  // as given to init(), to recognise the region in attach()
  uint32_t bucket_count;  // a power of two
  uint32_t chunk_count;
  uint32_t buckets_offset;  // from the header
  uint32_t chunks_offset;
  uint32_t hash_seed;
  uint32_t items;
  uint32_t free_head;
  uint32_t free_count;
  uint32_t lru_head;  // most recently used
  uint32_t lru_tail;
  uint64_t evictions;
  uint64_t reclaimed;
  // Chunks from `fresh` on have never been used: free, counted in free_count, but not on the free
  // list, so that a new store writes none of them (an idle store touches only its header and
  // buckets: pages an FWP maps on first touch stay unmapped). Allocation takes the list first,
  // then fresh chunks in index order: the order a list of every chunk in index order would give.
  uint32_t fresh;
};

// An item's first chunk.
struct ItemStore::ItemHead {
  uint32_t next;       // the chain's next chunk
  uint32_t hash_next;  // the bucket's next item
  uint64_t cas;
  uint32_t lru_prev;
  uint32_t lru_next;
  uint32_t hash;
  uint32_t flags;
  uint32_t expires_at;
  uint32_t value_len;
  uint8_t key_len;
  uint8_t linked;
  uint8_t reserved[2];
  uint8_t data[kHeadDataBytes];
};

// Every further chunk (and a free one).
struct ItemStore::Chunk {
  uint32_t next;
  uint8_t data[kChunkDataBytes];
};

static_assert(sizeof(ItemStore::Ref) == 4);

ItemStore::ItemHead* ItemStore::head(Ref item) const {
  static_assert(sizeof(ItemHead) == kChunkBytes && sizeof(Chunk) == kChunkBytes);
  return reinterpret_cast<ItemHead*>(chunks_ + size_t{item} * kChunkBytes);
}

ItemStore::Chunk* ItemStore::chunk(uint32_t index) const {
  return reinterpret_cast<Chunk*>(chunks_ + size_t{index} * kChunkBytes);
}

bool ItemStore::init(void* mem, size_t bytes, uint32_t hash_seed) {
  hdr_ = nullptr;
  buckets_ = nullptr;
  chunks_ = nullptr;
  if (mem == nullptr || bytes < kMinRegionBytes) return false;
  const uintptr_t start = reinterpret_cast<uintptr_t>(mem);
  const uintptr_t end = start + bytes;
  const uintptr_t base = align_up(start, kChunkBytes);
  const uintptr_t after_header = align_up(base + sizeof(Header), 8);
  if (after_header >= end) return false;
  // About one bucket for every two chunks: chains stay short while the bucket array costs ~3% of
  // the region.
  const uint64_t rough_chunks = (end - after_header) / (kChunkBytes + 2);
  const uint64_t wanted_buckets = rough_chunks / 2 < kMinChunks ? kMinChunks : rough_chunks / 2;
  const uint32_t buckets = pow2_floor(wanted_buckets > (1u << 30) ? (1u << 30) : static_cast<uint32_t>(wanted_buckets));
  const uintptr_t chunk_base = align_up(after_header + uintptr_t{buckets} * 4, kChunkBytes);
  if (chunk_base >= end) return false;
  const uint64_t chunks = (end - chunk_base) / kChunkBytes;
  if (chunks < kMinChunks || chunks >= kNone) return false;

  auto* h = reinterpret_cast<Header*>(base);
  __builtin_memset(h, 0, sizeof *h);
  h->magic = kMagic;
  h->version = kVersion;
  h->region_bytes = bytes;
  h->bucket_count = buckets;
  h->chunk_count = static_cast<uint32_t>(chunks);
  h->buckets_offset = static_cast<uint32_t>(after_header - base);
  h->chunks_offset = static_cast<uint32_t>(chunk_base - base);
  h->hash_seed = hash_seed;
  h->lru_head = h->lru_tail = kNone;
  hdr_ = h;
  buckets_ = reinterpret_cast<uint32_t*>(after_header);
  chunks_ = reinterpret_cast<uint8_t*>(chunk_base);
  for (uint32_t b = 0; b < buckets; ++b) buckets_[b] = kNone;
  // No chunk listed: all are fresh, taken in index order, so a new store fills from the region's start.
  h->free_head = kNone;
  h->fresh = 0;
  h->free_count = h->chunk_count;
  return true;
}

bool ItemStore::attach(void* mem, size_t bytes) {
  hdr_ = nullptr;
  buckets_ = nullptr;
  chunks_ = nullptr;
  if (mem == nullptr || bytes < kMinRegionBytes) return false;
  const uintptr_t start = reinterpret_cast<uintptr_t>(mem);
  const uintptr_t base = align_up(start, kChunkBytes);
  auto* h = reinterpret_cast<Header*>(base);
  if (h->magic != kMagic || h->version != kVersion || h->region_bytes != bytes) return false;
  const uint64_t chunks_end = uint64_t{h->chunks_offset} + uint64_t{h->chunk_count} * kChunkBytes;
  if (base - start + chunks_end > bytes || h->buckets_offset + uint64_t{h->bucket_count} * 4 > h->chunks_offset) {
    return false;
  }
  hdr_ = h;
  buckets_ = reinterpret_cast<uint32_t*>(base + h->buckets_offset);
  chunks_ = reinterpret_cast<uint8_t*>(base + h->chunks_offset);
  return true;
}

uint32_t ItemStore::hash(const uint8_t* key, size_t key_len) const {
  // FNV-1a, seeded, with a final avalanche (murmur3's fmix32) so the low bits that pick the bucket
  // depend on every byte. Each tenant has its own table, so a tenant that chooses colliding keys
  // only slows itself down.
  uint32_t h = 2166136261u ^ hdr_->hash_seed;
  for (size_t i = 0; i < key_len; ++i) {
    h ^= key[i];
    h *= 16777619u;
  }
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

bool ItemStore::key_equals(Ref item, const uint8_t* key, size_t key_len) const {
  const ItemHead* it = head(item);
  if (it->key_len != key_len) return false;
  const size_t first = key_len < kHeadDataBytes ? key_len : kHeadDataBytes;
  if (__builtin_memcmp(it->data, key, first) != 0) return false;
  size_t done = first;
  uint32_t c = it->next;
  while (done < key_len) {
    const size_t n = key_len - done < kChunkDataBytes ? key_len - done : kChunkDataBytes;
    if (__builtin_memcmp(chunk(c)->data, key + done, n) != 0) return false;
    done += n;
    c = chunk(c)->next;
  }
  return true;
}

ItemStore::Ref ItemStore::find(const uint8_t* key, size_t key_len, uint32_t now) {
  const uint32_t h = hash(key, key_len);
  for (Ref r = buckets_[h & (hdr_->bucket_count - 1)]; r != kNone; r = head(r)->hash_next) {
    const ItemHead* it = head(r);
    if (it->hash != h || !key_equals(r, key, key_len)) continue;
    if (it->expires_at != 0 && now != 0 && it->expires_at <= now) {
      remove(r);
      ++hdr_->reclaimed;
      return kNone;
    }
    return r;
  }
  return kNone;
}

void ItemStore::evict_tail() {
  const Ref victim = hdr_->lru_tail;
  // An expired item at the tail would be reclaimed the same way; the store cannot tell without the
  // time, and the engine counts those at lookups.
  remove(victim);
  ++hdr_->evictions;
}

ItemStore::Ref ItemStore::allocate(const uint8_t* key, size_t key_len, uint32_t value_len) {
  if (key_len == 0 || key_len > kMaxKeyBytes) return kNone;
  const uint64_t need = chunks_for(key_len, value_len);
  if (need > hdr_->chunk_count) return kNone;
  while (hdr_->free_count < need) evict_tail();  // terminates: everything evicted frees all chunks

  // Take `need` chunks: off the free list, then fresh ones; chained in that order.
  Ref first = kNone;
  uint32_t last = kNone;
  for (uint64_t i = 0; i < need; ++i) {
    uint32_t c;
    if (hdr_->free_head != kNone) {
      c = hdr_->free_head;
      hdr_->free_head = chunk(c)->next;
    } else {
      c = hdr_->fresh++;
    }
    if (first == kNone) {
      first = c;
    } else {
      chunk(last)->next = c;
    }
    last = c;
  }
  hdr_->free_count -= static_cast<uint32_t>(need);
  chunk(last)->next = kNone;

  ItemHead* it = head(first);
  it->hash_next = kNone;
  it->cas = 0;
  it->lru_prev = it->lru_next = kNone;
  it->hash = hash(key, key_len);
  it->flags = 0;
  it->expires_at = 0;
  it->value_len = value_len;
  it->key_len = static_cast<uint8_t>(key_len);
  it->linked = 0;
  it->reserved[0] = it->reserved[1] = 0;
  // The key goes first, spilling into the following chunks.
  const size_t in_head = key_len < kHeadDataBytes ? key_len : kHeadDataBytes;
  __builtin_memcpy(it->data, key, in_head);
  size_t done = in_head;
  uint32_t c = it->next;
  while (done < key_len) {
    const size_t n = key_len - done < kChunkDataBytes ? key_len - done : kChunkDataBytes;
    __builtin_memcpy(chunk(c)->data, key + done, n);
    done += n;
    c = chunk(c)->next;
  }
  return first;
}

void ItemStore::link(Ref item) {
  ItemHead* it = head(item);
  uint32_t& bucket = buckets_[it->hash & (hdr_->bucket_count - 1)];
  it->hash_next = bucket;
  bucket = item;
  it->lru_prev = kNone;
  it->lru_next = hdr_->lru_head;
  if (hdr_->lru_head != kNone) head(hdr_->lru_head)->lru_prev = item;
  hdr_->lru_head = item;
  if (hdr_->lru_tail == kNone) hdr_->lru_tail = item;
  it->linked = 1;
  ++hdr_->items;
}

void ItemStore::unlink_lists(Ref item) {
  ItemHead* it = head(item);
  uint32_t* link = &buckets_[it->hash & (hdr_->bucket_count - 1)];
  while (*link != item) link = &head(*link)->hash_next;
  *link = it->hash_next;
  if (it->lru_prev != kNone) {
    head(it->lru_prev)->lru_next = it->lru_next;
  } else {
    hdr_->lru_head = it->lru_next;
  }
  if (it->lru_next != kNone) {
    head(it->lru_next)->lru_prev = it->lru_prev;
  } else {
    hdr_->lru_tail = it->lru_prev;
  }
  it->linked = 0;
  --hdr_->items;
}

void ItemStore::free_chain(Ref first) {
  uint32_t last = first;
  uint32_t n = 1;
  while (chunk(last)->next != kNone) {
    last = chunk(last)->next;
    ++n;
  }
  chunk(last)->next = hdr_->free_head;
  hdr_->free_head = first;
  hdr_->free_count += n;
}

void ItemStore::remove(Ref item) {
  unlink_lists(item);
  free_chain(item);
}

void ItemStore::discard(Ref item) { free_chain(item); }

void ItemStore::touch(Ref item) {
  if (hdr_->lru_head == item) return;
  ItemHead* it = head(item);
  // Off the list...
  head(it->lru_prev)->lru_next = it->lru_next;  // not the head, so it has a predecessor
  if (it->lru_next != kNone) {
    head(it->lru_next)->lru_prev = it->lru_prev;
  } else {
    hdr_->lru_tail = it->lru_prev;
  }
  // ...and back on at the front.
  it->lru_prev = kNone;
  it->lru_next = hdr_->lru_head;
  head(hdr_->lru_head)->lru_prev = item;
  hdr_->lru_head = item;
}

uint32_t ItemStore::key_len(Ref item) const { return head(item)->key_len; }
uint32_t ItemStore::value_len(Ref item) const { return head(item)->value_len; }
uint32_t ItemStore::flags(Ref item) const { return head(item)->flags; }
uint64_t ItemStore::cas(Ref item) const { return head(item)->cas; }
uint32_t ItemStore::expires_at(Ref item) const { return head(item)->expires_at; }

void ItemStore::set_meta(Ref item, uint32_t flags, uint64_t cas, uint32_t expires_at) {
  ItemHead* it = head(item);
  it->flags = flags;
  it->cas = cas;
  it->expires_at = expires_at;
}

void ItemStore::set_cas(Ref item, uint64_t cas) { head(item)->cas = cas; }

ItemStore::Cursor ItemStore::value(Ref item) const {
  Cursor c;
  c.store_ = this;
  const ItemHead* it = head(item);
  c.remaining_ = it->value_len;
  // The value starts right after the key: in the first chunk, or some bytes into the chain.
  if (it->key_len <= kHeadDataBytes) {
    c.chunk_ = item;
    c.in_head_ = true;
    c.offset_ = it->key_len;
  } else {
    size_t skip = it->key_len - kHeadDataBytes;
    uint32_t ch = it->next;
    while (skip >= kChunkDataBytes && ch != kNone) {
      skip -= kChunkDataBytes;
      ch = chunk(ch)->next;
    }
    c.chunk_ = ch;
    c.in_head_ = false;
    c.offset_ = static_cast<uint32_t>(skip);
  }
  return c;
}

// Applies op(pointer into a chunk, bytes done so far, count) to the next n bytes of the value, in
// pieces that each lie in one chunk.
template <class Op>
size_t ItemStore::Cursor::walk(size_t n, Op op) {
  if (n > remaining_) n = remaining_;
  size_t done = 0;
  while (done < n) {
    uint8_t* data = in_head_ ? store_->head(chunk_)->data : store_->chunk(chunk_)->data;
    const size_t capacity = in_head_ ? kHeadDataBytes : kChunkDataBytes;
    if (offset_ == capacity) {
      chunk_ = store_->chunk(chunk_)->next;  // `next` is first in both chunk layouts
      in_head_ = false;
      offset_ = 0;
      continue;
    }
    const size_t k = capacity - offset_ < n - done ? capacity - offset_ : n - done;
    op(data + offset_, done, k);
    offset_ += static_cast<uint32_t>(k);
    done += k;
  }
  remaining_ -= static_cast<uint32_t>(n);
  return n;
}

size_t ItemStore::Cursor::read(uint8_t* dst, size_t n) {
  return walk(n, [dst](uint8_t* p, size_t at, size_t k) { __builtin_memcpy(dst + at, p, k); });
}

size_t ItemStore::Cursor::write(const uint8_t* src, size_t n) {
  return walk(n, [src](uint8_t* p, size_t at, size_t k) { __builtin_memcpy(p, src + at, k); });
}

size_t ItemStore::Cursor::fill(uint8_t byte, size_t n) {
  return walk(n, [byte](uint8_t* p, size_t, size_t k) { __builtin_memset(p, byte, k); });
}

bool ItemStore::Cursor::next(uint8_t& byte) { return read(&byte, 1) == 1; }

uint32_t ItemStore::item_count() const { return hdr_->items; }
uint32_t ItemStore::total_chunks() const { return hdr_->chunk_count; }
uint32_t ItemStore::free_chunks() const { return hdr_->free_count; }
uint32_t ItemStore::bucket_count() const { return hdr_->bucket_count; }
uint64_t ItemStore::evictions() const { return hdr_->evictions; }
uint64_t ItemStore::reclaimed() const { return hdr_->reclaimed; }
ItemStore::Ref ItemStore::lru_first() const { return hdr_->lru_head; }
ItemStore::Ref ItemStore::lru_next(Ref item) const { return head(item)->lru_next; }

size_t ItemStore::copy_key(Ref item, uint8_t* dst) const {
  const ItemHead* it = head(item);
  const size_t len = it->key_len;
  const size_t first = len < kHeadDataBytes ? len : kHeadDataBytes;
  __builtin_memcpy(dst, it->data, first);
  size_t done = first;
  for (uint32_t c = it->next; done < len; c = chunk(c)->next) {
    const size_t n = len - done < kChunkDataBytes ? len - done : kChunkDataBytes;
    __builtin_memcpy(dst + done, chunk(c)->data, n);
    done += n;
  }
  return len;
}

bool ItemStore::check_invariants() const {
  if (hdr_ == nullptr) return false;
  const uint32_t n = hdr_->chunk_count;
  // The free list: distinct in-range chunks, as many as counted. Marks live in a bitmap we cannot
  // allocate, so count steps instead: a list longer than the store has chunks has a cycle.
  if (hdr_->fresh > n) return false;
  uint32_t free_seen = n - hdr_->fresh;  // the fresh chunks, then the listed ones (each used once)
  for (uint32_t c = hdr_->free_head; c != kNone; c = chunk(c)->next) {
    if (c >= hdr_->fresh || ++free_seen > n) return false;
  }
  if (free_seen != hdr_->free_count) return false;
  // The LRU list: in range, linked both ways, the right length, each item's chain the right size.
  uint32_t items = 0;
  uint64_t item_chunks = 0;
  Ref prev = kNone;
  for (Ref r = hdr_->lru_head; r != kNone; r = head(r)->lru_next) {
    if (r >= n || ++items > n) return false;
    const ItemHead* it = head(r);
    if (it->lru_prev != prev || it->linked != 1 || it->key_len == 0) return false;
    uint64_t len = 1;
    for (uint32_t c = it->next; c != kNone; c = chunk(c)->next) {
      if (c >= n || ++len > n) return false;
    }
    if (len != chunks_for(it->key_len, it->value_len)) return false;
    item_chunks += len;
    // Findable through its bucket, under its own hash.
    uint8_t key[kMaxKeyBytes];
    const size_t klen = copy_key(r, key);
    if (hash(key, klen) != it->hash) return false;
    bool found = false;
    uint32_t steps = 0;
    for (Ref b = buckets_[it->hash & (hdr_->bucket_count - 1)]; b != kNone; b = head(b)->hash_next) {
      if (b >= n || ++steps > n) return false;
      if (b == r) found = true;
    }
    if (!found) return false;
    prev = r;
  }
  if (prev != hdr_->lru_tail || items != hdr_->items) return false;
  if (item_chunks + hdr_->free_count != n) return false;
  // Every bucket entry is a linked item (so hash chains hold no more than the LRU list).
  uint32_t chained = 0;
  for (uint32_t b = 0; b < hdr_->bucket_count; ++b) {
    for (Ref r = buckets_[b]; r != kNone; r = head(r)->hash_next) {
      if (r >= n || ++chained > items || head(r)->linked != 1) return false;
      if ((head(r)->hash & (hdr_->bucket_count - 1)) != b) return false;
    }
  }
  return chained == items;
}

}  // namespace edgeos::apps::memcached
