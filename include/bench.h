/* The kernel's micro-benchmarks (kernel/bench.c, kernel/bench_scaling.c), run in bench mode. */
#ifndef TANDEM_BENCH_H
#define TANDEM_BENCH_H

// Runs each benchmark and prints its figures (bench/guest.py reads them);
// with the word `bench=cpus` only bench_scaling_run.
void bench_kernel_run(void);

// Throughput on 1, 2 and 4 CPUs at once (kernel/bench_scaling.c), the
// boot word `bench=cpus`; nothing on one CPU.
void bench_scaling_run(void);

// Keeps p alive without costing an instruction.
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

#endif
