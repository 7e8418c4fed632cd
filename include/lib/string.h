// Byte and string primitives shared by the kernel, the user runtime and
// the host tests.
#ifndef TANDEM_LIB_STRING_H
#define TANDEM_LIB_STRING_H

#include <stddef.h>

#ifdef HOST_TEST
// On the host these names already belong to libc, and gcc may replace a
// call to memcpy with its builtin or glibc's copy, so the tests would prove
// nothing about Tandem's code. Under HOST_TEST each function below is
// compiled and called as tandem_NAME instead. glibc's <string.h> comes
// first so its prototypes and fortify inlines are parsed before the renames
// exist; code that wants glibc's versions must reach them through wrappers
// defined before this header is included.
#include <string.h>
#define memcpy  tandem_memcpy
#define memmove tandem_memmove
#define memset  tandem_memset
#define memcmp  tandem_memcmp
#define strlen  tandem_strlen
#define strnlen tandem_strnlen
#define strcmp  tandem_strcmp
#define strncmp tandem_strncmp
#define strchr  tandem_strchr
#define strlcpy tandem_strlcpy
#endif

// Copies n bytes; the regions must not overlap. Returns dst.
void *memcpy(void *dst, const void *src, size_t n);

// Copies n bytes; the regions may overlap. Returns dst.
void *memmove(void *dst, const void *src, size_t n);

// Fills n bytes with (unsigned char)c. Returns dst.
void *memset(void *dst, int c, size_t n);

// Compares n bytes as unsigned char: <0, 0 or >0.
int memcmp(const void *a, const void *b, size_t n);

// Returns the number of bytes before the NUL.
size_t strlen(const char *s);

// Returns strlen(s), but looks at no more than max bytes.
size_t strnlen(const char *s, size_t max);

// Compares as unsigned char up to the first NUL: <0, 0 or >0.
int strcmp(const char *a, const char *b);

// As strcmp, but looks at no more than n bytes.
int strncmp(const char *a, const char *b, size_t n);

// Returns the first c in s (the NUL itself when c is 0), or NULL.
char *strchr(const char *s, int c);

// Copies src into dst[size] and always NUL-terminates when size > 0.
// Returns strlen(src); a result >= size means dst was truncated.
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
