# fwlib.sh -- shared by tests/firmware/*.sh: real firmware PXE-boots a
# Debian kernel and a test initrd from the built owltftpd, in QEMU, inside
# a network namespace made for the test (README.md beside this file).
#
# A path script sets, then sources this file:
#	FW_KIND		ovmf | ovmf-ipxe | seabios-ipxe | pxelinux | uboot
#	FW_PADDING	MiB of random padding in the initrd (block numbers
#			wrap past 65535 above 32 MiB at blksize 512,
#			above 92 MiB at 1468)
#	FW_VMS		VMs booted at once (default 1)
#	FW_LOSS		packet loss in percent on the bridge (default none)
# and then calls, inside the namespace:
#	fw_setup; fw_boot; fw_check_boots; fw_check_options LINE...;
#	fw_check_server; [fw_check_dup_bound]; fw_report; finish
#
# Outside the namespace this file checks what the test needs (exit 77
# with the reason when something is missing), builds the payload in
# $FW_CACHE (tests/firmware/cache in the build tree: the kernel .deb is
# downloaded once), creates the namespace and runs the script again
# inside it.  Environment: FW_ACCEL=kvm|tcg forces the accelerator
# (default: KVM when a probe boot works, else TCG), FW_BOOT_TIMEOUT
# (seconds per boot), KEEP=1 keeps the work directory.

set -u
FW_SRCDIR=${FW_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
TESTS_SRCDIR=${TESTS_SRCDIR:-$(cd "$FW_SRCDIR/.." && pwd)}
export FW_SRCDIR TESTS_SRCDIR
# A variant (ovmf-loss.sh, seabios-ipxe-4vm.sh) runs a path script with
# FW_NAME and its settings in the environment.
FW_NAME=${FW_NAME:-$(basename "$0" .sh)}
export FW_NAME
FW_VMS=${FW_VMS:-1}
FW_LOSS=${FW_LOSS:-}
FW_SERVER=${FW_SERVER:-owltftpd}	# bench/firmware.sh: tftpd-hpa, dnsmasq
FW_ADDR=10.69.0.1	# the bridge, owltftpd and dnsmasq: private, and
FW_NET=10.69.0		# reachable only inside the namespace
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
IPXE_EFI=/usr/lib/ipxe/ipxe.efi
PXELINUX=/usr/lib/PXELINUX/pxelinux.0
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
UBOOT_ROM=/usr/lib/u-boot/qemu-x86/u-boot.rom
SEABIOS=/usr/share/seabios/bios.bin
IPXE_ROM=/usr/lib/ipxe/qemu/efi-virtio.rom

fw_skip() {
	echo "SKIP: $FW_NAME: $*" >&2
	exit 77
}

# fw_files_for KIND: the firmware files the path needs.
fw_files_for() {
	case $1 in
	ovmf) echo "$OVMF_CODE $OVMF_VARS /usr/lib/systemd/boot/efi/linuxx64.efi.stub" ;;
	ovmf-ipxe) echo "$OVMF_CODE $OVMF_VARS $IPXE_EFI" ;;
	seabios-ipxe) echo "$SEABIOS $IPXE_ROM" ;;
	pxelinux) echo "$SEABIOS $IPXE_ROM $PXELINUX $LDLINUX" ;;
	uboot) echo "$UBOOT_ROM" ;;
	esac
}

# fw_probe_kvm: true when KVM can run real firmware here.  /dev/kvm may
# exist and still fail on firmware (a nested or paravirtual KVM stops
# OVMF's first FPU instruction with "emulation failure"), so boot OVMF
# briefly and look for its first words on the console.
fw_probe_kvm() {
	local out fw pid n
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	# OVMF, not SeaBIOS: a paravirtual KVM runs SeaBIOS and fails later.
	fw=/usr/share/qemu/OVMF.fd
	[ -f "$fw" ] || return 1
	out=$(mktemp) || return 1
	qemu-system-x86_64 -accel kvm -M q35 -m 256 -display none \
	    -nodefaults -no-user-config -serial stdio -monitor none \
	    -bios "$fw" -no-reboot > "$out" 2>&1 < /dev/null &
	pid=$!
	# QEMU stops (but does not exit) on an emulation failure: poll.
	for n in $(seq 1 150); do
		if grep -aqE 'KVM internal error|BdsDxe|SeaBIOS|failed to|Could not' \
		    "$out" || ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	kill -s KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if grep -aqE 'KVM internal error|failed to|Could not' "$out"; then
		n=1
	elif grep -aqE 'BdsDxe|SeaBIOS' "$out"; then
		n=0
	else
		n=1
	fi
	rm -f "$out"
	return $n
}

if [ -z "${FW_NS:-}" ]; then
	# ---------------------------------------------- outside the namespace
	if [ -z "${OWLTFTPD:-}" ] || [ ! -x "$OWLTFTPD" ]; then
		echo "OWLTFTPD is not set (run through make check-firmware)" >&2
		exit 99
	fi
	[ "$(id -u)" = 0 ] ||
	    fw_skip "needs root (network namespaces, taps, iptables)"
	for c in qemu-system-x86_64 ip dnsmasq tcpdump iptables python3 \
	    timeout flock cpio objcopy apt-get dpkg-deb; do
		command -v "$c" >/dev/null 2>&1 ||
		    fw_skip "'$c' is not installed (.ci/run installs it)"
	done
	for f in $(fw_files_for "$FW_KIND"); do
		[ -f "$f" ] || fw_skip "$f is missing (its package is not installed)"
	done
	[ -c /dev/net/tun ] || fw_skip "no /dev/net/tun (taps for QEMU)"
	if [ "$FW_SERVER" = tftpd-hpa ] && [ ! -x /usr/sbin/in.tftpd ]; then
		fw_skip "no /usr/sbin/in.tftpd (tftpd-hpa)"
	fi
	FW_CACHE=${FW_CACHE:-$(dirname "$OWLTFTPD")/../tests/firmware/cache}
	FW_OUT=${FW_OUT:-$(dirname "$FW_CACHE")/$FW_NAME.out}
	export FW_CACHE FW_OUT
	if [ -z "${FW_ACCEL:-}" ]; then
		if fw_probe_kvm; then
			FW_ACCEL=kvm
		else
			FW_ACCEL=tcg
		fi
	fi
	export FW_ACCEL FW_PADDING FW_VMS FW_LOSS FW_SERVER UBOOT_BLKSIZE \
	    UBOOT_WINDOWSIZE
	t0=$EPOCHREALTIME
	FW_PADDING_SIZES=$FW_PADDING bash "$FW_SRCDIR/mkpayload.sh" \
	    "$FW_CACHE"
	rc=$?
	[ $rc -eq 77 ] && fw_skip "cannot build the payload"
	[ $rc -eq 0 ] || { echo "FAIL: $FW_NAME: the payload" >&2; exit 1; }
	echo "payload ready in $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
	    'BEGIN { printf "%.1f", b - a }') s"
	FW_NSNAME=owlfw$$
	if ! err=$(ip netns add "$FW_NSNAME" 2>&1); then
		fw_skip "cannot create a network namespace: $err"
	fi
	trap 'ip netns del "$FW_NSNAME" 2>/dev/null' EXIT
	trap 'exit 1' HUP INT TERM
	rm -rf "$FW_OUT" && mkdir -p "$FW_OUT"
	ip netns exec "$FW_NSNAME" env FW_NS="$FW_NSNAME" bash "$0" "$@"
	exit $?
fi

# ------------------------------------------------------ inside the namespace
. "$TESTS_SRCDIR/lib.sh"
TEST_NAME=$FW_NAME	# a variant reports under its own name

FW_PIDS=			# dnsmasq, tcpdump, QEMU: ended by PID
FW_TIMEOUT=${FW_BOOT_TIMEOUT:-}
if [ -z "$FW_TIMEOUT" ]; then
	# Measured under TCG on 2 cores: 45-70 s for a few MiB, 100-160 s
	# for 90 MiB (lock-step clients); twice that is the deadline.
	if [ "$FW_ACCEL" = kvm ]; then
		FW_TIMEOUT=$((60 + FW_PADDING + 30 * (FW_VMS - 1)))
	else
		FW_TIMEOUT=$((150 + 2 * FW_PADDING + 60 * (FW_VMS - 1)))
	fi
	# Under loss every dropped datagram can cost a whole client timeout
	# (U-Boot's 5 s: the capture's "stall" lines show one per drop, ~10
	# expected at 0.05 %); a slow guest on a loaded host has been seen
	# to take twice the lossless deadline.  Room for that, still bounded.
	if [ -n "${FW_LOSS:-}" ]; then
		FW_TIMEOUT=$((FW_TIMEOUT + 200))
	fi
fi

fw_cleanup() {
	local rc=$? p
	for p in $FW_PIDS; do
		kill -s TERM "$p" 2>/dev/null
	done
	for p in $FW_PIDS; do
		wait_for 5 exited "$p" || kill -s KILL "$p" 2>/dev/null
	done
	fw_save
	(exit $rc)
	cleanup
}
trap fw_cleanup EXIT

# fw_save: keep the consoles, the server log, the DHCP log and the
# capture summary in $FW_OUT (the build tree) for a post-mortem.
fw_save() {
	[ -n "${FW_OUT:-}" ] && [ -d "$FW_OUT" ] || return 0
	cp "$T"/console.* "$T"/result.* "$T"/dnsmasq.log "$T"/capture.txt \
	    "$T"/iptables.txt "$T"/server.*.log "$FW_OUT"/ 2>/dev/null
	return 0
}

fw_mac() {
	local code
	case $FW_KIND in
	ovmf) code=01 ;;
	ovmf-ipxe) code=02 ;;
	seabios-ipxe) code=03 ;;
	pxelinux) code=04 ;;
	uboot) code=05 ;;
	esac
	printf '52:54:00:6f:%s:%02x' "$code" "$1"
}

# fw_dnsmasq: DHCP only (port=0: no DNS; no enable-tftp), the boot file
# chosen by client architecture (option 93), iPXE's user class and, where
# two paths share both, by the path's MAC prefix.
fw_dnsmasq() {
	cat > "$T/dnsmasq.conf" <<EOF
port=0
interface=br0
bind-interfaces
dhcp-range=$FW_NET.100,$FW_NET.199,255.255.255.0,1h
dhcp-leasefile=$T/leases
dhcp-authoritative
log-dhcp
log-facility=-
# option 93: 0 BIOS, 7 and 9 x86-64 UEFI
dhcp-match=set:bios,option:client-arch,0
dhcp-match=set:efi64,option:client-arch,7
dhcp-match=set:efi64,option:client-arch,9
dhcp-userclass=set:ipxe,iPXE
dhcp-mac=set:p-ovmf,52:54:00:6f:01:*
dhcp-mac=set:p-ovmfipxe,52:54:00:6f:02:*
dhcp-mac=set:p-pxelinux,52:54:00:6f:04:*
# EDK2's own PXE client takes the unified kernel image, or iPXE
dhcp-boot=tag:efi64,tag:!ipxe,tag:p-ovmf,linux.efi,,$FW_ADDR
dhcp-boot=tag:efi64,tag:!ipxe,tag:p-ovmfipxe,ipxe.efi,,$FW_ADDR
# iPXE (ipxe.efi, or QEMU's NIC ROM under SeaBIOS) runs a script ...
dhcp-boot=tag:ipxe,tag:!p-pxelinux,boot.ipxe,,$FW_ADDR
# ... except on the pxelinux path, where any BIOS PXE stack gets pxelinux
dhcp-boot=tag:bios,tag:p-pxelinux,pxelinux.0,,$FW_ADDR
dhcp-option-force=tag:p-pxelinux,209,pxelinux.cfg/default
EOF
	if [ "$FW_SERVER" = dnsmasq ]; then
		printf '%s\n' enable-tftp "tftp-root=$ROOT" user=root \
		    >> "$T/dnsmasq.conf"
	fi
	dnsmasq -k -C "$T/dnsmasq.conf" --pid-file="$T/dnsmasq.pid" \
	    > "$T/dnsmasq.log" 2>&1 < /dev/null &
	FW_PIDS="$FW_PIDS $!"
}

# fw_root: what the server serves on this path.
fw_root() {
	local cmdline
	cmdline=$(cat "$FW_CACHE/cmdline")
	cp "$FW_CACHE/vmlinuz" "$ROOT/vmlinuz" &&
	    cp "$FW_CACHE/initrd-$FW_PADDING.cpio" "$ROOT/initrd.cpio" ||
	    die "cannot copy the payload"
	case $FW_KIND in
	ovmf)
		cp "$FW_CACHE/linux-$FW_PADDING.efi" "$ROOT/linux.efi" ;;
	ovmf-ipxe|seabios-ipxe)
		cp "$IPXE_EFI" "$ROOT/ipxe.efi"
		# Under UEFI the kernel's EFI stub finds the initrd by name
		# in iPXE's image store (initrd=); under BIOS it is ignored.
		cat > "$ROOT/boot.ipxe" <<EOF
#!ipxe
echo owlfw: iPXE script on \${platform}
kernel vmlinuz initrd=initrd.cpio $cmdline
initrd initrd.cpio
boot
EOF
		;;
	pxelinux)
		cp "$PXELINUX" "$LDLINUX" "$ROOT/"
		mkdir -p "$ROOT/pxelinux.cfg"
		cat > "$ROOT/pxelinux.cfg/default" <<EOF
SERIAL 0 115200
DEFAULT owlfw
PROMPT 0
TIMEOUT 0
LABEL owlfw
  KERNEL vmlinuz
  INITRD initrd.cpio
  APPEND $cmdline
EOF
		;;
	esac
	chmod -R a+rX "$ROOT"
}

# fw_server: owltftpd on the bridge address, port 69, debug log; for
# bench/firmware.sh (FW_SERVER) tftpd-hpa or dnsmasq's TFTP instead.
fw_server() {
	case $FW_SERVER in
	owltftpd)
		write_conf "listen = [ \"$FW_ADDR\" ]" 'port = 69' 'workers = 2'
		start_server
		;;
	tftpd-hpa)
		/usr/sbin/in.tftpd -L -s "$ROOT" -a "$FW_ADDR:69" -u root \
		    > "$T/tftpd.log" 2>&1 < /dev/null &
		FW_PIDS="$FW_PIDS $!"
		wait_for 10 _fw_udp69 || die "in.tftpd did not bind port 69"
		;;
	dnsmasq)
		# The DHCP dnsmasq serves TFTP too (fw_dnsmasq).
		wait_for 10 _fw_udp69 || die "dnsmasq did not bind port 69"
		;;
	*)
		die "FW_SERVER=$FW_SERVER: owltftpd, tftpd-hpa or dnsmasq" ;;
	esac
}

_fw_udp69() {
	ss -Hlun "sport = :69" | grep -q .
}

# fw_setup: bridge, taps, dnsmasq, owltftpd, captures (and loss).
fw_setup() {
	local i
	check "network: namespace, bridge $FW_ADDR/24, no route out"
	ip link set lo up &&
	    ip link add br0 type bridge forward_delay 0 stp_state 0 &&
	    ip addr add "$FW_ADDR/24" dev br0 &&
	    ip link set br0 up || die "cannot set up the bridge"
	for i in $(seq 1 "$FW_VMS"); do
		ip tuntap add "tap$i" mode tap &&
		    ip link set "tap$i" master br0 up ||
		    die "cannot set up tap$i"
	done
	if [ -n "$(ip route show default)" ] ||
	    [ "$(ip -o link show | grep -vcE ': (lo|br0|tap[0-9]+)[:@]')" -ne 0 ]; then
		die "the namespace has a route or a link out: $(ip route)"
	fi
	ok "bridge up, $FW_VMS tap(s), no default route"

	fw_root
	fw_dnsmasq
	fw_server
	# The TFTP side of the boot: everything but DATA whole, DATA's
	# headers only (fwcap.py reads both).
	tcpdump -i br0 -n -s 1600 -w "$T/ctrl.pcap" \
	    "udp and host $FW_ADDR and not port 67 and not port 68 and udp[8:2] != 3" \
	    > "$T/tcpdump.ctrl.log" 2>&1 &
	FW_PIDS="$FW_PIDS $!"
	FW_TCPDUMP=$!
	tcpdump -i br0 -n -s 64 -w "$T/data.pcap" \
	    "udp and src host $FW_ADDR and not port 67 and udp[8:2] == 3" \
	    > "$T/tcpdump.data.log" 2>&1 &
	FW_PIDS="$FW_PIDS $!"
	FW_TCPDUMP="$FW_TCPDUMP $!"
	wait_for 10 _fw_tcpdump_ready ||
	    die "tcpdump did not start: $(cat "$T"/tcpdump.*.log)"
	if [ -n "$FW_LOSS" ]; then
		fw_loss "$FW_LOSS"
	fi
}

_fw_tcpdump_ready() {
	[ "$(cat "$T"/tcpdump.*.log 2>/dev/null | grep -c 'listening on')" -ge 2 ]
}

# fw_loss PERCENT: drop that share of the UDP datagrams (DHCP spared)
# that reach or leave the bridge address, at random (netem is not in
# every kernel; the statistic match is).
fw_loss() {
	local p
	p=$(awk -v l="$1" 'BEGIN { printf "%.6f", l / 100 }')
	check "loss: $1 % of the TFTP datagrams dropped at random each way"
	iptables -A INPUT -i br0 -p udp ! --dport 67 -m statistic \
	    --mode random --probability "$p" -j DROP &&
	    iptables -A OUTPUT -o br0 -p udp ! --sport 67 -m statistic \
	    --mode random --probability "$p" -j DROP ||
	    die "iptables cannot add the statistic rules"
	ok "iptables: probability $p in INPUT and OUTPUT"
}

# fw_lost: datagrams the loss rules dropped so far.
fw_lost() {
	iptables -L -v -x -n > "$T/iptables.txt" 2>&1
	awk '$3 == "DROP" && /statistic/ { n += $1 } END { print n + 0 }' \
	    "$T/iptables.txt"
}

# fw_qemu I: the QEMU command line of VM I (after the accelerator).
fw_qemu() {
	local i=$1 mac nic
	mac=$(fw_mac "$i")
	set -- -nographic -nodefaults -no-user-config -serial stdio \
	    -monitor none -no-reboot -m 1024 \
	    -netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no"
	case $FW_KIND in
	ovmf|ovmf-ipxe)
		cp "$OVMF_VARS" "$T/vars.$i.fd"
		# romfile= : EDK2's own virtio-net driver and PXE client, not
		# an iPXE option ROM.
		set -- "$@" -M q35 \
		    -drive "if=pflash,format=raw,readonly=on,file=$OVMF_CODE" \
		    -drive "if=pflash,format=raw,file=$T/vars.$i.fd" \
		    -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,bootindex=1"
		;;
	seabios-ipxe|pxelinux)
		# QEMU's own iPXE ROM (ipxe-qemu) does the PXE boot.
		set -- "$@" -M pc \
		    -device "virtio-net-pci,netdev=n0,mac=$mac,bootindex=1"
		;;
	uboot)
		set -- "$@" -M pc -bios "$UBOOT_ROM" \
		    -device "e1000,netdev=n0,mac=$mac,romfile="
		;;
	esac
	printf '%s\n' "$@"
}

# fw_dialog: what to type on U-Boot's console (vmrun.py --expect/--send).
# The initrd goes to 256 MiB, not to ${ramdisk_addr_r} (64 MiB): an
# initrd of 35 MiB there came out of zboot with its checksum wrong
# (whatever blksize, windowsize or loss: the bytes on the wire were
# right), one of 6 MiB did not.
UBOOT_INITRD_ADDR=0x10000000
# U-Boot 2023.01 (Debian 12) gives a transfer up after 10 of its own
# timeouts in 65536 blocks (its count is reset only when block numbers
# wrap; v2025.04 resets it on every block), and under TCG its 5 s timer
# runs out in about 2 s of real time, before the server's (the 5 s that
# U-Boot negotiated): every datagram lost on the initrd's way costs one,
# and 11 of them (uboot-loss: ~8 expected) failed the boot with "Retry
# count exceeded" whatever the server did.  tftptimeoutcountmax raises
# that limit; nothing on the wire changes.
UBOOT_TIMEOUT_COUNT_MAX=100
fw_dialog() {
	local cmdline
	cmdline=$(cat "$FW_CACHE/cmdline")
	[ "$FW_KIND" = uboot ] || return 0
	printf '%s\n' --expect 'Hit any key to stop autoboot' --send ' ' \
	    --expect '=> ' --send \
	    "setenv autoload no; setenv tftpblocksize $UBOOT_BLKSIZE; setenv tftpwindowsize $UBOOT_WINDOWSIZE; setenv tftptimeoutcountmax $UBOOT_TIMEOUT_COUNT_MAX; setenv serverip $FW_ADDR\\n" \
	    --expect '=> ' --send 'dhcp\n' \
	    --expect 'DHCP client bound[^\n]*\n(.|\n)*=> ' --send \
	    "tftpboot \${kernel_addr_r} vmlinuz\\n" \
	    --expect 'Bytes transferred(.|\n)*=> ' --send \
	    "tftpboot $UBOOT_INITRD_ADDR initrd.cpio\\n" \
	    --expect 'Bytes transferred(.|\n)*=> ' --send \
	    "setenv bootargs '$cmdline'; zboot \${kernel_addr_r} 0 $UBOOT_INITRD_ADDR \${filesize}\\n"
}

# fw_boot: start FW_VMS VMs at once, each under vmrun.py with the boot
# deadline, and wait for all of them.
fw_boot() {
	local i pids= qargs dialog accel
	if [ "$FW_ACCEL" = kvm ]; then
		accel="-accel kvm"
	else
		accel="-accel tcg"
	fi
	check "boot $FW_VMS VM(s): $FW_KIND under $FW_ACCEL, ${FW_TIMEOUT}s each"
	mapfile -t dialog < <(fw_dialog)
	for i in $(seq 1 "$FW_VMS"); do
		mapfile -t qargs < <(fw_qemu "$i")
		python3 "$FW_SRCDIR/vmrun.py" --console "$T/console.$i" \
		    --timeout "$FW_TIMEOUT" --result "$T/result.$i" \
		    "${dialog[@]}" -- qemu-system-x86_64 $accel "${qargs[@]}" \
		    > /dev/null 2>&1 &
		pids="$pids $!"
	done
	FW_PIDS="$FW_PIDS $pids"
	for i in $pids; do
		wait "$i"
	done
	ok "all VMs ended"
}

# fw_res I KEY: a value from VM I's vmrun result.
fw_res() {
	sed -n "s/^$2=//p" "$T/result.$1" 2>/dev/null
}

# fw_check_boots: every VM printed the marker and a good checksum.
fw_check_boots() {
	local i
	for i in $(seq 1 "$FW_VMS"); do
		check "VM $i: the initrd's marker and a good checksum"
		if [ "$(fw_res "$i" checksum)" = good ] &&
		    [ -n "$(fw_res "$i" marker_s)" ]; then
			ok "marker after $(fw_res "$i" marker_s) s, checksum good"
		else
			fail "marker '$(fw_res "$i" marker_s)'," \
			    "checksum '$(fw_res "$i" checksum)'," \
			    "timeout=$(fw_res "$i" timeout); console tail:" \
			    "$(tail -c 1500 "$T/console.$i" 2>/dev/null |
			    tr -d '\033' | tail -n 15)"
		fi
	done
}

# fw_capture: stop the captures and summarise them (capture.txt).
fw_capture() {
	local p
	[ -s "$T/capture.txt" ] && return 0
	for p in $FW_TCPDUMP; do
		kill -s INT "$p" 2>/dev/null
		wait_for 10 exited "$p"
	done
	python3 "$FW_SRCDIR/fwcap.py" --server "$FW_ADDR" --root "$ROOT" \
	    "$T/ctrl.pcap" "$T/data.pcap" > "$T/capture.txt" 2>&1
}

# fw_check_options LINE...: per VM, the requests in the capture in order
# ("rrq FILE asked=... oack=... end=..." without the client address; a
# retransmitted request counts once) must be exactly LINE...: what the
# firmware asks and what the server grants is pinned down.
fw_check_options() {
	local i ip got want
	fw_capture
	want=$(printf '%s\n' "$@")
	for i in $(seq 1 "$FW_VMS"); do
		ip=$(_fw_vm_ip "$i")
		check "VM $i ($ip): the options asked and the OACK granted"
		got=$(awk -v ip="$ip" '$1 == "req" && $2 == ip {
		    $1 = ""; $2 = ""; sub(/^  /, ""); print }' "$T/capture.txt")
		if [ "$FW_SERVER" != owltftpd ]; then
			ok "$FW_SERVER (not checked):"
			printf '    %s\n' "$got"
		elif [ "$got" = "$want" ]; then
			ok "as expected:"
			printf '    %s\n' "$@"
		else
			fail "negotiation changed; want:" \
			    "$(printf '\n      %s' "$@")" "got:" \
			    "$(printf '%s\n' "$got" | sed 's/^/      /')"
		fi
	done
}

# _fw_vm_ip I: the address dnsmasq leased to VM I (by its MAC).
_fw_vm_ip() {
	awk -v m="$(fw_mac "$1")" '$2 == m { print $3 }' "$T/leases" |
	    head -n 1
}

# fw_check_server: no ERROR from the server in the capture, every
# transfer in the log ended ok (or as the quiet tsize probe), and the
# retransmissions it reports.
fw_check_server() {
	local bad lines
	fw_capture
	check "the DATA in the capture carry the file's bytes at their offsets"
	bad=$(awk '$1 == "data" && $6 != "badbytes=0"' "$T/capture.txt")
	if [ -z "$bad" ]; then
		ok "every captured DATA block starts with the right bytes"
	else
		fail "DATA that do not match the file: $bad"
	fi
	check "the server sent no ERROR packet"
	bad=$(grep '^err server' "$T/capture.txt")
	if [ -z "$bad" ]; then
		ok "none in the capture"
	else
		fail "ERROR packets from the server: $bad"
	fi
	[ "$FW_SERVER" = owltftpd ] || return 0
	check "the log: transfers ended ok (or the client's tsize probe)"
	lines=$(grep -a 'xfer end' "$LOG")
	bad=$(printf '%s\n' "$lines" | grep -av 'result=ok' |
	    grep -av 'bytes=0 .*result=peer_error' | grep -a .)
	if [ -z "$lines" ]; then
		fail "no 'xfer end' line in the log"
	elif [ -n "$bad" ]; then
		fail "transfers that did not end well: $bad"
	else
		ok "$(printf '%s\n' "$lines" | grep -c .) transfer(s)"
	fi
	if grep -aqE ' (error|crit|alert|emerg):|ERROR|assert' "$LOG"; then
		check "the log has no error line"
		fail "$(grep -aE ' (error|crit|alert|emerg):|ERROR|assert' "$LOG" |
		    head -n 5)"
	fi
}

# fw_sum FIELD: the sum of FIELD=N over the log's xfer end lines; empty
# when no line has the field.
fw_sum() {
	grep -a 'xfer end' "$LOG" | grep -aoE " $1=[0-9]+" |
	    awk -F= '{ n += $2; seen = 1 } END { if (seen) print n }'
}

# fw_windowsize: the largest windowsize the server granted (1 if none).
fw_windowsize() {
	grep '^req' "$T/capture.txt" | grep -oE 'oack=[^ ]*' |
	    grep -oE 'windowsize=[0-9]+' | cut -d= -f2 |
	    awk 'BEGIN { m = 1 } $1 > m { m = $1 } END { print m }'
}

# fw_check_dup_bound: (with FW_LOSS only) at the loss rate, DATA blocks
# sent more than once on an ACK (the log's dup= field less the blocks
# the retransmit timer resent, its retrans= field) stay within 4 x
# windowsize per lost datagram (counted by the iptables rules).  The
# timer's resends are left out of the bound, and reported: each costs
# a whole timeout and cannot feed itself, and a guest stalled by a
# loaded host draws them without any drop.  A storm is made of ACKs.
fw_check_dup_bound() {
	local lost ws bound dup capdup sdup retr sretr onack
	[ -n "$FW_LOSS" ] && [ "$FW_SERVER" = owltftpd ] || return 0
	fw_capture
	lost=$(fw_lost)
	ws=$(fw_windowsize)
	bound=$((4 * ws * lost))
	dup=$(fw_sum dup)
	retr=$(fw_sum retrans)
	sdup=$(stat_total data_dup 2>/dev/null)
	sretr=$(stat_total retrans 2>/dev/null)
	capdup=$(awk '$1 == "data" { split($5, a, "="); n += a[2] }
	    END { print n + 0 }' "$T/capture.txt")
	check "duplicate DATA <= 4 x windowsize ($ws) x lost ($lost) = $bound"
	echo "    the capture saw $capdup DATA packets repeating a block" \
	    "(dropped ones excluded); owlctl stats data_dup: ${sdup:-absent}"
	if [ -z "$dup" ] && [ -n "$sdup" ]; then
		# No per-transfer field, but the counter: the same count for
		# this server, which served nothing else.
		echo "    (the log has no dup= field: the data_dup counter instead)"
		dup=$sdup
		retr=${sretr:-0}
	elif [ -n "$dup" ] && [ -n "$sdup" ] && [ "$sdup" -gt "$dup" ]; then
		# A transfer still running (a boot cut at its deadline) has
		# no log line yet; the counter has its duplicates.
		echo "    (a transfer has not ended: the data_dup counter instead)"
		dup=$sdup
		retr=${sretr:-$retr}
	fi
	if [ -z "$dup" ]; then
		# Not a failure of the boot: this server build does not count.
		echo "UNVERIFIED: $FW_NAME: neither a dup= field in the log" \
		    "nor a data_dup counter: the bound cannot be checked" \
		    "against the server's count" >&2
		return 0
	fi
	retr=${retr:-0}
	onack=$((dup > retr ? dup - retr : 0))
	echo "    dup=$dup in all: $retr resent by the timer, $onack on ACKs;" \
	    "the total is $( [ "$dup" -le "$bound" ] && echo within ||
	    echo over) $bound"
	if [ "$onack" -le "$bound" ]; then
		ok "dup=$onack on ACKs (server), within $bound"
	else
		fail "dup=$onack on ACKs (server) exceeds $bound" \
		    "($((onack / (lost ? lost : 1))) per lost datagram)"
	fi
}

# fw_report: one line per VM for the record (make check's .log and
# bench/firmware.sh): the path, accelerator, times, retransmissions.
fw_report() {
	local i
	fw_capture
	for i in $(seq 1 "$FW_VMS"); do
		echo "FWRESULT path=$FW_NAME vm=$i server=$FW_SERVER accel=$FW_ACCEL" \
		    "padding_mib=$FW_PADDING marker_s=$(fw_res "$i" marker_s)" \
		    "verdict_s=$(fw_res "$i" verdict_s)" \
		    "exit_s=$(fw_res "$i" exit_s) exit=$(fw_res "$i" exit)"
	done
	echo "FWRESULT path=$FW_NAME retrans=$(fw_sum retrans)" \
	    "dup=$(fw_sum dup) send_failed=$(fw_sum send_failed)" \
	    "lost=$( [ -n "$FW_LOSS" ] && fw_lost || echo 0)" \
	    "capture_dup=$(awk '$1 == "data" { split($5, a, "="); n += a[2] }
	    END { print n + 0 }' "$T/capture.txt")"
	echo "--- capture summary"
	sed 's/^/    /' "$T/capture.txt"
	echo "--- transfers (server log)"
	grep -a 'xfer end' "$LOG" | sed 's/^.*xfer end /    /'
}
