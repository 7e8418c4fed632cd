; long flagcall(struct flagcall *fc): one system call with chosen EFLAGS
; bits in force at the entry; see flagcall.h for the struct and the contract.

%define FC_EAX          0
%define FC_EBX          4
%define FC_ECX          8
%define FC_EDX          12
%define FC_ESI          16
%define FC_EDI          20
%define FC_EBP          24
%define FC_SET          28
%define FC_GATE         32
%define FC_OUT          36          ; eax ebx ecx edx esi edi ebp
%define FC_OUT_EFLAGS   64
%define FC_ESP_INT80    68
%define FC_ESP_SYSENTER 72
%define FC_CS           76
%define FC_SS           78
%define FC_DS           80
%define FC_ES           82
%define FC_FS           84
%define FC_GS           86
%define FC_IN_EFLAGS    88

; DF, TF, NT and AC: what the C code after the call must not see.
%define HOSTILE_FLAGS   0x00044500

%define USER_CS         0x1B
%define USER_DS         0x23

section .text

global flagcall
global flagcall_int80_return
global flagcall_sysenter_return
global flagcall_landing
flagcall:
    push ebp
    push ebx
    push esi
    push edi
    mov eax, [esp + 20]             ; fc
    push eax                        ; [esp] = fc, found again after the call
    pushfd
    mov ecx, [eax + FC_SET]
    or [esp], ecx                   ; [esp] = the EFLAGS to enter with, [esp+4] = fc
    mov ecx, [esp]
    mov [eax + FC_IN_EFLAGS], ecx
    lea ecx, [esp + 4]              ; esp at the int 0x80 (after the popfd)
    mov [eax + FC_ESP_INT80], ecx
    lea ecx, [esp - 12]             ; esp after sysexit: ebp + 4, ebp = esp - 16
    mov [eax + FC_ESP_SYSENTER], ecx
    mov ebx, [eax + FC_EBX]
    mov ecx, [eax + FC_ECX]
    mov edx, [eax + FC_EDX]
    mov esi, [eax + FC_ESI]
    mov edi, [eax + FC_EDI]
    mov ebp, [eax + FC_EBP]
    cmp dword [eax + FC_GATE], 0
    mov eax, [eax + FC_EAX]         ; mov leaves the flags of the cmp alone
    jne fc_sysenter_path
    popfd                           ; the chosen flags, right before the entry
    int 0x80
flagcall_int80_return:
    jmp fc_back

fc_sysenter_path:
    ; include/uapi/syscall.h: ebp, edx, ecx, return eip; ebp = esp.
    push ebp
    push edx
    push ecx
    push dword flagcall_sysenter_return
    mov ebp, esp
    push dword [esp + 16]           ; the flags word, below the four pushes
    popfd
    sysenter
flagcall_sysenter_return:
    pop ecx                         ; pops and lea leave EFLAGS alone
    pop edx
    pop ebp
    lea esp, [esp + 4]              ; the flags word; [esp] = fc again

fc_back:
    pushfd                          ; EFLAGS as the kernel gave them back
    cld
    push eax
    mov eax, [esp + 8]              ; fc
    pop dword [eax + FC_OUT + 0]
    pop dword [eax + FC_OUT_EFLAGS]
    mov [eax + FC_OUT + 4], ebx
    mov [eax + FC_OUT + 8], ecx
    mov [eax + FC_OUT + 12], edx
    mov [eax + FC_OUT + 16], esi
    mov [eax + FC_OUT + 20], edi
    mov [eax + FC_OUT + 24], ebp
    mov [eax + FC_CS], cs
    mov [eax + FC_SS], ss
    mov [eax + FC_DS], ds
    mov [eax + FC_ES], es
    mov [eax + FC_FS], fs
    mov [eax + FC_GS], gs
    add esp, 4                      ; fc
    pushfd
    and dword [esp], ~HOSTILE_FLAGS
    popfd
    ; A forged frame may have left kernel or null selectors: the C code
    ; needs the user's (loading them is allowed at CPL 3).
    mov cx, USER_DS
    mov ds, cx
    mov es, cx
    mov fs, cx
    mov gs, cx
    mov eax, [eax + FC_OUT + 0]
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; The landing for a forged frame (flagcall.h).  Touches no register but
; the flags: the frame restored them and the checks after the call read them.
flagcall_landing:
    mov [flagcall_landed_cs], cs
    test dword [flagcall_landed_cs], 3
    jz fc_landing_ring0
    jmp flagcall_int80_return
fc_landing_ring0:
    push dword USER_DS
    push dword [flagcall_landing_esp]
    push dword [flagcall_landing_eflags]
    push dword USER_CS
    push dword flagcall_int80_return
    iretd

section .data
global flagcall_landed_cs
global flagcall_landing_esp
global flagcall_landing_eflags
flagcall_landed_cs:         dd 0
flagcall_landing_esp:       dd 0
flagcall_landing_eflags:    dd 0
