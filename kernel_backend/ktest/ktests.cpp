// The in-kernel unit tests (ktest.hpp). Each states the property it checks.
#include "../arch/x86_64/cpu.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../fwp/abi.hpp"
#include "../kernel/console.hpp"
#include "../kernel/image.hpp"
#include "../platform/pc/timer.hpp"
#include "ktest.hpp"

extern "C" const uint8_t fwp_image_start[];
extern "C" const uint8_t fwp_image_end[];

using namespace edgeos;

namespace {

constexpr uint64_t kPage = x86::kPageSize;

bool page_is_zero(uint64_t pa) {
  const auto* p = reinterpret_cast<const uint64_t*>(pa);
  for (uint64_t i = 0; i < kPage / 8; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

bool streq(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

}  // namespace

// Frames come page-aligned and zeroed; a freed frame is handed out again (zeroed again) and the
// free count is exact throughout.
KTEST(frames_are_aligned_zeroed_and_reused) {
  x86::Frames& f = x86::frames();
  const uint64_t before = f.free_count();
  const uint64_t a = f.alloc(), b = f.alloc();
  KASSERT(a != 0 && b != 0 && a != b);
  KEXPECT(a % kPage == 0 && b % kPage == 0);
  KEXPECT(page_is_zero(a) && page_is_zero(b));
  KEXPECT(f.free_count() == before - 2);
  // A freed frame goes back to the dirty list and is reused first by alloc_unzeroed (alloc takes
  // the zeroed reserve first: the next test).
  *reinterpret_cast<uint64_t*>(a + 128) = 0xdead'beef;
  f.free(a);
  const uint64_t c = f.alloc_unzeroed();
  KEXPECT(c == a);
  f.free(c);
  f.free(b);
  KEXPECT(f.free_count() == before);
}

// The zeroed reserve: replenish() zeroes dirty frames into it up to its target, alloc() takes
// from it, and a destroyed address space returns its page tables to it, all zero.
KTEST(zeroed_reserve_and_page_tables_returned_zero) {
  x86::Frames& f = x86::frames();
  const uint64_t before = f.free_count();
  const uint64_t dirty = f.alloc_unzeroed();
  KASSERT(dirty != 0);
  for (uint64_t i = 0; i < kPage; i += 8) *reinterpret_cast<uint64_t*>(dirty + i) = ~uint64_t{0};
  f.free(dirty);
  const uint64_t reserve = f.zeroed_count();
  KEXPECT(!f.replenish(reserve));        // at its target: nothing to do
  KEXPECT(f.replenish(reserve + 1));     // one more: the dirty frame, zeroed
  KEXPECT(f.zeroed_count() == reserve + 1);
  KEXPECT(f.free_count() == before);
  const uint64_t z = f.alloc();
  KEXPECT(z == dirty && page_is_zero(z));
  f.free(z);

  x86::AddressSpace as;
  KASSERT(x86::create_space(&as));
  const uint64_t root = as.root;
  const uint64_t pa = f.alloc();
  KASSERT(pa != 0);
  KASSERT(x86::map_page(as, abi::kUserBase + (3ull << 30) + 5 * kPage, pa, x86::kPteWrite | x86::kPteOwned));
  const uint64_t zeroed = f.zeroed_count();
  x86::destroy_space(as);
  KEXPECT(f.zeroed_count() == zeroed + 4);  // the four tables, not the owned data page
  // The root went back last: it heads the reserve, zero but for the list link.
  KEXPECT(f.alloc() == root);
  KEXPECT(page_is_zero(root));
  f.free(root);
  KEXPECT(f.free_count() == before);
}

// An address space with pages spread over several page tables gives every frame back when it
// is destroyed: its tables and its owned pages, not the shared ones.
KTEST(address_space_returns_every_frame) {
  x86::Frames& f = x86::frames();
  const uint64_t before = f.free_count();
  const uint64_t shared = f.alloc();
  KASSERT(shared != 0);
  x86::AddressSpace as;
  KASSERT(x86::create_space(&as));
  const uint64_t vas[] = {abi::kUserBase, abi::kUserBase + (2ull << 20), abi::kUserBase + (5ull << 30),
                          abi::kUserEnd - kPage};
  for (uint64_t va : vas) {
    const uint64_t pa = f.alloc();
    KASSERT(pa != 0);
    KASSERT(x86::map_page(as, va, pa, x86::kPteWrite | x86::kPteOwned));
  }
  KASSERT(x86::map_page(as, abi::kUserBase + kPage, shared, 0));
  KEXPECT(f.free_count() < before - 5);
  x86::destroy_space(as);
  KEXPECT(as.root == 0);
  KEXPECT(f.free_count() == before - 1);  // all but the shared frame, which the space did not own
  f.free(shared);
  KEXPECT(f.free_count() == before);
}

// The leaf entry has exactly the permissions asked for, always user and present; a second mapping
// at the same address is refused; addresses outside user space are refused.
KTEST(map_page_permissions_and_refusals) {
  x86::AddressSpace as;
  KASSERT(x86::create_space(&as));
  const uint64_t pa = x86::frames().alloc();
  KASSERT(pa != 0);
  KASSERT(x86::map_page(as, abi::kUserBase, pa, x86::kPteNoExecute | x86::kPteOwned));
  const uint64_t e = x86::lookup(as, abi::kUserBase);
  KEXPECT((e & x86::kPteAddress) == pa);
  KEXPECT((e & x86::kPtePresent) && (e & x86::kPteUser) && (e & x86::kPteNoExecute));
  KEXPECT(!(e & x86::kPteWrite));
  const uint64_t other = x86::frames().alloc();
  KEXPECT(x86::map_page(as, abi::kUserBase, other, 0).error() == Error::kBusy);
  KEXPECT(!x86::map_page(as, 0x100000, other, 0));                // the kernel's half
  KEXPECT(!x86::map_page(as, abi::kUserEnd, other, 0));           // past user space
  KEXPECT(!x86::map_page(as, abi::kUserBase + 12, other, 0));     // not page-aligned
  x86::frames().free(other);
  KEXPECT(x86::lookup(as, abi::kUserBase + kPage) == 0);
  x86::destroy_space(as);
}

// The check behind every user pointer a system call takes: mapped, user, writable when asked,
// wholly inside user space, without wrapping around.
KTEST(user_range_checks) {
  x86::AddressSpace as;
  KASSERT(x86::create_space(&as));
  const uint64_t rw = x86::frames().alloc(), ro = x86::frames().alloc();
  KASSERT(rw != 0 && ro != 0);
  const uint64_t base = abi::kUserBase + 16 * kPage;
  KASSERT(x86::map_page(as, base, rw, x86::kPteWrite | x86::kPteOwned));
  KASSERT(x86::map_page(as, base + kPage, ro, x86::kPteOwned));
  KEXPECT(x86::user_range_ok(as, base, kPage, true));
  KEXPECT(x86::user_range_ok(as, base, 2 * kPage, false));
  KEXPECT(!x86::user_range_ok(as, base, 2 * kPage, true));         // the second page is read-only
  KEXPECT(!x86::user_range_ok(as, base + kPage, 2 * kPage, false)); // runs into an unmapped page
  KEXPECT(!x86::user_range_ok(as, base - 8, 16, false));            // starts in an unmapped page
  KEXPECT(x86::user_range_ok(as, 0x100000, 0, false));              // nothing to access
  KEXPECT(!x86::user_range_ok(as, 0x100000, 8, false));             // kernel memory
  KEXPECT(!x86::user_range_ok(as, ~uint64_t{0} - 3, 8, false));     // wraps around
  KEXPECT(!x86::user_range_ok(as, base, ~uint64_t{0}, false));      // absurd length
  x86::destroy_space(as);
}

// Destroying the space the CPU is in (an FWP ending itself) first moves the CPU to the kernel's
// own tables, so the freed tables are never walked.
KTEST(destroying_the_current_space_leaves_it_first) {
  x86::AddressSpace as;
  KASSERT(x86::create_space(&as));
  x86::activate(as);
  KEXPECT((x86::read_cr3() & x86::kPteAddress) == as.root);
  x86::destroy_space(as);
  KEXPECT((x86::read_cr3() & x86::kPteAddress) == x86::kernel_root());
}

// FWPs instantiated from the program image share its read-only pages and each get their own
// copy of its writable ones; a reset restores the template's data.
KTEST(image_shares_code_and_copies_data) {
  kernel::ProgramImage img;
  KASSERT(kernel::load_program_image(fwp_image_start, static_cast<uint64_t>(fwp_image_end - fwp_image_start), &img));
  KASSERT(img.start_entry >= abi::kUserBase && img.invoke_entry >= abi::kUserBase);
  x86::AddressSpace a, b;
  KASSERT(x86::create_space(&a) && x86::create_space(&b));
  KASSERT(kernel::map_image(img, a) && kernel::map_image(img, b));
  int shared = 0, copied = 0;
  for (int i = 0; i < img.num_segments; ++i) {
    const kernel::Segment& s = img.segments[i];
    const uint64_t ea = x86::lookup(a, s.va), eb = x86::lookup(b, s.va);
    KASSERT(ea != 0 && eb != 0);
    if (s.writable) {
      ++copied;
      KEXPECT((ea & x86::kPteAddress) != (eb & x86::kPteAddress));
      KEXPECT((ea & x86::kPteWrite) && (ea & x86::kPteNoExecute));
      // Scribble over a's copy: b's is untouched, and a reset restores a's.
      auto* pa = reinterpret_cast<uint8_t*>(ea & x86::kPteAddress);
      const auto* pb = reinterpret_cast<const uint8_t*>(eb & x86::kPteAddress);
      for (uint64_t k = 0; k < kPage; ++k) pa[k] = static_cast<uint8_t>(~pb[k]);
      kernel::reset_image(img, a);
      bool same = true;
      for (uint64_t k = 0; k < kPage; ++k) same = same && pa[k] == pb[k];
      KEXPECT(same);
    } else {
      ++shared;
      KEXPECT((ea & x86::kPteAddress) == (eb & x86::kPteAddress));
      KEXPECT(!(ea & x86::kPteWrite));
      KEXPECT(s.executable == !(ea & x86::kPteNoExecute));
    }
  }
  KEXPECT(shared >= 1 && copied >= 1);
  x86::destroy_space(a);
  x86::destroy_space(b);
}

// The image's code is one last-level table shared by every FWP: creating a space installs one
// entry; the table survives the spaces that used it; nothing can be mapped into it through a space.
KTEST(image_code_table_is_shared) {
  kernel::ProgramImage img;
  KASSERT(kernel::load_program_image(fwp_image_start, static_cast<uint64_t>(fwp_image_end - fwp_image_start), &img));
  KASSERT(img.code_table != 0);  // fwp/linker.ld lays the image out for it
  x86::Frames& f = x86::frames();
  x86::AddressSpace a, b;
  KASSERT(x86::create_space(&a) && x86::create_space(&b));
  const uint64_t before = f.free_count();
  KASSERT(kernel::map_image(img, a));
  const uint64_t used = before - f.free_count();  // tables down to the data, and the data pages
  uint64_t data_pages = 0;
  for (int i = 0; i < img.num_segments; ++i) data_pages += img.segments[i].writable ? img.segments[i].pages : 0;
  KEXPECT(used == 2 + 1 + data_pages);  // PDPT and PD, one PT for the data, the data: no code table
  KASSERT(kernel::map_image(img, b));
  KEXPECT(x86::map_page(a, abi::kUserBase + kPage, f.alloc(), 0).error() == Error::kBusy);
  const uint64_t code = x86::lookup(b, abi::kUserBase);
  x86::destroy_space(a);
  KEXPECT(x86::lookup(b, abi::kUserBase) == code && code != 0);  // still there for b
  KEXPECT(reinterpret_cast<const uint64_t*>(img.code_table)[0] == (code & ~uint64_t{0}));
  x86::destroy_space(b);
}

// The console's formatting, which every message and report goes through.
KTEST(console_formatting) {
  char buf[64];
  kernel::ksnprintf(buf, sizeof buf, "%d|%u|%ld|%lx|%08x|%-5s|%c|%%", -5, 7u, -1234567890123L, 0xdeadbeefcafeUL, 0xabcu, "ab", 'z');
  KEXPECT(streq(buf, "-5|7|-1234567890123|deadbeefcafe|00000abc|ab   |z|%"));
  const size_t n = kernel::ksnprintf(buf, 8, "%s", "truncated text");
  KEXPECT(streq(buf, "truncat"));
  KEXPECT(n == 7);
}

// The clock never goes backwards and runs at the calibrated rate against the TSC.
KTEST(clock_is_monotonic) {
  Instant last = pc::clock_now();
  for (int i = 0; i < 100'000; ++i) {
    const Instant now = pc::clock_now();
    KASSERT(now >= last);
    last = now;
  }
  const uint64_t t0 = x86::rdtsc();
  const Instant c0 = pc::clock_now();
  while (pc::clock_now() - c0 < Duration::microseconds(500)) {
  }
  KEXPECT(x86::rdtsc() - t0 >= pc::tsc_at(Instant::epoch() + Duration::microseconds(500)) - pc::tsc_at(Instant::epoch()));
}

// Loading an address space writes CR3 only when the space changes: a return to user mode in the
// same space keeps the TLB (with or without PCID).
KTEST(activate_loads_cr3_only_on_a_change) {
  x86::AddressSpace a, b;
  KASSERT(x86::create_space(&a) && x86::create_space(&b));
  x86::activate(a);
  const uint64_t loads = x86::pcid_stats().loads;
  x86::activate(a);
  KEXPECT(x86::pcid_stats().loads == loads);
  KEXPECT((x86::read_cr3() & x86::kPteAddress) == a.root);
  x86::activate(b);
  KEXPECT(x86::pcid_stats().loads == loads + 1);
  KEXPECT((x86::read_cr3() & x86::kPteAddress) == b.root);
  x86::activate_kernel();
  KEXPECT((x86::read_cr3() & x86::kPteAddress) == x86::kernel_root());
  x86::destroy_space(a);
  x86::destroy_space(b);
}

namespace {

// A user page of `as` at `va`, filled with `byte`; returns its frame.
uint64_t map_filled(x86::AddressSpace& as, uint64_t va, uint8_t byte) {
  const uint64_t f = x86::frames().alloc();
  if (f == 0 || !x86::map_page(as, va, f, x86::kPteWrite | x86::kPteNoExecute | x86::kPteOwned)) return 0;
  auto* p = reinterpret_cast<uint8_t*>(f);
  for (uint64_t i = 0; i < kPage; ++i) p[i] = byte;
  return f;
}

// What the loaded space shows at `va` (a read through the TLB, from the kernel: the ktest image
// leaves SMAP off).
uint8_t peek(uint64_t va) { return *reinterpret_cast<volatile const uint8_t*>(va); }

// The leaf entry of `va` in `as`, to change it behind the TLB's back.
uint64_t* leaf(const x86::AddressSpace& as, uint64_t va) {
  uint64_t* t = reinterpret_cast<uint64_t*>(as.root);
  for (int level = 3; level > 0; --level) {
    const uint64_t e = t[(va >> (12 + 9 * level)) & 511];
    if ((e & x86::kPtePresent) == 0) return nullptr;
    t = reinterpret_cast<uint64_t*>(e & x86::kPteAddress);
  }
  return &t[(va >> 12) & 511];
}

}  // namespace

// With PCID each space has its own tag and a switch keeps the others' entries; a space whose
// translations were removed while it was not loaded is flushed when it is loaded again, so it
// never sees a removed page. The test also shows whether this CPU keeps a space's entries across
// switches at all (it may drop them: the SDM allows it), which is what makes the flush necessary.
KTEST(pcid_tags_spaces_and_flushes_stale_ones) {
  if (!x86::pcid_enabled()) KSKIP("the CPU has no PCID");
  const uint64_t va = abi::kUserBase + 0x40'0000;
  x86::AddressSpace a, b;
  KASSERT(x86::create_space(&a) && x86::create_space(&b));
  KASSERT(map_filled(a, va, 0x11) != 0 && map_filled(b, va, 0x33) != 0);
  x86::activate(a);
  KEXPECT(peek(va) == 0x11);  // a's translation is in the TLB now, under a's PCID
  x86::activate(b);
  KEXPECT(a.pcid[0] != 0 && b.pcid[0] != 0 && a.pcid[0] != b.pcid[0]);
  KEXPECT((x86::read_cr3() & 0xfff) == b.pcid[0]);
  KEXPECT(peek(va) == 0x33);

  // Behind the kernel's back (no invalidation, no stale mark): a's entry now says 0x22's frame.
  const uint64_t f22 = x86::frames().alloc();
  KASSERT(f22 != 0);
  for (uint64_t i = 0; i < kPage; ++i) reinterpret_cast<uint8_t*>(f22)[i] = 0x22;
  uint64_t* e = leaf(a, va);
  KASSERT(e != nullptr);
  const uint64_t old = *e;
  *e = f22 | (old & ~x86::kPteAddress);
  const uint64_t flushes = x86::pcid_stats().flushes;
  x86::activate(a);  // no flush: nothing told the kernel
  KEXPECT(x86::pcid_stats().flushes == flushes);
  const bool kept = peek(va) == 0x11;
  kernel::kprintf("    this CPU %s a space's TLB entries across address-space switches\n", kept ? "keeps" : "drops");
  *e = old;
  x86::frames().free(f22);

  // The kernel's way: a's page is unmapped and another mapped while b is loaded; loading a
  // flushes its PCID, and a sees the new page.
  x86::activate(b);
  x86::unmap_range(a, va, kPage);
  KEXPECT((a.tlb_stale & 1) != 0);
  KASSERT(map_filled(a, va, 0x44) != 0);
  x86::activate(a);
  KEXPECT(x86::pcid_stats().flushes == flushes + 1);
  KEXPECT((a.tlb_stale & 1) == 0);
  KEXPECT(peek(va) == 0x44);
  x86::activate_kernel();
  x86::destroy_space(a);
  x86::destroy_space(b);
}

// PCIDs are 12 bits: past 4,095 spaces the oldest assignment is taken back. A space that lost its
// PCID gets a new one, flushed, when it is next loaded; a destroyed space's PCID is free again.
KTEST(pcid_assignments_wrap_around) {
  if (!x86::pcid_enabled()) KSKIP("the CPU has no PCID");
  constexpr int kSpaces = 4096;  // one more than there are user PCIDs
  static x86::AddressSpace spaces[kSpaces];
  for (x86::AddressSpace& s : spaces) {
    s = x86::AddressSpace{};
    KASSERT(x86::create_space(&s));
    x86::activate(s);
  }
  // The last assignment took back the PCID of the first space loaded in this run of 4,096.
  int holders = 0;
  for (const x86::AddressSpace& s : spaces) holders += s.pcid[0] != 0 ? 1 : 0;
  KEXPECT(holders == kSpaces - 1);
  x86::AddressSpace& lost = spaces[0];
  KEXPECT(lost.pcid[0] == 0);
  const uint64_t flushes = x86::pcid_stats().flushes;
  x86::activate(lost);
  KEXPECT(lost.pcid[0] != 0);
  KEXPECT(x86::pcid_stats().flushes == flushes + 1);
  x86::activate_kernel();
  for (x86::AddressSpace& s : spaces) x86::destroy_space(s);
}
