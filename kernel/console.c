// The console writes every byte to COM1 and to the VGA text screen.
#include "console.h"
#include "x86.h"

void
console_init(void)
{
    serial_init();
    vga_init();
}

void
console_write(const char *s, size_t len)
{
    uint32_t flags = irq_save();
    serial_write(s, len);
    vga_write(s, len);
    irq_restore(flags);
}
