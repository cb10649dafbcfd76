#include "smp.hpp"

#include "../../arch/x86_64/cpu.hpp"
#include "../../arch/x86_64/paging.hpp"
#include "timer.hpp"

extern "C" const char ap_trampoline_start[], ap_trampoline_end[], ap_gdt32[], ap_gdt32_ptr[], ap_gdt64[], ap_gdt64_ptr[],
    ap_pm32[], ap_pm32_jump[], ap_lm64[], ap_lm64_jump[], ap_cr3[], ap_efer_bits[], ap_stack_top[], ap_entry[], ap_index[];

namespace edgeos::pc {

namespace {

// The copy of trampoline symbol `sym` in `page`.
template <class T>
void put(uint64_t page, const char* sym, T value) {
  __builtin_memcpy(reinterpret_cast<void*>(page + static_cast<uint64_t>(sym - ap_trampoline_start)), &value, sizeof value);
}
uint32_t in_page(uint64_t page, const char* sym) { return static_cast<uint32_t>(page + static_cast<uint64_t>(sym - ap_trampoline_start)); }

}  // namespace

bool start_cpu(uint64_t page, uint32_t apic_id, uint32_t index, uint64_t stack_top, void (*entry)(uint32_t),
               const volatile bool* started) {
  __builtin_memcpy(reinterpret_cast<void*>(page), ap_trampoline_start, static_cast<size_t>(ap_trampoline_end - ap_trampoline_start));
  put<uint32_t>(page, ap_gdt32_ptr + 2, in_page(page, ap_gdt32));
  put<uint32_t>(page, ap_gdt64_ptr + 2, in_page(page, ap_gdt64));
  put<uint32_t>(page, ap_pm32_jump, in_page(page, ap_pm32));
  put<uint32_t>(page, ap_lm64_jump, in_page(page, ap_lm64));
  put<uint32_t>(page, ap_cr3, static_cast<uint32_t>(x86::kernel_root()));
  put<uint32_t>(page, ap_efer_bits, static_cast<uint32_t>(x86::rdmsr(x86::kMsrEfer) & (1u << 11)));  // NXE
  put<uint64_t>(page, ap_stack_top, stack_top);
  put<uint64_t>(page, ap_entry, reinterpret_cast<uint64_t>(entry));
  put<uint32_t>(page, ap_index, index);
  asm volatile("" ::: "memory");
  // INIT, 10 ms, start-up, 200 us, and a second start-up if the first was missed (8.4.4.1).
  send_init(apic_id);
  delay(Duration::milliseconds(10));
  const uint8_t vector = static_cast<uint8_t>(page >> 12);
  send_startup(apic_id, vector);
  delay(Duration::microseconds(200));
  if (!*started) send_startup(apic_id, vector);
  for (int i = 0; i < 1000 && !*started; ++i) delay(Duration::microseconds(100));
  return *started;
}

}  // namespace edgeos::pc
