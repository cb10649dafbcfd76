#include "edgeos/hosted/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

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
}  // namespace

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
  if (::fchmod(fd, new_file_mode()) != 0) {
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    throw InputError(describe_errno("cannot set the permissions of", tmp_path_));
  }
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    throw InputError(describe_errno("cannot open", tmp_path_));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) {
    std::fclose(file_);
    ::unlink(tmp_path_.c_str());
  }
}

void AtomicFile::write(std::string_view data) {
  if (file_ == nullptr) throw InputError("write to '" + path_ + "' after commit");
  if (!data.empty() && std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    throw InputError(describe_errno("cannot write", path_));
  }
}

void AtomicFile::commit() {
  if (file_ == nullptr) return;
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    ::unlink(tmp_path_.c_str());
    throw InputError(describe_errno("cannot write", path_));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp_path_.c_str());
    throw InputError(describe_errno("cannot rename the temporary file to", path_));
  }
}

void write_file_atomically(const std::string& path, std::string_view data) {
  AtomicFile f(path);
  f.write(data);
  f.commit();
}

}  // namespace edgeos
