#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make series-check: the series of make series, as a maintainer would take
# it.  Prints "ok NAME" or "FAIL NAME: why" per check, then
# "series: N passed, N failed".
#
#   generated        series.sh wrote a cover letter and the patches
#   applies NNNN     git am of each patch, in order, onto the pristine tree
#   same_tree        git am's result is the tree the series was built as
#   checkpatch NNNN  checkpatch.pl --strict on each patch (in the git tree,
#                    so spdxcheck runs too): no error, warning or check
#   cover_letter     subject and blurb filled in, get_maintainer.pl's
#                    list in it, the egm-core entry and lists among it
#   no_compat        nothing of the version-compat header in the series
#   suites_tree      every file the series adds or changes is the file the
#                    test suites' kernels are built from, but for the
#                    compat header's uses in lib/egm/
#   build_*          what differs (lib/egm/) and what the series adds
#                    outside the core (nvgrace-gpu, the sample) built from
#                    the applied tree with W=1 against the suites' x86_64
#                    and arm64 kernels: no warning
#
# The rest of the applied tree is byte for byte what make check's kernels
# (x86_64, arm64 with 4 KiB and 64 KiB pages) build, so those builds are
# the series' whole-tree builds.  lib/egm/ does not change after its
# patch, nor nvgrace-gpu or the sample after theirs, so the builds above
# are also those of every later step; the kernel patches (KVM, type1) are
# built only in the final tree.
. "$(dirname "$0")/common.sh"

pristine=$EGM_CACHE/series/linux
out=$EGM_BUILD/series
log=$EGM_RESULTS/series-logs
rm -rf "$log"
mkdir -p "$log"
PASS=0
FAILS=0
ok() { echo "ok $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
finish() {
	egm_record series "$PASS" "$FAILS" 0
	echo "series: $PASS passed, $FAILS failed"
	[ "$FAILS" = 0 ]
	exit
}
git_p() { git -C "$pristine" -c gc.auto=0 "$@"; }

egm_build_lock
if "$EGM_REPO/scripts/egm/series.sh" "$out" > "$log/series.log" 2>&1 &&
	[ -f "$out/0000-cover-letter.patch" ]; then
	ok generated
else
	bad generated "$(tail -3 "$log/series.log")"
	finish
fi
mapfile -t patches < <(find "$out" -name '0*.patch' ! -name '0000-*' | LC_ALL=C sort)
say_n() { basename "$1" | cut -c1-4; }

# ---- a maintainer's git am -------------------------------------------------

git_p am --abort > /dev/null 2>&1 || true
git_p checkout -q -f -B egm-am pristine
git_p clean -q -fdx
applied=1
for p in "${patches[@]}"; do
	if git_p am -q "$p" > "$log/am.log" 2>&1; then
		ok "applies $(say_n "$p")"
	else
		bad "applies $(say_n "$p")" "$(head -3 "$log/am.log")"
		git_p am --abort > /dev/null 2>&1
		applied=0
		break
	fi
done
[ "$applied" = 1 ] || finish
[ "$(git_p rev-parse 'egm-am^{tree}')" = "$(git_p rev-parse 'egm-series^{tree}')" ]
check_rc=$?
if [ $check_rc = 0 ]; then ok same_tree; else bad same_tree "$(git_p diff --stat egm-series egm-am | tail -1)"; fi

# ---- checkpatch, cover letter, compat ----------------------------------------

for p in "${patches[@]}"; do
	# spdxcheck.py needs Debian's python3-ply: the system python3 first.
	(cd "$pristine" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict \
		--terse --no-summary --show-types "$p") > "$log/checkpatch.log" 2>&1
	if [ -s "$log/checkpatch.log" ]; then
		bad "checkpatch $(say_n "$p")" "$(head -5 "$log/checkpatch.log")"
	else
		ok "checkpatch $(say_n "$p")"
	fi
done

cover=$out/0000-cover-letter.patch
ident=$(sed -n 's/^From: //p' "$EGM_REPO"/patches/0001-*.patch | head -1)
if ! grep -q '\*\*\*' "$cover" && grep -q '^Subject: \[PATCH 00/' "$cover" &&
	grep -qF "get_maintainer.pl on this series" "$cover" &&
	grep -qF "  $ident" "$cover" && grep -qF '  kvm@vger.kernel.org' "$cover"; then
	ok cover_letter
else
	bad cover_letter "placeholders left, or no get_maintainer.pl list with $ident"
fi
if grep -nE 'egm_compat|LINUX_VERSION_CODE|KERNEL_VERSION\(|EGM_PFN_SPACE' \
	"${patches[@]}" > "$log/compat.log"; then
	bad no_compat "$(head -3 "$log/compat.log")"
else
	ok no_compat
fi

# ---- the suites' tree --------------------------------------------------------

egm_overlay_is_ours "$EGM_KSRC/.egm-overlay-repo"
: > "$log/suites_tree.log"
while read -r f; do
	cmp -s "$pristine/$f" "$EGM_KSRC/$f" && continue
	case $f in
	MAINTAINERS) continue ;;	# not built; the suites' tree has no entry
	lib/egm/*.[ch])
		# Only the files the compat transform touches may differ.
		grep -qE 'egm_compat\.h|EGM_PFN_SPACE|EGM_CORE_NS|EGM_FOP_DMA_HOLD|egm_vmf_insert' \
			"$EGM_REPO/$f" && continue ;;
	esac
	echo "$f" >> "$log/suites_tree.log"
done < <(git_p diff --name-only pristine egm-am)
if [ -s "$log/suites_tree.log" ]; then
	bad suites_tree "differ from $EGM_KSRC: $(head -5 "$log/suites_tree.log" | paste -sd' ')"
else
	ok suites_tree
fi

# ---- builds of the applied tree ----------------------------------------------

# build NAME CONFIG DIR [EXTRA_SYMBOLS]: DIR of the applied tree as external
# modules against the suites' kernel CONFIG, with W=1.
build() {
	local name=$1 cfg=$2 dir=$3 syms=${4:-} arch=x86_64 cross=
	case $cfg in arm64*) arch=arm64 cross=aarch64-linux-gnu- ;; esac
	"$EGM_REPO/scripts/egm/kernel.sh" "$cfg" > "$log/kernel-$cfg.log" 2>&1 ||
		{ bad "$name" "kernel $cfg does not build"; return; }
	git_p clean -q -fdx -- "$dir"
	make -C "$EGM_KSRC" O="$EGM_BUILD/kernel-$cfg" ARCH=$arch \
		CROSS_COMPILE=$cross -j"$EGM_JOBS" W=1 M="$pristine/$dir" \
		${syms:+KBUILD_EXTRA_SYMBOLS=$syms} modules > "$log/$name.log" 2>&1
	local rc=$?
	local ko
	ko=$(find "$pristine/$dir" -name '*.ko' | wc -l)
	if [ $rc = 0 ] && [ "$ko" -gt 0 ] &&
		! grep -qE 'warning:|error:|WARNING:' "$log/$name.log"; then
		ok "$name"
		echo "  $name: $ko modules: $(find "$pristine/$dir" -name '*.ko' -printf '%f ')"
	else
		bad "$name" "make rc $rc, $ko modules; $(grep -m3 -E 'warning:|error:|WARNING:' "$log/$name.log")"
	fi
}

egm_log "building the applied tree's lib/egm, nvgrace-gpu and sample"
core_syms=$pristine/lib/egm/Module.symvers
build build_lib_egm_x86_64 x86_64 lib/egm
build build_nvgrace_gpu_x86_64 x86_64 drivers/vfio/pci/nvgrace-gpu "$core_syms"
build build_egm_parent_x86_64 x86_64 samples/egm_parent "$core_syms"
build build_lib_egm_arm64 arm64 lib/egm
build build_nvgrace_gpu_arm64 arm64 drivers/vfio/pci/nvgrace-gpu "$core_syms"
git_p clean -q -fdx -- lib/egm drivers/vfio/pci/nvgrace-gpu samples/egm_parent

finish
