#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The egm-core demo: boot a QEMU "host" with egm-core and the sample parent,
# and inside it run a nested QEMU whose guest RAM is /dev/egm1.
#
#   demo.sh talk|check [KERNEL_BUILD]
#
# talk (make demo) explains every step; check (make check) prints only the
# checks and records them.  The script of the host is
# tools/testing/egm/demo-init; the nested guest is the boot payload in
# tools/testing/egm/payload/.
# shellcheck source=scripts/egm/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=scripts/egm/initramfs.sh
. "$(dirname "$0")/initramfs.sh"

# One QEMU run at a time, and none next to a build (see common.sh).
egm_build_lock

mode=${1:-talk}
kbuild=${2:-$EGM_BUILD/kernel-x86_64}
case "$mode" in
talk | check) ;;
*) egm_die "usage: demo.sh talk|check [KERNEL_BUILD]" ;;
esac
bzimage=$kbuild/arch/x86/boot/bzImage
egm_overlay_is_ours "$kbuild/.egm-overlay-repo"
[ -f "$bzimage" ] || egm_die "no kernel at $bzimage (build it first)"

ird=$EGM_BUILD/initramfs-demo
root=$ird/root
egm_log "demo initramfs in $ird (QEMU, its libraries and firmware included)"
egm_initramfs_base "$root"
install -m 755 "$EGM_REPO/tools/testing/egm/demo-init" "$root/init"
gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/egm_demo" \
	"$EGM_REPO/tools/testing/egm/egm_demo.c"
"$EGM_REPO/tools/testing/egm/payload/build.sh" "$root"
cp "$kbuild/lib/egm/egm_core.ko" "$kbuild/samples/egm_parent/egm_parent.ko" \
	"$root/lib/modules/"
# The nested QEMU: its binary, libraries, TCG module and firmware.
"$EGM_REPO/tools/testing/egm/payload/qemu-files.sh" | while read -r f; do
	mkdir -p "$root${f%/*}"
	[ -e "$root$f" ] || [ -L "$root$f" ] || cp -P "$f" "$root$f"
done
[ -x "$root/usr/bin/qemu-system-x86_64" ] || egm_die "QEMU was not copied"
# The loader QEMU names must resolve inside the tree.
interp=$(readelf -l /usr/bin/qemu-system-x86_64 | sed -n 's/.*interpreter: \(.*\)]/\1/p')
[ -e "$root$interp" ] || egm_die "$interp does not resolve in the initramfs"
egm_initramfs_pack "$root" "$ird/initramfs.cpio.gz"

mkdir -p "$EGM_RESULTS"
console=$EGM_RESULTS/demo-$mode.console
# The host: 4 GiB in two NUMA nodes, node 1 at 4-6 GiB; 256 MiB of node 1
# hidden from the kernel as the EGM region of PXM 1.
egm_qemu_host "$bzimage" "$ird/initramfs.cpio.gz" \
	"memmap=256M\$0x140000000 egm_demo=$mode"

egm_log "booting the demo host (QEMU TCG); this takes a few minutes"
set +e
if [ "$mode" = talk ]; then
	# Show the host's story, not its boot log nor the firmware's screen.
	timeout -k 10 1200 "${qemu[@]}" < /dev/null 2>&1 | tr -d '\r' |
		tee "$console" |
		sed -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
		grep -vE '^\[ *[0-9]+\.[0-9]+\]|^SeaBIOS|^Booting from ROM|^$'
else
	timeout -k 10 1200 "${qemu[@]}" < /dev/null 2>&1 | tr -d '\r' > "$console"
fi
set -e

passed=$(grep -c '^ok ' "$console" || true)
failed=$(grep -c '^FAIL ' "$console" || true)
[ "$mode" = check ] && grep -E '^(ok|FAIL) ' "$console"
if ! grep -qE '^demo: [0-9]+ passed, [0-9]+ failed$' "$console"; then
	echo "demo: the host did not finish; last lines:"
	tail -20 "$console"
	failed=$((failed + 1))
fi
if ! python3 "$EGM_REPO/scripts/egm/scan-reports.py" demo "$console" \
	"$EGM_REPO/tools/testing/egm/known-reports"; then
	echo "demo: kernel reports in the console (above)"
	failed=$((failed + 1))
fi
if [ "$mode" = check ]; then
	egm_record demo "$passed" "$failed" 0
	echo "demo: $passed passed, $failed failed"
fi
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
