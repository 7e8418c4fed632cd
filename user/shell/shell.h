/* The shell's parts (user/shell.c is its command loop): the console client,
 * the processes it runs and may kill, and the system views.
 *
 * Its handles, in the order init passes them (user/lib/proto.h's table):
 * 1 the console (send, badged), 2 init's endpoint (send, badged), 3 the
 * kernel log, then the modules it may run and the process handles of the
 * system programs it may kill. */
#ifndef TANDEM_USER_SHELL_H
#define TANDEM_USER_SHELL_H

#include "proto.h"
#include "tandem.h"

#define SH_CONSOLE 1
#define SH_INIT    2
#define SH_LOG     3

// ---- The console (con.c) ------------------------------------------------------
// Each returns what the console answered (>= 0) or a -errno.

int con_write(const char *text, unsigned n);
int con_puts(const char *s); // no newline added
int con_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
// Reads a line into line[0, size) with its NUL; returns its length,
// -EINTR (Ctrl-C), -EMSGSIZE (longer than size - 1) or another -errno.
int con_readline(char *line, unsigned size);
// Waits for the next input, raw (CON_READ_KEY): its bytes into bytes[0,
// size) (no NUL), *stamp when they reached their driver; returns how many.
int con_read_key(char *bytes, unsigned size, uint32_t *stamp);
// Writes text (at most IPC_BUF_MAX bytes) in one call; *stamp is when the
// serial line began sending it (0: not known).
int con_write_stamped(const char *text, unsigned n, uint32_t *stamp);
// Whether a key was pressed since the last call (or line read).
bool con_key_pressed(void);
// Ctrl-C kills process from now on (0: nothing); the console keeps a copy.
int con_set_foreground(int process);
int con_clear(void);
// Adds a word to a list shown as indented lines of at most 78 columns;
// con_words_end writes the last line.
void con_word(const char *word);
void con_words_end(void);

// ---- Processes (jobs.c) -----------------------------------------------------

void jobs_init(void); // takes in the process handles init passed
void jobs_reap(void); // reports the background jobs that ended
void jobs_end(void);  // kills the background jobs (halt)
void cmd_run(int argc, char **argv);
void cmd_kill(int argc, char **argv);
void list_modules(void); // the modules `run` can start, as a word list

// ---- Views of the system (monitor.c) ------------------------------------------

void cmd_ps(int argc, char **argv);
void cmd_mem(int argc, char **argv);
void cmd_arena(int argc, char **argv);
void cmd_dmesg(int argc, char **argv);
void cmd_top(int argc, char **argv);

// ---- A key's round trip (keytime.c) ---------------------------------------------

void cmd_keytime(int argc, char **argv);

// Parses a decimal number; false if s is not one (or too big).
bool parse_unsigned(const char *s, unsigned *out);

#endif
