#include "edgeos/hosted/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "edgeos/hosted/error.hpp"

namespace edgeos {

namespace {
std::string describe_errno(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

// mkstemp creates files readable by their owner only; an output file gets the permissions any
// new file would (0666 less the umask). The umask can only be read by setting it, once.
mode_t new_file_mode() {
  static const mode_t mode = [] {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return static_cast<mode_t>(0666 & ~mask);
  }();
  return mode;
}
// The live temporary files, for remove_temporary_files() in a signal handler: lock-free slots
// holding the path of each (owned by its AtomicFile, unchanged while registered). Beyond
// kSlots open at once, the rest are not registered (a signal would leave them behind).
constexpr int kSlots = 64;
std::atomic<const char*> g_temporaries[kSlots];
static_assert(std::atomic<const char*>::is_always_lock_free);

int register_temporary(const char* path) {
  for (int i = 0; i < kSlots; ++i) {
    const char* expected = nullptr;
    if (g_temporaries[i].compare_exchange_strong(expected, path)) return i;
  }
  return -1;
}

// After the file is renamed or removed: a signal in between unlinks a name already gone.
void unregister_temporary(int slot) {
  if (slot >= 0) g_temporaries[slot].store(nullptr);
}
}  // namespace

void remove_temporary_files() noexcept {
  for (std::atomic<const char*>& slot : g_temporaries) {
    if (const char* path = slot.load(); path != nullptr) ::unlink(path);
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  if (target.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) {
      throw InputError("cannot create directory '" + target.parent_path().string() + "': " + ec.message());
    }
  }
  std::string pattern = path_ + ".tmp.XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw InputError(describe_errno("cannot create a temporary file for", path_));
  tmp_path_ = pattern;
  slot_ = register_temporary(tmp_path_.c_str());
  if (::fchmod(fd, new_file_mode()) != 0) {
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    unregister_temporary(slot_);
    throw InputError(describe_errno("cannot set the permissions of", tmp_path_));
  }
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    unregister_temporary(slot_);
    throw InputError(describe_errno("cannot open", tmp_path_));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    ::unlink(tmp_path_.c_str());
  }
  unregister_temporary(slot_);
}

void AtomicFile::write(std::string_view data) {
  if (file_ == nullptr) throw InputError("write to '" + path_ + "' after commit");
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    throw InputError(describe_errno("cannot write", path_));
  }
  bytes_ += data.size();
}

void AtomicFile::commit() {
  if (file_ == nullptr) return;
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    ::unlink(tmp_path_.c_str());
    unregister_temporary(std::exchange(slot_, -1));
    throw InputError(describe_errno("cannot write", path_));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp_path_.c_str());
    unregister_temporary(std::exchange(slot_, -1));
    throw InputError(describe_errno("cannot rename the temporary file to", path_));
  }
  unregister_temporary(std::exchange(slot_, -1));
}

void write_file_atomically(const std::string& path, std::string_view data) {
  AtomicFile f(path);
  f.write(data);
  f.commit();
}

}  // namespace edgeos
