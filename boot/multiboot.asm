; Multiboot 1 header and the first instructions Tandem runs.
;
; GRUB (from the ISO) and QEMU (-kernel) both enter _start in 32-bit
; protected mode with paging off, EAX = 0x2BADB002 and EBX = the physical
; address of the Multiboot information.  The kernel is linked at 3 GiB, so
; before any higher-half address is touched we build a page directory that
; maps the first 16 MiB twice - at 0 (so the instruction after enabling
; paging still exists) and at 0xC0000000 - with 4 MiB pages.  kernel/mm
; replaces it with real page tables later.

; KERNEL_VMA, KSTACK_SIZE, the page-directory bits and the control-register
; bits come from the C definitions (kernel/entry/asm_offsets.c).
%include "asm_offsets.inc"

%define MB_MAGIC        0x1BADB002
%define MB_PAGE_ALIGN   (1 << 0)      ; modules on 4 KiB boundaries
%define MB_MEMORY_INFO  (1 << 1)      ; mem_lower/upper and the memory map
%define MB_FLAGS        (MB_PAGE_ALIGN | MB_MEMORY_INFO)

%define EARLY_MAP_PDES  4             ; 4 x 4 MiB = 16 MiB

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .boot.data
align 4096
early_page_directory:
    times 1024 dd 0
; The stack of boot/cpu_check.c, which runs before paging.
align 16
early_stack:
    times 256 dd 0
early_stack_top:

section .boot.text
global _start
_start:
    cli
    cld
    ; Nothing below may use an instruction the CPU lacks until cpu_check
    ; has said it has them all (it halts with a message if not).
    extern cpu_check
    mov esp, early_stack_top
    push ebx                      ; Multiboot info (physical)
    push eax                      ; Multiboot magic
    call cpu_check
    pop eax
    pop ebx
    ; Fill PDEs 0..3 and 768..771 with the same 4 MiB pages.
    mov ecx, 0
.map:
    mov edx, ecx
    shl edx, 22
    or  edx, PTE_PRESENT | PTE_WRITABLE | PDE_LARGE
    mov [early_page_directory + ecx * 4], edx
    mov [early_page_directory + (KERNEL_VMA >> 22) * 4 + ecx * 4], edx
    inc ecx
    cmp ecx, EARLY_MAP_PDES
    jb  .map

    mov edx, cr4
    or  edx, CR4_PSE
    mov cr4, edx
    mov edx, early_page_directory
    mov cr3, edx
    mov edx, cr0
    or  edx, CR0_PG | CR0_WP
    mov cr0, edx

    mov edx, higher_half
    jmp edx

section .text
extern kmain
extern g_boot_block
extern __bss_start, __bss_end
higher_half:
    ; Zero .bss ourselves rather than trust every loader to (the boot
    ; stack is in it, but nothing is on the stack yet).
    mov esi, eax                  ; keep the Multiboot magic
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    shr ecx, 2
    xor eax, eax
    rep stosd
    ; The stack protector's guard (kernel/stack_protector.c): set before the
    ; first C function, whose epilogue compares against it.
    extern __stack_chk_guard
    rdtsc
    xor eax, edx
    xor eax, 0x2BADC0DE
    mov [__stack_chk_guard], eax
    mov eax, esi
    ; The boot thread's stack is a real kernel-stack block (see
    ; include/mm/block.h), so it has an arena like any other thread.
    mov esp, g_boot_block + KSTACK_SIZE
    xor ebp, ebp                  ; terminates frame-pointer walks
    push ebx                      ; Multiboot info (physical)
    push eax                      ; Multiboot magic
    call kmain
.hang:
    cli
    hlt
    jmp .hang
