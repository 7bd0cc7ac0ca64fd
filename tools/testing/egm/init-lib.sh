# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# What the /init scripts of the QEMU suites share; they source it as
# /lib/egm/init-lib.sh after setting PREFIX (their lines' prefix, e.g.
# "arm64-kvm") and MODULE_TIMEOUT (seconds for each insmod and rmmod).

say() { echo "$PREFIX: $*"; }
fail() { echo "FAIL init: $*"; }

# mount_all: /proc, /sys, /dev, debugfs and a tmpfs /tmp; console on stdio.
mount_all() {
	mkdir -p /proc /sys /dev /tmp
	mount -t proc proc /proc 2>/dev/null
	mount -t sysfs sysfs /sys 2>/dev/null
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	# The kernel opens /dev/console before running us; if the initramfs
	# had no node for it, we have no output yet: take it from devtmpfs.
	if ! [ -t 1 ] && [ -c /dev/console ]; then
		exec < /dev/console > /dev/console 2>&1
	fi
	mount -t tmpfs tmpfs /tmp 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	grep -q ' /sys/kernel/debug debugfs ' /proc/mounts ||
		fail "debugfs is not mounted"
}

# State letter of process $1 ("" once it is gone).
proc_state() {
	st=
	if [ -r "/proc/$1/stat" ]; then
		# pid (comm) state ...: our commands have no blank in comm.
		read -r _ _ st _ < "/proc/$1/stat" 2>/dev/null || st=
	fi
	echo "$st"
}

# guarded SECONDS CMD...: run CMD with a time limit.  Returns CMD's status,
# or 124 when it did not finish in time: it is then killed, or left behind
# if even SIGKILL cannot end it (stuck in the kernel), so we never hang.
guarded() {
	g_secs=$1
	shift
	"$@" &
	g_pid=$!
	g_ticks=0
	while :; do
		g_st=$(proc_state "$g_pid")
		if [ -z "$g_st" ] || [ "$g_st" = Z ]; then
			wait "$g_pid"
			return $?
		fi
		if [ "$g_ticks" -ge $((g_secs * 5)) ]; then
			break
		fi
		sleep 0.2
		g_ticks=$((g_ticks + 1))
	done
	fail "'$*' did not finish in $g_secs s (state $g_st); killing it"
	kill -9 "$g_pid" 2>/dev/null
	sleep 2
	g_st=$(proc_state "$g_pid")
	if [ -z "$g_st" ] || [ "$g_st" = Z ]; then
		wait "$g_pid" 2>/dev/null
	else
		fail "'$*' is stuck in the kernel (state $g_st), left behind"
	fi
	return 124
}

# wait_for SECONDS CMD...: poll until CMD succeeds; 1 if it does not
# within SECONDS of wall-clock time (polls can be slow under TCG).
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" 2>/dev/null && return 0
		[ "$(date +%s)" -lt "$w_end" ] || return 1
		sleep 0.2
	done
}

loaded() { grep -q "^$1 " /proc/modules; }

# load MODULE.ko [PARAMS...]: insmod under a time limit; FAIL line if not.
load() {
	l_ko=/lib/modules/$1
	shift
	if [ ! -f "$l_ko" ]; then
		fail "$l_ko is missing"
		return 1
	fi
	guarded "$MODULE_TIMEOUT" insmod "$l_ko" "$@" || {
		fail "insmod $l_ko $* failed"
		return 1
	}
}

# unload MODULE: rmmod under a time limit if loaded; FAIL line if it fails.
unload() {
	loaded "$1" || return 0
	guarded "$MODULE_TIMEOUT" rmmod "$1" || {
		fail "rmmod $1 failed"
		return 1
	}
}

# kmemleak_report: scan twice (an object is reported once it is 5 s old
# and unreferenced) and print the report between marker lines.
kmemleak_report() {
	k_leak=/sys/kernel/debug/kmemleak
	if [ ! -e "$k_leak" ]; then
		say "kmemleak not available"
		return
	fi
	guarded 120 sh -c "echo scan > $k_leak" || fail "kmemleak scan failed"
	sleep 6
	guarded 120 sh -c "echo scan > $k_leak" || fail "kmemleak scan failed"
	guarded 60 sh -c "cat $k_leak > /tmp/kmemleak" || fail "cannot read $k_leak"
	say "kmemleak report begins"
	k_n=0
	while IFS= read -r k_line; do
		echo "kmemleak: $k_line"
		k_n=$((k_n + 1))
	done < /tmp/kmemleak
	say "kmemleak report ends ($k_n lines)"
}

power_off() {
	sync
	poweroff -f
	# Not reached unless poweroff failed; -no-reboot makes a reboot end QEMU.
	sleep 5
	reboot -f
	sleep 5
	echo o > /proc/sysrq-trigger
	exit 1
}
