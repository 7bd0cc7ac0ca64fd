#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end test of /dev/egm<pxm>: boot an x86_64 kernel in QEMU (TCG)
# with two NUMA nodes and two hidden ranges, load egm_core.ko and the
# sample egm_parent.ko, run tools/testing/egm/egm_e2e.c as root.
#
#   qemu-test.sh [KERNEL_BUILD]   default: $EGM_BUILD/kernel-x86_64
#
# KERNEL_BUILD is an O= build directory with arch/x86/boot/bzImage and
# the modules below.  The boot first runs the egm-core KUnit suites as
# modules (recorded as kunit-x86_64): this debug kernel (KASAN, lockdep,
# DEBUG_VM, hung tasks) is also the x86_64 KUnit kernel.  Needs root
# (mknod in the initramfs tree), qemu-system-x86, busybox-static, cpio, gcc.
#
# Fails on any FAIL line, a missing summary or "modules unloaded" line, a
# kmemleak report, any $EGM_KERNEL_REPORTS match in the console, or a QEMU
# that did not finish; the console is kept in $EGM_RESULTS/qemu-test.console.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/egm/initramfs.sh
. "$(dirname "$0")/initramfs.sh"

# One QEMU run at a time, and none next to a build (see common.sh).
egm_build_lock
# shellcheck source=scripts/egm/qemu-verdict.sh
. "$(dirname "$0")/qemu-verdict.sh"
# shellcheck source=scripts/egm/kunit-console.sh
. "$(dirname "$0")/kunit-console.sh"

kbuild=${1:-$EGM_BUILD/kernel-x86_64}
bzimage=$kbuild/arch/x86/boot/bzImage
egm_overlay_is_ours "$kbuild/.egm-overlay-repo"
modules=(lib/kunit/kunit.ko lib/egm/egm_core.ko lib/egm/tests/egm_core_kunit.ko
	 samples/egm_parent/egm_parent.ko)
qemu_timeout=${EGM_QEMU_TIMEOUT:-1200}	# seconds

# ---- the machine -----------------------------------------------------------
#
# -machine pc,max-ram-below-4g=2G -m 4G with one 2 GiB memory backend per
# node: QEMU maps the RAM below 4 GiB first, then the rest at 4 GiB, and
# hands out node ranges in that order, so node 0 (PXM 0) is [0, 2G) and
# node 1 (PXM 1) is [4G, 6G) (checked against the SRAT lines of the console
# below).  memmap=SIZE$BASE hides each EGM range from the kernel.
ram_below_4g=$((2 << 30))
node_size=$((2 << 30))
node_start=(0 $((4 << 30)))
# size base pxm: must match tools/testing/egm/init and egm_e2e.c
egm_ranges=("$((256 << 20)) $((0x60000000)) 0" "$((1 << 30)) $((0x140000000)) 1")

for r in "${egm_ranges[@]}"; do
	read -r size base pxm <<< "$r"
	start=${node_start[$pxm]} end=$((node_start[pxm] + node_size))
	if [ "$pxm" = 0 ] && [ "$end" -gt "$ram_below_4g" ]; then
		end=$ram_below_4g
	fi
	if [ "$base" -lt "$start" ] || [ $((base + size)) -gt "$end" ]; then
		egm_die "$(printf 'EGM range %#x+%#x is not inside node %d [%#x, %#x)' \
			"$base" "$size" "$pxm" "$start" "$end")"
	fi
done
memmap=$(for r in "${egm_ranges[@]}"; do
	read -r size base pxm <<< "$r"
	if [ $((size % (1 << 30))) = 0 ]; then
		printf 'memmap=%dG$%#x ' $((size >> 30)) "$base"
	else
		printf 'memmap=%dM$%#x ' $((size >> 20)) "$base"
	fi
done)

# ---- the initramfs ---------------------------------------------------------

[ -f "$bzimage" ] || egm_die "no kernel at $bzimage (build it first)"
ird=$EGM_BUILD/initramfs-e2e
root=$ird/root
egm_log "initramfs in $ird"
egm_initramfs_base "$root"
install -m 755 "$EGM_REPO/tools/testing/egm/init" "$root/init"
for prog in egm_e2e egm_sysfs_view egm_egmctl egm_partitions; do
	gcc -static -O2 -Wall -Wextra -Werror -I"$EGM_REPO/include/uapi" \
		-o "$root/bin/$prog" "$EGM_REPO/tools/testing/egm/$prog.c"
done
# The operator's tool, as its Makefile builds it, statically.
make -s -C "$EGM_REPO/tools/egm" O="$ird/egmctl" LDFLAGS=-static
install -m 755 "$ird/egmctl/egmctl" "$root/bin/egmctl"
mkdir -p "$root/lib/egm"
install -m 644 "$EGM_REPO/tools/testing/egm/init-lib.sh" "$root/lib/egm/"
for ko in "${modules[@]}"; do
	if [ -f "$kbuild/$ko" ]; then
		cp "$kbuild/$ko" "$root/lib/modules/"
	else
		# /init reports it as a FAIL line; the run goes on to show the rest.
		egm_log "warning: $kbuild/$ko is missing"
	fi
done
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

# ---- the run ---------------------------------------------------------------

# The fuzz test's seed, time or operation count (egm_e2e.c, fuzz_uapi),
# when set here: the kernel hands unknown NAME=VALUE words of its command
# line to /init as environment variables.
fuzz_env=
for v in EGM_FUZZ_SEED EGM_FUZZ_SECONDS EGM_FUZZ_OPS; do
	if [ -n "${!v:-}" ]; then
		fuzz_env+=" $v=${!v}"
	fi
done
egm_qemu_host "$bzimage" "$ird/initramfs.cpio.gz" "${memmap% }$fuzz_env"
egm_qemu_run qemu-test "$qemu_timeout"

# ---- the verdict -----------------------------------------------------------

# The KUnit suites ran first in the same boot, on this debug kernel.
kunit_ok=0
egm_kunit_console x86_64 "$log" egm-e2e || kunit_ok=1
verdict=0
egm_qemu_verdict qemu-test egm-e2e egm_e2e "$log" "$qrc" "$qemu_timeout" || verdict=1
# egm_sysfs_view, egm_egmctl and egm_partitions ran after egm_e2e in the
# same boot, which the verdict above judged as a whole (kernel reports,
# leaks, QEMU); their tests count as suites of their own.
for suite in sysfs-view:egm_sysfs_view egmctl:egm_egmctl \
	     egm-partitions:egm_partitions; do
	name=${suite%%:*}
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed\$" "$log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		read -r sp sf <<< "$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<< "$line")"
	else
		sp=0 sf=1
		echo "$name: no summary line from ${suite#*:}"
	fi
	egm_record "$name" "$sp" "$sf" 0
	echo "$name: $sp passed, $sf failed"
	[ "$sf" = 0 ] || verdict=1
done
[ "$kunit_ok" = 0 ] && [ "$verdict" = 0 ]
