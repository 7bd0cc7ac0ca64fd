#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the arm64 payload with the cross binutils only (no cpp, no libc).
# Usage: build.sh [outdir]   (default: this directory)
set -e
src=$(dirname "$0")
out=${1:-$src}
aarch64-linux-gnu-as -o "$out/payload-arm64.o" "$src/payload.S"
# Linked at 4 MiB + 4 KiB of guest RAM: clear of the device tree QEMU puts
# at the start of RAM, the command word and the record at 4 MiB.
aarch64-linux-gnu-ld -N -Ttext=0x40401000 -e _start --no-warn-rwx-segments \
	-o "$out/payload-arm64.elf" "$out/payload-arm64.o"
rm -f "$out/payload-arm64.o"
