#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end test of egm-core's VFIO frontend: boot the x86_64 kernel in
# QEMU (TCG) with five PCI "GPUs" (pci-testdev devices, each alone behind a
# PCI bridge) whose ACPI _DSD describes EGM regions the way Grace firmware does
# (tools/testing/egm/vfio/egm-ssdt.asl, compiled here with iasl), and a
# firmware retired-page table in guest memory; run the phases of
# tools/testing/egm/vfio/init: nvgrace-gpu with egm_frontend=vfio, then
# with egm_frontend=chardev, then the sample's egm_parent_vfio, each
# followed by tools/testing/egm/egm_vfio_e2e.c, with VFIO in no-IOMMU mode;
# then phase faultinject, the VFIO paths of tools/testing/egm/egm_faultinject.c
# (bind, open, region info, first mmap and pread) under failslab and
# fail_page_alloc.
#
#   qemu-vfio-test.sh [KERNEL_BUILD]   default: $EGM_BUILD/kernel-x86_64
#
# Then a second, short boot runs phase mce alone, with a machine check
# injected from the host (see "the machine-check boot" below); its console
# is $EGM_RESULTS/qemu-vfio-mce.console and its verdict is separate.
#
# KERNEL_BUILD is an O= build directory with arch/x86/boot/bzImage, vmlinux,
# lib/egm/egm_core.ko, drivers/vfio/pci/nvgrace-gpu/nvgrace-gpu-vfio-pci.ko
# and samples/egm_parent/egm_parent.ko.  Needs root (mknod in the initramfs
# tree), qemu-system-x86, busybox-static, cpio, gcc, iasl (acpica-tools),
# python3.
#
# The verdict is qemu-test.sh's (scripts/egm/qemu-verdict.sh): any FAIL
# line, a missing phase summary or "modules unloaded" line, a kmemleak
# report, any $EGM_KERNEL_REPORTS match in the console, or a QEMU that did
# not finish fails it; the console is kept in
# $EGM_RESULTS/qemu-vfio-test.console.
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
modules=("$kbuild/lib/egm/egm_core.ko"
	 "$kbuild/drivers/vfio/pci/nvgrace-gpu/nvgrace-gpu-vfio-pci.ko"
	 "$kbuild/samples/egm_parent/egm_parent.ko")
qemu_timeout=${EGM_QEMU_TIMEOUT:-1800}	# seconds: three phases
src=$EGM_REPO/tools/testing/egm

# ---- the machine -----------------------------------------------------------
#
# The EGM ranges must lie below 4 GiB: AML integers are 32 bits wide under
# QEMU's revision-1 DSDT (see egm-ssdt.asl).  They must also miss what
# QEMU and SeaBIOS put at fixed places in low RAM: the initrd just below
# 2 GiB (the kernel's initrd_addr_max) and the ACPI tables at the top of
# RAM below 4 GiB.  egm_qemu_host's 4 GiB, with 3 GiB below 4 GiB and
# nodes of 768 MiB and 3328 MiB, gives node 0 (PXM 0) [0, 768M) and node 1
# (PXM 1) [768M, 3G) and [4G, 4.25G) (checked against the SRAT lines of
# the console): PXM 0's 256 MiB region ends node 0, PXM 1's 1 GiB region
# starts node 1, both clear of the initrd and the tables.  memmap=SIZE$BASE
# hides each EGM range, and the 64 KiB holding the retired-page table, from
# the kernel.
ram_below_4g=3G
node_sizes=(768M 3328M)
node_ranges=("0 $((768 << 20))" "$((768 << 20)) $((3 << 30))")
# size base pxm: must match egm-ssdt.asl, vfio/init and egm_vfio_e2e.c
egm_ranges=("$((256 << 20)) $((0x20000000)) 0" "$((1 << 30)) $((0x30000000)) 1")
retired_table=0x1fff0000	# the SSDT's nvidia,egm-retired-pages-data-base
retired_pa=(0x30200000 0x40010000)	# each retires the 64 KiB block holding it

for r in "${egm_ranges[@]}"; do
	read -r size base pxm <<< "$r"
	read -r start end <<< "${node_ranges[$pxm]}"
	if [ "$base" -lt "$start" ] || [ $((base + size)) -gt "$end" ] ||
	   [ $((base + size)) -gt $(((2 << 30) - (64 << 20))) ]; then
		egm_die "$(printf 'EGM range %#x+%#x is not inside node %d [%#x, %#x) below the initrd' \
			"$base" "$size" "$pxm" "$start" "$end")"
	fi
done
cmdline="memmap=256M\$0x20000000 memmap=1G\$0x30000000 memmap=64K\$$retired_table"
cmdline+=" vfio.enable_unsafe_noiommu_mode=1"

# The GPUs: a pci-testdev in slot 0 behind a bridge in slots 5 to 9 of bus
# 0, so buses 1 to 5: 0000:0N:00.0, each alone on its bus (reset method
# "bus", which VFIO_DEVICE_RESET uses).  QEMU's DSDT names them
# \_SB.PCI0.S28.S00 ... \_SB.PCI0.S48.S00, where the SSDT adds the _DSDs.
# Neither the devices nor the bridges (shpc=off) have an interrupt pin:
# enabling a device with one evaluates QEMU's \_SB.PCI0._PRT, a 128-step
# AML loop that takes about 30 s on this debug kernel under TCG and then
# hits ACPICA's loop timeout; the suite enables a device at every open.
gpus=()
for slot in 5 6 7 8 9; do
	# shellcheck disable=SC2054 # commas belong to QEMU options
	gpus+=(-device "pci-bridge,id=br$slot,chassis_nr=$slot,addr=$slot,shpc=off"
	       -device "pci-testdev,bus=br$slot,addr=0")
done

# ---- the firmware: SSDT and retired-page table -----------------------------

command -v iasl > /dev/null || egm_die "iasl is missing (make setup: acpica-tools)"
command -v python3 > /dev/null || egm_die "python3 is missing (make setup)"
[ -f "$bzimage" ] || egm_die "no kernel at $bzimage (build it first)"
ird=$EGM_BUILD/initramfs-vfio
root=$ird/root
mkdir -p "$ird"
egm_log "SSDT and retired-page table in $ird"
rm -f "$ird/egm-ssdt.aml"
iasl -p "$ird/egm-ssdt" "$src/vfio/egm-ssdt.asl" > "$ird/iasl.log" 2>&1 || {
	cat "$ird/iasl.log"
	egm_die "iasl could not compile $src/vfio/egm-ssdt.asl"
}
# The table as firmware writes it: a little-endian u64 count, then the
# u64 physical addresses.  QEMU's loader device puts it in guest RAM.
python3 - "$ird/retired.bin" "${retired_pa[@]}" <<'PY'
import struct
import sys

addrs = [int(a, 0) for a in sys.argv[2:]]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<%dQ" % (1 + len(addrs)), len(addrs), *addrs))
PY

# ---- the initramfs ---------------------------------------------------------

egm_log "initramfs in $ird"
egm_initramfs_base "$root"
install -m 755 "$src/vfio/init" "$root/init"
mkdir -p "$root/lib/egm"
install -m 644 "$src/init-lib.sh" "$root/lib/egm/"
for prog in egm_vfio_e2e egm_faultinject; do
	gcc -static -O2 -Wall -Wextra -Werror -I"$EGM_REPO/include/uapi" \
		-o "$root/bin/$prog" "$src/$prog.c"
done
for ko in "${modules[@]}"; do
	if [ -f "$ko" ]; then
		cp "$ko" "$root/lib/modules/"
	else
		# /init reports it as a FAIL line; the run goes on to show the rest.
		egm_log "warning: $ko is missing"
	fi
done
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

# ---- the run ---------------------------------------------------------------

egm_qemu_host "$bzimage" "$ird/initramfs.cpio.gz" "$cmdline" "$ram_below_4g" \
	"${node_sizes[@]}"
# shellcheck disable=SC2054 # commas belong to QEMU options
qemu+=(-acpitable "file=$ird/egm-ssdt.aml"
       -device "loader,file=$ird/retired.bin,addr=$retired_table,force-raw=on"
       "${gpus[@]}")
egm_qemu_run qemu-vfio-test "$qemu_timeout"

# ---- the verdict -----------------------------------------------------------

# The firmware (ACPI tables, the retired-page table) lives in guest RAM
# next to the hidden ranges, so an ACPI error also counts as a kernel
# report here: it is what a range over the ACPI tables looks like once a
# scrub has zeroed them (a first layout did that, and every test passed).
EGM_KERNEL_REPORTS="$EGM_KERNEL_REPORTS|ACPI (BIOS )?Error"
export EGM_KERNEL_REPORTS

# The fault-injection phase's per-path lines, for the record.
grep -E '^egm-faultinject: ' "$log" | grep -v 'module code from' || true
rc=0
egm_qemu_verdict qemu-vfio-test egm-vfio egm_vfio_e2e "$log" "$qrc" \
	"$qemu_timeout" vfio chardev sample faultinject || rc=1

# ---- the machine-check boot ------------------------------------------------
#
# Phase mce of egm_vfio_e2e: a machine check while read() copies out of the
# region must fail that read() with EIO and retire the page, not kill the
# kernel.  QEMU's HMP command "mce" raises one on a vCPU; under TCG it is
# taken before the next instruction, so scripts/egm/mce-inject.py stops the
# guest (gdbstub) on the load of copy_mc_fragile() and raises it there,
# when the guest's read() copies into the buffer it named.  The kernel
# recovers from a machine check on a load only with the Intel severity
# rules (mce_severity_amd() needs SUCCOR, which QEMU 7.2 does not offer)
# and a machine-check-safe copy: hence an Intel CPU model, mce=recovery
# (copy_mc_fragile(); this CPU has no ERMS), mce=0 (no rendezvous of all
# CPUs) and mitigations=off (an Intel model without ARCH_CAPABILITIES
# would otherwise get page-table isolation, slow under TCG).
# EGM_MCE_TARGET="SYMBOL PATTERN" aims at another instruction: with
# "rep_movs_alternative rep movsq" the machine check lands in
# copy_to_user(), as it did before read() used the safe copy, and the
# kernel panics.
mce_timeout=${EGM_MCE_TIMEOUT:-900}
mce_sock=$ird/mce
rm -f "$mce_sock".mon "$mce_sock".gdb
egm_qemu_host "$bzimage" "$ird/initramfs.cpio.gz" \
	"$cmdline egm.mce_inject mce=recovery mce=0 mitigations=off" \
	"$ram_below_4g" "${node_sizes[@]}"
for i in "${!qemu[@]}"; do
	if [ "${qemu[$i]}" = -cpu ]; then
		qemu[i + 1]=qemu64,+pdpe1gb,vendor=GenuineIntel,family=6,model=106
	fi
done
# shellcheck disable=SC2054 # commas belong to QEMU options
qemu+=(-acpitable "file=$ird/egm-ssdt.aml"
       -device "loader,file=$ird/retired.bin,addr=$retired_table,force-raw=on"
       "${gpus[@]}"
       -monitor "unix:$mce_sock.mon,server=on,wait=off"
       -gdb "unix:$mce_sock.gdb,server=on,wait=off")
mkdir -p "$EGM_RESULTS"
rm -f "$EGM_RESULTS/qemu-vfio-mce.console"
mce_target=()
if [ -n "${EGM_MCE_TARGET:-}" ]; then
	mce_target=("${EGM_MCE_TARGET%% *}" "${EGM_MCE_TARGET#* }")
fi
python3 "$EGM_REPO/scripts/egm/mce-inject.py" \
	"$EGM_RESULTS/qemu-vfio-mce.console" "$mce_sock.mon" "$mce_sock.gdb" \
	"$kbuild/vmlinux" "${mce_target[@]}" \
	> "$EGM_RESULTS/qemu-vfio-mce.inject" 2>&1 &
injector=$!
egm_qemu_run qemu-vfio-mce "$mce_timeout"
kill "$injector" 2> /dev/null || true
wait "$injector" || true
cat "$EGM_RESULTS/qemu-vfio-mce.inject"
egm_qemu_verdict qemu-vfio-mce egm-vfio egm_vfio_e2e "$log" "$qrc" \
	"$mce_timeout" mce || rc=1
exit $rc
