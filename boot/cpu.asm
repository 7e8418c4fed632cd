; Descriptor-table loads that need a far jump or segment reloads.

section .text

; void gdt_flush(const struct gdt_pointer *p, uint32_t code_sel, uint32_t data_sel)
global gdt_flush
gdt_flush:
    mov eax, [esp + 4]
    lgdt [eax]
    mov eax, [esp + 12]
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    ; Reload CS with a far return: push the selector and the return point.
    push dword [esp + 8]
    push .reloaded
    retf
.reloaded:
    ret
