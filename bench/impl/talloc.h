/* talloc with a pool: every object is a child of one 8 KiB talloc_pool
 * (the budget the kernel-stack block gives kfast), and
 * talloc_free_children empties it; what does not fit in the pool talloc
 * takes from malloc itself. */
#include <talloc.h>

#define IMPL_NAME      "talloc pool"
#define IMPL_TRANSIENT 1

static void *s_pool;

static void
impl_init(void)
{
	s_pool = talloc_pool(NULL, 8192);
	if (!s_pool)
		exit(2);
}

static inline void *
impl_entry_alloc(size_t n)
{
	return talloc_size(s_pool, n);
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	(void)objs;
	(void)k;
	talloc_free_children(s_pool);
}

static void
impl_smoke(struct tap *t)
{
	void *a = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	void *b = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	tap_result(t, a == b, "emptying the pool makes its memory reusable");
	tap_result(t, talloc_total_blocks(s_pool) == 1, "the pool has no children left");
}
