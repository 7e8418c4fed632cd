// The console writes every byte to the kernel log and, unless user space
// has taken the devices, to COM1 and the VGA text screen.
#include "console.h"
#include "log.h"
#include "x86.h"

static bool s_devices_released;

void
console_init(void)
{
    serial_init();
    vga_init();
}

void
console_release_devices(bool released)
{
    s_devices_released = released;
}

bool
console_devices_released(void)
{
    return s_devices_released;
}

void
console_write(const char *s, size_t len)
{
    uint32_t flags = irq_save();
    log_write(s, len);
    if (!s_devices_released) {
        serial_write(s, len);
        vga_write(s, len);
    }
    irq_restore(flags);
}
