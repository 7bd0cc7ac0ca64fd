#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The arm64 user space the arm64 host suite runs: Debian's arm64 QEMU
# (the nested VMM, under KVM), busybox and strace, from Debian's multiarch
# packages, unpacked into $EGM_CACHE/arm64-root without installing them
# (qemu-system-arm:arm64 would replace the host's amd64 QEMU).
#
#   arm64-userland.sh          prints the sysroot's path
#
# The packages are those qemu-system-arm:arm64 and busybox-static:arm64
# depend on, recursively; arm64-initramfs copies only the files the
# binaries need out of the sysroot.  Idempotent: a second run only checks.
. "$(dirname "$0")/common.sh"

sysroot=$EGM_CACHE/arm64-root
stamp=$sysroot/.egm-complete
top=(qemu-system-arm:arm64 busybox-static:arm64 strace:arm64)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${top[*]}" ]; then
	echo "$sysroot"
	exit 0
fi
[ "$(id -u)" = 0 ] || egm_die "need root to add the arm64 architecture to dpkg"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	egm_log "adding arm64 to dpkg's architectures (multiarch)" >&2
	dpkg --add-architecture arm64
	apt-get update -q >&2
fi
if ! apt-cache show qemu-system-arm:arm64 > /dev/null 2>&1; then
	apt-get update -q >&2
fi

mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends \
	--no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
	"${top[@]}" | grep -E '^[a-z0-9][^ ]*:arm64$' | sort -u)
[ ${#pkgs[@]} -gt 2 ] || egm_die "no arm64 dependencies found for ${top[*]}"

rm -rf "$sysroot"
mkdir -p "$sysroot/debs"
egm_log "downloading ${#pkgs[@]} arm64 packages into $sysroot/debs" >&2
(cd "$sysroot/debs" && apt-get download -q "${pkgs[@]}" >&2)
for deb in "$sysroot"/debs/*.deb; do
	dpkg-deb -x "$deb" "$sysroot"
done
[ -x "$sysroot/usr/bin/qemu-system-aarch64" ] ||
	egm_die "qemu-system-aarch64 missing from $sysroot"
[ -x "$sysroot/bin/busybox" ] || egm_die "busybox missing from $sysroot"
rm -rf "$sysroot/debs"
echo "${top[*]}" > "$stamp"
echo "$sysroot"
