#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The dkms suite: the egm-core package (scripts/egm/dkms.sh) built the way
# a distribution user builds it, against Debian's own kernel headers and
# with none of our kernel trees:
#
#   amd64  DKMS (add, build, install) against the installed
#          linux-headers-<abi>-amd64, into DKMS trees in the cache
#   arm64  `make modules KDIR=` of the repository against Debian's arm64
#          headers (unpacked: their kbuild tools are arm64 binaries, the
#          amd64 linux-kbuild of the same version stands in), with the
#          cross compiler
#   old    the control: the same build against Debian 12's 6.1 headers
#          stops at once with the clear error
#
# <abi> is that of the installed linux-source-6.12 (the source nvgrace-gpu
# is taken from must be of the kernel's version).  Each build must give
# egm_core with its VFIO frontend, the sample, and nvgrace-gpu with the
# EGM hooks, for the right kernel and architecture.
. "$(dirname "$0")/common.sh"

egm_build_lock
work=$EGM_CACHE/dkms
hdrs=$EGM_CACHE/headers
mkdir -p "$work" "$hdrs"
passed=0 failed=0

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() {	# check NAME MESSAGE COMMAND...
	local name=$1 msg=$2

	shift 2
	if "$@"; then ok "$name"; else fail "$name" "$msg"; fi
}

srcver=$(dpkg-query -W -f '${Version}' "linux-source-$EGM_KVER")
upstream=${srcver%%-*}			# 6.12.118
abi=$upstream+deb${srcver##*~deb}	# 6.12.118+deb12u1 -> below
abi=${abi%u[0-9]*}			# 6.12.118+deb12

apt_install() {
	local missing=() p

	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	egm_log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" > "$work/apt.log" 2>&1 || {
		apt-get update -q > /dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "${missing[@]}" > "$work/apt.log" 2>&1
	} || { tail -20 "$work/apt.log"; egm_die "apt-get install ${missing[*]} failed"; }
}

# unpack_headers NAME ARCH-PACKAGE COMMON KBUILD: a headers tree in the
# cache, without installing it; prints its build directory.
unpack_headers() {
	local root=$hdrs/$1 dir=usr/src/${2%%:*}

	if [ ! -f "$root/.complete" ]; then
		rm -rf "$root"
		mkdir -p "$root/debs"
		(cd "$root/debs" && apt-get download -q "$2" "$3" "$4" > /dev/null 2>&1) ||
			{ apt-get update -q > /dev/null 2>&1 &&
			  (cd "$root/debs" && apt-get download -q "$2" "$3" "$4" > /dev/null); } ||
			egm_die "cannot download $2 $3 $4"
		for deb in "$root"/debs/*.deb; do
			dpkg-deb -x "$deb" "$root"
		done
		rm -rf "$root/debs"
		# The arch part includes the common part by its installed path.
		sed -i "s|^include /usr/src/|include $root/usr/src/|" "$root/$dir/Makefile"
		touch "$root/.complete"
	fi
	echo "$root/$dir"
}

# The modules of a build: egm_core with VFIO, the sample, nvgrace-gpu.
check_modules() {	# check_modules TAG DIR RELEASE MACHINE
	local tag=$1 dir=$2 rel=$3 machine=$4 core nv

	# DKMS compresses as the kernel's own modules are (xz on Debian).
	if [ -n "$(find "$dir" -name '*.ko.xz' 2>/dev/null)" ]; then
		rm -rf "$work/$tag-ko"
		mkdir -p "$work/$tag-ko"
		find "$dir" -name '*.ko.xz' -exec cp {} "$work/$tag-ko/" \;
		xz -d "$work/$tag-ko"/*.ko.xz
		dir=$work/$tag-ko
	fi
	core=$(find "$dir" -name egm_core.ko | head -n 1)
	nv=$(find "$dir" -name nvgrace-gpu-vfio-pci.ko | head -n 1)
	check "$tag-built" "modules in $dir: $(find "$dir" -name '*.ko' -printf '%f ' 2>/dev/null)" \
		test -n "$core" -a -n "$nv" -a -n "$(find "$dir" -name egm_parent.ko)"
	[ -n "$core" ] && [ -n "$nv" ] || return 0
	check "$tag-vermagic" "vermagic $(modinfo -F vermagic "$core"), want $rel" \
		bash -c '[[ "$(modinfo -F vermagic "$1")" == "$2 "* ]]' - "$core" "$rel"
	check "$tag-machine" "$(readelf -h "$core" | grep Machine)" \
		bash -c 'readelf -h "$1" | grep -q "Machine:.*$2"' - "$core" "$machine"
	check "$tag-vfio" "egm_core has no VFIO frontend (depends: $(modinfo -F depends "$core"))" \
		bash -c 'nm "$1" | grep -q " __ksymtab_egm_attach_vfio$" &&
			 modinfo -F depends "$1" | grep -q "vfio-pci-core"' - "$core"
	check "$tag-nvgrace" "nvgrace-gpu: depends $(modinfo -F depends "$nv"), import_ns $(modinfo -F import_ns "$nv")" \
		bash -c 'modinfo -F depends "$1" | tr , "\n" | grep -qx egm_core &&
			 modinfo -F import_ns "$1" | grep -qx EGM_CORE' - "$nv"
}

egm_log "dkms: Debian's linux-headers-$abi (amd64, arm64), DKMS $(dpkg-query -W -f '${Version}' dkms 2>/dev/null || echo '(installing)')"
apt_install dkms "linux-headers-$abi-amd64"
ver=$("$EGM_REPO/scripts/egm/dkms.sh" version)

# amd64: DKMS, with its trees in the cache.
export EGM_DKMS_SOURCETREE=$work/src EGM_DKMS_TREE=$work/dkms \
	EGM_DKMS_INSTALLTREE=$work/install
rm -rf "$work/src" "$work/dkms" "$work/install"
mkdir -p "$work/src" "$work/dkms" "$work/install/$abi-amd64"
if "$EGM_REPO/scripts/egm/dkms.sh" install "$abi-amd64" > "$work/amd64.log" 2>&1; then
	ok amd64-dkms-install
else
	fail amd64-dkms-install "see $work/amd64.log"
	tail -30 "$work/amd64.log"
	find "$work/dkms" -name make.log -exec tail -30 {} \;
fi
check_modules amd64 "$work/install/$abi-amd64/updates/dkms" "$abi-amd64" X86-64
# DKMS signs with its machine owner key (Secure Boot; the admin guide).
check amd64-signed "egm_core.ko: signer '$(modinfo -F signer "$work/amd64-ko/egm_core.ko" 2>/dev/null)'" \
	bash -c '[ -n "$(modinfo -F signer "$1")" ]' - "$work/amd64-ko/egm_core.ko"
check amd64-dkms-remove "dkms remove left $(ls "$work/install/$abi-amd64/updates/dkms" 2>/dev/null)" \
	bash -c '"$1" remove > /dev/null 2>&1 &&
		 [ -z "$(ls "$2" 2>/dev/null)" ]' - "$EGM_REPO/scripts/egm/dkms.sh" \
	"$work/install/$abi-amd64/updates/dkms"
unset EGM_DKMS_SOURCETREE EGM_DKMS_TREE EGM_DKMS_INSTALLTREE

# arm64: the repository's own `make modules KDIR=`, which must not set up
# or build a kernel first.
karm=$(unpack_headers "arm64-$abi" "linux-headers-$abi-arm64:arm64" \
	"linux-headers-$abi-common" "linux-kbuild-$abi")
check make-modules-standalone "make modules KDIR= would run: $(make -s -n -C "$EGM_REPO" modules KDIR="$karm" 2>&1 | grep -oE '(setup|prepare-tree|kernel)\.sh' | sort -u | tr '\n' ' ')" \
	bash -c '! make -s -n -C "$1" modules KDIR="$2" 2>&1 |
		 grep -qE "(setup|prepare-tree|kernel)\.sh"' - "$EGM_REPO" "$karm"
# nvgrace-gpu from our kernel tree this time (it has the hooks already):
# the Debian tarball took its turn above, and takes 20 s to unpack.
if EGM_KERNEL_SOURCE=$EGM_KSRC make --no-print-directory -C "$EGM_REPO" \
	modules KDIR="$karm" > "$work/arm64.log" 2>&1; then
	ok arm64-make-modules
else
	fail arm64-make-modules "see $work/arm64.log"
	tail -30 "$work/arm64.log"
fi
check_modules arm64 "$EGM_BUILD/oot-$abi-arm64" "$abi-arm64" AArch64

# The control: a kernel older than 6.12 is refused, clearly, at once.
old=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' |
	awk '{print $1}' | sort -V | tail -n 1)
oldabi=${old#linux-headers-}
oldabi=${oldabi%-amd64}
kold=$(unpack_headers "amd64-$oldabi" "$old" "linux-headers-$oldabi-common" \
	"linux-kbuild-${oldabi%.0-*}")
make --no-print-directory -C "$EGM_REPO" modules KDIR="$kold" > "$work/old.log" 2>&1 && rc=0 || rc=$?
check old-kernel-refused "make against $old: exit $rc, $(grep -m1 -o 'egm-core needs.*' "$work/old.log" || tail -n 3 "$work/old.log")" \
	bash -c '[ "$1" != 0 ] && grep -q "egm-core needs Linux 6.12 or later; 6\.1\.[0-9]*-.* is 6\.1" "$2"' - "$rc" "$work/old.log"

echo "dkms: $passed passed, $failed failed"
egm_record dkms "$passed" "$failed" 0
[ "$failed" = 0 ]
