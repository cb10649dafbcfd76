// The replay sender when edgeos is built without DPDK (pkg-config found no libdpdk).
#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/replay.hpp"

namespace edgeos::replay {

bool dpdk_built() { return false; }

Result replay(const Plan&, const Options&) {
  throw InputError("replay: this edgeos was built without DPDK (pkg-config found no libdpdk; on Debian install "
                   "libdpdk-dev and configure again)");
}

}  // namespace edgeos::replay
