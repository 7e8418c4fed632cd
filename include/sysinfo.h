/* What SYS_SYSINFO reports that only a layer above the system calls knows
 * (kernel/syscall/sys_info.c). */
#ifndef TANDEM_SYSINFO_H
#define TANDEM_SYSINFO_H

// The number of top-level KTAP results the kernel printed before starting
// the user-space tests (struct sysinfo's kernel_suites): init numbers its
// results after them.  Test mode sets it before starting init.
void sysinfo_set_kernel_suites(unsigned n);

#endif
