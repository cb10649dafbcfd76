// The network path in the kernel (kernel_backend/README.md, "Networking"): the rings and
// notification wired between each bound FWP and its server's driver FWP, the port table through
// which the driver reaches them (kSysNetDeliver, kSysNetFlush, kSysNetCollect), what the driver and
// the tenants learn of it (kSysNetInfo), and the packet records of the trace (pkt_rx, pkt_tx,
// pkt_drop). The packets themselves are moved by the driver FWP, in user mode; the kernel copies a
// datagram once into a tenant's ring and once out of it, and never shares a page.
#include "console.hpp"
#include "kstate.hpp"
#include "edgeos/net/packet.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

NetBindingK* net_bindings = nullptr;
uint32_t num_net_bindings = 0;

namespace {

// The port table: (port, binding) sorted by port, searched by the driver's every delivery. One NIC
// per machine, so a port names one binding.
struct PortEntry {
  uint16_t port;
  uint32_t binding;
};
PortEntry* port_table = nullptr;
uint32_t num_ports = 0;

// The bindings the driver delivered to since its last flush, and those with replies waiting for it
// (a FIFO: the driver takes one reply from each in turn). Each binding is in each at most once.
uint32_t* notify_list = nullptr;
uint32_t notify_count = 0;
NotificationId* flush_ids = nullptr;
uint32_t* reply_queue = nullptr;
uint32_t reply_head = 0, reply_count = 0;

bool is_driver(const Thread& t) { return kfwps[t.domain->slot_index].net == kNetDriverFwp; }

// The binding `port` is bound to for driver FWP `driver`, or kNoIndex.
uint32_t binding_of_port(uint16_t port, uint32_t driver) {
  uint32_t lo = 0, hi = num_ports;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (port_table[mid].port < port) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == num_ports || port_table[lo].port != port) return kNoIndex;
  const uint32_t b = port_table[lo].binding;
  return net_bindings[b].driver_fwp == driver ? b : kNoIndex;
}

void queue_reply(uint32_t b) {
  net_bindings[b].reply_queued = true;
  reply_queue[(reply_head + reply_count++) % num_net_bindings] = b;
}

uint32_t payload_of(uint64_t length) {
  return static_cast<uint32_t>(length >= sizeof(abi::NetHeader) ? length - sizeof(abi::NetHeader) : 0);
}

}  // namespace

// kSysNetDrop: the driver FWP's stack dropped a frame before any tenant was known (a bad checksum,
// a port nobody is bound to, ...). The pkt_drop record names the driver's FWP.
int64_t sys_net_drop(const Thread& t, uint64_t cause) {
  if (!is_driver(t) || cause == 0 || cause >= net::kDropCauseCount) return error_code(Error::kInvalidArgument);
  trace_from(t, TraceEvent::kPktDrop, t.domain->slot_index, static_cast<int64_t>(cause));
  return 0;
}

// kSysNetDeliver: a datagram the driver received, copied into the ring of the FWP bound to its
// port. The port is read from the header once; the copy is of what the buffer holds then.
int64_t sys_net_deliver(ThreadId id, const Thread& t, uint64_t ptr, uint64_t length) {
  if (!is_driver(t)) return error_code(Error::kDenied);
  if (length < sizeof(abi::NetHeader) || length > abi::kNetSlotSize ||
      !user_ok(t.domain, ptr, length, false)) {
    return error_code(Error::kInvalidArgument);
  }
  UserAccess access;
  abi::NetHeader h;
  memcpy(&h, reinterpret_cast<const void*>(ptr), sizeof h);
  const uint32_t b = binding_of_port(h.local_port, t.domain->slot_index);
  if (b == kNoIndex) return error_code(Error::kNotFound);
  NetBindingK& nb = net_bindings[b];
  const Status s = kernel->ring_send_id(id, nb.to_tenant, reinterpret_cast<const void*>(ptr), length);
  if (s.error() == Error::kWouldBlock) {
    trace_from(t, TraceEvent::kPktDrop, nb.tenant_fwp, static_cast<int64_t>(net::DropCause::kRingFull));
  }
  if (!s) return error_code(s.error());
  trace_from(t, TraceEvent::kPktRx, nb.tenant_fwp, payload_of(length));
  if (!nb.notify_due) {
    nb.notify_due = true;
    notify_list[notify_count++] = b;
  }
  return 0;
}

// kSysNetFlush: one signal to each FWP delivered to since the last flush, all at this instant.
int64_t sys_net_flush(ThreadId id, const Thread& t) {
  if (!is_driver(t)) return error_code(Error::kDenied);
  const uint32_t n = notify_count;
  for (uint32_t i = 0; i < n; ++i) {
    net_bindings[notify_list[i]].notify_due = false;
    flush_ids[i] = net_bindings[notify_list[i]].notify;
  }
  notify_count = 0;
  if (n == 0) return 0;
  const Status s = kernel->notify_ids(id, Span<const NotificationId>(flush_ids, n));
  return s ? static_cast<int64_t>(n) : error_code(s.error());
}

// kSysNetCollect: the oldest reply of the binding at the head of the reply queue; the binding goes
// to the back if it has more, so that tenants take turns.
int64_t sys_net_collect(ThreadId id, const Thread& t, uint64_t ptr, uint64_t capacity_bytes, uint64_t* more) {
  *more = 0;
  if (!is_driver(t)) return error_code(Error::kDenied);
  const uint64_t span = capacity_bytes < abi::kNetSlotSize ? capacity_bytes : abi::kNetSlotSize;
  if (!user_ok(t.domain, ptr, span, true)) return error_code(Error::kInvalidArgument);
  while (reply_count > 0) {
    const uint32_t b = reply_queue[reply_head];
    NetBindingK& nb = net_bindings[b];
    Result<size_t> n = Error::kWouldBlock;
    {
      UserAccess access;
      n = kernel->ring_receive_id(id, nb.from_tenant, reinterpret_cast<void*>(ptr), capacity_bytes);
    }
    if (!n && n.error() != Error::kWouldBlock) return error_code(n.error());  // too small a buffer: nothing taken
    reply_head = (reply_head + 1) % num_net_bindings;
    --reply_count;
    nb.reply_queued = false;
    if (!n) continue;  // its ring emptied (it never does while queued, but the queue does not rely on it)
    if (const Result<const Ring*> r = kernel->ring(nb.from_tenant); r && !(*r)->empty()) queue_reply(b);
    trace_from(t, TraceEvent::kPktTx, nb.tenant_fwp, payload_of(*n));
    *more = reply_count > 0 ? 1 : 0;
    return static_cast<int64_t>(*n);
  }
  return 0;
}

void note_tenant_send(const Thread& t, uint64_t slot) {
  const int32_t b = kfwps[t.domain->slot_index].net;
  if (b < 0 || slot != net_bindings[b].tenant_side.to_slot || net_bindings[b].reply_queued) return;
  queue_reply(static_cast<uint32_t>(b));
}

// kSysNetInfo: the calling FWP's part in the network path.
int64_t sys_net_info(const Thread& t, uint64_t ptr) {
  if (!user_ok(t.domain, ptr, sizeof(abi::NetInfo), true)) return error_code(Error::kInvalidArgument);
  const uint32_t f = t.domain->slot_index;
  abi::NetInfo info{};
  const uint32_t server = scenario.tenant(kfwps[f].tenant).server;
  if (const uint32_t n = scenario.nic_of(server); n < scenario.count(blob::kNics)) {
    const blob::NicRec nic = scenario.nic(n);
    info.ipv4 = nic.ipv4;
    for (int i = 0; i < 6; ++i) info.mac[i] = nic.mac[i];
  }
  if (kfwps[f].net == kNetDriverFwp) {
    info.role = abi::kNetDriver;
    for (uint32_t b = 0; b < num_net_bindings; ++b) info.num_bindings += net_bindings[b].driver_fwp == f ? 1 : 0;
  } else if (kfwps[f].net >= 0) {
    info.role = abi::kNetTenant;
    info.num_bindings = 1;
    info.bindings[0] = net_bindings[kfwps[f].net].tenant_side;
  }
  UserAccess access;
  memcpy(reinterpret_cast<void*>(ptr), &info, sizeof info);
  return 0;
}

namespace {

// Whether port record `p` is the first of its tenant's (the compiler writes a tenant's ports
// together, but nothing here relies on it).
bool first_port_of_tenant(uint32_t p) {
  const uint32_t tenant = scenario.port(p).tenant;
  for (uint32_t q = 0; q < p; ++q) {
    if (scenario.port(q).tenant == tenant) return false;
  }
  return true;
}

}  // namespace

uint32_t net_bindings_needed() {
  uint32_t n = 0;
  for (uint32_t p = 0; p < scenario.count(blob::kPorts); ++p) {
    if (first_port_of_tenant(p)) n += scenario.tenant(scenario.port(p).tenant).instances;
  }
  return n;
}

// Wires the network path the compiled scenario's ports ask for (fwp/abi.hpp, NetInfo): a binding
// per instance of each tenant with ports, instance k bound to each port + k. The blob reader has
// checked the ports (in range, no two equal); what can still fail is a missing driver or handler.
bool bind_ports() {
  auto fail = [](const char* why, uint32_t tenant) {
    kprintf("edgeos: network binding of tenant %u failed: %s\n", tenant, why);
    return false;
  };
  const uint32_t ports = scenario.count(blob::kPorts);
  if (capacity.net_bindings == 0) return true;
  // Each tenant's first binding, and each FWP's first sporadic thread (in canonical order).
  uint32_t* first_binding = boot_array<uint32_t>(scenario.count(blob::kTenants), "network bindings");
  uint32_t* fwp_base = boot_array<uint32_t>(scenario.count(blob::kTenants), "network bindings");
  for (uint32_t t = 0, base = 0; t < scenario.count(blob::kTenants); base += scenario.tenant(t).instances, ++t) {
    first_binding[t] = kNoIndex;
    fwp_base[t] = base;
  }
  const size_t to_bytes = size_t{abi::kNetRxSlots} * (4 + abi::kNetSlotSize);
  const size_t from_bytes = size_t{abi::kNetTxSlots} * (4 + abi::kNetSlotSize);
  static_assert(abi::kNetRingBytes == (abi::kNetRxSlots + abi::kNetTxSlots) * (4 + abi::kNetSlotSize), "one size of the rings");
  uint8_t* storage = static_cast<uint8_t*>(boot_frames(capacity.net_bindings * (to_bytes + from_bytes), "network rings"));
  for (uint32_t p = 0; p < ports; ++p) {
    const uint32_t tenant = scenario.port(p).tenant;
    if (first_binding[tenant] != kNoIndex) continue;
    first_binding[tenant] = num_net_bindings;
    for (uint32_t k = 0; k < scenario.tenant(tenant).instances; ++k) {
      const FwpId fwp = fwp_ids[fwp_base[tenant] + k];
      NetBindingK& b = net_bindings[num_net_bindings];
      const Result<RingId> to = kernel->ring_create(Span<uint8_t>(storage, to_bytes), abi::kNetSlotSize, abi::kNetRxSlots);
      const Result<RingId> from = kernel->ring_create(Span<uint8_t>(storage + to_bytes, from_bytes), abi::kNetSlotSize, abi::kNetTxSlots);
      storage += to_bytes + from_bytes;
      const Result<NotificationId> n = kernel->notification_create();
      if (!to || !from || !n) return fail("out of rings or notifications", tenant);
      const Result<CapSlot> t_from = kernel->grant_ring(fwp, *to, CapKind::kRingReceive);
      const Result<CapSlot> t_to = kernel->grant_ring(fwp, *from, CapKind::kRingSend);
      if (!t_from || !t_to) return fail("out of capability slots", tenant);
      b.tenant_fwp = fwp.index;
      b.to_tenant = *to;
      b.from_tenant = *from;
      b.notify = *n;
      b.tenant_side = abi::NetBinding{{}, 0, *t_to, *t_from, 0};
      kfwps[fwp.index].net = static_cast<int32_t>(num_net_bindings++);
    }
  }
  // The ports: each record's port + k for instance k, into the port table.
  port_table = boot_array<PortEntry>(capacity.net_bindings * 8, "port table");
  for (uint32_t p = 0; p < ports; ++p) {
    const blob::PortRec pr = scenario.port(p);
    for (uint32_t k = 0; k < scenario.tenant(pr.tenant).instances; ++k) {
      NetBindingK& b = net_bindings[first_binding[pr.tenant] + k];
      const uint32_t port = pr.port + k;
      if (port > 0xffff) return fail("a port past 65535", pr.tenant);
      if (b.tenant_side.num_ports == 8) return fail("more than 8 ports", pr.tenant);
      b.tenant_side.ports[b.tenant_side.num_ports++] = static_cast<uint16_t>(port);
      // Insertion into the sorted table (boot only; a few thousand ports).
      uint32_t at = num_ports;
      while (at > 0 && port_table[at - 1].port > port) {
        port_table[at] = port_table[at - 1];
        --at;
      }
      if (at > 0 && port_table[at - 1].port == port) return fail("a port bound twice", pr.tenant);
      port_table[at] = PortEntry{static_cast<uint16_t>(port), first_binding[pr.tenant] + k};
      ++num_ports;
    }
  }
  // Each bound FWP's driver (the FWP of its server's nic-driver thread) and handler (its first
  // sporadic thread), in one pass over the threads.
  for (uint32_t k = 0; k < scenario.total_threads(); ++k) {
    const Thread* th = *kernel->thread(thread_ids[k]);
    const uint32_t f = th->fwp->slot_index;
    if (kthreads[thread_ids[k].index].program == abi::kProgramNicDriver) {
      const uint32_t server = scenario.tenant(kfwps[f].tenant).server;
      for (uint32_t b = 0; b < num_net_bindings; ++b) {
        if (scenario.tenant(kfwps[net_bindings[b].tenant_fwp].tenant).server == server) net_bindings[b].driver_fwp = f + 1;
      }
      kfwps[f].net = kNetDriverFwp;
    } else if (const int32_t b = kfwps[f].net; b >= 0 && th->release_kind == ReleaseKind::kSporadic &&
                                                !net_bindings[b].notify_due) {
      if (!kernel->notification_bind(net_bindings[b].notify, thread_ids[k])) return fail("its thread refused the notification", kfwps[f].tenant);
      net_bindings[b].notify_due = true;  // marks "handler bound" until the check below
    }
  }
  for (uint32_t b = 0; b < num_net_bindings; ++b) {
    NetBindingK& nb = net_bindings[b];
    if (nb.driver_fwp == 0 || !nb.notify_due) return fail("no driver FWP or no sporadic thread", kfwps[nb.tenant_fwp].tenant);
    --nb.driver_fwp;  // stored plus one above, so that 0 meant none
    nb.notify_due = false;
  }
  notify_list = boot_array<uint32_t>(num_net_bindings, "network bindings");
  flush_ids = boot_array<NotificationId>(num_net_bindings, "network bindings");
  reply_queue = boot_array<uint32_t>(num_net_bindings, "network bindings");
  kprintf("net: %u FWP%s bound to %u UDP port%s\n", num_net_bindings, num_net_bindings == 1 ? "" : "s", num_ports,
          num_ports == 1 ? "" : "s");
  return true;
}

}  // namespace edgeos::kernel
