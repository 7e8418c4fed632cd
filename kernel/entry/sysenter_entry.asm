; sysenter entry and sysexit return.
;
; sysenter loads CS/SS from IA32_SYSENTER_CS, esp from IA32_SYSENTER_ESP (the
; top of the running thread's block, set at every switch) and clears IF and
; RF - nothing else: DF, AC, NT and even TF arrive as ring 3 left them.  It
; saves nothing, so this stub records the user's flags first, loads the
; kernel's, reads what the user stub left on its stack (ABI in
; include/uapi/syscall.h: [ebp] return eip, [ebp+4] ecx, [ebp+8] edx),
; builds the same trap frame int 0x80 would (include/trap.h) and hands it to
; trap_dispatch like any other trap.  Only the way out differs: sysexit
; where the user's flags allow it, iret where they do not.

%include "trap_frame.inc"               ; and asm_offsets.inc: USER_*, TF_*

; The CPU's part of the frame, from its eip up: where it lies from esp once
; the stub has pushed eip, and again after RESTORE_TRAP_REGS.
%define IRET_CS         (TF_CS - TF_EIP)
%define IRET_EFLAGS     (TF_EFLAGS - TF_EIP)
%define IRET_ESP        (TF_USER_ESP - TF_EIP)

section .text
global sysenter_entry
global sysenter_flags_clean
extern sysenter_dispatch
extern sysenter_bad_stack
sysenter_entry:
    ; With TF set, the CPU raises #DB here, at CPL 0, before or after the
    ; first of these instructions: kernel/entry/sysenter.c catches it,
    ; clears TF and gives it back to the frame, so the user thread takes its
    ; single-step trap in ring 3 like any other.
    push dword USER_DS              ; user ss
    push ebp                        ; user esp (fixed up below)
    pushfd                          ; the user's eflags (IF: C sets it back)
    ESTABLISH_KERNEL_EFLAGS
sysenter_flags_clean equ $          ; (equ: the local labels below stay sysenter_entry's)
    push dword USER_CS
    ; The stub's three words, read here so no C copy is needed; a bad stack
    ; pointer or an unmapped page goes to bad_stack (see the .extable below).
    cmp ebp, USER_BASE
    jb .bad_stack
    cmp ebp, USER_TOP - 12
    ja .bad_stack
.load_ecx:
    mov ecx, [ebp + 4]
.load_edx:
    mov edx, [ebp + 8]
.load_eip:
    push dword [ebp]                ; eip
    add dword [esp + IRET_ESP], 4   ; esp after sysexit: just above the return address
    push dword 0                    ; error code
    push dword 0x80                 ; vector
    SAVE_TRAP_REGS call
    push esp
    call sysenter_dispatch
    add esp, 4
    RESTORE_TRAP_REGS
    ; [esp] eip, then cs, eflags, user esp, ss (IRET_*).
    ; A single-step must begin at the user's next instruction, which only
    ; iret can arrange (it loads TF with the return).
    test dword [esp + IRET_EFLAGS], EFLAGS_TF
    jnz .iret
    ; sysexit takes eip from edx and esp from ecx (the user stub restores
    ; both from its stack) and leaves eflags alone: they are loaded here,
    ; the user's exactly, but with IF still clear until sti's shadow ends
    ; on sysexit itself.  Nothing between the popfd and sysexit depends on
    ; DF, AC or NT.
    mov edx, [esp]
    mov ecx, [esp + IRET_ESP]
    and dword [esp + IRET_EFLAGS], ~EFLAGS_IF
    add esp, IRET_EFLAGS
    popfd
    sti
    sysexit
.iret:
    iretd

.bad_stack:
    push dword 0                    ; eip: unknown
    push dword 0
    push dword 0x80
    SAVE_TRAP_REGS bad_stack
    push esp
    call sysenter_bad_stack         ; ends the thread; does not return
    ud2

section .extable
    dd sysenter_entry.load_ecx, sysenter_entry.bad_stack
    dd sysenter_entry.load_edx, sysenter_entry.bad_stack
    dd sysenter_entry.load_eip, sysenter_entry.bad_stack
