// The network path in the kernel (kernel_backend/README.md, "Networking"): the rings and
// notification wired between each bound tenant and its server's driver FWP, what the driver and
// the tenants learn of them (kSysNetInfo), and the packet records of the trace (pkt_rx, pkt_tx,
// pkt_drop). The packets themselves are moved by the driver FWP, in user mode.
#include "console.hpp"
#include "kstate.hpp"
#include "edgeos/net/packet.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

NetBindingK net_bindings[kMaxNetBindings];
uint32_t num_net_bindings = 0;

namespace {
alignas(4096) uint8_t net_ring_storage[kMaxNetBindings * (abi::kNetRxSlots + abi::kNetTxSlots) * (4 + abi::kNetSlotSize)];
}  // namespace

// A datagram crossing between the driver FWP and a tenant's rings: pkt_rx when the driver copies
// one into the tenant's ring, pkt_tx when it takes the tenant's reply out for the wire, pkt_drop
// (cause ring_full) when the tenant's ring has no room. The record names the tenant's FWP (so
// summaries count per tenant); its value is the payload's length, or the drop's cause.
void trace_packet(const Thread& t, uint64_t slot, PacketFate fate, uint64_t length) {
  if (kfwps[t.domain->slot_index].net != kNetDriverFwp) return;
  const bool to_tenant = fate != PacketFate::kOut;
  for (uint32_t b = 0; b < num_net_bindings; ++b) {
    const NetBindingK& nb = net_bindings[b];
    if (nb.driver_fwp != t.domain->slot_index || slot != (to_tenant ? nb.driver_side.to_slot : nb.driver_side.from_slot)) {
      continue;
    }
    if (fate == PacketFate::kRingFull) {
      trace_from(t, TraceEvent::kPktDrop, nb.tenant_fwp, static_cast<int64_t>(net::DropCause::kRingFull));
    } else {
      trace_from(t, to_tenant ? TraceEvent::kPktRx : TraceEvent::kPktTx, nb.tenant_fwp,
                 static_cast<int64_t>(length >= sizeof(abi::NetHeader) ? length - sizeof(abi::NetHeader) : 0));
    }
    return;
  }
}

// kSysNetDrop: the driver FWP's stack dropped a frame before any tenant was known (a bad checksum,
// a port nobody is bound to, ...). The pkt_drop record names the driver's FWP.
int64_t sys_net_drop(const Thread& t, uint64_t cause) {
  if (kfwps[t.domain->slot_index].net != kNetDriverFwp || cause == 0 || cause >= net::kDropCauseCount) {
    return error_code(Error::kInvalidArgument);
  }
  trace_from(t, TraceEvent::kPktDrop, t.domain->slot_index, static_cast<int64_t>(cause));
  return 0;
}

// kSysNetInfo: the calling FWP's part in the network path.
int64_t sys_net_info(const Thread& t, uint64_t ptr) {
  if (!x86::user_range_ok(space_of(t.domain), ptr, sizeof(abi::NetInfo), true)) return error_code(Error::kInvalidArgument);
  const uint32_t f = t.domain->slot_index;
  abi::NetInfo info{};
  const uint32_t server = scenario.tenant(kfwps[f].tenant).server;
  if (const uint32_t n = scenario.nic_of(server); n < scenario.count(blob::kNics)) {
    const blob::NicRec nic = scenario.nic(n);
    info.ipv4 = nic.ipv4;
    for (int i = 0; i < 6; ++i) info.mac[i] = nic.mac[i];
  }
  for (uint32_t b = 0; b < num_net_bindings; ++b) {
    const NetBindingK& nb = net_bindings[b];
    if (nb.driver_fwp == f && kfwps[f].net == kNetDriverFwp) {
      info.role = abi::kNetDriver;
      info.bindings[info.num_bindings++] = nb.driver_side;
    } else if (nb.tenant_fwp == f && kfwps[f].net == static_cast<int32_t>(b)) {
      info.role = abi::kNetTenant;
      info.bindings[info.num_bindings++] = nb.tenant_side;
    }
  }
  UserAccess access;
  memcpy(reinterpret_cast<void*>(ptr), &info, sizeof info);
  return 0;
}

// Wires the network path the compiled scenario's ports ask for (fwp/abi.hpp, NetInfo). The blob
// reader has checked the ports; what can still fail is capacity (capabilities, notifications).
bool bind_ports() {
  const uint32_t ports = scenario.count(blob::kPorts);
  auto fail = [](const char* why, uint32_t tenant) {
    kprintf("edgeos: network binding of tenant %u failed: %s\n", tenant, why);
    return false;
  };
  size_t storage_used = 0;
  for (uint32_t p = 0; p < ports; ++p) {
    const uint32_t tenant = scenario.port(p).tenant;
    bool seen = false;  // one binding per tenant, for all its ports
    for (uint32_t q = 0; q < p; ++q) seen = seen || scenario.port(q).tenant == tenant;
    if (seen) continue;
    if (num_net_bindings == kMaxNetBindings) return fail("more bound tenants than the kernel wires (5)", tenant);
    const uint32_t server = scenario.tenant(tenant).server;
    // The tenant's FWP (its only instance) and its first sporadic thread; the server's driver FWP.
    uint32_t fwp_index = 0;
    for (uint32_t t = 0; t < tenant; ++t) fwp_index += scenario.tenant(t).instances;
    const FwpId tenant_fwp = fwp_ids[fwp_index];
    ThreadId handler{kNoIndex, 0};
    FwpId driver{kNoIndex, 0};
    for (uint32_t k = 0; k < scenario.total_threads(); ++k) {
      const Thread* th = *kernel->thread(thread_ids[k]);
      const uint32_t th_tenant = kfwps[th->fwp->slot_index].tenant;
      if (kthreads[thread_ids[k].index].program == abi::kProgramNicDriver && scenario.tenant(th_tenant).server == server) {
        driver = kernel->fwp_id(*th->fwp);
      }
      if (th_tenant == tenant && th->release_kind == ReleaseKind::kSporadic && handler.index == kNoIndex) handler = thread_ids[k];
    }
    if (driver.index == kNoIndex || handler.index == kNoIndex) return fail("no driver FWP or no sporadic thread", tenant);
    const size_t to_bytes = size_t{abi::kNetRxSlots} * (4 + abi::kNetSlotSize);
    const size_t from_bytes = size_t{abi::kNetTxSlots} * (4 + abi::kNetSlotSize);
    const Result<RingId> to = kernel->ring_create(Span<uint8_t>(net_ring_storage + storage_used, to_bytes), abi::kNetSlotSize,
                                                  abi::kNetRxSlots);
    const Result<RingId> from = kernel->ring_create(Span<uint8_t>(net_ring_storage + storage_used + to_bytes, from_bytes),
                                                    abi::kNetSlotSize, abi::kNetTxSlots);
    storage_used += to_bytes + from_bytes;
    const Result<NotificationId> n = kernel->notification_create();
    if (!to || !from || !n || !kernel->notification_bind(*n, handler)) return fail("out of rings or notifications", tenant);
    const Result<CapSlot> d_to = kernel->grant_ring(driver, *to, CapKind::kRingSend);
    const Result<CapSlot> d_from = kernel->grant_ring(driver, *from, CapKind::kRingReceive);
    const Result<CapSlot> d_notify = kernel->grant_notification(driver, *n, CapKind::kNotifySend);
    const Result<CapSlot> t_from = kernel->grant_ring(tenant_fwp, *to, CapKind::kRingReceive);
    const Result<CapSlot> t_to = kernel->grant_ring(tenant_fwp, *from, CapKind::kRingSend);
    if (!d_to || !d_from || !d_notify || !t_from || !t_to) return fail("out of capability slots", tenant);
    NetBindingK& b = net_bindings[num_net_bindings];
    b.tenant_fwp = tenant_fwp.index;
    b.driver_fwp = driver.index;
    b.driver_side = abi::NetBinding{{}, 0, *d_to, *d_from, *d_notify};
    b.tenant_side = abi::NetBinding{{}, 0, *t_to, *t_from, 0};
    for (uint32_t q = p; q < ports; ++q) {
      if (scenario.port(q).tenant != tenant || b.driver_side.num_ports == 8) continue;
      b.driver_side.ports[b.driver_side.num_ports++] = scenario.port(q).port;
    }
    for (uint32_t i = 0; i < b.driver_side.num_ports; ++i) b.tenant_side.ports[i] = b.driver_side.ports[i];
    b.tenant_side.num_ports = b.driver_side.num_ports;
    kfwps[tenant_fwp.index].net = static_cast<int32_t>(num_net_bindings);
    kfwps[driver.index].net = kNetDriverFwp;
    ++num_net_bindings;
    kprintf("net: tenant %u bound to UDP port %u%s (driver FWP %u)\n", tenant, b.driver_side.ports[0],
            b.driver_side.num_ports > 1 ? " and more" : "", driver.index);
  }
  return true;
}

}  // namespace edgeos::kernel
