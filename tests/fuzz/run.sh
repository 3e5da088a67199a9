#!/bin/sh
# Run the libFuzzer harnesses of a build tree configured with
# --enable-fuzzing, each for a bounded time.  Builds nothing.
#
#	tests/fuzz/run.sh BUILDDIR [HARNESS...]
#
# FUZZ_SECONDS	fuzzing time per harness (default 60; 0: replay only)
# FUZZ_TIMEOUT	seconds one input may take before it counts as a hang (10)
#
# For each harness, first every input under tests/fuzz/regress/ and the
# harness's seed corpus is replayed; then the harness fuzzes a copy of
# its corpus in a temporary directory (the tree is never written).  One
# line per harness: "fuzz_x: N execs, OK (...)" or what crashed, with
# the input kept as BUILDDIR/tests/fuzz/crashes/<harness>-<sha1>.bin and
# the sanitizer's report.  Exit status 1 if anything crashed, leaked,
# hung or broke an invariant; 2 on a usage error.

set -u

usage() {
	echo "usage: $0 BUILDDIR [HARNESS...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
builddir=$(cd "$1" 2>/dev/null && pwd) || {
	echo "$0: $1: no such build directory" >&2
	exit 2
}
shift
srcdir=$(cd "$(dirname "$0")" && pwd)
bindir=$builddir/tests/fuzz
seconds=${FUZZ_SECONDS:-60}
timeout=${FUZZ_TIMEOUT:-10}
case $seconds$timeout in
*[!0-9]*)
	echo "$0: FUZZ_SECONDS and FUZZ_TIMEOUT must be whole seconds" >&2
	exit 2
	;;
esac

if [ $# -eq 0 ]; then
	for src in "$srcdir"/fuzz_*.c; do
		set -- "$@" "$(basename "$src" .c)"
	done
fi
for h in "$@"; do
	if [ ! -x "$bindir/$h" ]; then
		echo "$0: $bindir/$h is not built (configure with" \
		    "CC=clang --enable-fuzzing, then make -C tests fuzz)" >&2
		exit 2
	fi
done

# Sanitizer reports stop the input and carry a stack; libconfig's own
# leaks are suppressed (lsan.supp says which).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$srcdir/lsan.supp:print_suppressions=0}
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/owlfuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

crashdir=$bindir/crashes
failed=0

common="-timeout=$timeout -rss_limit_mb=2048 -malloc_limit_mb=2048"

# Keep the input as crashes/<harness>-<sha1>.bin; print its path.
keep() {
	mkdir -p "$crashdir"
	sum=$(sha1sum <"$2" | cut -c1-40)
	cp "$2" "$crashdir/$1-$sum.bin"
	echo "  input: $crashdir/$1-$sum.bin ($(wc -c <"$2") bytes)"
	echo "  hex:   $(od -An -tx1 -v "$2" | tr -d ' \n' | cut -c1-512)"
}

# The sanitizer's or libFuzzer's report, without libFuzzer's chatter.
report() {
	sed -n '/^==[0-9]*==\|^[^ ]*: line [0-9]*: invariant\|runtime error\|^  *#[0-9]\|^SUMMARY\|^Direct leak\|^Indirect leak\|^fuzz_[a-z]*:/p' \
	    "$1" | grep -v 'in fuzzer::' | head -n 40 | sed 's/^/  /'
}

# Replay one harness on files; on failure find and report the culprit.
replay() {
	h=$1
	shift
	[ $# -gt 0 ] || return 0
	log=$tmp/$h.replay.log
	# shellcheck disable=SC2086
	if "$bindir/$h" $common "$@" >"$log" 2>&1; then
		return 0
	fi
	for f in "$@"; do
		# shellcheck disable=SC2086
		if ! "$bindir/$h" $common "$f" >"$log" 2>&1; then
			echo "$h: FAILED replaying ${f#"$srcdir"/}"
			keep "$h" "$f"
			report "$log"
			return 1
		fi
	done
	echo "$h: FAILED replaying the regression inputs together"
	report "$log"
	return 1
}

for h in "$@"; do
	# 1. Known inputs: every regression input and this corpus.
	set --
	for f in "$srcdir"/regress/*/* "$srcdir/corpus/$h"/*; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
	if ! replay "$h" "$@"; then
		failed=1
		continue
	fi
	nknown=$#
	if [ "$seconds" -eq 0 ]; then
		echo "$h: $nknown inputs replayed, OK"
		continue
	fi

	# 2. Fuzz a private copy of the corpus.
	work=$tmp/$h
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "$srcdir/corpus/$h" ]; then
		cp "$srcdir/corpus/$h"/* "$work/corpus/" 2>/dev/null
	fi
	dict=
	[ -f "$srcdir/$h.dict" ] && dict=-dict=$srcdir/$h.dict
	log=$tmp/$h.log
	# shellcheck disable=SC2086
	"$bindir/$h" $common $dict \
	    -max_total_time="$seconds" \
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	    "$work/corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	if [ -z "$execs" ]; then
		execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	fi
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	art=$(find "$work/artifacts" -type f | head -n 1)
	if [ "$rc" -eq 0 ] && [ -z "$art" ]; then
		echo "$h: ${execs:-0} execs, OK (${seconds} s, ${rate:-?}" \
		    "exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?};" \
		    "$nknown known inputs replayed)"
		continue
	fi
	failed=1
	kind=$(basename "${art:-crash}" | sed 's/-.*//')
	echo "$h: CRASH ($kind) after ${execs:-?} execs"
	if [ -n "$art" ]; then
		keep "$h" "$art"
	else
		echo "  (libFuzzer exited $rc and kept no input; its log follows)"
		tail -n 20 "$log" | sed 's/^/  /'
	fi
	report "$log"
done

exit $failed
