#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The control of the bad-input tests (Documentation/userspace-api/
# egm-bad-input.rst): take away, one check each, the validation that rows
# of the table rely on, and show that the test named for the row fails.
#
#   bad-input-mutants.sh
#
# Copies lib/, include/ and samples/ to $EGM_BUILD/mutants/src, applies
# every mutant below at once (each must match its source exactly once, so
# a mutant that no longer applies is an error, not a pass), builds the
# modules out of tree against the x86_64 debug kernel, and boots qemu-test.sh
# with that kernel and the mutated modules (results and consoles in
# $EGM_BUILD/mutants/results, away from make check's).  Each mutant is
# "killed" when its test prints a FAIL line that contains the expected
# text; every mutant must be killed.  One boot, about as long as
# make qemu-test's first one; not part of make check.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"

egm_build_lock
kdir=$EGM_BUILD/kernel-x86_64
[ -f "$kdir/arch/x86/boot/bzImage" ] || egm_die "no kernel at $kdir (make kernel)"
work=$EGM_BUILD/mutants
src=$work/src
rm -rf "$work"
mkdir -p "$src"
cp -r "$EGM_REPO/include" "$EGM_REPO/lib" "$EGM_REPO/samples" "$src/"

# id|file|old|new|killing test|text of its FAIL line (fixed string)
# Separated by "|"; "\n" and "\t" in old and new are newlines and tabs.
mutants=(
"argsz|lib/egm/chardev.c|if (info.argsz < minsz \|\| info.flags)|if (info.flags)|ioctl_bad_argsz_and_pointers|EGM_GET_INFO(argsz 0): returned 0, want EINVAL"
"flags|lib/egm/chardev.c|if (hdr.argsz < minsz \|\| hdr.flags)|if (hdr.argsz < minsz)|ioctl_bad_input|EGM_GET_RETIRED_PAGES(flags 1): success, want EINVAL"
"llseek|lib/egm/chardev.c|return fixed_size_llseek(file, offset, whence, region->size);|return generic_file_llseek_size(file, offset, whence, LLONG_MAX, region->size);|file_ops_bad_input|lseek"
"poison-parse|samples/egm_parent/platform.c|err = kstrtou64_from_user(ubuf, count, 0, \&pa);\n\tif (err)\n\t\treturn err;|pa = 0;\n\terr = kstrtou64_from_user(ubuf, count, 0, \&pa);|sysfs_debugfs_bad_writes|poison"
"param-count|samples/egm_parent/platform.c|if (!nr_base \|\| nr_base != nr_size \|\| nr_base != nr_pxm) {|if (!nr_base) {|parent_module_params|insmod"
"zero-size|lib/egm/registry.c|if (!desc->size) {|if (0) {|egm_registry_zero_size|Expected"
"table-fits|lib/egm/poison.c|if (count > fits \|\| count > EGM_FW_RETIRED_MAX) {|if (count > EGM_FW_RETIRED_MAX) {|egm_poison_table_off_by_one|Expected"
)

apply_mutant() {
	local file=$1 old=$2 new=$3
	python3 - "$src/$file" "$old" "$new" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
unesc = lambda s: s.replace('\\|', '|').replace('\\&', '&').replace('\\n', '\n').replace('\\t', '\t')
old, new = unesc(old), unesc(new)
text = open(path).read()
n = text.count(old)
if n != 1:
    sys.exit(f"matches {n} times, want once: {old!r}")
open(path, 'w').write(text.replace(old, new))
PY
}

for m in "${mutants[@]}"; do
	IFS='|' read -r id file old new _ <<< "${m//\\|/$'\x01'}"
	old=${old//$'\x01'/\\|} new=${new//$'\x01'/\\|}
	apply_mutant "$file" "$old" "$new" || egm_die "mutant $id does not apply to $file"
	egm_log "mutant $id applied to $file"
done

# The modules, out of tree, like oot.sh: our headers first.
cat > "$src/Kbuild" <<KBUILD
subdir-ccflags-y += -I$src/include
obj-m += lib/egm/ samples/egm_parent/
KBUILD
make -C "$kdir" M="$src" -j"$EGM_JOBS" NOSTDINC_FLAGS="-nostdinc -I$src/include" \
	CONFIG_EGM_CORE=m CONFIG_SAMPLE_EGM_PARENT=m CONFIG_EGM_CORE_KUNIT_TEST=m \
	modules > "$work/build.log" 2>&1 || { tail -20 "$work/build.log"; egm_die "mutant build failed"; }

# A build directory for qemu-test.sh: the kernel's, with our modules.
kb=$work/kbuild
mkdir -p "$kb/arch/x86/boot" "$kb/lib/kunit" "$kb/lib/egm/tests" "$kb/samples/egm_parent"
ln -sf "$kdir/arch/x86/boot/bzImage" "$kb/arch/x86/boot/bzImage"
ln -sf "$kdir/vmlinux" "$kb/vmlinux"
ln -sf "$kdir/lib/kunit/kunit.ko" "$kb/lib/kunit/kunit.ko"
for ko in lib/egm/egm_core.ko lib/egm/tests/egm_core_kunit.ko samples/egm_parent/egm_parent.ko; do
	cp "$src/$ko" "$kb/$ko"
done

EGM_RESULTS=$work/results EGM_BUILD=$work "$EGM_REPO/scripts/egm/qemu-test.sh" "$kb" \
	> "$work/qemu-test.log" 2>&1 || true
console=$work/results/qemu-test.console
[ -f "$console" ] || egm_die "no console in $console (see $work/qemu-test.log)"

killed=0 survived=0
for m in "${mutants[@]}"; do
	IFS='|' read -r id _ _ _ test text <<< "${m//\\|/$'\x01'}"
	# The test's FAIL line: an e2e "FAIL test: ..." or KUnit's
	# "# test: EXPECTATION FAILED" followed by its text.
	line=$(grep -aE "FAIL $test:|# $test: (EXPECTATION|ASSERTION) FAILED|not ok [0-9]+ $test" \
		"$console" | head -1)
	if [ -n "$line" ] && { [ "$text" = Expected ] || grep -aqF -- "$text" <<< "$(grep -aF "$test" "$console")"; }; then
		echo "bad-input-mutants: killed $id by $test: ${line:0:160}"
		killed=$((killed + 1))
	else
		echo "bad-input-mutants: SURVIVED $id: $test did not fail naming \"$text\""
		survived=$((survived + 1))
	fi
done
echo "bad-input-mutants: ${#mutants[@]} mutants, $killed killed, $survived survived"
[ "$survived" = 0 ]
