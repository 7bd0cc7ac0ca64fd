# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The verdict on a QEMU suite's console, shared by qemu-test.sh and
# qemu-vfio-test.sh; sourced after common.sh.

# egm_qemu_run NAME TIMEOUT: boot the caller's array "qemu" with a time
# limit of TIMEOUT seconds.  The console goes to $EGM_RESULTS/NAME.console
# and, without CRs, to the file named by the variable "log", which it sets
# ($EGM_RESULTS/NAME.log); "qrc" is QEMU's exit status under timeout(1).
egm_qemu_run() {
	local name=$1 timeout=$2 console

	mkdir -p "$EGM_RESULTS"
	console=$EGM_RESULTS/$name.console
	log=$EGM_RESULTS/$name.log
	egm_log "booting $name (TCG, up to $((timeout / 60)) min), console in $console"
	set +e
	# shellcheck disable=SC2154 # the caller's array
	timeout -k 10 "$timeout" "${qemu[@]}" < /dev/null > "$console" 2>&1
	qrc=$?
	set -e
	tr -d '\r' < "$console" > "$log"
}

# egm_qemu_verdict NAME PREFIX PROGRAM LOG QRC TIMEOUT [PHASE...]
#
# Judge LOG, the console (without CRs) of suite NAME whose guest prints
# "ok ..."/"FAIL ..." lines, "FAIL init: ..." lines from its /init and
# "PREFIX: ..." lines: the summary of PROGRAM ("PREFIX: N passed, N failed",
# or with PHASEs one "PREFIX: phase PHASE: N passed, N failed" per phase),
# "PREFIX: modules unloaded" and the kmemleak report.  QRC is QEMU's exit
# status under timeout(1) with TIMEOUT seconds.  The caller's array
# egm_ranges ("size base pxm") lists the hidden ranges, each of which must
# lie in its PXM's SRAT memory.
#
# Counts every FAIL line, a missing summary, "modules unloaded" or
# kmemleak line, a kmemleak report, any kernel report in the console not
# explained by tools/testing/egm/known-reports, and a QEMU that did not
# finish; records "NAME" for summary.sh, prints "NAME: N passed, N failed"
# and returns 0 only when nothing failed and something passed.
egm_qemu_verdict() {
	local name=$1 prefix=$2 program=$3 log=$4 qrc=$5 timeout=$6
	shift 6
	local phases=("$@") reports
	local extra=0 passed=0 failed=0 harness_fails init_fails summary phase
	local missing=0 p f leaks r size base pxm inside lo hi

	reports=$EGM_RESULTS/$name.reports
	[ ${#phases[@]} -gt 0 ] || phases=("")
	# failures beyond the FAIL lines: one per missing line or class
	problem() {
		echo "$name: $*"
		extra=$((extra + 1))
	}

	grep -E '^(ok|FAIL) ' "$log" || true

	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		problem "QEMU did not finish in $timeout s (killed)"
	elif [ "$qrc" != 0 ]; then
		problem "QEMU exited with $qrc; last lines of the console:"
		tail -20 "$log"
	fi

	harness_fails=$(grep -E '^FAIL [^ :]+:' "$log" | grep -cv '^FAIL init:' || true)
	init_fails=$(grep -c '^FAIL init:' "$log" || true)
	for phase in "${phases[@]}"; do
		summary=$(grep -E "^$prefix: ${phase:+phase $phase: }[0-9]+ passed, [0-9]+ failed\$" "$log" |
			tail -1 || true)
		if [ -n "$summary" ]; then
			read -r p f <<< "$(echo "$summary" |
				sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/')"
			passed=$((passed + p)) failed=$((failed + f))
		else
			problem "no summary line from $program${phase:+ (phase $phase)}"
			missing=1
		fi
	done
	if [ "$missing" = 1 ]; then
		# Without every summary, count the lines the tests printed.
		passed=$(grep -cE '^ok ' "$log" || true)
		failed=$harness_fails
	fi
	failed=$((failed + init_fails))

	if ! grep -qx "$prefix: modules unloaded" "$log" &&
	   ! grep -q '^FAIL init: rmmod' "$log"; then
		problem "no '$prefix: modules unloaded' line"
	fi

	leaks=$(sed -n "s/^$prefix: kmemleak report ends (\([0-9]*\) lines)\$/\1/p" "$log" | tail -1)
	if [ -n "$leaks" ] && [ "$leaks" != 0 ]; then
		problem "kmemleak reported $leaks lines:"
		sed -n "/^$prefix: kmemleak report begins\$/,/^$prefix: kmemleak report ends/p" "$log" |
			grep '^kmemleak: ' | head -60
	elif [ -z "$leaks" ] && ! grep -qx "$prefix: kmemleak not available" "$log"; then
		problem "no kmemleak report line"
	fi

	# Kernel reports: everything but our own lines (the kmemleak block is
	# judged above) and kmemleak's start-up messages, less the reports that
	# tools/testing/egm/known-reports explains.
	awk -v p="$prefix: " '
	     $0 == p "kmemleak report begins" { skip = 1 }
	     !skip && !/^(ok |FAIL )/ && index($0, p) != 1 { print }
	     index($0, p "kmemleak report ends") == 1 { skip = 0 }' "$log" |
		grep -vE 'kmemleak: (Kernel memory leak detector initialized|Automatic memory scanning thread started)' \
		> "$reports.in" || true
	if ! python3 "$EGM_REPO/scripts/egm/scan-reports.py" "$name" "$reports.in" \
		"$EGM_REPO/tools/testing/egm/known-reports" > "$reports"; then
		problem "kernel reports in the console:"
		head -60 "$reports"
	fi

	# The NUMA layout the ranges rely on: each must sit in its PXM's SRAT range.
	if grep -q 'SRAT: Node [0-9]* PXM [0-9]* \[mem' "$log"; then
		# shellcheck disable=SC2154 # the caller's array
		for r in "${egm_ranges[@]}"; do
			read -r size base pxm <<< "$r"
			inside=0
			while read -r lo hi; do
				if [ "$base" -ge $((lo)) ] && [ $((base + size - 1)) -le $((hi)) ]; then
					inside=1
				fi
			done < <(sed -n "s/.*SRAT: Node [0-9]* PXM $pxm \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2/p" "$log")
			[ "$inside" = 1 ] ||
				problem "$(printf 'range %#x+%#x is outside the SRAT memory of PXM %d' "$base" "$size" "$pxm")"
		done
	else
		echo "$name: note: no SRAT lines in the console, NUMA layout not checked"
	fi

	failed=$((failed + extra))
	egm_record "$name" "$passed" "$failed" 0
	echo "$name: $passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}
