#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The DMA suite: a VM's passed-through device DMAs into its EGM RAM.
#
# Boots the x86_64 debug kernel in QEMU (TCG) as a q35 "host" with an
# emulated Intel IOMMU (intel-iommu,caching-mode=on, which the host
# kernel's intel-iommu driver programs for VFIO type1) and QEMU's edu
# device, whose DMA engine goes through that IOMMU.  Its /init
# (tools/testing/egm/dma/init) binds edu to vfio-pci and runs
# tools/testing/egm/egm_dma_e2e.c: a nested QEMU 7.2 whose RAM is
# /dev/egm1, with retired blocks inside it and edu assigned, runs
# tools/testing/egm/dma/payload.S, which makes edu copy a pattern through
# its RAM; then the hand-off, unbind and runtime-poison tests with a VMM's
# VFIO calls.
#
#   qemu-dma-test.sh [KERNEL_BUILD]   default: $EGM_BUILD/kernel-x86_64
#
# The verdict is qemu-test.sh's (scripts/egm/qemu-verdict.sh); the console
# is kept in $EGM_RESULTS/qemu-dma-test.console.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/egm/initramfs.sh
. "$(dirname "$0")/initramfs.sh"

# One QEMU run at a time, and none next to a build (see common.sh).
egm_build_lock
# shellcheck source=scripts/egm/qemu-verdict.sh
. "$(dirname "$0")/qemu-verdict.sh"

kbuild=${1:-$EGM_BUILD/kernel-x86_64}
bzimage=$kbuild/arch/x86/boot/bzImage
egm_overlay_is_ours "$kbuild/.egm-overlay-repo"
modules=("$kbuild/lib/egm/egm_core.ko" "$kbuild/samples/egm_parent/egm_parent.ko")
qemu_timeout=${EGM_QEMU_TIMEOUT:-2100}	# seconds
src=$EGM_REPO/tools/testing/egm

# Node 1 is [4G, 6G); its first 256 MiB is PXM 1's EGM range (as in the
# demo).  size base pxm: must match dma/init and egm_dma_e2e.c.
egm_ranges=("$((256 << 20)) $((0x140000000)) 1")
# intel_iommu=on: DMA remapping for the edu device.  QEMU's intel-iommu
# without interrupt remapping (TCG): type1 needs allow_unsafe_interrupts
# to attach a group; the suite's devices are polled, never interrupt.
cmdline="memmap=256M\$0x140000000 intel_iommu=on vfio_iommu_type1.allow_unsafe_interrupts=1"

[ -f "$bzimage" ] || egm_die "no kernel at $bzimage (build it first)"
ird=$EGM_BUILD/initramfs-dma
root=$ird/root
mkdir -p "$ird"

# ---- the initramfs ---------------------------------------------------------

egm_log "initramfs in $ird (QEMU, its libraries and firmware included)"
egm_initramfs_base "$root"
install -m 755 "$src/dma/init" "$root/init"
mkdir -p "$root/lib/egm"
install -m 644 "$src/init-lib.sh" "$root/lib/egm/"
gcc -static -O2 -Wall -Wextra -Werror -I"$EGM_REPO/include/uapi" \
	-o "$root/bin/egm_dma_e2e" "$src/egm_dma_e2e.c"
"$src/payload/build.sh" "$root" "$src/dma/payload.S" dma-payload.elf
for ko in "${modules[@]}"; do
	if [ -f "$ko" ]; then
		cp "$ko" "$root/lib/modules/"
	else
		egm_log "warning: $ko is missing"
	fi
done
# The nested QEMU: its binary, libraries, TCG module and firmware.
"$src/payload/qemu-files.sh" | while read -r f; do
	mkdir -p "$root${f%/*}"
	[ -e "$root$f" ] || [ -L "$root$f" ] || cp -P "$f" "$root$f"
done
[ -x "$root/usr/bin/qemu-system-x86_64" ] || egm_die "QEMU was not copied"
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

# ---- the run ---------------------------------------------------------------

# shellcheck disable=SC2054 # commas belong to QEMU options
qemu=(qemu-system-x86_64 -nodefaults -nographic -no-reboot -accel tcg
      -cpu qemu64,+pdpe1gb -smp 2
      -machine "q35,max-ram-below-4g=2G" -m 4G
      -object memory-backend-ram,id=m0,size=2G
      -object memory-backend-ram,id=m1,size=2G
      -numa node,nodeid=0,cpus=0,memdev=m0
      -numa node,nodeid=1,cpus=1,memdev=m1
      -device intel-iommu,caching-mode=on
      -device edu,addr=4
      -kernel "$bzimage" -initrd "$ird/initramfs.cpio.gz"
      -append "console=ttyS0 panic=-1 printk.time=1 $cmdline"
      -serial stdio)
egm_qemu_run qemu-dma-test "$qemu_timeout"

# ---- the verdict -----------------------------------------------------------

# What the tests saw, for the record: the DMA round trip, the page tables,
# the hand-off and its control, and the suite's own summary line.
grep -E '^egm-dma: ' "$log" | grep -vE '^egm-dma: (init:|kmemleak|modules)' || true
egm_qemu_verdict qemu-dma-test egm-dma egm_dma_e2e "$log" "$qrc" "$qemu_timeout"
