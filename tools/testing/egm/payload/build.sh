#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build a bare-metal x86 payload with plain binutils only (no cpp, no libc).
# Usage: build.sh [OUTDIR [SOURCE [ELF]]]
#   default: this directory, payload.S (the demo's), payload.elf
# Sources .include multiboot.S from this directory.
set -e
src=$(dirname "$0")
out=${1:-$src}
source=${2:-$src/payload.S}
elf=${3:-payload.elf}
as --32 -I "$src" -o "$out/$elf.o" "$source"
# Load at 1 MiB: above the BIOS holes, below the demo's records at 2 MiB+
# and the DMA payload's buffers and parameters.
# -N: one unaligned RWX segment, no page padding before the header.
ld -m elf_i386 -N -Ttext=0x100000 -e _start --no-warn-rwx-segments \
	-o "$out/$elf" "$out/$elf.o"
rm -f "$out/$elf.o"
