// Scheduling policies written in Python, behind the core's Scheduler interface
// (core/include/edgeos/core/scheduler.hpp).
//
// The kernel only ever asks a policy to keep its CPU's ready threads ordered: enqueue, dequeue,
// peek at the best one, and say whether it preempts the running one. Two bases are offered:
//
//   PyPolicy   every decision is a Python method (enqueue, dequeue, pick, preempts): full control,
//              one Python call per kernel request.
//   KeyPolicy  Python gives each thread a sort key (an int or a tuple of up to three ints, smaller
//              runs first) and the queue lives here in C++: one Python call per enqueue and one
//              per preemption check. EDF is key = (deadline, deadline_seq, index); fixed priority
//              is key = -priority, whose ties this queue breaks FIFO (a preempted thread goes
//              ahead of its equals), as FixedPriorityScheduler does.
//
// Both keep their own record of which threads are queued, so `contains`, `size` and `check` never
// call Python, and a `pick` that names a thread which is not queued raises a Python error instead
// of corrupting the kernel.
#pragma once

#include <pybind11/pybind11.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "edgeos/core/scheduler.hpp"

namespace edgeos::py_bindings {

namespace py = pybind11;

// What Python holds for a kernel thread: a pointer that the policy clears when its run ends, so
// that a view kept past the run raises an error instead of reading freed memory.
struct ThreadView {
  const Thread* thread = nullptr;
  // The thread; std::runtime_error once the run that made the view has ended.
  const Thread& get() const;
};

class PyPolicy : public Scheduler {
 public:
  PyPolicy() = default;
  virtual ~PyPolicy() = default;
  PyPolicy(const PyPolicy&) = delete;
  PyPolicy& operator=(const PyPolicy&) = delete;

  // What Python overrides.
  virtual void py_enqueue(const Thread* t, bool head) = 0;
  virtual void py_dequeue(const Thread* t) = 0;
  virtual const Thread* py_pick() = 0;
  virtual bool py_preempts(const Thread* candidate, const Thread* running) = 0;

  // Scheduler.
  const char* name() const override { return name_.c_str(); }
  void enqueue(Thread& t, Placement where) final;
  void dequeue(Thread& t) final;
  Thread* peek() const final;
  bool preempts(const Thread& candidate, const Thread& running) const final;
  bool orders_by_deadline() const override { return by_deadline_; }
  size_t size() const final { return size_; }
  bool contains(const Thread& t) const final {
    return t.slot_index < queued_.size() && queued_[t.slot_index] != 0;
  }
  bool check() const override { return true; }

  // Called by the simulation before a run: forgets any queue left from an earlier run and looks
  // up the Python methods once (`self` is this object's Python wrapper), so that a decision costs
  // a call, not an attribute search. A policy serves one CPU of one run at a time; `attach`
  // refuses a second CPU. `detach` drops the references again (no cycle outlives the run).
  virtual void attach(uint32_t max_threads, py::handle self);
  void detach();
  bool attached() const { return attached_; }

  std::string name_ = "python";
  bool by_deadline_ = false;

 protected:
  Thread* thread_at(uint32_t index) const { return index < slots_.size() ? slots_[index] : nullptr; }
  // The Python view of a thread: one per thread for the run, made on first use.
  py::handle view(const Thread* t) {
    py::object& v = views_[t->slot_index];
    if (!v) {
      v = py::cast(ThreadView{t});
      view_ptrs_[t->slot_index] = v.cast<ThreadView*>();
    }
    return v;
  }

  // The Python overrides found by attach (null where Python does not override the method).
  py::object enqueue_fn_, dequeue_fn_, pick_fn_, preempts_fn_, key_fn_;

 private:
  std::vector<uint8_t> queued_;
  std::vector<Thread*> slots_;  // queued thread by index, to turn a picked view back into a Thread
  std::vector<py::object> views_;
  std::vector<ThreadView*> view_ptrs_;  // into views_' objects, to clear them when the run ends
  size_t size_ = 0;
  bool attached_ = false;
};

class KeyPolicy : public PyPolicy {
 public:
  using Key = std::array<int64_t, 3>;

  // What Python overrides: the key (required) and, optionally, preempts.
  virtual py::object py_key(const Thread* t) = 0;

  void py_enqueue(const Thread* t, bool head) final;
  void py_dequeue(const Thread* t) final;
  const Thread* py_pick() final;
  // Default: the candidate's key is strictly smaller than the running thread's.
  bool py_preempts(const Thread* candidate, const Thread* running) override;
  bool check() const override;
  void attach(uint32_t max_threads, py::handle self) override;

  // The key of `t` as Python gives it, converted (TypeError for anything but an int or a tuple of
  // one to three ints).
  Key key_of(const Thread* t);

 private:
  struct Entry {
    Key key;
    int64_t fifo;  // placement among equal keys: increasing at the tail, decreasing at the head
    uint32_t index;
    bool operator<(const Entry& o) const {
      if (key != o.key) return key < o.key;
      if (fifo != o.fifo) return fifo < o.fifo;
      return index < o.index;
    }
  };
  std::set<Entry> queue_;
  std::vector<std::set<Entry>::iterator> where_;  // by thread index
  int64_t tail_ = 0;
  int64_t head_ = 0;
};

void bind_policies(py::module_& m);

}  // namespace edgeos::py_bindings
