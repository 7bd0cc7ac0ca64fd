#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The arm64 host suite: a Grace-like arm64 host in QEMU (TCG, virt with
# EL2, GICv3, two NUMA nodes) boots our arm64 debug kernel with KVM, and
# a KVM guest takes its RAM from /dev/egm1.  One boot per page size runs
# the egm-core KUnit suites (as modules) and the KVM checks of
# tools/testing/egm/arm64/init.
#
#   arm64-host.sh arm64|arm64-64k
#
# Records "kunit-<config>" (KTAP parsed by the kernel's kunit.py) and
# "arm64-kvm-<4k|64k>" (the checks, judged by qemu-verdict.sh: any FAIL,
# kernel report, kmemleak report or missing line fails it).
#
# The EGM range is hidden the arm64 way, with mem=: QEMU gives node 0
# [1 GiB, 3 GiB) and node 1 [3 GiB, 5 GiB); mem=3G keeps the first 3 GiB
# of memory, so [4 GiB, 5 GiB) on node 1 never enters memblock: no struct
# page, no linear map, not "System RAM" in /proc/iomem, exactly like
# memory that firmware leaves out of the EFI memory map.  A reserved-memory
# "no-map" node would keep the range in memblock (with struct pages) and
# needs a patched device tree: mem= is closer to a Grace host and simpler.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/egm/initramfs.sh
. "$(dirname "$0")/initramfs.sh"
# shellcheck source=scripts/egm/qemu-verdict.sh
. "$(dirname "$0")/qemu-verdict.sh"
# shellcheck source=scripts/egm/kunit-console.sh
. "$(dirname "$0")/kunit-console.sh"

cfg=${1:?usage: arm64-host.sh arm64|arm64-64k}
case "$cfg" in
arm64) pages=4k ;;
arm64-64k) pages=64k ;;
*) egm_die "unknown arm64 configuration '$cfg'" ;;
esac
name=arm64-kvm-$pages
kbuild=$EGM_BUILD/kernel-$cfg
qemu_timeout=${EGM_ARM64_TIMEOUT:-2400}	# seconds
cross=aarch64-linux-gnu-
# size base pxm, for qemu-verdict.sh's NUMA check (a DT boot prints no SRAT)
# shellcheck disable=SC2034 # read by egm_qemu_verdict
egm_ranges=("$((1 << 30)) $((0x100000000)) 1")

"$EGM_REPO/scripts/egm/kernel.sh" "$cfg" Image modules
sysroot=$("$EGM_REPO/scripts/egm/arm64-userland.sh")

# The bench-only remap_pfn_range() baseline, for the stage-2 histogram.
mdir=$EGM_BUILD/arm64-bench-$cfg
mkdir -p "$mdir"
cp "$EGM_REPO/tools/testing/egm/bench/Makefile" \
	"$EGM_REPO/tools/testing/egm/bench/egm_bench_base.c" "$mdir/"
(
	egm_build_lock
	make -C "$kbuild" M="$mdir" ARCH=arm64 CROSS_COMPILE=$cross \
		-j"$EGM_JOBS" modules > "$mdir/build.log" 2>&1
) || { cat "$mdir/build.log"; egm_die "the baseline module did not build"; }

# ---- the initramfs -----------------------------------------------------------

ird=$EGM_BUILD/initramfs-$name
root=$ird/root
egm_log "initramfs in $ird (arm64 busybox, QEMU and strace from $sysroot)"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib/modules,lib/egm,dev,proc,sys,tmp}
cp "$sysroot/bin/busybox" "$root/bin/busybox"
# The arm64 busybox cannot run here; the host's (same Debian version) names
# the same applets.
/bin/busybox --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# egm_arm64_copy FILE: copy FILE (a path inside the sysroot) and, for an
# ELF, its interpreter and every library it needs, recursively.
declare -A copied
egm_arm64_copy() {
	local f=$1 lib dir found interp
	[ -z "${copied[$f]:-}" ] || return 0
	copied[$f]=1
	mkdir -p "$root$(dirname "$f")"
	cp -L "$sysroot$f" "$root$f"
	readelf -h "$sysroot$f" > /dev/null 2>&1 || return 0
	interp=$(readelf -l "$sysroot$f" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
	[ -z "$interp" ] || egm_arm64_copy "$interp"
	for lib in $(readelf -d "$sysroot$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=
		for dir in /lib/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu; do
			if [ -e "$sysroot$dir/$lib" ]; then
				egm_arm64_copy "$dir/$lib"
				found=1
				break
			fi
		done
		[ -n "$found" ] || egm_die "$f needs $lib, not in $sysroot"
	done
}
egm_arm64_copy /usr/bin/qemu-system-aarch64
egm_arm64_copy /usr/bin/strace

install -m 755 "$EGM_REPO/tools/testing/egm/arm64/init" "$root/init"
install -m 644 "$EGM_REPO/tools/testing/egm/init-lib.sh" "$root/lib/egm/"
"$EGM_REPO/tools/testing/egm/arm64/build.sh" "$root"
${cross}gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/egm_demo" \
	"$EGM_REPO/tools/testing/egm/egm_demo.c"
for ko in lib/kunit/kunit.ko lib/egm/egm_core.ko lib/egm/tests/egm_core_kunit.ko \
	samples/egm_parent/egm_parent.ko; do
	cp "$kbuild/$ko" "$root/lib/modules/" || egm_die "$kbuild/$ko is missing"
done
cp "$mdir/egm_bench_base.ko" "$root/lib/modules/"
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

# ---- the run -----------------------------------------------------------------

# shellcheck disable=SC2054 # commas belong to QEMU options
qemu=(qemu-system-aarch64 -nodefaults -nographic -no-reboot -accel tcg
      -machine virt,virtualization=on,gic-version=3
      -cpu max,pauth-impdef=on -smp 2 -m 4G
      -object memory-backend-ram,id=m0,size=2G
      -object memory-backend-ram,id=m1,size=2G
      -numa node,nodeid=0,cpus=0,memdev=m0
      -numa node,nodeid=1,cpus=1,memdev=m1
      -kernel "$kbuild/arch/arm64/boot/Image" -initrd "$ird/initramfs.cpio.gz"
      -append "console=ttyAMA0 panic=-1 mem=3G egm_page_kib=${pages%k}"
      -serial stdio)
egm_qemu_run "$name" "$qemu_timeout"

# ---- KUnit and the KVM checks ----------------------------------------------

kunit_ok=0
egm_kunit_console "$cfg" "$log" arm64-kvm || kunit_ok=1
grep -E '^(stage2 |arm64-kvm: (control|retired_block|runtime_poison))' "$log" || true
verdict=0
egm_qemu_verdict "$name" arm64-kvm init "$log" "$qrc" "$qemu_timeout" || verdict=1
[ "$kunit_ok" = 0 ] && [ "$verdict" = 0 ]
