// A demo to run from the shell: counts once a second, for as many seconds
// as its first argument says (default 10, 0: for ever), so that `run`, its
// `&`, Ctrl-C and `kill` have something to end.  With the argument `spin`
// after the count it keeps the CPU busy between its lines, which `top`
// shows as its share.
#include "lib/string.h"
#include "tandem.h"

#define DEFAULT_SECONDS 10

// Parses the leading decimal number of s into *out; returns the rest.
static const char *
take_number(const char *s, unsigned *out)
{
    unsigned v = 0;
    bool any = false;
    while (*s == ' ')
        s++;
    for (; *s >= '0' && *s <= '9' && v < 100000000u; s++, any = true)
        v = v * 10 + (unsigned)(*s - '0');
    if (any)
        *out = v;
    return s;
}

// Waits a second, busy or asleep.
static void
one_second(bool spin)
{
    if (!spin) {
        sys_sleep(TICK_HZ);
        return;
    }
    unsigned until = sys_time() + TICK_HZ;
    while ((int)(until - sys_time()) > 0)
        ;
}

int
main(void)
{
    unsigned seconds = DEFAULT_SECONDS;
    const char *rest = take_number(program_args(), &seconds);
    while (*rest == ' ')
        rest++;
    bool spin = strcmp(rest, "spin") == 0;
    for (unsigned i = 1; seconds == 0 || i <= seconds; i++) {
        one_second(spin);
        printf("count: %u%s\n", i, spin ? " (spinning)" : "");
    }
    return 0;
}
