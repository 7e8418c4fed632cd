; Where ring-3 code begins: the process entry (_start) and the entry of
; every thread made by thread_spawn (thread_trampoline).

extern main
extern runtime_init
extern sys_exit
extern sys_thread_exit

section .text.entry

; The kernel enters here with esp at the top of the initial stack, ebx =
; the system-call gates this CPU offers (include/uapi/syscall.h), ecx = the
; argument string SYS_SPAWN put on the stack (0: none) and every other
; register 0.  main's return value is the process's exit code.
global _start
_start:
    xor ebp, ebp                ; ends every frame-pointer walk
    and esp, -16                ; gcc assumes a 16-byte aligned call
    sub esp, 8
    push ecx
    push ebx
    call runtime_init
    add esp, 16
    call main
    push eax
    call sys_exit
    ud2                         ; sys_exit does not return

section .text

; SYS_THREAD_CREATE's entry for thread_spawn: eax = esp = the struct
; thread_start that thread_spawn put at the top of the new stack (16-byte
; aligned): [eax + 0] the function, [eax + 4] its argument.  The function's
; return value is the thread's exit code.
global thread_trampoline
thread_trampoline:
    xor ebp, ebp
    sub esp, 12                 ; keeps the call 16-byte aligned
    push dword [eax + 4]
    call [eax]
    mov [esp], eax
    call sys_thread_exit
    ud2                         ; sys_thread_exit does not return
