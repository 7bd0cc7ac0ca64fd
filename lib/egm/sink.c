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
 * fault on a retired page installs the region's sink instead: one zeroed
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
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "egm_internal.h"

/*
 * Test only, /sys/kernel/debug/egm/retired_sink: N makes remote faults on
 * retired pages fail as local ones do, which is what the DMA suite's
 * control shows (VFIO_IOMMU_MAP_DMA then fails).
 */
bool egm_sink_enabled = true;

int egm_region_sink_create(struct egm_region *region)
{
	struct page *page;

	page = alloc_pages_node(region->nid, GFP_KERNEL | __GFP_ZERO, 0);
	if (!page)
		return -ENOMEM;
	/* type1 maps PFNMAP PFNs only when they are not ordinary pages. */
	SetPageReserved(page);
	region->sink = page;
	return 0;
}

/* Called once the last reference is gone: nothing maps the sink. */
void egm_region_sink_destroy(struct egm_region *region)
{
	if (!region->sink)
		return;
	ClearPageReserved(region->sink);
	__free_page(region->sink);
	region->sink = NULL;
}

/**
 * egm_region_sink_fault() - map the sink in place of a retired page
 * @vmf: a remote fault on a poisoned page of @region
 * @region: the region
 * @pgoff: the page, from the start of @region
 *
 * Context: the fault path, in an egm_srcu read section.
 * Return: VM_FAULT_NOPAGE, or what vmf_insert_pfn() returned;
 * VM_FAULT_HWPOISON when the sink is switched off (debugfs, tests only).
 */
vm_fault_t egm_region_sink_fault(struct vm_fault *vmf,
				 struct egm_region *region, pgoff_t pgoff)
{
	vm_fault_t ret;

	if (!READ_ONCE(egm_sink_enabled))
		return VM_FAULT_HWPOISON;
	ret = vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(region->sink));
	if (ret != VM_FAULT_NOPAGE)
		return ret;

	atomic64_inc(&region->sink_faults);
	if (!atomic_xchg(&region->sink_told, 1))
		pr_info("PXM %u: %s[%d] maps retired pages for DMA; the sink stands in for them (first at +%#llx)\n",
			region->pxm, current->comm, task_pid_nr(current),
			(u64)pgoff << PAGE_SHIFT);
	return ret;
}

/*
 * Between tenants, with no mapping left: report and wipe what the last
 * tenant wrote through retired pages.
 */
void egm_region_sink_scrub(struct egm_region *region)
{
	void *sink = page_address(region->sink);

	atomic_set(&region->sink_told, 0);
	if (!memchr_inv(sink, 0, PAGE_SIZE))
		return;
	atomic64_inc(&region->sink_writes);
	pr_warn("PXM %u: the last tenant wrote to retired pages (a device or the guest); the sink took the writes and is zeroed\n",
		region->pxm);
	memset(sink, 0, PAGE_SIZE);
}
