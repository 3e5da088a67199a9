#!/bin/bash
# bench/compare.sh: owltftpd against tftpd-hpa, atftpd, dnsmasq and owlbench's
# reflector (the machine's ceiling), on loopback, in one run.
#
#   bench/compare.sh [--quick] [--reps N] [--duration S] [--out DIR]
#                    [--owltftpd PATH] [--owlbench PATH] [--servers "a b c"]
#                    [--no-strace] [--no-hold] [--no-install]
#                    [--files "f1m f32m s64k"] [--hold-clients N]
#                    [--reflector-workers N]   (default 2, as owltftpd's workers)
#                    [--stopwait] [--no-syscalls] [--owltftpd-uring PATH]
#
# --stopwait is issue 14's A/B: the windowsize-1 cells (1 MiB, blksize
# 1468, 16 and 128 clients) and one windowed guard cell (128 clients,
# windowsize 16), 5 repetitions of 3 s, against owltftpd with 2 workers
# and with 1, each with the recvmmsg/sendmmsg and the io_uring backend
# (owltftpd-uring*: a binary of the branch uring, --owltftpd-uring PATH;
# left out when the binary has no such backend or the kernel refuses it),
# dnsmasq, atftpd and the reflector; then a pass under `perf stat` that
# counts each server's system calls per DATA block, with owltftpd's own
# per-block counters from `owlctl stats` beside them.
#
# Server names: owltftpd[-uring][-Nworker] run owltftpd with that backend
# and N workers (default mmsg and 2).
# Every cell of the matrix is run against every server in turn (the order
# rotates from one repetition to the next), --reps times; the summary gives
# medians and ratios.  Each server runs in its own CPU cgroup so that forked
# and threaded servers are counted fully.  A separate, clearly marked pass
# runs each server under `strace -c -f` to count syscalls per DATA block.
#
# Needs root (cgroups, apt-get).  Talks to 127.0.0.0/8 only.  Every load
# run is bounded by owlbench's --duration and --max-time.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

quick=0
reps=3
duration=
out=
owltftpd=
owltftpd_uring=
owlbench=
servers="owltftpd tftpd-hpa atftpd dnsmasq reflector"
do_strace=1
do_hold=1
do_install=1
stopwait=0
do_syscalls=1
reps_given=0
servers_given=0
hold_clients=10000
refl_workers=2
only_files="f1m f32m s64k"

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--reps) reps=$2; reps_given=1; shift ;;
	--duration) duration=$2; shift ;;
	--out) out=$2; shift ;;
	--owltftpd) owltftpd=$2; shift ;;
	--owltftpd-uring) owltftpd_uring=$2; shift ;;
	--owlbench) owlbench=$2; shift ;;
	--servers) servers=$2; servers_given=1; shift ;;
	--no-strace) do_strace=0 ;;
	--no-hold) do_hold=0 ;;
	--hold-clients) hold_clients=$2; shift ;;
	--no-install) do_install=0 ;;
	--files) only_files=$2; shift ;;
	--reflector-workers) refl_workers=$2; shift ;;
	--stopwait) stopwait=1 ;;
	--no-syscalls) do_syscalls=0 ;;
	-h|--help) sed -n '2,32p' "$0"; exit 0 ;;
	*) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

if [ $stopwait = 1 ]; then
	[ $reps_given = 1 ] || reps=5
	[ -n "$duration" ] || duration=3
	[ $servers_given = 1 ] || servers="owltftpd owltftpd-1worker owltftpd-uring \
owltftpd-uring-1worker dnsmasq atftpd reflector"
fi
[ -n "$duration" ] || duration=1.5
[ -n "$out" ] || out=$here/results/$(date +%Y-%m-%d-%H%M)
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/owlcompare.XXXXXX)
log=$out/run.log
: >"$log"

say() { echo "$*" | tee -a "$log"; }
die() { say "compare.sh: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (cgroups, apt-get, servers as root)"

# ---- what we need ---------------------------------------------------------

need_pkgs=
command -v in.tftpd >/dev/null || need_pkgs="$need_pkgs tftpd-hpa"
command -v dnsmasq >/dev/null || need_pkgs="$need_pkgs dnsmasq-base"
command -v gnuplot >/dev/null || need_pkgs="$need_pkgs gnuplot-nox"
command -v python3 >/dev/null || need_pkgs="$need_pkgs python3"
command -v strace >/dev/null || need_pkgs="$need_pkgs strace"
command -v cc >/dev/null || need_pkgs="$need_pkgs gcc"
if [ -n "$need_pkgs" ]; then
	[ $do_install = 1 ] || die "missing:$need_pkgs"
	say "installing:$need_pkgs"
	apt-get update -q >>"$log" 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y $need_pkgs >>"$log" 2>&1 ||
		die "apt-get install$need_pkgs failed"
fi
# atftpd conflicts with tftpd-hpa as a package: unpack it, do not install it.
atftpd_bin=$(command -v atftpd 2>/dev/null)
if [ -z "$atftpd_bin" ]; then
	adir=/var/tmp/owlbench-atftpd
	if [ ! -x $adir/x/usr/sbin/atftpd ]; then
		mkdir -p $adir
		(cd $adir && apt-get download atftpd >>"$log" 2>&1 && dpkg -x atftpd_*.deb x) ||
			{ apt-get update -q >>"$log" 2>&1; (cd $adir && apt-get download atftpd >>"$log" 2>&1 && dpkg -x atftpd_*.deb x); }
	fi
	[ -x $adir/x/usr/sbin/atftpd ] && atftpd_bin=$adir/x/usr/sbin/atftpd
fi

WARN="-Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
-Wmissing-declarations -Wwrite-strings -Wshadow -Wpointer-arith -Wundef \
-Wbad-function-cast -Wdeclaration-after-statement -Wno-unused-parameter"
if [ -z "$owlbench" ]; then
	owlbench=$work/owlbench
	${CC:-cc} -O2 -g $WARN -o "$owlbench" "$here"/common.c "$here"/gen.c \
	    "$here"/main.c "$here"/reflector.c || die "cannot build owlbench"
fi
if [ -z "$owltftpd" ]; then
	for p in "$top/src/owltftpd" "$top/build/src/owltftpd"; do
		[ -x "$p" ] && { owltftpd=$p; break; }
	done
fi
case " $servers " in *" owltftpd"*) [ -x "$owltftpd" ] || die "no owltftpd binary (--owltftpd PATH)";; esac
owlctl=$(dirname "$owltftpd")/owlctl
[ -n "$owltftpd_uring" ] || owltftpd_uring=$owltftpd
case " $servers " in *" atftpd "*) [ -n "$atftpd_bin" ] || { say "atftpd unavailable: skipped"; servers=${servers/atftpd/}; };; esac

# ---- cgroups: v1 cpuacct or v2 -----------------------------------------------

if [ -d /sys/fs/cgroup/cpuacct ] && [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
	cgbase=/sys/fs/cgroup/cpuacct; cgver=v1
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	cgbase=/sys/fs/cgroup; cgver=v2
else
	die "no cgroup v1 cpuacct nor v2 hierarchy"
fi
cgroup_of() { echo "$cgbase/owlbench-$1-$$"; }

# ---- the files ---------------------------------------------------------------

root=$work/root
mkdir -p "$root"
head -c 1048576 /dev/urandom >"$root/f1m"
head -c 33554432 /dev/urandom >"$root/f32m"
nsmall=256
for i in $(seq 0 $((nsmall - 1))); do head -c 65536 /dev/urandom >"$root/s64k.$i"; done
chmod -R a+rwX "$root"

# ---- servers -----------------------------------------------------------------

free_port() {
	local p
	for p in $(seq $((20000 + RANDOM % 20000)) 45000); do
		ss -Hun "sport = :$p" | grep -q . || { echo $p; return; }
	done
}
dns_addr=127.0.0.2
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6; do
	ss -Hun "src $a:69" | grep -q . || { dns_addr=$a; break; }
done

declare -A PID PORT ADDR
# start NAME: runs the server in its cgroup (the shell joins the cgroup and
# then execs the server, so every child it forks is counted).
start_server() {
	local name=$1 cg port addr=127.0.0.1
	cg=$(cgroup_of "$name")
	mkdir -p "$cg"
	case $name in
	owltftpd|owltftpd-*)
		local nworkers=2 backend= bin=$owltftpd
		[[ $name =~ -([0-9]+)worker ]] && nworkers=${BASH_REMATCH[1]}
		[[ $name == *-uring* ]] && { backend='io_backend = "uring";'; bin=$owltftpd_uring; }
		port=$(free_port)
		cat >"$work/$name.conf" <<-EOF
		root = "$root";
		listen = ["127.0.0.1"];
		port = $port;
		workers = $nworkers;
		$backend
		control_socket = "$work/$name.sock";
		pid_file = "$work/$name.pid";
		stats_interval_ms = 200;
		user = "root";
		log_level = "warning";
		blksize_max = 65464;
		windowsize_max = 64;
		uploads = "overwrite";
		upload_fsync = false;
		max_transfers = 16384;
		EOF
		sh -c "echo \$\$ > $cg/cgroup.procs && exec $bin -F -c $work/$name.conf" \
			2>>"$out/$name.log" &
		;;
	tftpd-hpa)
		port=$(free_port)
		sh -c "echo \$\$ > $cg/cgroup.procs && exec in.tftpd -L -s $root -a 127.0.0.1:$port -u root -c -p" \
			2>>"$out/tftpd-hpa.log" &
		;;
	atftpd)
		port=$(free_port)
		sh -c "echo \$\$ > $cg/cgroup.procs && exec $atftpd_bin --daemon --no-fork --port $port \
			--bind-address 127.0.0.1 --user root --group root --maxthread 2000 \
			--logfile $out/atftpd.log $root" 2>>"$out/atftpd.log" &
		;;
	dnsmasq)
		port=69; addr=$dns_addr
		sh -c "echo \$\$ > $cg/cgroup.procs && exec dnsmasq --keep-in-foreground --port=0 \
			--conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
			--listen-address=$addr --interface=lo --enable-tftp --tftp-root=$root \
			--tftp-max=2000 --quiet-tftp --edns-packet-max=70000 --user=root --group=root \
			--pid-file=$work/dnsmasq.pid --log-facility=$out/dnsmasq.log" 2>>"$out/dnsmasq.log" &
		;;
	reflector)
		port=$(free_port)
		sh -c "echo \$\$ > $cg/cgroup.procs && exec $owlbench --reflector -l 127.0.0.1 -p $port \
			-r $root --workers $refl_workers --max-time 7200" >>"$out/reflector.log" 2>&1 &
		;;
	esac
	PID[$name]=$!
	PORT[$name]=$port
	ADDR[$name]=$addr
	sleep 0.3
	# owltftpd's workers say at start whether their backend works.
	case $name in owltftpd*) sleep 0.7 ;; esac
	if ! kill -0 ${PID[$name]} 2>/dev/null; then
		if grep -q 'io_backend: unknown key' "$out/$name.log" 2>/dev/null; then
			say "server $name: this owltftpd has no io_uring backend" \
			    "(build the branch uring and pass --owltftpd-uring PATH); left out"
		else
			say "server $name did not start (see $out/$name.log)"
		fi
		return 1
	fi
	# A backend the kernel or the build refused would be measured under
	# the wrong name: leave it out.
	if grep -q 'io_uring unavailable' "$out/$name.log" 2>/dev/null; then
		say "server $name: $(grep -m1 'io_uring unavailable' "$out/$name.log"); left out"
		stop_server "$name"
		return 1
	fi
	say "started $name pid ${PID[$name]} on $addr:$port (cgroup $cg)"
}

stop_server() {
	local name=$1 pid=${PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	PID[$name]=
}

cleanup() {
	local s cg pid
	for s in $servers; do stop_server "$s"; done
	for s in $servers; do
		cg=$(cgroup_of "$s")
		[ -d "$cg" ] || continue
		# stray children (tftpd-hpa forks, which we started) die with it
		for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.3; done
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the matrix --------------------------------------------------------------
# A cell: op file clients blksize windowsize

cells=()
if [ $stopwait = 1 ]; then
	cells+=("RRQ f1m 16 1468 1" "RRQ f1m 128 1468 1" "RRQ f1m 128 1468 16")
	do_hold=0
	do_strace=0
elif [ $quick = 1 ]; then
	cells+=("RRQ f1m 1 1468 1" "RRQ f1m 128 1468 1" "RRQ f1m 128 1468 16"
		"RRQ f1m 512 1468 1" "RRQ f1m 16 8192 16" "RRQ s64k 128 1468 1"
		"RRQ f32m 16 1468 16" "WRQ f1m 16 1468 16")
else
	for f in $only_files; do
		for c in 1 16 128 512; do
			for b in 512 1468 8192; do
				for w in 1 16; do cells+=("RRQ $f $c $b $w"); done
			done
		done
	done
	case " $only_files " in *" f1m "*)
		cells+=("WRQ f1m 16 1468 1" "WRQ f1m 16 1468 16" "WRQ f1m 128 1468 16") ;;
	esac
fi

results=$out/runs.jsonl
: >"$results"

# run_one SERVER OP FILE CLIENTS BLKSIZE WINDOW REP [extra owlbench args]
run_one() {
	local s=$1 op=$2 f=$3 c=$4 b=$5 w=$6 rep=$7; shift 7
	local args=(-s "${ADDR[$s]}" -p "${PORT[$s]}" -r "$root" -c "$c" -b "$b" -w "$w"
		-d "$duration" --max-time 60 --cgroup "$(cgroup_of "$s")" -q)
	if [ "$f" = s64k ]; then args+=(-f s64k -k $nsmall); else args+=(-f "$f"); fi
	if [ "$op" = WRQ ]; then
		args+=(-u --upload-name "up-$s")
		[ "$s" = reflector ] && args+=(--no-verify-upload)
	fi
	local line
	line=$("$owlbench" "${args[@]}" "$@" --label "$s" 2>>"$log" | tail -1)
	if ! kill -0 "${PID[$s]}" 2>/dev/null; then
		say "!! $s died during $op $f c=$c b=$b w=$w rep=$rep; restarting it"
		line=${line:-"{}"}
		line=${line%\}},\"server_died\":1}
		start_server "$s"
	fi
	[ -n "$line" ] || line='{"label":"'$s'","error":"no output"}'
	echo "{\"server\":\"$s\",\"file\":\"$f\",\"rep\":$rep,${line#\{}" >>"$results"
}

supports() {	# server op
	[ "$2" = WRQ ] && [ "$1" = dnsmasq ] && return 1	# dnsmasq refuses uploads
	return 0
}

{
	echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "nproc: $(nproc)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "kernel: $(uname -r)"
	echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "cgroup: $cgver"
	echo "owltftpd: $owltftpd ($(cd "$top" && git rev-parse --short HEAD 2>/dev/null))"
	[ "$owltftpd_uring" = "$owltftpd" ] ||
		echo "owltftpd-uring*: $owltftpd_uring ($(cd "$(dirname "$owltftpd_uring")" &&
		    git rev-parse --short HEAD 2>/dev/null))"
	echo "tftpd-hpa: $(dpkg-query -W -f '${Version}' tftpd-hpa 2>/dev/null)"
	echo "atftpd: $(basename "$(ls /var/tmp/owlbench-atftpd/atftpd_*.deb 2>/dev/null | head -1)" .deb)"
	echo "dnsmasq: $(dpkg-query -W -f '${Version}' dnsmasq-base 2>/dev/null)"
	echo "matrix: ${#cells[@]} cells x $reps reps, ${duration}s per run, servers: $servers"
	echo "reflector: $refl_workers process(es); owltftpd: 2 workers (-Nworker: N)"
} >"$out/machine.txt"
cat "$out/machine.txt" | tee -a "$log"

for s in $servers; do start_server "$s" || servers=${servers/$s/}; done

# Another load on the machine makes every figure noisy: say so up front.
busy=$(awk -v n="$(nproc)" '{ print ($1 > n / 2) ? 1 : 0 }' /proc/loadavg)
if [ "$busy" = 1 ]; then
	say "WARNING: load average $(cut -d' ' -f1-3 /proc/loadavg) before the run: other work is"
	say "running on this machine; the figures will be noisy (see the load per cell in run.log)."
	echo "busy: load $(cut -d' ' -f1-3 /proc/loadavg) at start" >>"$out/machine.txt"
	ps -eo pcpu,comm --sort=-pcpu | head -8 >>"$log"
fi

t0=$(date +%s)
srv=($servers)
ncell=0
for cell in "${cells[@]}"; do
	ncell=$((ncell + 1))
	read -r op f c b w <<<"$cell"
	for rep in $(seq 1 "$reps"); do
		n=${#srv[@]}
		for i in $(seq 0 $((n - 1))); do
			s=${srv[$(((i + rep + ncell) % n))]}
			supports "$s" "$op" || continue
			run_one "$s" "$op" "$f" "$c" "$b" "$w" "$rep"
		done
	done
	say "[$(( $(date +%s) - t0 ))s] cell $ncell/${#cells[@]}: $op $f c=$c b=$b w=$w done (load $(cut -d' ' -f1-3 /proc/loadavg))"
done

# ---- 10,000 concurrent transfers held (owltftpd and the reflector) -----------

if [ $do_hold = 1 ] && [ $quick = 0 ]; then
	for s in owltftpd reflector; do
		case " $servers " in *" $s "*) ;; *) continue ;; esac
		say "hold: $hold_clients concurrent 1 MiB RRQs, windowsize 1, against $s (20 s)"
		(sleep 12; for p in $(cat "$(cgroup_of "$s")/cgroup.procs"); do
			echo "$s pid $p $(grep VmRSS /proc/$p/status)"; done) >"$out/hold-rss-$s.txt" 2>/dev/null &
		rsspid=$!
		line=$("$owlbench" -s "${ADDR[$s]}" -p "${PORT[$s]}" -r "$root" -f f1m -c "$hold_clients" \
			-b 1468 -w 1 -d 20 --max-time 60 --timeout 2000 --retries 6 \
			--cgroup "$(cgroup_of "$s")" -q --label "$s" 2>>"$log" | tail -1)
		wait $rsspid
		echo "{\"server\":\"$s\",\"file\":\"f1m\",\"rep\":0,\"hold\":1,${line#\{}" >>"$out/hold.jsonl"
		cat "$out/hold-rss-$s.txt" >>"$log"
		kill -0 "${PID[$s]}" 2>/dev/null || { say "!! $s died during the hold run"; start_server "$s"; }
	done
fi

# ---- syscall accounting: a separate run under strace -c -f -------------------
# strace slows every server down by an order of magnitude: these runs give
# syscall counts, never speed.

if [ $do_strace = 1 ] && [ $quick = 0 ]; then
	say "== syscall accounting (strace -c -f; not a speed measurement) =="
	for s in $servers; do
		[ "$s" = reflector ] && continue
		for w in 1 16; do
			st=$out/strace-$s-w$w.txt
			strace -c -f -o "$st" -p "${PID[$s]}" $(pgrep -P "${PID[$s]}" | sed 's/^/-p /') 2>>"$log" &
			spid=$!
			sleep 1
			line=$("$owlbench" -s "${ADDR[$s]}" -p "${PORT[$s]}" -r "$root" -f f1m -c 128 -b 1468 -w "$w" \
				-n 128 --max-time 120 --timeout 3000 -q --label "$s" 2>>"$log" | tail -1)
			kill -INT $spid 2>/dev/null; wait $spid 2>/dev/null
			echo "{\"server\":\"$s\",\"strace\":1,\"strace_file\":\"$(basename "$st")\",\"windowsize_req\":$w,${line#\{}" >>"$out/strace.jsonl"
			say "strace $s w=$w: $(tail -1 "$st")"
			kill -0 "${PID[$s]}" 2>/dev/null || { say "!! $s died under strace"; start_server "$s"; }
		done
	done
fi

# ---- syscalls per DATA block under perf stat (--stopwait) -------------------
# perf counts the system calls each server's processes enter (a tracepoint
# counter: a few per cent slower, so these runs are not speed figures), for
# a fixed number of transfers; owltftpd's own counters (owlctl stats) say
# which calls they were.

perf_events=
if [ $stopwait = 1 ] && [ $do_syscalls = 1 ]; then
	command -v perf >/dev/null || { say "perf missing: no syscall pass"; do_syscalls=0; }
fi
if [ $stopwait = 1 ] && [ $do_syscalls = 1 ]; then
	have=$(perf list 'syscalls:sys_enter_*' 2>/dev/null | awk '{ print $1 }')
	perf_events=raw_syscalls:sys_enter
	for sc in epoll_wait epoll_pwait recvmmsg sendmmsg recvfrom sendto recvmsg \
	    sendmsg read pread64 preadv poll ppoll select pselect6 io_uring_enter; do
		grep -qx "syscalls:sys_enter_$sc" <<<"$have" &&
			perf_events="$perf_events,syscalls:sys_enter_$sc"
	done
	say "== syscalls per DATA block (perf stat; not a speed measurement) =="
	owl_keys="data_out recvmmsg_calls sendmmsg_calls file_reads uring_enters"
	owl_stats() {	# NAME: "key=value ..." of owlctl stats totals
		local k v out
		out=$("$owlctl" -s "$work/$1.sock" -r stats 2>/dev/null)
		for k in $owl_keys; do
			v=$(printf '%s\n' "$out" | sed -n "s/^total\.$k=//p" | head -1)
			printf '"%s":%s,' "$k" "${v:-null}"
		done
	}
	for s in $servers; do
		for cell in "RRQ f1m 16 1468 1" "RRQ f1m 128 1468 1"; do
			read -r op f c b w <<<"$cell"
			pids=$(tr '\n' ',' <"$(cgroup_of "$s")/cgroup.procs" | sed 's/,$//')
			before=; after=
			case $s in owltftpd*) before=$(owl_stats "$s") ;; esac
			perf stat -x, -e "$perf_events" -p "$pids" -o "$out/perf-$s-c$c.txt" 2>>"$log" &
			ppid=$!
			sleep 0.5
			line=$("$owlbench" -s "${ADDR[$s]}" -p "${PORT[$s]}" -r "$root" -f "$f" -c "$c" -b "$b" \
				-w "$w" -n $((c * 4)) --max-time 120 -q --label "$s" 2>>"$log" | tail -1)
			kill -INT $ppid 2>/dev/null; wait $ppid 2>/dev/null
			case $s in owltftpd*) sleep 0.5; after=$(owl_stats "$s") ;; esac
			counts=$(awk -F, '$1 ~ /^[0-9]+$/ { n = split($3, a, ":"); printf "\"%s\":%s,", a[n], $1 }' \
				"$out/perf-$s-c$c.txt")
			echo "{\"server\":\"$s\",\"file\":\"$f\",\"perf\":{${counts%,}},\"owl_before\":{${before%,}},\"owl_after\":{${after%,}},${line#\{}" \
				>>"$out/syscalls.jsonl"
			say "perf $s c=$c: $(grep -m1 raw_syscalls "$out/perf-$s-c$c.txt" | cut -d, -f1) syscalls"
			kill -0 "${PID[$s]}" 2>/dev/null || { say "!! $s died under perf"; start_server "$s"; }
		done
	done
fi

say "matrix done in $(( $(date +%s) - t0 ))s; summarizing"
python3 "$here/summarize.py" "$out" 2>&1 | tee -a "$log"
say "results in $out"
