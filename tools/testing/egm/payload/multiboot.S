/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The start of the QEMU suites' bare-metal x86 payloads, .include'd as the
 * first thing of each (payload/payload.S, dma/payload.S): the multiboot (v1)
 * header and the entry point, which sets up the includer's stack_top and
 * falls through to the code after the .include.
 *
 * QEMU's built-in multiboot loader (-kernel payload.elf) gives flat 4 GiB
 * segments, paging off, interrupts off and no stack.
 */
	.equ	MB_MAGIC, 0x1BADB002
	.equ	MB_FLAGS, 0		/* ELF32: no address fields needed */

	.code32

	/*
	 * The header must be 4-byte aligned in the first 8 KiB of the file:
	 * it is first in .text, and build.sh links with -N, so .text starts
	 * right after the ELF headers.
	 */
	.text
	.balign 4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.globl	_start
_start:
	cli
	cld
	movl	$stack_top, %esp
