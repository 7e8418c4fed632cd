/* APR pools: one pool with APR's default allocator (8 KiB blocks, kept on
 * its free list), emptied by apr_pool_clear after each entry. */
#include <apr_general.h>
#include <apr_pools.h>
#include <stdlib.h>

#define IMPL_NAME      "APR pool"
#define IMPL_TRANSIENT 1

static apr_pool_t *s_pool;

static void
impl_init(void)
{
	if (apr_initialize() != APR_SUCCESS || apr_pool_create(&s_pool, NULL) != APR_SUCCESS)
		exit(2);
}

static inline void *
impl_entry_alloc(size_t n)
{
	return apr_palloc(s_pool, n);
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	(void)objs;
	(void)k;
	apr_pool_clear(s_pool);
}

static void
impl_smoke(struct tap *t)
{
	void *a = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	void *b = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	tap_result(t, a == b, "clearing the pool makes its memory reusable");
}
