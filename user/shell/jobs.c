// The processes the shell knows: those it runs (`run`, in the foreground or
// with `&` in the background) and the system programs init lets it kill.
#include "lib/format.h"
#include "lib/string.h"
#include "shell.h"

#define JOBS_MAX  24
#define KILL_WAIT TICK_HZ // how long `kill` waits to see the end

struct job {
    int handle; // 0: a free slot
    unsigned pid;
    char name[32];
    bool system; // init's: it starts it again when it ends
};

static struct job s_jobs[JOBS_MAX];

bool
parse_unsigned(const char *s, unsigned *out)
{
    unsigned v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (~0u - 9) / 10)
            return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return true;
}

// Records a process handle; returns the job, or NULL (closed: no room).
static struct job *
job_add(int handle, bool system)
{
    struct cap_info info;
    for (unsigned i = 0; i < JOBS_MAX; i++) {
        struct job *j = &s_jobs[i];
        if (j->handle)
            continue;
        if (sys_cap_info(handle, &info) != 0)
            break;
        j->handle = handle;
        j->pid = info.base;
        strlcpy(j->name, info.name, sizeof j->name);
        j->system = system;
        return j;
    }
    sys_cap_close(handle);
    return NULL;
}

static void
job_forget(struct job *j)
{
    sys_cap_close(j->handle);
    j->handle = 0;
}

void
jobs_init(void)
{
    int handles[CAPS_PER_PROCESS];
    int n = sys_cap_list(handles, CAPS_PER_PROCESS);
    for (int i = 0; i < n && i < CAPS_PER_PROCESS; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) == 0 && info.type == CAP_TYPE_PROCESS)
            job_add(handles[i], true);
    }
}

// Asks init for the system programs as they run now: one it restarted has
// a new process, which the old handle does not name.
static void
refresh_system(void)
{
    for (unsigned i = 0; i < JOBS_MAX; i++)
        if (s_jobs[i].handle && s_jobs[i].system)
            job_forget(&s_jobs[i]);
    for (unsigned k = 0;; k++) {
        struct ipc_buf buf = { NULL, 0, 0, 0 };
        struct ipc_words reply;
        if (sys_ipc_call(SH_INIT, INIT_SYSTEM_PROCESS, k, &buf, &reply) < 0)
            return;
        int r = (int)reply.w0;
        if (r == 0 && buf.handle)
            job_add(buf.handle, true);
        else if (buf.handle)
            sys_cap_close(buf.handle);
        if (r < 0 && r != -ESRCH)
            return;
    }
}

void
jobs_reap(void)
{
    for (unsigned i = 0; i < JOBS_MAX; i++) {
        struct job *j = &s_jobs[i];
        if (!j->handle || j->system)
            continue;
        int code = sys_wait(j->handle, 0);
        if (code == -ETIMEDOUT)
            continue;
        con_printf("[pid %u %s] ended with code %d\n", j->pid, j->name, code);
        job_forget(j);
    }
}

void
jobs_end(void)
{
    for (unsigned i = 0; i < JOBS_MAX; i++) {
        struct job *j = &s_jobs[i];
        if (!j->handle || j->system)
            continue;
        sys_kill(j->handle);
        sys_wait(j->handle, KILL_WAIT);
        job_forget(j);
    }
}

void
list_modules(void)
{
    int handles[CAPS_PER_PROCESS];
    int n = sys_cap_list(handles, CAPS_PER_PROCESS);
    for (int i = 0; i < n && i < CAPS_PER_PROCESS; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) == 0 && info.type == CAP_TYPE_MODULE)
            con_word(info.name);
    }
    con_words_end();
}

// Copies of every module handle the shell holds, for the child (demo_ping
// starts demo_pong); returns how many.
static unsigned
module_handles(int out[SPAWN_HANDLES_MAX])
{
    int handles[CAPS_PER_PROCESS];
    int n = sys_cap_list(handles, CAPS_PER_PROCESS);
    unsigned k = 0;
    for (int i = 0; i < n && i < CAPS_PER_PROCESS && k < SPAWN_HANDLES_MAX; i++) {
        struct cap_info info;
        if (sys_cap_info(handles[i], &info) == 0 && info.type == CAP_TYPE_MODULE)
            out[k++] = handles[i];
    }
    return k;
}

// Joins argv[0, argc) with spaces into out[SPAWN_ARGS_MAX]; false if too long.
static bool
join_args(int argc, char **argv, char out[SPAWN_ARGS_MAX])
{
    unsigned len = 0;
    out[0] = '\0';
    for (int i = 0; i < argc; i++) {
        unsigned n = strlen(argv[i]);
        if (len + n + (i > 0) >= SPAWN_ARGS_MAX)
            return false;
        if (i > 0)
            out[len++] = ' ';
        memcpy(out + len, argv[i], n + 1);
        len += n;
    }
    return true;
}

// Waits for a foreground process, which Ctrl-C on the console kills.
static void
wait_foreground(int proc, const char *name)
{
    int r = con_set_foreground(proc);
    if (r < 0)
        con_printf("run: Ctrl-C cannot reach %s: %d\n", name, r);
    int code = sys_wait(proc, WAIT_FOREVER);
    con_set_foreground(0);
    sys_cap_close(proc);
    if (code == EXIT_KILLED)
        con_printf("%s: killed\n", name);
    else if (code != 0)
        con_printf("%s: exit code %d\n", name, code);
}

void
cmd_run(int argc, char **argv)
{
    bool background = argc > 1 && strcmp(argv[argc - 1], "&") == 0;
    if (background)
        argc--;
    if (argc < 2) {
        con_puts("usage: run MODULE [ARGS] [&]; the modules:\n");
        list_modules();
        return;
    }
    int module = cap_find(CAP_TYPE_MODULE, argv[1]);
    if (module < 0) {
        con_printf("run: no module %.32s; there are:\n", argv[1]);
        list_modules();
        return;
    }
    char args[SPAWN_ARGS_MAX];
    if (!join_args(argc - 2, argv + 2, args)) {
        con_printf("run: arguments longer than %u bytes\n", SPAWN_ARGS_MAX - 1);
        return;
    }
    int handles[SPAWN_HANDLES_MAX];
    unsigned n = module_handles(handles);
    int proc = sys_spawn_args(module, handles, n, args);
    if (proc < 0) {
        con_printf("run: cannot start %s: %d\n", argv[1], proc);
        return;
    }
    if (!background) {
        wait_foreground(proc, argv[1]);
        return;
    }
    struct job *j = job_add(proc, false);
    if (j)
        con_printf("[pid %u] %s\n", j->pid, j->name);
    else
        con_printf("run: no room to keep %s's handle; it runs on unwatched\n", argv[1]);
}

static void
list_jobs(void)
{
    con_puts("the processes this shell may kill:\n");
    for (unsigned i = 0; i < JOBS_MAX; i++) {
        if (!s_jobs[i].handle)
            continue;
        char word[48];
        ksnprintf(word, sizeof word, "%u (%s)", s_jobs[i].pid, s_jobs[i].name);
        con_word(word);
    }
    con_words_end();
}

void
cmd_kill(int argc, char **argv)
{
    refresh_system();
    unsigned pid;
    if (argc != 2 || !parse_unsigned(argv[1], &pid)) {
        con_puts("usage: kill PID; ");
        list_jobs();
        return;
    }
    struct job *j = NULL;
    for (unsigned i = 0; i < JOBS_MAX && !j; i++)
        if (s_jobs[i].handle && s_jobs[i].pid == pid)
            j = &s_jobs[i];
    if (!j) {
        con_printf("kill: %u is not one of them; ", pid);
        list_jobs();
        return;
    }
    int r = sys_kill(j->handle);
    int code = r < 0 ? r : sys_wait(j->handle, KILL_WAIT);
    if (r < 0 || code == -ETIMEDOUT)
        con_printf("kill: %u (%s): %d\n", pid, j->name, r < 0 ? r : code);
    else
        con_printf("killed %u (%s)%s\n", pid, j->name, j->system ? ", which init supervises" : "");
    job_forget(j);
}
