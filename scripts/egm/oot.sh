#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build egm-core out of tree (M=) against KDIR, from a copy in the cache so
# that no build output lands in the repository.
#
#   oot.sh [KDIR]     default: the prepared x86_64 kernel build
. "$(dirname "$0")/common.sh"

kdir=${1:-$EGM_BUILD/kernel-x86_64}
[ -f "$kdir/Module.symvers" ] || [ -f "$kdir/.config" ] ||
	egm_die "$kdir is not a configured kernel build"
egm_build_lock
out=$EGM_BUILD/oot
mkdir -p "$out"
rsync -r --checksum --delete --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod*' --exclude='modules.order' \
	--exclude='Module.symvers' --exclude='Kbuild' \
	"$EGM_REPO/include" "$EGM_REPO/lib" "$EGM_REPO/samples" "$out/"

# The top-level Kbuild of the external module: our directories and our
# headers, which take the place of the ones the in-tree build gets from
# the patched tree.
cat > "$out/Kbuild" <<KBUILD
subdir-ccflags-y += -I$out/include
obj-m += lib/egm/ samples/egm_parent/
KBUILD

opts=(CONFIG_EGM_CORE=m CONFIG_SAMPLE_EGM_PARENT=m)
if grep -qE '^CONFIG_KUNIT=(y|m)' "$kdir/.config"; then
	opts+=(CONFIG_EGM_CORE_KUNIT_TEST=m)
fi
egm_log "out-of-tree build against $kdir"
make -C "$kdir" M="$out" -j"$EGM_JOBS" "${opts[@]}" modules
find "$out" -name '*.ko' -printf '  built %P\n' | sort
egm_record modules "$(find "$out" -name '*.ko' | wc -l)" 0 0
