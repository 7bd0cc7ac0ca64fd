# SPDX-License-Identifier: GPL-2.0
# Shared settings for the egm-core build scripts; sourced, not run.
#
# Everything that is large or slow to make lives under EGM_CACHE, outside
# the repository, so that a second run (or CI on the same machine) reuses it.

set -euo pipefail

EGM_REPO=${EGM_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
EGM_CACHE=${EGM_CACHE:-$HOME/.cache/egm}
EGM_KVER=${EGM_KVER:-6.12}
EGM_KSRC=${EGM_KSRC:-$EGM_CACHE/src/linux-source-$EGM_KVER}
EGM_BUILD=${EGM_BUILD:-$EGM_CACHE/build}
EGM_RESULTS=${EGM_RESULTS:-$EGM_CACHE/results}
EGM_JOBS=${EGM_JOBS:-$(nproc)}

# Directories of the repository that mirror the kernel tree and are laid
# over it.  Only files we wrote live there; upstream files change through
# patches/.
EGM_OVERLAY_DIRS="include lib drivers samples Documentation tools"

# What a kernel prints when something went wrong; any of it fails a test run.
EGM_KERNEL_REPORTS='WARNING:|BUG:|Oops|Call Trace:|KASAN|UBSAN|kmemleak|possible (circular|recursive) locking|inconsistent lock state|lock held when returning|sleeping function called from invalid context|INFO: task .* blocked|RCU stall|Kernel panic|:[0-9]+: bad (pgd|p4d|pud|pmd|pte) '
export EGM_KERNEL_REPORTS

# Kernel builds and QEMU runs are serialised machine-wide through this lock:
# two builds on a two-core machine only slow each other down, a benchmark
# measured next to a build measures the build, a TCG suite next to another
# misses its timeouts, and two runs of one suite share its initramfs and
# console files.  Scripts started by a holder skip it.
EGM_BUILD_LOCK=${EGM_BUILD_LOCK:-$EGM_CACHE/.build.lock}

# egm_build_lock: hold the build lock until this script exits
egm_build_lock() {
	[ -z "${EGM_BUILD_LOCK_HELD:-}" ] || return 0
	mkdir -p "$(dirname "$EGM_BUILD_LOCK")"
	exec 9>>"$EGM_BUILD_LOCK"
	if ! flock -n 9; then
		egm_log "waiting for the build lock $EGM_BUILD_LOCK"
		flock 9
	fi
	export EGM_BUILD_LOCK_HELD=1
}

# The kernel tree in the cache is shared by every checkout that uses the
# cache.  prepare-tree.sh records which checkout it last laid over the tree,
# kernel.sh copies that into each build; a build or a boot of a kernel made
# from another checkout's sources stops here instead of testing them.
#
# egm_overlay_is_ours FILE: FILE (a tree's or a build's record) is absent
# or names this checkout; otherwise die saying whose it is.
egm_overlay_is_ours() {
	local from
	[ -f "$1" ] || return 0
	from=$(cat "$1")
	[ "$from" = "$EGM_REPO" ] ||
		egm_die "$(dirname "$1") holds the sources of $from, not of $EGM_REPO: run make kernel (or make prepare) from here"
}

egm_log() { printf '==> %s\n' "$*"; }
egm_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# egm_record NAME PASSED FAILED SKIPPED: result of one suite, for the summary
egm_record() {
	mkdir -p "$EGM_RESULTS"
	printf '%s %s %s %s\n' "$2" "$3" "$4" "$1" > "$EGM_RESULTS/$1"
}
