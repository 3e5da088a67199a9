#!/bin/bash
# pxelinux.sh -- SeaBIOS and QEMU's iPXE ROM load pxelinux.0 (the
# pxelinux package; DHCP hands it to this path's BIOS clients, with
# option 209 naming pxelinux.cfg/default so no config search misses);
# pxelinux's own TFTP client (blksize 1408, tsize) loads ldlinux.c32
# (syslinux-common), the config, the kernel and the initrd.  90 MiB of
# padding: block numbers wrap past 65535 in pxelinux's client.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_KIND=pxelinux
FW_PADDING=${FW_PADDING:-90}
. "${FW_SRCDIR:-$(dirname "$0")}/fwlib.sh"

fw_setup
fw_boot
fw_check_boots
fw_check_options \
    'rrq pxelinux.0 asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none' \
    'rrq ldlinux.c32 asked=blksize=1408,tsize=0 oack=blksize=1408,tsize=SIZE end=none' \
    'rrq pxelinux.cfg/default asked=blksize=1408,tsize=0 oack=blksize=1408,tsize=SIZE end=none' \
    'rrq vmlinuz asked=blksize=1408,tsize=0 oack=blksize=1408,tsize=SIZE end=none' \
    'rrq initrd.cpio asked=blksize=1408,tsize=0 oack=blksize=1408,tsize=SIZE end=none'
fw_check_server
fw_report
finish
