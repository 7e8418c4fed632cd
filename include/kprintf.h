/* Formatted output to the kernel console.  Conversions: see include/lib/format.h. */
#ifndef TANDEM_KPRINTF_H
#define TANDEM_KPRINTF_H

#include <stdarg.h>
#include "compiler.h"

int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int kvprintf(const char *fmt, va_list ap);

#endif
