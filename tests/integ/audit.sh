#!/bin/bash
# audit.sh -- the audit log: every event kind appears, each line parses
# as JSON, and the fields are exactly those docs/logging.md documents
# (read from its tables: every documented field of a kind appears in one
# of its events, no event has a field the page does not list, and each
# has the documented type); client strings with quotes, control bytes
# and invalid UTF-8 stay valid JSON; the file is reopened on SIGUSR1 and
# by owlctl reopen; log_format = "json" puts the events in the log
# instead of text lines.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${TESTS_SRCDIR:-$(dirname "$0")/..}/lib.sh"

need_cmd python3 tftp

DOC=$TESTS_SRCDIR/../docs/logging.md
[ -r "$DOC" ] || die "cannot read $DOC"
printf 'hello audit\n' > "$ROOT/hello.txt"
printf 'private\n' > "$ROOT/private.txt" && chmod 600 "$ROOT/private.txt"
mkfile "$ROOT/big.bin" 200000
AUDIT=$T/audit.json
# One worker: the per-client limit and the killed worker are then
# about the one worker there is.
# The remap rule and max_upload_size give the events a "path", and a
# transfer (cut over the size) a "reason".
SETTINGS=("audit_file = \"$AUDIT\"" 'log_format = "json"'
    'uploads = "create"' 'workers = 1' 'max_transfers_per_client = 1'
    'max_upload_size = 100000'
    'remap = ( { match = "^alias/(.*)$"; replace = "\\1"; } )')
write_conf "${SETTINGS[@]}"
start_server

check "a download, refused requests with hostile names, a reload"
hpa_get hello.txt "$OUT/h1" && same "$ROOT/hello.txt" "$OUT/h1" ||
    fail "download failed"
raw get 127.0.0.1 "$PORT" private.txt --expect-error 2 ||
    fail "private.txt (600) not refused by permission_check"
raw oddnames 127.0.0.1 "$PORT" > "$T/oddnames.out" ||
    fail "raw requests failed: $(grep FAIL "$T/oddnames.out")"
hpa_get alias/hello.txt "$OUT/h0" && same "$ROOT/hello.txt" "$OUT/h0" ||
    fail "download through the remap rule failed"
raw get 127.0.0.1 "$PORT" alias/nosuch.txt --expect-error 1 ||
    fail "alias/nosuch.txt not refused with ERROR 1"
raw put 127.0.0.1 "$PORT" up.bin "$ROOT/big.bin" --expect-error 3 ||
    fail "an upload over max_upload_size not cut with ERROR 3"
ctl reload > /dev/null || fail "reload failed"
ok

check "a transfer the client ends with ERROR; a second one from its address is refused meanwhile"
raw percap 127.0.0.1 "$PORT" big.bin hello.txt > "$T/percap.out" ||
    fail "the held transfer went wrong: $(grep FAIL "$T/percap.out")"
ok

check "a reload with a bad configuration fails and is an event"
write_conf "${SETTINGS[@]}" 'no_such_key = 1'
if ctl reload > "$T/badreload.out" 2>&1; then
	fail "reload of a bad configuration succeeded"
else
	ok "$(head -n 1 "$T/badreload.out")"
fi
write_conf "${SETTINGS[@]}"

check "a worker killed by a signal is replaced"
wpid=$(workers 1)
[ -n "$wpid" ] || die "no worker"
kill -s KILL "$wpid"
_replaced() {
	local p
	p=$(workers)
	[ -n "$p" ] && [ "$p" != "$wpid" ]
}
wait_for 10 _replaced && ok "worker $wpid replaced by $(workers)" ||
    fail "worker $wpid was not replaced"

check "SIGUSR1 reopens the audit file"
mv "$AUDIT" "$AUDIT.1"
kill -USR1 "$SERVER_PID"
hpa_get hello.txt "$OUT/h2" && same "$ROOT/hello.txt" "$OUT/h2" ||
    fail "download after reopen failed"
wait_for 5 grep -q '"event":"transfer"' "$AUDIT" &&
    ok "a transfer event in the new file" ||
    fail "no transfer event in the reopened file"

check "owlctl reopen reopens the audit file"
mv "$AUDIT" "$AUDIT.2"
ctl reopen > /dev/null || fail "owlctl reopen failed"
hpa_get hello.txt "$OUT/h3" && same "$ROOT/hello.txt" "$OUT/h3" ||
    fail "download after owlctl reopen failed"
wait_for 5 grep -q '"event":"transfer"' "$AUDIT" &&
    ok "a transfer event in the new file" ||
    fail "no transfer event in the file owlctl reopen opened"
stop_server

check "every line is JSON with exactly the fields docs/logging.md documents"
cat "$AUDIT.1" "$AUDIT.2" "$AUDIT" > "$T/all.json"
if python3 - "$T/all.json" "$DOC" <<'PY'; then
import json, re, sys

# The page: each "## " section names its events in backquotes (none: the
# fields common to every event) and lists fields as "| `name` | type |".
doc = {}                # event -> {field: type}
common = {}
kinds = None
for line in open(sys.argv[2]):
    if line.startswith("## "):
        names = re.findall(r"`([a-z_]+)`", line)
        kinds = names if names else None
        continue
    m = re.match(r"\| `([a-z_]+)` \| (string|integer|object) \| (.*)", line)
    if not m:
        continue
    if kinds is None:
        common[m.group(1)] = m.group(2)
        continue
    # "`worker_exit` only, ...": a field of one of the section's events.
    only = re.match(r"`([a-z_]+)` only", m.group(3))
    for k in [only.group(1)] if only else kinds:
        doc.setdefault(k, {})[m.group(1)] = m.group(2)
assert set(common) == {"ts", "event", "worker"}, common
kinds_listed = re.findall(r"`([a-z_]+)`", [l for l in open(sys.argv[2])
                                           if l.startswith("| `event`")][0])[1:]
assert set(kinds_listed) == set(doc), (kinds_listed, sorted(doc))
types = {"string": str, "integer": int, "object": dict}

# Always there, whatever the outcome.
need = {
    "transfer": {"peer", "file", "op", "mode", "options", "bytes",
                 "duration_ms", "retransmits", "dup", "send_failed",
                 "result", "error_code"},
    "refused": {"peer", "result"},
    "reload": {"generation", "result"},
    "worker_start": {"slot", "pid", "generation"},
    "worker_exit": {"slot", "pid", "generation"},
    "server_start": {"version", "pid", "generation"},
    "server_stop": {"version", "pid", "generation"},
}
seen = {}
fields_seen = {}
files = []
events = []
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    ev = json.loads(line)
    events.append(ev)
    kind = ev.get("event")
    assert kind in doc, (n, kind)
    allowed = dict(common, **doc[kind])
    extra = set(ev) - set(allowed)
    assert not extra, ("undocumented fields", kind, extra, n)
    for k, v in ev.items():
        assert isinstance(v, types[allowed[k]]) and not isinstance(v, bool), \
            (kind, k, v)
    missing = (need[kind] | set(common)) - ev.keys()
    assert not missing, (kind, missing, n)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["ts"]), ev["ts"]
    seen[kind] = seen.get(kind, 0) + 1
    fields_seen.setdefault(kind, set()).update(ev)
    if "file" in ev:
        files.append(ev["file"])
for kind in doc:
    if kind == "log":       # the log only, never audit_file
        assert not seen.get(kind), "log events in audit_file"
        continue
    assert seen.get(kind), "no %s event" % kind
    never = set(doc[kind]) - fields_seen[kind]
    assert not never, ("documented, never seen", kind, never)

for want in ['q"uo\\te', 'ctl\x01\x1b\x7f', 'bad\u00ff\u00fe\u00c3', 'ok\u00e9']:
    assert want in files, (want, files)
t = [e for e in events if e["event"] == "transfer" and "path" not in e][0]
assert t["file"] == "hello.txt" and t["result"] == "ok" and t["bytes"] == 12, t
assert t["mode"] == "octet" and t["op"] == "rrq" and t["error_code"] == 0, t
assert "error" not in t, t
held = [e for e in events if e["event"] == "transfer" and e["file"] == "big.bin"]
assert len(held) == 1 and held[0]["result"] == "peer_error", held
assert held[0]["error"] == 'changed "my" mind\u00ff', held   # its own words
limited = [e for e in events if e["event"] == "refused" and "file" not in e]
assert any(e["result"] == "refused" and e["error_code"] == 0 and
           "too many" in e["error"] and e["reason"] == "client_limit"
           for e in limited), limited
# Every refusal says why; a remapped name is shown beside the request.
assert all(e.get("reason") for e in events if e["event"] == "refused"), events
perm = [e for e in events if e.get("file") == "private.txt"]
assert perm[0]["reason"] == "permission", perm
assert perm[0]["detail"] == "not world-readable", perm
alias = [(e["event"], e["file"], e["path"], e.get("reason")) for e in events
         if "path" in e]
assert ("transfer", "alias/hello.txt", "hello.txt", None) in alias, alias
assert ("refused", "alias/nosuch.txt", "nosuch.txt", "not_found") in alias, alias
cut = [e for e in events if e.get("file") == "up.bin"]
assert cut[0]["event"] == "transfer" and cut[0]["result"] == "error", cut
assert cut[0]["reason"] == "too_large" and cut[0]["error_code"] == 3, cut
for e in events:
    if e.get("file") in ('ctl\x01\x1b\x7f', '\x01' * 250):
        assert e["reason"] == "traversal", e
reloads = [(e["result"], e.get("error", "")) for e in events
           if e["event"] == "reload"]
assert reloads[0] == ("ok", ""), reloads
assert reloads[1][0] == "error" and "no_such_key" in reloads[1][1], reloads
exits = [e for e in events if e["event"] == "worker_exit"]
assert any(e.get("signal") == 9 for e in exits), exits
assert any(e.get("exit_code") == 0 for e in exits), exits
print("events:", seen)
PY
	ok
else
	fail "audit lines are not as documented"
fi

check "log_format json: every log line is JSON; the events whole"
# The longest event here is the refusal of 250 control bytes, each
# written \u0001: it must reach the log whole, not cut at some size.
# Every other message is a "log" event with the documented fields.
if cat "$T"/server.*.log | python3 -c '
import json, sys
n = nlog = 0
long_name = False
for i, l in enumerate(sys.stdin.buffer, 1):
    ev = json.loads(l)
    assert isinstance(ev, dict), (i, l)
    n += ev["event"] == "transfer"
    long_name |= ev.get("file") == "\x01" * 250
    if ev["event"] == "log":
        nlog += 1
        assert set(ev) == {"ts", "event", "worker", "level", "pid",
                           "message"}, ev
        assert ev["level"] in ("error", "warning", "notice", "info",
                               "debug"), ev
assert n >= 2, n
assert nlog >= 5, nlog
assert long_name, "no event with the 250-byte name"
'; then
	if grep -a 'xfer end' "$T"/server.*.log > /dev/null; then
		fail "text transfer lines in a json log"
	else
		ok
	fi
else
	fail "no parsable JSON transfer events in the log"
fi

finish
