#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print, one per line, every host file an initramfs needs to run
#   qemu-system-x86_64 -nodefaults -nographic -no-reboot -machine pc \
#     -accel tcg -m <S> -object memory-backend-file,... -numa node,... \
#     -kernel payload.elf -device isa-debug-exit,... -serial stdio
# i.e. the binary, its shared libraries (with the dynamic loader), the
# dlopen()ed TCG accelerator module and the firmware QEMU opens.
#
# Symlinks are printed as well as their targets, with every parent
# directory already canonical (e.g. /lib -> usr/lib is printed once and
# libraries are listed under /usr/lib/...).  So a consumer can do, per
# line:  mkdir -p "$dst${p%/*}" && cp -P "$p" "$dst$p"
set -euo pipefail

QEMU=${QEMU:-/usr/bin/qemu-system-x86_64}
# Not in ldd: QEMU dlopen()s accelerators from its module dir.
MODULES=${MODULES:-/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so}
# Found with strace -e openat for the command line above: SeaBIOS, the
# multiboot option ROM (-kernel with a multiboot image) and the vapic
# ROM that the pc machine always loads.
FIRMWARE=${FIRMWARE:-bios-256k.bin multiboot_dma.bin kvmvapic.bin}
# Debian's --firmwarepath, in QEMU's search order.
FWPATH=${FWPATH:-/usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu}

# Resolve absolute path $1 component by component, printing each symlink
# met (under its canonical parent); leaves the canonical path in RESOLVED.
resolve() {
	local cur= comp link depth=${2:-0}
	local -a comps
	((depth < 40)) || { echo "symlink loop at $1" >&2; exit 1; }
	IFS=/ read -ra comps <<<"${1#/}"
	for comp in "${comps[@]}"; do
		case $comp in
		'' | .) continue ;;
		..) cur=${cur%/*}; continue ;;
		esac
		if [[ -L $cur/$comp ]]; then
			echo "$cur/$comp"
			link=$(readlink "$cur/$comp")
			[[ $link == /* ]] || link=$cur/$link
			resolve "$link" $((depth + 1))
			cur=$RESOLVED
		else
			cur=$cur/$comp
		fi
	done
	RESOLVED=${cur:-/}
}

file() {
	[[ -f $1 ]] || { echo "missing: $1" >&2; exit 1; }
	resolve "$1"
	echo "$RESOLVED"
}

libs() {
	# "name => /path (addr)" or "/lib64/ld-linux... (addr)"
	ldd "$1" | awk '
		/not found/ { print "unresolved: " $0 > "/dev/stderr"; exit 1 }
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }'
}

{
	for f in "$QEMU" $MODULES; do
		file "$f"
		for l in $(libs "$f"); do
			file "$l"
		done
	done
	for fw in $FIRMWARE; do
		found=
		for d in $FWPATH; do
			if [[ -f $d/$fw ]]; then
				file "$d/$fw"
				found=1
				break
			fi
		done
		[[ $found ]] || { echo "firmware not found: $fw" >&2; exit 1; }
	done
} | awk '!seen[$0]++'
