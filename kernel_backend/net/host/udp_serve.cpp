// The host's UDP socket loop around a UdpApp (see udp_serve.hpp).
#include "udp_serve.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace edgeos::net {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

class SocketSink final : public ReplySink {
 public:
  SocketSink(int fd, const sockaddr_in& to) : fd_(fd), to_(to) {}
  bool send(const uint8_t* data, size_t len) override {
    return sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_) == static_cast<ssize_t>(len);
  }

 private:
  int fd_;
  sockaddr_in to_;
};

bool parse_number(const char* text, unsigned long long max, unsigned long long& out) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v > max || text[0] == '-') return false;
  out = v;
  return true;
}

int usage(const char* program, const char* why) {
  std::fprintf(stderr, "%s: %s\nusage: %s [--bind ADDR] [--port N] [--max-requests N] [--seconds S]\n", program, why,
               program);
  return 2;
}

}  // namespace

int udp_serve_main(int argc, char** argv, UdpApp& app) {
  std::string bind_addr = "127.0.0.1";
  unsigned long long port = 0, max_requests = 1'000'000, seconds = 60;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = value != nullptr;
    if (flag == "--bind" && ok) {
      bind_addr = value;
    } else if (flag == "--port" && ok) {
      ok = parse_number(value, 65535, port);
    } else if (flag == "--max-requests" && ok) {
      ok = parse_number(value, 1'000'000'000ULL, max_requests);
    } else if (flag == "--seconds" && ok) {
      ok = parse_number(value, 86'400, seconds) && seconds > 0;
    } else {
      return usage(argv[0], ("unknown flag or missing value: " + flag).c_str());
    }
    if (!ok) return usage(argv[0], ("bad value for " + flag + ": " + value).c_str());
    ++i;
  }

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, bind_addr.c_str(), &addr.sin_addr) != 1) {
    return usage(argv[0], ("--bind: not an IPv4 address: " + bind_addr).c_str());
  }
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "%s: cannot bind %s:%llu: %s\n", argv[0], bind_addr.c_str(), port, std::strerror(errno));
    return 2;
  }
  socklen_t alen = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen);
  std::printf("port %u\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  static uint8_t buffer[65536];
  unsigned long long served = 0;
  while (g_stop == 0 && served < max_requests && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) continue;
    SocketSink sink(fd, from);
    app.handle(Peer{ntohl(from.sin_addr.s_addr), ntohs(from.sin_port)}, buffer, static_cast<size_t>(n), sink);
    ++served;
  }
  close(fd);
  return 0;
}

}  // namespace edgeos::net
