#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The egm-core benchmark: egm-core against remap_pfn_range() at mmap time,
# 4 KiB faults, device-dax, hugetlbfs and anonymous shared memory, in one
# QEMU (TCG) run of the bench kernel.  See BENCHMARKS.md.
#
#   bench.sh [full]     timings, table, ratios and goals (make bench)
#   bench.sh check      egm-core's structural results only (make check):
#                       PUD leaves, no page-table growth, write-back
#                       memtype, poison fallback, nothing mapped at mmap(),
#                       one bitmap bit per page; no timing is asserted
#
# The full run builds the bench kernel (tinyconfig +
# configs/x86_64-bench.config, no debug options), the check uses the debug
# kernel (configs/x86_64.config); the baseline module
# tools/testing/egm/bench/ is built out of tree against that kernel.  Everything runs under the machine-wide build lock, so
# that no kernel build runs next to the timed guest.  The console is kept
# in $EGM_RESULTS/bench-MODE.console, the table in $EGM_RESULTS/bench.txt.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/egm/initramfs.sh
. "$(dirname "$0")/initramfs.sh"

mode=${1:-full}
case "$mode" in
full | check) ;;
*) egm_die "usage: bench.sh [full|check]" ;;
esac

# The full run measures the bench kernel (no debug options); the check
# asserts no timing, so it runs on the debug kernel of the QEMU suites
# (with PAT, for the memtype) and needs no kernel build of its own.
if [ "$mode" = full ]; then
	cfg=x86_64-bench
else
	cfg=x86_64
fi
kbuild=$EGM_BUILD/kernel-$cfg
bzimage=$kbuild/arch/x86/boot/bzImage
qemu_timeout=${EGM_BENCH_TIMEOUT:-1800}	# seconds
t_start=$(date +%s)

egm_build_lock
"$EGM_REPO/scripts/egm/kernel.sh" "$cfg" bzImage modules

# ---- the baseline module, out of tree from a copy in the cache ------------

mdir=$EGM_BUILD/bench-module-$cfg
mkdir -p "$mdir"
rsync --checksum "$EGM_REPO/tools/testing/egm/bench/Makefile" \
	"$EGM_REPO/tools/testing/egm/bench/egm_bench_base.c" "$mdir/"
egm_log "building the baseline module against $kbuild"
make -C "$kbuild" M="$mdir" -j"$EGM_JOBS" modules > "$mdir/build.log" 2>&1 ||
	{ cat "$mdir/build.log"; egm_die "the baseline module did not build"; }
grep -E 'warning:|error:' "$mdir/build.log" &&
	egm_die "the baseline module built with warnings"

# ---- the initramfs ---------------------------------------------------------

ird=$EGM_BUILD/initramfs-bench-$mode
root=$ird/root
egm_log "initramfs in $ird"
egm_initramfs_base "$root"
install -m 755 "$EGM_REPO/tools/testing/egm/bench/init" "$root/init"
gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$root/bin/egm_bench" \
	"$EGM_REPO/tools/testing/egm/bench/egm_bench.c"
cp "$kbuild/lib/egm/egm_core.ko" "$kbuild/samples/egm_parent/egm_parent.ko" \
	"$mdir/egm_bench_base.ko" "$root/lib/modules/"
if [ "$mode" = full ]; then
	# Debian's ndctl makes the devdax namespace: it, its loader and its
	# libraries, at their own paths (merged /usr: /lib is usr/lib).
	ndctl=$(command -v ndctl) || egm_die "ndctl is missing (make setup)"
	cp "$ndctl" "$root/usr/bin/ndctl"
	for lib in $(ldd "$ndctl" | grep -o '/[^ ]*'); do
		dest=$root/usr${lib#/usr}
		mkdir -p "$(dirname "$dest")"
		cp -L "$lib" "$dest"
	done
fi
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

# ---- the machine -----------------------------------------------------------
#
# RAM below 4 GiB stops at 2 GiB (max-ram-below-4g), the rest starts at
# 4 GiB: memmap= hides [4G, 6G) for egm-core (/dev/egm1, and the
# baselines map the same range) and, in the full run, gives [6G, 8G) to
# legacy pmem (a devdax namespace with align=1G keeps its first GiB for
# metadata, so 2 GiB make a 1 GiB /dev/dax0.0) and hides 256 MiB at
# 512 MiB for /dev/egm0 (the second size of the open() latency).  The
# full run's kernel keeps 2 GiB low and 2 GiB above 8 GiB (hugetlbfs takes
# one 1 GiB page of it; anonymous memory and the memset buffer the rest).
# -cpu: pdpe1gb gives 1 GiB pages; phys-bits=42 leaves room in the
# physical address space for the 1 TiB scale simulation at 1 TiB.
# -mem-prealloc: the host allocates guest RAM up front, not during the
# first timed repetition.
# shellcheck disable=SC2016 # memmap=SIZE$BASE: a literal $
if [ "$mode" = full ]; then
	mem=8G
	append='memmap=2G$0x100000000 memmap=256M$0x20000000 memmap=2G!0x180000000 hugepagesz=1G hugepages=1'
	prealloc=(-mem-prealloc)
else
	mem=4G
	append='memmap=2G$0x100000000'
	prealloc=()
fi
# shellcheck disable=SC2054 # commas belong to QEMU options
qemu=(qemu-system-x86_64 -nodefaults -nographic -no-reboot -accel tcg
      -cpu qemu64,+pdpe1gb,phys-bits=42 -smp 2
      -machine pc,max-ram-below-4g=2G -m "$mem" "${prealloc[@]}"
      -kernel "$bzimage" -initrd "$ird/initramfs.cpio.gz"
      -append "console=ttyS0 panic=-1 printk.time=1 $append egm_bench.mode=$mode"
      -serial stdio)

# ---- the run ---------------------------------------------------------------

mkdir -p "$EGM_RESULTS"
console=$EGM_RESULTS/bench-$mode.console
log=$EGM_RESULTS/bench-$mode.log
egm_log "booting $bzimage ($mode, TCG, -m $mem), console in $console"
t_boot=$(date +%s)
set +e
timeout -k 10 "$qemu_timeout" "${qemu[@]}" < /dev/null > "$console" 2>&1
qrc=$?
set -e
t_end=$(date +%s)
tr -d '\r' < "$console" > "$log"

# ---- the verdict -----------------------------------------------------------

extra=0
problem() {
	echo "bench-$mode: $*"
	extra=$((extra + 1))
}

grep -E '^(bench: |ok |FAIL )' "$log" | sed 's/^bench: //' || true
if [ "$mode" = full ]; then
	sed -n 's/^bench: //p' "$log" > "$EGM_RESULTS/bench.txt"
	{
		echo "machine: $(nproc) host CPUs, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)"
		echo "qemu: $("${qemu[0]}" --version | head -1)"
		echo "qemu command: ${qemu[*]}"
	} >> "$EGM_RESULTS/bench.txt"
fi

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	problem "QEMU did not finish in $qemu_timeout s (killed)"
elif [ "$qrc" != 0 ]; then
	problem "QEMU exited with $qrc; last lines of the console:"
	tail -20 "$log"
fi
summary=$(grep -E '^egm-bench: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -1 || true)
if [ -n "$summary" ]; then
	read -r _ passed _ failed _ <<< "$summary"
else
	problem "no summary line from egm_bench"
	passed=$(grep -c '^ok ' "$log" || true)
	failed=$(grep -c '^FAIL ' "$log" || true)
fi
failed=$((failed + $(grep -c '^FAIL init:' "$log" || true)))
# tools/testing/egm/known-reports lists the few reports that are not ours.
if ! python3 "$EGM_REPO/scripts/egm/scan-reports.py" "bench-$mode" "$log" \
	"$EGM_REPO/tools/testing/egm/known-reports" > "$EGM_RESULTS/bench-$mode.reports"; then
	problem "kernel reports in the console:"
	head -40 "$EGM_RESULTS/bench-$mode.reports"
fi
failed=$((failed + extra))

echo "bench-$mode: guest run $((t_end - t_boot)) s, total $((t_end - t_start)) s"
if [ "$mode" = check ]; then
	egm_record bench-check "$passed" "$failed" 0
fi
echo "bench-$mode: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
