// The memcached application with no C or C++ runtime (see CMakeLists.txt): a static region, a few
// requests through handle(), the replies compared with what memcached sends. Exits 0 if all match.
// The environment it needs is here: the entry point and write/exit system calls; the memory
// functions are kernel_backend/lib/mem.cpp, as in the kernel and the FWP image.
#include <stddef.h>
#include <stdint.h>

#include "edgeos/apps/memcached/engine.hpp"

namespace {

long syscall3(long n, long a, long b, long c) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

void print(const char* s) {
  long n = 0;
  while (s[n] != '\0') ++n;
  syscall3(1, 2, reinterpret_cast<long>(s), n);
}

}  // namespace

extern "C" {
// The memory functions are kernel_backend/lib/mem.cpp, as in the kernel and the FWP image.
void* memcpy(void*, const void*, __SIZE_TYPE__);
void* memmove(void*, const void*, __SIZE_TYPE__);
void* memset(void*, int, __SIZE_TYPE__);
int memcmp(const void*, const void*, __SIZE_TYPE__);
void __cxa_pure_virtual() {
  print("memcached gate: pure virtual call\n");
  syscall3(60, 4, 0, 0);
}
int gate_main();
}

asm(".globl _start\n"
    "_start:\n"
    "  xor %rbp, %rbp\n"
    "  and $-16, %rsp\n"
    "  call gate_main\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"
    "  syscall\n");

namespace {

using edgeos::apps::memcached::Engine;

// Keeps the reply datagrams' payloads, concatenated.
class Sink final : public edgeos::net::ReplySink {
 public:
  bool send(const uint8_t* data, size_t len) override {
    if (len < 8 || used + (len - 8) > sizeof buffer) return false;
    memcpy(buffer + used, data + 8, len - 8);
    used += len - 8;
    ++datagrams;
    return true;
  }
  uint8_t buffer[8192];
  size_t used = 0;
  int datagrams = 0;
};

size_t length(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

alignas(64) uint8_t g_region[64 * 1024];
uint8_t g_request[8192];

// Sends `request` in one datagram; true if the reply payloads are exactly `expected`.
bool exchange(Engine& engine, const char* request, size_t request_len, const char* expected, int datagrams) {
  const uint8_t header[8] = {0x12, 0x34, 0, 0, 0, 1, 0, 0};
  memcpy(g_request, header, 8);
  memcpy(g_request + 8, request, request_len);
  Sink sink;
  engine.handle(edgeos::net::Peer{0x7f000001, 11211}, g_request, request_len + 8, sink);
  const size_t n = length(expected);
  if (sink.used != n || memcmp(sink.buffer, expected, n) != 0 || sink.datagrams != datagrams) {
    print("memcached gate: unexpected reply to: ");
    print(request);
    print("\n");
    return false;
  }
  return true;
}

bool exchange(Engine& engine, const char* request, const char* expected, int datagrams = 1) {
  return exchange(engine, request, length(request), expected, datagrams);
}

}  // namespace

int gate_main() {
  Engine engine;
  if (!engine.init(g_region, sizeof g_region)) {
    print("memcached gate: init failed\n");
    return 1;
  }
  bool ok = exchange(engine, "set a 5 0 3\r\nabc\r\n", "STORED\r\n") &&
            exchange(engine, "get a b\r\n", "VALUE a 5 3\r\nabc\r\nEND\r\n", 2) &&
            exchange(engine, "set n 0 0 2\r\n10\r\ndecr n 1\r\nget n\r\n", "STORED\r\n9\r\nVALUE n 0 2\r\n9 \r\nEND\r\n", 3) &&
            exchange(engine, "bogus\r\n", "ERROR\r\n");
  // A value of 3,000 bytes comes back in three datagrams.
  static char big[3100];
  memcpy(big, "set big 0 0 3000\r\n", 18);
  memset(big + 18, 'x', 3000);
  memcpy(big + 3018, "\r\n", 2);
  ok = ok && exchange(engine, big, 3020, "STORED\r\n", 1);
  static char expect[3100];
  memcpy(expect, "VALUE big 0 3000\r\n", 18);
  memset(expect + 18, 'x', 3000);
  memcpy(expect + 3018, "\r\nEND\r\n", 8);
  ok = ok && exchange(engine, "get big\r\n", expect, 3) && engine.store().check_invariants();
  if (ok) print("memcached gate: ok\n");
  return ok ? 0 : 1;
}
