# ---- Repository checks (`make test`) ------------------------------------------
# Checks of the sources themselves, run by `make test` as runner jobs:
#   refs     every repository path and function a comment or a document
#            names exists, and nothing refers outside the repository
#            (tests/checks/refs.py)
TEST_JOBS += --job "refs:tap:60:$(PYTHON) tests/checks/refs.py"
