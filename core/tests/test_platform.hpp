// A Platform test double: time is set by the test, and every call the kernel makes is recorded.
#pragma once

#include <memory>
#include <vector>

#include "edgeos/core/kernel.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"

namespace edgeos::testing {

struct ManualPlatform {
  Instant clock = Instant::epoch();
  std::vector<Instant> timers;           // armed instant, by CPU
  std::vector<Thread*> running;          // last switch_to, by CPU
  std::vector<TraceRecord> records;
  int switches = 0;
  int instantiations = 0, resets = 0, releases = 0;
  Status instantiate_result = Status::ok();
  Status reset_result = Status::ok();

  explicit ManualPlatform(size_t cpus = 1) : timers(cpus, Instant::never()), running(cpus, nullptr) {}

  Instant now() const { return clock; }
  void arm_timer(CpuId cpu, Instant when) { timers[cpu] = when; }
  void switch_to(CpuId cpu, Thread* t) {
    running[cpu] = t;
    ++switches;
  }
  void charge_overhead(CpuId, Overhead) {}
  void trace(const TraceRecord& r) { records.push_back(r); }
  Status fwp_instantiate(Fwp&, const FwpTemplate&) {
    ++instantiations;
    return instantiate_result;
  }
  Status fwp_reset(Fwp&, const FwpTemplate&) {
    ++resets;
    return reset_result;
  }
  void fwp_release(Fwp&) { ++releases; }

  size_t count(TraceEvent e) const {
    size_t n = 0;
    for (const TraceRecord& r : records) n += r.event == e ? 1 : 0;
    return n;
  }
};

static_assert(Platform<ManualPlatform>);

// A kernel over heap storage with fixed capacities, for tests.
struct TestKernel {
  ManualPlatform platform;
  std::vector<std::unique_ptr<FixedPriorityScheduler>> fp;
  std::vector<std::unique_ptr<EdfScheduler>> edf;
  std::vector<std::vector<EdfScheduler::Entry>> edf_storage;
  std::vector<Scheduler*> scheds;
  std::unique_ptr<CpuState[]> cpus;
  std::unique_ptr<Thread[]> threads;
  std::unique_ptr<SchedContext[]> scs;
  std::unique_ptr<Fwp[]> fwps;
  std::unique_ptr<FwpTemplate[]> templates;
  std::unique_ptr<Notification[]> notifications = std::make_unique<Notification[]>(8);
  std::unique_ptr<Ring[]> rings = std::make_unique<Ring[]>(4);
  std::unique_ptr<Kernel<ManualPlatform>> kernel;

  explicit TestKernel(size_t num_cpus = 1, bool use_edf = false, size_t max_threads = 16, size_t max_fwps = 4,
                      size_t max_templates = 2)
      : platform(num_cpus) {
    for (size_t i = 0; i < num_cpus; ++i) {
      if (use_edf) {
        edf_storage.emplace_back(max_threads);
        edf.push_back(std::make_unique<EdfScheduler>(
            Span<EdfScheduler::Entry>(edf_storage.back().data(), edf_storage.back().size())));
        scheds.push_back(edf.back().get());
      } else {
        fp.push_back(std::make_unique<FixedPriorityScheduler>());
        scheds.push_back(fp.back().get());
      }
    }
    cpus = std::make_unique<CpuState[]>(num_cpus);
    threads = std::make_unique<Thread[]>(max_threads);
    scs = std::make_unique<SchedContext[]>(max_threads);
    fwps = std::make_unique<Fwp[]>(max_fwps);
    templates = std::make_unique<FwpTemplate[]>(max_templates);
    KernelStorage s{Span<CpuState>(cpus.get(), num_cpus), Span<Scheduler* const>(scheds.data(), scheds.size()),
                    Span<Thread>(threads.get(), max_threads), Span<SchedContext>(scs.get(), max_threads),
                    Span<Fwp>(fwps.get(), max_fwps), Span<FwpTemplate>(templates.get(), max_templates),
                    Span<Notification>(notifications.get(), 8), Span<Ring>(rings.get(), 4)};
    kernel = std::make_unique<Kernel<ManualPlatform>>(platform, s, KernelOptions{true});
  }

  Kernel<ManualPlatform>& k() { return *kernel; }

  // The timer of `cpu` fires: like a real one-shot timer it is spent, then the kernel runs.
  void fire(CpuId cpu) {
    platform.timers[cpu] = Instant::never();
    kernel->timer_expired(cpu);
  }
};

}  // namespace edgeos::testing
