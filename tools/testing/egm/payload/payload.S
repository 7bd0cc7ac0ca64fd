/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny multiboot (v1) payload for the egm demo.
 *
 * Booted by QEMU's built-in multiboot loader (-kernel payload.elf), it
 * writes one 64-byte record at the start of every MiB from 2 MiB to
 * 63 MiB, reports on COM1 and exits QEMU via isa-debug-exit (the demo
 * runs it without that device: it then halts, and the VM keeps its RAM
 * until the host stops it).  The host checks the records in the memory
 * behind the guest's RAM (tools/testing/egm/egm_demo.c), proving that the
 * guest's writes land in the EGM region.
 *
 * Record: "EGM-DEMO", u32 index (MiB number), u32 index ^ 0xE6E6E6E6,
 * then 0xA5 up to 64 bytes.
 */

/* Plain "as" does not run cpp, so use .equ rather than #define. */
	.equ	COM1, 0x3f8
	.equ	DEBUG_EXIT, 0xf4

	.equ	FIRST_MIB, 2
	.equ	END_MIB, 64		/* exclusive */

	.include "multiboot.S"

	movl	$FIRST_MIB, %ebx
1:	movl	%ebx, %edi
	shll	$20, %edi			/* edi = phys addr of record */
	movl	$0x2d4d4745, (%edi)		/* "EGM-" */
	movl	$0x4f4d4544, 4(%edi)		/* "DEMO" */
	movl	%ebx, 8(%edi)
	movl	%ebx, %eax
	xorl	$0xE6E6E6E6, %eax
	movl	%eax, 12(%edi)
	addl	$16, %edi
	movl	$48, %ecx
	movb	$0xA5, %al
	rep stosb
	incl	%ebx
	cmpl	$END_MIB, %ebx
	jb	1b

	movl	$msg, %esi
	call	puts

	/* isa-debug-exit: QEMU exits with (0x10 << 1) | 1 = 33. */
	movb	$0x10, %al
	outb	%al, $DEBUG_EXIT

	/* No debug-exit device: park the CPU forever. */
2:	cli
	hlt
	jmp	2b

/* Print NUL-terminated string at %esi to COM1, polling LSR.THRE. */
puts:
	movw	$COM1 + 5, %dx
3:	inb	%dx, %al
	testb	$0x20, %al
	jz	3b
	lodsb
	testb	%al, %al
	jz	4f
	movw	$COM1, %dx
	outb	%al, %dx
	jmp	puts
4:	ret

msg:	.asciz	"payload: wrote 62 records at 2..63 MiB\r\n"

	.bss
	.balign 16
	.skip	4096
stack_top:
