#include "image.hpp"

#include "../fwp/abi.hpp"
#include "console.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);
extern "C" void* memset(void*, int, edgeos::size_t);

namespace edgeos::kernel {

namespace {

template <class T>
T read(const uint8_t* p) {
  T v;
  memcpy(&v, p, sizeof v);
  return v;
}

// Copies the part of segment `s` that falls in page `page` (0-based) into the frame at `pa`; the
// rest of the page is zero.
void fill_page(const Segment& s, uint64_t page, uint64_t pa) {
  uint8_t* dst = reinterpret_cast<uint8_t*>(pa);
  // The segment's bytes [0, filesz) start at offset_in_page within page 0.
  const int64_t first = static_cast<int64_t>(page * x86::kPageSize) - static_cast<int64_t>(s.offset_in_page);
  const int64_t lo = first < 0 ? -first : 0;  // page offsets [lo, hi) hold file bytes
  int64_t hi = static_cast<int64_t>(s.filesz) - first;
  if (hi > static_cast<int64_t>(x86::kPageSize)) hi = x86::kPageSize;
  if (hi <= lo) {
    memset(dst, 0, x86::kPageSize);
    return;
  }
  if (lo > 0) memset(dst, 0, static_cast<size_t>(lo));
  memcpy(dst + lo, s.data + (first + lo), static_cast<size_t>(hi - lo));
  if (hi < static_cast<int64_t>(x86::kPageSize)) memset(dst + hi, 0, static_cast<size_t>(x86::kPageSize - hi));
}

}  // namespace

bool load_program_image(const uint8_t* elf, uint64_t size, ProgramImage* out) {
  auto bad = [](const char* why) {
    kprintf("program image: %s\n", why);
    return false;
  };
  if (size < 64 || read<uint32_t>(elf) != 0x464c457f || elf[4] != 2 || elf[5] != 1) return bad("not an ELF64 little-endian file");
  if (read<uint16_t>(elf + 18) != 62) return bad("not x86-64");
  const uint64_t phoff = read<uint64_t>(elf + 32);
  const uint16_t phentsize = read<uint16_t>(elf + 54);
  const uint16_t phnum = read<uint16_t>(elf + 56);
  if (phentsize < 56 || phoff + uint64_t{phnum} * phentsize > size) return bad("program headers out of bounds");
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint8_t* ph = elf + phoff + uint64_t{i} * phentsize;
    if (read<uint32_t>(ph) != 1) continue;  // PT_LOAD
    const uint32_t flags = read<uint32_t>(ph + 4);
    const uint64_t offset = read<uint64_t>(ph + 8);
    const uint64_t vaddr = read<uint64_t>(ph + 16);
    const uint64_t filesz = read<uint64_t>(ph + 32);
    const uint64_t memsz = read<uint64_t>(ph + 40);
    if (memsz == 0) continue;
    if (out->num_segments == ProgramImage::kMaxSegments) return bad("too many segments");
    if (offset + filesz > size || filesz > memsz) return bad("segment out of bounds");
    if (vaddr < abi::kUserBase || vaddr + memsz > abi::kUserBase + abi::kUserImageSize) return bad("segment outside the image area");
    Segment& s = out->segments[out->num_segments++];
    s.va = vaddr & ~(x86::kPageSize - 1);
    s.offset_in_page = vaddr - s.va;
    s.pages = (s.offset_in_page + memsz + x86::kPageSize - 1) / x86::kPageSize;
    s.writable = (flags & 2) != 0;
    s.executable = (flags & 1) != 0;
    if (s.writable && s.executable) return bad("a segment is both writable and executable");
    s.data = elf + offset;
    s.filesz = filesz;
    if (!s.writable) {
      if (out->num_shared + s.pages > 64) return bad("read-only segments too large");
      s.frames = out->num_shared;
      for (uint64_t p = 0; p < s.pages; ++p) {
        const uint64_t pa = x86::frames().alloc();
        if (pa == 0) return bad("out of memory");
        fill_page(s, p, pa);
        out->shared_frames[out->num_shared++] = pa;
      }
    }
  }
  // The shared code table, if the layout allows it.
  bool shareable = true;
  for (int i = 0; i < out->num_segments; ++i) {
    const Segment& s = out->segments[i];
    const bool low = s.va + s.pages * x86::kPageSize <= abi::kUserBase + x86::kLargePage;
    if (s.writable ? s.va < abi::kUserBase + x86::kLargePage : !low) shareable = false;
  }
  if (shareable) {
    const uint64_t t = x86::frames().alloc();
    if (t == 0) return bad("out of memory");
    uint64_t* entries = reinterpret_cast<uint64_t*>(t);
    for (int i = 0; i < out->num_segments; ++i) {
      const Segment& s = out->segments[i];
      if (s.writable) continue;
      for (uint64_t p = 0; p < s.pages; ++p) {
        const uint64_t index = (s.va - abi::kUserBase) / x86::kPageSize + p;
        entries[index] = out->shared_frames[s.frames + p] | x86::kPtePresent | x86::kPteUser |
                         (s.executable ? 0 : x86::kPteNoExecute);
      }
    }
    out->code_table = t;
  }
  // The entry table leads the first segment (fwp/linker.ld).
  if (out->num_segments == 0 || out->segments[0].va != abi::kUserBase || out->segments[0].filesz < 32) {
    return bad("no entry table at the start of user space");
  }
  const uint8_t* table = out->segments[0].data;
  if (read<uint64_t>(table) != 0x3150'5746'4547'4445ull) return bad("bad entry-table magic");
  out->start_entry = read<uint64_t>(table + 8);
  out->invoke_entry = read<uint64_t>(table + 16);
  return true;
}

Status map_image(const ProgramImage& img, x86::AddressSpace& as, const uint64_t* data, uint32_t data_pages) {
  uint32_t n = 0;  // writable pages so far
  if (img.code_table != 0) {
    if (Status st = x86::map_shared_table(as, abi::kUserBase, img.code_table); !st) return st;
  }
  for (int i = 0; i < img.num_segments; ++i) {
    const Segment& s = img.segments[i];
    if (!s.writable && img.code_table != 0) continue;  // in the shared table
    for (uint64_t p = 0; p < s.pages; ++p) {
      const uint64_t va = s.va + p * x86::kPageSize;
      Status st = Status::ok();
      if (s.writable) {
        const uint64_t pa = x86::frames().alloc_unzeroed();  // fill_page writes all of it
        if (pa == 0) return Error::kOutOfCapacity;
        if (n < data_pages) {
          memcpy(reinterpret_cast<void*>(pa), reinterpret_cast<const void*>(data[n]), x86::kPageSize);
        } else {
          fill_page(s, p, pa);
        }
        ++n;
        st = x86::map_page(as, va, pa, x86::kPteWrite | x86::kPteNoExecute | x86::kPteOwned);
        if (!st) x86::frames().free(pa);
      } else {
        st = x86::map_page(as, va, img.shared_frames[s.frames + p], s.executable ? 0 : x86::kPteNoExecute);
      }
      if (!st) return st;
    }
  }
  return Status::ok();
}

void reset_image(const ProgramImage& img, x86::AddressSpace& as, const uint64_t* data, uint32_t data_pages) {
  uint32_t n = 0;
  for (int i = 0; i < img.num_segments; ++i) {
    const Segment& s = img.segments[i];
    if (!s.writable) continue;
    for (uint64_t p = 0; p < s.pages; ++p, ++n) {
      const uint64_t e = x86::lookup(as, s.va + p * x86::kPageSize);
      if (e == 0) continue;
      if (n < data_pages) {
        memcpy(reinterpret_cast<void*>(e & x86::kPteAddress), reinterpret_cast<const void*>(data[n]), x86::kPageSize);
      } else {
        fill_page(s, p, e & x86::kPteAddress);
      }
    }
  }
}

}  // namespace edgeos::kernel
