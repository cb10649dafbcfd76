// Start-up of the other CPUs (application processors): the code a start-up IPI runs, in real
// mode, at the page whose number the IPI carries (Intel SDM vol. 3A, 8.4.4). smp.cpp copies it
// to a free page below 1 MiB and fills in the data at its end; the code finds that page from CS
// (real mode: CS = page number << 8, IP = 0) and keeps its address in ebx. From there: protected
// mode, PAE, the kernel's page tables (identity map of the first 4 GiB), long mode, the CPU's
// stack, and ap_main(index) in the kernel.

#include "segments.inc"

.section .rodata
.balign 16
.global ap_trampoline_start, ap_trampoline_end
.global ap_gdt32, ap_gdt32_ptr, ap_gdt64, ap_gdt64_ptr, ap_pm32, ap_pm32_jump, ap_lm64, ap_lm64_jump
.global ap_cr3, ap_efer_bits, ap_stack_top, ap_entry, ap_index

.code16
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    xor %ebx, %ebx
    mov %ax, %bx
    shl $4, %ebx                    // the page's linear address
    lgdtl ap_gdt32_ptr - ap_trampoline_start
    mov %cr0, %eax
    or $1, %eax                     // PE
    mov %eax, %cr0
    ljmpl *(ap_pm32_jump - ap_trampoline_start)

.code32
ap_pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $(1 << 5), %eax              // PAE
    mov %eax, %cr4
    mov (ap_cr3 - ap_trampoline_start)(%ebx), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx           // EFER: LME, SCE, and NXE where the boot CPU has it
    rdmsr
    or $((1 << 8) | (1 << 0)), %eax
    or (ap_efer_bits - ap_trampoline_start)(%ebx), %eax
    wrmsr
    mov %cr0, %eax
    and $~((1 << 30) | (1 << 29)), %eax    // caches on: INIT leaves CD and NW set
    or $((1 << 31) | (1 << 16) | 1), %eax  // PG, WP, PE
    mov %eax, %cr0
    lgdtl (ap_gdt64_ptr - ap_trampoline_start)(%ebx)
    ljmpl *(ap_lm64_jump - ap_trampoline_start)(%ebx)

.code64
ap_lm64:
    LOAD_KERNEL_DATA_SEGMENTS
    mov %ebx, %ebx                  // zero-extended
    mov (ap_stack_top - ap_trampoline_start)(%rbx), %rsp
    xor %ebp, %ebp
    mov (ap_index - ap_trampoline_start)(%rbx), %edi
    mov (ap_entry - ap_trampoline_start)(%rbx), %rax
    call *%rax                      // ap_main: never returns
1:  cli
    hlt
    jmp 1b

.balign 8
ap_gdt32:
    .quad 0
    .quad 0x00cf9a000000ffff        // 0x08: 32-bit code
    .quad 0x00cf92000000ffff        // 0x10: data
ap_gdt32_ptr:
    .short 23
    .long 0                         // filled in: the page + (ap_gdt32 - start)
.balign 8
ap_gdt64:
    .quad 0
    .quad 0x00af9a000000ffff        // 0x08: 64-bit code
    .quad 0x00cf92000000ffff        // 0x10: data
ap_gdt64_ptr:
    .short 23
    .long 0                         // filled in
ap_pm32_jump:
    .long 0                         // filled in: the page + (ap_pm32 - start)
    .short 0x08
ap_lm64_jump:
    .long 0                         // filled in: the page + (ap_lm64 - start)
    .short 0x08
.balign 8
ap_cr3:       .long 0
ap_efer_bits: .long 0
ap_stack_top: .quad 0
ap_entry:     .quad 0
ap_index:     .long 0
ap_trampoline_end:
