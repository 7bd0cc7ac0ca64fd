#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the edu DMA payload.elf with plain binutils only (no cpp, no libc).
# Usage: build.sh [outdir]   (default: this directory)
set -e
src=$(dirname "$0")
out=${1:-$src}
as --32 -o "$out/payload.o" "$src/payload.S"
# Load at 1 MiB: above the BIOS holes, below the test buffers and the
# parameter block at 15 MiB.
# -N: one unaligned RWX segment, no page padding before the header.
ld -m elf_i386 -N -Ttext=0x100000 -e _start --no-warn-rwx-segments \
	-o "$out/payload.elf" "$out/payload.o"
rm -f "$out/payload.o"
