#!/bin/bash
# failsafe.sh -- a reload, a start or a second server that cannot work
# never takes service away, and says why.
# (a) owltftpd -t refuses each semantically bad configuration (missing
#     root, a regular file as root, a root the worker user cannot search,
#     unknown user, unknown group, chroot into such a root, a log_file or
#     control_socket directory that does not exist) with exit 1 and
#     "FILE: key: problem".
# (b) With 12 paced downloads in flight, "owlctl reload" with each of
#     those configurations, and with one only the new workers can find
#     wrong (every port of port_range taken), exits non-zero with the
#     reason; the running workers keep their pids and generation,
#     status shows reload.error, new requests are answered throughout,
#     and every download completes byte-exact.  SIGHUP with a bad root
#     is logged and changes nothing.  A good reload then commits
#     (generation 2) and clears reload.error.
# (c) A daemon start (no -F) with a bad root, and with every transfer
#     port taken (seen only by the workers), exits 1 with the reason on
#     standard error and leaves no process, pid file or socket; in the
#     foreground (-F) the master exits 1 with the reason.
# (d) A second owltftpd (own pid file and control socket) on the port of
#     a running one exits 1 naming the port, as does one whose port a
#     plain UDP socket holds; the first keeps serving and reloads.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd curl python3 cmp
py_resolve

NLOAD=12
BIG=262144		# 512 paced blocks: seconds per download
mkfile "$ROOT/big.bin" $BIG
mkfile "$ROOT/small.bin" 3000
mkdir "$T/closed" && chmod 700 "$T/closed" || exit 99
: > "$T/plainfile"
getent passwd nobody > /dev/null || { echo "SKIP: no user nobody" >&2; exit 77; }

# A port range whose every port a helper process holds (for the failure
# only new workers can see).
BUSY_LO=$((20000 + RANDOM % 20000))
BUSY_HI=$((BUSY_LO + 3))
"${PYTHON_EXE:-python3}" "$RAWTFTP" holdports 0.0.0.0 "$BUSY_LO" \
    --count $((BUSY_HI - BUSY_LO + 1)) --seconds 600 > "$T/busy.out" 2>&1 &
BUSY_PID=$!
_busy_ready() { grep -q held "$T/busy.out"; }
wait_for 10 _busy_ready || die "cannot hold ports $BUSY_LO-$BUSY_HI"
trap 'rc=$?; kill $BUSY_PID 2>/dev/null; (exit $rc); cleanup' EXIT

# bad_case NAME: the settings that make a configuration bad in one way,
# and the text its error must contain.
bad_settings() {
	case $1 in
	noroot)	echo "root = \"$T/no-such-root\"" ;;
	fileroot) echo "root = \"$T/plainfile\"" ;;
	closed)	echo "root = \"$T/closed\";user = \"nobody\"" ;;
	nouser)	echo 'user = "no-such-user-owl"' ;;
	nogroup) echo 'group = "no-such-group-owl"' ;;
	chroot)	echo "root = \"$T/closed\";user = \"nobody\";chroot = true" ;;
	nologdir) echo "log_file = \"$T/no-such-dir/owl.log\"" ;;
	noctldir) echo "control_socket = \"$T/no-such-dir/ctl.sock\"" ;;
	busyports) echo "port_range = \"$BUSY_LO:$BUSY_HI\"" ;;
	esac
}
bad_reason() {
	case $1 in
	noroot)	echo "root: $T/no-such-root: No such file or directory" ;;
	fileroot) echo "root: $T/plainfile: Not a directory" ;;
	closed)	echo "root: $T/closed: the worker user nobody cannot search" ;;
	nouser)	echo 'user: no-such-user-owl: no such user' ;;
	nogroup) echo 'group: no-such-group-owl: no such group' ;;
	chroot)	echo "root: $T/closed: the worker user nobody cannot search" ;;
	nologdir) echo "log_file: directory $T/no-such-dir: No such file" ;;
	noctldir) echo "control_socket: directory $T/no-such-dir: No such" ;;
	busyports) echo "port_range: $BUSY_LO:$BUSY_HI: no free port" ;;
	esac
}

# write_bad NAME [SETTING...]: $CONF with case NAME's settings.
write_bad() {
	local IFS=';' name=$1
	shift
	# shellcheck disable=SC2046
	write_conf $(bad_settings "$name") "$@"
}

# ---------------------------------------------------------------- (a) -t
for c in noroot fileroot closed nouser nogroup chroot nologdir noctldir; do
	check "owltftpd -t refuses '$c'"
	write_bad $c
	out=$("$OWLTFTPD" -t -c "$CONF" 2>&1)
	rc=$?
	want="$CONF: $(bad_reason $c)"
	if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -qF "$want"; then
		ok "$out"
	else
		fail "status $rc, output '$out' (want 1 and '$want')"
	fi
done
check "owltftpd -t accepts the good configuration"
write_conf
out=$("$OWLTFTPD" -t -c "$CONF" 2>&1) && ok || fail "status $?: $out"

# ---------------------------------------------------------------- (b) reload
write_conf
cp "$CONF" "$T/good.conf"
start_server
MASTER=$SERVER_PID
wait_for_workers 1 2 5 || die "workers: $(ctl_workers | tr '\n' ';')"
PIDS0=$(ctl_workers | awk '{ print $2 }' | sort | tr '\n' ' ')

check "$NLOAD paced downloads in flight"
pids=
for i in $(seq 1 $NLOAD); do
	slow_get big.bin "$OUT/big-$i" 8 > "$T/big-$i.err" 2>&1 &
	pids="$pids $!"
done
_live_ge() {
	[ "$(ctl -r transfers 2>/dev/null | grep -c '\.file=big\.bin$')" \
	    -ge "$1" ]
}
wait_for 10 _live_ge $NLOAD && ok || fail "not all $NLOAD in flight"

NOK=0
for c in noroot fileroot closed nouser nogroup chroot busyports; do
	check "owlctl reload with '$c': refused with the reason, nothing changes"
	write_bad $c
	out=$(ctl reload 2>&1)
	rc=$?
	want="$CONF: $(bad_reason $c)"
	f0=$FAILS
	[ $rc -ne 0 ] || fail "owlctl reload exited 0: '$out'"
	printf '%s\n' "$out" | grep -qF "$want" ||
	    fail "owlctl said '$out' (want '$want')"
	st=$(ctl -r status 2>/dev/null)
	[ "$(kv_get "$st" generation)" = 1 ] ||
	    fail "generation is $(kv_get "$st" generation), want 1"
	kv_get "$st" reload.error | grep -qF "$want" ||
	    fail "status reload.error='$(kv_get "$st" reload.error)'"
	pids_now=$(ctl_workers | awk '$4 == "running" { print $2 }' | sort |
	    tr '\n' ' ')
	[ "$pids_now" = "$PIDS0" ] ||
	    fail "running workers changed: '$pids_now' (were '$PIDS0')"
	rawq get 127.0.0.1 "$PORT" small.bin --expect "$ROOT/small.bin" \
	    > "$T/get-$c.out" 2>&1 || fail "a new request failed: $(cat \
	    "$T/get-$c.out")"
	[ "$FAILS" -eq "$f0" ] && ok "$out" && NOK=$((NOK + 1))
done

check "SIGHUP with a missing root: logged, nothing changes"
write_bad noroot
kill -HUP "$MASTER"
_hup_logged() {
	grep -aqF "reload failed, generation 1 keeps serving: $CONF:\
 $(bad_reason noroot)" "$LOG"
}
wait_for 10 _hup_logged &&
    ok "$(grep -aF 'reload failed' "$LOG" | tail -n 1)" ||
    fail "no 'reload failed, generation 1 keeps serving: $CONF:" \
    "$(bad_reason noroot)' in the log"
[ "$(ctl_val generation status)" = 1 ] || fail "generation changed"

check "every download in flight completed byte-exact"
nbad=0
i=0
for p in $pids; do
	i=$((i + 1))
	if ! wait "$p" || ! cmp -s "$ROOT/big.bin" "$OUT/big-$i"; then
		nbad=$((nbad + 1))
		sed 's/^/    /' "$T/big-$i.err" | head -n 3
	fi
done
[ $nbad -eq 0 ] && ok "$NLOAD of $NLOAD identical" ||
    fail "$nbad of $NLOAD downloads failed or differ"

check "a good reload commits: generation 2, reload.error cleared"
cp "$T/good.conf" "$CONF"
out=$(ctl reload 2>&1) || fail "owlctl reload: $out"
[ "$(kv_get "$out" generation)" = 2 ] || fail "answer '$out'"
st=$(ctl -r status 2>/dev/null)
[ -z "$(kv_get "$st" reload.error)" ] ||
    fail "reload.error still '$(kv_get "$st" reload.error)'"
wait_for_workers 2 2 10 && ok "$(ctl_workers | tr '\n' ';')" ||
    fail "workers: $(ctl_workers | tr '\n' ';')"
rawq get 127.0.0.1 "$PORT" small.bin --expect "$ROOT/small.bin" \
    > /dev/null 2>&1 || fail "a download after the reload failed"

# ---------------------------------------------------------------- (d) port
check "a second server on the same port is refused (exit 1, the port named)"
FIRST_PORT=$PORT
write_conf "port = $FIRST_PORT" "pid_file = \"$T/second.pid\"" \
    "control_socket = \"$T/second.sock\""
out=$(timeout -k 2 20 "$OWLTFTPD" -c "$CONF" 2>&1 < /dev/null)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -qF \
    "listen 127.0.0.1: the port is already in use by another process"; then
	ok "$(printf '%s\n' "$out" | tail -n 1)"
else
	fail "status $rc: '$out'"
fi
[ -e "$T/second.pid" ] && fail "the second server left its pid file"
[ -e "$T/second.sock" ] && fail "the second server left its socket"
check "the first server still serves every request and reloads"
nnone=0
for i in 1 2 3 4 5 6 7 8; do
	rawq get 127.0.0.1 "$FIRST_PORT" small.bin --expect \
	    "$ROOT/small.bin" > /dev/null 2>&1 || nnone=$((nnone + 1))
done
cp "$T/good.conf" "$CONF"
out=$(ctl reload 2>&1) || fail "owlctl reload: $out"
[ $nnone -eq 0 ] && [ "$(kv_get "$out" generation)" = 3 ] &&
    ok "8 of 8 answered; $out" || fail "$nnone of 8 failed; reload '$out'"
stop_server

check "a port a plain UDP socket holds is refused"
"${PYTHON_EXE:-python3}" "$RAWTFTP" holdports 127.0.0.1 0 --seconds 60 \
    > "$T/holder.out" 2>&1 &
HOLDER=$!
_holder_ready() { [ -s "$T/holder.out" ]; }
wait_for 10 _holder_ready || die "the port holder did not start"
HPORT=$(sed -n 's/^held //p' "$T/holder.out")
write_conf "port = $HPORT"
out=$(timeout -k 2 20 "$OWLTFTPD" -F -c "$CONF" 2>&1 < /dev/null)
rc=$?
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
[ $rc -eq 1 ] && printf '%s\n' "$out" | grep -qF "already in use" &&
    ok "$(printf '%s\n' "$out" | tail -n 1)" || fail "status $rc: '$out'"

# ---------------------------------------------------------------- (c) start
for c in noroot busyports; do
	check "a daemon start with '$c' exits 1 with the reason, leaves nothing"
	write_bad $c
	out=$(timeout -k 2 30 "$OWLTFTPD" -c "$CONF" 2>&1 < /dev/null)
	rc=$?
	want="$CONF: $(bad_reason $c)"
	f0=$FAILS
	[ $rc -eq 1 ] || fail "status $rc (want 1)"
	printf '%s\n' "$out" | grep -qF "$want" ||
	    fail "stderr '$out' (want '$want')"
	# The master may still be reaping its workers for a moment.
	_gone() { [ ! -e "$T/owltftpd.pid" ] && [ ! -e "$T/control.sock" ]; }
	wait_for 10 _gone || fail "pid file or control socket left behind"
	[ "$FAILS" -eq "$f0" ] && ok "$(printf '%s\n' "$out" | tail -n 1)"

	check "a foreground start with '$c' exits 1 with the reason"
	out=$(timeout -k 2 30 "$OWLTFTPD" -F -c "$CONF" 2>&1 < /dev/null)
	rc=$?
	[ $rc -eq 1 ] && printf '%s\n' "$out" | grep -qF "$want" &&
	    ok "status 1" || fail "status $rc, output '$out'"
done

check "all $NOK reload cases refused cleanly"
[ "$NOK" -eq 7 ] && ok || fail "$NOK of 7"
finish
