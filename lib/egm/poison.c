// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core poison tracking.
 *
 * Granularity: the bitmap has one bit per base page of the running kernel
 * (PAGE_SIZE: 4 KiB or 64 KiB), so it costs size / PAGE_SIZE bits: 32 KiB
 * per GiB of region with 4 KiB pages, 2 KiB per GiB with 64 KiB pages.
 * Firmware retires memory in 64 KiB blocks (EGM_FW_RETIRE_SIZE): an entry
 * of its table marks every base page of its block.  A run-time report
 * (egm_report_poison()) marks the base page that holds the address.
 * Userspace gets offsets at PAGE_SIZE granularity.
 *
 * Bits are only ever set, with atomic bitops, so they can be set from any
 * context (the GHES notifier runs in atomic context) and read locklessly by
 * faults.  A newly set bit must also leave every mapping: that needs
 * synchronize_srcu() and unmap_mapping_range(), which sleep, so it is
 * deferred to the region's poison_work.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/io.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>
#include <trace/events/egm.h>

#ifdef CONFIG_ACPI_APEI_GHES
#include <acpi/ghes.h>
#include <linux/cper.h>
#include <linux/notifier.h>
#endif

#include "egm_compat.h"
#include "egm_internal.h"

/* Header of the firmware table: the number of entries that follow. */
#define EGM_FW_TABLE_HDR	sizeof(u64)

/*
 * The largest leaf a mapping of any partition of @region may use: a
 * partition's leaves never exceed what the region's size allows.
 */
static u64 egm_poison_leaf(const struct egm_region *region)
{
	return egm_leaf_for_size(region->size);
}

/*
 * Zap the whole leaf-sized blocks around pages [@start, @end).  A block
 * may reach into a neighbouring partition, whose mappings there fault
 * back in: a refault, never a stall.
 */
static void egm_poison_zap_blocks(struct egm_region *region, u64 leaf,
				  unsigned long start, unsigned long end)
{
	u64 first = ALIGN_DOWN(region->base + ((u64)start << PAGE_SHIFT), leaf);
	u64 last = ALIGN(region->base + ((u64)end << PAGE_SHIFT), leaf);

	first = max_t(u64, first, region->base) - region->base;
	last = min_t(u64, last - region->base, region->size);
	egm_region_zap(region, first, last - first);
}

/*
 * Zap newly poisoned pages out of every mapping.  The range zapped around a
 * page is widened to the whole block of the largest leaf a mapping can use
 * (aligned in physical address, as leaves are): zapping a part of a PUD
 * leaf would have to split it, which the kernel does only under the mmap
 * lock, and unmap_mapping_range() does not hold it.  The next faults map
 * the rest of the block again, around the poison.
 */
static void egm_poison_work_fn(struct work_struct *work)
{
	struct egm_region *region = container_of(work, struct egm_region,
						 poison_work);
	unsigned long pending[EGM_ZAP_PENDING_MAX];
	u64 leaf = egm_poison_leaf(region);
	unsigned long start, end = 0, flags;
	unsigned int nr, i;
	bool all;

	spin_lock_irqsave(&region->poison_lock, flags);
	nr = region->nr_zap_pending;
	memcpy(pending, region->zap_pending, nr * sizeof(pending[0]));
	all = region->zap_all;
	region->nr_zap_pending = 0;
	region->zap_all = false;
	spin_unlock_irqrestore(&region->poison_lock, flags);

	/* Faults that missed the new bits are done after this. */
	synchronize_srcu(&egm_srcu);

	if (!all) {
		for (i = 0; i < nr; i++)
			egm_poison_zap_blocks(region, leaf, pending[i],
					      pending[i] + 1);
		return;
	}
	for (;;) {
		start = find_next_bit(region->poison, region->nr_pages, end);
		if (start >= region->nr_pages)
			break;
		end = find_next_zero_bit(region->poison, region->nr_pages, start);
		egm_poison_zap_blocks(region, leaf, start, end);
	}
}

/**
 * egm_region_queue_poison_zap() - zap a newly poisoned page from every mapping
 * @region: the region
 * @page: page index of the new poison, or ULONG_MAX for "every poisoned page"
 *
 * Any context but NMI.  The work holds no reference: egm_region_free()
 * waits for RCU readers (the GHES notifier) and then cancels the work.
 */
void egm_region_queue_poison_zap(struct egm_region *region, pgoff_t page)
{
	unsigned long flags;

	spin_lock_irqsave(&region->poison_lock, flags);
	if (page == ULONG_MAX || region->nr_zap_pending == EGM_ZAP_PENDING_MAX)
		region->zap_all = true;
	else
		region->zap_pending[region->nr_zap_pending++] = page;
	spin_unlock_irqrestore(&region->poison_lock, flags);

	queue_work(egm_wq, &region->poison_work);
}

int egm_region_poison_create(struct egm_region *region)
{
	region->poison = kvcalloc_node(BITS_TO_LONGS(region->nr_pages),
				       sizeof(unsigned long), GFP_KERNEL,
				       region->nid);
	if (!region->poison)
		return -ENOMEM;
	atomic_long_set(&region->nr_poisoned, 0);
	spin_lock_init(&region->poison_lock);
	INIT_WORK(&region->poison_work, egm_poison_work_fn);
	return 0;
}

/*
 * The region's last reference is gone and RCU readers have finished: no
 * one can queue the work any more.
 */
void egm_region_poison_destroy(struct egm_region *region)
{
	cancel_work_sync(&region->poison_work);
	kvfree(region->poison);
}

/**
 * egm_region_mark_poison() - mark a byte range of a region poisoned
 * @region: the region
 * @offset: first byte, from the region start
 * @len: length in bytes; clipped to the region
 *
 * Marks every base page the range touches.  Any context.
 *
 * Return: the number of pages newly marked.
 */
unsigned long egm_region_mark_poison(struct egm_region *region, u64 offset,
				     u64 len)
{
	unsigned long first, last, i, added = 0;

	if (!len || offset >= region->size)
		return 0;
	len = min(len, region->size - offset);
	first = offset >> PAGE_SHIFT;
	last = (offset + len - 1) >> PAGE_SHIFT;

	for (i = first; i <= last; i++)
		if (!test_and_set_bit(i, region->poison))
			added++;
	atomic_long_add(added, &region->nr_poisoned);
	trace_egm_poison(region->pxm, (u64)first << PAGE_SHIFT,
			 last - first + 1, added);
	return added;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_mark_poison);

/**
 * egm_poison_parse_table() - apply a firmware retired-page table
 * @region: the region
 * @parent: the parent that brought the table, for messages
 * @table: the table, mapped: a little-endian u64 count, then that many
 *	little-endian u64 physical addresses
 * @table_size: bytes of @table that may be read
 *
 * Each entry retires the 64 KiB block that holds its address.  The count
 * is bounded by @table_size (a count the mapping cannot hold is logged and
 * cut to what is there) and by EGM_FW_RETIRED_MAX.  Entries outside the
 * region are logged and skipped; duplicates are harmless.
 *
 * Return: the number of entries applied, or -EINVAL when @table_size
 * cannot even hold the count.
 */
int egm_poison_parse_table(struct egm_region *region, struct device *parent,
			   const void *table, size_t table_size)
{
	u64 count, fits, i;
	int applied = 0;

	if (table_size < EGM_FW_TABLE_HDR) {
		dev_err(parent, "EGM PXM %u: retired-page table of %zu bytes has no header\n",
			region->pxm, table_size);
		return -EINVAL;
	}

	count = get_unaligned_le64(table);
	fits = (table_size - EGM_FW_TABLE_HDR) / sizeof(u64);
	if (count > fits || count > EGM_FW_RETIRED_MAX) {
		dev_warn(parent,
			 "EGM PXM %u: retired-page table claims %llu entries, only %llu present (max %u); using those\n",
			 region->pxm, count, min_t(u64, fits, EGM_FW_RETIRED_MAX),
			 EGM_FW_RETIRED_MAX);
		count = min_t(u64, fits, EGM_FW_RETIRED_MAX);
	}

	for (i = 0; i < count; i++) {
		u64 pa = get_unaligned_le64(table + EGM_FW_TABLE_HDR +
					    i * sizeof(u64));
		u64 block = ALIGN_DOWN(pa, EGM_FW_RETIRE_SIZE);

		if (pa < region->base || pa - region->base >= region->size) {
			dev_warn(parent,
				 "EGM PXM %u: retired page %#llx is outside the region, skipped\n",
				 region->pxm, pa);
			continue;
		}
		/* The block may start before the region if base is not 64K aligned. */
		if (block < region->base)
			block = region->base;
		egm_region_mark_poison(region, block - region->base,
				       ALIGN_DOWN(pa, EGM_FW_RETIRE_SIZE) +
				       EGM_FW_RETIRE_SIZE - block);
		applied++;
	}
	return applied;
}
EXPORT_SYMBOL_IF_KUNIT(egm_poison_parse_table);

/**
 * egm_poison_load_table() - map and apply a parent's firmware table
 * @region: the region
 * @parent: the parent that brought the table
 * @table_pa: physical address of the table
 * @table_size: bytes to map, or 0 to size the mapping from the table's
 *	count (bounded by EGM_FW_RETIRED_MAX)
 *
 * Context: process context.
 * Return: the number of entries applied, or a negative errno.
 */
int egm_poison_load_table(struct egm_region *region, struct device *parent,
			  phys_addr_t table_pa, size_t table_size)
{
	void *table;
	int ret;

	if (!table_size) {
		u64 count;

		table = memremap(table_pa, EGM_FW_TABLE_HDR, MEMREMAP_WB);
		if (!table)
			goto err_map;
		count = get_unaligned_le64(table);
		memunmap(table);
		table_size = EGM_FW_TABLE_HDR +
			     min_t(u64, count, EGM_FW_RETIRED_MAX) * sizeof(u64);
	}

	table = memremap(table_pa, table_size, MEMREMAP_WB);
	if (!table)
		goto err_map;
	ret = egm_poison_parse_table(region, parent, table, table_size);
	memunmap(table);

	if (ret > 0) {
		dev_info(parent, "EGM PXM %u: %d retired pages from firmware, %ld pages poisoned\n",
			 region->pxm, ret, atomic_long_read(&region->nr_poisoned));
		egm_region_queue_poison_zap(region, ULONG_MAX);
	}
	return ret;

err_map:
	dev_err(parent, "EGM PXM %u: cannot map the retired-page table at %pa\n",
		region->pxm, &table_pa);
	return -ENOMEM;
}

/**
 * egm_partition_poison_list() - the poisoned pages of a partition
 * @part: the partition
 * @offsets: filled with byte offsets from the partition start, ascending
 * @max: room in @offsets
 * @total: set to the number of poisoned pages (may exceed @max)
 *
 * Return: the number of offsets written.
 */
int egm_partition_poison_list(struct egm_partition *part, u64 *offsets,
			      u32 max, u32 *total)
{
	unsigned long pos = 0;
	u32 n;

	n = egm_partition_poison_list_from(part, &pos, offsets, max);
	*total = n + egm_partition_poison_count_from(part, pos);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_poison_list);

/**
 * egm_partition_poison_list_from() - list poisoned pages from a cursor on
 * @part: the partition
 * @pos: in: first page index to look at, from the partition start; out:
 *	where to go on from
 * @offsets: filled with byte offsets from the partition start, ascending
 * @max: room in @offsets
 *
 * For callers that copy the list out in batches.  Pages poisoned behind
 * the cursor while it moves are not listed; the poison bitmap only grows.
 *
 * Return: entries written to @offsets.
 */
u32 egm_partition_poison_list_from(struct egm_partition *part,
				   unsigned long *pos, u64 *offsets, u32 max)
{
	unsigned long end = part->first_page + part->nr_pages;
	unsigned long bit = part->first_page + *pos;
	u32 n = 0;

	while (n < max) {
		bit = find_next_bit(part->region->poison, end, bit);
		if (bit >= end)
			break;
		offsets[n++] = (u64)(bit - part->first_page) << PAGE_SHIFT;
		bit++;
	}
	*pos = min(bit, end) - part->first_page;
	return n;
}

/**
 * egm_partition_poison_count_from() - count poisoned pages from a page on
 * @part: the partition
 * @pos: first page index to count, from the partition start
 *
 * Return: poisoned pages in [@pos, end of the partition).
 */
unsigned long egm_partition_poison_count_from(struct egm_partition *part,
					      unsigned long pos)
{
	unsigned long end = part->first_page + part->nr_pages;
	unsigned long n = 0;

	pos += part->first_page;
	for_each_set_bit_from(pos, part->region->poison, end)
		n++;
	return n;
}

/**
 * egm_partition_nr_poisoned() - how many pages of a partition are poisoned
 * @part: the partition
 *
 * Return: the count; the whole region's for the whole-region partition.
 */
unsigned long egm_partition_nr_poisoned(struct egm_partition *part)
{
	if (part->nr_pages == part->region->nr_pages)
		return atomic_long_read(&part->region->nr_poisoned);
	return egm_partition_poison_count_from(part, 0);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_nr_poisoned);

/**
 * egm_region_poison_granularity() - bytes each poisoned offset stands for
 * @region: the region
 *
 * Return: PAGE_SIZE of the running kernel.
 */
u32 egm_region_poison_granularity(const struct egm_region *region)
{
	return PAGE_SIZE;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_poison_granularity);

/**
 * egm_report_poison() - a parent learned that memory of its region is bad
 * @attachment: the parent's attachment
 * @pa: physical address inside the region
 *
 * Marks the base page holding @pa poisoned: faults on it get SIGBUS
 * (BUS_MCEERR_AR), huge mappings around it fall back to smaller leaves,
 * the scrubber skips it and userspace sees it in the retired list.  Every
 * existing mapping of the page is zapped from a work item.
 *
 * Context: any context except NMI.
 * Return: 0, or -ERANGE when @pa is outside the region.
 */
int egm_report_poison(struct egm_attachment *attachment, phys_addr_t pa)
{
	struct egm_region *region = attachment->region;

	if (pa < region->base || pa - region->base >= region->size)
		return -ERANGE;
	if (egm_region_mark_poison(region, pa - region->base, 1))
		egm_region_queue_poison_zap(region,
					    (pa - region->base) >> PAGE_SHIFT);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(egm_report_poison, EGM_CORE_NS);

#ifdef EGM_PFN_SPACE
/*
 * The kernel's memory-failure path found a poisoned PFN of the region in a
 * mapping: record it, and tell the kernel where the PFN sits in the VMA.
 * Only called on kernels with EGM_HAVE_PFN_ADDRESS_SPACE.
 */
static int egm_pfn_to_vma_pgoff(struct vm_area_struct *vma, unsigned long pfn,
				pgoff_t *pgoff)
{
	struct egm_partition *part = vma->vm_private_data;
	struct egm_region *region = part->region;

	/* vm_pgoff counts from the region's start, as the PFN does. */
	*pgoff = pfn - PHYS_PFN(region->base);
	if (egm_region_mark_poison(region, (u64)*pgoff << PAGE_SHIFT, 1))
		egm_region_queue_poison_zap(region, *pgoff);
	return 0;
}

#if IS_ENABLED(CONFIG_KUNIT)
const struct egm_pfn_space_test_ops *egm_pfn_space_test_ops;
EXPORT_SYMBOL_IF_KUNIT(egm_pfn_space_test_ops);
#endif

static int egm_pfn_space_insert(struct pfn_address_space *space)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (egm_pfn_space_test_ops)
		return egm_pfn_space_test_ops->register_space(space);
#endif
	return register_pfn_address_space(space);
}

static void egm_pfn_space_remove(struct pfn_address_space *space)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (egm_pfn_space_test_ops) {
		egm_pfn_space_test_ops->unregister_space(space);
		return;
	}
#endif
	unregister_pfn_address_space(space);
}

/**
 * egm_region_poison_register() - register the region's PFNs with the
 *	kernel's memory-failure handling
 * @region: a region whose range is claimed and whose inode exists
 *
 * The registration lives inside the claim of the range: it is made after
 * request_mem_region() and undone by egm_region_free() before
 * release_mem_region(), so that a parent registering the same range again
 * right after a teardown never meets the old registration.
 *
 * Context: process context, egm_registry_lock held.
 * Return: 0, or the kernel's error (then nothing is registered).
 */
int egm_region_poison_register(struct egm_region *region)
{
	int err;

	lockdep_assert_held(&egm_registry_lock);

	region->pfn_space.node.start = PHYS_PFN(region->base);
	region->pfn_space.node.last = PHYS_PFN(region->base) + region->nr_pages - 1;
	region->pfn_space.mapping = region->inode->i_mapping;
	region->pfn_space.pfn_to_vma_pgoff = egm_pfn_to_vma_pgoff;
	err = egm_pfn_space_insert(&region->pfn_space);
	if (err) {
		pr_err("PXM %u: cannot register with memory-failure handling: %d\n",
		       region->pxm, err);
		return err;
	}
	region->pfn_space_registered = true;
	return 0;
}

/**
 * egm_region_poison_unregister() - undo egm_region_poison_register()
 * @region: the region
 *
 * Safe to call when the registration failed or was already undone: only a
 * node the kernel holds is removed from its tree.
 *
 * Context: process context, egm_registry_lock held.
 */
void egm_region_poison_unregister(struct egm_region *region)
{
	lockdep_assert_held(&egm_registry_lock);

	if (!region->pfn_space_registered)
		return;
	egm_pfn_space_remove(&region->pfn_space);
	region->pfn_space_registered = false;
}
#endif /* EGM_PFN_SPACE */

#ifdef CONFIG_ACPI_APEI_GHES
/*
 * Platform memory errors reported through APEI GHES: mark them in the
 * region that holds them, without waiting for a parent.  Atomic context.
 */
static int egm_ghes_notify(struct notifier_block *nb, unsigned long sev,
			   void *data)
{
	struct cper_sec_mem_err *mem_err = data;

	/* A corrected error leaves the memory usable: as ghes_do_proc() does. */
	if (sev < GHES_SEV_RECOVERABLE)
		return NOTIFY_DONE;
	if (!mem_err || !(mem_err->validation_bits & CPER_MEM_VALID_PA))
		return NOTIFY_DONE;
	return egm_registry_poison_pa(mem_err->physical_addr) ?
		NOTIFY_OK : NOTIFY_DONE;
}

static struct notifier_block egm_ghes_nb = {
	.notifier_call = egm_ghes_notify,
};

int egm_poison_init(void)
{
	ghes_register_report_chain(&egm_ghes_nb);
	return 0;
}

void egm_poison_exit(void)
{
	ghes_unregister_report_chain(&egm_ghes_nb);
}
#else
int egm_poison_init(void)
{
	return 0;
}

void egm_poison_exit(void)
{
}
#endif
