// 4-level paging: per-FWP address spaces. Every address space shares the kernel's direct map
// (page-map level-4 slot 0: the first 4 GiB, supervisor-only, set up by the boot code); user
// mappings live in 4 KiB pages above it.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/result.hpp"
#include "cpu.hpp"
#include "percpu.hpp"

namespace edgeos::x86 {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPtePresent = 1;
inline constexpr uint64_t kPteWrite = 2;
inline constexpr uint64_t kPteUser = 4;
inline constexpr uint64_t kPteWriteThrough = 1ull << 3;
inline constexpr uint64_t kPteCacheDisable = 1ull << 4;  // with kPteWriteThrough: uncached (device memory)
inline constexpr uint64_t kPteOwned = 1ull << 9;
// Software bit on an entry that points at a page table: the table is shared by several address
// spaces (the program image's code), built once, never written through a space, never freed by one.
inline constexpr uint64_t kPteSharedTable = 1ull << 10;
inline constexpr uint64_t kLargePage = 0x20'0000;  // what one last-level table maps  // software bit: the frame belongs to this space
inline constexpr uint64_t kPteNoExecute = 1ull << 63;
inline constexpr uint64_t kPteAddress = 0x000f'ffff'ffff'f000;

// Physical page frames, from the usable RAM the loader reported (below 4 GiB, the direct map).
// Each frame is zeroed when allocated. Frames never allocated are handed out from their ranges
// by a bump pointer (so adding RAM touches none of it); freed frames go to a list, each holding
// the link to the next.
// Physical frames: free ranges handed out in order, a list of freed ("dirty") frames, and a
// reserve of frames known to be zero. alloc() takes zero frames where there are some, so making a
// page table costs no zeroing: the kernel zeroes the free ranges once at boot (zero_fresh), a
// destroyed address space gives its page tables back already zero (destroy_space clears each
// entry it frees), and freed data pages are zeroed into the reserve one at a time while the CPU
// idles (a zero-page thread's job, done in the idle loop).
class Frames {
 public:
  void add_range(uint64_t base, uint64_t end);  // page-aligned inward; ranges past kMaxRanges are dropped
  void zero_fresh();                              // zeroes every frame not yet handed out (boot)
  uint64_t alloc();                               // a zeroed frame's physical address, or 0 when none is left
  uint64_t alloc_unzeroed();                      // the same, for a caller that fills all of it
  // `pages` consecutive zeroed frames from the never-allocated ranges (the kernel's object pools,
  // sized at boot), or 0 when no range holds that many.
  uint64_t alloc_run(uint64_t pages);
  void free(uint64_t frame);
  void free_zeroed(uint64_t frame);  // a frame the caller left all zero (except, at most, its first word)
  // Zeroes one free frame into the reserve if it holds fewer than `target`; false when it holds
  // enough or no dirty or fresh frame is left.
  bool replenish(uint64_t target);
  uint64_t free_count() const { return free_count_; }
  uint64_t zeroed_count() const { return zeroed_count_; }
  uint64_t total() const { return total_; }

 private:
  static constexpr int kMaxRanges = 32;
  struct Range {
    uint64_t next, end;
  };
  uint64_t take_dirty();  // from the dirty list, or 0; free_count_ unchanged
  uint64_t take_fresh();  // from a fresh range, or 0; free_count_ unchanged
  Range ranges_[kMaxRanges] = {};
  int num_ranges_ = 0;
  int range_ = 0;  // the first range with frames left
  uint64_t head_ = 0;         // dirty list, linked through each frame's first word
  uint64_t zeroed_head_ = 0;  // zeroed reserve, linked the same way
  uint64_t zeroed_count_ = 0;
  bool fresh_zeroed_ = false;  // the fresh ranges are all zero (zero_fresh ran)
  uint64_t free_count_ = 0;
  uint64_t total_ = 0;
};
Frames& frames();

struct AddressSpace {
  uint64_t root = 0;  // physical address of the level-4 table; 0: none
  // With PCID, per CPU (a space runs on every CPU one of its threads runs on, or calls from): the
  // tag of this space's TLB entries there (0: none assigned; PCID 0 is the kernel's), and, a bit
  // per CPU, whether translations were removed while another space was loaded there, so that
  // entries under its tag may be stale (cleared when it is next loaded there).
  uint16_t pcid[kMaxCpus] = {};
  uint32_t tlb_stale = 0;
};
static_assert(kMaxCpus <= 32, "one stale bit per CPU");

// Loading address spaces. Without PCID every CR3 load flushes the TLB's (non-global) entries, so
// only a change of space loads CR3. With PCID (Intel SDM vol. 3A, 4.10.1: CR4.PCIDE, and CR3 bit
// 63 to keep the new PCID's entries) each space carries a tag and a switch keeps every space's
// entries: a space is given one of the 4,095 user PCIDs the first time it is loaded (the oldest
// assignment is taken back when they run out, round robin), and it is loaded with a flush when
// its PCID is new to it or its entries are stale. Removing a translation from the loaded space
// invalidates it at once (invlpg); from another space, marks that space stale. Every CPU has its
// own PCIDs and its own loaded space. Removing translations from a space loaded on another CPU is
// the caller's to prevent (the kernel first has every other CPU leave its space: quiesce in
// kernel.cpp); what is stale there is flushed when that CPU loads the space again.
struct PcidStats {
  uint64_t loads = 0;        // CR3 loads
  uint64_t flushes = 0;      // with PCID: of which flushed the PCID's entries (new, or stale)
  uint64_t assignments = 0;  // PCIDs given to spaces
};
// Sets CR4.PCIDE. Call once, early, with the kernel's tables loaded (CR3's PCID field must be 0).
void enable_pcid();
bool pcid_enabled();
namespace detail {
extern uint64_t loaded_root[kMaxCpus];  // each CPU's tables in CR3 (without the PCID)
extern bool pcid_on;
extern PcidStats stats;
void activate_pcid(AddressSpace& as, uint32_t cpu);
}  // namespace detail

// Puts `as` (with a root) on the CPU; nothing if it is there already (every return to user mode
// in the same space: one comparison). A loaded space is never stale: removing its translations
// invalidates them at once. Without PCID a load is a CR3 write, which flushes: inline, since it
// is half of every switch between FWPs, and of every call and reply.
inline void activate(AddressSpace& as) {
  const uint32_t cpu = cpu_index();
  if (as.root == detail::loaded_root[cpu]) return;
  if (detail::pcid_on) {
    detail::activate_pcid(as, cpu);
    return;
  }
  ++detail::stats.loads;
  write_cr3(as.root);
  detail::loaded_root[cpu] = as.root;
}
void activate_kernel();
const PcidStats& pcid_stats();

// A new address space containing only the kernel's direct map. kOutOfCapacity without frames.
Status create_space(AddressSpace* as);
// Maps one page at user address `va` (page-aligned) to frame `pa` with `flags` (kPteWrite,
// kPteNoExecute, kPteOwned; kPtePresent and kPteUser are added). kOutOfCapacity if a table
// cannot be allocated, kBusy if `va` is already mapped, kInvalidArgument outside user space or
// unaligned.
Status map_page(AddressSpace& as, uint64_t va, uint64_t pa, uint64_t flags);
// The leaf entry for `va`, or 0 if unmapped.
uint64_t lookup(const AddressSpace& as, uint64_t va);
// Points the 2 MiB of user space at `va` (2 MiB-aligned) at the last-level table `table_pa`, shared
// with other spaces: one entry instead of a page's worth of them. kBusy if anything is mapped there.
Status map_shared_table(AddressSpace& as, uint64_t va, uint64_t table_pa);
// Frees every user page table and every owned frame, and the space's PCID; the space is empty
// afterwards. If the CPU is in it, the CPU moves to the kernel's tables first.
void destroy_space(AddressSpace& as);
// The frames a space holds: its own page tables (not the shared ones) and the pages it owns
// (not the shared code, clock or device pages). A walk of its tables: for reports, not hot paths.
struct SpaceFrames {
  uint64_t tables = 0;
  uint64_t pages = 0;
};
SpaceFrames space_frames(const AddressSpace& as);
// Unmaps and frees every owned page of [va, va + size) (e.g. to reset data pages).
void unmap_range(AddressSpace& as, uint64_t va, uint64_t size);

// Whether user code could access [va, va + n) in `as` (mapped, user, and writable if asked):
// the check behind every user pointer a system call takes.
bool user_range_ok(const AddressSpace& as, uint64_t va, uint64_t n, bool write);

// The kernel's own level-4 table (boot.S), for the CPU when no FWP runs.
uint64_t kernel_root();

}  // namespace edgeos::x86
