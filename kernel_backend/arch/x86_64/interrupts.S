// Kernel entries: interrupt and exception stubs, the syscall entry, and return_to_user.
//
// Every entry builds an InterruptFrame (context.hpp) and calls interrupt_dispatch(frame) or
// syscall_dispatch(frame) on a kernel stack. An entry from user mode builds it in the running
// thread's context (TSS.RSP0 and PerCpu::user_frame_top point at that context's end: see
// return_to_user), then moves to this CPU's kernel stack (gs:8); it leaves through
// return_to_user with the context of the thread that runs next. An entry from kernel mode (the
// idle loop, a wait for the kernel lock) builds it on the stack it came on, and its handler
// returns: the stub restores and irets.

.code64
.text

.macro PUSH_GPRS
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro POP_GPRS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

// A stub per vector: those without a CPU-pushed error code push 0 in its place.
.macro STUB vector, has_error
.global isr_\vector
isr_\vector:
    .if \has_error == 0
    push $0
    .endif
    push $\vector
    jmp interrupt_common
.endm

STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0
STUB 48, 0      // kVectorTimer
STUB 49, 0      // kVectorIpi
STUB 255, 0     // kVectorSpurious

// From user mode (the saved CS's privilege bits, above the vector and error code), the kernel's
// GS first. An entry from kernel mode (the idle loop) returns here and irets with GS unchanged;
// one from user mode leaves through return_to_user, which swaps the user's GS back.
interrupt_common:
    testb $3, 24(%rsp)
    jz 1f
    swapgs
    cld
    PUSH_GPRS
    mov %rsp, %rdi          // the frame: the thread's context (or the IST stack)
    mov %gs:8, %rsp         // this CPU's kernel stack
    call interrupt_dispatch
    // An entry from user mode leaves through return_to_user; reaching here is a bug.
    ud2
1:  cld
    PUSH_GPRS
    mov %rsp, %rdi
    call interrupt_dispatch
    POP_GPRS
    add $16, %rsp           // vector, error code
    iretq

// syscall: rcx = user rip, r11 = user rflags; rsp is still the user's. Interrupts are off
// (FMASK clears IF). Build the same frame an interrupt from user mode would, on this CPU's kernel
// stack (PerCpu, percpu.hpp: gs:8 its top, gs:16 a place for the user's rsp).
.global syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:16
    mov %gs:40, %rsp        // the end of the thread's context
    push $0x1b              // ss: user data
    push %gs:16
    push %r11               // rflags
    push $0x23              // cs: user code
    push %rcx               // rip
    push $0                 // error
    push $0x80              // vector: kVectorSyscall
    cld
    PUSH_GPRS
    mov %rsp, %rdi
    mov %gs:8, %rsp         // this CPU's kernel stack
    call syscall_dispatch
    // syscall_dispatch leaves through return_to_user; reaching here is a bug.
    ud2

// return_to_user(UserContext*): the next entry from user mode pushes its frame into this context
// (its end, 176 bytes on, becomes TSS.RSP0 and the syscall entry's stack); then the context
// becomes the stack for a moment: popping it loads every register, swapgs the user's GS, iretq
// the rest. Interrupts are off until iretq loads the user rflags.
.global return_to_user
return_to_user:
    lea 176(%rdi), %rax
    mov %rax, %gs:40
    mov %gs:48, %rcx
    mov %rax, (%rcx)
    mov %rdi, %rsp
    POP_GPRS
    add $16, %rsp           // vector, error code
    swapgs
    iretq
