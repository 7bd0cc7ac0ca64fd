/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Extended GPU Memory (EGM) character devices: /dev/egm<pxm>.
 *
 * An EGM region is system memory that firmware hides from the host kernel,
 * one region per CPU socket, named after the socket's ACPI proximity domain
 * (PXM).  Its character device gives one user at a time (exclusive open) a
 * region that has been zeroed, to map with mmap(MAP_SHARED) as a VM's RAM:
 *
 *   qemu-system-aarch64 ... \
 *     -object memory-backend-file,id=egm0,mem-path=/dev/egm4,share=on,size=... \
 *     -numa node,memdev=egm0
 *
 * lseek(fd, 0, SEEK_END) returns the region size (QEMU reads the size of a
 * character device that way).  The ioctls below follow the VFIO argsz
 * convention: userspace sets argsz to the size of the structure it passes
 * (including any trailing array); the kernel writes back the size it needs
 * and fails with ENOSPC when that is more than was given.  Reserved fields
 * and flags must be zero (else EINVAL).
 *
 * See Documentation/userspace-api/egm.rst.
 */
#ifndef _UAPI_LINUX_EGM_H
#define _UAPI_LINUX_EGM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define EGM_TYPE	0xE6
#define EGM_BASE	0x00

/**
 * struct egm_info - EGM_GET_INFO
 * @argsz: in: sizeof(struct egm_info); out: the size the kernel filled
 * @flags: in: must be 0; out: 0
 * @size: region size in bytes
 * @pxm: ACPI proximity domain of the region
 * @numa_node: NUMA node of the region's memory, -1 when the kernel has none
 * @poison_granularity: bytes each entry of EGM_GET_RETIRED_PAGES stands for
 *	(the kernel's page size)
 * @nr_retired: number of retired (poisoned) pages right now
 */
struct egm_info {
	__u32 argsz;
	__u32 flags;
	__u64 size;
	__u32 pxm;
	__s32 numa_node;
	__u32 poison_granularity;
	__u32 nr_retired;
};

#define EGM_GET_INFO		_IO(EGM_TYPE, EGM_BASE + 0)

/**
 * struct egm_retired_pages - EGM_GET_RETIRED_PAGES
 * @argsz: in: bytes provided, header plus room for @offsets; out: bytes
 *	needed for every entry (the call fails with ENOSPC when that is more
 *	than was provided, and then fills nothing but this header)
 * @flags: in: must be 0; out: 0
 * @count: out: number of retired pages
 * @granularity: out: bytes each offset stands for (the kernel's page size)
 * @offsets: out: byte offsets of the retired pages from the region start,
 *	ascending
 *
 * Retired pages are never mapped (a fault on one raises SIGBUS with
 * BUS_MCEERR_AR) and never written by the kernel.
 */
struct egm_retired_pages {
	__u32 argsz;
	__u32 flags;
	__u32 count;
	__u32 granularity;
	__u64 offsets[];
};

#define EGM_GET_RETIRED_PAGES	_IO(EGM_TYPE, EGM_BASE + 1)

#endif /* _UAPI_LINUX_EGM_H */
