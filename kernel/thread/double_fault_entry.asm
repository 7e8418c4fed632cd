; The double-fault task's entry.  A task gate in the IDT switches here with
; a fresh stack (include/gdt.h, GDT_DF_TSS) whatever state the kernel stack
; is in.  The CPU pushes an error code (always 0) on the new stack.  iret
; with NT set returns to the interrupted task; the next double fault
; resumes after the iret, hence the loop.

section .text
global double_fault_entry
extern double_fault_handler
double_fault_entry:
    add esp, 4                      ; the error code
    call double_fault_handler
    iretd
    jmp double_fault_entry
