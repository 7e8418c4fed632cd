// The shell: reads a line from the console (user/lib/proto.h), runs the
// command it names, and comes back with the prompt.  Its parts are in
// user/shell/ (shell.h says which handles it holds).
#include "lib/string.h"
#include "shell/shell.h"

#define PROMPT      "tandem> "
#define ARGS_MAX    16
#define PAUSE_TICKS TICK_HZ // after a console error, before reading again

struct command {
    const char *name;
    void (*run)(int argc, char **argv);
    const char *usage;
};

static void cmd_help(int argc, char **argv);

static void
cmd_uptime(int argc, char **argv)
{
    (void)argc, (void)argv;
    unsigned t = sys_time(), s = t / TICK_HZ;
    con_printf("up %u:%02u:%02u.%02u (%u ticks)\n", s / 3600, s / 60 % 60, s % 60, t % TICK_HZ, t);
}

static void
cmd_echo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        con_printf("%s%s", argv[i], i + 1 < argc ? " " : "");
    con_puts("\n");
}

static void
cmd_clear(int argc, char **argv)
{
    (void)argc, (void)argv;
    con_clear();
}

static void
cmd_halt(int argc, char **argv)
{
    (void)argc, (void)argv;
    jobs_end();
    con_puts("halting: init ends the system\n");
    sys_exit(SHELL_EXIT_HALT);
}

static const struct command s_commands[] = {
    { "help", cmd_help, "this list" },
    { "ps", cmd_ps, "every thread: state, process, kernel stack and arena figures" },
    { "top", cmd_top, "threads' CPU share and kernel-stack blocks, each second, to a key" },
    { "mem", cmd_mem, "frames, heap, kernel-stack blocks, objects" },
    { "arena", cmd_arena, "[TID]: a thread's scratch arena (default: the shell's)" },
    { "dmesg", cmd_dmesg, "the kernel log" },
    { "run", cmd_run, "MODULE [ARGS] [&]: run a module; & in the background" },
    { "kill", cmd_kill, "PID: end a process this shell started or may kill" },
    { "uptime", cmd_uptime, "time since boot" },
    { "keytime", cmd_keytime, "[N]: N keys echoed through drivers, console and shell, each timed" },
    { "echo", cmd_echo, "[WORDS]: print them" },
    { "clear", cmd_clear, "clear the screen" },
    { "halt", cmd_halt, "end the system" },
};

static void
cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (unsigned i = 0; i < ARRAY_SIZE(s_commands); i++)
        con_printf("  %-7s %s\n", s_commands[i].name, s_commands[i].usage);
    con_puts("Keys: Up/Down recall lines, Ctrl-U erases the line, Ctrl-C ends it or the\n"
             "program `run` waits for.  The modules `run` starts:\n");
    list_modules();
}

// Whether line holds only printable ASCII.
static bool
printable(const char *line)
{
    for (; *line; line++)
        if (*line < 0x20 || *line > 0x7E)
            return false;
    return true;
}

// Splits line at spaces in place into argv[ARGS_MAX]; returns the count,
// or -1 if there are more words.
static int
split(char *line, char **argv)
{
    int argc = 0;
    for (char *p = line;;) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            return argc;
        if (argc == ARGS_MAX)
            return -1;
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
}

static void
execute(char *line)
{
    char *argv[ARGS_MAX];
    if (!printable(line)) {
        con_puts("shell: the line has control characters; ignored\n");
        return;
    }
    int argc = split(line, argv);
    if (argc < 0) {
        con_printf("shell: more than %u words\n", ARGS_MAX);
        return;
    }
    if (argc == 0)
        return;
    for (unsigned i = 0; i < ARRAY_SIZE(s_commands); i++) {
        if (strcmp(argv[0], s_commands[i].name) == 0) {
            s_commands[i].run(argc, argv);
            return;
        }
    }
    con_printf("shell: unknown command '%.32s'; `help` lists them\n", argv[0]);
}

int
main(void)
{
    static char line[CON_LINE_MAX + 1];
    jobs_init();
    con_puts("Tandem shell; `help` lists the commands.\n");
    for (;;) {
        jobs_reap();
        con_puts(PROMPT);
        int n = con_readline(line, sizeof line);
        if (n == -EINTR)
            continue; // Ctrl-C: the console showed ^C
        if (n == -EMSGSIZE) {
            con_printf("shell: line too long (at most %u characters); ignored\n", CON_LINE_MAX);
            continue;
        }
        if (n < 0) {
            con_printf("shell: cannot read a line: %d\n", n);
            sys_sleep(PAUSE_TICKS);
            continue;
        }
        execute(line);
    }
}
