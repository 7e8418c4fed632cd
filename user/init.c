// The first process.  It holds a handle to every boot module (and device)
// and finds the modules by name with SYS_CAP_INFO.  In test mode it runs
// every module named test_* in module order, one at a time, each given a
// copy of every other module's handle (CAP_SPAWN | CAP_GRANT, so that it can
// start its helpers and pass them on), and prints each one's top-level KTAP
// line after the kernel's suites (the kernel printed the plan).  The
// tests of the device mechanisms, test_dev*, are given instead a copy of
// every device handle and of the log (CAP_USE | CAP_GRANT), and of the
// helper modules named dev_* and drv_* (all would not fit in one spawn's
// SPAWN_HANDLES_MAX); no other test holds a device.  Otherwise it starts
// the system - the drivers, the console and the shell - and keeps it
// running (see "The system" below), or with the boot word run=MODULE that
// module alone.
#include "lib/string.h"
#include "proto.h"
#include "tandem.h"

#define TEST_PREFIX     "test_"
#define DEV_TEST_PREFIX "test_dev"
#define MODULES_MAX     CAPS_PER_PROCESS
#define HELPER_RIGHTS   (CAP_SPAWN | CAP_GRANT)
#define DEVICE_RIGHTS   (CAP_USE | CAP_GRANT)

// The helper modules a test_dev* test is given.
static const char *const s_dev_helper_prefixes[] = { "dev_", "drv_" };

// A boot module as init holds it.
struct module {
    int handle;
    char name[sizeof((struct cap_info *)0)->name];
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

// The module called name, or NULL.
static const struct module *
find(const struct module *mods, int n_mods, const char *name)
{
    for (int i = 0; i < n_mods; i++)
        if (strcmp(mods[i].name, name) == 0)
            return &mods[i];
    return NULL;
}

// Whether s begins with prefix.
static bool
has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

// ---- Test mode --------------------------------------------------------------------

// The handles a test is given, as copies init made for it.
struct handle_set {
    int handles[SPAWN_HANDLES_MAX];
    unsigned n;
};

// Adds a copy of handle (called name) with rights; returns false if the
// set is full.
static bool
add_copy(struct handle_set *set, int handle, unsigned rights, const char *name)
{
    if (set->n == SPAWN_HANDLES_MAX) {
        printf("init: more than %u handles for a test; %s and later are not passed on\n",
               SPAWN_HANDLES_MAX, name);
        return false;
    }
    int copy = sys_cap_dup(handle, rights, 0);
    if (copy < 0)
        printf("init: cannot copy the handle to %s: %d\n", name, copy);
    else
        set->handles[set->n++] = copy;
    return true;
}

// What every test is given: each non-test module's handle with HELPER_RIGHTS.
static void
helper_copies(const struct module *mods, int n_mods, struct handle_set *set)
{
    set->n = 0;
    for (int i = 0; i < n_mods; i++)
        if (!has_prefix(mods[i].name, TEST_PREFIX) &&
            !add_copy(set, mods[i].handle, HELPER_RIGHTS, mods[i].name))
            return;
}

static bool
is_dev_helper(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(s_dev_helper_prefixes); i++)
        if (has_prefix(name, s_dev_helper_prefixes[i]))
            return true;
    return false;
}

// What a test_dev* test is given: every device and the log with
// DEVICE_RIGHTS, then its helper modules with HELPER_RIGHTS.
static void
device_copies(const struct module *mods, int n_mods, struct handle_set *set)
{
    int handles[CAPS_PER_PROCESS];
    int open = sys_cap_list(handles, CAPS_PER_PROCESS);
    set->n = 0;
    for (int i = 0; i < open && i < CAPS_PER_PROCESS; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) != 0)
            continue;
        bool device = info.type == CAP_TYPE_IRQ || info.type == CAP_TYPE_IOPORT ||
                      info.type == CAP_TYPE_MEMORY || info.type == CAP_TYPE_LOG;
        if (device && !add_copy(set, handles[i], DEVICE_RIGHTS, info.name))
            return;
    }
    for (int i = 0; i < n_mods; i++)
        if (is_dev_helper(mods[i].name) &&
            !add_copy(set, mods[i].handle, HELPER_RIGHTS, mods[i].name))
            return;
}

static void
close_all(const struct handle_set *set)
{
    for (unsigned i = 0; i < set->n; i++)
        sys_cap_close(set->handles[i]);
}

// Runs a test module to its end with the handles given and prints its
// KTAP result as test number k.
static bool
run_test(const struct module *mod, const struct handle_set *given, unsigned k)
{
    int proc = sys_spawn(mod->handle, given->handles, given->n);
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
    static struct handle_set helpers, devices;
    helper_copies(mods, n_mods, &helpers);
    device_copies(mods, n_mods, &devices);
    unsigned k = info->kernel_suites;
    bool all_passed = true;
    for (int i = 0; i < n_mods; i++) {
        if (!has_prefix(mods[i].name, TEST_PREFIX))
            continue;
        bool dev = has_prefix(mods[i].name, DEV_TEST_PREFIX);
        all_passed &= run_test(&mods[i], dev ? &devices : &helpers, ++k);
    }
    close_all(&helpers);
    close_all(&devices);
    return all_passed ? 0 : 1;
}

// ---- The system -------------------------------------------------------------------
// Otherwise init starts the drivers, the console and the shell, each with
// only the handles user/lib/proto.h's table gives it, and keeps a receive
// handle to every driver's and the console's endpoint: while one of them is
// being restarted, calls to it wait in its endpoint's queue.  A watcher
// thread per program waits for its end and calls init's main thread, which
// starts it again with the same handles - unless it keeps dying as soon as
// it starts, or it is the shell saying `halt`: then init ends every program
// and returns, and the kernel reports the system idle.

enum { UART, KBD, VGA, CONSOLE, SHELL, PROGRAMS };
#define KILLABLE SHELL // the shell may kill the programs before it

#define RESTARTS_MAX        5             // quick deaths in a row before init gives up
#define STABLE_TICKS        (5 * TICK_HZ) // a program that lived this long starts afresh
#define WATCHER_STACK       2048
#define BADGE_WATCHER       0x100u  // + the program's index, on init's endpoint
#define BADGE_SHELL         0x200u  // the shell's handle to init's endpoint
#define BADGE_SHELL_CONSOLE 0x5E11u // the shell's handle to the console's
#define PROGRAM_ENDED       1       // a watcher's call: w1 = the exit code
#define ENDPOINT_COPY       (CAP_SEND | CAP_RECV | CAP_GRANT) // send: to bind an IRQ line
#define SEND_COPY           (CAP_SEND | CAP_GRANT)

// A system program as init runs it.
struct program {
    const char *name;
    int module;                     // 0: init has no such module
    int handles[SPAWN_HANDLES_MAX]; // what it is given, at every start
    unsigned n_handles;
    int error; // the first handle that could not be made
    int proc;  // its process handle (0: not running)
    unsigned pid;
    unsigned started;      // tick of its last start
    unsigned quick_deaths; // deaths in a row within STABLE_TICKS of a start
    int report;            // its watcher's badged handle to init's endpoint
};

// One program a line (clang-format 14 would pack them into columns).
// clang-format off
static struct program s_programs[PROGRAMS] = {
    [UART] = { .name = "drv_uart" },
    [KBD] = { .name = "drv_kbd" },
    [VGA] = { .name = "drv_vga" },
    [CONSOLE] = { .name = "console" },
    [SHELL] = { .name = "shell" },
};
// clang-format on
static int s_endpoints[CONSOLE + 1]; // the drivers' and the console's
static int s_init_endpoint;          // watchers and the shell call init here
static uint8_t s_watcher_stacks[PROGRAMS][WATCHER_STACK] ALIGNED(16);

// Adds a handle to what p is given; a failed lookup or dup (negative)
// is remembered instead.
static void
give(struct program *p, int handle)
{
    if (handle < 0 || p->n_handles == SPAWN_HANDLES_MAX) {
        if (p->error == 0)
            p->error = handle < 0 ? handle : -EINVAL;
        return;
    }
    p->handles[p->n_handles++] = handle;
}

static bool
is_system_program(const char *name)
{
    for (unsigned i = 0; i < PROGRAMS; i++)
        if (strcmp(name, s_programs[i].name) == 0)
            return true;
    return false;
}

// Whether a module is one the shell may run: neither init, nor a test,
// nor a system program.
static bool
is_runnable(const char *name)
{
    return strcmp(name, "init") != 0 && !has_prefix(name, TEST_PREFIX) && !is_system_program(name);
}

// The handles of proto.h's table, in the order each program expects them:
// a driver's endpoint first, then its devices (see user/drv_uart.c,
// user/drv_kbd.c, user/drv_vga.c); the console's as user/console.c says.
static void
prepare_handles(const struct module *mods, int n_mods)
{
    int log = cap_find(CAP_TYPE_LOG, "kernel-log");
    struct program *p = s_programs;
    give(&p[UART], sys_cap_dup(s_endpoints[UART], ENDPOINT_COPY, 0));
    give(&p[UART], cap_find(CAP_TYPE_IOPORT, "com1"));
    give(&p[UART], cap_find(CAP_TYPE_IRQ, "irq4-com1"));
    give(&p[KBD], sys_cap_dup(s_endpoints[KBD], ENDPOINT_COPY, 0));
    give(&p[KBD], cap_find(CAP_TYPE_IOPORT, "ps2-data"));
    give(&p[KBD], cap_find(CAP_TYPE_IOPORT, "ps2-control"));
    give(&p[KBD], cap_find(CAP_TYPE_IRQ, "irq1-keyboard"));
    give(&p[VGA], sys_cap_dup(s_endpoints[VGA], ENDPOINT_COPY, 0));
    give(&p[VGA], cap_find(CAP_TYPE_MEMORY, "vga-text"));
    give(&p[VGA], cap_find(CAP_TYPE_IOPORT, "vga-crtc"));
    give(&p[CONSOLE], log);
    for (int d = UART; d <= VGA; d++)
        give(&p[CONSOLE], sys_cap_dup(s_endpoints[d], SEND_COPY, 0));
    give(&p[CONSOLE], sys_cap_dup(s_endpoints[CONSOLE], ENDPOINT_COPY, 0));
    // The shell: the console, init, the log, then the modules it may run
    // (the process handles follow at each start, as they change).
    give(&p[SHELL], sys_cap_dup(s_endpoints[CONSOLE], SEND_COPY, BADGE_SHELL_CONSOLE));
    give(&p[SHELL], sys_cap_dup(s_init_endpoint, SEND_COPY, BADGE_SHELL));
    give(&p[SHELL], log);
    for (int i = 0; i < n_mods; i++)
        if (is_runnable(mods[i].name) && p[SHELL].n_handles + KILLABLE < SPAWN_HANDLES_MAX)
            give(&p[SHELL], mods[i].handle);
}

// Starts p with its handles (the shell also with the process handles of
// the programs it may kill); returns 0 or a -errno.
static int
start(struct program *p)
{
    int handles[SPAWN_HANDLES_MAX];
    unsigned n = p->n_handles;
    memcpy(handles, p->handles, n * sizeof(int));
    if (p == &s_programs[SHELL])
        for (int i = 0; i < KILLABLE; i++)
            if (s_programs[i].proc)
                handles[n++] = s_programs[i].proc;
    int proc = sys_spawn(p->module, handles, n);
    if (proc < 0)
        return proc;
    struct cap_info info;
    p->proc = proc;
    p->pid = sys_cap_info(proc, &info) == 0 ? info.base : 0;
    p->started = sys_time();
    return 0;
}

// A watcher: waits for its program to end and tells init, for as long as
// init starts it again (the answer 0).
static int
watch(void *arg)
{
    struct program *p = arg;
    for (;;) {
        int code = sys_wait(p->proc, WAIT_FOREVER);
        struct ipc_words answer;
        if (sys_ipc_call(p->report, PROGRAM_ENDED, (unsigned)code, NULL, &answer) < 0 ||
            answer.w0 != 0)
            return 0;
    }
}

static void
answer(int reply, int w0, int handle)
{
    struct ipc_buf buf = { NULL, 0, 0, handle };
    if (sys_ipc_reply(reply, (unsigned)w0, 0, &buf) < 0)
        sys_cap_close(reply);
}

// Whether p may start again after a death; says why not.
static bool
may_restart(struct program *p, int code)
{
    bool quick = sys_time() - p->started < STABLE_TICKS;
    p->quick_deaths = quick ? p->quick_deaths + 1 : 1;
    if (p->quick_deaths > RESTARTS_MAX) {
        printf("init: %s ended (code %d) within %u s of its start %u times in a row; "
               "not starting it again\n",
               p->name, code, STABLE_TICKS / TICK_HZ, p->quick_deaths);
        return false;
    }
    printf("init: %s (pid %u) ended with code %d; starting it again\n", p->name, p->pid, code);
    if (quick)
        sys_sleep(p->quick_deaths * TICK_HZ / 10); // a little longer each time
    return true;
}

// A watcher's report; returns true if the shell asked for a halt.
static bool
program_ended(struct program *p, int code, int reply)
{
    sys_cap_close(p->proc);
    p->proc = 0;
    if (p == &s_programs[SHELL] && code == SHELL_EXIT_HALT) {
        sys_cap_close(reply); // the watcher ends
        return true;
    }
    bool again = may_restart(p, code);
    int r = again ? start(p) : 0;
    if (r < 0)
        printf("init: cannot start %s again: %d\n", p->name, r);
    answer(reply, again && r == 0 ? 0 : 1, 0);
    return false;
}

// INIT_SYSTEM_PROCESS: the k-th program the shell may kill.
static void
serve_shell(const struct ipc_words *msg)
{
    if (msg->w0 != INIT_SYSTEM_PROCESS)
        answer(msg->reply, -ENOSYS, 0);
    else if (msg->w1 >= KILLABLE)
        answer(msg->reply, -ENOENT, 0);
    else if (!s_programs[msg->w1].proc)
        answer(msg->reply, -ESRCH, 0);
    else
        answer(msg->reply, 0, s_programs[msg->w1].proc);
}

// Ends every program still running, the last started first.
static int
halt(void)
{
    printf("init: halt: ending the system's programs\n");
    for (int i = PROGRAMS - 1; i >= 0; i--) {
        if (!s_programs[i].proc)
            continue;
        sys_kill(s_programs[i].proc);
        sys_wait(s_programs[i].proc, WAIT_FOREVER);
    }
    return 0;
}

// Serves the watchers and the shell until a halt.
static int
supervise(void)
{
    for (;;) {
        struct ipc_buf buf = { NULL, 0, 0, 0 };
        struct ipc_words msg;
        int badge = sys_ipc_recv(s_init_endpoint, &msg, &buf);
        if (badge < 0) {
            printf("init: receive failed: %d\n", badge);
            sys_sleep(TICK_HZ);
            continue;
        }
        if (buf.handle)
            sys_cap_close(buf.handle);
        unsigned k = (unsigned)badge - BADGE_WATCHER;
        if (k < PROGRAMS && msg.w0 == PROGRAM_ENDED && msg.reply) {
            if (program_ended(&s_programs[k], (int)msg.w1, msg.reply))
                return halt();
        } else if ((unsigned)badge == BADGE_SHELL && msg.reply) {
            serve_shell(&msg);
        } else if (msg.reply) {
            answer(msg.reply, -ENOSYS, 0);
        }
    }
}

// Starts the system's programs and their watchers, then supervises them.
static int
run_system(const struct module *mods, int n_mods)
{
    for (int i = UART; i <= CONSOLE; i++)
        if ((s_endpoints[i] = sys_endpoint_create()) < 0)
            return 1;
    if ((s_init_endpoint = sys_endpoint_create()) < 0)
        return 1;
    prepare_handles(mods, n_mods);
    for (unsigned i = 0; i < PROGRAMS; i++) {
        struct program *p = &s_programs[i];
        const struct module *mod = find(mods, n_mods, p->name);
        p->module = mod ? mod->handle : 0;
        int r = !mod ? -ENOENT : p->error ? p->error : start(p);
        if (r == 0 && (p->report = sys_cap_dup(s_init_endpoint, CAP_SEND, BADGE_WATCHER + i)) < 0)
            r = p->report;
        if (r == 0)
            r = thread_spawn(watch, p, s_watcher_stacks[i], sizeof s_watcher_stacks[i]);
        if (r < 0)
            printf("init: cannot start %s: %d\n", p->name, r);
    }
    return supervise();
}

// ---- One program ------------------------------------------------------------------
// The boot word run=MODULE starts that module alone instead of the system,
// with the modules the shell could run (the GDB tests boot `run=demo_ping`
// to stop the demo as it works), and returns its exit code.
#define RUN_WORD    "run="
#define CMDLINE_MAX 256

// The module named by the run= word of the command line, or NULL.
static const struct module *
module_to_run(const struct module *mods, int n_mods, char name[CMDLINE_MAX])
{
    char line[CMDLINE_MAX];
    if (sys_cmdline(line, sizeof line) < 0)
        return NULL;
    for (char *w = line; *w;) {
        while (*w == ' ')
            w++;
        char *end = w;
        while (*end && *end != ' ')
            end++;
        if (has_prefix(w, RUN_WORD) && end > w + strlen(RUN_WORD)) {
            unsigned n = (unsigned)(end - w - strlen(RUN_WORD));
            memcpy(name, w + strlen(RUN_WORD), n);
            name[n] = '\0';
            return find(mods, n_mods, name);
        }
        w = end;
    }
    name[0] = '\0';
    return NULL;
}

static int
run_one(const struct module *mod, const struct module *mods, int n_mods)
{
    int handles[SPAWN_HANDLES_MAX];
    unsigned n = 0;
    for (int i = 0; i < n_mods && n < SPAWN_HANDLES_MAX; i++)
        if (is_runnable(mods[i].name))
            handles[n++] = mods[i].handle;
    int proc = sys_spawn(mod->handle, handles, n);
    if (proc < 0) {
        printf("init: cannot start %s: %d\n", mod->name, proc);
        return 1;
    }
    int code = sys_wait(proc, WAIT_FOREVER);
    printf("init: %s ended with code %d\n", mod->name, code);
    return code;
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
    if (info.test_mode)
        return run_tests(&info, mods, n_mods);
    char name[CMDLINE_MAX];
    const struct module *one = module_to_run(mods, n_mods, name);
    if (one)
        return run_one(one, mods, n_mods);
    if (name[0])
        printf("init: run=%s: no such module; starting the system\n", name);
    return run_system(mods, n_mods);
}
