/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core internals shared by the files of lib/egm/ (registry, and the
 * mapping engine and frontends built on it).  Nothing outside lib/egm/
 * includes this file: parents use <linux/egm_core.h>.
 */
#ifndef _EGM_INTERNAL_H
#define _EGM_INTERNAL_H

#include <linux/egm_core.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>

struct device;
struct resource;

/*
 * egm_registry_lock guards egm_regions (the PXM -> region xarray), every
 * region's attachment list and attachment count, and the decision to create
 * or retire a region.  Defined in registry.c.
 */
extern struct mutex egm_registry_lock;

/**
 * struct egm_region - one EGM region, shared by every parent of its PXM
 * @base: first physical address (immutable)
 * @size: length in bytes (immutable)
 * @pxm: ACPI proximity domain (immutable)
 * @nid: NUMA node of @pxm, or NUMA_NO_NODE (immutable)
 * @res: the claim on [@base, @base + @size) in iomem_resource; released
 *	when @ref drops to zero
 * @name: resource name shown in /proc/iomem, "egm-pxm<N>"
 * @ref: lifetime of this structure and of @res.  The registry holds one
 *	reference while the region has attachments; lookups
 *	(egm_region_get_by_pxm()) and, later, open files and mappings hold
 *	their own.
 * @attachments: list of struct egm_attachment, guarded by egm_registry_lock
 * @nr_attachments: length of @attachments, guarded by egm_registry_lock;
 *	the region is in the registry exactly while this is non-zero
 */
struct egm_region {
	phys_addr_t base;
	u64 size;
	u32 pxm;
	int nid;
	struct resource *res;
	char name[16];
	struct kref ref;
	struct list_head attachments;
	unsigned int nr_attachments;
};

/**
 * struct egm_attachment - one parent's registration of a region
 * @region: the region; valid until egm_unregister_region()
 * @parent: the parent device, with a reference held
 * @node: entry in @region->attachments, guarded by egm_registry_lock
 */
struct egm_attachment {
	struct egm_region *region;
	struct device *parent;
	struct list_head node;
};

/* Number of regions not yet freed (in the registry or still referenced). */
int egm_nr_live_regions(void);

#endif /* _EGM_INTERNAL_H */
