// edgeos: the command line.
//
// Exit codes: 0 success; 1 internal error; 2 bad usage or bad input (the message names what and
// where); 3 edgeos validate found the simulator and the kernel differ.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "cli.hpp"
#include "edgeos/hosted/error.hpp"

int main(int argc, char** argv) {
  using namespace edgeos::cli;
  CLI::App app{
      "edgeos: real-time scheduling and isolation for multi-tenant edge servers.\n"
      "Policies are validated in simulation and booted on x86-64 with the same semantics."};
  app.name("edgeos");
  app.require_subcommand(1);
  app.set_version_flag("--version", "edgeos 0.1.0");
  app.footer(
      "Exit codes: 0 success, 1 internal error, 2 bad usage or input, 3 (validate) the simulator and the kernel differ.\n"
      "Run 'edgeos SUBCOMMAND --help' for the options of a subcommand.");
  const std::vector<Action> actions = {add_sim(app), add_check(app), add_boot(app), add_validate(app), add_analyze(app),
                                      add_gen(app), add_sweep(app), add_demo(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }

  try {
    for (const Action& action : actions) {
      if (const int code = action(); code >= 0) return code;
    }
  } catch (const edgeos::InputError& e) {
    std::fprintf(stderr, "edgeos: error: %s\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeos: internal error: %s\n", e.what());
    return kExitInternal;
  }
  return kExitInternal;
}
