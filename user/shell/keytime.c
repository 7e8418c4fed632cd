// keytime: a key's round trip through the system, as the drivers stamp it
// (user/lib/proto.h).  Each key typed goes its driver (drv_uart or drv_kbd)
// -> console -> this shell, raw (CON_READ_KEY), and is written straight
// back: console -> drv_uart.  The figure is drv_uart's stamp of the echo
// leaving minus the input driver's stamp of the key arriving - everything
// between the two port accesses: the driver's reply, the console's input
// helper and server, the shell, and the way back (the screen's write,
// which the console makes after the serial one, is not in it).  The TSC
// counts cycles; under QEMU's -icount shift=0 it counts instructions,
// which is how `make bench` reads this command.
#include "lib/string.h"
#include "shell.h"

#define KEYTIME_DEFAULT 5
#define KEYTIME_MAX     100
#define KEY_BYTES       8

void
cmd_keytime(int argc, char **argv)
{
    unsigned keys = KEYTIME_DEFAULT;
    if (argc > 2 ||
        (argc == 2 && (!parse_unsigned(argv[1], &keys) || keys == 0 || keys > KEYTIME_MAX))) {
        con_printf("usage: keytime [N]: N keys (1-%u, default %u), each echoed and timed\n",
                   KEYTIME_MAX, KEYTIME_DEFAULT);
        return;
    }
    con_printf("keytime: press %u key%s; each is echoed, with its round trip in TSC ticks\n", keys,
               keys == 1 ? "" : "s");
    uint32_t best = ~0u;
    unsigned timed = 0;
    for (unsigned i = 0; i < keys; i++) {
        con_puts("key> ");
        char key[KEY_BYTES];
        uint32_t in = 0, out = 0;
        int n = con_read_key(key, sizeof key, &in);
        if (n < 0) {
            con_printf("\nkeytime: reading a key failed: %d\n", n);
            return;
        }
        int w = con_write_stamped(key, (unsigned)n, &out);
        if (w < 0) {
            con_printf("\nkeytime: writing it back failed: %d\n", w);
            return;
        }
        if (in && out) {
            uint32_t ticks = out - in;
            timed++;
            if (ticks < best)
                best = ticks;
            con_printf(" %u\n", ticks);
        } else {
            con_puts(" (not timed: the serial line took none of it)\n");
        }
    }
    if (timed)
        con_printf("keytime: best %u TSC ticks of %u timed\n", best, timed);
}
