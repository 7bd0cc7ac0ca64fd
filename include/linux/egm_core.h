/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core: shared management of Extended GPU Memory (EGM) regions.
 *
 * An EGM region is a range of system memory that firmware hides from the
 * host kernel (no struct page) and hands to a VM.  There is one region per
 * CPU socket, identified by its ACPI proximity domain (PXM), and every GPU
 * driver on that socket discovers the same region.  Those drivers are the
 * "parents": each one calls egm_register_region() and gets back its own
 * attachment; the first one creates the region, later ones join it, and the
 * region lives until the last attachment is dropped with
 * egm_unregister_region() (and, once frontends exist, until the last open
 * file or mapping of it is gone).
 *
 * Parents never touch struct egm_region directly: they use the accessors
 * below.  All exports live in the EGM_CORE symbol namespace; a user adds
 * MODULE_IMPORT_NS(EGM_CORE).
 */
#ifndef _LINUX_EGM_CORE_H
#define _LINUX_EGM_CORE_H

#include <linux/kconfig.h>
#include <linux/types.h>

struct device;
struct egm_region;
struct egm_attachment;
struct vfio_pci_core_device;

/**
 * EGM_PXM_MAX - number of proximity domains egm-core accepts
 *
 * Matches the size of the kernel's ACPI PXM-to-node table
 * (MAX_PXM_DOMAINS); a PXM at or above it is refused with -EINVAL.
 */
#define EGM_PXM_MAX	256

/* Firmware retires EGM memory in blocks of this size (bytes). */
#define EGM_FW_RETIRE_SIZE	0x10000
/* Most entries a firmware retired-page table holds. */
#define EGM_FW_RETIRED_MAX	4096

/**
 * struct egm_region_desc - what a parent knows about its socket's EGM region
 * @base: system physical address of the first byte; PAGE_SIZE aligned
 * @size: length in bytes; non-zero and PAGE_SIZE aligned
 * @pxm: ACPI proximity domain of the region's memory (not a NUMA node id)
 * @retired_table_pa: physical address of the firmware's retired-page table
 *	(ACPI "nvidia,egm-retired-pages-data-base"), or 0 for none: a
 *	little-endian u64 count, then that many little-endian u64 physical
 *	addresses, each retiring the %EGM_FW_RETIRE_SIZE block holding it
 * @retired_table_size: bytes of the table that may be read, or 0 to size
 *	it from its count (at most %EGM_FW_RETIRED_MAX entries)
 *
 * Every parent of one PXM must describe the same @base and @size; each may
 * bring its own retired-page table, and the region's poison is the union.
 * Callers must zero-initialise the structure so that unused fields read 0.
 */
struct egm_region_desc {
	phys_addr_t base;
	u64 size;
	u32 pxm;
	phys_addr_t retired_table_pa;
	size_t retired_table_size;
};

struct egm_attachment *egm_register_region(struct device *parent,
					   const struct egm_region_desc *desc);
void egm_unregister_region(struct egm_attachment *attachment);

struct egm_region *egm_attachment_region(const struct egm_attachment *attachment);

struct egm_region *egm_region_get_by_pxm(u32 pxm);
void egm_region_put(struct egm_region *region);

u32 egm_region_pxm(const struct egm_region *region);
int egm_region_node(const struct egm_region *region);
phys_addr_t egm_region_base(const struct egm_region *region);
u64 egm_region_size(const struct egm_region *region);
int egm_region_walk_parents(struct egm_region *region,
			    int (*fn)(struct device *parent, void *data),
			    void *data);

int egm_attach_chardev(struct egm_attachment *attachment);

/**
 * enum egm_layout - how a region is divided among tenants
 * @EGM_LAYOUT_WHOLE: one partition over the whole region (the default)
 * @EGM_LAYOUT_PER_PARENT: one equal partition per parent, each the
 *	parent's own: its GPU's vfio device exposes it, and its resets reach
 *	it alone
 */
enum egm_layout {
	EGM_LAYOUT_WHOLE,
	EGM_LAYOUT_PER_PARENT,
};

int egm_set_layout(struct egm_attachment *attachment, enum egm_layout layout);

#if IS_ENABLED(CONFIG_EGM_CORE_VFIO)
int egm_attach_vfio(struct egm_attachment *attachment);
int egm_vfio_open_device(struct egm_attachment *attachment,
			 struct vfio_pci_core_device *vdev);
#else
/* egm-core was built without VFIO: there is no VFIO frontend to attach. */
static inline int egm_attach_vfio(struct egm_attachment *attachment)
{
	return -EOPNOTSUPP;
}

static inline int egm_vfio_open_device(struct egm_attachment *attachment,
				       struct vfio_pci_core_device *vdev)
{
	return -EOPNOTSUPP;
}
#endif

int egm_reset_begin(struct egm_attachment *attachment);
void egm_reset_end(struct egm_attachment *attachment);
void egm_revoke_region(struct egm_attachment *attachment);
int egm_report_poison(struct egm_attachment *attachment, phys_addr_t pa);

#endif /* _LINUX_EGM_CORE_H */
