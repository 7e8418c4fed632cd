// Module 0, the first process.  In test mode it runs every module named
// test_* in module order, one at a time, and prints each one's top-level
// KTAP line after the kernel's suites (the kernel printed the plan).
// Otherwise it starts the demos: every module named demo_* except the ones
// another demo starts itself, and waits for them all.
#include "lib/string.h"
#include "tandem.h"

#define TEST_PREFIX     "test_"
#define DEMO_PREFIX     "demo_"
#define NAME_MAX        64
#define DEMOS_MAX       16

// Demos that are another demo's partner: demo_ping spawns demo_pong so that
// it learns pong's pid, which is the tid of the thread it calls.
static const char *const s_started_by_peer[] = { "demo_pong" };

// Copies module i's name into name[NAME_MAX]; false if there is none.
static bool
module_name(unsigned i, char name[NAME_MAX])
{
    int len = sys_module_name(i, name, NAME_MAX);
    if (len < 0 || len >= NAME_MAX)
        return false;
    name[len] = '\0';
    return true;
}

// Whether s begins with prefix.
static bool
has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

// Whether name is in s_started_by_peer, which init leaves alone.
static bool
started_by_peer(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(s_started_by_peer); i++)
        if (strcmp(name, s_started_by_peer[i]) == 0)
            return true;
    return false;
}

// Runs module i to its end and prints its KTAP result as test number k.
static bool
run_test(unsigned i, const char *name, unsigned k)
{
    int pid = sys_spawn(i);
    if (pid < 0) {
        printf("not ok %u %s # spawn failed: %d\n", k, name, pid);
        return false;
    }
    int code = sys_wait(pid);
    if (code == 0) {
        printf("ok %u %s\n", k, name);
        return true;
    }
    printf("not ok %u %s # exit code %d\n", k, name, code);
    return false;
}

// Runs the test_* modules; returns 0 if every one exited with 0.
static int
run_tests(const struct sysinfo *info)
{
    unsigned k = info->kernel_suites;
    bool all_passed = true;
    for (unsigned i = 1; i < info->module_count; i++) {
        char name[NAME_MAX];
        if (module_name(i, name) && has_prefix(name, TEST_PREFIX))
            all_passed &= run_test(i, name, ++k);
    }
    return all_passed ? 0 : 1;
}

// Starts the demos, waits for them all and returns 0.
static int
run_demos(const struct sysinfo *info)
{
    int pids[DEMOS_MAX];
    char names[DEMOS_MAX][NAME_MAX];
    unsigned n = 0;
    for (unsigned i = 1; i < info->module_count && n < DEMOS_MAX; i++) {
        if (!module_name(i, names[n]) || !has_prefix(names[n], DEMO_PREFIX) ||
            started_by_peer(names[n]))
            continue;
        pids[n] = sys_spawn(i);
        if (pids[n] < 0)
            printf("init: cannot start %s: %d\n", names[n], pids[n]);
        else
            n++;
    }
    for (unsigned i = 0; i < n; i++) {
        int code = sys_wait(pids[i]);
        if (code != 0)
            printf("init: %s ended with exit code %d\n", names[i], code);
    }
    printf("init: %u demo%s finished; nothing left to run\n", n, n == 1 ? "" : "s");
    return 0;
}

int
main(void)
{
    struct sysinfo info;
    int r = sys_sysinfo(&info);
    if (r < 0) {
        printf("init: sysinfo failed: %d\n", r);
        return 1;
    }
    return info.test_mode ? run_tests(&info) : run_demos(&info);
}
