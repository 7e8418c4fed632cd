#!/bin/sh
# Runs a libFuzzer target briefly, after the inputs that once crashed it,
# and reports the result as TAP for tests/runner.py:
#   tests/fuzz/run.sh BINARY SECONDS
bin=$1 secs=$2
name=$(basename "$bin")
log=$(mktemp)
# Inputs that once crashed it (tests/fuzz/NAME_regressions/) run first.
regressions=$(dirname "$0")/${name%_fuzz}_regressions
echo "1..1"
if [ -d "$regressions" ] && ! "$bin" "$regressions"/* >"$log" 2>&1; then
    sed 's/^/# /' "$log" | tail -n 40
    echo "not ok 1 $name # an input of $regressions crashes it again"
    rm -f "$log"
    exit 1
fi
if "$bin" -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "ok 1 $name ($runs inputs in $secs s)"
    rm -f "$log"
else
    sed 's/^/# /' "$log" | tail -n 40
    echo "not ok 1 $name # crashed; see the report above"
    rm -f "$log"
    exit 1
fi
