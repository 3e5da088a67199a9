#!/bin/bash
# seabios-ipxe-4vm.sh -- four VMs boot seabios-ipxe.sh's path at once
# (four taps on the bridge, four leases, twelve transfers), each with
# the same checks; 4 MiB of padding, so that four TCG guests on two
# cores stay within the time budget.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_NAME=seabios-ipxe-4vm FW_VMS=4 FW_PADDING=${FW_PADDING:-4} \
    exec bash "$(dirname "$0")/seabios-ipxe.sh"
