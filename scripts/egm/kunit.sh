#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the egm-core KUnit suites with the kernel's own kunit.py.
#
#   kunit.sh CONFIG     CONFIG is one of: um x86_64 arm64 arm64-64k
#
# um runs under User Mode Linux; x86_64 boots kunit.py's test kernel in
# QEMU (TCG); arm64 and arm64-64k run the suites as modules on the arm64
# host kernel (scripts/egm/arm64-host.sh, which also runs its KVM checks).
# Fails when a test fails, when no test ran, or when a test is skipped
# without an entry in tools/testing/egm/kunit-skips.
. "$(dirname "$0")/common.sh"

cfg=${1:?usage: kunit.sh um|x86_64|arm64|arm64-64k}

# The x86_64 configuration boots with 3 GiB and hides the last GiB from
# the kernel, the way firmware hides an EGM region: memmap=1G$2G (an e820
# "Reserved" range).  The mapping and scrub suites use that range; UML has
# none and they skip there (tools/testing/egm/kunit-skips).
qemu_mem=(--qemu_args "-m 3G"
	  --kernel_args egm_core_kunit.mem_size=0x40000000
	  --kconfig_add CONFIG_TRANSPARENT_HUGEPAGE=y)
args=()
case "$cfg" in
um) args+=(--arch=um) ;;
x86_64)
	# The x86_64 run is also the lock and sleep checker of the suites.
	args+=(--arch=x86_64 "${qemu_mem[@]}"
	       --kconfig_add CONFIG_DEBUG_KERNEL=y
	       --kconfig_add CONFIG_PROVE_LOCKING=y
	       --kconfig_add CONFIG_DEBUG_ATOMIC_SLEEP=y
	       --kconfig_add CONFIG_DEBUG_VM=y
	       --kconfig_add CONFIG_DETECT_HUNG_TASK=y
	       --kconfig_add CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=60
	       --kernel_args 'memmap=1G$0x80000000'
	       --kernel_args egm_core_kunit.mem_base=0x80000000) ;;
arm64 | arm64-64k)
	# One arm64 kernel per page size serves KUnit and the arm64 KVM host
	# suite: the suites run as modules inside that suite's boot.
	exec "$EGM_REPO/scripts/egm/arm64-host.sh" "$cfg" ;;
*) egm_die "unknown KUnit configuration '$cfg'" ;;
esac

egm_build_lock
egm_overlay_is_ours "$EGM_KSRC/.egm-overlay-repo"
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

# A passing test that made the kernel complain is a failure too.
cp "$build/test.log" "$EGM_RESULTS/kunit-$cfg.console"
if ! EGM_KERNEL_REPORTS="$EGM_KERNEL_REPORTS" python3 \
	"$EGM_REPO/scripts/egm/scan-reports.py" "$cfg" "$build/test.log" \
	"$EGM_REPO/tools/testing/egm/known-reports"; then
	echo "kunit-$cfg: kernel reports in the console log (above)"
	read -r p f s n < "$EGM_RESULTS/kunit-$cfg"
	egm_record "kunit-$cfg" "$p" $((f + 1)) "$s"
	echo "kunit-$cfg: $p passed, $((f + 1)) failed, $s skipped"
	exit 1
fi
