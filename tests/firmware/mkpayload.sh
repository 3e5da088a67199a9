#!/bin/bash
# mkpayload.sh CACHE -- build what the firmware boots serve, once, in
# CACHE (the build tree's tests/firmware/cache):
#
#   linux-image-*.deb	Debian's kernel package (apt-get download, kept
#			so a second run does not download it again)
#   busybox-static*.deb	the same for busybox-static (unpacked, never
#			installed: it would replace the busybox package
#			that the integration tests use)
#   vmlinuz		the kernel, from dpkg -x of the .deb (never the
#			host's /boot)
#   initrd-S.cpio	newc cpio: a static busybox, /init and /padding of S
#			MiB of random bytes; /init prints the marker, checks
#			the sha256 of /padding and powers off
#   linux-S.efi		a unified kernel image (systemd-boot's EFI stub,
#			vmlinuz, initrd-S.cpio and the command line) for
#			OVMF's own PXE
#   padding-S.sha256	the expected checksum
#
# S is each size named in $FW_PADDING_SIZES (MiB).  Concurrent runs are
# serialised with flock; everything is rebuilt only when missing.
# Prints nothing on success but what it built; exit 77 when a tool is
# missing (the caller skips), 1 when a step fails.
set -u
CACHE=$1
shift
SIZES=${FW_PADDING_SIZES:-}
mkdir -p "$CACHE" || exit 1
cd "$CACHE" || exit 1

for c in flock apt-get dpkg-deb cpio objcopy objdump sha256sum; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "SKIP: '$c' is not installed" >&2
		exit 77
	fi
done
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub

exec 9> "$CACHE/.lock"
flock 9

# fetch_deb PATTERN PACKAGE: the cached .deb matching PATTERN, downloaded
# first if none is there.  apt-get download runs in a directory _apt may
# write to, so it does not warn about an unsandboxed download.
fetch_deb() {
	local f
	f=$(ls $1 2>/dev/null | head -n 1)
	if [ -z "$f" ]; then
		mkdir -p dl && chown _apt dl 2>/dev/null
		(cd dl && apt-get download "$2") >&2 || return 1
		mv dl/*.deb . || return 1
		f=$(ls $1 | head -n 1)
	fi
	echo "$f"
}

if [ ! -s vmlinuz ]; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$kpkg" ]; then
		echo "cannot tell which kernel package linux-image-amd64" \
		    "depends on (apt-get update?)" >&2
		exit 1
	fi
	deb=$(fetch_deb 'linux-image-*-amd64_*.deb' "$kpkg") || exit 1
	rm -rf x && mkdir x || exit 1
	# Only the kernel: the modules are not needed (serial, initramfs,
	# virtio and ACPI power-off are built in).
	dpkg-deb --fsys-tarfile "$deb" | tar -C x -x --wildcards \
	    './boot/vmlinuz-*' || exit 1
	mv x/boot/vmlinuz-* vmlinuz && rm -rf x || exit 1
	echo "kernel: $deb"
fi

if [ ! -x busybox ]; then
	deb=$(fetch_deb 'busybox-static_*.deb' busybox-static) || exit 1
	rm -rf x && mkdir x || exit 1
	dpkg-deb --fsys-tarfile "$deb" | tar -C x -x ./bin/busybox || exit 1
	mv x/bin/busybox busybox && rm -rf x || exit 1
	echo "busybox: $deb"
fi

# The command line of the unified image (the other paths pass the same
# one through their boot scripts: see fwlib.sh).
CMDLINE="console=ttyS0,115200 quiet loglevel=3 panic=-1 rdinit=/init"

for s in $SIZES; do
	if [ ! -s "initrd-$s.cpio" ]; then
		rm -rf tree && mkdir -p tree/bin tree/proc tree/sys tree/dev ||
		    exit 1
		cp busybox tree/bin/busybox || exit 1
		head -c $((s * 1024 * 1024)) /dev/urandom > tree/padding ||
		    exit 1
		sum=$(sha256sum tree/padding | cut -d ' ' -f 1)
		cat > tree/init <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev 2>/dev/null
echo "OWLFW-MARKER: the initrd's /init runs (padding $s MiB)"
sum=\$(sha256sum /padding | cut -d ' ' -f 1)
if [ "\$sum" = "$sum" ]; then
	echo "OWLFW-CHECKSUM: good \$sum"
else
	echo "OWLFW-CHECKSUM: BAD \$sum (want $sum)"
fi
echo "OWLFW-POWEROFF"
poweroff -f
sleep 5
echo o > /proc/sysrq-trigger
EOF
		chmod 755 tree/init
		(cd tree && find . | LC_ALL=C sort |
		    cpio --quiet -o -H newc -R 0:0) > "initrd-$s.tmp" ||
		    exit 1
		# pxelinux closes a file with ERROR 0 once it has tsize
		# bytes, before the empty last block of a file that is a
		# multiple of its blksize: keep clear of the block sizes the
		# firmware asks (zeros after the archive are allowed).
		while :; do
			n=$(stat -c %s "initrd-$s.tmp")
			[ $((n % 1408)) -ne 0 ] && [ $((n % 1432)) -ne 0 ] &&
			    [ $((n % 1468)) -ne 0 ] && break
			head -c 512 /dev/zero >> "initrd-$s.tmp"
		done
		mv "initrd-$s.tmp" "initrd-$s.cpio" &&
		    echo "$sum" > "padding-$s.sha256" || exit 1
		rm -rf tree
		echo "initrd: initrd-$s.cpio ($(stat -c %s "initrd-$s.cpio") bytes)"
	fi
	if [ ! -s "linux-$s.efi" ] && [ -f "$STUB" ]; then
		# Each section goes after the previous one, aligned to the
		# stub's SectionAlignment (systemd 252 has no ukify).
		printf '%s' "$CMDLINE" > cmdline.txt
		align=$((16#$(objdump -p "$STUB" |
		    awk '$1 == "SectionAlignment" { print $2 }')))
		end=0
		while read -r sz vma; do
			[ $((16#$sz + 16#$vma)) -gt $end ] &&
			    end=$((16#$sz + 16#$vma))
		done < <(objdump -h "$STUB" |
		    awk 'NF == 7 && $1 ~ /^[0-9]+$/ { print $3, $4 }')
		set --
		for sec in .cmdline:cmdline.txt .linux:vmlinuz \
		    .initrd:initrd-$s.cpio; do
			name=${sec%%:*} file=${sec#*:}
			vma=$(((end + align - 1) / align * align))
			set -- "$@" --add-section "$name=$file" \
			    --change-section-vma "$name=$(printf 0x%x $vma)"
			end=$((vma + $(stat -c %s "$file")))
		done
		objcopy "$@" "$STUB" "linux-$s.tmp" || exit 1
		mv "linux-$s.tmp" "linux-$s.efi" || exit 1
		echo "unified image: linux-$s.efi ($(stat -c %s "linux-$s.efi") bytes)"
	fi
done
printf '%s\n' "$CMDLINE" > cmdline
exit 0
