#!/bin/bash
# firmware.sh -- seconds from VM start to the initrd's marker, per firmware
# path (tests/firmware), with owltftpd beside tftpd-hpa (in.tftpd -L, run
# by hand in the test's namespace) and dnsmasq's own TFTP (enable-tftp in
# the test's DHCP dnsmasq).  Reported, not asserted.
#
# usage: bench/firmware.sh [--owltftpd PATH] [--reps N] [--padding MIB]
#                          [--paths "ovmf ovmf-ipxe ..."]
#                          [--servers "owltftpd tftpd-hpa dnsmasq"]
#
# As root.  Installs tftpd-hpa if it is missing, with a policy-rc.d that
# keeps its package from starting a system service.  Every boot is one
# run of the path's test script with FW_SERVER set; against the other
# servers the scripts only report what was negotiated.  Prints one
# markdown table (median of --reps runs, default 1) and the machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
owl=${OWLTFTPD:-}
reps=1
padding=
paths="ovmf ovmf-ipxe seabios-ipxe pxelinux uboot"
servers="owltftpd tftpd-hpa dnsmasq"
while [ $# -gt 0 ]; do
	case $1 in
	--owltftpd) owl=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--padding) padding=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--servers) servers=$2; shift 2 ;;
	*) sed -n '2,16s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
done
if [ -z "$owl" ]; then
	for c in "$src/build/src/owltftpd" ./src/owltftpd; do
		[ -x "$c" ] && owl=$(cd "$(dirname "$c")" && pwd)/owltftpd && break
	done
fi
[ -x "$owl" ] || { echo "no owltftpd: --owltftpd PATH" >&2; exit 2; }
export OWLTFTPD=$owl
export FW_CACHE=${FW_CACHE:-$(dirname "$owl")/../tests/firmware/cache}
out=$(mktemp -d /tmp/owlfwbench.XXXXXX) || exit 1

if [[ " $servers " == *" tftpd-hpa "* ]] && [ ! -x /usr/sbin/in.tftpd ]; then
	# The package would start (and enable) a system tftpd on port 69:
	# a policy-rc.d says no (one already there is left as it is).
	made=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y tftpd-hpa \
	    > "$out/apt.log" 2>&1
	[ -n "$made" ] && rm -f /usr/sbin/policy-rc.d
fi

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
	    else if (NR % 2) print v[(NR + 1) / 2];
	    else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for p in $paths; do
	for s in $servers; do
		for r in $(seq 1 "$reps"); do
			log=$out/$p.$s.$r.log
			load0=$(cut -d ' ' -f 1 /proc/loadavg)
			env FW_SERVER="$s" FW_NAME="bench-$p-$s" \
			    FW_OUT="$out/$p.$s.$r.out" \
			    ${padding:+FW_PADDING=$padding} \
			    bash "$src/tests/firmware/$p.sh" > "$log" 2>&1
			m=$(sed -n 's/^FWRESULT .* vm=1 .*marker_s=\([0-9.]*\).*/\1/p' "$log")
			accel=$(sed -n 's/^FWRESULT .* accel=\([a-z]*\).*/\1/p' "$log" | head -n 1)
			pad=$(sed -n 's/^FWRESULT .* padding_mib=\([0-9]*\).*/\1/p' "$log" | head -n 1)
			load1=$(cut -d ' ' -f 1 /proc/loadavg)
			echo "$p $s rep $r: marker ${m:-none} s ($accel, ${pad} MiB," \
			    "load $load0 before, $load1 after)" >&2
			echo "$load0 $load1" >> "$out/loads"
			echo "$p $s ${m:-}" >> "$out/times"
			[ -n "$accel" ] && echo "$accel" > "$out/accel"
			[ -n "$pad" ] && echo "$p $pad" >> "$out/pads"
		done
	done
done

echo
echo "| path | padding MiB | $(echo $servers | sed 's/ / | /g') |"
echo "|---|---|$(for s in $servers; do printf -- '---|'; done)"
for p in $paths; do
	printf '| %s | %s |' "$p" "$(awk -v p="$p" '$1 == p { v = $2 } END { print v }' "$out/pads" 2>/dev/null)"
	for s in $servers; do
		v=$(awk -v p="$p" -v s="$s" '$1 == p && $2 == s && NF == 3 { print $3 }' \
		    "$out/times" | median)
		n=$(awk -v p="$p" -v s="$s" '$1 == p && $2 == s && NF == 2' \
		    "$out/times" | wc -l)
		[ "$n" -gt 0 ] && v="$v (no marker in $n)"
		printf ' %s |' "$v"
	done
	echo
done
echo
echo "seconds from QEMU's start to OWLFW-MARKER, median of $reps;" \
    "$(cat "$out/accel" 2>/dev/null || echo '?'), $(nproc) cores," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "Linux $(uname -r); owltftpd $(cd "$src" && git rev-parse --short HEAD 2>/dev/null)," \
    "tftpd-hpa $(dpkg-query -W -f '${Version}' tftpd-hpa 2>/dev/null)," \
    "dnsmasq $(dpkg-query -W -f '${Version}' dnsmasq-base 2>/dev/null)"
echo "load average (1 min) around the boots: $(tr ' ' '\n' < "$out/loads" |
    sort -n | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//; s/ / to /')" \
    "(the guests and the server themselves make 1-2)"
echo "logs: $out"
