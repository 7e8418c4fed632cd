# ---- C layout (`make format`, `make check-format`) ---------------------------
# .clang-format (bench/.clang-format for bench/) describes the tree's C
# style for Debian 12's clang-format; tests/checks/format.py runs it over
# every tracked .c and .h file but those its EXCLUDE list names.
#   make format        formats them in place
#   make check-format  changes nothing; TAP, one line per file, `not ok`
#                      with the first changed lines for a file not formatted
# Both install clang-format first if it is missing.
.PHONY: format check-format

CLANG_FORMAT := clang-format

format:
	$(call apt_install,format,clang-format)
	$(Q)$(PYTHON) tests/checks/format.py --fix --clang-format $(CLANG_FORMAT)

check-format:
	$(call apt_install,check-format,clang-format)
	$(Q)$(PYTHON) tests/checks/format.py --clang-format $(CLANG_FORMAT)

#   format   every C file is as clang-format lays it out (tests/checks/format.py)
TEST_JOBS += --job "format:tap:300:$(PYTHON) tests/checks/format.py --clang-format $(CLANG_FORMAT)"
