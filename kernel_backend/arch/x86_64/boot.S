// Boot: from a 32-bit protected-mode entry to 64-bit long mode, then kmain().
//
// Two ways in, one image (an ELF64 linked at its physical address, identity-mapped):
//   - Multiboot2 (GRUB, from the ISO, under BIOS or UEFI): the ELF entry `_start`,
//     eax = 0x36d76289, ebx = the Multiboot2 information structure;
//   - PVH (QEMU -kernel): the entry named by the XEN_ELFNOTE_PHYS32_ENTRY note, `pvh_start`,
//     ebx = the hvm_start_info structure.
// Both arrive with paging off, interrupts off and flat 32-bit segments. The common path zeroes
// the BSS, identity-maps the first 4 GiB with 2 MiB pages (the kernel's direct map, supervisor
// only), enables PAE, long mode, NX and paging, loads a 64-bit GDT and calls
// kmain(protocol, info) with protocol 1 for Multiboot2, 2 for PVH.

#include "segments.inc"

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0

.section .multiboot2, "a"
.balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    // End tag.
    .balign 8
    .short 0
    .short 0
    .long 8
mb2_header_end:

// The PVH entry point, for QEMU's direct kernel boot.
.section .note.Xen, "a"
.balign 4
    .long 4                 // name size ("Xen\0")
    .long 8                 // descriptor size: QEMU reads a 64-bit address from an ELF64
    .long 18                // XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad pvh_start

.section .text.boot, "ax"
.code32
.global _start
_start:
    mov $1, %edi            // Multiboot2
    cmp $0x36d76289, %eax
    je common32
    mov $0, %edi            // unknown loader: kmain reports it
    jmp common32

.global pvh_start
pvh_start:
    mov $2, %edi            // PVH
    jmp common32

common32:
    mov %ebx, %esi          // the loader's information structure
    mov $boot_stack_top, %esp

    // Zero the BSS (loaders normally do; the page tables below must start clean). The stack is
    // in the BSS too, so the protocol waits in ebp, not on the stack.
    mov %edi, %ebp
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    cld
    rep stosb
    mov %ebp, %edi

    // PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512 x 2 MiB each.
    mov $boot_pdpt, %eax
    or $0x3, %eax           // present, writable
    mov %eax, boot_pml4
    mov $boot_pd, %ebx
    xor %ecx, %ecx
1:  mov %ebx, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt(,%ecx,8)
    add $4096, %ebx
    inc %ecx
    cmp $4, %ecx
    jne 1b
    // 2048 entries: physical address i * 2 MiB, present | writable | large (0x83); the top
    // 32 MiB (local APIC, I/O APIC, firmware) also uncached (PCD | PWT).
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    cmp $2032, %ecx
    jb 3f
    or $0x18, %eax
3:  mov %eax, boot_pd(,%ecx,8)
    movl $0, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $(1 << 5), %eax      // PAE
    mov %eax, %cr4
    mov $0xc0000080, %ecx   // EFER
    rdmsr
    or $((1 << 8) | (1 << 0)), %eax   // LME, SCE (NXE is set later, if the CPU has it)
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 16) | 1), %eax  // PG, WP, PE
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode

.code64
long_mode:
    LOAD_KERNEL_DATA_SEGMENTS
    mov $boot_stack_top, %rsp
    xor %ebp, %ebp
    // kmain(protocol = edi, info = esi): both already in the SysV argument registers.
    mov %esi, %esi          // zero-extend the 32-bit pointer
    call kmain
4:  cli
    hlt
    jmp 4b

.section .rodata
.balign 8
boot_gdt:
    .quad 0                         // null
    .quad 0x00af9a000000ffff        // 0x08: 64-bit kernel code
    .quad 0x00cf92000000ffff        // 0x10: kernel data
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

.section .bss
.balign 4096
.global boot_pml4
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
.global boot_pd
boot_pd:    .skip 4096 * 4
.balign 16
boot_stack: .skip 16384
.global boot_stack_top
boot_stack_top:
