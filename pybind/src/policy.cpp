#include "policy.hpp"

#include <fmt/format.h>

#include "edgeos/core/fwp.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/trace.hpp"

namespace edgeos::py_bindings {

// --- PyPolicy -------------------------------------------------------------------------------------

void PyPolicy::attach(uint32_t max_threads) {
  if (attached_) {
    throw std::invalid_argument(
        "this policy object already schedules a CPU: give simulate() a class or a factory so that each CPU gets "
        "its own instance");
  }
  queued_.assign(max_threads, 0);
  slots_.assign(max_threads, nullptr);
  size_ = 0;
  attached_ = true;
}

void PyPolicy::enqueue(Thread& t, Placement where) {
  if (t.slot_index >= queued_.size()) throw std::logic_error("policy: thread index beyond the policy's capacity");
  queued_[t.slot_index] = 1;
  slots_[t.slot_index] = &t;
  ++size_;
  py_enqueue(&t, where == Placement::kHead);
}

void PyPolicy::dequeue(Thread& t) {
  queued_[t.slot_index] = 0;
  slots_[t.slot_index] = nullptr;
  --size_;
  py_dequeue(&t);
}

Thread* PyPolicy::peek() const {
  const Thread* picked = const_cast<PyPolicy*>(this)->py_pick();
  if (picked == nullptr) {
    if (size_ != 0) {
      throw std::logic_error(fmt::format("policy '{}': pick() returned None with {} thread(s) ready", name_, size_));
    }
    return nullptr;
  }
  Thread* t = thread_at(picked->slot_index);
  if (t != picked) {
    throw std::logic_error(
        fmt::format("policy '{}': pick() returned thread {}, which is not on its ready queue", name_, picked->slot_index));
  }
  return t;
}

bool PyPolicy::preempts(const Thread& candidate, const Thread& running) const {
  return const_cast<PyPolicy*>(this)->py_preempts(&candidate, &running);
}

// --- KeyPolicy ------------------------------------------------------------------------------------

void KeyPolicy::attach(uint32_t max_threads) {
  PyPolicy::attach(max_threads);
  queue_.clear();
  where_.assign(max_threads, queue_.end());
  tail_ = 0;
  head_ = 0;
}

KeyPolicy::Key KeyPolicy::key_of(const Thread* t) {
  const py::object k = py_key(t);
  Key key{0, 0, 0};
  if (py::isinstance<py::int_>(k) && !py::isinstance<py::bool_>(k)) {
    key[0] = k.cast<int64_t>();
    return key;
  }
  if (py::isinstance<py::tuple>(k)) {
    const py::tuple tup = k.cast<py::tuple>();
    if (tup.size() >= 1 && tup.size() <= 3) {
      for (size_t i = 0; i < tup.size(); ++i) {
        if (!py::isinstance<py::int_>(tup[i])) goto bad;
        key[i] = tup[i].cast<int64_t>();
      }
      return key;
    }
  }
bad:
  throw py::type_error(fmt::format("policy '{}': key() must return an int or a tuple of 1 to 3 ints, got {}", name_,
                                   py::repr(k).cast<std::string>()));
}

void KeyPolicy::py_enqueue(const Thread* t, bool head) {
  const Entry e{key_of(t), head ? --head_ : ++tail_, t->slot_index};
  where_[t->slot_index] = queue_.insert(e).first;
}

void KeyPolicy::py_dequeue(const Thread* t) {
  queue_.erase(where_[t->slot_index]);
  where_[t->slot_index] = queue_.end();
}

const Thread* KeyPolicy::py_pick() { return queue_.empty() ? nullptr : thread_at(queue_.begin()->index); }

bool KeyPolicy::py_preempts(const Thread* candidate, const Thread* running) {
  // A queued candidate's key is the one it was queued with; the running thread's is asked anew
  // (a key may depend on how much the job has run, as least-laxity-first's does).
  const Key kc = contains(*candidate) ? where_[candidate->slot_index]->key : key_of(candidate);
  return kc < key_of(running);
}

bool KeyPolicy::check() const { return queue_.size() == size(); }

// --- trampolines ----------------------------------------------------------------------------------

class PyPolicyTrampoline : public PyPolicy {
 public:
  void py_enqueue(const Thread* t, bool head) override { PYBIND11_OVERRIDE_PURE_NAME(void, PyPolicy, "enqueue", py_enqueue, t, head); }
  void py_dequeue(const Thread* t) override { PYBIND11_OVERRIDE_PURE_NAME(void, PyPolicy, "dequeue", py_dequeue, t); }
  const Thread* py_pick() override { PYBIND11_OVERRIDE_PURE_NAME(const Thread*, PyPolicy, "pick", py_pick, ); }
  bool py_preempts(const Thread* c, const Thread* r) override {
    PYBIND11_OVERRIDE_PURE_NAME(bool, PyPolicy, "preempts", py_preempts, c, r);
  }
};

class KeyPolicyTrampoline : public KeyPolicy {
 public:
  py::object py_key(const Thread* t) override { PYBIND11_OVERRIDE_PURE_NAME(py::object, KeyPolicy, "key", py_key, t); }
  bool py_preempts(const Thread* c, const Thread* r) override {
    PYBIND11_OVERRIDE_NAME(bool, KeyPolicy, "preempts", py_preempts, c, r);
  }
};

namespace {

const char* state_name(ThreadState s) { return thread_state_name(s); }

int64_t ns_or_none(Instant i) { return i.is_never() ? -1 : i.ns(); }
int64_t ns_or_none(Duration d) { return d.is_infinite() ? -1 : d.ns(); }

}  // namespace

void bind_policies(py::module_& m) {
  // A read-only view of a kernel thread, valid only during the policy call that received it.
  py::class_<Thread>(m, "Thread",
                     "A read-only view of a kernel thread, handed to policy methods. Valid only during the call: "
                     "keep `index`, not the view. Times are integer nanoseconds; -1 means none/infinite.")
      .def_property_readonly("index", [](const Thread& t) { return t.slot_index; }, "thread index (as in the trace)")
      .def_property_readonly("cpu", [](const Thread& t) { return t.cpu; })
      .def_property_readonly("fwp", [](const Thread& t) { return t.fwp != nullptr ? t.fwp->slot_index : kNoIndex; })
      .def_property_readonly("state", [](const Thread& t) { return state_name(t.state); })
      .def_property_readonly("priority", [](const Thread& t) { return t.sc->params.priority; },
                             "fixed priority, 0..255 (larger runs first)")
      .def_property_readonly("deadline", [](const Thread& t) { return ns_or_none(t.sc->deadline); },
                             "scheduling deadline of the context (what EDF orders by)")
      .def_property_readonly("deadline_seq", [](const Thread& t) { return t.sc->deadline_seq; },
                             "sequence number given when that deadline was set (EDF's tie-break)")
      .def_property_readonly("job_deadline", [](const Thread& t) { return ns_or_none(t.deadline); })
      .def_property_readonly("release", [](const Thread& t) { return ns_or_none(t.release); })
      .def_property_readonly("job", [](const Thread& t) { return t.job(); })
      .def_property_readonly("job_exec", [](const Thread& t) { return t.job_exec.ns(); },
                             "CPU time the current job has used so far")
      .def_property_readonly("period", [](const Thread& t) { return ns_or_none(t.period); })
      .def_property_readonly("relative_deadline", [](const Thread& t) { return ns_or_none(t.relative_deadline); })
      .def_property_readonly("budget", [](const Thread& t) { return ns_or_none(t.sc->params.budget); })
      .def("__repr__", [](const Thread& t) {
        return fmt::format("<Thread {} cpu {} job {} {}>", t.slot_index, t.cpu, t.job(), state_name(t.state));
      });

  py::class_<PyPolicy, PyPolicyTrampoline>(m, "Policy",
                                           "Base of Python policies that make every decision: override enqueue, "
                                           "dequeue, pick and preempts.")
      .def(py::init<>())
      .def_readwrite("_policy_name", &PyPolicy::name_, "the name in messages (set from the class attribute `name`)")
      .def_readwrite("_orders_by_deadline", &PyPolicy::by_deadline_,
                     "True for deadline-ordered policies (needed by CBS servers)")
      .def("enqueue", &PyPolicy::py_enqueue, py::arg("thread"), py::arg("head"))
      .def("dequeue", &PyPolicy::py_dequeue, py::arg("thread"))
      .def("pick", &PyPolicy::py_pick, py::return_value_policy::reference)
      .def("preempts", &PyPolicy::py_preempts, py::arg("candidate"), py::arg("running"))
      .def_property_readonly("ready", [](const PyPolicy& p) { return p.size(); }, "number of queued threads");

  py::class_<KeyPolicy, PyPolicy, KeyPolicyTrampoline>(m, "KeyPolicy",
                                                         "Base of Python policies that order ready threads by a key: "
                                                         "override key (smaller runs first) and optionally preempts.")
      .def(py::init<>())
      .def("key", &KeyPolicy::py_key, py::arg("thread"))
      .def("preempts", &KeyPolicy::py_preempts, py::arg("candidate"), py::arg("running"));
}

}  // namespace edgeos::py_bindings
