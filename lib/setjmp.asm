; setjmp/longjmp for the kernel (cdecl, i386): saves the callee-saved
; registers, the stack pointer and the return address.

section .text

; int setjmp(jmp_buf env)
global setjmp
setjmp:
    mov eax, [esp + 4]
    mov [eax + 0], ebx
    mov [eax + 4], esi
    mov [eax + 8], edi
    mov [eax + 12], ebp
    lea ecx, [esp + 4]            ; esp as it will be after our ret
    mov [eax + 16], ecx
    mov ecx, [esp]
    mov [eax + 20], ecx           ; return address
    xor eax, eax
    ret

; void longjmp(jmp_buf env, int value)  - setjmp returns value (1 if 0)
global longjmp
longjmp:
    mov edx, [esp + 4]
    mov eax, [esp + 8]
    test eax, eax
    jnz .nonzero
    inc eax
.nonzero:
    mov ebx, [edx + 0]
    mov esi, [edx + 4]
    mov edi, [edx + 8]
    mov ebp, [edx + 12]
    mov esp, [edx + 16]
    jmp [edx + 20]
