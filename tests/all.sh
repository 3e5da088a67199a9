#!/usr/bin/env bash
# tests/all.sh -- the whole test suite, as CI runs it: install what it
# needs (Debian 12, as root), then
#   1. the unit suites and integration tests in a plain build,
#   2. the same under AddressSanitizer and UndefinedBehaviorSanitizer,
#   3. every libFuzzer harness for 30 s (FUZZ_SECONDS),
#   4. real firmware PXE-booting in QEMU from the plain build
#      (tests/firmware/README.md),
#   5. the Debian package built, installed, run and purged in a throwaway
#      chroot (tests/package/deb.sh).
# Every stage runs even when an earlier one failed (a build failure skips
# what needs that build); the status is 0 only if every stage passed.
# Each stage's status goes to build/stages.txt ("NAME STATUS"), which
# .ci/run reads.  Run it from anywhere; it works in the source tree.
set -u
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

PKGS="build-essential autoconf automake pkg-config libevent-dev
    libconfig-dev check tftp-hpa tftpd-hpa atftp curl busybox python3
    valgrind strace iproute2 procps util-linux clang libclang-rt-14-dev
    nginx-light libssl-dev openssl liburing-dev"
FW_PKGS="qemu-system-x86 ovmf ipxe ipxe-qemu pxelinux syslinux-common
    u-boot-qemu dnsmasq-base systemd-boot-efi binutils iptables cpio
    tcpdump"

t0=$(date +%s)
stamp() { echo "=== tests/all.sh: $* ($(($(date +%s) - t0)) s)"; }

# tftpd-hpa's package starts a server on port 69 unless told not to: a
# policy-rc.d that refuses, only for this install and only if there is
# none already.
stamp "installing packages"
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d &&
	    chmod 755 /usr/sbin/policy-rc.d && made_policy=1
fi
# shellcheck disable=SC2086
apt-get update > /dev/null && apt-get install -y $PKGS > /dev/null &&
    apt-get install -y --no-install-recommends $FW_PKGS > /dev/null
apt_status=$?
[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
if [ $apt_status -ne 0 ]; then
	echo "tests/all.sh: the package installation failed" >&2
	exit 1
fi

autoreconf -fi || exit 1
mkdir -p build build-san build-fuzz
: > build/stages.txt
stage() {	# stage NAME STATUS
	echo "$1 $2" >> build/stages.txt
	stamp "$1: status $2"
}

stamp "plain build and make check"
(cd build && ../configure --enable-debug && make -j2) && plain_built=1 ||
    plain_built=
if [ -n "$plain_built" ]; then
	(cd build && make -j2 check)
	stage check $?
else
	stage check 1
fi

stamp "sanitizer build and make check"
(cd build-san && ../configure --enable-debug --enable-sanitizers &&
    make -j2 && make -j2 check)
stage check-san $?

stamp "fuzzers"
export FUZZ_SECONDS=${FUZZ_SECONDS:-30}	# per harness: CI's time is shared
(cd build-fuzz && CC=clang ../configure --enable-fuzzing && make -j2 &&
    make -C tests fuzz && ../tests/fuzz/run.sh .) 2>&1 | tee build/fuzz.out
stage fuzz "${PIPESTATUS[0]}"

stamp "firmware boots"
if [ -n "$plain_built" ]; then
	(cd build && make check-firmware)
	stage check-firmware $?
	grep -h '^FWRESULT path=[^ ]* vm=' build/tests/firmware/*.log \
	    2>/dev/null
else
	stage check-firmware 1
fi

stamp "the Debian package"
bash tests/package/deb.sh
stage package $?

stamp "done"
cat build/stages.txt
# 77 (the package test skipped) is not a failure.
! awk '$2 != 0 && !($1 == "package" && $2 == 77) { bad = 1 }
    END { exit !bad }' build/stages.txt
