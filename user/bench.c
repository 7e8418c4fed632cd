// User-space micro-benchmarks, started by the kernel in bench mode: null
// system calls through int 0x80 and sysenter, and an IPC call/reply round
// trip to another process (ipc_echo, called through an endpoint).  Under
// QEMU -icount shift=0, rdtsc counts guest instructions; lines go out in the
// format kernel/bench.c uses.
#include "ipc_echo.h"
#include "tandem.h"

#define RUNS 7
#define OPS 16
#define REPEAT16(x) x x x x x x x x x x x x x x x x

static inline uint32_t
tsc32(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return lo;
}

static uint32_t s_empty;

#define MEASURE(result, body)                                   \
    do {                                                        \
        uint32_t best_ = ~0u;                                   \
        for (int run_ = 0; run_ < RUNS; run_++) {               \
            uint32_t t0_ = tsc32();                             \
            body;                                               \
            uint32_t t1_ = tsc32();                             \
            if (t1_ - t0_ < best_)                              \
                best_ = t1_ - t0_;                              \
        }                                                       \
        (result) = best_ > s_empty ? best_ - s_empty : 0;       \
    } while (0)

static void
print(const char *bench, const char *impl, uint32_t total, uint32_t ops)
{
    uint32_t hundredths = total * 100 / ops;
    printf("BENCH\t%s\t%s\tinstructions\t%u.%02u\n", bench, impl, hundredths / 100,
           hundredths % 100);
}

int
main(void)
{
    uint32_t n;
    MEASURE(s_empty, );
    s_empty = 0;
    MEASURE(s_empty, );
    printf("BENCH-BEGIN\tuser\n");
    // The stubs themselves, as user code calls them (cdecl wrapper included).
    MEASURE(n, REPEAT16(syscall_int80(SYS_GETTID, 0, 0, 0, 0, 0);));
    print("null syscall round trip", "int 0x80", n, OPS);
    if (syscall_mode_available(SYSCALL_SYSENTER)) {
        MEASURE(n, REPEAT16(syscall_sysenter(SYS_GETTID, 0, 0, 0, 0, 0);));
        print("null syscall round trip", "sysenter", n, OPS);
    }

    int echo = -1;
    int proc = echo_start(&echo, 0);
    if (proc > 0) {
        struct ipc_words reply;
        sys_ipc_call(echo, 1, 1, NULL, &reply);     // warm up: echo is waiting
        MEASURE(n, REPEAT16(sys_ipc_call(echo, 1, 2, NULL, &reply);));
        print("IPC call/reply round trip (two processes)",
              syscall_mode_get() == SYSCALL_SYSENTER ? "sysenter" : "int 0x80", n, OPS);
        sys_ipc_call(echo, ECHO_QUIT, 0, NULL, &reply);
        sys_wait(proc, WAIT_FOREVER);
        sys_cap_close(proc);
        sys_cap_close(echo);
    } else {
        printf("bench: cannot start ipc_echo: %d\n", proc);
    }
    printf("BENCH-END\tuser\n");
    return 0;
}
