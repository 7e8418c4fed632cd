# ---- Repository checks (`make test`) ------------------------------------------
# Checks of the sources themselves, run by `make test` as runner jobs:
#   refs     every repository path and function a comment or a document
#            names exists, and nothing refers outside the repository
#            (tests/checks/refs.py)
TEST_JOBS += --job "refs:tap:60:$(PYTHON) tests/checks/refs.py"
#   runner-unit the runner's own unit tests (tests/runner_test.py, QEMU's
#            isa-debug-exit statuses included), reported as TAP
TEST_JOBS += --job "runner-unit:tap:120:$(PYTHON) tests/checks/unittest_tap.py tests/runner_test.py"
#   readme-tables  README.md's two tables of measured figures are what
#            tools/readme_tables.py renders from docs/bench/results.tsv
TEST_JOBS += --job "readme-tables:tap:60:$(PYTHON) tools/readme_tables.py check"
#   make-help  `make help` names every target and every setting
TEST_JOBS += --job "make-help:tap:60:$(PYTHON) tests/checks/make_help.py"

# `make bench` ends here: the run's results.tsv and chart become
# docs/bench/'s, and README.md's tables are rendered from them (only the
# text between README's <!-- bench:... --> and <!-- /bench --> markers).
.PHONY: bench-readme
bench-readme:
	@test -s $(BENCH_OUT)/results.tsv || { echo "bench-readme: no $(BENCH_OUT)/results.tsv: run make bench"; exit 1; }
	cp $(BENCH_OUT)/results.tsv docs/bench/results.tsv
	@if [ -s $(BENCH_OUT)/results.png ]; then cp $(BENCH_OUT)/results.png docs/bench/results.png; fi
	$(PYTHON) tools/readme_tables.py write

#   no-tests the kernel `make run` boots has no tests or benchmarks, and
#            fails with a line saying so when booted with `test` or `bench`
TEST_JOBS  += --job "no-tests:tap:200:$(PYTHON) tests/checks/no_tests.py $(BUILD) $(QEMU)"
CHECK_DEPS += $(BUILD)/tandem.elf $(BUILD)/tandem-test.elf

#   shell-session  a session typed on the serial line of a normal boot: the
#            shell's commands, line editing, Ctrl-C, garbage and long lines,
#            killed drivers and console started again, halt
#            (tests/checks/shell_session.py)
TEST_JOBS  += --job "shell-session:tap:300:$(PYTHON) tests/checks/shell_session.py $(BUILD) $(QEMU)"
CHECK_DEPS += $(BUILD)/tandem.iso
