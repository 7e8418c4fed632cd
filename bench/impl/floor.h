/* The floor: the ideal inline bump, with no checks at all - no limit, no
 * canary, no count, no spill - over one buffer larger than any entry, and
 * emptied by setting its pointer back.  It is no allocator (it would run
 * off its buffer unchecked); it is the limit no allocator can pass on this
 * workload, run in the same process setting as the others, so that the
 * distance of kfast (inline) to it is visible. */
#include <stdint.h>
#include <stdlib.h>

#define IMPL_NAME      "floor (ideal bump)"
#define IMPL_TRANSIENT 1

#define FLOOR_BYTES (1u << 20) // above any entry: 1000 objects of at most 512 bytes

static uint8_t *s_floor_base;
uint8_t *s_floor_next; // in memory, as an allocator's state (see above)

static void
impl_init(void)
{
	s_floor_base = s_floor_next = aligned_alloc(64, FLOOR_BYTES);
	if (!s_floor_base)
		exit(2);
}

static inline void *
impl_entry_alloc(size_t n)
{
	uint8_t *p = s_floor_next;

	s_floor_next = p + ((n + 7) & ~(size_t)7);
	return p;
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	(void)objs;
	(void)k;
	s_floor_next = s_floor_base;
}

static void
impl_smoke(struct tap *t)
{
	void *a = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	void *b = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	tap_result(t, a == b && a == s_floor_base,
	           "setting the pointer back makes the buffer reusable");
}
