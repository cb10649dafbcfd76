// The scheduling-policy interface. One instance per CPU (partitioned scheduling).
//
// A policy only orders the *ready* threads of its CPU; the running thread is not on the queue
// (as in seL4 and NOVA). The kernel asks `peek` for the best ready thread and `preempts` whether
// it should displace the running one, so a policy never sees time, timers or budgets directly.
// Policies are freestanding (schedulers/); a Python-defined policy implements the same interface
// through the bindings.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/thread.hpp"

namespace edgeos {

enum class Placement : uint8_t {
  kTail,  // a newly released or woken thread: behind its equals
  kHead,  // a preempted thread: ahead of its equals (POSIX SCHED_FIFO semantics)
};

class Scheduler {
 public:
  // "fp", "edf", ...
  virtual const char* name() const = 0;

  virtual void enqueue(Thread& t, Placement where) = 0;
  virtual void dequeue(Thread& t) = 0;
  // The ready thread the policy would run next, or nullptr if none is ready.
  virtual Thread* peek() const = 0;
  // True when the ready thread `candidate` must take the CPU from `running`.
  virtual bool preempts(const Thread& candidate, const Thread& running) const = 0;
  // True if the policy orders threads by their scheduling contexts' deadlines (EDF and its kin):
  // CBS needs such a policy, and a context whose deadline changes while queued is re-queued.
  virtual bool orders_by_deadline() const = 0;

  virtual size_t size() const = 0;
  virtual bool contains(const Thread& t) const = 0;
  // Checks the policy's internal invariants (queue order, bitmaps), O(n). For invariant checkers.
  virtual bool check() const = 0;

 protected:
  // Never deleted through this interface (no heap in core); a protected non-virtual destructor
  // keeps `operator delete` out of the vtable, which the freestanding kernel does not have.
  ~Scheduler() = default;
};

}  // namespace edgeos
