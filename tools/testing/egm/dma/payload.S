/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny multiboot (v1) payload that drives the DMA engine of QEMU's "edu"
 * PCI device, for the egm nested-VM DMA test.
 *
 * Booted by QEMU's built-in multiboot loader (-kernel payload.elf), so it
 * runs after SeaBIOS has enumerated PCI and assigned BARs.  It:
 *
 *  1. reads its parameters from guest-physical PARAM_BASE (15 MiB);
 *  2. finds the edu device (1234:11e8) on bus 0 (devices 0..31, function
 *     0, config mechanism #1), enables Memory Space + Bus Master and
 *     reads BAR0;
 *  3. fills "len" bytes at "src" with the pattern
 *	word[i] = seed ^ (i * 0x9E3779B1)	(u32 words, little-endian);
 *  4. DMA #1: RAM src -> edu buffer (device address 0x40000),
 *     DMA #2: edu buffer -> RAM dst, then compares dst with src by CPU;
 *  5. if "extra" != 0, DMA #3: edu buffer -> RAM extra;
 *  6. prints "payload: done" and halts forever (it does not exit QEMU:
 *     the host inspects guest memory while the VM still runs, then kills
 *     it).
 *
 * dst and extra are never touched by the CPU: whatever the host finds
 * there was written by the device.
 *
 * Parameter block at PARAM_BASE, little-endian u32s:
 *	+0  magic  0x444d4745 (bytes 'E' 'G' 'M' 'D')
 *	+4  src    GPA of the source buffer (filled by the CPU)
 *	+8  dst    GPA of the round-trip destination (DMA only)
 *	+12 len    bytes, 4 <= len <= 4092, multiple of 4 (see below)
 *	+16 seed   pattern seed
 *	+20 extra  GPA of a second DMA destination, 0 = none
 * The host places it with one generic loader device per u32 (the loader
 * stores "data" in guest byte order, i.e. little-endian here; pass all
 * six so nothing depends on RAM being zero):
 *	-device loader,addr=0xf00000,data=0x444d4745,data-len=4
 *	-device loader,addr=0xf00004,data=<src>,data-len=4   ... and so on.
 * The buffers must not overlap each other, the payload (1 MiB + a few
 * KiB, followed by QEMU's multiboot info) or the parameter block.
 *
 * Serial protocol (COM1, lines end in CR LF, hex is lowercase, 8 digits
 * unless noted):
 *	payload: edu at 00:DD.0 bar0=XXXXXXXX		(DD: 2 hex digits)
 *	payload: dma round trip ok seed=XXXXXXXX
 *   or	payload: dma round trip FAIL at +XXXXXXXX	(byte offset in dst)
 *	payload: dma to extra done			(only if extra != 0)
 *	payload: done
 * Fatal errors (each followed by a halt):
 *	payload: no parameters		bad magic at PARAM_BASE
 *	payload: bad length		len is 0, > 4092 or not a multiple of 4
 *	payload: address beyond edu dma_mask	a buffer is not below 256 MiB
 *	payload: no edu device
 *	payload: edu bar0 unassigned
 *	payload: dma timeout		RUN bit still set after DMA_TIMEOUT_S s
 *
 * edu device notes (QEMU hw/misc/edu.c, checked against 7.2 behaviour):
 *  - BAR0 MMIO: 0x80 DMA source, 0x88 DMA destination, 0x90 count (all
 *    u64), 0x98 command: bit 0 start/running, bit 1 direction (0: RAM to
 *    edu, 1: edu to RAM), bit 2 raise IRQ when done (not used here).
 *  - 4- and 8-byte accesses are accepted at 0x80 and above.  A 4-byte
 *    write to 0x80/0x88/0x90 sets the whole 64-bit register to the
 *    zero-extended value; 0x84/0x8c/0x94 are not decoded at all (writes
 *    are dropped), so no high-dword write is needed or done.
 *  - Writes to any DMA register while bit 0 of the command is set are
 *    ignored, and a command write without bit 0 is ignored.
 *  - The transfer runs from a QEMU_CLOCK_VIRTUAL timer 100 ms after the
 *    command write; completion clears bit 0 of the command register.
 *  - The device-side range must lie in [0x40000, 0x41000): out of range
 *    makes QEMU call hw_error() and abort, hence the length checks here.
 *    QEMU up to at least 7.2 (Debian 1:7.2+dfsg-7+deb12u18) also has an
 *    off-by-one there: the end of the transfer must be strictly below
 *    0x41000, so a 4096-byte transfer aborts QEMU ("DMA range
 *    0x40000-0x40fff out of bounds (0x40000-0x40fff)").  The largest
 *    usable length is therefore 4092 (EDU_MAX_LEN); larger ones are
 *    rejected here rather than crashing the VMM.
 *  - RAM addresses are masked with dma_mask (default 28 bits): all GPAs
 *    must be below 256 MiB or the DMA silently goes elsewhere.  Addresses
 *    below that but not backed by RAM are silently dropped.
 *  - Without Bus Master the DMA "completes" (bit 0 clears) but the RAM
 *    accesses are dropped.
 *
 * Example (tested like this with TCG and with -accel kvm, no egm kernel
 * involved):
 *	qemu-system-x86_64 -machine pc -accel tcg -m 128M -nodefaults \
 *		-display none -serial stdio -kernel payload.elf -device edu \
 *		-device loader,addr=0xf00000,data=0x444d4745,data-len=4 \
 *		-device loader,addr=0xf00004,data=0x200000,data-len=4 \
 *		-device loader,addr=0xf00008,data=0x300000,data-len=4 \
 *		-device loader,addr=0xf0000c,data=4092,data-len=4 \
 *		-device loader,addr=0xf00010,data=0xc0ffee11,data-len=4 \
 *		-device loader,addr=0xf00014,data=0x400000,data-len=4
 */

/* Plain "as" does not run cpp, so use .equ rather than #define. */
	.equ	COM1, 0x3f8

	.equ	CMOS_INDEX, 0x70
	.equ	CMOS_DATA, 0x71
	.equ	CMOS_SECONDS, 0x80	/* register 0, NMI kept disabled */

	/* Parameter block */
	.equ	PARAM_BASE, 0x00f00000
	.equ	PARAM_MAGIC, 0x444d4745	/* "EGMD" */
	.equ	P_MAGIC, 0
	.equ	P_SRC, 4
	.equ	P_DST, 8
	.equ	P_LEN, 12
	.equ	P_SEED, 16
	.equ	P_EXTRA, 20
	.equ	P_WORDS, 6

	.equ	PATTERN_MUL, 0x9E3779B1

	/* PCI configuration mechanism #1 */
	.equ	PCI_CONF_ADDR, 0xcf8
	.equ	PCI_CONF_DATA, 0xcfc
	.equ	PCI_CONF_ENABLE, 0x80000000
	.equ	PCI_VENDOR_ID, 0x00
	.equ	PCI_COMMAND, 0x04
	.equ	PCI_COMMAND_MEMORY, 0x2
	.equ	PCI_COMMAND_MASTER, 0x4
	.equ	PCI_BAR0, 0x10
	.equ	PCI_BAR_MEM_MASK, 0xfffffff0

	/* QEMU edu device */
	.equ	EDU_ID, 0x11e81234	/* device << 16 | vendor */
	.equ	EDU_DMA_SRC, 0x80
	.equ	EDU_DMA_DST, 0x88
	.equ	EDU_DMA_CNT, 0x90
	.equ	EDU_DMA_CMD, 0x98
	.equ	EDU_DMA_RUN, 0x1
	.equ	EDU_DMA_TO_RAM, 0x2	/* direction bit: edu -> RAM */
	.equ	EDU_BUF, 0x40000	/* device address of the 4 KiB buffer */
	.equ	EDU_BUF_SIZE, 4096
	.equ	EDU_MAX_LEN, EDU_BUF_SIZE - 4	/* QEMU off-by-one, see above */
	.equ	EDU_DMA_LIMIT, 0x10000000	/* default 28-bit dma_mask */

	.equ	DMA_TIMEOUT_S, 20	/* RTC seconds ticks per DMA */

	.include "multiboot.S"

	/* 1. Parameters: check the magic, copy the block out of the way. */
	movl	$msg_noparam, %esi
	cmpl	$PARAM_MAGIC, PARAM_BASE + P_MAGIC
	jne	die
	movl	$PARAM_BASE, %esi
	movl	$params, %edi
	movl	$P_WORDS, %ecx
	rep movsl

	movl	$msg_badlen, %esi
	movl	params + P_LEN, %eax
	testl	%eax, %eax
	jz	die
	testl	$3, %eax
	jnz	die
	cmpl	$EDU_MAX_LEN, %eax
	ja	die

	movl	params + P_SRC, %eax
	call	check_dma_addr
	movl	params + P_DST, %eax
	call	check_dma_addr
	movl	params + P_EXTRA, %eax
	testl	%eax, %eax
	jz	1f
	call	check_dma_addr
1:

	/* 2. Find edu on bus 0; %ebx = device number. */
	xorl	%ebx, %ebx
2:	movl	$PCI_VENDOR_ID, %eax
	call	pci_select
	inl	%dx, %eax
	cmpl	$EDU_ID, %eax
	je	3f
	incl	%ebx
	cmpl	$32, %ebx
	jb	2b
	movl	$msg_noedu, %esi
	jmp	die

3:	movl	$PCI_COMMAND, %eax
	call	pci_select
	inw	%dx, %ax
	orw	$(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), %ax
	outw	%ax, %dx

	movl	$PCI_BAR0, %eax
	call	pci_select
	inl	%dx, %eax
	andl	$PCI_BAR_MEM_MASK, %eax
	movl	$msg_nobar, %esi
	jz	die
	movl	%eax, edu_bar

	movl	$msg_edu, %esi
	call	puts
	movl	%ebx, %eax
	call	puthex8
	movl	$msg_bar, %esi
	call	puts
	movl	edu_bar, %eax
	call	puthex32
	call	crlf

	/* 3. Pattern at src: word[i] = seed ^ (i * PATTERN_MUL). */
	movl	params + P_SRC, %edi
	movl	params + P_LEN, %ecx
	shrl	$2, %ecx
	xorl	%ebx, %ebx			/* i * PATTERN_MUL */
4:	movl	%ebx, %eax
	xorl	params + P_SEED, %eax
	stosl
	addl	$PATTERN_MUL, %ebx
	decl	%ecx
	jnz	4b

	/* 4. DMA #1: src -> edu buffer; DMA #2: edu buffer -> dst. */
	movl	params + P_SRC, %eax
	movl	$EDU_BUF, %edx
	movl	$EDU_DMA_RUN, %ecx
	call	edu_dma

	movl	$EDU_BUF, %eax
	movl	params + P_DST, %edx
	movl	$(EDU_DMA_RUN | EDU_DMA_TO_RAM), %ecx
	call	edu_dma

	movl	params + P_SRC, %esi
	movl	params + P_DST, %edi
	movl	params + P_LEN, %ecx
	shrl	$2, %ecx
	repe cmpsl
	jne	5f
	movl	$msg_ok, %esi
	call	puts
	movl	params + P_SEED, %eax
	call	puthex32
	call	crlf
	jmp	6f

5:	subl	$4, %esi			/* back to the mismatch */
	subl	params + P_SRC, %esi
	pushl	%esi
	movl	$msg_fail, %esi
	call	puts
	popl	%eax
	call	puthex32
	call	crlf

	/* 5. Optional DMA #3: edu buffer -> extra. */
6:	movl	params + P_EXTRA, %edx
	testl	%edx, %edx
	jz	7f
	movl	$EDU_BUF, %eax
	movl	$(EDU_DMA_RUN | EDU_DMA_TO_RAM), %ecx
	call	edu_dma
	movl	$msg_extra, %esi
	call	puts

7:	movl	$msg_done, %esi
	/* fall through */

/* Print the string at %esi and park the CPU forever; VM keeps running. */
die:
	call	puts
8:	cli
	hlt
	jmp	8b

/* Halt unless [%eax, %eax + len) lies below the edu dma_mask limit. */
check_dma_addr:
	cmpl	$EDU_DMA_LIMIT, %eax
	jae	1f
	addl	params + P_LEN, %eax
	cmpl	$EDU_DMA_LIMIT, %eax
	ja	1f
	ret
1:	movl	$msg_badaddr, %esi
	jmp	die

/*
 * Point config mechanism #1 at register %eax (dword aligned) of bus 0,
 * device %ebx, function 0.  Returns %dx = PCI_CONF_DATA; clobbers %eax.
 */
pci_select:
	andl	$0xfc, %eax
	pushl	%ebx
	shll	$11, %ebx
	orl	%ebx, %eax
	orl	$PCI_CONF_ENABLE, %eax
	popl	%ebx
	movw	$PCI_CONF_ADDR, %dx
	outl	%eax, %dx
	movw	$PCI_CONF_DATA, %dx
	ret

/*
 * Run one edu DMA of params.len bytes and wait for it to finish:
 * %eax = source, %edx = destination, %ecx = command.  Only plain 32-bit
 * movs touch the MMIO registers (cheapest to emulate for any hypervisor).
 * Waits up to DMA_TIMEOUT_S ticks of the RTC seconds register, so the
 * bound is wall-clock time whatever an MMIO exit costs.  Halts with a
 * message on timeout.  Clobbers %eax, %ebx, %ecx, %edx, %esi, %edi.
 */
edu_dma:
	movl	edu_bar, %edi
	movl	%eax, EDU_DMA_SRC(%edi)
	movl	%edx, EDU_DMA_DST(%edi)
	movl	params + P_LEN, %eax
	movl	%eax, EDU_DMA_CNT(%edi)
	movl	%ecx, EDU_DMA_CMD(%edi)

	call	rtc_seconds
	movb	%al, %bl
	movl	$DMA_TIMEOUT_S, %esi
1:	movl	EDU_DMA_CMD(%edi), %eax
	testl	$EDU_DMA_RUN, %eax
	jz	2f
	pause
	call	rtc_seconds
	cmpb	%al, %bl
	je	1b
	movb	%al, %bl
	decl	%esi
	jnz	1b
	movl	$msg_timeout, %esi
	jmp	die
2:	ret

/* %al = RTC seconds register (only compared for change). */
rtc_seconds:
	movb	$CMOS_SECONDS, %al
	outb	%al, $CMOS_INDEX
	inb	$CMOS_DATA, %al
	ret

/* Print %eax as 8 (puthex32) or its low byte as 2 (puthex8) hex digits. */
puthex8:
	pushal
	shll	$24, %eax
	movl	$2, %ecx
	jmp	1f
puthex32:
	pushal
	movl	$8, %ecx
1:	roll	$4, %eax
	movl	%eax, %ebx
	andl	$0xf, %eax
	movb	hexdigits(%eax), %al
	call	putc
	movl	%ebx, %eax
	decl	%ecx
	jnz	1b
	popal
	ret

crlf:
	movl	$msg_crlf, %esi
	/* fall through */

/* Print NUL-terminated string at %esi to COM1; clobbers %eax, %edx, %esi. */
puts:
	lodsb
	testb	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

/* Print %al to COM1, polling LSR.THRE; clobbers %edx. */
putc:
	pushl	%eax
	movw	$COM1 + 5, %dx
1:	inb	%dx, %al
	testb	$0x20, %al
	jz	1b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret

hexdigits:	.ascii	"0123456789abcdef"
msg_noparam:	.asciz	"payload: no parameters\r\n"
msg_badlen:	.asciz	"payload: bad length\r\n"
msg_badaddr:	.asciz	"payload: address beyond edu dma_mask\r\n"
msg_noedu:	.asciz	"payload: no edu device\r\n"
msg_nobar:	.asciz	"payload: edu bar0 unassigned\r\n"
msg_timeout:	.asciz	"payload: dma timeout\r\n"
msg_edu:	.asciz	"payload: edu at 00:"
msg_bar:	.asciz	".0 bar0="
msg_ok:		.asciz	"payload: dma round trip ok seed="
msg_fail:	.asciz	"payload: dma round trip FAIL at +"
msg_extra:	.asciz	"payload: dma to extra done\r\n"
msg_done:	.asciz	"payload: done\r\n"
msg_crlf:	.asciz	"\r\n"

	.bss
	.balign 4
params:	.skip	P_WORDS * 4
edu_bar: .skip	4
	.balign 16
	.skip	4096
stack_top:
