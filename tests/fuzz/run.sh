#!/bin/sh
# Runs a libFuzzer target briefly and reports the result as TAP for
# tests/runner.py:  tests/fuzz/run.sh BINARY SECONDS
bin=$1 secs=$2
name=$(basename "$bin")
log=$(mktemp)
echo "1..1"
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
