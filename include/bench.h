/* The kernel's micro-benchmarks (kernel/bench.c), run in bench mode. */
#ifndef TANDEM_BENCH_H
#define TANDEM_BENCH_H

// Runs each benchmark and prints its figures (bench/guest.py reads them).
void bench_kernel_run(void);

#endif
