#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the egm-core KUnit suites with the kernel's own kunit.py.
#
#   kunit.sh CONFIG     CONFIG is one of: um x86_64 arm64 arm64-64k
#
# um runs under User Mode Linux; the others boot the test kernel in QEMU
# (TCG: see DESIGN.md on KVM).  Fails when a test fails, when no test ran,
# or when a test is skipped without an entry in tools/testing/egm/kunit-skips.
. "$(dirname "$0")/common.sh"

cfg=${1:?usage: kunit.sh um|x86_64|arm64|arm64-64k}
args=()
case "$cfg" in
um) args+=(--arch=um) ;;
x86_64) args+=(--arch=x86_64) ;;
arm64) args+=(--arch=arm64 --cross_compile=aarch64-linux-gnu-) ;;
arm64-64k)
	args+=(--arch=arm64 --cross_compile=aarch64-linux-gnu-
	       --kconfig_add CONFIG_ARM64_64K_PAGES=y) ;;
*) egm_die "unknown KUnit configuration '$cfg'" ;;
esac

build=$EGM_BUILD/kunit-$cfg
mkdir -p "$build" "$EGM_RESULTS"
log=$EGM_RESULTS/kunit-$cfg.log
json=$EGM_RESULTS/kunit-$cfg.json
rm -f "$json"

egm_log "KUnit ($cfg), build directory $build"
cd "$EGM_KSRC"
set +e
python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$EGM_KSRC/lib/egm/tests/.kunitconfig" \
	--build_dir="$build" --jobs="$EGM_JOBS" --timeout=600 \
	--json="$json" "${args[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

python3 "$EGM_REPO/scripts/egm/kunit-results.py" "$cfg" "$json" \
	"$EGM_REPO/tools/testing/egm/kunit-skips" "$EGM_RESULTS/kunit-$cfg" ||
	exit 1
[ "$rc" = 0 ] || egm_die "kunit.py exited with $rc"
