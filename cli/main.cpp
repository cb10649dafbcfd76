// edgeos: the command line.
//
// Exit codes: 0 success; 1 internal error; 2 bad usage or bad input (the message names what and
// where); 3 edgeos validate found the simulator and the kernel differ.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace {

char* const* g_argv = nullptr;

// The subcommand the command line reached (the deepest one selected) and its full name.
const CLI::App* reached(const CLI::App& app, std::string* name) {
  const CLI::App* cur = &app;
  *name = app.get_name();
  for (;;) {
    const std::vector<CLI::App*> subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
    *name += " " + cur->get_name();
  }
}

// Clearer words than CLI11's for two common mistakes; empty for the others.
std::string explain(const CLI::App& app, const CLI::ParseError& e) {
  std::string name;
  const CLI::App* cur = reached(app, &name);
  const std::string what = e.what();
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && what.find("subcommand") != std::string::npos) {
    // "A subcommand is required": none given, or a word that is none of them.
    std::vector<std::string> names;
    std::vector<std::string_view> candidates;
    for (const CLI::App* sub : cur->get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    for (const std::string& n : names) candidates.push_back(n);
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    for (const std::string& word : cur->remaining()) {
      if (word.empty() || word[0] == '-') continue;
      // "simulate" -> "sim", "valid" -> "validate"; else the nearest by spelling, for words
      // long enough that a guess means something.
      std::string hint;
      for (const std::string& n : names) {
        if (hint.empty() && (word.rfind(n, 0) == 0 || n.rfind(word, 0) == 0)) hint = n;
      }
      if (hint.empty() && word.size() > 3) hint = edgeos::scenario::nearest(word, candidates);
      return fmt::format("{}: unknown subcommand '{}'{}; the subcommands are: {}", name, word,
                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), list);
    }
    return fmt::format("{}: a subcommand is required, one of: {}", name, list);
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    // "--seed: 1 required TEXT missing": the option was given without its value.
    const size_t colon = what.find(": ");
    if (colon != std::string::npos && what.find(" required ", colon) != std::string::npos &&
        what.size() > 8 && what.compare(what.size() - 8, 8, " missing") == 0) {
      const std::string option = what.substr(0, colon);
      const CLI::Option* o = nullptr;
      for (const CLI::App* a = cur; a != nullptr && o == nullptr; a = a->get_parent()) o = a->get_option_no_throw(option);
      std::string description = o != nullptr ? o->get_description() : "";
      description = description.substr(0, description.find('\n'));
      return fmt::format("{}: option {} needs a value, none was given.{}", name, option,
                         description.empty() ? "" : fmt::format(" {}: {}", option, description));
    }
  }
  return "";
}

}  // namespace

char* const* edgeos::cli::command_line() { return g_argv; }

int main(int argc, char** argv) {
  using namespace edgeos::cli;
  g_argv = argv;
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
                                      add_gen(app), add_sweep(app), add_demo(app), add_replay(app), add_batch(app)};

  install_signal_handlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (const std::string better = explain(app, e); !better.empty()) {
      std::fprintf(stderr, "%s\nRun with --help for more information.\n", better.c_str());
      return kExitBadInput;
    }
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
