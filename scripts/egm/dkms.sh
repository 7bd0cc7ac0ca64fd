#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The egm-core package: the source tree DKMS builds (and plain make, with
# KDIR=), written from the repository.  See scripts/egm/dkms/.
#
#   dkms.sh version            the package version
#   dkms.sh tree DEST          write the package source to DEST (replaced)
#   dkms.sh install [KVER]     the source to $sourcetree/egm-core-VERSION,
#                              then dkms add, build and install for KVER
#                              (default: the running kernel); as root
#   dkms.sh remove             dkms remove of this version, and its source
#
# DKMS's places can be moved, as the dkms suite does to leave the system
# alone: EGM_DKMS_SOURCETREE (/usr/src), EGM_DKMS_TREE (/var/lib/dkms),
# EGM_DKMS_INSTALLTREE (/lib/modules), EGM_DKMS_KSRC (the kernel build
# directory; DKMS's default is /lib/modules/KVER/build).
. "$(dirname "$0")/common.sh"

pkg=egm-core
sourcetree=${EGM_DKMS_SOURCETREE:-/usr/src}

version() {
	local n

	n=$(git -C "$EGM_REPO" rev-list --count HEAD 2>/dev/null) || n=0
	echo "0.1.$n"
}

# tree DEST VERSION
write_tree() {
	local dest=$1 ver=$2 d=scripts/egm/dkms nv=drivers/vfio/pci/nvgrace-gpu

	rm -rf "$dest"
	mkdir -p "$dest/$nv"
	(cd "$EGM_REPO" && cp -r --parents include lib/egm samples/egm_parent \
		"$nv/egm.c" "$nv/egm.h" "$dest/")
	cp "$EGM_REPO/$d/Kbuild" "$EGM_REPO/$d/Makefile" \
		"$EGM_REPO/$d/nvgrace-gpu.sh" "$dest/"
	cp "$EGM_REPO"/patches/0004-vfio-nvgrace-gpu-*.patch \
		"$dest/nvgrace-gpu-egm.patch"
	sed "s/@VERSION@/$ver/" "$EGM_REPO/$d/dkms.conf.in" > "$dest/dkms.conf"
}

dkms_opts() {
	local o=(--sourcetree "$sourcetree")

	[ -z "${EGM_DKMS_TREE:-}" ] || o+=(--dkmstree "$EGM_DKMS_TREE")
	[ -z "${EGM_DKMS_INSTALLTREE:-}" ] || o+=(--installtree "$EGM_DKMS_INSTALLTREE")
	[ -z "${EGM_DKMS_KSRC:-}" ] || o+=(--kernelsourcedir "$EGM_DKMS_KSRC")
	printf '%s\n' "${o[@]}"
}

cmd=${1:-}
case $cmd in
version)
	version
	;;
tree)
	[ $# -eq 2 ] || egm_die "usage: dkms.sh tree DEST"
	write_tree "$2" "$(version)"
	;;
install)
	kver=${2:-$(uname -r)}
	ver=$(version)
	command -v dkms > /dev/null || egm_die "dkms is not installed (apt-get install dkms)"
	mapfile -t opts < <(dkms_opts)
	dkms remove "$pkg/$ver" --all "${opts[@]}" > /dev/null 2>&1 || true
	write_tree "$sourcetree/$pkg-$ver" "$ver"
	dkms add "$pkg/$ver" "${opts[@]}"
	dkms build "$pkg/$ver" -k "$kver" "${opts[@]}"
	dkms install "$pkg/$ver" -k "$kver" "${opts[@]}"
	;;
remove)
	ver=$(version)
	mapfile -t opts < <(dkms_opts)
	dkms remove "$pkg/$ver" --all "${opts[@]}" || true
	rm -rf "${sourcetree:?}/$pkg-$ver"
	;;
*)
	egm_die "usage: dkms.sh version | tree DEST | install [KVER] | remove"
	;;
esac
