/* glibc's obstack, the classic mark/release arena: a zero-size object made
 * at start is the mark, and obstack_free back to it drops an entry's
 * objects (and any chunk added after the first).  The first chunk is 8 KiB,
 * the same budget the kernel-stack block gives kfast; chunks come from
 * malloc. */
#include <obstack.h>
#include <stdlib.h>

#define obstack_chunk_alloc malloc
#define obstack_chunk_free  free

#define IMPL_NAME      "obstack"
#define IMPL_TRANSIENT 1

static struct obstack s_ob;
static void *s_mark;

static void
impl_init(void)
{
	obstack_begin(&s_ob, 8192);
	s_mark = obstack_alloc(&s_ob, 0);
}

static inline void *
impl_entry_alloc(size_t n)
{
	return obstack_alloc(&s_ob, n);
}

static inline void
impl_entry_end(void **objs, size_t k)
{
	(void)objs;
	(void)k;
	obstack_free(&s_ob, s_mark);
}

static void
impl_smoke(struct tap *t)
{
	void *a = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	void *b = impl_entry_alloc(24);
	impl_entry_end(NULL, 0);
	tap_result(t, a == b, "release to the mark makes the memory reusable");
}
