#!/bin/bash
# uboot-loss.sh -- uboot.sh with 0.05 % of the TFTP datagrams dropped at
# random each way: the boot must still succeed, and DATA blocks sent
# more than once (dup=) stay within 4 x windowsize per lost datagram.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_NAME=uboot-loss FW_LOSS=${FW_LOSS:-0.05} exec bash "$(dirname "$0")/uboot.sh"
