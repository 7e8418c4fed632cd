/* System call handlers, one group per file in kernel/syscall/. */
#ifndef TANDEM_SYSCALL_SYSCALL_H
#define TANDEM_SYSCALL_SYSCALL_H

#include <stdint.h>

#include "trap.h"

// sys_thread.c
int32_t sys_exit(struct trap_frame *f);
int32_t sys_thread_create(struct trap_frame *f);
int32_t sys_thread_exit(struct trap_frame *f);
int32_t sys_yield(struct trap_frame *f);
int32_t sys_sleep(struct trap_frame *f);
int32_t sys_gettid(struct trap_frame *f);
int32_t sys_time(struct trap_frame *f);
// sys_info.c
int32_t sys_debug_write(struct trap_frame *f);
int32_t sys_kfast_stats(struct trap_frame *f);
int32_t sys_sysinfo(struct trap_frame *f);
// sys_process.c
int32_t sys_spawn(struct trap_frame *f);
int32_t sys_wait(struct trap_frame *f);
int32_t sys_kill(struct trap_frame *f);
int32_t sys_cmdline(struct trap_frame *f);
// sys_cap.c
int32_t sys_cap_info(struct trap_frame *f);
int32_t sys_cap_dup(struct trap_frame *f);
int32_t sys_cap_close(struct trap_frame *f);
int32_t sys_cap_revoke(struct trap_frame *f);
int32_t sys_cap_list(struct trap_frame *f);
int32_t sys_endpoint_create(struct trap_frame *f);
// sys_device.c
int32_t sys_notify_bind(struct trap_frame *f);
int32_t sys_irq_ack(struct trap_frame *f);
int32_t sys_mem_map(struct trap_frame *f);
int32_t sys_log_read(struct trap_frame *f);
int32_t sys_console_take(struct trap_frame *f);
int32_t sys_thread_list(struct trap_frame *f);
// ipc.c
int32_t sys_ipc_send(struct trap_frame *f);
int32_t sys_ipc_recv(struct trap_frame *f);
int32_t sys_ipc_call(struct trap_frame *f);
int32_t sys_ipc_reply(struct trap_frame *f);
int32_t sys_ipc_reply_recv(struct trap_frame *f);

#endif
