/* Non-local jumps (lib/setjmp.asm): ebx, esi, edi, ebp, esp, eip. */
#ifndef TANDEM_SETJMP_H
#define TANDEM_SETJMP_H

#include "compiler.h"

typedef unsigned long jmp_buf[6];

int setjmp(jmp_buf env) __attribute__((returns_twice));
NORETURN void longjmp(jmp_buf env, int value);

#endif
