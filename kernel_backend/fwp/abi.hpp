// The interface between the kernel and the programs in FWPs: the user address-space layout, the
// system call numbers and their arguments. Shared by kernel and user code; freestanding.
#pragma once

#include <stdint.h>

namespace edgeos::abi {

// User space begins at 512 GiB (page-map level-4 slot 1); slot 0 is the kernel's direct map,
// present in every address space but supervisor-only.
inline constexpr uint64_t kUserBase = 0x0000'0080'0000'0000;
inline constexpr uint64_t kUserImageSize = 0x1000'0000;  // programs are linked in the first 256 MiB
// Stacks: in each FWP, one slot per (thread, call depth), slot thread * kDepthSlots + depth: a
// thread's own program runs at depth 0, a call into the FWP at the call's depth (a thread may
// re-enter an FWP through a cycle of calls, and each entry needs its own stack). Each slot maps
// its top kStackPages and leaves the rest unmapped, so an overflow faults instead of running into
// a neighbour.
// The region starts at 64 GiB into user space, so that kClockSlots threads' slots fit below 1 TiB.
inline constexpr uint64_t kStackRegion = kUserBase + 0x10'0000'0000;
inline constexpr uint64_t kStackSlot = 0x1'0000;  // 64 KiB of address space per slot
inline constexpr uint64_t kStackPages = 4;       // 16 KiB mapped
inline constexpr uint64_t kDepthSlots = 9;       // the core's maximum call depth (8), plus one
inline constexpr uint64_t kUserEnd = 0x0000'0100'0000'0000;  // 1 TiB: end of slot 1
static_assert(kStackRegion + 65536 * kDepthSlots * kStackSlot <= kUserEnd, "every thread's stack slots in user space");

// The clock pages, mapped read-only at kClockPage in every FWP: how much user-mode CPU time each
// thread has had, so that a job's work is CPU time, not a count of instructions (which would not
// be time when several CPUs share an instruction-counted clock, as under QEMU's -icount). Slot i
// belongs to the thread with index i (the kernel passes it to the thread's program, and to every
// call the thread makes). While the thread runs in user mode its user time, in TSC ticks, is
// TSC + base (mod 2^64): the kernel sets base = (user time so far) - (TSC at the return) at every
// return of the thread to user mode. Time outside user mode makes base strictly smaller, so a
// reader that sees the same base before and after reading the TSC was not interrupted in between.
struct ClockSlot {
  uint64_t base;
  uint64_t ns_mult;  // ns = ticks * ns_mult >> 32 (the same in every slot, for the whole run)
};
// The most threads a kernel runs (it runs the scenario's, and maps the clock pages they need:
// 256 threads a page); kClockPages is the address space reserved for them.
inline constexpr uint32_t kClockSlots = 65536;
inline constexpr uint64_t kClockPages = kClockSlots * sizeof(ClockSlot) / 4096;
// In the first GiB of user space with the image and the heap, so that one page directory maps
// all three (page tables are a good part of a small FWP's memory).
inline constexpr uint64_t kClockPage = kUserBase + 0x1800'0000;
static_assert(kClockPage >= kUserBase + kUserImageSize && kClockPage + kClockPages * 4096 <= kUserBase + 0x2000'0000);

// System calls: `syscall` with the number in rax and arguments in rdi, rsi, rdx, r10; the result
// in rax (>= 0, or a negative error), a second one in rdx.
enum Syscall : uint64_t {
  kSysJob = 0,           // (plan): the current job's plan (its work in ns of CPU time), rdx: its job number
  kSysComplete = 1,      // completes the job; -> the next job's work when it is released
  kSysCall = 2,          // (slot, arg): invoke through capability `slot` -> the callee's reply
  kSysReply = 3,         // (value): return from the innermost call
  kSysNotify = 4,        // (slot)
  kSysWait = 5,          // (slot) -> 1 if a signal was pending, 0 after blocking for one
  kSysRingSend = 6,      // (slot, buffer, length)
  kSysRingReceive = 7,   // (slot, buffer, capacity) -> length, rdx: 1 if more messages wait
  kSysYield = 8,
  kSysExit = 9,          // the calling FWP ends (its threads with it)
  kSysFwpSpawn = 10,     // (with_cap) -> a new FWP of the caller's own kind, within its template's quota;
                         //   with_cap 1: rdx is the caller's invoke capability to it (~0 if its table is full)
  kSysMarker = 11,       // (value): a trace marker
  kSysPuts = 12,         // (string, length): text to the kernel console, prefixed with the FWP
  kSysNicInfo = 13,      // (NicInfo*): the NIC granted to this FWP; refused in every FWP but the driver's
  kSysMemMap = 14,       // (pages): that many zeroed pages more (at most kMemMapMaxPages) at the end of the FWP's heap -> their address
  kSysNetInfo = 15,      // (NetInfo*): the FWP's part in the network path (driver, bound tenant, or none)
  kSysReady = 16,        // the FWP's initialisation is done: its template's checkpoint -> 0, or 1 if one was taken already
  kSysNetDrop = 17,      // (cause): the driver FWP dropped a frame (a net::DropCause) -> a pkt_drop trace record;
                         //   refused in every FWP but a driver's, and for a cause out of range
  // The driver FWP's side of the network path (below, "The network path"); each is refused in
  // every FWP but a driver's.
  kSysNetDeliver = 18,   // (buffer, length): a NetHeader and its payload, to the tenant bound to the header's
                         //   local_port -> 0; kNotFound if none is (nothing recorded), kWouldBlock if its ring is full
                         //   (a pkt_drop record, cause ring_full)
  kSysNetFlush = 19,     // (): signals each tenant delivered to since the last flush (one job each) -> how many
  kSysNetCollect = 20,   // (buffer, capacity): the oldest waiting reply of any tenant, its NetHeader and payload ->
                         //   its length, 0 if none waits; rdx: 1 if more wait
  kSysMemLeft = 21,      // (): the pages the FWP's heap may still grow by under its template's memory budget
                         //   (kSysMemMap refuses more, out_of_capacity; so it does when the machine has no more)
  kSysFlowCall = 22,     // (buffer, length, capacity): a per-client front's request (NetHeader and payload, `length`
                         //   bytes of `buffer`) into the FWP of its flow, made from the front's template if new ->
                         //   its replies, in `buffer` (at most `capacity` <= kFlowPageBytes), and their length
                         //   (see "Per-client FWPs" below); refused in every FWP but a per-client front
  kSysCount = 23,
};

// Checkpoints (EdgeOS's FWP templates): when an FWP calls kSysReady, the kernel copies its writable
// pages (the image's data and its heap) into its template's checkpoint; every FWP made from the
// template afterwards (spawned, or taken from the pool) starts from copies of those pages instead of
// the image's initial data: code shared, data and heap copied, initialisation not run again. A
// thread still starts at its program's entry: the program sees its state initialised (a pointer in
// its data, say) and goes straight to serving. At most kCheckpointHeapPages of heap.
inline constexpr uint64_t kCheckpointHeapPages = 256;
// Calls into an FWP with this in the argument's top byte are probes of a checkpoint program's state
// (kProgramCheckpoint): see fwp/programs.cpp.
inline constexpr uint64_t kProbeMagic = 0xC7ull << 56;
// A call with this in the argument's top byte reads a word of each of the callee's first (low 16
// bits) heap pages and replies their sum (bench-spawn: the cost of a copy's first access).
inline constexpr uint64_t kTouchMagic = 0xC8ull << 56;
// The trace marker bench-spawn leaves before its round of creations from a checkpoint.
inline constexpr uint64_t kCheckpointRoundMarker = 0xC4EC;

// The heap: pages an FWP asks for (kSysMemMap), mapped at kHeapWindow onwards in the order asked,
// private to the FWP and freed with it (or when it is recycled), at most kHeapMaxPages.
inline constexpr uint64_t kHeapWindow = kUserBase + 0x2000'0000;  // the first GiB's page directory, with the image
inline constexpr uint64_t kHeapMaxPages = 4096;  // 16 MiB
// Pages one kSysMemMap may ask for (more take more calls; the heap stays contiguous): the kernel is
// not preemptible, so each call's work is bounded.
inline constexpr uint64_t kMemMapMaxPages = 64;

// The network path (kernel_backend/README.md, "Networking"). For every FWP the scenario binds UDP
// ports to (a tenant of n instances binds port + k to its instance k), the kernel makes two rings
// between the server's driver FWP and that FWP (to it, and back) and a notification bound to its
// first sporadic thread, so that each signal releases one of its jobs. A message in either ring is
// a NetHeader and the payload. The tenant reaches its rings through capabilities (NetInfo); the
// driver through the kernel's port table (kSysNetDeliver, kSysNetFlush, kSysNetCollect), so that
// one driver serves any number of tenants and finds each in O(log n).
struct NetHeader {
  uint32_t peer_ipv4;   // the client's address (host byte order)
  uint16_t peer_port;   // its UDP port
  uint16_t local_port;  // the bound port it sent to (replies go out from it)
  uint8_t peer_mac[6];  // where a reply goes on the wire (the driver fills it; tenants copy it back)
  uint16_t length;      // payload bytes that follow
  uint32_t service_cycles;  // in a reply: the TSC cycles the tenant took for its request (benchmarks)
};
inline constexpr uint32_t kNetSlotSize = 1472 + sizeof(NetHeader);  // a full UDP payload on Ethernet
// Slots of the ring towards a tenant, and of the ring back: a request may have many reply
// datagrams (a memcached get of 30 keys, one per hit), all sent before the driver's next poll.
inline constexpr uint32_t kNetRxSlots = 32;
inline constexpr uint32_t kNetTxSlots = 64;
inline constexpr uint64_t kNetRingBytes = uint64_t{kNetRxSlots + kNetTxSlots} * (4 + kNetSlotSize);  // in the kernel, per bound FWP
struct NetBinding {
  uint16_t ports[8];
  uint32_t num_ports;
  uint32_t to_slot;      // the send capability of the ring towards the driver
  uint32_t from_slot;    // the receive capability of the ring from it
  uint32_t flags;        // kNetPerClient: this FWP is a per-client front
};
inline constexpr uint32_t kNetPerClient = 1;

// Per-client FWPs (EdgeOS's per-client isolation). A tenant whose template is `per_client` is a
// front: its FWP takes the datagrams of its port from its ring as any tenant does, and hands each
// to kSysFlowCall. The kernel keeps a flow table per front, by the client's address and port: a
// client it has not seen gets an FWP made from the front's template (from its checkpoint: the
// front calls kSysReady once initialised), a client idle longer than the template's
// `idle_timeout` loses its FWP (recycled to the pool). The request is copied into the flow FWP's
// flow page (kFlowPage, a page of its own, emptied when the FWP is recycled) and the calling
// thread runs in the flow FWP, on its own budget, from its invoke entry with kFlowMagic: the flow
// FWP answers from its own state, writes its replies into the flow page as records (a NetHeader,
// then its payload, one after another) and replies with their total length. The kernel copies
// them back into the front's buffer, each record's addresses set to the client's (a flow FWP
// answers its own client only), and kSysFlowCall returns their length; the front sends them on.
inline constexpr uint64_t kFlowPage = kUserBase + 0x1C00'0000;
inline constexpr uint64_t kFlowPageBytes = 4096;
inline constexpr uint64_t kFlowMagic = 0xC9ull << 56;  // the call's argument: low 16 bits the request's length
static_assert(kFlowPage >= kClockPage + kClockPages * 4096 && kFlowPage + kFlowPageBytes <= kUserBase + 0x2000'0000);
enum NetRole : uint32_t { kNetNone = 0, kNetDriver = 1, kNetTenant = 2 };
struct NetInfo {
  uint32_t role;
  uint32_t ipv4;  // the NIC's address (host byte order)
  uint8_t mac[6];
  uint16_t reserved;
  uint32_t num_bindings;  // driver: the bound FWPs it serves (through the port table); tenant: 1
  NetBinding bindings[1];  // a tenant's: its rings and ports
};

// The NIC a driver FWP drives (EdgeOS's kernel bypass): the kernel grants the machine's network
// device to the FWP whose thread runs the `nic-driver` program, and only to it, by mapping the
// device's memory BARs (uncached) at kDeviceWindow + bar * kDeviceBarSlot and a DMA region of
// kDmaPages frames at kDmaWindow, whose physical addresses it reports here. No other FWP has
// either mapping. There is no IOMMU: the device reaches all of memory, so the driver is trusted
// with it, as in EdgeOS; the kernel turns the device's bus mastering off when the driver FWP ends.
inline constexpr uint64_t kDeviceWindow = kUserBase + 0x4000'0000;
inline constexpr uint64_t kDeviceBarSlot = 0x100'0000;  // 16 MiB of address space per BAR
inline constexpr uint64_t kDmaWindow = kUserBase + 0x5000'0000;
inline constexpr uint32_t kDmaPages = 256;  // 1 MiB
enum NicModel : uint32_t { kNicNone = 0, kNicVirtio = 1, kNicE1000 = 2 };
struct NicVirtioCap {  // a virtio 1.0 PCI capability (virtio 1.0, 4.1.4)
  uint32_t cfg_type;   // 1 common, 2 notify, 3 ISR, 4 device-specific, 5 PCI config access
  uint32_t bar;
  uint32_t offset;
  uint32_t length;
  uint32_t notify_off_multiplier;
};
struct NicInfo {
  uint32_t model;
  uint32_t num_virtio;
  uint64_t bar_va[6];    // 0: not mapped (absent, or an I/O BAR)
  uint64_t bar_size[6];
  NicVirtioCap virtio[8];
  uint64_t dma_va;
  uint64_t dma_pa[kDmaPages];  // the physical address of each DMA page
};

// Errors, as negative results (the values of edgeos::Error, negated).
inline constexpr int64_t kErrInvalid = -1;
inline constexpr int64_t kErrNotFound = -3;
inline constexpr int64_t kErrWouldBlock = -8;

// The entry of an FWP's program: _start(program, thread) for a thread's own program, and
// _invoke(arg, thread) for calls into the FWP (`thread`: the running thread's clock slot). Programs (fwp/programs.cpp) are numbered:
enum Program : uint64_t {
  kProgramTask = 0,     // spins each job's work; makes the job's calls (their work, in ns, as argument)
  kProgramServer = 1,   // only serves calls: spins the work it is given (ns of CPU time) and replies
  // Benchmarks (bench/boot_bench.py): each times a loop of system calls with the TSC and prints
  // "bench NAME ROUNDS CYCLES" on the console, then exits.
  kBenchYield = 2,      // yields 1000 times (to a peer of equal priority in another FWP)
  kBenchCall = 3,       // 1000 unknown system calls (the floor), then 1000 calls through capability 0 (call + reply, empty callee)
  kBenchSpawn = 4,      // spawns 2 x 200 FWPs of its own kind, timing each half
  kProgramNicDriver = 5,  // drives the granted NIC (kernel_backend/drivers): polls it once per job
  // Tenants of the network path: each job serves the datagrams waiting in the tenant's ring.
  kProgramUdpEcho = 6,    // sends every datagram back
  kProgramCoap = 7,       // a CoAP server with sensor resources (fwp/apps/coap)
  kProgramMemcached = 8,  // memcached over UDP (fwp/apps/memcached), 256 KiB of items
  kProgramCheckpoint = 9, // initialises once, checkpoints (kSysReady), spawns copies and probes them by calls
  // Hostile programs, for the isolation tests: each does one forbidden thing.
  kHostileFirst = 16,
  kHostileWriteKernel = 16,
  kHostileReadKernel,
  kHostileWriteOtherFwp,
  kHostileReadUnmapped,
  kHostileExecuteData,
  kHostileCli,
  kHostileHlt,
  kHostileWrmsr,
  kHostileOut,
  kHostileLgdt,
  kHostileDivideByZero,
  kHostileStackOverflow,
  kHostileBadSyscall,
  kHostileBadPointer,
  kHostileCallDepth,
  kHostileSpin,
  kHostileForkBomb,
  kHostileTouchDevice,  // asks for the NIC, then reads the device and DMA windows
  // Seeded random system calls (fwp/programs.cpp, "the system-call fuzzer"): its first job's work,
  // in ns, is the number of calls; the seed is the scenario's (rdx at the thread's start).
  kHostileSyscallFuzz,
  // Fills a heap page, calls into its capability 0 with kFuzzOpComplete (the callee completes the
  // caller's job inside the call, naming its own heap page for the next plan) and reports, once the
  // call is back, what it returned and whether its own page is intact (the callee's FWP is meant to
  // be killed by a thread of its own while the caller waits in it).
  kHostileCompleteInCallee,
  kHostileLast = kHostileCompleteInCallee,
};
// Calls into an FWP with this in the argument's top byte come from the system-call fuzzer: bits
// 48-55 an operation (kFuzzOpExit: the callee FWP exits inside the call; kFuzzOpNested: the callee
// issues a few random system calls of its own, seeded by the low 40 bits, then replies).
inline constexpr uint64_t kFuzzMagic = 0xF2ull << 56;
inline constexpr uint64_t kFuzzOpExit = 1;
inline constexpr uint64_t kFuzzOpNested = 2;
inline constexpr uint64_t kFuzzOpComplete = 3;  // the callee maps a heap page and completes the job there

}  // namespace edgeos::abi
