#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the egm-core package (scripts/egm/dkms.sh) out of tree against a
# kernel build directory, in the cache, so that no build output lands in
# the repository: egm_core with its VFIO frontend, the sample parent,
# nvgrace-gpu with the EGM hooks when the kernel's source of it is found,
# the KUnit suites when the kernel has KUnit.
#
#   oot.sh [KDIR [install]]   default: the prepared x86_64 kernel build;
#                             install: into KDIR's kernel, updates/egm
#
# With KDIR it needs nothing of our set-up: a distribution's headers do.
. "$(dirname "$0")/common.sh"

kdir=${1:-$EGM_BUILD/kernel-x86_64}
rel=$(cat "$kdir/include/config/kernel.release" 2>/dev/null) ||
	egm_die "$kdir is not a configured kernel build (no include/config/kernel.release)"
out=$EGM_BUILD/oot-$rel
mkdir -p "$EGM_BUILD"
egm_build_lock
"$EGM_REPO/scripts/egm/dkms.sh" tree "$out.new"
# Keep the old build's objects where the sources did not change.
mkdir -p "$out"
rsync -r --checksum --delete --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod*' --exclude='modules.order' \
	--exclude='Module.symvers' --exclude='.source' \
	--exclude='drivers/vfio/pci/nvgrace-gpu/main.c' \
	--exclude='drivers/vfio/pci/nvgrace-gpu/Makefile' \
	--exclude='drivers/vfio/pci/nvgrace-gpu/Kconfig' \
	"$out.new/" "$out/"
rm -rf "$out.new"
egm_log "out-of-tree build against $kdir ($rel)"
make -C "$out" KDIR="$kdir" -j"$EGM_JOBS"
find "$out" -name '*.ko' -printf '  built %P\n' | sort
if [ "${2:-}" = install ]; then
	make -C "$out" KDIR="$kdir" install
fi
