#!/bin/bash
# ovmf-ipxe.sh -- OVMF's PXE client (client architecture 7) gets Debian's
# ipxe.efi (size probe, then blksize 1468, windowsize 4); iPXE asks DHCP
# again with user class "iPXE", gets boot.ipxe, and its script loads the
# kernel (EFI stub) and the initrd (blksize 1432, tsize; no windowsize).
# A few MiB of padding: the EDK2 and iPXE families wrap block numbers on
# ovmf.sh and seabios-ipxe.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FW_KIND=ovmf-ipxe
FW_PADDING=${FW_PADDING:-4}
. "${FW_SRCDIR:-$(dirname "$0")}/fwlib.sh"

fw_setup
fw_boot
fw_check_boots
fw_check_options \
    'rrq ipxe.efi asked=blksize=1468,tsize=0,windowsize=4 oack=blksize=1468,tsize=SIZE,windowsize=4 end=client-error-8' \
    'rrq ipxe.efi asked=blksize=1468,windowsize=4 oack=blksize=1468,windowsize=4 end=none' \
    'rrq boot.ipxe asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none' \
    'rrq vmlinuz asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none' \
    'rrq initrd.cpio asked=blksize=1432,tsize=0 oack=blksize=1432,tsize=SIZE end=none'
fw_check_server
fw_report
finish
