// Communication between FWPs: capabilities, synchronous invocation frames, notifications, rings.
//
// Every operation a thread performs on another FWP goes through a capability in the capability
// table of the domain it executes in. The kernel checks the slot, the kind of the capability and
// that the object it names still exists (ids are generation-checked), and returns an error value
// otherwise: a bad slot never reaches an object.
//
// Synchronous invocation follows Composite (Parmer & West, "Mutable protection domains", RTAS
// 2008; the thread-migration model of EdgeOS): the caller's thread itself continues in the
// callee's protection domain, on the caller's scheduling context, so the caller's budget pays for
// the service. Each call pushes an InvocationFrame that is also linked into the callee's list of
// visitors: when an FWP is terminated the kernel walks that list and returns every visiting
// thread to the domain it called from, with the call marked aborted, instead of leaving it to run
// (or hang) in a dead domain.
//
// Notifications are counting semaphores (asynchronous, usable from interrupt context): a send
// wakes one waiting thread, or is counted. A notification may instead be bound to a sporadic
// thread, whose jobs it then releases: the way an interrupt reaches the NIC driver FWP.
//
// Rings are bounded single-producer/single-consumer queues of fixed-size slots. Sending copies the
// payload into kernel-owned slot memory and receiving copies it out, so tenants never share
// memory (the "memory movement" design of EdgeOS). A full ring refuses the send (kWouldBlock):
// back-pressure to the sender, never an overwrite, never a kernel that waits.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/list.hpp"
#include "edgeos/core/object_table.hpp"

namespace edgeos {

struct Thread;
struct Fwp;

struct NotificationTag;
struct RingTag;
using NotificationId = Id<NotificationTag>;
using RingId = Id<RingTag>;

// --- capabilities -------------------------------------------------------------------------------

enum class CapKind : uint8_t {
  kEmpty = 0,
  kInvoke,         // call into an FWP
  kNotifySend,     // signal a notification
  kNotifyReceive,  // wait on a notification
  kRingSend,       // produce into a ring
  kRingReceive,    // consume from a ring
};

const char* cap_kind_name(CapKind k);

// Slots per FWP capability table.
inline constexpr uint32_t kCapSlots = 16;
using CapSlot = uint32_t;

struct Capability {
  CapKind kind = CapKind::kEmpty;
  uint32_t index = 0;       // of the object named
  uint32_t generation = 0;  // of the object named: a recycled object does not answer
};

// --- invocation ---------------------------------------------------------------------------------

// How deep calls may nest; a call beyond it fails with kOutOfCapacity.
inline constexpr uint8_t kMaxCallDepth = 8;

// One call on a thread's invocation stack, linked into the callee's visitors.
struct InvocationFrame : ListNode {
  Thread* thread = nullptr;
  Fwp* caller = nullptr;  // the domain the call was made from (and returns to)
  Fwp* callee = nullptr;
  uint8_t depth = 0;  // position on the thread's stack
};

// --- notifications ------------------------------------------------------------------------------

struct WaitLink : ListNode {
  Thread* thread = nullptr;
};

struct Notification : Slot {
  uint64_t count = 0;       // signals not yet consumed (or, when bound, job releases pending)
  List<WaitLink> waiters;   // threads blocked in receive, in arrival order
  Thread* bound = nullptr;  // a sporadic thread whose jobs this releases, or none
};

// --- rings --------------------------------------------------------------------------------------

struct Ring : Slot {
  uint8_t* storage = nullptr;  // slots * (4 + slot_size) bytes, provided by the backend
  uint32_t slot_size = 0;      // maximum payload per slot, bytes
  uint32_t slots = 0;
  uint32_t head = 0;  // next slot to consume (free-running; index = head % slots)
  uint32_t tail = 0;  // next slot to fill
  Fwp* producer = nullptr;  // the FWP holding its send capability (single producer)
  Fwp* consumer = nullptr;  // the FWP holding its receive capability (single consumer)
  Notification* notify = nullptr;  // signalled when a payload lands in an empty ring
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t refused = 0;  // sends refused because the ring was full

  uint32_t used() const { return tail - head; }
  bool full() const { return used() == slots; }
  bool empty() const { return tail == head; }
  size_t slot_bytes() const { return 4 + static_cast<size_t>(slot_size); }
};

}  // namespace edgeos
