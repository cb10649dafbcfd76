// Commands whose work is spread over a Dask cluster run in the edgeos Python package, which has
// the Dask client: `edgeos sweep --dask SPEC` and `edgeos batch` replace this process by
// `python3 -m edgeos sweep|batch ...` (pybind/edgeos/cli.py) with the same options: same process
// id, standard streams and exit codes. The interpreter is EDGEOS_PYTHON (default: the one the
// package was built for); the package is found beside this executable in the build tree
// (build/cli/edgeos -> build/pybind), else through PYTHONPATH as it is.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "cli.hpp"

#ifndef EDGEOS_PYTHON_DEFAULT
#define EDGEOS_PYTHON_DEFAULT "/usr/bin/python3"
#endif

namespace edgeos::cli {

[[noreturn]] void exec_python_module(const std::vector<std::string>& args) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path package = self.parent_path() / ".." / "pybind";
    if (std::filesystem::exists(package / "edgeos" / "__init__.py", ec)) {
      const std::string dir = std::filesystem::weakly_canonical(package, ec).string();
      const char* old = std::getenv("PYTHONPATH");
      const std::string path = old != nullptr && *old != '\0' ? dir + ":" + old : dir;
      ::setenv("PYTHONPATH", path.c_str(), 1);
    }
    ::setenv("EDGEOS_CLI", self.c_str(), 0);
  }
  const char* env = std::getenv("EDGEOS_PYTHON");
  const std::string python = env != nullptr && *env != '\0' ? env : EDGEOS_PYTHON_DEFAULT;
  std::vector<std::string> full = {python, "-m", "edgeos"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(python.c_str(), argv.data());
  throw std::runtime_error("this command runs in the edgeos Python package, but " + python + " could not be started (" +
                           std::strerror(errno) + "): set EDGEOS_PYTHON to a Python 3 that has pandas and dask");
}

Action add_batch(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "batch",
      "Simulate scenario files (or every *.toml of folders) with each seed, one task per scenario and seed,\n"
      "here or on a Dask cluster (--dask local[:N] | tcp://HOST:PORT). Runs `python3 -m edgeos batch`;\n"
      "`edgeos batch --help` lists its options.");
  cmd->prefix_command();
  cmd->set_help_flag();  // --help is the Python command's
  return [cmd]() -> int {
    if (!cmd->parsed()) return -1;
    std::vector<std::string> args = {"batch"};
    for (const std::string& a : cmd->remaining()) args.push_back(a);
    exec_python_module(args);
  };
}

}  // namespace edgeos::cli
