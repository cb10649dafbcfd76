// Per-client FWPs in the simulators (see per_client.hpp).
#include "edgeos/simulator/per_client.hpp"

#include <algorithm>

namespace edgeos::sim {

void PerClientFronts::add(uint32_t target, std::string tenant, TemplateId tmpl, Duration idle_timeout, Duration create_cost) {
  front_of_target_[target] = static_cast<uint32_t>(fronts_.size());
  Front& f = fronts_.emplace_back();
  f.tenant = std::move(tenant);
  f.tmpl = tmpl;
  f.idle_timeout = idle_timeout;
  f.create_cost = create_cost;
}

bool PerClientFronts::admit(arrivals::Arrival& a) {
  const auto it = front_of_target_.find(a.target);
  if (it == front_of_target_.end()) return true;
  Front& f = fronts_[it->second];
  // 1. Clients idle past the timeout give their FWPs back.
  while (!f.lru.empty() && f.lru.front().last_use + f.idle_timeout <= a.time) {
    (void)kernel_.fwp_terminate(f.lru.front().fwp);  // gone already (a fault): nothing to do
    ++f.counts.recycled;
    f.by_client.erase(f.lru.front().client);
    f.lru.pop_front();
  }
  // 2. The client's flow, or a new one.
  if (const auto known = f.by_client.find(a.tag); known != f.by_client.end()) {
    known->second->last_use = a.time;
    f.lru.splice(f.lru.end(), f.lru, known->second);
    return true;
  }
  const Result<FwpId> fwp = kernel_.fwp_spawn(f.tmpl);
  if (!fwp) {
    ++f.counts.refused;
    return false;
  }
  f.lru.push_back(Front::Flow{a.tag, *fwp, a.time});
  f.by_client[a.tag] = std::prev(f.lru.end());
  ++f.counts.made;
  f.counts.peak_live = std::max<uint64_t>(f.counts.peak_live, f.lru.size());
  a.setup += f.create_cost;
  return true;
}

}  // namespace edgeos::sim
