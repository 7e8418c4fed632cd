// The first process.  It holds a handle to every boot module (and device)
// and finds the modules by name with SYS_CAP_INFO.  In test mode it runs
// every module named test_* in module order, one at a time, each given a
// copy of every other module's handle (CAP_SPAWN | CAP_GRANT, so that it can
// start its helpers and pass them on), and prints each one's top-level KTAP
// line after the kernel's suites (the kernel printed the plan).  Otherwise
// it starts the demos: every module named demo_* except the ones another
// demo starts itself, and waits for them all.
#include "lib/string.h"
#include "tandem.h"

#define TEST_PREFIX     "test_"
#define DEMO_PREFIX     "demo_"
#define MODULES_MAX     CAPS_PER_PROCESS
#define DEMOS_MAX       16
#define HELPER_RIGHTS   (CAP_SPAWN | CAP_GRANT)

// A boot module as init holds it.
struct module {
    int handle;
    char name[sizeof((struct cap_info *)0)->name];
};

// Demos another demo starts: the first is given a handle to the second
// (demo_ping creates the endpoint demo_pong serves, so it must start it).
static const struct {
    const char *demo;
    const char *partner;
} s_partners[] = {
    { "demo_ping", "demo_pong" },
};

// Fills out[MODULES_MAX] with this process's module handles, lowest (module
// order) first; returns how many, or a -errno.
static int
list_modules(struct module out[MODULES_MAX])
{
    int handles[CAPS_PER_PROCESS];
    int open = sys_cap_list(handles, CAPS_PER_PROCESS);
    if (open < 0)
        return open;
    int n = 0;
    for (int i = 0; i < open && i < CAPS_PER_PROCESS && n < MODULES_MAX; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) != 0 || info.type != CAP_TYPE_MODULE)
            continue;
        out[n].handle = handles[i];
        strlcpy(out[n].name, info.name, sizeof out[n].name);
        n++;
    }
    return n;
}

// Whether s begins with prefix.
static bool
has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

// ---- Test mode --------------------------------------------------------------------

// Makes the copies every test is given: each non-test module's handle with
// HELPER_RIGHTS, at most SPAWN_HANDLES_MAX; returns how many (out[0, n)).
static unsigned
helper_copies(const struct module *mods, int n_mods, int out[SPAWN_HANDLES_MAX])
{
    unsigned n = 0;
    for (int i = 0; i < n_mods; i++) {
        if (has_prefix(mods[i].name, TEST_PREFIX))
            continue;
        if (n == SPAWN_HANDLES_MAX) {
            printf("init: more than %u helper modules; %s and later are not passed on\n",
                   SPAWN_HANDLES_MAX, mods[i].name);
            break;
        }
        int copy = sys_cap_dup(mods[i].handle, HELPER_RIGHTS, 0);
        if (copy < 0)
            printf("init: cannot copy the handle to %s: %d\n", mods[i].name, copy);
        else
            out[n++] = copy;
    }
    return n;
}

// Runs a test module to its end with the helpers' handles and prints its
// KTAP result as test number k.
static bool
run_test(const struct module *mod, const int *helpers, unsigned n_helpers, unsigned k)
{
    int proc = sys_spawn(mod->handle, helpers, n_helpers);
    if (proc < 0) {
        printf("not ok %u %s # spawn failed: %d\n", k, mod->name, proc);
        return false;
    }
    int code = sys_wait(proc, WAIT_FOREVER);
    sys_cap_close(proc);
    if (code == 0) {
        printf("ok %u %s\n", k, mod->name);
        return true;
    }
    printf("not ok %u %s # exit code %d\n", k, mod->name, code);
    return false;
}

// Runs the test_* modules; returns 0 if every one exited with 0.
static int
run_tests(const struct sysinfo *info, const struct module *mods, int n_mods)
{
    int helpers[SPAWN_HANDLES_MAX];
    unsigned n_helpers = helper_copies(mods, n_mods, helpers);
    unsigned k = info->kernel_suites;
    bool all_passed = true;
    for (int i = 0; i < n_mods; i++)
        if (has_prefix(mods[i].name, TEST_PREFIX))
            all_passed &= run_test(&mods[i], helpers, n_helpers, ++k);
    for (unsigned i = 0; i < n_helpers; i++)
        sys_cap_close(helpers[i]);
    return all_passed ? 0 : 1;
}

// ---- Demo mode --------------------------------------------------------------------

// The module called name, or NULL.
static const struct module *
find(const struct module *mods, int n_mods, const char *name)
{
    for (int i = 0; i < n_mods; i++)
        if (strcmp(mods[i].name, name) == 0)
            return &mods[i];
    return NULL;
}

// Whether name is some demo's partner, which init leaves to that demo.
static bool
is_partner(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(s_partners); i++)
        if (strcmp(name, s_partners[i].partner) == 0)
            return true;
    return false;
}

// Starts a demo, with a copy of its partner's handle if it has one;
// returns the process handle or a -errno.
static int
start_demo(const struct module *mod, const struct module *mods, int n_mods)
{
    int partner = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(s_partners); i++) {
        if (strcmp(mod->name, s_partners[i].demo) != 0)
            continue;
        const struct module *p = find(mods, n_mods, s_partners[i].partner);
        partner = p ? sys_cap_dup(p->handle, HELPER_RIGHTS, 0) : -ENOENT;
        if (partner < 0)
            return partner;
    }
    int proc = sys_spawn(mod->handle, &partner, partner ? 1 : 0);
    if (partner)
        sys_cap_close(partner);     // the demo has its own copy
    return proc;
}

// Starts the demos, waits for them all and returns 0.
static int
run_demos(const struct module *mods, int n_mods)
{
    int procs[DEMOS_MAX];
    const char *names[DEMOS_MAX];
    unsigned n = 0;
    for (int i = 0; i < n_mods && n < DEMOS_MAX; i++) {
        if (!has_prefix(mods[i].name, DEMO_PREFIX) || is_partner(mods[i].name))
            continue;
        int proc = start_demo(&mods[i], mods, n_mods);
        if (proc < 0) {
            printf("init: cannot start %s: %d\n", mods[i].name, proc);
            continue;
        }
        procs[n] = proc;
        names[n++] = mods[i].name;
    }
    for (unsigned i = 0; i < n; i++) {
        int code = sys_wait(procs[i], WAIT_FOREVER);
        sys_cap_close(procs[i]);
        if (code != 0)
            printf("init: %s ended with exit code %d\n", names[i], code);
    }
    printf("init: %u demo%s finished; nothing left to run\n", n, n == 1 ? "" : "s");
    return 0;
}

int
main(void)
{
    static struct module mods[MODULES_MAX];
    struct sysinfo info;
    int r = sys_sysinfo(&info);
    if (r < 0) {
        printf("init: sysinfo failed: %d\n", r);
        return 1;
    }
    int n_mods = list_modules(mods);
    if (n_mods < 0) {
        printf("init: cannot list its handles: %d\n", n_mods);
        return 1;
    }
    return info.test_mode ? run_tests(&info, mods, n_mods) : run_demos(mods, n_mods);
}
