/* How kernel code reaches the running CPU's own area (include/percpu.h):
 * through %fs, which every kernel entry loads with PERCPU_SEL, a data
 * segment whose base differs per CPU (each CPU has its own GDT).  So
 * `%fs:PERCPU_SEG_OFFSET + field` is one instruction, as cheap as an
 * absolute address: the arena's inline fast path stays 7 instructions.
 *
 * Why the offset: a segment base of the area itself would make the area's
 * C address the null pointer in the %fs address space, and UBSan (debug
 * builds) calls its null-pointer report on every such access.  The base is
 * the area's address minus PERCPU_SEG_OFFSET instead (the segment is flat
 * 4 GiB, so the sum wraps to the area). */
#ifndef TANDEM_PERCPU_SEG_H
#define TANDEM_PERCPU_SEG_H

#define PERCPU_SEG_OFFSET 0x1000u

// Field f of the running CPU's area as an lvalue of type T, at byte offset
// off of struct percpu.
#define PERCPU_AT(T, off) (*(__seg_fs T *)(PERCPU_SEG_OFFSET + (off)))

#endif
