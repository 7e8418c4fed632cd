# ---- Repository checks (`make test`) ------------------------------------------
# Checks of the sources themselves, run by `make test` as runner jobs:
#   refs     every repository path and function a comment or a document
#            names exists, and nothing refers outside the repository
#            (tests/checks/refs.py)
TEST_JOBS += --job "refs:tap:60:$(PYTHON) tests/checks/refs.py"
#   runner-unit the runner's own unit tests (tests/runner_test.py, QEMU's
#            isa-debug-exit statuses included), reported as TAP
TEST_JOBS += --job "runner-unit:tap:120:$(PYTHON) tests/checks/unittest_tap.py tests/runner_test.py"
