#!/bin/sh
# refusals.sh -- every refusal says why: for each reason the real daemon
# can be made to give on loopback, a request provoking it gets the
# expected ERROR (or, over request_rate, none), its log line and audit
# event carry the reason keyword, and its refused_KEYWORD counter goes up
# by exactly one while every other one stays put.  A remapped name is
# logged and audited as path beside the requested file.  The Prometheus
# text has the reasons as one labelled family, without the plain
# refused counter.  Each case comes from its own 127.0.0.x, so that
# request_rate only bites where it is meant to.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3

AUDIT=$T/audit.json
REASONS="acl remap_deny traversal not_found permission access uploads_off
    exists too_large busy client_limit rate bad_option bad_mode other"

mkfile "$ROOT/f.bin" 600
mkfile "$ROOT/big.bin" 200000
mkfile "$ROOT/private.bin" 100 && chmod 640 "$ROOT/private.bin"
mkdir "$ROOT/dir"
ln -s /etc/hostname "$ROOT/link-out"

SETTINGS=("audit_file = \"$AUDIT\"" 'workers = 1' 'uploads = "create"'
    'max_upload_size = 1000' 'max_transfers = 2'
    'max_transfers_per_client = 1' 'request_rate = 1' 'request_burst = 3'
    'timeout_ms = 3000' 'retries = 3'
    'read_acl = [ "deny 127.0.0.2", "allow all" ]'
    'remap = ( { match = "^secret"; action = "deny"; },
  { match = "^alias/(.*)$"; replace = "\\1"; } )')
write_conf "${SETTINGS[@]}"
start_server

# snap FILE: the refused_KEYWORD totals, one "KEYWORD VALUE" a line.
snap() {
	local s r
	s=$(ctl stats) || return 1
	for r in $REASONS; do
		echo "$r $(kv_get "$s" "total.refused_$r")"
	done > "$1"
}

# _deltas_are BEFORE KEYWORD=N...: the totals now are BEFORE's plus N
# for each KEYWORD named, the same for every other one.
_deltas_are() {
	local before=$1 r n want
	shift
	snap "$T/now" || return 1
	while read -r r n; do
		want=$n
		for d in "$@"; do
			[ "${d%%=*}" = "$r" ] && want=$((n + ${d#*=}))
		done
		[ "$(awk -v r="$r" '$1 == r { print $2 }' "$T/now")" = "$want" ] ||
		    return 1
	done < "$before"
}

# counted KEYWORD=N...: the counters moved by exactly that since $T/before.
counted() {
	if wait_for 3 _deltas_are "$T/before" "$@"; then
		ok "counters: $*"
		return 0
	fi
	fail "want $* more than $(tr '\n' ' ' < "$T/before"), got" \
	    "$(tr '\n' ' ' < "$T/now")"
}

# audit_has KEY=VALUE...: some audit event has every KEY=VALUE (strings).
_audit_has() {
	python3 - "$AUDIT" "$@" <<'PY'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
for line in open(sys.argv[1]):
    e = json.loads(line)
    if all(str(e.get(k)) == v or (k == "peer" and
           str(e.get(k, "")).startswith(v + ":")) for k, v in want.items()):
        sys.exit(0)
sys.exit(1)
PY
}
audit_has() {
	if wait_for 3 _audit_has "$@"; then
		ok "audit: $*"
		return 0
	fi
	fail "no audit event with $*"
}

# refusal REASON CODE SRC OP NAME MODE [OPT=VAL]...: the request from
# SRC gets ERROR CODE; the xfer end line and the audit event of NAME say
# REASON; refused_REASON goes up by one, no other.
refusal() {
	local reason=$1 code=$2 src=$3 name=$5
	shift 3
	check "$reason: $* from $src"
	snap "$T/before" || fail "owlctl stats failed"
	probe_from "$src" "$@"
	expect_reply "ERROR $code *"
	wait_xfer "$name" "result=refused code=$code reason=$reason( |\$)" 1 5
	audit_has event=refused file="$name" reason="$reason"
	counted "$reason=1"
}

refusal acl 2 127.0.0.2 rrq f.bin octet
refusal remap_deny 2 127.0.0.11 rrq secret.txt octet
refusal traversal 2 127.0.0.12 rrq ../etc/passwd octet
refusal traversal 2 127.0.0.12 rrq .owltftpd.x octet
refusal not_found 1 127.0.0.13 rrq nosuch.bin octet
refusal permission 2 127.0.0.14 rrq private.bin octet
check "permission: the detail in the log line and the audit event"
wait_xfer private.bin 'reason=permission detail="not world-readable"$'
audit_has file=private.bin reason=permission detail="not world-readable"
refusal access 2 127.0.0.15 rrq dir octet
refusal access 2 127.0.0.15 rrq link-out octet
refusal exists 6 127.0.0.16 wrq f.bin octet
refusal too_large 3 127.0.0.17 wrq up.bin octet tsize=5000
refusal bad_option 8 127.0.0.18 rrq f.bin octet blksize=1
refusal bad_mode 4 127.0.0.19 rrq f.bin mail

check "a remapped name: path= beside file= in the log, \"path\" in the audit"
refusal not_found 1 127.0.0.20 rrq alias/nosuch.bin octet
wait_xfer alias/nosuch.bin 'file=alias/nosuch.bin path=nosuch.bin mode='
audit_has file=alias/nosuch.bin path=nosuch.bin reason=not_found
refusal traversal 2 127.0.0.20 rrq alias/../x octet
audit_has file=alias/../x path=../x reason=traversal
check "a name the rules left alone has no path"
raw xget 127.0.0.1 "$PORT" f.bin --src 127.0.0.21 --expect "$ROOT/f.bin" \
    > /dev/null ||
    fail "download failed"
wait_xfer f.bin 'result=ok'
xfer_lines f.bin | grep -q 'path=' && fail "path= on $(xfer_lines f.bin)"

# "request from 127.0.0.31:PORT refused: WHY reason=KEYWORD"
_worker_logged() {
	grep -aqE "request from $(re_escape "$1"):[0-9]+ refused: .* reason=$2\$" \
	    "$LOG"
}
worker_logged() {
	if wait_for 3 _worker_logged "$1" "$2"; then
		ok "log: request from $1 refused ... reason=$2"
		return 0
	fi
	fail "no 'request from $1 ... refused: ... reason=$2' line"
}

check "client_limit: a second transfer from 127.0.0.31 while one is held"
snap "$T/before" || fail "owlctl stats failed"
raw hold 127.0.0.1 "$PORT" big.bin --src 127.0.0.31 --count 2 \
    > "$T/hold" 2>&1
sed 's/^/    /' "$T/hold"
grep -qE '^req 1: DATA 1 ' "$T/hold" && grep -qE '^req 2: ERROR 0 ' "$T/hold" &&
    ok "held, then ERROR 0" || fail "got: $(cat "$T/hold")"
worker_logged 127.0.0.31 client_limit
audit_has event=refused peer=127.0.0.31 reason=client_limit error_code=0
counted client_limit=1

check "busy: a third transfer while max_transfers = 2 are held"
snap "$T/before" || fail "owlctl stats failed"
raw hold 127.0.0.1 "$PORT" big.bin --src 127.0.0.32 --count 1 \
    --then 127.0.0.33 --then 127.0.0.34 > "$T/hold" 2>&1
sed 's/^/    /' "$T/hold"
grep -qE '^then 127.0.0.34: ERROR 0 server busy' "$T/hold" &&
    ok "ERROR 0 server busy" || fail "got: $(cat "$T/hold")"
worker_logged 127.0.0.34 busy
audit_has event=refused peer=127.0.0.34 reason=busy error_code=0
counted busy=1

check "rate: 4 requests at once from 127.0.0.41 with request_burst = 3"
snap "$T/before" || fail "owlctl stats failed"
raw burst 127.0.0.1 "$PORT" missing --src 127.0.0.41 --count 4 --wait 400 \
    --expect 3 || fail "not 3 answers of 4"
worker_logged 127.0.0.41 rate
audit_has event=refused peer=127.0.0.41 reason=rate result=dropped
# The 3 answered were ERROR 1: not found.
counted rate=1 not_found=3

check "Prometheus: one owltftpd_refused_total family by reason, no plain refused"
ctl stats prometheus > "$T/prom" || fail "owlctl stats prometheus failed"
s=$(ctl stats)
bad=
for r in $REASONS; do
	v=$(kv_get "$s" "total.refused_$r")
	grep -qx "owltftpd_refused_total{reason=\"$r\"} $v" "$T/prom" ||
	    bad="$bad $r=$v"
	grep -q "^owltftpd_worker_refused_total{slot=\"0\".*,reason=\"$r\"} " \
	    "$T/prom" || bad="$bad worker:$r"
done
[ "$(grep -c '^# TYPE owltftpd_refused_total counter$' "$T/prom")" = 1 ] ||
    bad="$bad TYPE"
grep -q '^owltftpd_refused_total ' "$T/prom" && bad="$bad unlabelled"
grep -q '^owltftpd_refused_[a-z_]*_total' "$T/prom" && bad="$bad per-reason family"
[ -z "$bad" ] && ok || fail "wrong:$bad"
check "owlctl stats keeps refused: the reasons answered with an ERROR"
sum=0
for r in $REASONS; do
	[ "$r" = rate ] && continue
	sum=$((sum + $(kv_get "$s" "total.refused_$r")))
done
[ "$(kv_get "$s" total.refused)" = "$sum" ] && ok "refused=$sum" ||
    fail "refused=$(kv_get "$s" total.refused), the reasons add up to $sum"

check "uploads_off: after a reload with uploads = \"off\""
write_conf "${SETTINGS[@]/uploads = \"create\"/uploads = \"off\"}"
ctl reload > /dev/null || fail "reload failed"
wait_for_workers 2 1 || fail "no worker of generation 2"
refusal uploads_off 2 127.0.0.51 wrq new.bin octet
[ -e "$ROOT/new.bin" ] && fail "new.bin was created"

stop_server
finish
