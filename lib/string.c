// Byte and string primitives. gcc emits calls to memcpy, memmove, memset
// and memcmp on its own (struct copies, zeroed locals), so in the kernel
// these are the only definitions of those names there are.
#include <stdint.h>

#include "lib/string.h"

// gcc recognises the copy and fill loops below as idioms and would turn
// them back into calls to memcpy/memset: that is, into calls to
// themselves. Switch that transformation off for these functions only.
#if defined(__GNUC__) && !defined(__clang__)
#define NO_IDIOM_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_IDIOM_CALLS
#endif

// One machine word, allowed to alias any object so word-sized copies of
// arbitrary bytes stay defined.
typedef uintptr_t __attribute__((may_alias)) word_t;

#define WORD      sizeof(word_t)
#define WORD_MASK (WORD - 1)

// True when both addresses are word aligned, so whole words can move.
static inline int
both_aligned(const void *a, const void *b)
{
    return (((uintptr_t)a | (uintptr_t)b) & WORD_MASK) == 0;
}

// Copies low to high; safe for overlap only when dst is below src.
static NO_IDIOM_CALLS void
copy_up(unsigned char *d, const unsigned char *s, size_t n)
{
    if (both_aligned(d, s)) {
        for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
            *(word_t *)d = *(const word_t *)s;
    }
    while (n--)
        *d++ = *s++;
}

// Copies high to low; safe for overlap when dst is above src.
static NO_IDIOM_CALLS void
copy_down(unsigned char *d, const unsigned char *s, size_t n)
{
    d += n;
    s += n;
    if (both_aligned(d, s)) {
        for (; n >= WORD; n -= WORD) {
            d -= WORD;
            s -= WORD;
            *(word_t *)d = *(const word_t *)s;
        }
    }
    while (n--)
        *--d = *--s;
}

// Copies n bytes; the regions must not overlap. Returns dst.
NO_IDIOM_CALLS void *
memcpy(void *dst, const void *src, size_t n)
{
    copy_up(dst, src, n);
    return dst;
}

// Copies n bytes; the regions may overlap. Returns dst.
NO_IDIOM_CALLS void *
memmove(void *dst, const void *src, size_t n)
{
    // Unsigned distance: dst - src >= n exactly when a forward copy never
    // writes a byte it has yet to read (dst below src, or past its end).
    if ((uintptr_t)dst - (uintptr_t)src >= n)
        copy_up(dst, src, n);
    else
        copy_down(dst, src, n);
    return dst;
}

// Fills n bytes with (unsigned char)c. Returns dst.
NO_IDIOM_CALLS void *
memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    unsigned char byte = (unsigned char)c;
    // 0x0101...01 times the byte repeats it in every lane of the word.
    word_t pattern = ((word_t)-1 / 0xFF) * byte;

    while (n > 0 && ((uintptr_t)d & WORD_MASK) != 0) {
        *d++ = byte;
        n--;
    }
    for (; n >= WORD; n -= WORD, d += WORD)
        *(word_t *)d = pattern;
    while (n--)
        *d++ = byte;
    return dst;
}

// Compares n bytes as unsigned char: <0, 0 or >0.
int
memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a;
    const unsigned char *q = b;

    for (; n > 0; n--, p++, q++) {
        if (*p != *q)
            return *p - *q;
    }
    return 0;
}

// Returns the number of bytes before the NUL.
size_t
strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

// Returns strlen(s), but looks at no more than max bytes.
size_t
strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

// Compares as unsigned char up to the first NUL: <0, 0 or >0.
int
strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    while (*p && *p == *q) {
        p++;
        q++;
    }
    return *p - *q;
}

// As strcmp, but looks at no more than n bytes.
int
strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;

    for (; n > 0; n--, p++, q++) {
        if (*p != *q || *p == '\0')
            return *p - *q;
    }
    return 0;
}

// Returns the first c in s (the NUL itself when c is 0), or NULL.
char *
strchr(const char *s, int c)
{
    char ch = (char)c;

    for (;; s++) {
        if (*s == ch)
            return (char *)s;
        if (*s == '\0')
            return NULL;
    }
}

// Copies src into dst[size] and always NUL-terminates when size > 0.
// Returns strlen(src); a result >= size means dst was truncated.
size_t
strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size > 0) {
        size_t n = len < size ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
