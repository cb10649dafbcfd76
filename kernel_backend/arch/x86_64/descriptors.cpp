// GDT, TSS, IDT and the syscall MSRs.
#include "context.hpp"
#include "cpu.hpp"
#include "percpu.hpp"

extern "C" {
// interrupts.S
void syscall_entry();
#define EDGEOS_STUB(n) void isr_##n();
EDGEOS_STUB(0) EDGEOS_STUB(1) EDGEOS_STUB(2) EDGEOS_STUB(3) EDGEOS_STUB(4) EDGEOS_STUB(5) EDGEOS_STUB(6) EDGEOS_STUB(7)
EDGEOS_STUB(8) EDGEOS_STUB(9) EDGEOS_STUB(10) EDGEOS_STUB(11) EDGEOS_STUB(12) EDGEOS_STUB(13) EDGEOS_STUB(14)
EDGEOS_STUB(15) EDGEOS_STUB(16) EDGEOS_STUB(17) EDGEOS_STUB(18) EDGEOS_STUB(19) EDGEOS_STUB(20) EDGEOS_STUB(21)
EDGEOS_STUB(22) EDGEOS_STUB(23) EDGEOS_STUB(24) EDGEOS_STUB(25) EDGEOS_STUB(26) EDGEOS_STUB(27) EDGEOS_STUB(28)
EDGEOS_STUB(29) EDGEOS_STUB(30) EDGEOS_STUB(31) EDGEOS_STUB(48) EDGEOS_STUB(49) EDGEOS_STUB(255)
#undef EDGEOS_STUB
}

namespace edgeos::x86 {

namespace {

struct __attribute__((packed)) Tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
};
static_assert(sizeof(Tss) == 104);

struct __attribute__((packed)) DescriptorPointer {
  uint16_t limit;
  uint64_t base;
};

struct IdtEntry {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attr;
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(IdtEntry) == 16);

// Per CPU: a GDT (its TSS descriptor differs), a TSS, an IST stack. NMI, double fault and
// machine check run on the IST stack (IST 1): they may arrive at any instruction, including while
// return_to_user uses a thread's context as its stack.
struct CpuTables {
  alignas(16) uint64_t gdt[7];
  alignas(16) Tss tss;
  alignas(16) uint8_t ist_stack[8192];
};
CpuTables tables[kMaxCpus];
PerCpu per_cpu[kMaxCpus];
alignas(16) IdtEntry idt[256];
bool idt_ready = false;

void set_gate(uint8_t vector, void (*handler)(), uint8_t ist) {
  const uint64_t a = reinterpret_cast<uint64_t>(handler);
  idt[vector] = IdtEntry{static_cast<uint16_t>(a), kKernelCode, ist, 0x8e,  // present, DPL 0, interrupt gate
                         static_cast<uint16_t>(a >> 16), static_cast<uint32_t>(a >> 32), 0};
}

}  // namespace

void init_cpu(uint32_t index, uint32_t apic_id, uint64_t stack_top) {
  PerCpu& me = per_cpu[index];
  uint64_t* const gdt = tables[index].gdt;
  Tss& tss = tables[index].tss;
  // TSS.RSP0 is at byte 4 of the (packed) TSS: an unaligned 8-byte field, which x86 stores allow.
  uint64_t* const rsp0 = reinterpret_cast<uint64_t*>(reinterpret_cast<uint8_t*>(&tss) + __builtin_offsetof(Tss, rsp));
  me = PerCpu{&me, stack_top, 0, index, apic_id, nullptr, stack_top, rsp0};
  gdt[0] = 0;
  gdt[1] = 0x00af'9a00'0000'ffff;  // 0x08 kernel code, 64-bit
  gdt[2] = 0x00cf'9200'0000'ffff;  // 0x10 kernel data
  gdt[3] = 0x00cf'f200'0000'ffff;  // 0x18 user data (DPL 3)
  gdt[4] = 0x00af'fa00'0000'ffff;  // 0x20 user code, 64-bit (DPL 3)
  tss = Tss{};
  tss.rsp[0] = stack_top;
  tss.ist[0] = reinterpret_cast<uint64_t>(tables[index].ist_stack + sizeof tables[index].ist_stack);
  tss.iomap_base = sizeof(Tss);  // no I/O bitmap: every port is privileged
  const uint64_t base = reinterpret_cast<uint64_t>(&tss);
  const uint64_t limit = sizeof(Tss) - 1;
  gdt[5] = (limit & 0xffff) | ((base & 0xff'ffff) << 16) | (uint64_t{0x89} << 40) | (((limit >> 16) & 0xf) << 48) |
           (((base >> 24) & 0xff) << 56);  // 0x28 TSS (available, 64-bit)
  gdt[6] = base >> 32;
  const DescriptorPointer gp{sizeof tables[index].gdt - 1, reinterpret_cast<uint64_t>(gdt)};
  asm volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "mov %2, %%ds\n"
      "mov %2, %%es\n"
      "mov %2, %%ss\n"
      :
      : "m"(gp), "i"(kKernelCode), "r"(kKernelData)
      : "rax", "memory");
  asm volatile("ltr %0" : : "r"(kTss));

  if (!idt_ready) {
    void (*const exceptions[32])() = {isr_0,  isr_1,  isr_2,  isr_3,  isr_4,  isr_5,  isr_6,  isr_7,  isr_8,  isr_9,  isr_10,
                                       isr_11, isr_12, isr_13, isr_14, isr_15, isr_16, isr_17, isr_18, isr_19, isr_20, isr_21,
                                       isr_22, isr_23, isr_24, isr_25, isr_26, isr_27, isr_28, isr_29, isr_30, isr_31};
    for (uint8_t v = 0; v < 32; ++v) set_gate(v, exceptions[v], v == 2 || v == 8 || v == 18 ? 1 : 0);
    set_gate(kVectorTimer, isr_48, 0);
    set_gate(kVectorIpi, isr_49, 0);
    set_gate(kVectorSpurious, isr_255, 0);
    idt_ready = true;
  }
  const DescriptorPointer ip{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile("lidt %0" : : "m"(ip));

  // syscall: kernel CS 0x08 (SS 0x10); sysret would use 0x10 + 16 = user CS, 0x10 + 8 = user SS.
  wrmsr(kMsrStar, (uint64_t{kKernelData} << 48) | (uint64_t{kKernelCode} << 32));
  wrmsr(kMsrLstar, reinterpret_cast<uint64_t>(&syscall_entry));
  wrmsr(kMsrFmask, 0x4'0700);  // clear IF, TF, DF and AC on entry
  // GS: this CPU's PerCpu in the kernel, zero in user mode (swapgs exchanges the two).
  wrmsr(kMsrGsBase, reinterpret_cast<uint64_t>(&me));
  wrmsr(kMsrKernelGsBase, 0);
}

const char* exception_name(uint64_t vector) {
  static const char* const kNames[32] = {
      "#DE divide error",        "#DB debug",           "NMI",                     "#BP breakpoint",
      "#OF overflow",            "#BR bound range",     "#UD invalid opcode",      "#NM device not available",
      "#DF double fault",        "coprocessor overrun", "#TS invalid TSS",         "#NP segment not present",
      "#SS stack fault",         "#GP general protection", "#PF page fault",       "reserved 15",
      "#MF x87 error",           "#AC alignment check", "#MC machine check",       "#XM SIMD error",
      "#VE virtualization",      "#CP control protection", "reserved 22",          "reserved 23",
      "reserved 24",             "reserved 25",         "reserved 26",             "reserved 27",
      "#HV hypervisor injection", "#VC VMM communication", "#SX security",         "reserved 31"};
  return vector < 32 ? kNames[vector] : "interrupt";
}

}  // namespace edgeos::x86
