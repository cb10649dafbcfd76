#include <signal.h>

#include <atomic>
#include <cerrno>

#include "cli.hpp"
#include "edgeos/hosted/atomic_file.hpp"

namespace edgeos::cli {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};
std::atomic<bool> g_graceful{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int sig) {
  const int saved = errno;
  if (g_graceful.load() && g_signal.load() == 0) {
    // The first during a run that stops on request: ask it to.
    g_signal.store(sig);
    g_stop.store(true);
    errno = saved;
    return;
  }
  // End the process as the signal would, but first remove the temporary files of the outputs
  // being written (their targets keep their old contents). The signal is blocked while its
  // handler runs, so the one raised here ends the process as soon as the handler returns.
  remove_temporary_files();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  raise(sig);
  errno = saved;
}

}  // namespace

void install_signal_handlers() {
  for (const int sig : kSignals) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_IGN) continue;  // e.g. SIGINT of a background job, SIGHUP under nohup
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (const int other : kSignals) sigaddset(&sa.sa_mask, other);
    sa.sa_flags = SA_RESTART;  // writes in progress go on rather than fail with EINTR
    sigaction(sig, &sa, nullptr);
  }
}

StopOnSignal::StopOnSignal() {
  g_signal.store(0);
  g_stop.store(false);
  g_graceful.store(true);
  install_signal_handlers();
}

StopOnSignal::~StopOnSignal() { g_graceful.store(false); }

const std::atomic<bool>* StopOnSignal::flag() const { return &g_stop; }
void StopOnSignal::request_stop() { g_stop.store(true); }
int StopOnSignal::signal() const { return g_signal.load(); }

SignalsHeld::SignalsHeld() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : kSignals) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, &old_);
}

SignalsHeld::~SignalsHeld() { sigprocmask(SIG_SETMASK, &old_, nullptr); }

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

}  // namespace edgeos::cli
