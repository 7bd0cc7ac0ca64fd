// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core retired-page sink: what a device reaches where a tenant's DMA
 * mapping covers a retired (poisoned) page.
 *
 * A VMM maps all of a guest's RAM for device DMA.  VFIO type1 resolves a
 * VM_PFNMAP range page by page through fixup_user_fault() with
 * FAULT_FLAG_REMOTE; if a retired page failed that fault with
 * VM_FAULT_HWPOISON, VFIO_IOMMU_MAP_DMA would fail and the VM would not
 * start.  Firmware retires pages on every host sooner or later, so a remote
 * fault on a retired page installs the partition's sink instead: one zeroed
 * host page, marked reserved so that type1 takes it as it takes the rest of
 * the region, standing in for every retired page of the mapping.
 *
 * Neither a device nor a CPU ever reaches the bad memory.  What they write
 * through a retired page lands in the sink; the scrub between tenants looks
 * at the sink, says in the log when the tenant wrote to retired pages, and
 * zeroes it, so that it carries nothing from one tenant to the next.
 *
 * A fault that is not remote (the VMM's own access, or KVM's on behalf of a
 * vCPU) still gets VM_FAULT_HWPOISON: SIGBUS with BUS_MCEERR_AR, which the
 * VMM turns into a memory error in the guest.  Once a remote fault has put
 * the sink into the page table, CPU accesses of that page reach the sink
 * too: the page is still never touched.
 *
 * Each partition has a sink of its own: what one tenant's device wrote
 * through a retired page must never be what another tenant's reads.  The
 * fault that maps it is in mmap.c, with the rest of the fault path.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "egm_internal.h"

int egm_partition_sink_create(struct egm_partition *part)
{
	struct page *page;

	page = alloc_pages_node(part->region->nid, GFP_KERNEL | __GFP_ZERO, 0);
	if (!page)
		return -ENOMEM;
	/* type1 maps PFNMAP PFNs only when they are not ordinary pages. */
	SetPageReserved(page);
	part->sink = page;
	return 0;
}

/* Called once the last reference is gone: nothing maps the sink. */
void egm_partition_sink_destroy(struct egm_partition *part)
{
	if (!part->sink)
		return;
	ClearPageReserved(part->sink);
	__free_page(part->sink);
	part->sink = NULL;
}

/*
 * Between tenants, with no mapping left: report and wipe what the last
 * tenant wrote through retired pages.
 */
void egm_partition_sink_scrub(struct egm_partition *part)
{
	void *sink = page_address(part->sink);

	atomic_set(&part->sink_told, 0);
	if (!memchr_inv(sink, 0, PAGE_SIZE))
		return;
	atomic64_inc(&part->sink_writes);
	pr_warn("%s: the last tenant wrote to retired pages (a device or the guest); the sink took the writes and is zeroed\n",
		part->name);
	memset(sink, 0, PAGE_SIZE);
}
