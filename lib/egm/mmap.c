// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core mapping engine: user mappings of a partition, for every
 * frontend.  The whole walk of a fault from vm_ops to a PFN is in this
 * file and scrub.c (the zeroing of dirty chunks before they are mapped),
 * with the poison test inline from egm_internal.h; the retired-page sink's
 * fault is here too (sink.c makes and wipes the sink).
 *
 * Nothing is mapped at mmap() time.  Faults insert PFNs on demand, with the
 * largest leaf that fits: a PUD or PMD leaf where the architecture supports
 * huge PFN maps (CONFIG_ARCH_SUPPORTS_{PUD,PMD}_PFNMAP; arm64 has PMD
 * only), the block is inside the VMA, its physical address is aligned and
 * no page in it is poisoned; otherwise VM_FAULT_FALLBACK and the next
 * smaller size.  A poisoned page itself faults with VM_FAULT_HWPOISON
 * (SIGBUS, BUS_MCEERR_AR), unless the fault is remote: VFIO type1 mapping
 * the range for DMA gets the partition's sink in its place (sink.c).
 * egm_partition_get_unmapped_area() places a mapping so that its virtual and
 * physical addresses are congruent modulo the largest leaf, which is what
 * lets those leaves be used.
 *
 * Mappings are write-back cacheable (this is system RAM), MAP_SHARED only,
 * VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP.  A fault first zeroes
 * the chunks under its leaf that may still hold an earlier tenant's data
 * (egm_partition_clean_range(), scrub.c).  Every mapping is moved
 * onto the current tenant's pseudo file (vma_set_file()), with vm_pgoff
 * rewritten to the page offset in the region, so that all mappings of a
 * region, from any frontend and of any partition, sit in one
 * address_space, each at the offsets of its memory.
 *
 * VMA life: a mapping holds a partition reference and, through its vm_file,
 * the tenancy (the partition stays EGM_IN_USE, unscrubbed, while mapped, even
 * after the file that created it is closed; and while VFIO type1 holds that
 * vm_file for an IOMMU mapping of it).  Splitting (munmap or mprotect of a
 * part) is allowed at any page boundary: a huge leaf across the split is
 * zapped (a PMD leaf by the kernel, a PUD leaf by ->may_split, since
 * 6.12 does not split those) and faults back in smaller.  fork() shares
 * the mapping, and its vm_file, with the child.  mremap() that moves a
 * mapping is refused with -EINVAL by the tenant file's ->get_unmapped_area
 * (backing.c), before any page table moves: QEMU never moves guest RAM,
 * and a mapping that stays where get_unmapped_area() put it keeps its huge
 * alignment.  What mremap() does before it asks is done all the same:
 * MREMAP_FIXED unmaps the destination, a shrinking move unmaps the tail.
 * Growing gets -EFAULT (VM_DONTEXPAND), MREMAP_DONTUNMAP -EINVAL
 * (VM_PFNMAP), and shrinking in place is an munmap() of the tail.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/overflow.h>
#include <kunit/visibility.h>
#include <trace/events/egm.h>

#include "egm_compat.h"
#include "egm_internal.h"

static vm_fault_t egm_insert_leaf(struct vm_fault *vmf, unsigned long pfn,
				  unsigned int order)
{
	switch (order) {
	case 0:
		return vmf_insert_pfn(vmf->vma, vmf->address, pfn);
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	case PMD_ORDER:
		return egm_vmf_insert_pfn_pmd(vmf, pfn,
					      vmf->flags & FAULT_FLAG_WRITE);
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	case PUD_ORDER:
		return egm_vmf_insert_pfn_pud(vmf, pfn,
					      vmf->flags & FAULT_FLAG_WRITE);
#endif
	default:
		return VM_FAULT_FALLBACK;
	}
}

/*
 * Test only, /sys/kernel/debug/egm/retired_sink: N makes remote faults on
 * retired pages fail as local ones do, which is what the DMA suite's
 * control shows (VFIO_IOMMU_MAP_DMA then fails).
 */
bool egm_sink_enabled = true;

/**
 * egm_sink_fault() - map the sink in place of a retired page (sink.c)
 * @vmf: a remote fault on a poisoned page of @part
 * @part: the partition
 * @pgoff: the page, from the start of the region
 *
 * Context: the fault path, in an egm_srcu read section.
 * Return: VM_FAULT_NOPAGE, or what vmf_insert_pfn() returned;
 * VM_FAULT_HWPOISON when the sink is switched off (debugfs, tests only).
 */
static vm_fault_t egm_sink_fault(struct vm_fault *vmf,
				 struct egm_partition *part, pgoff_t pgoff)
{
	vm_fault_t ret;

	if (!READ_ONCE(egm_sink_enabled))
		return VM_FAULT_HWPOISON;
	ret = vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(part->sink));
	if (ret != VM_FAULT_NOPAGE)
		return ret;

	atomic64_inc(&part->sink_faults);
	if (!atomic_xchg(&part->sink_told, 1))
		pr_info("%s: %s[%d] maps retired pages for DMA; the sink stands in for them (first at +%#llx)\n",
			part->name, current->comm, task_pid_nr(current),
			(u64)(pgoff - part->first_page) << PAGE_SHIFT);
	return ret;
}

static enum egm_leaf egm_order_leaf(unsigned int order)
{
	if (!order)
		return EGM_LEAF_PTE;
	return order == PMD_ORDER ? EGM_LEAF_PMD : EGM_LEAF_PUD;
}

/*
 * A reset is in progress.  Wait for its end, with the mmap lock (or the
 * VMA lock) dropped whenever the fault may be retried: held, it would
 * stall every mmap()/munmap() of the process for the rest of the reset,
 * and every other thread's fault queued behind them (a VMM's vCPUs).  A
 * fault may return VM_FAULT_RETRY any number of times since 5.7;
 * FAULT_FLAG_TRIED only says that it did before.  Only a fault that may
 * not be retried (GUP without a "locked" pointer) waits with the lock held.
 *
 * Return: VM_FAULT_RETRY after waiting with the lock dropped (or at once
 * with FAULT_FLAG_RETRY_NOWAIT, lock held); 0 to try again under the lock
 * still held; VM_FAULT_SIGBUS on a fatal signal while waiting so.
 */
static vm_fault_t egm_fault_wait_reset(struct vm_fault *vmf,
				       struct egm_partition *part)
{
	struct egm_region *region = part->region;
	int err;

	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;

	if (vmf->flags & FAULT_FLAG_ALLOW_RETRY) {
		/*
		 * The VMA may go away once the lock is dropped: its tenant
		 * file, which holds the partition, pins it meanwhile.
		 */
		struct file *tenant = get_file(vmf->vma->vm_file);

		release_fault_lock(vmf);
		wait_event_killable(part->access_wq,
				    !READ_ONCE(part->resets) ||
				    !READ_ONCE(region->alive));
		fput(tenant);
		return VM_FAULT_RETRY;
	}

	err = wait_event_killable(part->access_wq,
				  !READ_ONCE(part->resets) ||
				  !READ_ONCE(region->alive));
	return err ? VM_FAULT_SIGBUS : 0;
}

static vm_fault_t egm_vm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct egm_partition *part = vma->vm_private_data;
	struct egm_region *region = part->region;
	unsigned long size = PAGE_SIZE << order;
	unsigned long addr = ALIGN_DOWN(vmf->address, size);
	unsigned long nr = 1UL << order;
	pgoff_t pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	unsigned long pfn = PHYS_PFN(region->base) + pgoff;
	u32 pxm = region->pxm;
	bool leaf = false;
	vm_fault_t ret;
	int idx;

	if (order && (addr < vma->vm_start || addr + size > vma->vm_end ||
		      !IS_ALIGNED(pfn, nr)))
		return VM_FAULT_FALLBACK;
	/* egm_partition_mmap() checked the VMA against the partition. */
	if (WARN_ON_ONCE(pgoff < part->first_page ||
			 pgoff + nr > part->first_page + part->nr_pages))
		return VM_FAULT_SIGBUS;
	/*
	 * Nothing of an earlier tenant is mapped: zero the dirty chunks
	 * under the leaf first.  No chunk turns dirty again while this VMA
	 * holds the tenancy.
	 */
	if (egm_partition_clean_range(part, pgoff - part->first_page, nr)) {
		trace_egm_fault(pxm, (u64)pgoff << PAGE_SHIFT, size,
				VM_FAULT_SIGBUS);
		return VM_FAULT_SIGBUS;
	}

	for (;;) {
		idx = srcu_read_lock(&egm_srcu);
		if (!READ_ONCE(region->alive)) {
			ret = VM_FAULT_SIGBUS;
			break;
		}
		if (!READ_ONCE(part->resets)) {
			leaf = !egm_region_range_poisoned(region, pgoff, nr);
			if (leaf)
				ret = egm_insert_leaf(vmf, pfn, order);
			else if (order)
				ret = VM_FAULT_FALLBACK;
			else if (vmf->flags & FAULT_FLAG_REMOTE)
				ret = egm_sink_fault(vmf, part, pgoff);
			else
				ret = VM_FAULT_HWPOISON;
			break;
		}
		srcu_read_unlock(&egm_srcu, idx);

		ret = egm_fault_wait_reset(vmf, part);
		if (ret) {
			/* The partition may be gone: no dereference after the wait. */
			trace_egm_fault(pxm, (u64)pgoff << PAGE_SHIFT, size, ret);
			return ret;
		}
	}
	srcu_read_unlock(&egm_srcu, idx);

	if (leaf && ret == VM_FAULT_NOPAGE)
		atomic64_inc(&part->faults[egm_order_leaf(order)]);
	trace_egm_fault(pxm, (u64)pgoff << PAGE_SHIFT, size, ret);
	return ret;
}

static vm_fault_t egm_vm_fault(struct vm_fault *vmf)
{
	return egm_vm_huge_fault(vmf, 0);
}

/*
 * A VMA is about to be split at @addr (munmap, mprotect or mremap of a
 * part).  6.12 splits the huge PMD leaves at a split address
 * (vma_adjust_trans_huge()) but not PUD leaves: one left across the split
 * would span both halves, and the next zap of either (the munmap itself)
 * hits VM_BUG_ON_VMA() in __split_huge_pud_locked().  So remove the PUD
 * leaf around @addr first; its memory faults back in as PMD leaves.  The
 * mmap lock is held for writing; write-locking the VMA as well keeps
 * faults under the per-VMA lock from putting the leaf back before the
 * split.
 */
static int egm_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	unsigned long block = ALIGN_DOWN(addr, PUD_SIZE);

	if (addr != block && block >= vma->vm_start &&
	    block + PUD_SIZE <= vma->vm_end) {
		vma_start_write(vma);
		zap_vma_ptes(vma, block, PUD_SIZE);
	}
#endif
	return 0;
}

/* A copy of the VMA (split, or fork); the copy holds vm_file already. */
static void egm_vm_open(struct vm_area_struct *vma)
{
	egm_partition_get(vma->vm_private_data);
}

static void egm_vm_close(struct vm_area_struct *vma)
{
	egm_partition_put(vma->vm_private_data);
}

/*
 * Not reached: the tenant file refuses the move first (see above).  Kept
 * for a kernel that would move a mapping without asking its file; the
 * kernel then moves the page tables back.
 */
static int egm_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct egm_vm_ops = {
	.open = egm_vm_open,
	.close = egm_vm_close,
	.may_split = egm_vm_may_split,
	.mremap = egm_vm_mremap,
	.fault = egm_vm_fault,
#ifdef CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP
	.huge_fault = egm_vm_huge_fault,
#endif
};

/* Is @vma a mapping of @part made by egm_partition_mmap()? */
bool egm_vma_maps_partition(struct vm_area_struct *vma,
			    struct egm_partition *part)
{
	return vma->vm_ops == &egm_vm_ops && vma->vm_private_data == part;
}

/**
 * egm_partition_mmap() - set up a user mapping of a partition
 * @part: the partition, acquired by the caller (egm_partition_acquire())
 * @vma: the new VMA, from a frontend's ->mmap()
 * @pgoff_base: the part of @vma->vm_pgoff that is the frontend's own (the
 *	VFIO frontend encodes a region index in the high bits); the rest is
 *	the page offset in the partition
 *
 * The VMA's vm_pgoff becomes the page offset in the region: every mapping
 * sits in the region's address_space where its memory is.
 *
 * Return: 0; -EINVAL for a private mapping, an offset below @pgoff_base or
 * a range past the end of the partition; -EOVERFLOW when offset + length
 * overflows; -ENODEV when the region was revoked; -EBADF when the
 * partition is not acquired.
 */
int egm_partition_mmap(struct egm_partition *part, struct vm_area_struct *vma,
		       unsigned long pgoff_base)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	struct file *tenant;
	pgoff_t pgoff;
	u64 offset, end;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff < pgoff_base)
		return -EINVAL;
	pgoff = vma->vm_pgoff - pgoff_base;
	if (check_shl_overflow((u64)pgoff, PAGE_SHIFT, &offset) ||
	    check_add_overflow(offset, (u64)len, &end))
		return -EOVERFLOW;
	if (end > part->size)
		return -EINVAL;
	if (!READ_ONCE(part->region->alive))
		return -ENODEV;
	tenant = egm_partition_tenant_file(part);
	if (WARN_ON_ONCE(!tenant))
		return -EBADF;

	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_pgoff = part->first_page + pgoff;
	vma->vm_ops = &egm_vm_ops;
	vma->vm_private_data = part;
	egm_partition_get(part);
	vma_set_file(vma, tenant);
	fput(tenant);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_mmap);

/**
 * egm_partition_leaf_size() - the largest leaf a mapping of a partition
 *	can use
 * @part: the partition
 *
 * Return: PUD_SIZE, PMD_SIZE or PAGE_SIZE, by what the architecture maps
 * for PFNs and what fits in the partition.
 */
unsigned long egm_partition_leaf_size(const struct egm_partition *part)
{
	return egm_leaf_for_size(part->size);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_leaf_size);

/**
 * egm_partition_get_unmapped_area() - place a mapping for the largest leaves
 * @part: the partition
 * @file: the file being mapped
 * @addr: the caller's hint; a hint (or MAP_FIXED) is respected as it is
 * @len: length of the mapping
 * @pgoff: page offset in the partition
 * @flags: mmap flags
 *
 * Over-allocates by the leaf size and shifts so that the virtual address is
 * congruent to the physical one modulo the largest leaf that fits @len,
 * like device-dax does.
 *
 * Return: the address, or a negative errno as an unsigned long.
 */
unsigned long egm_partition_get_unmapped_area(struct egm_partition *part,
					      struct file *file,
					      unsigned long addr,
					      unsigned long len,
					      unsigned long pgoff,
					      unsigned long flags)
{
	unsigned long align = egm_partition_leaf_size(part);
	unsigned long len_align, addr_align;
	u64 phys;

	if (addr || !(flags & MAP_SHARED))
		goto out;

	while (align > PAGE_SIZE && len < align)
		align = align == PUD_SIZE ? PMD_SIZE : PAGE_SIZE;
	if (align == PAGE_SIZE)
		goto out;

	if (check_add_overflow(len, align, &len_align))
		goto out;
	phys = part->region->base + part->offset + ((u64)pgoff << PAGE_SHIFT);

	addr_align = mm_get_unmapped_area(current->mm, file, 0, len_align,
					  pgoff, flags);
	if (!IS_ERR_VALUE(addr_align))
		return addr_align + ((phys - addr_align) & (align - 1));
out:
	return mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_get_unmapped_area);
