// Per-client FWPs (fwp/abi.hpp, "Per-client FWPs"; EdgeOS's per-client isolation): the flow table
// of each per-client front, the flow FWPs it makes from the front's template and recycles when
// idle, and the copies of a request into a flow FWP's flow page and of its replies back out.
// kernel.cpp enters and leaves the flow FWP as for any synchronous call (kSysFlowCall, kSysReply):
// the front's thread runs there, on its own scheduling context.
#include "console.hpp"
#include "kstate.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

namespace {

// A client of a front: its FWP, and its place in the front's list of flows by last use.
struct Flow {
  uint64_t key = 0;  // peer IPv4 << 32 | peer port << 16 | local port
  FwpId fwp{};
  uint32_t front = kNoIndex;  // index into fronts; kNoIndex: the entry is free
  uint32_t next_in_bucket = kNoIndex;
  uint32_t older = kNoIndex, newer = kNoIndex;
  Instant last_use = Instant::epoch();
};

constexpr CapSlot kNoSlot = ~CapSlot{0};

// A per-client front: its template and its flows, oldest use first.
struct Front {
  TemplateId tmpl{};
  Duration idle_timeout = Duration::seconds(10);
  uint32_t oldest = kNoIndex, newest = kNoIndex;
  uint32_t live = 0;
  bool tmpl_known = false;     // `tmpl` is set at its first flow (from the front's own FWP)
  CapSlot slot = kNoSlot;      // its invoke capability to the flow FWP it last called
};

Flow* flows = nullptr;
uint32_t num_flows = 0;  // entries
uint32_t free_flow = kNoIndex;  // free entries, through next_in_bucket
uint32_t* buckets = nullptr;
uint32_t bucket_mask = 0;
Front* fronts = nullptr;
uint32_t num_fronts = 0;
uint64_t flows_made = 0, flows_recycled = 0, flows_refused = 0, flows_stale = 0;
alignas(8) uint8_t bounce[abi::kFlowPageBytes];  // replies on their way out (under the kernel lock)

uint32_t bucket_of(uint32_t front, uint64_t key) {
  uint64_t h = (key ^ (uint64_t{front} << 48)) * 0x9e37'79b9'7f4a'7c15ull;
  return static_cast<uint32_t>(h >> 40) & bucket_mask;
}

void unlink_lru(Front& fr, uint32_t i) {
  Flow& f = flows[i];
  if (f.older != kNoIndex) flows[f.older].newer = f.newer; else fr.oldest = f.newer;
  if (f.newer != kNoIndex) flows[f.newer].older = f.older; else fr.newest = f.older;
  f.older = f.newer = kNoIndex;
}

void push_newest(Front& fr, uint32_t i) {
  Flow& f = flows[i];
  f.older = fr.newest;
  f.newer = kNoIndex;
  if (fr.newest != kNoIndex) flows[fr.newest].newer = i; else fr.oldest = i;
  fr.newest = i;
}

// Forgets flow `i` (its FWP already gone or terminated).
void drop(uint32_t i) {
  Flow& f = flows[i];
  Front& fr = fronts[f.front];
  unlink_lru(fr, i);
  for (uint32_t* p = &buckets[bucket_of(f.front, f.key)]; *p != kNoIndex; p = &flows[*p].next_in_bucket) {
    if (*p == i) {
      *p = f.next_in_bucket;
      break;
    }
  }
  --fr.live;
  f.front = kNoIndex;
  f.next_in_bucket = free_flow;
  free_flow = i;
}

// The flow page of FWP `fwp`, mapped (a zeroed page of its own) if it is not yet: its frame.
uint64_t flow_page(FwpId fwp) {
  x86::AddressSpace& space = kfwps[fwp.index].space;
  if (const uint64_t e = x86::lookup(space, abi::kFlowPage); e != 0) return e & x86::kPteAddress;
  const uint64_t pa = x86::frames().alloc();
  if (pa == 0) return 0;
  if (!x86::map_page(space, abi::kFlowPage, pa, x86::kPteWrite | x86::kPteNoExecute | x86::kPteOwned)) {
    x86::frames().free(pa);
    return 0;
  }
  return pa;
}

// Copies `n` bytes to user address `va` of `space` through its page tables (the space need not be
// the CPU's): false if a page is not mapped writable there.
bool copy_to_space(const x86::AddressSpace& space, uint64_t va, const uint8_t* from, uint64_t n) {
  while (n > 0) {
    const uint64_t e = x86::lookup(space, va & ~(x86::kPageSize - 1));
    if (e == 0 || (e & x86::kPteWrite) == 0) return false;
    const uint64_t off = va & (x86::kPageSize - 1);
    const uint64_t chunk = n < x86::kPageSize - off ? n : x86::kPageSize - off;
    memcpy(reinterpret_cast<void*>((e & x86::kPteAddress) + off), from, chunk);
    va += chunk;
    from += chunk;
    n -= chunk;
  }
  return true;
}

}  // namespace

// Finds the per-client fronts among the bound FWPs (a binding whose FWP's template is per-client)
// and sizes the flow table from their templates' max_instances.
void flows_boot() {
  uint32_t entries = 0;
  for (uint32_t b = 0; b < num_net_bindings; ++b) {
    const uint32_t t = scenario.tenant(kfwps[net_bindings[b].tenant_fwp].tenant).tmpl;
    if (!scenario.tmpl(t).per_client) continue;
    ++num_fronts;
    entries += scenario.tmpl(t).max_instances;
  }
  if (num_fronts == 0) return;
  fronts = boot_array<Front>(num_fronts, "per-client fronts");
  flows = boot_array<Flow>(entries, "per-client flows");
  uint32_t nb = 1;
  while (nb < 2 * entries) nb <<= 1;
  buckets = boot_array<uint32_t>(nb, "per-client flows");
  bucket_mask = nb - 1;
  for (uint32_t i = 0; i < nb; ++i) buckets[i] = kNoIndex;
  num_flows = entries;
  for (uint32_t i = 0; i < entries; ++i) flows[i].next_in_bucket = i + 1 < entries ? i + 1 : kNoIndex;
  free_flow = 0;
  uint32_t k = 0;
  for (uint32_t b = 0; b < num_net_bindings; ++b) {
    NetBindingK& nb_ = net_bindings[b];
    const uint32_t t = scenario.tenant(kfwps[nb_.tenant_fwp].tenant).tmpl;
    const blob::TemplateRec rec = scenario.tmpl(t);
    if (!rec.per_client) continue;
    Front& fr = fronts[k];
    fr = Front{};
    fr.idle_timeout = Duration::milliseconds(rec.idle_timeout_ms);
    nb_.front = k++;
    nb_.tenant_side.flags |= abi::kNetPerClient;
  }
  kprintf("flows: %u per-client front%s, room for %u flows\n", num_fronts, num_fronts == 1 ? "" : "s", entries);
}

// kSysFlowCall's first half: the flow FWP of the request in the front's `buf` (`len` bytes), made
// if new, with the request copied into its flow page, and the front's invoke capability to it ->
// that slot (kernel.cpp then enters the call), or an error. `*flow` names the flow for
// flow_finish.
int64_t flow_prepare(const Thread& t, uint64_t buf, uint64_t len, uint64_t cap, uint32_t* flow) {
  const int32_t b = kfwps[t.domain->slot_index].net;
  if (b < 0 || (net_bindings[b].tenant_side.flags & abi::kNetPerClient) == 0 || t.call_depth != 0) {
    return error_code(Error::kDenied);
  }
  if (len < sizeof(abi::NetHeader) || len > abi::kNetSlotSize || cap < len || cap > abi::kFlowPageBytes ||
      !user_ok(t.domain, buf, len, false) || !user_ok(t.domain, buf, cap, true)) {
    return error_code(Error::kInvalidArgument);
  }
  uint8_t request[abi::kNetSlotSize];
  {
    UserAccess access;
    memcpy(request, reinterpret_cast<const void*>(buf), len);
  }
  abi::NetHeader h;
  memcpy(&h, request, sizeof h);
  if (h.length > len - sizeof h) return error_code(Error::kInvalidArgument);
  const uint32_t fi = net_bindings[b].front;
  Front& fr = fronts[fi];
  if (!fr.tmpl_known) {
    fr.tmpl = kernel->template_id(*t.domain->tmpl);
    fr.tmpl_known = true;
  }
  const Instant now = platform.now();
  // Clients idle past the timeout give their FWPs back (to the template's pool).
  while (fr.oldest != kNoIndex && flows[fr.oldest].last_use + fr.idle_timeout <= now) {
    const uint32_t old = fr.oldest;
    if (kernel->fwp(flows[old].fwp)) {
      (void)kernel->fwp_terminate(flows[old].fwp);
      ++flows_recycled;
    }
    drop(old);
  }
  const uint64_t key = uint64_t{h.peer_ipv4} << 32 | uint64_t{h.peer_port} << 16 | h.local_port;
  uint32_t i = buckets[bucket_of(fi, key)];
  while (i != kNoIndex && !(flows[i].front == fi && flows[i].key == key)) i = flows[i].next_in_bucket;
  if (i != kNoIndex && !kernel->fwp(flows[i].fwp)) {  // its FWP died (a fault): a fresh one
    ++flows_stale;
    drop(i);
    i = kNoIndex;
  }
  if (i == kNoIndex) {
    if (free_flow == kNoIndex) {
      ++flows_refused;
      return error_code(Error::kOutOfCapacity);
    }
    const Result<FwpId> f = kernel->fwp_spawn(fr.tmpl);
    if (!f) {
      ++flows_refused;
      return error_code(f.error());
    }
    i = free_flow;
    free_flow = flows[i].next_in_bucket;
    Flow& nf = flows[i];
    nf = Flow{};
    nf.key = key;
    nf.fwp = *f;
    nf.front = fi;
    const uint32_t bk = bucket_of(fi, key);
    nf.next_in_bucket = buckets[bk];
    buckets[bk] = i;
    push_newest(fr, i);
    ++fr.live;
    ++flows_made;
    KFwp& k = kfwps[f->index];
    k.tenant = kfwps[t.domain->slot_index].tenant;
    k.instance = static_cast<uint32_t>(flows_made);  // for its name in messages
  } else {
    unlink_lru(fr, i);
    push_newest(fr, i);
  }
  Flow& fl = flows[i];
  fl.last_use = now;
  const uint64_t page = flow_page(fl.fwp);
  if (page == 0) return error_code(Error::kOutOfCapacity);
  memcpy(reinterpret_cast<void*>(page), request, len);
  // The front's one invoke capability to a flow FWP, now to this one.
  const FwpId front = kernel->fwp_id(*t.domain);
  if (fr.slot != kNoSlot) (void)kernel->revoke(front, fr.slot);
  fr.slot = kNoSlot;
  const Result<CapSlot> s = kernel->grant_invoke(front, fl.fwp);
  if (!s) return error_code(s.error());
  fr.slot = *s;
  *flow = i;
  return *s;
}

// kSysFlowCall's second half, as the flow FWP (`t`, still in it) replies `value` bytes of records:
// they are copied from its flow page into the buffer the front gave (`buf`, at most `cap` bytes, in
// FWP `front_fwp`, through its page tables), each record's addresses set to the flow's client ->
// the bytes copied, or an error.
int64_t flow_finish(const Thread& t, uint32_t flow, uint64_t value, uint32_t front_fwp, uint64_t buf, uint64_t cap) {
  if (flow >= num_flows || flows[flow].front == kNoIndex || kernel->fwp_id(*t.domain) != flows[flow].fwp) {
    return error_code(Error::kStale);
  }
  const Flow& fl = flows[flow];
  const uint64_t e = x86::lookup(kfwps[t.domain->slot_index].space, abi::kFlowPage);
  if (e == 0) return error_code(Error::kStale);
  const uint64_t n = value < cap ? value : cap;
  memcpy(bounce, reinterpret_cast<const void*>(e & x86::kPteAddress), n);
  // Records: a NetHeader, then its payload. A record cut short ends the replies.
  uint64_t at = 0;
  while (at + sizeof(abi::NetHeader) <= n) {
    abi::NetHeader h;
    memcpy(&h, bounce + at, sizeof h);
    if (h.length > abi::kNetSlotSize - sizeof h || at + sizeof h + h.length > n) break;
    h.peer_ipv4 = static_cast<uint32_t>(fl.key >> 32);
    h.peer_port = static_cast<uint16_t>(fl.key >> 16);
    h.local_port = static_cast<uint16_t>(fl.key);
    memcpy(bounce + at, &h, sizeof h);
    at += sizeof h + h.length;
  }
  if (at > 0 && !copy_to_space(kfwps[front_fwp].space, buf, bounce, at)) return error_code(Error::kInvalidArgument);
  return static_cast<int64_t>(at);
}

// A flow FWP recycled to its template's pool: its flow page goes (the next client's is fresh).
void flow_fwp_reset(KFwp& k) { x86::unmap_range(k.space, abi::kFlowPage, x86::kPageSize); }

void report_flows() {
  if (num_fronts == 0) return;
  uint32_t live = 0;
  for (uint32_t f = 0; f < num_fronts; ++f) live += fronts[f].live;
  kprintf("flows: %lu made, %lu recycled after idle, %lu found dead, %lu refused, %u live\n",
          static_cast<unsigned long>(flows_made), static_cast<unsigned long>(flows_recycled),
          static_cast<unsigned long>(flows_stale), static_cast<unsigned long>(flows_refused), live);
}

}  // namespace edgeos::kernel
