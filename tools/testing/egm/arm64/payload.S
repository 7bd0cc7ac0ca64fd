/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bare-metal arm64 payload: the guest of the arm64 KVM host suite.
 *
 * QEMU's virt machine loads it as an ELF into guest RAM, which is an EGM
 * region (memory-backend-file on /dev/egm<pxm>), and starts it at EL1
 * with the MMU off: every instruction it runs is fetched from EGM memory.
 * It writes one 64-byte record at the start of every MiB from 2 to 63 of
 * guest RAM (the records of tools/testing/egm/egm_demo.c) and reports on
 * the PL011.  Then it reads the command word that QEMU's generic loader
 * device wrote at CMD:
 *
 *   0  park (the host reads the records and stops the VM)
 *   1  read the 64 KiB blocks on each side of the block at ARG, report,
 *      then read ARG itself: a retired or poisoned page, so the VMM gets
 *      SIGBUS (BUS_MCEERR_AR) and this read never completes
 *
 * Record: "EGM-DEMO", u32 index (MiB number), u32 index ^ 0xE6E6E6E6,
 * then 0xA5 up to 64 bytes.  All accesses are aligned: with the MMU off
 * they are Device accesses at stage 1.
 */
	.equ	RAM, 0x40000000
	.equ	UART, 0x09000000	/* PL011 of the virt machine */
	.equ	UART_FR, 0x18
	.equ	UART_FR_TXFF, 0x20
	.equ	CMD, 0x40300800		/* 3 MiB + 2 KiB: clear of the records */
	.equ	ARG, 0x40300808
	.equ	FIRST_MIB, 2
	.equ	END_MIB, 64		/* exclusive */
	.equ	BLOCK, 0x10000		/* firmware retires 64 KiB blocks */

	.text
	.globl	_start
_start:
	ldr	x0, =stack_top
	mov	sp, x0

	mov	x19, #FIRST_MIB
	ldr	x20, =RAM
	ldr	x21, =0x4f4d45442d4d4745	/* "EGM-DEMO" */
	ldr	x22, =0xa5a5a5a5a5a5a5a5
	ldr	w23, =0xe6e6e6e6
1:	add	x1, x20, x19, lsl #20
	str	x21, [x1]
	eor	w2, w19, w23
	stp	w19, w2, [x1, #8]
	stp	x22, x22, [x1, #16]
	stp	x22, x22, [x1, #32]
	stp	x22, x22, [x1, #48]
	add	x19, x19, #1
	cmp	x19, #END_MIB
	b.lo	1b
	adr	x0, msg_records
	bl	puts

	ldr	x0, =CMD
	ldr	w1, [x0]
	cmp	w1, #1
	b.ne	park

	ldr	x0, =ARG
	ldr	x24, [x0]
	sub	x1, x24, #BLOCK
	ldr	x2, [x1]
	add	x1, x24, #BLOCK
	ldr	x2, [x1]
	adr	x0, msg_neighbours
	bl	puts
	ldr	x2, [x24]
	adr	x0, msg_read_bad
	bl	puts

park:	wfi
	b	park

/* puts: print the NUL-terminated string at x0 on the PL011. */
puts:	ldr	x1, =UART
2:	ldrb	w2, [x0], #1
	cbz	w2, 4f
3:	ldr	w3, [x1, #UART_FR]
	tst	w3, #UART_FR_TXFF
	b.ne	3b
	str	w2, [x1]
	b	2b
4:	ret

msg_records:
	.asciz	"payload: wrote 62 records at 2..63 MiB\r\n"
msg_neighbours:
	.asciz	"payload: the blocks next to the bad one read fine\r\n"
msg_read_bad:
	.asciz	"payload: read the bad page and went on\r\n"

	.bss
	.balign	16
	.skip	4096
stack_top:
