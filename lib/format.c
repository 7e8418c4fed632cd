// The formatting engine behind every printf-like function in Tandem.
// The kernel links without libgcc, so no 64-bit '/' or '%' appears here:
// on i386 gcc would turn them into calls to __udivdi3 and __umoddi3.
#include <stdint.h>

#include "lib/format.h"
#include "lib/string.h"

// gcc's <limits.h> needs a libc <limits.h> behind it under -nostdinc, so
// take the bounds of int from the compiler's predefined macro instead.
#define INT_MAX __INT_MAX__
#define INT_MIN (-__INT_MAX__ - 1)

// Hex digits in a pointer: 8 on i386, 16 on the 64-bit host.
#define PTR_DIGITS ((int)sizeof(void *) * 2)

// Enough for the 20 decimal digits of UINT64_MAX.
#define DIGITS_MAX 24

enum length { LEN_HH, LEN_H, LEN_INT, LEN_L, LEN_LL, LEN_Z };

// Where characters go, and how many have gone.
struct out {
    format_emit_fn emit;
    void *ctx;
    int count;
};

// One parsed conversion: its flags, width and precision.
struct spec {
    int left;  // '-': pad on the right
    int zero;  // '0': pad numbers with zeros after the sign
    int alt;   // '#': 0x/0X before a non-zero hexadecimal number
    int width; // minimum field width, 0 when none
    int prec;  // -1 when none
    enum length len;
};

// Produces one character.
static void
put(struct out *o, char c)
{
    o->emit(c, o->ctx);
    o->count++;
}

// Produces c n times; nothing when n <= 0.
static void
repeat(struct out *o, char c, int n)
{
    for (; n > 0; n--)
        put(o, c);
}

// Divides *n by base (2..16) in place and returns the remainder, using only
// 32-bit divisions. The high word divides alone; the low word then goes in
// two 16-bit halves so that (remainder << 16 | half) < 16 << 16 always fits
// in 32 bits and each partial quotient fits in 16.
static unsigned
divmod_small(uint64_t *n, unsigned base)
{
    uint32_t hi = (uint32_t)(*n >> 32);
    uint32_t lo = (uint32_t)*n;
    uint32_t q_hi, q_mid, q_lo, part;

    if (hi == 0) {
        *n = lo / base;
        return lo % base;
    }
    q_hi = hi / base;
    part = (hi % base) << 16 | lo >> 16;
    q_mid = part / base;
    part = (part % base) << 16 | (lo & 0xFFFF);
    q_lo = part / base;
    *n = (uint64_t)q_hi << 32 | q_mid << 16 | q_lo;
    return part % base;
}

// Writes a space-padded field of len bytes of s as the spec's width asks.
static void
put_field(struct out *o, const struct spec *sp, const char *s, int len)
{
    if (!sp->left)
        repeat(o, ' ', sp->width - len);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (sp->left)
        repeat(o, ' ', sp->width - len);
}

// Writes sign, prefix, precision zeros and the digits of v in base, padded
// to the spec's width. A precision of 0 prints no digits for a zero value.
static void
put_number(struct out *o, const struct spec *sp, uint64_t v, int negative, unsigned base, int upper,
           const char *prefix)
{
    const char *digit_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[DIGITS_MAX];
    int ndigits = 0;
    int prefix_len = (int)strlen(prefix) + (negative ? 1 : 0);
    int zeros, spaces;

    while (v != 0)
        digits[ndigits++] = digit_set[divmod_small(&v, base)];
    if (ndigits == 0 && sp->prec != 0)
        digits[ndigits++] = '0';

    zeros = sp->prec > ndigits ? sp->prec - ndigits : 0;
    spaces = sp->width - (prefix_len + zeros + ndigits);
    if (sp->zero && !sp->left && sp->prec < 0 && spaces > 0) {
        zeros += spaces;
        spaces = 0;
    }

    if (!sp->left)
        repeat(o, ' ', spaces);
    if (negative)
        put(o, '-');
    for (; *prefix; prefix++)
        put(o, *prefix);
    repeat(o, '0', zeros);
    while (ndigits > 0)
        put(o, digits[--ndigits]);
    if (sp->left)
        repeat(o, ' ', spaces);
}

// Fetches a signed argument of the spec's length, widened.
static int64_t
arg_signed(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    // ptrdiff_t is the signed type as wide as size_t on every Tandem target.
    case LEN_Z: return va_arg(*ap, ptrdiff_t);
    default: return va_arg(*ap, int);
    }
}

// Fetches an unsigned argument of the spec's length, widened.
static uint64_t
arg_unsigned(va_list *ap, enum length len)
{
    switch (len) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned int);
    }
}

// Reads a decimal count at *p and advances past it. Saturates rather than
// overflowing on absurd inputs.
static int
parse_count(const char **p)
{
    int n = 0;

    for (; **p >= '0' && **p <= '9'; (*p)++) {
        int d = **p - '0';
        n = n <= (INT_MAX - d) / 10 ? n * 10 + d : INT_MAX;
    }
    return n;
}

// Reads flags, width, precision and length from *p (just past the '%'),
// taking '*' values from ap, and leaves *p on the conversion character.
static void
parse_spec(const char **p, struct spec *sp, va_list *ap)
{
    const char *f = *p;

    sp->left = sp->zero = sp->alt = 0;
    sp->width = 0;
    sp->prec = -1;
    sp->len = LEN_INT;

    for (;; f++) {
        if (*f == '-')
            sp->left = 1;
        else if (*f == '0')
            sp->zero = 1;
        else if (*f == '#')
            sp->alt = 1;
        else
            break;
    }

    if (*f == '*') {
        int w = va_arg(*ap, int);
        f++;
        if (w < 0) {
            sp->left = 1;
            w = w == INT_MIN ? INT_MAX : -w;
        }
        sp->width = w;
    } else {
        sp->width = parse_count(&f);
    }

    if (*f == '.') {
        f++;
        if (*f == '*') {
            int pr = va_arg(*ap, int);
            f++;
            sp->prec = pr < 0 ? -1 : pr; // C: negative means "none"
        } else {
            sp->prec = parse_count(&f);
        }
    }

    if (*f == 'h') {
        f++;
        sp->len = LEN_H;
        if (*f == 'h') {
            f++;
            sp->len = LEN_HH;
        }
    } else if (*f == 'l') {
        f++;
        sp->len = LEN_L;
        if (*f == 'l') {
            f++;
            sp->len = LEN_LL;
        }
    } else if (*f == 'z') {
        f++;
        sp->len = LEN_Z;
    }

    *p = f;
}

// Formats fmt with ap, calling emit(c, ctx) once per produced character.
// Returns the number of characters produced.
int
format_v(format_emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { emit, ctx, 0 };
    struct spec sp;
    va_list args;

    // A copy, so helpers can share it by address on every ABI (on x86-64
    // a va_list parameter is a pointer, not the array &ap would need).
    va_copy(args, ap);
    while (*fmt) {
        const char *start = fmt;

        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        parse_spec(&fmt, &sp, &args);

        switch (*fmt) {
        case 'd':
        case 'i': {
            int64_t v = arg_signed(&args, sp.len);
            // Negate in unsigned arithmetic so INT64_MIN has a magnitude.
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, &sp, mag, v < 0, 10, 0, "");
            break;
        }
        case 'u': put_number(&o, &sp, arg_unsigned(&args, sp.len), 0, 10, 0, ""); break;
        case 'x':
        case 'X': {
            uint64_t v = arg_unsigned(&args, sp.len);
            const char *prefix = !sp.alt || v == 0 ? "" : *fmt == 'X' ? "0X" : "0x";
            put_number(&o, &sp, v, 0, 16, *fmt == 'X', prefix);
            break;
        }
        case 'p':
            sp.prec = PTR_DIGITS;
            put_number(&o, &sp, (uintptr_t)va_arg(args, void *), 0, 16, 0, "0x");
            break;
        case 's': {
            const char *s = va_arg(args, const char *);
            size_t len;

            if (s == NULL)
                s = "(null)";
            len = sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s);
            put_field(&o, &sp, s, len > INT_MAX ? INT_MAX : (int)len);
            break;
        }
        case 'c': {
            char c = (char)va_arg(args, int);
            put_field(&o, &sp, &c, 1);
            break;
        }
        case '%': put(&o, '%'); break;
        case '\0':
            // The format ends inside a conversion: show what there was.
            while (start < fmt)
                put(&o, *start++);
            continue;
        default:
            // Unknown conversion: print it as written, so the mistake shows.
            while (start <= fmt)
                put(&o, *start++);
            break;
        }
        fmt++;
    }
    va_end(args);
    return o.count;
}

// A bounded buffer being filled by kvsnprintf.
struct sink {
    char *buf;
    size_t size;
    size_t pos;
};

// Stores c while room remains for it and the final NUL; counts it anyway.
static void
sink_put(char c, void *ctx)
{
    struct sink *s = ctx;

    if (s->pos + 1 < s->size)
        s->buf[s->pos] = c;
    s->pos++;
}

// C99 vsnprintf: writes at most size - 1 characters and a NUL into buf
// (nothing at all when size is 0, so buf may then be NULL). Returns the
// length the whole result has, which is >= size when it was truncated.
int
kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = { buf, size, 0 };
    int n = format_v(sink_put, &s, fmt, ap);

    if (size > 0)
        buf[s.pos < size ? s.pos : size - 1] = '\0';
    return n;
}

// As kvsnprintf, with the arguments inline.
int
ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
