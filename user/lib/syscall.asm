; The two ways into the kernel, as cdecl functions (ABI: include/uapi/syscall.h):
;
;   long syscall_int80(long n, long a1, long a2, long a3, long a4, long a5)
;   long syscall_sysenter(long n, long a1, long a2, long a3, long a4, long a5)
;
; and their IPC forms, which also store what the kernel returns in ebx, esi
; and edi at out[0], out[1] and out[2] (struct ipc_words in tandem.h):
;
;   long syscall_int80_ipc(long n, long a1, ..., long a5, unsigned out[3])
;   long syscall_sysenter_ipc(long n, long a1, ..., long a5, unsigned out[3])
;
; ebx, esi, edi and ebp are callee-saved in cdecl but carry arguments (or
; results) here, so each stub saves them first.

; Bytes pushed by the stubs before loading the arguments (ebx, esi, edi).
%define SAVED 12
%define ARG(i) [esp + SAVED + 4 + 4 * (i)]

%macro save 0
    push ebx
    push esi
    push edi
%endmacro

%macro restore 0
    pop edi
    pop esi
    pop ebx
%endmacro

%macro load_args 0
    mov eax, ARG(0)
    mov ebx, ARG(1)
    mov ecx, ARG(2)
    mov edx, ARG(3)
    mov esi, ARG(4)
    mov edi, ARG(5)
%endmacro

; sysenter saves no return address and sysexit clobbers ecx and edx, so
; the caller leaves ebp, edx, ecx and the return eip on its stack and points
; ebp at them; the kernel returns to [ebp] with esp = ebp + 4.
%macro enter_sysenter 0
    push ebp
    push edx
    push ecx
    push dword %%back
    mov ebp, esp
    sysenter
%%back:
    pop ecx
    pop edx
    pop ebp
%endmacro

; Stores the IPC outputs through the seventh argument.
%macro store_ipc_words 0
    mov ecx, ARG(6)
    mov [ecx], ebx
    mov [ecx + 4], esi
    mov [ecx + 8], edi
%endmacro

section .text

global syscall_int80
syscall_int80:
    save
    load_args
    int 0x80
    restore
    ret

global syscall_sysenter
syscall_sysenter:
    save
    load_args
    enter_sysenter
    restore
    ret

global syscall_int80_ipc
syscall_int80_ipc:
    save
    load_args
    int 0x80
    store_ipc_words
    restore
    ret

global syscall_sysenter_ipc
syscall_sysenter_ipc:
    save
    load_args
    enter_sysenter
    store_ipc_words
    restore
    ret
