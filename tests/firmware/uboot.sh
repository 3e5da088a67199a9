#!/bin/bash
# uboot.sh -- U-Boot (u-boot-qemu's qemu-x86 build, e1000) at its prompt:
# "setenv tftpblocksize 512; setenv tftpwindowsize 8" (and a higher
# tftptimeoutcountmax), dhcp, tftpboot of the kernel and of the initrd,
# zboot.  U-Boot asks blksize, timeout, tsize and windowsize.  The initrd (32 MiB of padding, a multiple of
# 512 bytes: the last DATA block is empty) wraps block numbers past
# 65535 at blksize 512.  With FW_LOSS (uboot-loss.sh) the DATA
# duplicates are bounded.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_KIND=uboot
FW_PADDING=${FW_PADDING:-32}
UBOOT_BLKSIZE=${UBOOT_BLKSIZE:-512}
UBOOT_WINDOWSIZE=${UBOOT_WINDOWSIZE:-8}
. "${FW_SRCDIR:-$(dirname "$0")}/fwlib.sh"

fw_setup
fw_boot
fw_check_boots
fw_check_options \
    'rrq vmlinuz asked=blksize=512,timeout=5,tsize=0,windowsize=8 oack=blksize=512,timeout=5,tsize=SIZE,windowsize=8 end=none' \
    'rrq initrd.cpio asked=blksize=512,timeout=5,tsize=0,windowsize=8 oack=blksize=512,timeout=5,tsize=SIZE,windowsize=8 end=none'
fw_check_server
fw_check_dup_bound
fw_report
finish
