#include "paging.hpp"

#include "../../fwp/abi.hpp"
#include "cpu.hpp"

extern "C" uint64_t boot_pml4[512];

namespace edgeos::x86 {

namespace {

Frames frame_pool;

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

void free_level(uint64_t pa, int level) {
  uint64_t* t = table(pa);
  for (int i = 0; i < 512; ++i) {
    if ((t[i] & kPtePresent) == 0) continue;
    if (level > 0) {
      free_level(t[i] & kPteAddress, level - 1);
    } else if ((t[i] & kPteOwned) != 0) {
      frame_pool.free(t[i] & kPteAddress);
    }
  }
  frame_pool.free(pa);
}

}  // namespace

Frames& frames() { return frame_pool; }

void Frames::add_range(uint64_t base, uint64_t end) {
  base = (base + kPageSize - 1) & ~(kPageSize - 1);
  end &= ~(kPageSize - 1);
  if (end > (uint64_t{1} << 32)) end = uint64_t{1} << 32;  // the direct map's reach
  if (base >= end || num_ranges_ == kMaxRanges) return;
  ranges_[num_ranges_++] = Range{base, end};
  total_ += (end - base) / kPageSize;
  free_count_ += (end - base) / kPageSize;
}

uint64_t Frames::alloc() {
  const uint64_t f = alloc_unzeroed();
  if (f == 0) return 0;
  uint64_t count = kPageSize / 8;
  void* p = reinterpret_cast<void*>(f);
  asm volatile("rep stosq" : "+D"(p), "+c"(count) : "a"(0) : "memory");
  return f;
}

uint64_t Frames::alloc_unzeroed() {
  uint64_t f = head_;
  if (f != 0) {
    head_ = *reinterpret_cast<uint64_t*>(f);
  } else {
    while (range_ < num_ranges_ && ranges_[range_].next == ranges_[range_].end) ++range_;
    if (range_ == num_ranges_) return 0;
    f = ranges_[range_].next;
    ranges_[range_].next += kPageSize;
  }
  --free_count_;
  return f;
}

void Frames::free(uint64_t frame) {
  *reinterpret_cast<uint64_t*>(frame) = head_;
  head_ = frame;
  ++free_count_;
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

void unmap_range(AddressSpace& as, uint64_t va, uint64_t size) {
  for (uint64_t p = va; p < va + size; p += kPageSize) {
    uint64_t* t = table(as.root);
    for (int level = 3; level > 0 && t != nullptr; --level) t = next(t, index(p, level), false);
    if (t == nullptr) continue;
    uint64_t& e = t[index(p, 0)];
    if ((e & kPtePresent) != 0 && (e & kPteOwned) != 0) frame_pool.free(e & kPteAddress);
    e = 0;
    invlpg(p);
  }
}

void destroy_space(AddressSpace& as) {
  if (as.root == 0) return;
  // Never free the tables the CPU is walking (an FWP ending itself, or killed by its own fault).
  if ((read_cr3() & kPteAddress) == as.root) write_cr3(kernel_root());
  uint64_t* root = table(as.root);
  for (int i = 1; i < 512; ++i) {  // slot 0 is the shared kernel map
    if ((root[i] & kPtePresent) != 0) free_level(root[i] & kPteAddress, 2);
  }
  frame_pool.free(as.root);
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

}  // namespace edgeos::x86
