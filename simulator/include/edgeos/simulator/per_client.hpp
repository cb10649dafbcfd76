// Per-client FWPs in the simulators, kept as the booted kernel keeps them
// (kernel_backend/kernel/flows.cpp; EdgeOS's per-client isolation).
//
// A tenant whose template is `per_client` is a front: every client that sends it a request gets
// an FWP of its own, made from the template at the client's first request and terminated once the
// client has been idle for the template's `idle_timeout`. Here the client of an arrival is its tag:
// the client number of a `clients` workload (other workloads carry none, tag 0 for most: one
// client). At each arrival for a front, as the kernel does at each request:
//   1. flows idle for the timeout or longer (last use + timeout <= now) are recycled, oldest first
//      (Kernel::fwp_terminate: an fwp_destroy record, the FWP back to the template's pool);
//   2. a known client's flow is used again; a new client's FWP is made (Kernel::fwp_spawn: from
//      the pool, or created; fwp_activate / fwp_create records), and the template's `create_cost`
//      is added to the request's job (Arrival::setup); when the template's max_instances leaves
//      no room (the front is one of its instances) the request is refused, as the kernel refuses
//      it with out_of_capacity.
// The kernel does this when the front's job takes the request (kSysFlowCall), the simulator when
// the request arrives: under load the two instants differ by the request's queueing.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeos/simulator/core_sim.hpp"

namespace edgeos::sim {

class PerClientFronts {
 public:
  struct Counts {
    uint64_t made = 0;       // FWPs made for new clients
    uint64_t recycled = 0;   // terminated after the idle timeout
    uint64_t refused = 0;    // requests of new clients with no room for their FWP
    uint64_t peak_live = 0;  // the most flows at once
  };
  struct Front {
    std::string tenant;
    TemplateId tmpl;
    Duration idle_timeout;
    Duration create_cost;
    Counts counts;
    uint64_t live() const { return lru.size(); }

    struct Flow {
      uint64_t client;
      FwpId fwp;
      Instant last_use;
    };
    std::list<Flow> lru;  // oldest use first
    std::unordered_map<uint64_t, std::list<Flow>::iterator> by_client;
  };

  explicit PerClientFronts(SimKernel& kernel) : kernel_(kernel) {}

  // Makes target index `target` (a thread instance of the front's FWP) a front's.
  void add(uint32_t target, std::string tenant, TemplateId tmpl, Duration idle_timeout, Duration create_cost);
  bool empty() const { return fronts_.empty(); }
  // CoreSimulator's admission hook: false refuses the arrival.
  bool admit(arrivals::Arrival& a);
  const std::vector<Front>& fronts() const { return fronts_; }

 private:
  SimKernel& kernel_;
  std::vector<Front> fronts_;
  std::unordered_map<uint32_t, uint32_t> front_of_target_;
};

}  // namespace edgeos::sim
