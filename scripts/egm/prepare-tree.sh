#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Lay the repository's files over the cached kernel tree and apply
# patches/, so that egm-core builds in-tree exactly as it would upstream.
#
# Files are copied only when their content differs (rsync --checksum), so
# unchanged files keep their timestamps and rebuilds stay incremental.  The
# applied patch series is remembered in the tree; when patches/ changes, the
# old series is reversed before the new one is applied.  Files that left the
# repository are removed from the tree again.
. "$(dirname "$0")/common.sh"

[ -f "$EGM_KSRC/Makefile" ] || egm_die "no kernel tree at $EGM_KSRC (run make setup)"
# Not under a build that reads the tree (another checkout's, too).
egm_build_lock
cd "$EGM_REPO"

manifest=$EGM_KSRC/.egm-overlay-files
applied=$EGM_KSRC/.egm-applied.patch
newlist=$(mktemp)
trap 'rm -f "$newlist"' EXIT

dirs=()
for d in $EGM_OVERLAY_DIRS; do
	[ -d "$d" ] && dirs+=("$d")
done
find "${dirs[@]}" -type f | LC_ALL=C sort > "$newlist"

# Remove what an earlier overlay added and the repository no longer has.
if [ -f "$manifest" ]; then
	LC_ALL=C comm -23 "$manifest" "$newlist" | while read -r f; do
		rm -f "$EGM_KSRC/$f"
	done
fi
rsync -r --checksum --files-from="$newlist" . "$EGM_KSRC/"
cp "$newlist" "$manifest"

# The applied series is kept patch by patch, so that it can be reversed
# in reverse order: two patches may touch the same lines.
applied_dir=$EGM_KSRC/.egm-applied
series=$(mktemp)
cat patches/*.patch > "$series" 2>/dev/null || true
if ! cmp -s "$series" "$applied" 2>/dev/null; then
	if [ -d "$applied_dir" ]; then
		egm_log "reverting the previous patch series"
		mapfile -t done_patches < <(cd "$applied_dir" &&
			printf '%s\n' *.patch | LC_ALL=C sort -r)
		for p in "${done_patches[@]}"; do
			patch -d "$EGM_KSRC" -p1 -R -s --no-backup-if-mismatch \
				< "$applied_dir/$p" ||
				egm_die "cannot reverse $p; restore $EGM_KSRC (make setup after removing it)"
		done
	elif [ -s "$applied" ]; then
		# A tree prepared before the series was kept patch by patch.
		egm_log "reverting the previous patch series"
		patch -d "$EGM_KSRC" -p1 -R -s --no-backup-if-mismatch < "$applied"
	fi
	rm -rf "$applied" "$applied_dir"
	mkdir -p "$applied_dir"
	for p in patches/*.patch; do
		[ -e "$p" ] || continue
		egm_log "applying $p"
		patch -d "$EGM_KSRC" -p1 -s --forward --no-backup-if-mismatch \
			--dry-run < "$p" >/dev/null || egm_die "$p does not apply"
		patch -d "$EGM_KSRC" -p1 -s --forward --no-backup-if-mismatch < "$p"
		cp "$p" "$applied_dir/"
		cat "$p" >> "$applied"
	done
fi
rm -f "$series"
# Whose sources the tree now holds (see egm_overlay_is_ours).
printf '%s\n' "$EGM_REPO" > "$EGM_KSRC/.egm-overlay-repo"
