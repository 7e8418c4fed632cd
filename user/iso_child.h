/* The protocol between user/test_isolation.c and its partner,
 * user/iso_child.c: the command is w0 of the first message. */
#ifndef TANDEM_USER_ISO_CHILD_H
#define TANDEM_USER_ISO_CHILD_H

#define ISO_HOLD        1
#define ISO_WAIT_KILL   2
#define ISO_SPAWN_MAX   3
#define ISO_THREAD_MAX  4

#define ISO_EXIT_CODE   7       // ISO_WAIT_KILL's sys_exit code
#define ISO_EXIT_BAD    99      // an unknown command, or no module to spawn
#define ISO_SPAWN_LIMIT 256     // ISO_SPAWN_MAX stops here even if never refused

#endif
