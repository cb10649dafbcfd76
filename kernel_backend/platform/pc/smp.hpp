// Starting the other CPUs of a PC (the MP start-up protocol of Intel SDM vol. 3A, 8.4.4, with
// the code of arch/x86_64/ap_boot.S).
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::pc {

// Starts the CPU whose local APIC ID is `apic_id`: it runs entry(index) in long mode on the
// kernel's page tables with `stack_top` as its stack. `page` is a free, identity-mapped page below
// 1 MiB for the start-up code. Returns once `*started` (which entry must set) is true, or false
// after 100 ms without it.
bool start_cpu(uint64_t page, uint32_t apic_id, uint32_t index, uint64_t stack_top, void (*entry)(uint32_t),
               const volatile bool* started);

}  // namespace edgeos::pc
