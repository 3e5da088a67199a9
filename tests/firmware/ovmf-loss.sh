#!/bin/bash
# ovmf-loss.sh -- ovmf.sh with 0.05 % of the TFTP datagrams dropped at
# random each way (iptables' statistic match in the namespace): the boot
# must still succeed, and DATA blocks sent more than once (the server's
# dup= count) stay within 4 x windowsize per lost datagram.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_NAME=ovmf-loss FW_LOSS=${FW_LOSS:-0.05} exec bash "$(dirname "$0")/ovmf.sh"
