#include "paging.hpp"

#include "../../fwp/abi.hpp"
#include "cpu.hpp"

extern "C" uint64_t boot_pml4[512];

namespace edgeos::x86 {

namespace {

Frames frame_pool;

// The PCID state of this CPU (one CPU: the kernel runs one). owner[p] is the space PCID p was
// last given to; a space still holds p only while owner[p] points at it.
constexpr uint16_t kMaxPcid = 4095;
constexpr uint64_t kCr3NoFlush = uint64_t{1} << 63;
constexpr uint64_t kCr4Pcide = uint64_t{1} << 17;
AddressSpace* pcid_owner[kMaxCpus][kMaxPcid + 1] = {};
uint16_t next_pcid[kMaxCpus] = {};
bool is_loaded(const AddressSpace& as) { return as.root != 0 && detail::loaded_root[cpu_index()] == as.root; }

void load_cr3(uint64_t root, uint16_t pcid, bool flush) {
  ++detail::stats.loads;
  if (flush) ++detail::stats.flushes;
  write_cr3(root | pcid | (detail::pcid_on && !flush ? kCr3NoFlush : 0));
  detail::loaded_root[cpu_index()] = root;
}

uint64_t* table(uint64_t pa) { return reinterpret_cast<uint64_t*>(pa); }  // identity-mapped

int index(uint64_t va, int level) { return static_cast<int>((va >> (12 + 9 * level)) & 511); }

// The level-(level-1) table under entry `e` of a table, created if `create`.
uint64_t* next(uint64_t* t, int i, bool create) {
  if ((t[i] & kPtePresent) == 0) {
    if (!create) return nullptr;
    const uint64_t pa = frame_pool.alloc();
    if (pa == 0) return nullptr;
    t[i] = pa | kPtePresent | kPteWrite | kPteUser;
  }
  return table(t[i] & kPteAddress);
}

// Frees a table and what it owns below. Entries are either 0 or present (map_page and
// unmap_range keep it so), and each is cleared as it is freed: the table goes back zeroed.
void free_level(uint64_t pa, int level) {
  uint64_t* t = table(pa);
  for (int i = 0; i < 512; ++i) {
    if ((t[i] & kPtePresent) == 0) continue;
    if (level > 0 && (t[i] & kPteSharedTable) != 0) {
      // shared with other spaces: only this space's entry goes
    } else if (level > 0) {
      free_level(t[i] & kPteAddress, level - 1);
    } else if ((t[i] & kPteOwned) != 0) {
      frame_pool.free(t[i] & kPteAddress);
    }
    t[i] = 0;
  }
  frame_pool.free_zeroed(pa);
}

// The frames below `pa` (a table of `level`) the space owns: its tables (not shared ones) and
// its owned pages.
void count_level(uint64_t pa, int level, SpaceFrames& out) {
  ++out.tables;
  const uint64_t* t = table(pa);
  for (int i = 0; i < 512; ++i) {
    if ((t[i] & kPtePresent) == 0) continue;
    if (level > 0 && (t[i] & kPteSharedTable) == 0) {
      count_level(t[i] & kPteAddress, level - 1, out);
    } else if (level == 0 && (t[i] & kPteOwned) != 0) {
      ++out.pages;
    }
  }
}

}  // namespace

Frames& frames() { return frame_pool; }

SpaceFrames space_frames(const AddressSpace& as) {
  SpaceFrames out;
  if (as.root == 0) return out;
  out.tables = 1;
  const uint64_t* root = table(as.root);
  for (int i = 1; i < 512; ++i) {  // slot 0: the kernel's shared map
    if ((root[i] & kPtePresent) != 0) count_level(root[i] & kPteAddress, 2, out);
  }
  return out;
}

void Frames::add_range(uint64_t base, uint64_t end) {
  base = (base + kPageSize - 1) & ~(kPageSize - 1);
  end &= ~(kPageSize - 1);
  if (end > (uint64_t{1} << 32)) end = uint64_t{1} << 32;  // the direct map's reach
  if (base >= end || num_ranges_ == kMaxRanges) return;
  ranges_[num_ranges_++] = Range{base, end};
  total_ += (end - base) / kPageSize;
  free_count_ += (end - base) / kPageSize;
}

namespace {
void zero_page(uint64_t f) {
  uint64_t count = kPageSize / 8;
  void* p = reinterpret_cast<void*>(f);
  asm volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0) : "memory");
}
}  // namespace

uint64_t Frames::take_dirty() {
  const uint64_t f = head_;
  if (f != 0) head_ = *reinterpret_cast<uint64_t*>(f);
  return f;
}

uint64_t Frames::take_fresh() {
  while (range_ < num_ranges_ && ranges_[range_].next == ranges_[range_].end) ++range_;
  if (range_ == num_ranges_) return 0;
  const uint64_t f = ranges_[range_].next;
  ranges_[range_].next += kPageSize;
  return f;
}

void Frames::zero_fresh() {
  for (int r = range_; r < num_ranges_; ++r) {
    for (uint64_t f = ranges_[r].next; f < ranges_[r].end; f += kPageSize) zero_page(f);
  }
  fresh_zeroed_ = true;
}

uint64_t Frames::alloc() {
  if (const uint64_t f = zeroed_head_; f != 0) {
    zeroed_head_ = *reinterpret_cast<uint64_t*>(f);
    *reinterpret_cast<uint64_t*>(f) = 0;  // the link was the only non-zero word
    --zeroed_count_;
    --free_count_;
    return f;
  }
  uint64_t f = fresh_zeroed_ ? take_fresh() : 0;
  if (f == 0) {
    f = take_dirty();
    if (f == 0) f = take_fresh();
    if (f == 0) return 0;
    zero_page(f);
  }
  --free_count_;
  return f;
}

uint64_t Frames::alloc_run(uint64_t pages) {
  for (int r = range_; r < num_ranges_ && pages > 0; ++r) {
    Range& g = ranges_[r];
    if ((g.end - g.next) / kPageSize < pages) continue;
    const uint64_t base = g.next;
    g.next += pages * kPageSize;
    if (!fresh_zeroed_) {
      for (uint64_t i = 0; i < pages; ++i) zero_page(base + i * kPageSize);
    }
    free_count_ -= pages;
    return base;
  }
  return 0;
}

uint64_t Frames::alloc_unzeroed() {
  uint64_t f = take_dirty();
  if (f == 0) f = take_fresh();
  if (f == 0 && zeroed_head_ != 0) {
    f = zeroed_head_;
    zeroed_head_ = *reinterpret_cast<uint64_t*>(f);
    --zeroed_count_;
  }
  if (f == 0) return 0;
  --free_count_;
  return f;
}

void Frames::free(uint64_t frame) {
  *reinterpret_cast<uint64_t*>(frame) = head_;
  head_ = frame;
  ++free_count_;
}

void Frames::free_zeroed(uint64_t frame) {
  *reinterpret_cast<uint64_t*>(frame) = zeroed_head_;
  zeroed_head_ = frame;
  ++zeroed_count_;
  ++free_count_;
}

bool Frames::replenish(uint64_t target) {
  if (zeroed_count_ >= target) return false;
  uint64_t f = take_dirty();
  if (f == 0 && !fresh_zeroed_) f = take_fresh();
  if (f == 0) return false;
  zero_page(f);
  *reinterpret_cast<uint64_t*>(f) = zeroed_head_;
  zeroed_head_ = f;
  ++zeroed_count_;
  return true;
}

Status create_space(AddressSpace* as) {
  const uint64_t root = frame_pool.alloc();
  if (root == 0) return Error::kOutOfCapacity;
  table(root)[0] = boot_pml4[0];  // the kernel's direct map
  as->root = root;
  return Status::ok();
}

Status map_page(AddressSpace& as, uint64_t va, uint64_t pa, uint64_t flags) {
  // Only user space, page by page: the kernel's half is shared by every space and never changes.
  if (va < abi::kUserBase || va >= abi::kUserEnd || va % kPageSize != 0 || pa % kPageSize != 0) {
    return Error::kInvalidArgument;
  }
  uint64_t* t = table(as.root);
  for (int level = 3; level > 0; --level) {
    if ((t[index(va, level)] & kPteSharedTable) != 0) return Error::kBusy;  // never written through a space
    t = next(t, index(va, level), true);
    if (t == nullptr) return Error::kOutOfCapacity;
  }
  uint64_t& e = t[index(va, 0)];
  if ((e & kPtePresent) != 0) return Error::kBusy;
  e = pa | flags | kPtePresent | kPteUser;
  return Status::ok();
}

uint64_t lookup(const AddressSpace& as, uint64_t va) {
  if (as.root == 0) return 0;
  uint64_t* t = table(as.root);
  for (int level = 3; level > 0; --level) {
    t = next(t, index(va, level), false);
    if (t == nullptr) return 0;
  }
  const uint64_t e = t[index(va, 0)];
  return (e & kPtePresent) != 0 ? e : 0;
}

Status map_shared_table(AddressSpace& as, uint64_t va, uint64_t table_pa) {
  if (va < abi::kUserBase || va >= abi::kUserEnd || va % kLargePage != 0 || table_pa % kPageSize != 0) {
    return Error::kInvalidArgument;
  }
  uint64_t* t = table(as.root);
  for (int level = 3; level > 1; --level) {
    t = next(t, index(va, level), true);
    if (t == nullptr) return Error::kOutOfCapacity;
  }
  uint64_t& e = t[index(va, 1)];
  if ((e & kPtePresent) != 0) return Error::kBusy;
  e = table_pa | kPtePresent | kPteWrite | kPteUser | kPteSharedTable;  // the leaf entries decide
  return Status::ok();
}

void unmap_range(AddressSpace& as, uint64_t va, uint64_t size) {
  const bool loaded = is_loaded(as);
  // Stale wherever it is not loaded (here it is invalidated page by page).
  as.tlb_stale |= loaded ? ~(uint32_t{1} << cpu_index()) : ~uint32_t{0};
  for (uint64_t p = va; p < va + size; p += kPageSize) {
    uint64_t* t = table(as.root);
    for (int level = 3; level > 0 && t != nullptr; --level) {
      t = (t[index(p, level)] & kPteSharedTable) != 0 ? nullptr : next(t, index(p, level), false);
    }
    if (t == nullptr) continue;  // not mapped, or in a shared table (the program's code)
    uint64_t& e = t[index(p, 0)];
    if ((e & kPtePresent) != 0 && (e & kPteOwned) != 0) frame_pool.free(e & kPteAddress);
    e = 0;
    if (loaded) invlpg(p);
  }
}

void destroy_space(AddressSpace& as) {
  if (as.root == 0) return;
  // Never free the tables the CPU is walking (an FWP ending itself, or killed by its own fault).
  if (is_loaded(as)) activate_kernel();
  // Its PCID goes back unowned; whoever gets it next flushes its entries on first load.
  for (uint32_t c = 0; c < kMaxCpus; ++c) {
    if (as.pcid[c] != 0 && pcid_owner[c][as.pcid[c]] == &as) pcid_owner[c][as.pcid[c]] = nullptr;
    as.pcid[c] = 0;
  }
  as.tlb_stale = 0;
  uint64_t* root = table(as.root);
  root[0] = 0;  // the shared kernel map, not owned
  for (int i = 1; i < 512; ++i) {
    if ((root[i] & kPtePresent) != 0) free_level(root[i] & kPteAddress, 2);
    root[i] = 0;
  }
  frame_pool.free_zeroed(as.root);
  as.root = 0;
}

bool user_range_ok(const AddressSpace& as, uint64_t va, uint64_t n, bool write) {
  if (n == 0) return true;
  if (va < abi::kUserBase || va >= abi::kUserEnd || n > abi::kUserEnd - va) return false;
  for (uint64_t p = va & ~(kPageSize - 1); p < va + n; p += kPageSize) {
    const uint64_t e = lookup(as, p);
    if (e == 0 || (e & kPteUser) == 0 || (write && (e & kPteWrite) == 0)) return false;
  }
  return true;
}

uint64_t kernel_root() { return reinterpret_cast<uint64_t>(boot_pml4); }

void enable_pcid() {
  if (detail::pcid_on) return;
  activate_kernel();
  write_cr4(read_cr4() | kCr4Pcide);
  detail::pcid_on = true;
}

bool pcid_enabled() { return detail::pcid_on; }

namespace detail {

uint64_t loaded_root[kMaxCpus] = {};  // 0 before the first load: the boot tables are loaded, but not known
bool pcid_on = false;
PcidStats stats;

void activate_pcid(AddressSpace& as, uint32_t cpu) {
  const uint32_t bit = uint32_t{1} << cpu;
  bool flush = (as.tlb_stale & bit) != 0;
  uint16_t& pcid = as.pcid[cpu];
  if (pcid == 0 || pcid_owner[cpu][pcid] != &as) {
    // A PCID of its own on this CPU: the next in turn, taken from its last owner if it has one
    // (which then gets a new one, flushed, when it is next loaded). Its entries may be another
    // space's.
    uint16_t& next = next_pcid[cpu];
    const uint16_t p = next == 0 ? 1 : next;
    next = p == kMaxPcid ? 1 : static_cast<uint16_t>(p + 1);
    if (AddressSpace* old = pcid_owner[cpu][p]; old != nullptr) old->pcid[cpu] = 0;
    pcid_owner[cpu][p] = &as;
    pcid = p;
    ++stats.assignments;
    flush = true;
  }
  as.tlb_stale &= ~bit;
  load_cr3(as.root, pcid, flush);
}

}  // namespace detail

void activate_kernel() {
  // PCID 0: the kernel's tables map only the direct map, which never changes; nothing to flush.
  if (detail::loaded_root[cpu_index()] != kernel_root()) load_cr3(kernel_root(), 0, false);
}

const PcidStats& pcid_stats() { return detail::stats; }

}  // namespace edgeos::x86
