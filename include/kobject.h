/* Kernel objects: what a capability (include/cap.h) names.
 *
 * Every object a handle can name begins with a struct kobject: its type and
 * a count of references.  Handles hold one reference each; the object's own
 * subsystem may hold more (a process holds one on itself while it runs, a
 * thread one on its record until it is reaped).  The last reference
 * dropped frees the object, through its subsystem (kobject_put in
 * kernel/cap/object.c dispatches on the type).  Boot modules and devices
 * are static: they are counted but never freed.
 */
#ifndef TANDEM_KOBJECT_H
#define TANDEM_KOBJECT_H

#include <stdint.h>
#include "uapi/syscall.h" // CAP_TYPE_*: the type is what SYS_CAP_INFO reports

struct kobject {
    uint32_t type; // CAP_TYPE_*
    uint32_t refs;
};

static inline void
kobject_init(struct kobject *o, uint32_t type)
{
    o->type = type;
    o->refs = 1;
}

static inline void
kobject_get(struct kobject *o)
{
    o->refs++;
}

#endif
