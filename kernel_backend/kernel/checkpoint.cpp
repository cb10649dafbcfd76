// FWP templates' checkpoints (EdgeOS's Featherweight Processes; fwp/abi.hpp, kSysReady): the
// writable pages of a template's first FWP copied when it says it is ready, and copied into every
// FWP made from the template after; and the FWP heap those checkpoints carry (kSysMemMap).
//
// The heap is mapped on demand: kSysMemMap promises the pages (counted against free frames, so a
// call that asks for more than memory holds is refused; the kernel's own allocations, page tables
// and stacks, are not held back by promises, so a touch can still find no frame left: the FWP is
// then killed, and the console says why) and each is mapped when the FWP
// first touches it (a page fault, or a system call's pointer into it): zeroed, or, in an FWP made
// from a checkpoint, a copy of the checkpoint's page (copy on first access: creation copies no
// heap page, and an FWP pays for the pages it uses). An FWP that asks for 256 KiB and uses 12
// holds 12; a checkpoint keeps only the touched pages.
#include "console.hpp"
#include "kstate.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

Checkpoint* checkpoints = nullptr;
uint32_t* heap_limits = nullptr;
uint64_t checkpoints_taken = 0, checkpoint_copies = 0;

namespace {

uint64_t heap_promised = 0;  // heap pages promised to FWPs and not touched yet

// Whether `pages` more frames can be promised.
bool can_promise(uint64_t pages) { return x86::frames().free_count() >= heap_promised + pages; }

// Maps heap page `p` of `k`: a copy of its template's checkpoint page if it was made from one and
// the checkpoint has that page, else a zeroed page.
bool touch(KFwp& k, uint32_t tmpl, uint64_t p) {
  const Checkpoint* cp = k.heap_from_checkpoint ? &checkpoints[tmpl] : nullptr;
  const uint64_t from = cp != nullptr && p < cp->heap_pages ? cp->heap[p] : 0;
  const uint64_t pa = from != 0 ? x86::frames().alloc_unzeroed() : x86::frames().alloc();
  if (pa == 0) return false;
  if (from != 0) memcpy(reinterpret_cast<void*>(pa), reinterpret_cast<const void*>(from), x86::kPageSize);
  if (!x86::map_page(k.space, abi::kHeapWindow + p * x86::kPageSize, pa, x86::kPteWrite | x86::kPteNoExecute | x86::kPteOwned)) {
    x86::frames().free(pa);
    return false;
  }
  ++k.heap_touched;
  --heap_promised;
  return true;
}

}  // namespace

bool heap_fault(const Fwp* f, uint64_t va) {
  KFwp& k = kfwps[f->slot_index];
  if (va < abi::kHeapWindow || va >= abi::kHeapWindow + k.heap_pages * x86::kPageSize) return false;
  const uint64_t page = va & ~(x86::kPageSize - 1);
  if (x86::lookup(k.space, page) != 0) return false;  // mapped: a real protection fault
  return touch(k, f->tmpl->slot_index, (page - abi::kHeapWindow) / x86::kPageSize);
}

bool user_ok(const Fwp* f, uint64_t va, uint64_t n, bool write) {
  KFwp& k = kfwps[f->slot_index];
  const uint64_t heap_end = abi::kHeapWindow + k.heap_pages * x86::kPageSize;
  if (n > 0 && k.heap_touched < k.heap_pages && va < heap_end && n <= abi::kMemMapMaxPages * x86::kPageSize &&
      va + n > abi::kHeapWindow) {
    const uint64_t from = (va < abi::kHeapWindow ? abi::kHeapWindow : va) & ~(x86::kPageSize - 1);
    const uint64_t to = va + n < heap_end ? va + n : heap_end;
    for (uint64_t p = from; p < to; p += x86::kPageSize) {
      if (x86::lookup(k.space, p) == 0 && !touch(k, f->tmpl->slot_index, (p - abi::kHeapWindow) / x86::kPageSize)) return false;
    }
  }
  return x86::user_range_ok(k.space, va, n, write);
}

void release_heap(KFwp& k) {
  x86::unmap_range(k.space, abi::kHeapWindow, k.heap_pages * x86::kPageSize);  // frees the touched pages
  heap_promised -= k.heap_pages - k.heap_touched;
  k.heap_pages = 0;
  k.heap_touched = 0;
  k.heap_from_checkpoint = false;
}

const Checkpoint* checkpoint_of(uint32_t tmpl) { return checkpoints[tmpl].taken ? &checkpoints[tmpl] : nullptr; }

// Gives FWP `k` template `tmpl`'s checkpointed heap (its data pages came from the checkpoint when
// its image was mapped: map_image, reset_image): each page copied on first access. Nothing to do
// without a checkpoint.
Status apply_checkpoint(uint32_t tmpl, KFwp& k) {
  const Checkpoint& cp = checkpoints[tmpl];
  if (!cp.taken) return Status::ok();
  // The heap: promised, each page copied on the FWP's first access to it (touch).
  if (!can_promise(cp.heap_pages)) return Error::kOutOfCapacity;
  k.heap_pages = cp.heap_pages;
  k.heap_touched = 0;
  k.heap_from_checkpoint = true;
  heap_promised += cp.heap_pages;
  ++checkpoint_copies;
  return Status::ok();
}

// kSysReady: the calling FWP's writable pages become its template's checkpoint (once per template);
// the FWPs waiting in the template's pool are brought to it at once.
int64_t sys_ready(const Thread& t) {
  Fwp& f = *t.domain;
  const uint32_t tmpl = f.tmpl->slot_index;
  Checkpoint& cp = checkpoints[tmpl];
  if (cp.taken) return 1;
  KFwp& k = kfwps[f.slot_index];
  if (k.heap_pages > abi::kCheckpointHeapPages) return error_code(Error::kOutOfCapacity);
  Checkpoint fresh;
  auto keep = [](uint64_t from) -> uint64_t {
    const uint64_t pa = x86::frames().alloc_unzeroed();
    if (pa != 0) memcpy(reinterpret_cast<void*>(pa), reinterpret_cast<const void*>(from), x86::kPageSize);
    return pa;
  };
  bool ok = true;
  for (int i = 0; i < image.num_segments && ok; ++i) {
    const Segment& seg = image.segments[i];
    if (!seg.writable) continue;
    for (uint64_t p = 0; p < seg.pages && ok; ++p) {
      const uint64_t e = x86::lookup(k.space, seg.va + p * x86::kPageSize);
      ok = e != 0 && fresh.data_pages < kMaxDataPages && (fresh.data[fresh.data_pages++] = keep(e & x86::kPteAddress)) != 0;
    }
  }
  for (uint64_t p = 0; p < k.heap_pages && ok; ++p) {  // an untouched page is kept as 0: untouched in copies
    const uint64_t e = x86::lookup(k.space, abi::kHeapWindow + p * x86::kPageSize);
    fresh.heap[fresh.heap_pages] = e == 0 ? 0 : keep(e & x86::kPteAddress);
    ok = e == 0 || fresh.heap[fresh.heap_pages] != 0;
    ++fresh.heap_pages;
  }
  if (!ok) {
    for (uint32_t i = 0; i < fresh.data_pages; ++i) {
      if (fresh.data[i] != 0) x86::frames().free(fresh.data[i]);
    }
    for (uint64_t i = 0; i < fresh.heap_pages; ++i) {
      if (fresh.heap[i] != 0) x86::frames().free(fresh.heap[i]);
    }
    return error_code(Error::kOutOfCapacity);
  }
  fresh.taken = true;
  cp = fresh;
  ++checkpoints_taken;
  char name[64];
  fwp_name(&f, name, sizeof name);
  kprintf("[%s] checkpoint of template %u: %u data and %lu heap pages (%lu touched)\n", name, tmpl, cp.data_pages,
          cp.heap_pages, k.heap_touched);
  // The pool's FWPs were made before there was a checkpoint.
  f.tmpl->pool.for_each([&](Fwp& idle) {
    KFwp& ik = kfwps[idle.slot_index];
    release_heap(ik);
    reset_image(image, ik.space, cp.data, cp.data_pages);
    (void)apply_checkpoint(tmpl, ik);
  });
  return 0;
}

// kSysMemMap: `pages` more zeroed pages at the end of the calling FWP's heap; their address.
int64_t sys_mem_map(const Thread& t, uint64_t pages) {
  KFwp& k = kfwps[t.domain->slot_index];
  // At most kMemMapMaxPages a call, so that one call's work is bounded (syscall fuzzer finding: 4,096
  // pages in one non-preemptible call held a higher-priority release back by 240 us).
  if (pages == 0 || pages > abi::kMemMapMaxPages) return error_code(Error::kInvalidArgument);
  // Past its template's memory budget (the scenario's `memory`; kHeapMaxPages without one), or
  // more than the machine has: an error value the program handles, never a fault.
  if (pages > heap_limits[t.domain->tmpl->slot_index] - k.heap_pages || !can_promise(pages)) {
    return error_code(Error::kOutOfCapacity);
  }
  const uint64_t va = abi::kHeapWindow + k.heap_pages * x86::kPageSize;
  k.heap_pages += pages;  // mapped on first touch (heap_fault, user_ok)
  heap_promised += pages;
  return static_cast<int64_t>(va);
}

// kSysMemLeft: the pages the calling FWP's heap may still grow by under its memory budget (the
// machine's free memory aside).
int64_t sys_mem_left(const Thread& t) {
  return static_cast<int64_t>(heap_limits[t.domain->tmpl->slot_index] - kfwps[t.domain->slot_index].heap_pages);
}

}  // namespace edgeos::kernel
