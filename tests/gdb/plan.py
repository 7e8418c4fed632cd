"""The GDB tests, by scenario: one QEMU boot and one GDB session each.

Shared by the driver (run_gdb_tests.py, which prints the TAP plan before
anything runs, so a hang or a crash never passes) and the scenario script
that runs inside GDB (scenarios.py)."""

# name -> (kernel command line, tests in the order they run)
SCENARIOS = {
    # A normal boot in which init starts the IPC demo instead of the system
    # (demo_ping, which starts demo_pong), stopped at one point after
    # another as it comes up.
    "boot": ("run=demo_ping", [
        "constants_match_headers",
        "reset_vector_says_not_started",
        "kmain_before_threads_says_so",
        "log_readable_before_threads",
        "boot_thread_only_before_sched_init",
        "boot_block_map_adds_up",
        "kfastmalloc_every_command_runs",
        "kfastmalloc_threads_match_kernel",
        "kfastmalloc_block_map_matches_registers",
        "running_thread_block_by_tid_in_kernel",
        "kfastmalloc_new_allocation_listed",
        "errors_are_one_line_and_extra_words_refused",
        # demo_ping's IPC loop comes between its first and its second line of
        # output (the two user-mode allocations above 16 bytes the stops use).
        "user_mode_stop",
        "running_thread_block_by_tid_in_user_mode",
        "ids_and_names_complete",
        "bt_system_call_into_user_program",
        "bt_switched_out_thread_from_saved_context",
        "user_symbols_follow_the_process",
        "user_symbols_right_after_a_step",
        "kernel_name_breakpoint_stays_in_the_kernel",
        "spill_catch_reports_request",
        "spill_listed_in_arena",
        "kfast_stats_match_kernel",
        "interrupt_handler_trap_frame_found",
        "bt_interrupt_handler",
        "log_matches_serial",
        "log_ring_wrap",
        "sched_lists_match_kernel",
        "sched_finds_a_broken_link",
        "sched_finds_a_lost_wakeup",
        "sched_finds_a_blocked_thread_queued",
        "check_ok_on_healthy_kernel",
        "check_finds_heap_redzone_damage",
        "check_follows_the_heap_cache",
        "check_finds_broken_canary",
        "convenience_functions",
        "ascii_drawing",
        "without_symbols_every_word_is_one_line",
    ]),
    # A collision made from GDB: the running user thread's canary is broken
    # by hand, the exit-to-user check reports it and the kernel panics.
    "collision": ("run=demo_ping", [
        "collision_catch_stops_with_map",
        "collision_figures_match_report",
        "catch_panic_stops_with_the_reason",
    ]),
    # The kernel's own deliberate collisions (tests/kernel/kfast_test.c),
    # which it survives through recovery points: a stray write over the
    # canary (watched, then caught by a canary check), one caught by the
    # hardware trap (reported from the double-fault task).
    "kfast": ("test=kfast", [
        "watch_canary_stops_at_the_stray_write",
        "kfast_suite_canary_collision_caught",
        "kfast_suite_canary_collision_matches_report",
        "ended_thread_says_when_it_ended",
        "kfast_suite_trap_collision_caught",
        "running_thread_block_in_double_fault_task",
        "bt_double_fault_interrupted_thread",
        "collision_map_exact_after_the_guard",
        "collision_map_stack_over_the_arena",
        "kfast_suite_trap_collision_matches_report",
    ]),
    # `tandem caps` against the kernel's handle tables: user/gdb_caps_demo.c,
    # booted alone as the first process, makes an endpoint, a badged
    # duplicate, a server thread and a child that calls it (see the
    # program); the kernel is stopped in its system calls as the tables
    # change.
    "caps": ("", [
        "caps_constants_match_headers",
        "caps_before_the_first_process",
        "caps_first_process_table",
        "caps_derived_across_processes",
        "caps_queued_sender",
        "caps_caller_gone_process_ended",
        "caps_process_argument",
        "caps_counts_disagree",
    ]),
    # Four CPUs (QEMU_ARGS): the smp suite's cross-CPU calls, stopped in a
    # call an AP serves while the boot CPU waits on it.
    "smp": ("test=smp", [
        "cpus_while_an_ap_serves_a_call",
        "every_command_reads_the_same_from_every_vcpu",
    ]),
}

# QEMU options a scenario adds.
QEMU_ARGS = {
    "smp": ["-smp", "4"],
}

# Scenarios that boot their own programs (the first is the first process)
# instead of init followed by every program.
MODULES = {
    "caps": ["gdb_caps_demo"],
}
