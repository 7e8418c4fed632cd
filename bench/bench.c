// The host benchmark: one allocator, two workloads, timed or smoke-tested.
//
// Built once per implementation: the Makefile fragment (mk/bench.mk) names
// bench/impl/NAME.h in BENCH_IMPL, and that header, included first,
// supplies the impl_* functions below as static inlines, so each
// allocator's fast path is compiled into the loops exactly as its own
// header offers it.  Allocators that replace malloc (mimalloc, jemalloc)
// get a binary of their own, linked the ordinary way.
//
//   bench-NAME [--reps N] [--objects N] [--ops N] [--seed S]
//       prints one line per timed repetition (after one untimed warm-up):
//       "rep <TAB> benchmark <TAB> implementation <TAB> unit <TAB> value"
//   bench-NAME --smoke
//       checks the same workloads for correctness (no timing) and prints TAP.
//
// Workloads (each from a seeded generator, identical for every allocator):
//   transient  per "kernel entry", k small objects of mixed sizes are
//              allocated and touched, then dropped all at once (impl_entry_end:
//              reset, release, pool clear or free each).  k is 1, 10, 100,
//              1000, or drawn log-uniformly from 1..1000 ("mixed").
//   persistent a long-lived small-object trace: allocations and frees
//              interleaved, with some objects short-lived and most long-lived.
//
// What an implementation header defines:
//   IMPL_NAME             the name in the results
//   IMPL_TRANSIENT        1 if it runs the transient workload
//   IMPL_PERSISTENT       1 if it runs the persistent workload
//   impl_init()           once, before anything else
//   impl_entry_alloc(n)   transient: n bytes that live until impl_entry_end
//   impl_entry_end(o, k)  transient: drops the k objects o[0..k) at once
//   impl_alloc(n)         persistent: n bytes until impl_free
//   impl_free(p, n)       persistent: gives back p (n bytes)
//   impl_smoke(t)         extra correctness checks (t counts TAP lines)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// What an implementation's impl_smoke reports with (defined below).
struct tap;
static void tap_result(struct tap *t, bool ok, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#ifndef BENCH_IMPL
#error "build with -DBENCH_IMPL='\"impl/NAME.h\"' (see mk/bench.mk)"
#endif
#include BENCH_IMPL
#ifndef IMPL_PERSISTENT
#define IMPL_PERSISTENT 0
#endif
#ifndef IMPL_TRANSIENT
#define IMPL_TRANSIENT 0
#endif


#define K_MAX           1000u    // most objects in one entry
#define SMALL_MAX       512u     // largest object (IPC_BUF_MAX)
#define LIVE_TARGET     20000u   // persistent: live objects in the steady state
#define RECENT_WINDOW   16u      // persistent: "short-lived" = among the newest 16
#define OBJECTS_DEFAULT 1000000u // transient: objects per repetition
#define OPS_DEFAULT     2000000u // persistent: operations per repetition
#define REPS_DEFAULT    5u

// ---- Seeded generator (splitmix64) ----------------------------------------

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

// Uniform in [lo, hi].
static uint32_t
rng_range(uint64_t *s, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(s) % (hi - lo + 1));
}

// A small object's size, shaped like a kernel entry's scratch: 60 % tiny
// (8..32: small structs, short strings), 30 % medium (33..128: formatted
// messages), 10 % larger (129..512: IPC bounce buffers).  Mean about 70 bytes.
static uint32_t
rng_size(uint64_t *s)
{
	uint32_t r = rng_range(s, 0, 99);

	if (r < 60)
		return rng_range(s, 8, 32);
	if (r < 90)
		return rng_range(s, 33, 128);
	return rng_range(s, 129, SMALL_MAX);
}

// Log-uniform in [1, K_MAX]: as many entries with k in 1..10 as in 100..1000.
static uint32_t
rng_k(uint64_t *s)
{
	double u = (double)(rng_next(s) >> 11) / (double)(1ull << 53);
	uint32_t k = (uint32_t)(exp(u * log((double)K_MAX + 1.0)));

	return k < 1 ? 1 : k > K_MAX ? K_MAX : k;
}

// ---- Workload traces --------------------------------------------------------

#if IMPL_TRANSIENT
struct transient_trace {
	const char *name; // the benchmark's name in the results
	uint32_t *k;      // objects in each entry
	size_t entries;
	uint16_t *size; // every object's size, entry after entry
	size_t objects;
};

// Entries of fixed k (or mixed, k == 0) until at least `objects` objects.
static struct transient_trace
transient_make(const char *name, uint32_t fixed_k, size_t objects, uint64_t seed)
{
	struct transient_trace t = { .name = name };
	uint64_t s = seed;
	size_t cap = objects + K_MAX;

	t.k = malloc(cap * sizeof(*t.k));
	t.size = malloc(cap * sizeof(*t.size));
	if (!t.k || !t.size) {
		fprintf(stderr, "bench: out of memory for the trace\n");
		exit(2);
	}
	while (t.objects < objects) {
		uint32_t k = fixed_k ? fixed_k : rng_k(&s);

		t.k[t.entries++] = k;
		for (uint32_t i = 0; i < k; i++)
			t.size[t.objects++] = (uint16_t)rng_size(&s);
	}
	return t;
}

static void
transient_free(struct transient_trace *t)
{
	free(t->k);
	free(t->size);
}
#endif

#if IMPL_PERSISTENT
// One persistent operation: allocate `size` bytes into slot, or (alloc
// false) free the object in slot, which has `size` bytes.
struct op {
	uint32_t slot;
	uint16_t size;
	bool alloc;
};

struct persistent_trace {
	struct op *op;
	size_t ops;
	uint32_t slots; // slot numbers are below this
	uint32_t peak_live;
};

// Ramps up to LIVE_TARGET live objects, holds there with allocations and
// frees interleaved, then frees what is left, in `ops` operations in all.
// Half the frees take one of the newest objects (short-lived), half any
// live one (long-lived); a freed object's place in the live list goes to
// the newest, which so joins the long-lived.
static struct persistent_trace
persistent_make(size_t ops, uint64_t seed)
{
	struct persistent_trace t = { 0 };
	uint64_t s = seed;
	uint32_t cap = LIVE_TARGET * 2;
	uint32_t *live = malloc(cap * sizeof(*live)); // live slot numbers, newest last
	uint16_t *size = malloc(cap * sizeof(*size)); // each slot's object size
	uint32_t *free_slots = malloc(cap * sizeof(*free_slots));
	uint32_t nlive = 0, nfree = 0;

	t.op = malloc((ops + cap) * sizeof(*t.op));
	if (!live || !size || !free_slots || !t.op) {
		fprintf(stderr, "bench: out of memory for the trace\n");
		exit(2);
	}
	for (uint32_t i = 0; i < cap; i++)
		free_slots[nfree++] = cap - 1 - i;
	size_t drain_at = ops > 2 * LIVE_TARGET ? ops - LIVE_TARGET : ops / 2;
	while (t.ops < drain_at) {
		// Allocation odds: 3/4 while ramping up, then drifting back to the target.
		uint32_t odds = nlive < LIVE_TARGET / 2 ? 75 : nlive < LIVE_TARGET ? 55 : 45;
		bool alloc = nlive == 0 || (nfree > 0 && rng_range(&s, 0, 99) < odds);

		if (alloc) {
			uint32_t slot = free_slots[--nfree];

			size[slot] = (uint16_t)rng_size(&s);
			live[nlive++] = slot;
			t.op[t.ops++] = (struct op){ slot, size[slot], true };
		} else {
			uint32_t window = nlive < RECENT_WINDOW ? nlive : RECENT_WINDOW;
			uint32_t i = rng_range(&s, 0, 1) ? nlive - 1 - rng_range(&s, 0, window - 1)
			                                 : rng_range(&s, 0, nlive - 1);
			uint32_t slot = live[i];

			live[i] = live[--nlive]; // the newest takes its place: O(1)
			free_slots[nfree++] = slot;
			t.op[t.ops++] = (struct op){ slot, size[slot], false };
		}
		if (nlive > t.peak_live)
			t.peak_live = nlive;
	}
	while (nlive > 0) {
		uint32_t slot = live[--nlive];

		t.op[t.ops++] = (struct op){ slot, size[slot], false };
	}
	t.slots = cap;
	free(live);
	free(size);
	free(free_slots);
	return t;
}
#endif

// ---- The implementation ----------------------------------------------------

// The smoke run's TAP lines.
struct tap {
	unsigned n;
	unsigned failed;
};

static void
tap_result(struct tap *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok" : "not ok", ++t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		t->failed++;
	fflush(stdout);
}

static void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}


// ---- Timed runs -------------------------------------------------------------

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

// A sink the compiler must assume anyone reads: keeps the touches alive.
volatile uint8_t g_bench_sink;

#if IMPL_TRANSIENT
// Runs every entry of t once; returns nanoseconds per entry.
static double
transient_run(const struct transient_trace *t, void **objs)
{
	const uint16_t *size = t->size;
	uint8_t sum = 0;
	double t0 = now_ns();

	for (size_t e = 0; e < t->entries; e++) {
		uint32_t k = t->k[e];

		for (uint32_t i = 0; i < k; i++) {
			uint32_t n = *size++;
			uint8_t *p = impl_entry_alloc(n);

			p[0] = (uint8_t)i; // touch both ends
			p[n - 1] = (uint8_t)n;
			objs[i] = p;
		}
		sum += *(uint8_t *)objs[k - 1];
		impl_entry_end(objs, k);
	}
	double t1 = now_ns();
	g_bench_sink = sum;
	return (t1 - t0) / (double)t->entries;
}
#endif

#if IMPL_PERSISTENT
// Runs the trace once; returns nanoseconds per operation.
static double
persistent_run(const struct persistent_trace *t, void **slot)
{
	uint8_t sum = 0;
	double t0 = now_ns();

	for (size_t i = 0; i < t->ops; i++) {
		const struct op *o = &t->op[i];

		if (o->alloc) {
			uint8_t *p = impl_alloc(o->size);

			p[0] = (uint8_t)i;
			p[o->size - 1] = (uint8_t)o->size;
			slot[o->slot] = p;
		} else {
			sum += *(uint8_t *)slot[o->slot];
			impl_free(slot[o->slot], o->size);
		}
	}
	double t1 = now_ns();
	g_bench_sink = sum;
	return (t1 - t0) / (double)t->ops;
}
#endif

// ---- Smoke checks (correctness only) ----------------------------------------

// The byte object i of an entry is filled with.
static uint8_t
fill_of(size_t i)
{
	return (uint8_t)(i * 131u + 7u);
}

static bool
filled_with(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

#if IMPL_TRANSIENT
// Fills every object whole and checks them all before the entry ends, so
// two objects that overlap, or memory handed out twice, show.
static bool
transient_check(const struct transient_trace *t, void **objs, char *why, size_t cap)
{
	const uint16_t *size = t->size;

	for (size_t e = 0; e < t->entries; e++) {
		uint32_t k = t->k[e];

		for (uint32_t i = 0; i < k; i++) {
			uint8_t *p = impl_entry_alloc(size[i]);

			if (!p) {
				snprintf(why, cap, "entry %zu: object %u of %u bytes: NULL", e, i,
				         size[i]);
				return false;
			}
			if ((uintptr_t)p % 8) {
				snprintf(why, cap,
				         "entry %zu: object %u at %p is not 8-byte aligned", e, i,
				         (void *)p);
				return false;
			}
			memset(p, fill_of(i), size[i]);
			objs[i] = p;
		}
		for (uint32_t i = 0; i < k; i++)
			if (!filled_with(objs[i], size[i], fill_of(i))) {
				snprintf(why, cap,
				         "entry %zu: object %u of %u bytes at %p was overwritten",
				         e, i, size[i], objs[i]);
				return false;
			}
		size += k;
		impl_entry_end(objs, k);
	}
	return true;
}
#endif

#if IMPL_PERSISTENT
// Fills each object with its slot's byte and checks it whole before freeing.
static bool
persistent_check(const struct persistent_trace *t, void **slot, char *why, size_t cap)
{
	for (size_t i = 0; i < t->ops; i++) {
		const struct op *o = &t->op[i];
		uint8_t b = fill_of(o->slot);

		if (o->alloc) {
			uint8_t *p = impl_alloc(o->size);

			if (!p || (uintptr_t)p % 8) {
				snprintf(why, cap, "op %zu: %u bytes: %p (NULL or misaligned)", i,
				         o->size, (void *)p);
				return false;
			}
			memset(p, b, o->size);
			slot[o->slot] = p;
		} else {
			if (!filled_with(slot[o->slot], o->size, b)) {
				snprintf(why, cap,
				         "op %zu: the %u bytes at %p (slot %u) were overwritten", i,
				         o->size, slot[o->slot], o->slot);
				return false;
			}
			impl_free(slot[o->slot], o->size);
		}
	}
	return true;
}
#endif

static int
smoke(uint64_t seed)
{
	struct tap t = { 0 };
	char why[256];
	void **objs = malloc(LIVE_TARGET * 2 * sizeof(void *));

	if (!objs)
		return 2;
	printf("TAP version 13\n");
	tap_diag("%s: correctness only, no timing", IMPL_NAME);
	impl_init();
#if IMPL_TRANSIENT
	static const uint32_t ks[] = { 1, 7, 100, K_MAX, 0 };
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		char name[32];
		if (ks[i])
			snprintf(name, sizeof(name), "k=%u", ks[i]);
		else
			snprintf(name, sizeof(name), "mixed k");
		struct transient_trace tr = transient_make(name, ks[i], 20000, seed + i);
		why[0] = '\0';
		bool ok = transient_check(&tr, objs, why, sizeof(why));
		tap_result(&t, ok, "transient %s: %zu entries, objects intact until dropped", name,
		           tr.entries);
		if (!ok)
			tap_diag("%s", why);
		transient_free(&tr);
	}
#endif
#if IMPL_PERSISTENT
	struct persistent_trace pt = persistent_make(LIVE_TARGET * 6, seed);
	why[0] = '\0';
	bool ok = persistent_check(&pt, objs, why, sizeof(why));
	tap_result(&t, ok, "persistent: %zu ops, peak %u live, contents intact until freed", pt.ops,
	           pt.peak_live);
	if (!ok)
		tap_diag("%s", why);
	free(pt.op);
#endif
	impl_smoke(&t);
	printf("1..%u\n", t.n);
	free(objs);
	return t.failed ? 1 : 0;
}

// ---- Main -------------------------------------------------------------------

static unsigned long
number_arg(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s ? s : "", &end, 0);

	if (!s || errno || *end || end == s) {
		fprintf(stderr, "bench: %s wants a number, not '%s'\n", opt, s ? s : "");
		exit(2);
	}
	return v;
}

static void
report(unsigned rep, const char *benchmark, const char *unit, double value)
{
	printf("%u\t%s\t%s\t%s\t%.3f\n", rep, benchmark, IMPL_NAME, unit, value);
}

int
main(int argc, char **argv)
{
	unsigned long reps = REPS_DEFAULT, objects = OBJECTS_DEFAULT, ops = OPS_DEFAULT;
	uint64_t seed = 1;
	bool smoke_run = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke"))
			smoke_run = true;
		else if (!strcmp(argv[i], "--reps"))
			reps = number_arg(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--objects"))
			objects = number_arg(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--ops"))
			ops = number_arg(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--seed"))
			seed = number_arg(argv[i], argv[i + 1]), i++;
		else {
			fprintf(stderr,
			        "usage: %s [--smoke] [--reps N] [--objects N] [--ops N] [--seed S]\n",
			        argv[0]);
			return 2;
		}
	}
	if (smoke_run)
		return smoke(seed);
	if (objects < K_MAX || ops < 4 * LIVE_TARGET) {
		fprintf(stderr, "bench: --objects must be >= %u and --ops >= %u\n", K_MAX,
		        4 * LIVE_TARGET);
		return 2;
	}

	void **objs = malloc(LIVE_TARGET * 2 * sizeof(void *));
	if (!objs)
		return 2;
	impl_init();
#if IMPL_TRANSIENT
	static const struct {
		const char *name;
		uint32_t k;
	} kinds[] = {
		{ "transient k=1", 1 },     { "transient k=10", 10 },
		{ "transient k=100", 100 }, { "transient k=1000", 1000 },
		{ "transient mixed k", 0 },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct transient_trace tr =
		        transient_make(kinds[i].name, kinds[i].k, objects, seed + i);
		transient_run(&tr, objs); // warm-up: caches, page faults, pools
		for (unsigned r = 0; r < reps; r++)
			report(r, tr.name, "ns/entry", transient_run(&tr, objs));
		transient_free(&tr);
	}
#endif
#if IMPL_PERSISTENT
	struct persistent_trace pt = persistent_make(ops, seed);
	persistent_run(&pt, objs);
	for (unsigned r = 0; r < reps; r++)
		report(r, "persistent", "ns/op", persistent_run(&pt, objs));
	free(pt.op);
#endif
	fflush(stdout);
	free(objs);
	return 0;
}
