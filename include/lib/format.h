// printf-style formatting: one engine (format_v) that hands each character
// to a callback, so the serial console, the VGA mirror, user-mode output and
// ksnprintf all format identically.
//
// Conversions: %d %i %u %x %X %p %s %c %%.
// Flags: '-' (left-justify), '0' (zero-pad numbers), '#' (0x/0X before a
// non-zero %x/%X).
// Width: digits or '*' (a negative '*' width means '-').
// Precision: '.N' or '.*'; the most bytes of a %s, the fewest digits of a
// number (C semantics, so a precision turns the '0' flag off).
// Length: hh h l ll z; %zd reads the signed type as wide as size_t.
// %p is "0x" and every hex digit of a pointer (8 on i386); NULL %s is
// "(null)". An unknown conversion is printed as written ("%q" -> "%q").
#ifndef TANDEM_LIB_FORMAT_H
#define TANDEM_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#include "compiler.h"

// Receives one produced character; ctx is whatever the caller passed.
typedef void (*format_emit_fn)(char c, void *ctx);

// Formats fmt with ap, calling emit(c, ctx) once per produced character.
// Returns the number of characters produced.
int format_v(format_emit_fn emit, void *ctx, const char *fmt, va_list ap) PRINTF_LIKE(3, 0);

// C99 vsnprintf: writes at most size - 1 characters and a NUL into buf
// (nothing at all when size is 0, so buf may then be NULL). Returns the
// length the whole result has, which is >= size when it was truncated.
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) PRINTF_LIKE(3, 0);

// As kvsnprintf, with the arguments inline.
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
