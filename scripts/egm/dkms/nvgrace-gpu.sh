#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nvgrace-gpu for the package: the target kernel's own source of the
# driver, with our EGM hooks applied (nvgrace-gpu-egm.patch, which is
# patches/0004 of the egm-core tree), next to our egm.c and egm.h.
#
#   nvgrace-gpu.sh KDIR          fetch and patch, for the kernel at KDIR
#   nvgrace-gpu.sh --find KDIR   print where the source is, or fail
#   nvgrace-gpu.sh --clean       remove what was fetched
#
# The source is looked for, in this order:
#   $EGM_KERNEL_SOURCE              an unpacked tree, or a .tar.xz of one
#   KDIR, KDIR/source               a full tree (a kernel build directory)
#   /usr/src/linux-source-V.P.tar.xz  Debian's linux-source-V.P package
# and must be of the target kernel's version.  Without it the package is
# built without nvgrace-gpu, and this says so.
set -e

here=$(cd "$(dirname "$0")" && pwd)
drv=drivers/vfio/pci/nvgrace-gpu
fetched="Kconfig Makefile main.c"

say() { echo "egm-core: $*" >&2; }

# What an earlier run fetched, for whatever kernel.
clean() {
	for f in $fetched .source; do
		rm -f "$here/$drv/$f"
	done
}

# No nvgrace-gpu: --find fails, a build goes on without the driver.
skip() {
	[ -z "$find_only" ] || exit 1
	clean
	exit 0
}

# V.P.S of the kernel at $1 (a build directory or a linux-headers one).
kernel_version() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
		-C "$1" kernelversion 2>/dev/null | grep -E '^[0-9]+\.[0-9]+' | tail -n 1
}

# Where the driver's source for version $2 is, for the kernel at $1.
find_source() {
	ver=$2
	if [ -n "$EGM_KERNEL_SOURCE" ]; then
		echo "$EGM_KERNEL_SOURCE"
		return 0
	fi
	for d in "$1" "$1/source"; do
		if [ -f "$d/$drv/main.c" ]; then
			echo "$d"
			return 0
		fi
	done
	vp=${ver%.*}
	tarball=/usr/src/linux-source-$vp.tar.xz
	deb=$(dpkg-query -W -f '${Version}' "linux-source-$vp" 2>/dev/null || true)
	if [ -f "$tarball" ] && [ "${deb%%-*}" = "$ver" ]; then
		echo "$tarball"
		return 0
	fi
	return 1
}

if [ "$1" = --clean ]; then
	clean
	exit 0
fi
find_only=
if [ "$1" = --find ]; then
	find_only=y
	shift
fi
kdir=$1
[ -n "$kdir" ] || { say "usage: nvgrace-gpu.sh [--find] KDIR"; exit 2; }
ver=$(kernel_version "$kdir")
case $ver in
[0-5].* | 6.[0-9] | 6.[0-9].* | 6.1[01] | 6.1[01].*)
	skip	# too old: the build itself says so
	;;
esac
if ! src=$(find_source "$kdir" "$ver"); then
	[ -n "$find_only" ] ||
		say "no source of nvgrace-gpu for Linux $ver (install linux-source-${ver%.*} of that version, or set EGM_KERNEL_SOURCE); building without it"
	skip
fi
tree_version() {
	sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' \
		"$1/Makefile" | paste -sd.
}
mismatch() {
	say "the source at $src is Linux $1, the kernel is $ver; building without nvgrace-gpu"
	skip
}
if [ -d "$src" ] && [ "$(tree_version "$src")" != "$ver" ]; then
	mismatch "$(tree_version "$src")"
fi
if [ -n "$find_only" ]; then
	echo "$src"
	exit 0
fi
if [ "$(cat "$here/$drv/.source" 2>/dev/null)" = "$ver $src" ] &&
   [ -f "$here/$drv/main.c" ]; then
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -d "$src" ]; then
	cp "$src/$drv/Kconfig" "$src/$drv/Makefile" "$src/$drv/main.c" "$tmp/"
else
	say "unpacking nvgrace-gpu from $src"
	tar -C "$tmp" -xJf "$src" --wildcards --no-wildcards-match-slash \
		'*/Makefile' "*/$drv/Kconfig" "*/$drv/Makefile" "*/$drv/main.c"
	top=$(ls "$tmp")
	srcver=$(tree_version "$tmp/$top")
	[ "$srcver" = "$ver" ] || mismatch "$srcver"
	mv "$tmp/$top/$drv/Kconfig" "$tmp/$top/$drv/Makefile" \
		"$tmp/$top/$drv/main.c" "$tmp/"
fi
mkdir -p "$tmp/tree/$drv"
mv "$tmp/Kconfig" "$tmp/Makefile" "$tmp/main.c" "$tmp/tree/$drv/"
# A tree with egm-core in it (ours, prepared) has the hooks already.
if patch -d "$tmp/tree" -p1 -s -R --dry-run \
	< "$here/nvgrace-gpu-egm.patch" > /dev/null 2>&1; then
	:
elif ! patch -d "$tmp/tree" -p1 -s --forward --no-backup-if-mismatch \
	< "$here/nvgrace-gpu-egm.patch"; then
	say "our EGM hooks do not apply to nvgrace-gpu of Linux $ver; building without it"
	skip
fi
for f in $fetched; do
	mv "$tmp/tree/$drv/$f" "$here/$drv/$f"
done
echo "$ver $src" > "$here/$drv/.source"
say "nvgrace-gpu of Linux $ver from $src, with the EGM hooks"
