#!/bin/bash
# audit.sh -- the audit log: every event kind appears, with every
# documented field (docs/logging.md), each line parses as JSON, client
# strings with quotes, control bytes and invalid UTF-8 stay valid JSON,
# the file is reopened on SIGUSR1, and log_format = "json" puts the
# events in the log instead of text lines.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 tftp

printf 'hello audit\n' > "$ROOT/hello.txt"
AUDIT=$T/audit.json
write_conf "audit_file = \"$AUDIT\"" 'log_format = "json"' \
    'uploads = "create"'
start_server

check "a download, refused requests with hostile names, a reload"
hpa_get hello.txt "$OUT/h1" && same "$ROOT/hello.txt" "$OUT/h1" ||
    fail "download failed"
python3 - "$PORT" <<'PY' || fail "raw requests failed"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for name in [b'q"uo\\te', b'ctl\x01\x1b\x7f', b'bad\xff\xfe\xc3', b'ok\xc3\xa9',
             b'\x01' * 250]:
    s.sendto(b'\x00\x01' + name + b'\x00octet\x00', ('127.0.0.1', int(sys.argv[1])))
    p, _ = s.recvfrom(600)
    assert p[:2] == b'\x00\x05', p
PY
timeout 10 "$OWLCTL" -s "$T/control.sock" reload > /dev/null ||
    fail "reload failed"
ok

check "SIGUSR1 reopens the audit file"
mv "$AUDIT" "$AUDIT.1"
kill -USR1 "$SERVER_PID"
wait_for 5 test -s "$AUDIT" || true
hpa_get hello.txt "$OUT/h2" && same "$ROOT/hello.txt" "$OUT/h2" ||
    fail "download after reopen failed"
wait_for 5 grep -q '"event":"transfer"' "$AUDIT" ||
    fail "no transfer event in the reopened file"
ok
stop_server

check "every line is JSON with the documented fields"
cat "$AUDIT.1" "$AUDIT" > "$T/all.json"
python3 - "$T/all.json" <<'PY' || fail "audit lines are not as documented"
import json, sys, re
common = {"ts", "event", "worker"}
need = {
    "transfer": {"peer", "file", "op", "mode", "options", "bytes",
                 "duration_ms", "retransmits", "result", "error_code"},
    "refused": {"peer", "result"},
    "reload": {"generation", "result"},
    "worker_start": {"slot", "pid", "generation"},
    "worker_exit": {"slot", "pid", "generation"},
    "server_start": {"version", "pid", "generation"},
    "server_stop": {"version", "pid", "generation"},
}
seen = {}
files = []
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    ev = json.loads(line)
    assert common <= ev.keys(), (n, line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["ts"]), ev["ts"]
    kind = ev["event"]
    assert kind in need, kind
    missing = need[kind] - ev.keys()
    assert not missing, (kind, missing)
    seen[kind] = seen.get(kind, 0) + 1
    if "file" in ev:
        files.append(ev["file"])
for kind in need:
    assert seen.get(kind), "no %s event" % kind
for want in ['q"uo\\te', 'ctl\x01\x1b\x7f', 'bad\u00ff\u00fe\u00c3', 'ok\u00e9']:
    assert want in files, (want, files)
t = [json.loads(l) for l in open(sys.argv[1]) if '"transfer"' in l][0]
assert t["file"] == "hello.txt" and t["result"] == "ok" and t["bytes"] == 12, t
assert t["mode"] == "octet" and t["op"] == "rrq", t
print("events:", seen)
PY
ok

check "log_format json: the log carries the events as JSON, whole"
# The longest event here is the refusal of 250 control bytes, each
# written \u0001: it must reach the log whole, not cut at some size.
grep -a '"event":"' "$LOG" | sed 's/^[^{]*//' | python3 -c '
import json, sys
n = 0
long_name = False
for l in sys.stdin:
    ev = json.loads(l); n += ev["event"] == "transfer"
    long_name |= ev.get("file") == "\x01" * 250
assert n >= 2, n
assert long_name, "no event with the 250-byte name"
' || fail "no parsable JSON transfer events in the log"
if grep -a 'xfer end' "$LOG" > /dev/null; then
	fail "text transfer lines in a json log"
fi
ok

finish
