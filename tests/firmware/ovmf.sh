#!/bin/bash
# ovmf.sh -- OVMF (EDK2's UEFI PXE client, its own virtio-net driver)
# boots a unified kernel image (systemd-boot's EFI stub + the Debian
# kernel + the test initrd) straight from owltftpd.  EDK2 asks for the
# size first (tsize=0, then ERROR 8 once the OACK is in), then downloads
# with blksize 1468 and windowsize 4.  The image is ~100 MB (90 MiB of
# padding), so block numbers wrap past 65535.  Checks: the marker and a
# good checksum on the console, the options asked and the OACK in the
# capture, no ERROR from the server, every transfer ok; retransmissions
# reported.  With FW_LOSS (ovmf-loss.sh) the DATA duplicates are bounded.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_KIND=ovmf
FW_PADDING=${FW_PADDING:-90}
. "${FW_SRCDIR:-$(dirname "$0")}/fwlib.sh"

fw_setup
fw_boot
fw_check_boots
fw_check_options \
    'rrq linux.efi asked=blksize=1468,tsize=0,windowsize=4 oack=blksize=1468,tsize=SIZE,windowsize=4 end=client-error-8' \
    'rrq linux.efi asked=blksize=1468,windowsize=4 oack=blksize=1468,windowsize=4 end=none'
fw_check_server
fw_check_dup_bound
fw_report
finish
