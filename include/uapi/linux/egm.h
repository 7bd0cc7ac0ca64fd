/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Extended GPU Memory (EGM): the /dev/egm<pxm> character devices and the
 * VFIO device-specific region.
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
#include <linux/vfio.h>

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
 *	than was provided; then only this header is meaningful)
 * @flags: in: must be 0; out: 0
 * @count: out: number of retired pages, exactly the entries written to
 *	@offsets when the call succeeds
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

/*
 * The VFIO frontend: the region as a device-specific region of a GPU's
 * vfio-pci device: of the GPU that exposes it while that GPU's device is
 * open, else of the lowest-BDF GPU of the socket that selected it.
 * These definitions are written as the patch to <linux/vfio.h> would add
 * them; they live here until that patch is merged.
 *
 * VFIO_DEVICE_GET_REGION_INFO reports the region with
 *   type    VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_NVIDIA (0x10de)
 *   subtype VFIO_REGION_SUBTYPE_NVIDIA_EGM
 *   flags   READ | WRITE | MMAP | CAPS, or MMAP | CAPS where the kernel has
 *           no machine-check-safe copy (arm64): read() and write() then
 *           fail with EINVAL, since a kernel read of poisoned memory there
 *           is fatal
 * and the capability chain holds VFIO_REGION_INFO_CAP_NVIDIA_EGM.  As with
 * every VFIO capability, a caller whose argsz is too small for the chain
 * gets argsz set to the size needed and cap_offset 0, and calls again.
 */

/* Subtype 1 is the retired NVLink2 RAM region; EGM takes the next one. */
#define VFIO_REGION_SUBTYPE_NVIDIA_EGM		(2)

/* Region capability IDs 1-5 are taken in <linux/vfio.h>. */
#define VFIO_REGION_INFO_CAP_NVIDIA_EGM		6

/* @retired holds only the first @nr_listed of @nr_retired pages. */
#define VFIO_EGM_CAP_RETIRED_TRUNCATED		(1 << 0)

/*
 * Availability of the region when the capability was built.  The device
 * opens whatever the region's state; the device takes the region (one
 * tenant at a time) at its open, else, when another tenant held it then,
 * at its first mmap(), read() or write().  Neither waits for the zeroing
 * of what an earlier tenant left: nothing of it is ever read or mapped.
 * None of these flags: ready.
 *
 * BUSY: another tenant holds the region (mappings left from an earlier
 * open, /dev/egm<pxm> of another GPU); mmap(), read() and write() fail with
 * EBUSY until it lets go.
 * REVOKED: the memory is gone (firmware took it back, or the socket's
 * last GPU went away); every access fails with ENODEV.
 */
#define VFIO_EGM_CAP_BUSY			(1 << 1)
/* (1 << 2) is not used: no flag says "being zeroed", nobody waits for it. */
#define VFIO_EGM_CAP_REVOKED			(1 << 3)

/**
 * struct vfio_region_info_cap_nvidia_egm - the EGM region's capability
 * @header: id VFIO_REGION_INFO_CAP_NVIDIA_EGM, version 1
 * @flags: VFIO_EGM_CAP_RETIRED_TRUNCATED, and at most one of
 *	VFIO_EGM_CAP_BUSY and VFIO_EGM_CAP_REVOKED
 * @pxm: ACPI proximity domain of the region's memory
 * @granularity: bytes each entry of @retired stands for (the host's page
 *	size); mapping granularity of the region
 * @nr_retired: retired (poisoned) pages when the capability was built
 * @nr_listed: entries in @retired: @nr_retired, or fewer, with
 *	VFIO_EGM_CAP_RETIRED_TRUNCATED, when the list does not fit
 * @retired: byte offsets of retired pages from the region start, ascending:
 *	the first @nr_listed of them
 *
 * The list is bounded so that the whole capability chain fits in one page
 * of the host (its page size is @granularity): at least 500 entries with
 * 4 KiB pages, 8000 with 64 KiB pages.  The kernel builds the chain in one
 * allocation at every VFIO_DEVICE_GET_REGION_INFO and does not ask for
 * more.  Retired pages beyond the list are still never mapped nor read;
 * @nr_retired counts them all.
 *
 * Retired pages are never mapped: a fault on one raises SIGBUS with
 * BUS_MCEERR_AR, and read()/write() of one fail with EIO.  A read() that
 * finds memory gone bad that was not known yet fails with EIO and retires
 * the page.  Pages retired later show up the next time the region info is
 * read.
 */
struct vfio_region_info_cap_nvidia_egm {
	struct vfio_info_cap_header header;
	__u32 flags;
	__u32 pxm;
	__u64 granularity;
	__u32 nr_retired;
	__u32 nr_listed;
	__u64 retired[];
};

#endif /* _UAPI_LINUX_EGM_H */
