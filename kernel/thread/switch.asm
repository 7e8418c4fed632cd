; The context switch.

section .text

; void switch_context(uint32_t *save_esp, uint32_t next_esp)
;
; Saves the callee-saved registers and EFLAGS on the current stack, stores
; esp in *save_esp, loads next_esp and pops the next thread's.  EFLAGS go
; with the thread: a flag one thread holds (IF, or a DF a bug left set)
; must never become another's.  The
; caller-saved ones are already saved by the C caller (cdecl), and eip is
; the return address on each stack.  A new thread's stack is built by
; kernel/thread/thread.c to look as if it had called switch_context.
global switch_context
switch_context:
    mov eax, [esp + 4]
    mov edx, [esp + 8]
    push ebp
    push ebx
    push esi
    push edi
    pushfd
    mov [eax], esp
    mov esp, edx
    popfd
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret
