// Output files appear whole or not at all: data goes to a temporary file in the same directory,
// which is renamed over the target on commit() and removed if the writer fails or is destroyed
// first. A crashed or interrupted run never leaves a half-written trace behind.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace edgeos {

class AtomicFile {
 public:
  // Creates the parent directories if needed. Throws InputError naming the path on failure.
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  void write(std::string_view data);
  // Flushes, syncs and renames the temporary file over the target.
  void commit();

  const std::string& path() const { return path_; }
  // Bytes written so far.
  uint64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  uint64_t bytes_ = 0;
  int slot_ = -1;  // in the registry of live temporary files (remove_temporary_files)
};

// Removes the temporary file of every AtomicFile neither committed nor destroyed yet. Only calls
// unlink(), so a signal handler about to end the process may call it: a run killed by a signal
// leaves no *.tmp.* file behind (the targets, renamed only on commit, keep their old contents).
void remove_temporary_files() noexcept;

// Writes `data` to `path` atomically.
void write_file_atomically(const std::string& path, std::string_view data);

}  // namespace edgeos
