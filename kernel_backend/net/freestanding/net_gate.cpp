// The packet stack's freestanding gate: packet.cpp and stack.cpp compiled as FWP code is
// (-ffreestanding -fno-exceptions -fno-rtti -mgeneral-regs-only, and with no header search path
// but the compiler's own, so only <stddef.h>/<stdint.h>-level headers exist), linked with no C or
// C++ runtime, and run: a peer's ARP request, echo request and UDP datagram go through a Stack,
// and the program exits 0 only if the answers are right. A stack that starts to need libc, the
// heap, exceptions or floating point stops compiling or linking here.
//
// The environment it supplies is the least a freestanding program needs: the entry point, two
// system calls; memcpy/memset/memcmp (which GCC may emit for struct copies and fills) are the
// kernel's own, kernel_backend/lib/mem.cpp.
#include "edgeos/net/stack.hpp"

namespace {

long syscall3(long n, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

void print(const char* s) {
  long n = 0;
  while (s[n] != '\0') ++n;
  syscall3(1, 2, reinterpret_cast<long>(s), n);  // write(2, s, n)
}

}  // namespace

extern "C" {
// The memory functions are kernel_backend/lib/mem.cpp, as in the kernel and the FWP image.
void* memcpy(void*, const void*, __SIZE_TYPE__);
void* memmove(void*, const void*, __SIZE_TYPE__);
void* memset(void*, int, __SIZE_TYPE__);
int memcmp(const void*, const void*, __SIZE_TYPE__);
int net_gate_main();
}

asm(".globl _start\n"
    "_start:\n"
    "  xor %rbp, %rbp\n"
    "  and $-16, %rsp\n"
    "  call net_gate_main\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"  // exit
    "  syscall\n");

namespace {

using namespace edgeos::net;

constexpr MacAddress kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
constexpr MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr uint32_t kOurIp = ipv4(10, 0, 2, 15);
constexpr uint32_t kPeerIp = ipv4(10, 0, 2, 2);

int fail(const char* what) {
  print("net freestanding gate: ");
  print(what);
  print("\n");
  return 1;
}

int run() {
  Stack stack(StackConfig{kOurMac, kOurIp});
  uint8_t frame[kMaxFrameLen];
  uint8_t reply[kMaxFrameLen];

  // ARP: the peer asks for us; we answer and learn it.
  size_t n = build_arp_request(kPeerMac, kPeerIp, kOurIp, frame, sizeof frame);
  Verdict v = stack.receive(frame, n, reply, sizeof reply);
  if (v.kind != Verdict::Kind::kReply) return fail("ARP request not answered");
  ArpView arp;
  if (parse_arp(reply + kEthHeaderLen, v.reply_len - kEthHeaderLen, arp) != DropCause::kNone || arp.op != kArpOpReply ||
      arp.sha != kOurMac || arp.spa != kOurIp || arp.tha != kPeerMac || arp.tpa != kPeerIp) {
    return fail("bad ARP reply");
  }
  MacAddress learnt;
  if (!stack.arp_cache().lookup(kPeerIp, learnt) || learnt != kPeerMac) return fail("peer not learnt");

  // UDP: the peer's datagram is delivered; a reply goes back to it.
  const uint8_t request[5] = {'h', 'e', 'l', 'l', 'o'};
  UdpEndpoints ends{kPeerMac, kPeerIp, 40000, kOurMac, kOurIp, 7};
  n = build_udp_frame(ends, 1, request, sizeof request, frame, sizeof frame);
  v = stack.receive(frame, n, reply, sizeof reply);
  if (v.kind != Verdict::Kind::kDeliver || v.udp.dst_port != 7 || v.udp.src_port != 40000 || v.udp.src_ip != kPeerIp ||
      v.udp.payload_len != sizeof request || memcmp(v.udp.payload, request, 5) != 0) {
    return fail("UDP datagram not delivered");
  }
  n = stack.build_udp_reply(v.udp, request, sizeof request, reply, sizeof reply);
  Ipv4View ip;
  UdpView udp;
  if (n == 0 || parse_ipv4(reply + kEthHeaderLen, n - kEthHeaderLen, ip) != DropCause::kNone ||
      parse_udp(ip.payload, ip.payload_len, ip.src, ip.dst, udp) != DropCause::kNone || ip.dst != kPeerIp ||
      udp.dst_port != 40000 || udp.src_port != 7 || udp.checksum == 0) {
    return fail("bad UDP reply");
  }

  // ICMP: an echo request (made from the UDP frame: same addresses, protocol and payload changed).
  n = build_udp_frame(ends, 2, request, sizeof request, frame, sizeof frame);
  uint8_t* ip_header = frame + kEthHeaderLen;
  ip_header[9] = kIpProtoIcmp;
  store_be16(ip_header + 10, 0);
  store_be16(ip_header + 10, internet_checksum(ip_header, kIpv4MinHeaderLen));
  uint8_t* icmp = ip_header + kIpv4MinHeaderLen;  // 13 bytes: 8 of header, 5 of data
  icmp[0] = kIcmpEchoRequest;
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be16(icmp + 4, 0x1234);
  store_be16(icmp + 6, 1);
  store_be16(icmp + 2, internet_checksum(icmp, kIcmpHeaderLen + sizeof request));
  v = stack.receive(frame, n, reply, sizeof reply);
  IcmpEchoView echo;
  if (v.kind != Verdict::Kind::kReply ||
      parse_ipv4(reply + kEthHeaderLen, v.reply_len - kEthHeaderLen, ip) != DropCause::kNone ||
      parse_icmp(ip.payload, ip.payload_len, echo) != DropCause::kNone || echo.type != kIcmpEchoReply ||
      echo.id != 0x1234 || echo.seq != 1 || echo.data_len != sizeof request) {
    return fail("echo request not answered");
  }

  // A runt is dropped and counted.
  v = stack.receive(frame, 10, reply, sizeof reply);
  if (v.kind != Verdict::Kind::kDrop || v.cause != DropCause::kRunt ||
      stack.counters().dropped(DropCause::kRunt) != 1) {
    return fail("runt not dropped");
  }
  print("net freestanding gate: ok\n");
  return 0;
}

}  // namespace

int net_gate_main() { return run(); }
