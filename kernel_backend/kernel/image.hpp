// The program image FWPs are instantiated from: the user ELF (fwp/) embedded in the kernel.
// Read-only segments are copied into frames once, at boot, and shared by every FWP; writable
// segments are copied into each FWP's own frames (the template's initialised data).
#pragma once

#include "../arch/x86_64/paging.hpp"
#include "edgeos/core/base.hpp"
#include "edgeos/core/result.hpp"

namespace edgeos::kernel {

struct Segment {
  uint64_t va;      // page-aligned
  uint64_t pages;
  bool writable;
  bool executable;
  uint64_t frames;  // read-only segments: the first of `pages` shared frames (a table in kernel memory)
  const uint8_t* data;
  uint64_t filesz;
  uint64_t offset_in_page;  // of the segment's first byte
};

struct ProgramImage {
  uint64_t start_entry = 0;   // fwp_start(program, arg)
  uint64_t invoke_entry = 0;  // fwp_invoke(arg)
  static constexpr int kMaxSegments = 4;
  Segment segments[kMaxSegments];
  int num_segments = 0;
  uint64_t shared_frames[64];  // frames of the read-only segments
  uint64_t num_shared = 0;
  // A last-level page table mapping every read-only page, shared by every FWP (one entry to
  // install at creation instead of one per page), when they all lie in the image's first 2 MiB and
  // no writable page does (fwp/linker.ld puts the data 2 MiB further); 0 otherwise.
  uint64_t code_table = 0;
};

// Parses and checks the embedded ELF; false (with a console message) if it is malformed.
bool load_program_image(const uint8_t* elf, uint64_t size, ProgramImage* out);

// Maps the image into `as`: shared read-only pages, fresh copies of the writable ones.
// `data`, if given: copies of the first `data_pages` writable pages (in segment order: a template's
// checkpoint) to fill them from instead of the image.
Status map_image(const ProgramImage& img, x86::AddressSpace& as, const uint64_t* data = nullptr, uint32_t data_pages = 0);
// Restores the writable pages of an instantiated image to the template's contents.
void reset_image(const ProgramImage& img, x86::AddressSpace& as, const uint64_t* data = nullptr, uint32_t data_pages = 0);

}  // namespace edgeos::kernel
