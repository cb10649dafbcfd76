// What the libFuzzer harnesses of tests/fuzz share (README.md there): a check that aborts, the
// handling of the errors an input may legitimately cause, and a scratch file for the readers
// that take a path.
//
// Each harness defines LLVMFuzzerTestOneInput. Built with clang and -fsanitize=fuzzer it is a
// fuzzer (the `fuzz` preset); built with any compiler and replay_main.cpp it replays the committed
// corpus and crash inputs (ctest label `fuzz`).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace edgeos::fuzz {

// A promise of the code under test was broken: report it and abort, which libFuzzer records as a
// crash and the replay driver as a failed test.
[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}
#define EDGEOS_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::edgeos::fuzz::check_failed(#cond, __FILE__, __LINE__))

// libFuzzer: 0 keeps an input that found new coverage, -1 keeps it out of the corpus (inputs a
// harness skips on purpose). The replay driver ignores the value.
inline constexpr int kKeep = 0;
inline constexpr int kReject = -1;

// Known issue, fixed on another branch: std::filesystem throws for a path component longer than
// NAME_MAX (255) instead of the reader reporting an InputError. Harnesses ignore exactly that
// error so that fuzzing goes on; any other exception but InputError is a finding.
inline bool known_path_too_long(const std::filesystem::filesystem_error& e) {
  return e.code() == std::errc::filename_too_long;
}

// A file the readers under test open by path, rewritten for each input: one per process and
// extension, in a private directory under the system's temporary directory, removed at exit.
class ScratchFile {
 public:
  explicit ScratchFile(std::string_view extension) {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    std::string templ = ((ec ? std::filesystem::path("/tmp") : base) / "edgeos-fuzz-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    dir_ = templ;
    path_ = (dir_ / ("input" + std::string(extension))).string();
  }
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Replaces the file's contents; returns its path.
  const std::string& write(const uint8_t* data, size_t size) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
      std::perror("fuzz: writing the scratch file");
      std::abort();
    }
    return path_;
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace edgeos::fuzz
