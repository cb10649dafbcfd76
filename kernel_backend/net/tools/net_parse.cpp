// edgeos-net-parse: runs every frame of a pcap (Ethernet link type) through one Stack, as the
// driver FWP would, and prints one JSON object per line for each frame:
//
//   {"frame":1,"len":42,"verdict":"reply","cause":"none","reply":"<hex>"}
//   {"frame":2,"len":60,"verdict":"deliver","cause":"none","dst_port":7,"src_ip":"10.0.2.2",
//    "src_port":40000,"payload":"<hex>","udp_reply":"<hex>"}
//   {"frame":3,"len":10,"verdict":"drop","cause":"runt"}
//
// then one line with the counters: {"counters":{...,"drops":{"runt":1,...}},"arp_cache":N}.
// With --echo-udp every delivered datagram is answered, as an echo tenant would, with its own
// payload through Stack::build_udp_reply ("udp_reply"). --reply-cap N gives receive() a reply
// buffer of N bytes (default kMaxFrameLen). Exit code 0, or 2 on a bad argument or unreadable file.
#include <pcap/pcap.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "edgeos/net/stack.hpp"

namespace {

using namespace edgeos::net;

int usage(const char* why) {
  std::fprintf(stderr,
               "edgeos-net-parse: %s\nusage: edgeos-net-parse [--mac XX:XX:XX:XX:XX:XX] [--ip A.B.C.D] [--echo-udp] "
               "[--reply-cap N] FILE.pcap\n",
               why);
  return 2;
}

bool parse_mac(const char* text, MacAddress& out) {
  unsigned b[6];
  char tail;
  if (std::sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
    return false;
  for (int i = 0; i < 6; ++i) out.bytes[i] = static_cast<uint8_t>(b[i]);
  return true;
}

bool parse_ip(const char* text, uint32_t& out) {
  unsigned a[4];
  char tail;
  if (std::sscanf(text, "%3u.%3u.%3u.%3u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4) return false;
  for (unsigned v : a) {
    if (v > 255) return false;
  }
  out = ipv4(static_cast<uint8_t>(a[0]), static_cast<uint8_t>(a[1]), static_cast<uint8_t>(a[2]),
             static_cast<uint8_t>(a[3]));
  return true;
}

std::string hex(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::string dotted(uint32_t ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return buf;
}

void print_counters(const Stack& stack) {
  const Counters& c = stack.counters();
  std::printf(
      "{\"counters\":{\"rx_frames\":%llu,\"udp_delivered\":%llu,\"udp_no_checksum\":%llu,\"ip_options_skipped\":%llu,"
      "\"arp_replies\":%llu,\"arp_learned\":%llu,\"icmp_echo_replies\":%llu,\"drops\":{",
      static_cast<unsigned long long>(c.rx_frames), static_cast<unsigned long long>(c.udp_delivered),
      static_cast<unsigned long long>(c.udp_no_checksum), static_cast<unsigned long long>(c.ip_options_skipped),
      static_cast<unsigned long long>(c.arp_replies), static_cast<unsigned long long>(c.arp_learned),
      static_cast<unsigned long long>(c.icmp_echo_replies));
  for (size_t i = 1; i < kDropCauseCount; ++i) {
    std::printf("%s\"%s\":%llu", i == 1 ? "" : ",", drop_cause_name(static_cast<DropCause>(i)),
                static_cast<unsigned long long>(c.drops[i]));
  }
  std::printf("}},\"arp_cache\":%zu}\n", stack.arp_cache().size());
}

}  // namespace

int main(int argc, char** argv) {
  StackConfig config{MacAddress{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}}, ipv4(10, 0, 2, 15)};
  bool echo_udp = false;
  size_t reply_cap = kMaxFrameLen;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const bool has_value = i + 1 < argc;
    if (std::strcmp(a, "--mac") == 0 && has_value) {
      if (!parse_mac(argv[++i], config.mac)) return usage("bad --mac");
    } else if (std::strcmp(a, "--ip") == 0 && has_value) {
      if (!parse_ip(argv[++i], config.ipv4)) return usage("bad --ip");
    } else if (std::strcmp(a, "--reply-cap") == 0 && has_value) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(argv[++i], &end, 10);
      if (*end != '\0' || v > kMaxFrameLen) return usage("bad --reply-cap");
      reply_cap = v;
    } else if (std::strcmp(a, "--echo-udp") == 0) {
      echo_udp = true;
    } else if (a[0] != '-' && path == nullptr) {
      path = a;
    } else {
      return usage("bad argument");
    }
  }
  if (path == nullptr) return usage("no pcap file");

  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path, err);
  if (p == nullptr) {
    std::fprintf(stderr, "edgeos-net-parse: %s: %s\n", path, err);
    return 2;
  }
  if (pcap_datalink(p) != DLT_EN10MB) {
    std::fprintf(stderr, "edgeos-net-parse: %s: not an Ethernet capture\n", path);
    pcap_close(p);
    return 2;
  }

  Stack stack(config);
  uint8_t reply[kMaxFrameLen];
  uint8_t udp_reply[kMaxFrameLen];
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int r;
  unsigned long frame = 0;
  while ((r = pcap_next_ex(p, &h, &data)) == 1) {
    ++frame;
    // The bytes captured are the frame (a capture cut by its snap length is a truncated frame).
    const Verdict v = stack.receive(data, h->caplen, reply, reply_cap);
    std::printf("{\"frame\":%lu,\"len\":%u,\"verdict\":\"%s\",\"cause\":\"%s\"", frame, h->caplen,
                verdict_kind_name(v.kind), drop_cause_name(v.cause));
    if (v.kind == Verdict::Kind::kReply) std::printf(",\"reply\":\"%s\"", hex(reply, v.reply_len).c_str());
    if (v.kind == Verdict::Kind::kDeliver) {
      std::printf(",\"dst_port\":%u,\"src_ip\":\"%s\",\"src_port\":%u,\"payload\":\"%s\"", v.udp.dst_port,
                  dotted(v.udp.src_ip).c_str(), v.udp.src_port, hex(v.udp.payload, v.udp.payload_len).c_str());
      if (echo_udp) {
        const size_t n = stack.build_udp_reply(v.udp, v.udp.payload, v.udp.payload_len, udp_reply, sizeof udp_reply);
        std::printf(",\"udp_reply\":\"%s\"", hex(udp_reply, n).c_str());
      }
    }
    std::printf("}\n");
  }
  if (r != PCAP_ERROR_BREAK) {
    std::fprintf(stderr, "edgeos-net-parse: %s: frame %lu: %s\n", path, frame + 1, pcap_geterr(p));
    pcap_close(p);
    return 2;
  }
  pcap_close(p);
  print_counters(stack);
  return 0;
}
