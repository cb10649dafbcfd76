// edgeos-memcached-udp: the memcached tenant application behind a loopback UDP socket, for real
// clients and the tests. `edgeos-memcached-udp [--memory BYTES] [--item-max BYTES] [udp_serve
// flags]`: the cache gets BYTES of memory (default 256 KiB, a tenant's budget when 1,000 tenants
// share 256 MiB) and the host's clock; the rest is udp_serve_main's command line. On exit it
// prints the engine's counters on stdout, one `name value` a line.
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "edgeos/apps/memcached/engine.hpp"
#include "udp_serve.hpp"

namespace {

int64_t unix_seconds(void*) { return static_cast<int64_t>(std::time(nullptr)); }

bool parse_size(const char* text, unsigned long long& out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(text, &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  using edgeos::apps::memcached::Config;
  using edgeos::apps::memcached::Engine;
  unsigned long long memory = 256 * 1024;
  Config config;
  config.clock = unix_seconds;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--memory" || flag == "--item-max") {
      unsigned long long v = 0;
      if (i + 1 >= argc || !parse_size(argv[i + 1], v) || v > (1ULL << 32)) {
        std::fprintf(stderr, "%s: %s needs a byte count\n", argv[0], flag.c_str());
        return 2;
      }
      if (flag == "--memory") {
        memory = v;
      } else {
        config.max_item_bytes = v;
      }
      ++i;
    } else {
      rest.push_back(argv[i]);
    }
  }
  auto region = std::make_unique<unsigned char[]>(memory);
  Engine engine;
  if (!engine.init(region.get(), memory, config)) {
    std::fprintf(stderr, "%s: --memory %llu is below the minimum of %zu bytes\n", argv[0], memory,
                 Engine::kMinRegionBytes);
    return 2;
  }
  rest.push_back(nullptr);
  const int code = edgeos::net::udp_serve_main(static_cast<int>(rest.size() - 1), rest.data(), engine);
  const auto& c = engine.counters();
  const struct {
    const char* name;
    uint64_t value;
  } lines[] = {
      {"datagrams", c.datagrams},       {"dropped_short", c.dropped_short},
      {"dropped_multi", c.dropped_multi}, {"dropped_incomplete", c.dropped_incomplete},
      {"partial_lines", c.partial_lines}, {"commands", c.commands},
      {"get_keys", c.get_keys},         {"get_hits", c.get_hits},
      {"get_misses", c.get_misses},     {"stored", c.stored},
      {"not_stored", c.not_stored},     {"delete_hits", c.delete_hits},
      {"delete_misses", c.delete_misses}, {"incr_hits", c.incr_hits},
      {"incr_misses", c.incr_misses},   {"evictions", c.evictions},
      {"reclaimed", c.reclaimed},       {"errors", c.errors},
      {"too_large", c.too_large},       {"out_of_memory", c.out_of_memory},
      {"tx_datagrams", c.tx_datagrams}, {"tx_failed", c.tx_failed},
      {"items", engine.store().item_count()}, {"chunks", engine.store().total_chunks()},
      {"free_chunks", engine.store().free_chunks()},
  };
  for (const auto& l : lines) std::printf("%s %" PRIu64 "\n", l.name, l.value);
  return code;
}
