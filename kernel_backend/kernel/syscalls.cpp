// The system calls (fwp/abi.hpp, Syscall): the switch from a thread's saved registers to the core
// and to the kernel's other parts, and the result back into them. kernel.cpp's entry
// (syscall_dispatch) calls syscall() with the kernel lock held, and resume() returns to the thread.
#include "../arch/x86_64/context.hpp"
#include "../fwp/abi.hpp"
#include "console.hpp"
#include "devices.hpp"
#include "image.hpp"
#include "kstate.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

namespace {

int64_t sys_puts(Thread& t, uint64_t ptr, uint64_t len) {
  if (len > 200 || !user_ok(t.domain, ptr, len, false)) return error_code(Error::kInvalidArgument);
  char text[201];
  {
    UserAccess access;
    memcpy(text, reinterpret_cast<const void*>(ptr), len);
  }
  text[len] = '\0';
  // One line, printable, after the FWP's name: what an FWP prints can never pass for the
  // kernel's own lines (the harness ends a Bochs run on one of them).
  for (uint64_t i = 0; i < len; ++i) {
    if (text[i] < 0x20 || text[i] > 0x7e) text[i] = '?';
  }
  char name[64];
  fwp_name(t.domain, name, sizeof name);
  kprintf("[%s] %s\n", name, text);
  return 0;
}

// The slot size of the ring behind capability `slot` of the thread's domain; 0 if no ring is there.
uint64_t ring_slot_size(const Thread& t, uint64_t slot) {
  if (slot >= kCapSlots) return 0;
  const Capability& cap = t.domain->caps[slot];
  if (cap.kind != CapKind::kRingSend && cap.kind != CapKind::kRingReceive) return 0;
  const Result<const Ring*> ring = kernel->ring(RingId{cap.index, cap.generation});
  return ring ? (*ring)->slot_size : 0;
}

// A synchronous call through capability `slot` of the thread's domain, with `arg` for the callee:
// the thread continues at the callee's invoke entry (0), or the call is refused (an error). The
// caller's registers are saved only once the core accepted the call (at the maximum depth it
// refuses, and there is no saved[] slot for it).
int64_t enter_call(ThreadId id, Thread& t, KThread& kt, CapSlot slot, uint64_t arg) {
  x86::UserContext& c = kt.ctx;
  const uint8_t depth = t.call_depth;
  if (const Status s = kernel->call(id, slot); !s) return error_code(s.error());
  const uint64_t stack = ensure_stack(t.domain, t.slot_index, depth + 1u);
  if (stack == 0) {
    (void)kernel->reply(id);
    return error_code(Error::kOutOfCapacity);
  }
  kt.saved[depth] = c;
  kt.depth = depth + 1;
  c = entry_context(image.invoke_entry, stack, arg, t.slot_index);
  return 0;
}

}  // namespace

// Handles a system call of the running thread; its result goes to the saved context's rax.
void syscall(Thread& t, KThread& kt) {
  x86::UserContext& c = kt.ctx;
  const ThreadId id = kernel->thread_id(t);
  const uint64_t a0 = c.rdi, a1 = c.rsi, a2 = c.rdx;
  int64_t r = 0;
  auto status = [](Status s) { return s ? int64_t{0} : error_code(s.error()); };
  switch (c.rax) {
    case abi::kSysJob:
      r = write_plan(kt, t, a0) ? 0 : error_code(Error::kInvalidArgument);
      break;
    case abi::kSysComplete: {
      if (!user_ok(t.domain, a0, 8 * (2 + 3 * kMaxCalls), true)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      const Status s = complete_job(id, t, kt);
      if (!s) {
        r = status(s);
        break;
      }
      kt.plan_ptr = a0;
      kt.plan_pending = true;  // rax is set when the next job's plan is written
      return;
    }
    case abi::kSysCall:
      r = enter_call(id, t, kt, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0), a1);
      if (r == 0) return;
      break;
    case abi::kSysFlowCall: {
      // A per-client front's request into its client's FWP (flows.cpp), entered as a call.
      uint32_t flow = 0;
      const uint32_t front = t.domain->slot_index;
      r = flow_prepare(t, a0, a1, a2, &flow);
      if (r < 0) break;
      r = enter_call(id, t, kt, static_cast<CapSlot>(r), abi::kFlowMagic | a1);
      if (r < 0) break;
      kt.flow_depth = t.call_depth;
      kt.flow = flow;
      kt.flow_front = front;
      kt.flow_buffer = a0;
      kt.flow_capacity = a2;
      return;
    }
    case abi::kSysReply: {
      if (t.call_depth == 0 || kt.depth == 0) {
        r = error_code(Error::kBadState);
        break;
      }
      // Leaving a flow FWP: its replies go into the front's buffer, and their length is the result.
      const bool from_flow = kt.flow_depth != 0 && kt.flow_depth == t.call_depth;
      int64_t flow_result = 0;
      if (from_flow) {
        flow_result = flow_finish(t, kt.flow, a0, kt.flow_front, kt.flow_buffer, kt.flow_capacity);
        kt.flow_depth = 0;
      }
      const Status s = kernel->reply(id);
      if (!s) {
        r = status(s);
        break;
      }
      kt.depth = t.call_depth;
      c = kt.saved[kt.depth];
      c.rax = from_flow ? static_cast<uint64_t>(flow_result) : a0;
      return;
    }
    case abi::kSysNotify:
      r = status(kernel->notify(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0)));
      break;
    case abi::kSysWait: {
      const Result<bool> w = kernel->wait(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0));
      r = w ? (*w ? 1 : 0) : error_code(w.error());
      break;
    }
    case abi::kSysRingSend: {
      // The length is bounded by the ring's slot size before the buffer is checked page by page
      // (syscall fuzzer finding: a huge length over a large heap walked thousands of pages in one
      // non-preemptible call); without a ring behind the slot the core refuses it, touching nothing.
      if (const uint64_t max = ring_slot_size(t, a0); max == 0 || a2 > max) {
        r = max == 0 ? status(kernel->ring_send(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0), nullptr, a2))
                     : error_code(Error::kInvalidArgument);
        break;
      }
      if (!user_ok(t.domain, a1, a2, false)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      UserAccess access;
      r = status(kernel->ring_send(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0),
                                   reinterpret_cast<const void*>(a1), a2));
      if (r == 0) note_tenant_send(t, a0);  // a reply towards the driver: the driver collects it
      break;
    }
    case abi::kSysRingReceive: {
      // At most a slot's bytes are written: only those are checked (see kSysRingSend; no ring: none).
      const uint64_t max = ring_slot_size(t, a0);
      if (!user_ok(t.domain, a1, a2 < max ? a2 : max, true)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      UserAccess access;
      const Result<size_t> n = kernel->ring_receive(id, static_cast<CapSlot>(a0 > 0xffff'ffff ? 0xffff'ffff : a0),
                                                    reinterpret_cast<void*>(a1), a2);
      r = n ? static_cast<int64_t>(*n) : error_code(n.error());
      if (n) {
        // rdx: whether more messages wait, so that a reader can stop without a call that fails.
        const Capability& cap = t.domain->caps[a0];  // valid: the receive went through this slot
        const Result<const Ring*> ring = kernel->ring(RingId{cap.index, cap.generation});
        c.rdx = ring && !(*ring)->empty() ? 1 : 0;
      }
      break;
    }
    case abi::kSysYield:
      r = status(kernel->yield(id));
      break;
    case abi::kSysExit: {
      const FwpId f = kernel->fwp_id(*t.domain);
      char name[64];
      fwp_name(t.domain, name, sizeof name);
      kprintf("[%s] exits\n", name);
      (void)kernel->fwp_terminate(f);
      return;  // the thread may be gone; resume() picks what runs next
    }
    case abi::kSysFwpSpawn: {
      // An FWP may start more of its own kind, within its template's quota; with argument 1 it
      // also gets an invoke capability to the new one (in rdx).
      if (a0 > 1) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      const Result<FwpId> f = kernel->fwp_spawn(kernel->template_id(*t.domain->tmpl));
      c.rdx = ~uint64_t{0};
      if (f) {
        kfwps[f->index].tenant = kfwps[t.domain->slot_index].tenant;
        kfwps[f->index].instance = kfwps[t.domain->slot_index].instance;
        // The spawner may call into what it spawned (a full capability table only loses that).
        if (a0 == 1) {
          if (const Result<CapSlot> slot = kernel->grant_invoke(kernel->fwp_id(*t.domain), *f)) c.rdx = *slot;
        }
      }
      r = f ? static_cast<int64_t>(f->index) : error_code(f.error());
      break;
    }
    case abi::kSysMarker: {
      trace_from(t, TraceEvent::kMarker, t.domain->slot_index, static_cast<int64_t>(a0));
      break;
    }
    case abi::kSysPuts:
      r = sys_puts(t, a0, a1);
      break;
    case abi::kSysMemMap:
      r = sys_mem_map(t, a0);
      break;
    case abi::kSysMemLeft:
      r = sys_mem_left(t);
      break;
    case abi::kSysNetInfo:
      r = sys_net_info(t, a0);
      break;
    case abi::kSysReady:
      r = sys_ready(t);
      break;
    case abi::kSysNetDrop:
      r = sys_net_drop(t, a0);
      break;
    case abi::kSysNetDeliver:
      r = sys_net_deliver(id, t, a0, a1);
      break;
    case abi::kSysNetFlush:
      r = sys_net_flush(id, t);
      break;
    case abi::kSysNetCollect: {
      uint64_t more = 0;
      r = sys_net_collect(id, t, a0, a1, &more);
      c.rdx = more;
      break;
    }
    case abi::kSysNicInfo: {
      // Only the FWP that holds the NIC learns where it is (and it is mapped only there).
      if (!holds_nic(t.domain->slot_index) || !user_ok(t.domain, a0, sizeof(abi::NicInfo), true)) {
        r = error_code(Error::kInvalidArgument);
        break;
      }
      UserAccess access;
      nic_info(reinterpret_cast<abi::NicInfo*>(a0));
      break;
    }
    default:
      r = error_code(Error::kInvalidArgument);
      break;
  }
  c.rax = static_cast<uint64_t>(r);
}

}  // namespace edgeos::kernel
