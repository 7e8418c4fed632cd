# ---- Benchmarks (`make bench`) ----------------------------------------------
# The host half: Tandem's arena and heap compiled natively (-O2, release
# build) against the allocators of Debian's packages, one binary per
# implementation (bench/bench.c with -DBENCH_IMPL naming bench/impl/NAME.h), run by
# bench/run.py.  Everything lands in build/bench/:
#   parts/NAME.tsv   rows from each producer (benchmark, implementation,
#                    unit, value[, spread]; a header line is allowed)
#   results.tsv      every part's rows plus the goal rows: the medians
#   results.png      the chart (gnuplot), table.txt the table as printed
#   host-raw.tsv     every timed repetition; machine.txt what ran them
#
# Producers of rows are the targets in BENCH_PARTS, made one after another
# (`make bench` empties parts/ first); then `bench-report` merges
# build/bench/parts/*.tsv into results.tsv, the table and the chart.
#
# The guest half: instruction counts inside Tandem (kernel/bench.c and
# user/bench.c), from a release kernel booted with the word `bench` under
# -icount (bench/guest.py).  That kernel uses 128 KiB blocks so that the
# reset benchmark's 10,000 live 8-byte objects fit in one block: a size the
# tests do not run with, so it is built with KSTACK_BENCH_ONLY=1 (include/
# config.h) and refuses the word `test`.
BENCH_OUT   := $(BUILD)/bench
BENCH_BIN   := $(BENCH_OUT)/bin
BENCH_PARTS += bench-host bench-guest
BENCH_GUEST_BUILD := $(BUILD)/bench-kernel

# Debian packages the peer allocators and the chart need.
BENCH_DEB_PACKAGES := libtalloc-dev libapr1-dev libmimalloc-dev libjemalloc-dev gnuplot-nox

# Release configuration, as `make RELEASE=1` builds the kernel.  Tandem's
# sources are compiled once with HOST_TEST (simulated stack pointer, host
# kmalloc); bench.c is compiled per implementation, with HOST_TEST except
# for kfast-inline, which so gets the kernel's own inline kfastmalloc.
BENCH_CFLAGS := -std=gnu11 -O2 -g $(WARNINGS) -Iinclude -Ibench -DTANDEM_DEBUG=0 \
                -DKSTACK_SIZE=$(KSTACK_SIZE) -DKFAST_STRICT=0 -DTANDEM_BENCH_ONLY=$(KSTACK_BENCH_ONLY)
BENCH_TANDEM_OBJ := $(patsubst %.c,$(BENCH_OUT)/obj/%.o,kernel/mm/kfast.c kernel/mm/heap.c lib/string.c bench/tandem_host.c)

$(BENCH_OUT)/obj/%.o: %.c $(wildcard include/*.h include/*/*.h bench/*.h) $(STAMP)
	@mkdir -p $(@D)
	$(call say,BENCHCC,$<)
	$(Q)$(CC) $(BENCH_CFLAGS) -DHOST_TEST -c $< -o $@

# Per implementation: the header that supplies impl_*, its flags, Tandem's
# objects or the peer's library.
BENCH_FLAGS_kfast-inline := -DBENCH_IMPL='"impl/kfast.h"' -DBENCH_KFAST_INLINE=1
BENCH_LIBS_kfast-inline  := $(BENCH_TANDEM_OBJ)
BENCH_FLAGS_kfast-call   := -DBENCH_IMPL='"impl/kfast.h"' -DBENCH_KFAST_INLINE=0 -DHOST_TEST
BENCH_LIBS_kfast-call    := $(BENCH_TANDEM_OBJ)
BENCH_FLAGS_tandem-heap  := -DBENCH_IMPL='"impl/heap.h"' -DHOST_TEST
BENCH_LIBS_tandem-heap   := $(BENCH_TANDEM_OBJ)
BENCH_FLAGS_glibc        := -DBENCH_IMPL='"impl/malloc.h"'
BENCH_FLAGS_floor        := -DBENCH_IMPL='"impl/floor.h"'
BENCH_FLAGS_obstack      := -DBENCH_IMPL='"impl/obstack.h"'
BENCH_FLAGS_talloc       := -DBENCH_IMPL='"impl/talloc.h"'
BENCH_LIBS_talloc        := -ltalloc
BENCH_FLAGS_apr           = -DBENCH_IMPL='"impl/apr.h"' $(shell apr-1-config --cppflags --includes 2>/dev/null)
BENCH_LIBS_apr            = $(shell apr-1-config --link-ld 2>/dev/null)
BENCH_FLAGS_mimalloc     := -DBENCH_IMPL='"impl/malloc.h"' -DBENCH_MIMALLOC=1
BENCH_LIBS_mimalloc      := -lmimalloc
BENCH_FLAGS_jemalloc     := -DBENCH_IMPL='"impl/malloc.h"' -DBENCH_JEMALLOC=1
BENCH_LIBS_jemalloc      := -ljemalloc

# The Tandem ones, glibc's and the floor (bench/impl/floor.h: the ideal
# bump, no allocator) are always built; a peer only where its headers are
# installed (bench-deps installs them; `make test` does not).
BENCH_IMPLS := kfast-inline kfast-call floor tandem-heap glibc obstack \
               $(if $(wildcard /usr/include/talloc.h),talloc) \
               $(if $(wildcard /usr/include/apr-1.0/apr_pools.h),apr) \
               $(if $(wildcard /usr/include/mimalloc.h),mimalloc) \
               $(if $(wildcard /usr/include/jemalloc/jemalloc.h),jemalloc)
BENCH_BINS  := $(BENCH_IMPLS:%=$(BENCH_BIN)/bench-%)
bench_empty :=
bench_space := $(bench_empty) $(bench_empty)
bench_comma := ,
BENCH_IMPL_LIST := $(subst $(bench_space),$(bench_comma),$(strip $(BENCH_IMPLS)))

$(BENCH_BIN)/bench-%: bench/bench.c $(wildcard bench/*.h bench/impl/*.h include/*.h include/*/*.h) \
                      $(BENCH_TANDEM_OBJ) $(STAMP)
	@mkdir -p $(@D)
	$(call say,BENCHCC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(BENCH_FLAGS_$*) bench/bench.c $(BENCH_LIBS_$*) -lm -o $@

.PHONY: bench bench-deps bench-host bench-guest bench-report bench-bins

# Everything on a fresh machine: install, build, measure, report.
bench: bench-deps
	@rm -rf $(BENCH_OUT)/parts && mkdir -p $(BENCH_OUT)/parts && date +%s > $(BENCH_OUT)/started
	@for part in $(BENCH_PARTS); do $(MAKE) --no-print-directory $$part || exit 1; done
	@$(MAKE) --no-print-directory bench-report
	@$(MAKE) --no-print-directory bench-readme

bench-bins: $(BENCH_BINS)

# Host figures: every implementation, interleaved passes, pinned to one CPU.
bench-host: $(BENCH_BINS)
	$(PYTHON) bench/run.py host --bin-dir $(BENCH_BIN) --out-dir $(BENCH_OUT) --impls $(BENCH_IMPL_LIST)

bench-guest:
	@$(MAKE) --no-print-directory BUILD=$(BENCH_GUEST_BUILD) RELEASE=1 KSTACK_SIZE=131072 KSTACK_BENCH_ONLY=1 all
	$(PYTHON) bench/guest.py $(BENCH_GUEST_BUILD) $(BENCH_OUT)/parts/guest.tsv

bench-report:
	$(PYTHON) bench/run.py report --out-dir $(BENCH_OUT)

# The main Makefile's deps, then the peers' packages that are missing.
bench-deps: deps
	$(call apt_install,bench-deps,$(BENCH_DEB_PACKAGES))

# `make test`: the benchmark code's correctness on whatever is installed, no
# timing; implementations whose headers are missing are reported as skipped.
TEST_JOBS  += --job "bench-smoke:tap:300:$(PYTHON) bench/run.py smoke --bin-dir $(BENCH_BIN) --impls $(BENCH_IMPL_LIST)"
CHECK_DEPS += $(BENCH_BINS)
