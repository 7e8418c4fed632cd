; The only instructions that touch user memory.  Each may fault (unmapped
; page, read-only page); its .extable entry sends the fault to the code
; right after it, which reports how much was left undone.

section .text

; uint32_t uaccess_copy(void *dst, const void *src, uint32_t n)
; Returns the bytes NOT copied: 0 on success.  Whole words first, then the
; last n % 4 bytes: a quarter of the iterations (a 512-byte IPC payload,
; a struct ipc_buf).
global uaccess_copy
uaccess_copy:
    push esi
    push edi
    mov edi, [esp + 12]
    mov esi, [esp + 16]
    mov edx, [esp + 20]
    mov ecx, edx
    shr ecx, 2
.copy_words:
    rep movsd
    mov ecx, edx
    and ecx, 3
.copy:
    rep movsb
.done:                              ; a fault leaves ecx = bytes remaining
    mov eax, ecx
    pop edi
    pop esi
    ret
.words_fault:                       ; ecx = words remaining, the faulting one included
    shl ecx, 2
    and edx, 3
    add ecx, edx
    jmp .done

; int32_t uaccess_strncpy(char *dst, const char *src, uint32_t max)
; Copies up to max bytes including the NUL.  Returns the string's length,
; max if no NUL came within max bytes, or -1 on a fault.
global uaccess_strncpy
uaccess_strncpy:
    push esi
    push edi
    mov edi, [esp + 12]
    mov esi, [esp + 16]
    mov ecx, [esp + 20]
    xor edx, edx
.next:
    test ecx, ecx
    jz .full
.load:
    mov al, [esi]
    mov [edi], al
    test al, al
    jz .ended
    inc esi
    inc edi
    inc edx
    dec ecx
    jmp .next
.ended:
    mov eax, edx
    jmp .out
.full:
    mov eax, [esp + 20]
    jmp .out
.fault:
    mov eax, -1
.out:
    pop edi
    pop esi
    ret

; The three instructions above, by name, for uaccess_stack_fault: a fault
; of theirs on the caller's growing stack maps the page and retries.
global uaccess_copy_words_insn, uaccess_copy_insn, uaccess_strncpy_insn
uaccess_copy_words_insn equ uaccess_copy.copy_words
uaccess_copy_insn equ uaccess_copy.copy
uaccess_strncpy_insn equ uaccess_strncpy.load

section .extable
    dd uaccess_copy.copy_words, uaccess_copy.words_fault
    dd uaccess_copy.copy, uaccess_copy.done
    dd uaccess_strncpy.load, uaccess_strncpy.fault
