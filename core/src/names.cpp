// Names of enumerations, for messages, traces and the CSV format.
#include "edgeos/core/fwp.hpp"
#include "edgeos/core/result.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/trace.hpp"

namespace edgeos {

const char* error_name(Error e) {
  switch (e) {
    case Error::kOk: return "ok";
    case Error::kInvalidArgument: return "invalid_argument";
    case Error::kOutOfCapacity: return "out_of_capacity";
    case Error::kNotFound: return "not_found";
    case Error::kStale: return "stale";
    case Error::kBadState: return "bad_state";
    case Error::kBusy: return "busy";
    case Error::kUnsupported: return "unsupported";
    case Error::kWouldBlock: return "would_block";
    case Error::kDenied: return "denied";
  }
  return "unknown";
}

const char* server_kind_name(ServerKind k) {
  switch (k) {
    case ServerKind::kNone: return "none";
    case ServerKind::kSporadic: return "sporadic";
    case ServerKind::kDeferrable: return "deferrable";
    case ServerKind::kPolling: return "polling";
    case ServerKind::kCbs: return "cbs";
  }
  return "unknown";
}

const char* thread_state_name(ThreadState s) {
  switch (s) {
    case ThreadState::kWaiting: return "waiting";
    case ThreadState::kReady: return "ready";
    case ThreadState::kRunning: return "running";
    case ThreadState::kBlocked: return "blocked";
    case ThreadState::kThrottled: return "throttled";
  }
  return "unknown";
}

const char* cap_kind_name(CapKind k) {
  switch (k) {
    case CapKind::kEmpty: return "empty";
    case CapKind::kInvoke: return "invoke";
    case CapKind::kNotifySend: return "notify_send";
    case CapKind::kNotifyReceive: return "notify_receive";
    case CapKind::kRingSend: return "ring_send";
    case CapKind::kRingReceive: return "ring_receive";
  }
  return "unknown";
}

const char* fwp_state_name(FwpState s) {
  switch (s) {
    case FwpState::kIdle: return "idle";
    case FwpState::kActive: return "active";
    case FwpState::kDying: return "dying";
  }
  return "unknown";
}

namespace {
constexpr const char* kEventNames[kNumTraceEvents] = {
    "release",   "start",      "resume",       "preempt",     "complete",
    "deadline_miss", "budget_exhausted", "replenish", "block", "wakeup",
    "ipc_call",  "ipc_reply",  "notify",       "fwp_create",  "fwp_destroy",
    "pkt_rx",    "pkt_tx",     "fwp_activate", "fwp_recycle", "thread_exit",
    "marker",    "pkt_drop",   "migrate",
};

bool equal(const char* a, size_t alen, const char* b) {
  size_t i = 0;
  for (; i < alen; ++i) {
    if (b[i] == '\0' || a[i] != b[i]) return false;
  }
  return b[i] == '\0';
}
}  // namespace

const char* trace_event_name(TraceEvent e) {
  const auto i = static_cast<size_t>(e);
  return i < kNumTraceEvents ? kEventNames[i] : nullptr;
}

bool trace_event_from_name(const char* name, size_t len, TraceEvent* out) {
  for (size_t i = 0; i < kNumTraceEvents; ++i) {
    if (equal(name, len, kEventNames[i])) {
      *out = static_cast<TraceEvent>(i);
      return true;
    }
  }
  return false;
}

}  // namespace edgeos
