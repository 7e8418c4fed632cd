; Where an application processor starts: smp_trampoline is copied to a page
; below 1 MiB (kernel/smp/smp.c), whose number is the SIPI's vector, so the
; AP begins there in real mode with CS = the page's segment and IP = 0.  It
; enters protected mode with a flat GDT of its own, turns on paging with a
; page directory that maps the low 4 MiB where they are (this code's next
; instruction must stay mapped) besides the kernel half, and jumps to
; smp_ap_entry in the kernel's text.  That switches to the kernel's own page
; directory and the AP's stack and calls smp_ap_main (docs/design.md,
; "Bring-up").
;
; The copy is position-independent: the real-mode part addresses through
; DS = CS, the protected-mode part through ebx = the page's physical
; address, and the trampoline patches its own GDT pointer and far jump.

%include "asm_offsets.inc"

%define CODE32  0x08
%define DATA32  0x10
%define PARAMS  (smp_trampoline_params - smp_trampoline)

section .rodata
align 16
global smp_trampoline, smp_trampoline_end, smp_trampoline_params
smp_trampoline:
bits 16
    cli
    cld
    mov ax, cs
    mov ds, ax
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                          ; ebx = this page's physical address
    lea eax, [ebx + (tr_gdt - smp_trampoline)]
    mov [tr_gdtr + 2 - smp_trampoline], eax
    lea eax, [ebx + (tr_protected - smp_trampoline)]
    mov [tr_far - smp_trampoline], eax
    o32 lgdt [tr_gdtr - smp_trampoline]
    mov eax, cr0
    or eax, 1                           ; PE
    mov cr0, eax
    o32 jmp far [tr_far - smp_trampoline]

bits 32
tr_protected:
    mov ax, DATA32
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    ; The boot CPU's CR4 (PSE among it) before paging, then its CR0: paging,
    ; write protection, caches on (INIT leaves CD and NW set), EM and AM.
    mov eax, [ebx + PARAMS + TP_CR4]
    mov cr4, eax
    mov eax, [ebx + PARAMS + TP_BOOT_CR3]
    mov cr3, eax
    mov eax, [ebx + PARAMS + TP_CR0]
    mov cr0, eax
    jmp [ebx + PARAMS + TP_ENTRY]       ; into the higher half

align 8
tr_gdt:
    dq 0
    dq 0x00CF9A000000FFFF               ; CODE32: base 0, 4 GiB, execute/read, 32-bit
    dq 0x00CF92000000FFFF               ; DATA32: base 0, 4 GiB, read/write
tr_gdtr:
    dw 3 * 8 - 1
    dd 0                                ; patched: tr_gdt's physical address
align 4
tr_far:
    dd 0                                ; patched: tr_protected's physical address
    dw CODE32
align 4
smp_trampoline_params:                  ; struct trampoline_params (include/smp.h)
    times TP_SIZE db 0
smp_trampoline_end:

section .text
bits 32
; Paging is on with the bring-up directory; ebx is the trampoline's page.
; Only the CPU whose start the boot CPU is waiting for may go on: it takes
; the ticket (smp_ap_ticket = its index + 1) and so tells the boot CPU it
; has arrived.  A CPU that arrives after the boot CPU gave up on it finds
; no ticket and halts here, touching nothing; the boot CPU then sends it
; INIT.
global smp_ap_entry
extern smp_ap_main, smp_ap_ticket
smp_ap_entry:
    mov ecx, [ebx + PARAMS + TP_CPU]
    lea eax, [ecx + 1]
    xor edx, edx
    lock cmpxchg [smp_ap_ticket], edx
    jne .parked
    mov esp, [ebx + PARAMS + TP_STACK]
    mov eax, [ebx + PARAMS + TP_KERNEL_CR3]
    mov cr3, eax                        ; the kernel's directory: the low identity map is gone
    xor ebp, ebp                        ; terminates frame-pointer walks
    push ecx
    call smp_ap_main
.parked:
    cli
    hlt
    jmp .parked
