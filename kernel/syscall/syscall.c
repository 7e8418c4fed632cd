// System call dispatch: the number in eax picks a handler from the table.
// Handlers read their arguments from the trap frame (ebx, ecx, edx, esi,
// edi) and return the result for eax; IPC handlers also set ebx, esi and edi.
#include <stddef.h>
#include "syscall.h"
#include "thread.h"
#include "trap.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

syscall_fn const g_syscall_table[SYS_COUNT] = {
    [SYS_EXIT] = sys_exit,
    [SYS_THREAD_CREATE] = sys_thread_create,
    [SYS_THREAD_EXIT] = sys_thread_exit,
    [SYS_YIELD] = sys_yield,
    [SYS_SLEEP] = sys_sleep,
    [SYS_GETTID] = sys_gettid,
    [SYS_TIME] = sys_time,
    [SYS_DEBUG_WRITE] = sys_debug_write,
    [SYS_IPC_SEND] = sys_ipc_send,
    [SYS_IPC_RECV] = sys_ipc_recv,
    [SYS_IPC_CALL] = sys_ipc_call,
    [SYS_IPC_REPLY] = sys_ipc_reply,
    [SYS_KFAST_STATS] = sys_kfast_stats,
    [SYS_SPAWN] = sys_spawn,
    [SYS_WAIT] = sys_wait,
    [SYS_CAP_INFO] = sys_cap_info,
    [SYS_SYSINFO] = sys_sysinfo,
    [SYS_CMDLINE] = sys_cmdline,
    [SYS_ENDPOINT_CREATE] = sys_endpoint_create,
    [SYS_CAP_DUP] = sys_cap_dup,
    [SYS_CAP_CLOSE] = sys_cap_close,
    [SYS_CAP_REVOKE] = sys_cap_revoke,
    [SYS_KILL] = sys_kill,
    [SYS_IPC_REPLY_RECV] = sys_ipc_reply_recv,
    [SYS_CAP_LIST] = sys_cap_list,
    [SYS_NOTIFY_BIND] = sys_notify_bind,
    [SYS_IRQ_ACK] = sys_irq_ack,
    [SYS_MEM_MAP] = sys_mem_map,
    [SYS_LOG_READ] = sys_log_read,
    [SYS_CONSOLE_TAKE] = sys_console_take,
    [SYS_THREAD_LIST] = sys_thread_list,
};
