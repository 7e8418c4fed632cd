/* The protocols between the user-space system programs: the character
 * drivers (drv_uart, drv_kbd), the screen driver (drv_vga) and the console
 * server (console), as message words on their endpoints.  Every request is
 * a call (sys_ipc_call); the reply's w0 is the result: >= 0, or a -errno.
 * Where a reply's w1 is a "stamp" it is the time-stamp counter's low 32
 * bits (tsc32()) at a moment in the bytes' way through the system, so that
 * a program can time the path its input and output took.
 *
 * Who holds what (init hands it out, docs/design.md, "User space"),
 * numbered in this order from 1:
 *   drv_uart  its endpoint (receive), com1 ports, IRQ 4
 *   drv_kbd   its endpoint (receive), ps2-data and ps2-control ports, IRQ 1
 *   drv_vga   its endpoint (receive), vga-text memory, vga-crtc ports
 *   console   the kernel log, a send handle to drv_uart, drv_kbd and drv_vga,
 *             its endpoint (send and receive)
 *   shell     a badged send handle to the console, a badged send handle to
 *             init's endpoint (below), the log (dmesg), the modules it may
 *             run, and the process handles of what it may kill
 * init keeps a receive handle to every driver's endpoint, so a driver that
 * dies and is restarted finds the calls queued for it still waiting. */
#ifndef TANDEM_USER_PROTO_H
#define TANDEM_USER_PROTO_H

// ---- Character drivers (drv_uart, drv_kbd) and the screen (drv_vga) ---------

// Laid out by hand, as include/uapi/syscall.h's tables are (for the same reason).
// clang-format off
#define DEV_READ            1   // w1 = most bytes wanted: the reply comes when at least one
                                //   byte has arrived; its payload holds them, w0 = how many.
                                //   One read at a time per driver: a newer read takes over,
                                //   and the older one is answered -EBUSY.  Stamp: when the
                                //   first of those bytes reached the driver
#define DEV_WRITE           2   // payload = bytes to send or show -> w0 = bytes taken
                                //   (drv_kbd: -ENOSYS).  drv_uart's stamp: when it began
                                //   sending them
#define VGA_CLEAR           3   // drv_vga: blank screen, cursor home -> 0

// drv_vga understands in DEV_WRITE: printable ASCII, \n, \r, \b (moves left),
// \t (to the next multiple of 8), and the escapes ESC [ 2 J (clear) and
// ESC [ K (clear to the end of the line); it scrolls at the bottom and keeps
// the hardware cursor where the next character goes.
//
// drv_kbd and drv_uart deliver input as the bytes a terminal sends: ASCII,
// control characters (Ctrl-C = 0x03, Ctrl-U = 0x15, backspace = 0x7F or 0x08),
// and the arrows as ESC [ A / B / C / D.

// ---- The console server ------------------------------------------------------

#define CON_WRITE           16  // payload = text -> w0 = bytes taken; shown on serial and VGA;
                                //   stamp: drv_uart's, when the serial line began sending it
#define CON_READLINE        17  // w1 = most bytes wanted: the reply comes when a line is
                                //   complete (Enter), payload = the line without its newline,
                                //   w0 = its length; -EINTR if Ctrl-C ended it; a line longer
                                //   than the console's buffer gets -EMSGSIZE and is discarded
#define CON_POLL_KEY        18  // -> w0 = 1 if a key was pressed since the last poll or read
                                //   (it is consumed), else 0; never waits
#define CON_SET_FOREGROUND  19  // buf.handle = a process handle with CAP_KILL, or no handle:
                                //   Ctrl-C kills that process (none: Ctrl-C only ends the line)
#define CON_CLEAR           20  // clears the screens -> 0
#define CON_READ_KEY        21  // w1 = most bytes wanted: the reply comes with the next input,
                                //   raw (no echo, no editing, Ctrl-C is a byte): payload = the
                                //   bytes that arrived together (one key, an arrow's escape
                                //   sequence whole), w0 = how many; stamp: when they reached
                                //   their driver.  Input beyond w1 goes on to the line editor

#define CON_LINE_MAX        256 // the longest line CON_READLINE returns

// ---- init, for the shell -------------------------------------------------------

#define INIT_SYSTEM_PROCESS 32  // w1 = k: the reply passes a process handle (CAP_WAIT | CAP_KILL)
                                //   to the k-th system program the shell may kill, as it runs
                                //   now (init restarts them), w0 = 0; -ESRCH if that one is not
                                //   running, -ENOENT past the last
#define SHELL_EXIT_HALT     72  // the shell's exit code for `halt`: init ends every process it
                                //   started and returns, and the system is idle
// clang-format on

#endif
