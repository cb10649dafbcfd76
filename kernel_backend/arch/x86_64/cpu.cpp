#include "cpu.hpp"

namespace edgeos::x86 {

Features detect_features() {
  Features f;
  const CpuidResult v = cpuid(0);
  const uint32_t regs[3] = {v.ebx, v.edx, v.ecx};
  for (int r = 0; r < 3; ++r) {
    for (int b = 0; b < 4; ++b) f.vendor[r * 4 + b] = static_cast<char>(regs[r] >> (8 * b));
  }
  const uint32_t max_leaf = v.eax;
  const CpuidResult l1 = cpuid(1);
  f.pcid = (l1.ecx >> 17) & 1;
  f.x2apic = (l1.ecx >> 21) & 1;
  f.tsc_deadline = (l1.ecx >> 24) & 1;
  f.hypervisor = (l1.ecx >> 31) & 1;
  if (max_leaf >= 7) {
    const CpuidResult l7 = cpuid(7, 0);
    f.smep = (l7.ebx >> 7) & 1;
    f.invpcid = (l7.ebx >> 10) & 1;
    f.smap = (l7.ebx >> 20) & 1;
  }
  const uint32_t max_ext = cpuid(0x8000'0000).eax;
  if (max_ext >= 0x8000'0001) f.nx = (cpuid(0x8000'0001).edx >> 20) & 1;
  if (max_ext >= 0x8000'0007) f.invariant_tsc = (cpuid(0x8000'0007).edx >> 8) & 1;
  return f;
}

}  // namespace edgeos::x86
