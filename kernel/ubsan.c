// The kernel's UBSan runtime: debug builds (those `make test` runs) are
// compiled with -fsanitize=undefined, and gcc calls these handlers where C
// would have undefined behaviour.  Each report names the check, the file,
// line and column, and the values; undefined behaviour in the kernel is a
// bug, so it then panics.  This file itself is compiled without the
// sanitizer (Makefile).
#include <stdint.h>
#include "compiler.h"
#include "panic.h"

struct source_location {
    const char *file;
    uint32_t line, column;
};

struct type_descriptor {
    uint16_t kind, info;
    char name[];
};

struct type_mismatch_data {
    struct source_location loc;
    struct type_descriptor *type;
    uint8_t log_alignment, type_check_kind;
};

struct overflow_data {
    struct source_location loc;
    struct type_descriptor *type;
};

struct shift_data {
    struct source_location loc;
    struct type_descriptor *lhs_type, *rhs_type;
};

struct out_of_bounds_data {
    struct source_location loc;
    struct type_descriptor *array_type, *index_type;
};

struct location_only_data {
    struct source_location loc;
};

struct invalid_value_data {
    struct source_location loc;
    struct type_descriptor *type;
};

struct nonnull_arg_data {
    struct source_location loc, attr_loc;
    int arg_index;
};

struct vla_bound_data {
    struct source_location loc;
    struct type_descriptor *type;
};

struct invalid_builtin_data {
    struct source_location loc;
    uint8_t kind;
};

NORETURN static void
ubsan_report(const struct source_location *loc, const char *check, const char *detail, uint32_t a,
             uint32_t b)
{
    panic("UBSan: %s at %s:%u:%u (%s %#x, %#x)", check, loc->file, loc->line, loc->column, detail,
          a, b);
}

// The handlers the compiler's instrumentation calls (-fsanitize=undefined).
// Nothing but instrumented code calls them, so they are declared here, for
// -Wmissing-prototypes, rather than in a header.
void __ubsan_handle_type_mismatch_v1(struct type_mismatch_data *d, uintptr_t ptr);
void __ubsan_handle_add_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b);
void __ubsan_handle_sub_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b);
void __ubsan_handle_mul_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b);
void __ubsan_handle_negate_overflow(struct overflow_data *d, uintptr_t a);
void __ubsan_handle_divrem_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b);
void __ubsan_handle_shift_out_of_bounds(struct shift_data *d, uintptr_t a, uintptr_t b);
void __ubsan_handle_out_of_bounds(struct out_of_bounds_data *d, uintptr_t index);
void __ubsan_handle_load_invalid_value(struct invalid_value_data *d, uintptr_t value);
void __ubsan_handle_pointer_overflow(struct location_only_data *d, uintptr_t base,
                                     uintptr_t result);
void __ubsan_handle_builtin_unreachable(struct location_only_data *d);
void __ubsan_handle_nonnull_arg(struct nonnull_arg_data *d);
void __ubsan_handle_vla_bound_not_positive(struct vla_bound_data *d, uintptr_t bound);
void __ubsan_handle_invalid_builtin(struct invalid_builtin_data *d);

static const char *const s_access[] = {
    "load of",
    "store to",
    "reference binding to",
    "member access within",
    "member call on",
    "constructor call on",
    "downcast of",
    "downcast of",
    "upcast of",
    "cast to virtual base of",
    "_Nonnull binding to",
    "dynamic operation on",
};

void
__ubsan_handle_type_mismatch_v1(struct type_mismatch_data *d, uintptr_t ptr)
{
    const char *what =
        d->type_check_kind < ARRAY_SIZE(s_access) ? s_access[d->type_check_kind] : "access to";
    if (ptr == 0)
        ubsan_report(&d->loc, "null pointer", what, 0, 0);
    if (ptr & ((1u << d->log_alignment) - 1))
        ubsan_report(&d->loc, "misaligned pointer", what, ptr, 1u << d->log_alignment);
    ubsan_report(&d->loc, "object too small", what, ptr, 0);
}

void
__ubsan_handle_add_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    ubsan_report(&d->loc, "signed addition overflow", d->type->name, a, b);
}

void
__ubsan_handle_sub_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    ubsan_report(&d->loc, "signed subtraction overflow", d->type->name, a, b);
}

void
__ubsan_handle_mul_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    ubsan_report(&d->loc, "signed multiplication overflow", d->type->name, a, b);
}

void
__ubsan_handle_negate_overflow(struct overflow_data *d, uintptr_t a)
{
    ubsan_report(&d->loc, "signed negation overflow", d->type->name, a, 0);
}

void
__ubsan_handle_divrem_overflow(struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    ubsan_report(&d->loc, "division overflow or by zero", d->type->name, a, b);
}

void
__ubsan_handle_shift_out_of_bounds(struct shift_data *d, uintptr_t a, uintptr_t b)
{
    ubsan_report(&d->loc, "shift out of bounds", d->lhs_type->name, a, b);
}

void
__ubsan_handle_out_of_bounds(struct out_of_bounds_data *d, uintptr_t index)
{
    ubsan_report(&d->loc, "array index out of bounds", d->array_type->name, index, 0);
}

void
__ubsan_handle_load_invalid_value(struct invalid_value_data *d, uintptr_t value)
{
    ubsan_report(&d->loc, "invalid value loaded", d->type->name, value, 0);
}

void
__ubsan_handle_pointer_overflow(struct location_only_data *d, uintptr_t base, uintptr_t result)
{
    ubsan_report(&d->loc, "pointer arithmetic overflow", "base, result", base, result);
}

void
__ubsan_handle_builtin_unreachable(struct location_only_data *d)
{
    ubsan_report(&d->loc, "__builtin_unreachable reached", "", 0, 0);
}

void
__ubsan_handle_nonnull_arg(struct nonnull_arg_data *d)
{
    ubsan_report(&d->loc, "NULL passed as a nonnull argument", "argument", (uint32_t)d->arg_index,
                 0);
}

void
__ubsan_handle_vla_bound_not_positive(struct vla_bound_data *d, uintptr_t bound)
{
    ubsan_report(&d->loc, "variable-length array bound not positive", d->type->name, bound, 0);
}

void
__ubsan_handle_invalid_builtin(struct invalid_builtin_data *d)
{
    ubsan_report(&d->loc, "builtin called with zero (ctz/clz)", "kind", d->kind, 0);
}
