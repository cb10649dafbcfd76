// The binary trace's wire format, defined once: the kernel writes it (kernel_backend/kernel/
// trace_out.cpp) and `edgeos boot` reads it back (kernel_backend/harness/src/boot.cpp). Fixed
// 40-byte little-endian records after a 32-byte header:
//
//   header:  "EDGEOSTR" | u32 version (1) | u32 record size (40) | u64 TSC Hz | u64 reserved
//   record:  i64 time_ns | u16 cpu | u8 event | u8 reserved | u32 fwp | u32 thread | u32 reserved
//            | u64 job | i64 value
//
// Freestanding (the kernel includes it): no allocation, no exceptions.
#pragma once

#include "edgeos/core/trace.hpp"

namespace edgeos::trace_wire {

inline constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'O', 'S', 'T', 'R'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint32_t kHeaderSize = 32;
inline constexpr uint32_t kRecordSize = 40;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the wire format is little-endian, as x86-64 is");

namespace detail {
inline void put(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t get(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
}  // namespace detail

inline void encode_header(uint64_t tsc_hz, uint8_t out[kHeaderSize]) {
  for (uint32_t i = 0; i < kHeaderSize; ++i) out[i] = 0;
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(kMagic[i]);
  detail::put(out + 8, kVersion, 4);
  detail::put(out + 12, kRecordSize, 4);
  detail::put(out + 16, tsc_hz, 8);
}

enum class HeaderCheck : uint8_t { kOk, kNotATrace, kUnsupported };

inline HeaderCheck check_header(const uint8_t* h, size_t len) {
  if (len < kHeaderSize) return HeaderCheck::kNotATrace;
  for (int i = 0; i < 8; ++i) {
    if (h[i] != static_cast<uint8_t>(kMagic[i])) return HeaderCheck::kNotATrace;
  }
  if (detail::get(h + 8, 4) != kVersion || detail::get(h + 12, 4) != kRecordSize) return HeaderCheck::kUnsupported;
  return HeaderCheck::kOk;
}

// The record as five little-endian words, stored whole (this runs at every kernel event: a byte
// at a time cost a call + reply 450 guest instructions).
inline void encode(const TraceRecord& r, uint8_t out[kRecordSize]) {
  const uint64_t words[5] = {
      static_cast<uint64_t>(r.time_ns),
      uint64_t{r.cpu} | uint64_t{static_cast<uint8_t>(r.event)} << 16 | uint64_t{r.fwp} << 32,
      uint64_t{r.thread},  // then 4 reserved bytes, 0
      r.job,
      static_cast<uint64_t>(r.value),
  };
  __builtin_memcpy(out, words, sizeof words);
}

// False (and `out` untouched) for an event this build does not know.
inline bool decode(const uint8_t in[kRecordSize], TraceRecord& out) {
  const uint8_t event = in[10];
  if (event >= kNumTraceEvents) return false;
  out.time_ns = static_cast<int64_t>(detail::get(in, 8));
  out.cpu = static_cast<uint16_t>(detail::get(in + 8, 2));
  out.event = static_cast<TraceEvent>(event);
  out.fwp = static_cast<uint32_t>(detail::get(in + 12, 4));
  out.thread = static_cast<uint32_t>(detail::get(in + 16, 4));
  out.job = detail::get(in + 24, 8);
  out.value = static_cast<int64_t>(detail::get(in + 32, 8));
  return true;
}

}  // namespace edgeos::trace_wire
