// edgeos sim --backend simgrid, in `edgeos`: SimGrid (with Boost and its other libraries, some 30
// shared objects) would cost every command ~15 ms of dynamic loading, so only edgeos-simgrid, built
// beside edgeos from the same sources, links it. This replaces the process by edgeos-simgrid with
// the same arguments: same process id (signals sent to it reach the run), same standard streams,
// same outputs and exit code. Nothing has been written yet when it is called.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "cli.hpp"
#include "sim_cmd.hpp"

namespace edgeos::cli {

int run_simgrid(const SimOptions&) {
  // Beside this executable (symbolic links resolved), whatever directory it was started from.
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("--backend simgrid: cannot find this executable (/proc/self/exe): " + ec.message());
  const std::string helper = (self.parent_path() / "edgeos-simgrid").string();
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(helper.c_str(), command_line());
  throw std::runtime_error("--backend simgrid runs " + helper + ", which could not be started: " + std::strerror(errno));
}

}  // namespace edgeos::cli
