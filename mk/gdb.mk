# ---- GDB (`make debug`, `make debug-server`) ---------------------------------
# The helpers live in tools/gdb (tools/gdb/README.md); tools/gdb/debug.py
# starts QEMU stopped at the first instruction with the GDB stub on a free
# local port, then GDB with build/tandem.elf and the helpers loaded.
# `make debug-server` runs only QEMU and prints the command that attaches.
.PHONY: debug debug-server

DEBUG_ARGS = --qemu "$(QEMU)" --mem $(QEMU_MEM) --iso $(BUILD)/tandem.iso --elf $(BUILD)/tandem.elf \
             --log-dir $(BUILD)/debug $(if $(filter 1,$(GUI)),--gui)

debug: deps
	@$(MAKE) --no-print-directory $(BUILD)/tandem.iso
	$(Q)$(PYTHON) tools/gdb/debug.py $(DEBUG_ARGS)

debug-server: deps
	@$(MAKE) --no-print-directory $(BUILD)/tandem.iso
	$(Q)$(PYTHON) tools/gdb/debug.py --server $(DEBUG_ARGS)

# The helpers' tests: GDB in batch mode against live QEMU boots of the test
# kernel (its suites make collisions to catch) and the user programs
# (tests/gdb/run_gdb_tests.py, logs in $(BUILD)/test/gdb).  gdb-release: the
# same tests against the matrix's release build (the helpers show less
# there: no allocation records, no red zones).
TEST_JOBS += --job "gdb:tap:600:$(PYTHON) tests/gdb/run_gdb_tests.py --build $(BUILD)"
CHECK_DEPS += $(BUILD)/tandem-test.elf $(MODULES)
ifneq ($(filter release,$(MATRIX)),)
TEST_JOBS += --job "gdb-release:tap:600:$(PYTHON) tests/gdb/run_gdb_tests.py --build $(BUILD)/release"
endif
