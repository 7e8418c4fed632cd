#!/bin/sh
# Boots an ISO in Bochs, headless, with COM1 on stdout:
#
#     tests/bochs/run.sh ISO LOG [sep=0|sep=1] [cpus=N]
#
# cpus=N gives the machine N CPUs (default 1).
#
# Bochs' own log goes to LOG and its messages to stderr.  The kernel ends a
# test boot by writing "Shutdown" to port 0x8900, which makes Bochs exit
# (with status 1, as after any panic: tests/runner.py's ktap-bochs kind reads
# the verdict from the serial output instead).  Debian's Bochs is built with
# its debugger, which stops before the first instruction: the -rc file
# continues, and quits should anything break into the debugger again; stdin
# is /dev/null, so the debugger can never wait for a human.
set -eu
here=$(dirname "$0")
[ $# -ge 2 ] || { echo "usage: $0 ISO LOG [sep=0|sep=1] [cpus=N]" >&2; exit 2; }
iso=$1 log=$2
shift 2
sep=1 cpus=1
for option in "$@"; do
    case "$option" in
        sep=0) sep=0 ;;
        sep=1) sep=1 ;;
        cpus=[1-9]) cpus=${option#cpus=} ;;
        *) echo "$0: unknown option $option" >&2; exit 2 ;;
    esac
done
[ -r "$iso" ] || { echo "$0: cannot read $iso" >&2; exit 2; }
command -v bochs-bin > /dev/null || { echo "$0: bochs-bin not found (make deps installs Bochs)" >&2; exit 127; }
mkdir -p "$(dirname "$log")"
# COM1 writes to descriptor 3, our stdout; Bochs' own stdout (debugger
# chatter) goes to stderr.  The term display needs some TERM: a dumb one.
TANDEM_ISO=$iso TANDEM_LOG=$log TANDEM_SEP=$sep TANDEM_CPUS=$cpus TANDEM_SERIAL=/dev/fd/3 TERM=dumb \
    exec bochs-bin -q -f "$here/bochsrc" -rc "$here/debugger.rc" 3>&1 1>&2 < /dev/null
