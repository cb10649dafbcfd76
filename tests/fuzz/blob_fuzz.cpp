// libFuzzer entry point: a compiled scenario as the x86-64 kernel reads its boot module, any bytes
// at all. ScenarioBlob::open and instantiate() are the kernel's freestanding code, compiled here
// for the host (blob_kernel.hpp runs them as start.cpp's start() does).
//
// Each input is used twice: as it is, and "repaired" (magic, version, header size, total size and
// checksum made right), so that mutations reach the checks behind the checksum instead of
// stopping at it, as a corrupted-but-resealed module would.
//
// Findings: a sanitizer report, a kernel panic, or a reference in a blob open() accepted that
// does not resolve.
#include <cstddef>
#include <cstring>
#include <memory>

#include "blob_kernel.hpp"
#include "edgeos/workloads/scenario_blob.hpp"
#include "fuzz.hpp"

namespace edgeos::fuzz {
namespace {

void reseal(uint8_t* p, size_t size) {
  if (size < blob::kHeaderSize || size > UINT32_MAX) return;
  blob::wire::Header h = blob::load<blob::wire::Header>(p);
  std::memcpy(h.magic, blob::kMagic, sizeof h.magic);
  h.version = blob::kVersion;
  h.header_size = blob::kHeaderSize;
  h.total_size = static_cast<uint32_t>(size);
  blob::store(p, h);
  blob::store(p + offsetof(blob::wire::Header, checksum), blob::checksum(p + blob::kChecksummedFrom, size - blob::kChecksummedFrom));
}

void run_one(const uint8_t* data, size_t size, bool resealed) {
  // An exactly-sized copy, so that AddressSanitizer sees any read past the blob.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size == 0 ? 1 : size]);
  if (size > 0) std::memcpy(copy.get(), data, size);
  if (resealed) reseal(copy.get(), size);
  blob::BlobError e = blob::BlobError::kOk;
  const blob::ScenarioBlob b = blob::ScenarioBlob::open(Span<const uint8_t>(copy.get(), size), &e);
  EDGEOS_FUZZ_CHECK(b.valid() == (e == blob::BlobError::kOk));
  EDGEOS_FUZZ_CHECK(blob::blob_error_name(e) != nullptr);
  if (!b.valid()) return;
  EDGEOS_FUZZ_CHECK(b.duration() > Duration::zero() && b.total_cpus() > 0);
  (void)instantiate_and_run(b);
}

}  // namespace
}  // namespace edgeos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgeos::fuzz::run_one(data, size, false);
  edgeos::fuzz::run_one(data, size, true);
  return edgeos::fuzz::kKeep;
}
