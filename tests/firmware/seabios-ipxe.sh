#!/bin/bash
# seabios-ipxe.sh -- SeaBIOS runs QEMU's iPXE option ROM (ipxe-qemu) for
# the virtio NIC; iPXE's DHCP request (architecture 0, user class
# "iPXE") gets boot.ipxe, whose commands load the kernel and the initrd
# (blksize 1432 and tsize, lock-step).  The initrd carries 90 MiB of
# padding, so block numbers wrap past 65535 in iPXE's client.
# seabios-ipxe-4vm.sh boots four VMs at once on this path.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_KIND=seabios-ipxe
FW_PADDING=${FW_PADDING:-90}
. "${FW_SRCDIR:-$(dirname "$0")}/fwlib.sh"

fw_setup
fw_boot
fw_check_boots
fw_check_options \
    'rrq boot.ipxe asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none' \
    'rrq vmlinuz asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none' \
    'rrq initrd.cpio asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none'
fw_check_server
fw_report
finish
