#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The chaos and fault-injection suites of egm-core: boot the x86_64 debug
# kernel in QEMU (TCG) on the machine of qemu-test.sh (two NUMA nodes, two
# hidden ranges), once per suite, with tools/testing/egm/chaos/init:
#
#   chaos        tools/testing/egm/egm_chaos.c: tenants, resets, poison,
#                revoke, unbind/rebind and rmmod at once, for
#                EGM_CHAOS_SECONDS (default 90), seeded (EGM_CHAOS_SEED,
#                printed when not given)
#   faultinject  tools/testing/egm/egm_faultinject.c: every registration
#                and open path under failslab and fail_page_alloc
#
#   qemu-chaos-test.sh [SUITE...]   default: chaos faultinject
#
# Each suite is judged like qemu-test.sh's (scripts/egm/qemu-verdict.sh):
# any FAIL line, a missing summary or "modules unloaded" line, a kmemleak
# report, any $EGM_KERNEL_REPORTS match in the console, or a QEMU that did
# not finish fails it.  Recorded as qemu-chaos and qemu-faultinject; the
# consoles are kept in $EGM_RESULTS/qemu-{chaos,faultinject}.console.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/egm/initramfs.sh
. "$(dirname "$0")/initramfs.sh"
# shellcheck source=scripts/egm/qemu-verdict.sh
. "$(dirname "$0")/qemu-verdict.sh"

# A suite run must not share the machine with a build (timing-sensitive
# waits under TCG), nor see its kernel change under it.
egm_build_lock
kbuild=${EGM_KBUILD:-$EGM_BUILD/kernel-x86_64}
bzimage=$kbuild/arch/x86/boot/bzImage
egm_overlay_is_ours "$kbuild/.egm-overlay-repo"
modules=(lib/egm/egm_core.ko samples/egm_parent/egm_parent.ko)
qemu_timeout=${EGM_QEMU_TIMEOUT:-600}	# seconds, per suite: a kernel BUG can hang the guest
src=$EGM_REPO/tools/testing/egm
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(chaos faultinject)

# size base pxm, as in qemu-test.sh: must match chaos/init and the programs.
egm_ranges=("$((256 << 20)) $((0x60000000)) 0" "$((1 << 30)) $((0x140000000)) 1")
memmap="memmap=256M\$0x60000000 memmap=1G\$0x140000000"

# ---- the initramfs ---------------------------------------------------------

[ -f "$bzimage" ] || egm_die "no kernel at $bzimage (build it first)"
ird=$EGM_BUILD/initramfs-chaos
root=$ird/root
mkdir -p "$ird"
egm_log "initramfs in $ird"
egm_initramfs_base "$root"
install -m 755 "$src/chaos/init" "$root/init"
mkdir -p "$root/lib/egm"
install -m 644 "$src/init-lib.sh" "$root/lib/egm/"
for prog in egm_chaos egm_faultinject; do
	gcc -static -O2 -Wall -Wextra -Werror -I"$EGM_REPO/include/uapi" \
		-o "$root/bin/$prog" "$src/$prog.c"
done
for ko in "${modules[@]}"; do
	if [ -f "$kbuild/$ko" ]; then
		cp "$kbuild/$ko" "$root/lib/modules/"
	else
		# /init reports it as a FAIL line; the run goes on to show the rest.
		egm_log "warning: $kbuild/$ko is missing"
	fi
done
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

# ---- the runs --------------------------------------------------------------

rc=0
for suite in "${suites[@]}"; do
	case "$suite" in
	chaos|faultinject) ;;
	*) egm_die "unknown suite '$suite' (chaos, faultinject)" ;;
	esac
	cmdline="$memmap egm_suite=$suite"
	[ -z "${EGM_CHAOS_SEED:-}" ] || cmdline+=" egm_chaos_seed=$EGM_CHAOS_SEED"
	[ -z "${EGM_CHAOS_SECONDS:-}" ] || cmdline+=" egm_chaos_seconds=$EGM_CHAOS_SECONDS"
	egm_qemu_host "$bzimage" "$ird/initramfs.cpio.gz" "$cmdline"
	egm_qemu_run "qemu-$suite" "$qemu_timeout"
	# What the suite did, for the record: its seed, operation counts,
	# per-check and per-path lines.
	grep -E "^egm-$suite: " "$log" |
		grep -vE "^egm-$suite: (init:|kmemleak|modules|[0-9]+ passed)" || true
	egm_qemu_verdict "qemu-$suite" "egm-$suite" "egm_$suite" "$log" "$qrc" \
		"$qemu_timeout" || rc=1
done
exit $rc
