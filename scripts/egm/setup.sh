#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages egm-core needs and unpack the kernel source
# into the cache.  Idempotent: a second run only checks.
. "$(dirname "$0")/common.sh"

packages=(
	linux-source-$EGM_KVER
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
	python3 python3-ply python3-git python3-sphinx perl rsync cpio xz-utils patch git
	qemu-system-x86 qemu-system-arm qemu-utils
	sparse coccinelle ocaml-nox unifdef
	busybox-static acpica-tools
	ndctl
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || egm_die "need root to install: ${missing[*]}"
	egm_log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

tarball=/usr/src/linux-source-$EGM_KVER.tar.xz
if [ ! -f "$EGM_KSRC/Makefile" ]; then
	[ -f "$tarball" ] || egm_die "$tarball missing after install"
	egm_log "unpacking $tarball into $(dirname "$EGM_KSRC")"
	mkdir -p "$(dirname "$EGM_KSRC")"
	tmp=$(mktemp -d "$(dirname "$EGM_KSRC")/unpack.XXXXXX")
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp/linux-source-$EGM_KVER" "$EGM_KSRC"
	rmdir "$tmp"
fi

# The arm64 host suite's user space (Debian's arm64 QEMU, busybox, strace),
# unpacked into the cache from Debian's multiarch packages.
"$EGM_REPO/scripts/egm/arm64-userland.sh" > /dev/null
