// edgeos-coap-udp: the sensor tenant's CoAP server behind a loopback UDP socket, for real clients
// in tests (flags: see edgeos/net/udp_serve.hpp).
#include "edgeos/apps/coap/sensors.hpp"
#include "edgeos/apps/coap/server.hpp"
#include "udp_serve.hpp"

#include <cstdio>

namespace {

using namespace edgeos::apps::coap;

constexpr ServerConfig kConfig{};
alignas(Server::kMemoryAlign) uint8_t g_memory[Server::memory_needed(kConfig)];
// constinit, as in a tenant FWP, which has no C++ runtime to run constructors.
constinit Server g_server;
constinit SensorBoard g_board;

}  // namespace

int main(int argc, char** argv) {
  if (g_server.init(kConfig, g_memory, sizeof g_memory) != Status::kOk ||
      add_sensor_resources(g_server, g_board) != Status::kOk) {
    std::fprintf(stderr, "%s: cannot set up the CoAP server\n", argv[0]);
    return 1;
  }
  return edgeos::net::udp_serve_main(argc, argv, g_server);
}
