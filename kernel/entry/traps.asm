; Interrupt and exception entry: one stub per vector, one common path.
;
; Each stub makes the stack look the same - an error code (the CPU's, or a
; 0 we push) and the vector number - then jumps to trap_common, which saves
; the rest of the trap frame (include/trap.h, struct trap_frame), calls
; trap_dispatch(frame) in C and falls through to trap_return.

%include "trap_frame.inc"

section .text

%macro STUB_NOERR 1
global trap_stub_%1
trap_stub_%1:
    push dword 0
    push dword %1
    jmp trap_common
%endmacro

%macro STUB_ERR 1
global trap_stub_%1
trap_stub_%1:
    push dword %1                 ; the CPU already pushed the error code
    jmp trap_common
%endmacro

; Exceptions 0-31 (Intel SDM vol. 3A, table 6-1): these push an error code.
%assign v 0
%rep 32
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
    STUB_ERR v
  %else
    STUB_NOERR v
  %endif
  %assign v v + 1
%endrep

; PIC interrupts, remapped to 32-47.
%rep 16
    STUB_NOERR v
  %assign v v + 1
%endrep

STUB_NOERR 128                    ; int 0x80: system call

; The local APICs' vectors (include/trap.h), each stub named after its use.
%macro STUB_APIC 2
trap_stub_%1:
    push dword 0
    push dword %2
    jmp trap_common
%endmacro
STUB_APIC lapic_timer, VEC_LAPIC_TIMER
STUB_APIC reschedule, VEC_RESCHEDULE
STUB_APIC xcall, VEC_XCALL
STUB_APIC spurious, VEC_SPURIOUS

trap_common:
    ESTABLISH_KERNEL_EFLAGS
    SAVE_TRAP_REGS common
    push esp                      ; struct trap_frame *
    extern trap_dispatch
    call trap_dispatch
    add esp, 4

; Pops a trap frame and returns to whoever it describes.  Entries from ring 3
; have already been through exit_to_user (kernel/entry/exit.c) in C.
global trap_return
trap_return:
    RESTORE_TRAP_REGS
    iretd

; void enter_user(struct trap_frame *f): a new user thread's first return
; to ring 3, through the frame at the top of its block (kernel/entry/exit.c,
; uthread_start, has been through exit_to_user).
global enter_user
enter_user:
    mov esp, [esp + 4]
    jmp trap_return

; Table of stub addresses, for entry_init (kernel/entry/trap.c).
section .rodata
global g_trap_stubs
g_trap_stubs:
%assign v 0
%rep 48
    dd trap_stub_ %+ v
  %assign v v + 1
%endrep

global g_syscall_stub
g_syscall_stub:
    dd trap_stub_128

global g_apic_stubs
g_apic_stubs:
    dd trap_stub_lapic_timer, trap_stub_reschedule, trap_stub_xcall, trap_stub_spurious
