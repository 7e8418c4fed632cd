; sysenter entry and sysexit return.
;
; sysenter loads CS/SS from IA32_SYSENTER_CS, esp from IA32_SYSENTER_ESP (the
; top of the running thread's block, set at every switch) and clears IF.  It
; saves nothing, so this stub builds the same trap frame int 0x80 would (see
; include/trap.h) and hands it to the C code, which reads the return address
; and the ecx/edx arguments the user stub left on its stack (ABI in
; include/uapi/syscall.h) and then takes the common path: trap_dispatch and
; exit_to_user.  Only the last instruction differs from trap_return.

%define KERNEL_DS 0x10
%define USER_CS   0x1B
%define USER_DS   0x23
%define EFLAGS_IF 0x200

section .text
global sysenter_entry
extern sysenter_dispatch
sysenter_entry:
    push dword USER_DS              ; user ss
    push ebp                        ; user esp: the stub's ebp points at its frame
    pushfd                          ; eflags (IF clear; C sets it back)
    push dword USER_CS
    push dword 0                    ; eip: read from [ebp] by sysenter_dispatch
    push dword 0                    ; error code
    push dword 0x80                 ; vector
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, KERNEL_DS
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    push esp
    call sysenter_dispatch
    add esp, 4
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                      ; vector, error code
    ; [esp] eip, [esp+4] cs, [esp+8] eflags, [esp+12] user esp, [esp+16] ss
    mov edx, [esp]                  ; sysexit: eip from edx, esp from ecx
    mov ecx, [esp + 12]
    and dword [esp + 8], ~EFLAGS_IF
    push dword [esp + 8]
    popfd
    sti                             ; takes effect after sysexit: no window
    sysexit
