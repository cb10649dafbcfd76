#include "policy.hpp"

#include <fmt/format.h>

#include "edgeos/core/fwp.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/trace.hpp"

namespace edgeos::py_bindings {

const Thread& ThreadView::get() const {
  if (thread == nullptr) {
    throw std::runtime_error(
        "this Thread view outlived the policy call's run that made it (keep thread.index, not the view)");
  }
  return *thread;
}

// --- PyPolicy -------------------------------------------------------------------------------------

void PyPolicy::attach(uint32_t max_threads, py::handle self) {
  if (attached_) {
    throw std::invalid_argument(
        "this policy object already schedules a CPU: give simulate() a class or a factory so that each CPU gets "
        "its own instance");
  }
  queued_.assign(max_threads, 0);
  slots_.assign(max_threads, nullptr);
  size_ = 0;
  views_.assign(max_threads, py::object());
  view_ptrs_.assign(max_threads, nullptr);
  // A method counts where a Python class defines it (not the C++ default bound here).
  auto python_method = [&](const char* name) -> py::object {
    const py::object attr = py::getattr(self, name, py::none());
    if (attr.is_none()) return py::object();
    const py::function f = py::reinterpret_borrow<py::function>(attr);
    return f.is_cpp_function() ? py::object() : attr;
  };
  enqueue_fn_ = python_method("enqueue");
  dequeue_fn_ = python_method("dequeue");
  pick_fn_ = python_method("pick");
  preempts_fn_ = python_method("preempts");
  key_fn_ = python_method("key");
  attached_ = true;
}

void PyPolicy::detach() {
  attached_ = false;
  for (ThreadView* v : view_ptrs_) {
    if (v != nullptr) v->thread = nullptr;  // views Python kept now raise instead of dangling
  }
  view_ptrs_.clear();
  views_.clear();
  enqueue_fn_ = dequeue_fn_ = pick_fn_ = preempts_fn_ = key_fn_ = py::object();
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

void KeyPolicy::attach(uint32_t max_threads, py::handle self) {
  PyPolicy::attach(max_threads, self);
  queue_.clear();
  where_.assign(max_threads, queue_.end());
  tail_ = 0;
  head_ = 0;
}

KeyPolicy::Key KeyPolicy::key_of(const Thread* t) {
  const py::object k = key_fn_ ? key_fn_(view(t)) : py_key(t);
  Key key{0, 0, 0};
  // The C API directly: this runs once or twice per scheduling decision.
  PyObject* o = k.ptr();
  auto as_int = [](PyObject* v, int64_t* out) {
    if (!PyLong_Check(v) || PyBool_Check(v)) return false;
    int overflow = 0;
    *out = PyLong_AsLongLongAndOverflow(v, &overflow);
    return overflow == 0;
  };
  if (as_int(o, &key[0])) return key;
  if (PyTuple_Check(o)) {
    const Py_ssize_t n = PyTuple_GET_SIZE(o);
    bool ok = n >= 1 && n <= 3;
    for (Py_ssize_t i = 0; ok && i < n; ++i) ok = as_int(PyTuple_GET_ITEM(o, i), &key[static_cast<size_t>(i)]);
    if (ok) return key;
  }
  throw py::type_error(fmt::format("policy '{}': key() must return an int or a tuple of 1 to 3 ints (64-bit), got {}",
                                   name_, py::repr(k).cast<std::string>()));
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

// During a run the methods attach found are called directly; outside one (a method called from
// Python, or a method missing) the usual pybind11 lookup applies and reports what is missing.
class PyPolicyTrampoline : public PyPolicy {
 public:
  // What pick() returned: a view (or None).
  static const Thread* picked(const py::object& o) {
    if (o.is_none()) return nullptr;
    if (!py::isinstance<ThreadView>(o)) {
      throw py::type_error(fmt::format("pick() must return one of the threads it was given (an edgeos thread view) or "
                                       "None, got {}", py::repr(o).cast<std::string>()));
    }
    return &o.cast<const ThreadView&>().get();
  }
  void py_enqueue(const Thread* t, bool head) override {
    if (enqueue_fn_) {
      enqueue_fn_(view(t), head);
      return;
    }
    PYBIND11_OVERRIDE_PURE_NAME(void, PyPolicy, "enqueue", py_enqueue, view(t), head);
  }
  void py_dequeue(const Thread* t) override {
    if (dequeue_fn_) {
      dequeue_fn_(view(t));
      return;
    }
    PYBIND11_OVERRIDE_PURE_NAME(void, PyPolicy, "dequeue", py_dequeue, view(t));
  }
  const Thread* py_pick() override {
    if (pick_fn_) return picked(pick_fn_());
    PYBIND11_OVERRIDE_PURE_NAME(const Thread*, PyPolicy, "pick", py_pick, );
  }
  bool py_preempts(const Thread* c, const Thread* r) override {
    if (preempts_fn_) return preempts_fn_(view(c), view(r)).cast<bool>();
    PYBIND11_OVERRIDE_PURE_NAME(bool, PyPolicy, "preempts", py_preempts, view(c), view(r));
  }
};

class KeyPolicyTrampoline : public KeyPolicy {
 public:
  py::object py_key(const Thread* t) override {
    PYBIND11_OVERRIDE_PURE_NAME(py::object, KeyPolicy, "key", py_key, view(t));
  }
  bool py_preempts(const Thread* c, const Thread* r) override {
    if (preempts_fn_) return preempts_fn_(view(c), view(r)).cast<bool>();
    return KeyPolicy::py_preempts(c, r);
  }
};

namespace {

const char* state_name(ThreadState s) { return thread_state_name(s); }

int64_t ns_or_none(Instant i) { return i.is_never() ? -1 : i.ns(); }
int64_t ns_or_none(Duration d) { return d.is_infinite() ? -1 : d.ns(); }

[[noreturn]] void abstract(const PyPolicy& p, const char* method) {
  throw py::type_error(fmt::format("policy '{}' must define {}()", p.name_, method));
}

}  // namespace

void bind_policies(py::module_& m) {
  // A read-only view of a kernel thread, valid only during the policy call that received it.
  py::class_<ThreadView>(m, "Thread",
                     "A read-only view of a kernel thread, handed to policy methods. Valid only during the call: "
                     "keep `index`, not the view. Times are integer nanoseconds; -1 means none/infinite.")
      .def_property_readonly("index", [](const ThreadView& v) { const Thread& t = v.get(); return t.slot_index; }, "thread index (as in the trace)")
      .def_property_readonly("cpu", [](const ThreadView& v) { const Thread& t = v.get(); return t.cpu; })
      .def_property_readonly("fwp", [](const ThreadView& v) { const Thread& t = v.get(); return t.fwp != nullptr ? t.fwp->slot_index : kNoIndex; })
      .def_property_readonly("state", [](const ThreadView& v) { const Thread& t = v.get(); return state_name(t.state); })
      .def_property_readonly("priority", [](const ThreadView& v) { const Thread& t = v.get(); return t.sc->params.priority; },
                             "fixed priority, 0..255 (larger runs first)")
      .def_property_readonly("deadline", [](const ThreadView& v) { const Thread& t = v.get(); return ns_or_none(t.sc->deadline); },
                             "scheduling deadline of the context (what EDF orders by)")
      .def_property_readonly("deadline_seq", [](const ThreadView& v) { const Thread& t = v.get(); return t.sc->deadline_seq; },
                             "sequence number given when that deadline was set (EDF's tie-break)")
      .def_property_readonly("job_deadline", [](const ThreadView& v) { const Thread& t = v.get(); return ns_or_none(t.deadline); })
      .def_property_readonly("release", [](const ThreadView& v) { const Thread& t = v.get(); return ns_or_none(t.release); })
      .def_property_readonly("job", [](const ThreadView& v) { const Thread& t = v.get(); return t.job(); })
      .def_property_readonly("job_exec", [](const ThreadView& v) { const Thread& t = v.get(); return t.job_exec.ns(); },
                             "CPU time the current job has used so far")
      .def_property_readonly("period", [](const ThreadView& v) { const Thread& t = v.get(); return ns_or_none(t.period); })
      .def_property_readonly("relative_deadline", [](const ThreadView& v) { const Thread& t = v.get(); return ns_or_none(t.relative_deadline); })
      .def_property_readonly("budget", [](const ThreadView& v) { const Thread& t = v.get(); return ns_or_none(t.sc->params.budget); })
      .def("__repr__", [](const ThreadView& v) {
        if (v.thread == nullptr) return std::string("<Thread (run ended)>");
        const Thread& t = *v.thread;
        return fmt::format("<Thread {} cpu {} job {} {}>", t.slot_index, t.cpu, t.job(), state_name(t.state));
      });

  py::class_<PyPolicy, PyPolicyTrampoline>(m, "Policy",
                                           "Base of Python policies that make every decision: override enqueue, "
                                           "dequeue, pick and preempts.")
      .def(py::init<>())
      .def_readwrite("_policy_name", &PyPolicy::name_, "the name in messages (set from the class attribute `name`)")
      .def_readwrite("_orders_by_deadline", &PyPolicy::by_deadline_,
                     "True for deadline-ordered policies (needed by CBS servers)")
      // The abstract methods: a class must define them (these say so, e.g. to a super() call).
      .def("enqueue", [](PyPolicy& p, const ThreadView&, bool) { abstract(p, "enqueue"); }, py::arg("thread"),
           py::arg("head"))
      .def("dequeue", [](PyPolicy& p, const ThreadView&) { abstract(p, "dequeue"); }, py::arg("thread"))
      .def("pick", [](PyPolicy& p) { abstract(p, "pick"); })
      .def("preempts", [](PyPolicy& p, const ThreadView&, const ThreadView&) { abstract(p, "preempts"); },
           py::arg("candidate"), py::arg("running"))
      .def_property_readonly("ready", [](const PyPolicy& p) { return p.size(); }, "number of queued threads");

  py::class_<KeyPolicy, PyPolicy, KeyPolicyTrampoline>(m, "KeyPolicy",
                                                         "Base of Python policies that order ready threads by a key: "
                                                         "override key (smaller runs first) and optionally preempts.")
      .def(py::init<>())
      .def("key", [](KeyPolicy& p, const ThreadView&) { abstract(p, "key"); }, py::arg("thread"))
      // The base rule, called non-virtually: super().preempts(...) from an override must not
      // dispatch back to that override.
      .def(
          "preempts",
          [](KeyPolicy& p, const ThreadView& c, const ThreadView& r) { return p.KeyPolicy::py_preempts(&c.get(), &r.get()); },
          py::arg("candidate"), py::arg("running"));
}

}  // namespace edgeos::py_bindings
