// Featherweight Processes (FWPs): isolated protection domains created from a template.
//
// Following EdgeOS (Ren et al., arXiv 1901.01222), an FWP is instantiated from a *template*, a
// checkpoint of a process taken after its initialisation: code is shared read-only, data and heap
// are copied, and the FWP gets its own address space and capability table. The address-space work
// is the platform's (`Platform::fwp_instantiate`); core keeps the life cycle, which is O(1) in the
// number of live FWPs at every step:
//
//        fwp_create              fwp_activate             fwp_terminate
//   Free ----------> Idle -----------------------> Active --------------> Dying
//     ^               ^  \___ fwp_spawn: take one from the template's       |
//     |               |        pool (or create) and activate                | references
//     |               +---------- recycle: reset data from the template <---+ drop to 0
//     +-------------------------- or release when the pool is full ---------+
//
// A recycled FWP gets a new generation, so ids of the terminated tenant become stale; an FWP's
// slot is never reused while anything still references it (threads, retained handles).
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/ipc.hpp"
#include "edgeos/core/list.hpp"
#include "edgeos/core/object_table.hpp"
#include "edgeos/core/thread.hpp"

namespace edgeos {

enum class FwpState : uint8_t {
  kIdle,    // instantiated from its template, no threads; in the template's pool or just created
  kActive,  // a running tenant: threads may be created and run
  kDying,   // terminated; waits for its last reference to go
};

const char* fwp_state_name(FwpState s);

struct TemplateParams {
  // Opaque to core: what the platform instantiates from (the kernel: a checkpoint image id).
  uint64_t image = 0;
  // How many recycled FWPs the template keeps initialised for fast activation.
  uint32_t pool_limit = 0;
  // Quota: at most this many FWPs of the template exist at once (0: limited only by capacity).
  uint32_t max_instances = 0;
};

struct Fwp;

struct FwpTemplate : Slot {
  TemplateParams params;
  List<Fwp> pool;          // Idle FWPs ready for activation
  uint32_t instances = 0;  // FWPs of this template that exist (any state)
};

struct Fwp : Slot, ListNode {  // the ListNode links it into its template's pool
  FwpState state = FwpState::kIdle;
  FwpTemplate* tmpl = nullptr;
  uint32_t retained = 0;  // handles held by fwp_retain; threads reference it too
  List<FwpMemberLink> threads;
  List<InvocationFrame> visitors;  // calls of other FWPs' threads executing in this one
  Capability caps[kCapSlots];
};

}  // namespace edgeos
