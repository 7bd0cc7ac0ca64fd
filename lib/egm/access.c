// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core access control of mappings: revoke (the memory is gone for
 * good), reset (a parent's GPU is being reset: no access to what it
 * exposes until it is done) and the zap that makes either take effect.
 *
 * What a GPU reset has to do with EGM at all: nothing, for the memory.
 * EGM is the CPU socket's memory; resetting a GPU neither clears it nor
 * makes it unreachable, and the CPU and KVM reach it as before.  The zap
 * is kept for one reason: the VFIO frontend exposes a partition as a
 * region of the GPU's vfio device, and the review of the series asked
 * that it behave like the device's other regions across
 * VFIO_DEVICE_RESET (zapped, faulting back after the reset).  So a reset
 * reaches only the partition its parent exposes: the parent's own after a
 * per-parent split, else the whole-region partition, which the VFIO
 * frontend exposes on one of the region's GPUs.  Partitions an operator
 * carved out for the chardev are no GPU's: no reset reaches them, and one
 * VM's GPU reset never stalls another VM's memory.
 *
 * Faults check the region's and the partition's state inside an egm_srcu
 * read section (see mmap.c).  A writer changes the state under access_lock, then calls
 * synchronize_srcu() so that every fault that saw the old state has
 * finished inserting its PFN, and only then zaps: nothing can slip in
 * behind the zap.
 *
 * Faults that arrive during a reset wait for its end (killable) instead of
 * failing: the region is a VM's RAM, and a SIGBUS would kill the VM for a
 * GPU reset that does not touch system memory.  Revoke wakes them and they
 * fail with SIGBUS.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/mm.h>
#include <trace/events/egm.h>

#include "egm_compat.h"
#include "egm_internal.h"

DEFINE_SRCU(egm_srcu);

/*
 * Test only, /sys/kernel/debug/egm/reset_scoped: N makes a reset zap the
 * whole region, every partition, as before partitions: the control of the
 * partitions suite, which then sees the other tenant fault again.
 */
bool egm_reset_scoped = true;

void egm_region_access_init(struct egm_region *region)
{
	mutex_init(&region->access_lock);
	region->alive = true;
}

/**
 * egm_region_zap() - remove a range of a region from every user mapping
 * @region: the region
 * @offset: first byte, from the region start
 * @len: length in bytes; 0 means to the end of the region
 *
 * Every mapping sits in the region's address_space at the offset of its
 * memory, whatever partition it maps: a huge leaf that overlaps the range
 * is removed whole, and the next fault installs what is allowed then.
 */
void egm_region_zap(struct egm_region *region, u64 offset, u64 len)
{
	unmap_mapping_range(region->inode->i_mapping, offset, len, 1);
}

/**
 * egm_region_revoke() - the region's memory may no longer be accessed
 * @region: the region
 *
 * Marks the region dead, waits for faults that saw it alive, zaps every
 * mapping of every partition and stops every scrub.  Later faults get
 * SIGBUS; waiters for a reset are woken and fail.  Idempotent.
 *
 * Context: process context; sleeps.  Takes @region->partition_lock.
 */
void egm_region_revoke(struct egm_region *region)
{
	struct egm_partition *part;
	unsigned long index;

	mutex_lock(&region->access_lock);
	if (READ_ONCE(region->alive))
		trace_egm_revoke(region->pxm);
	WRITE_ONCE(region->alive, false);
	mutex_unlock(&region->access_lock);

	synchronize_srcu(&egm_srcu);
	egm_region_zap(region, 0, 0);

	mutex_lock(&region->partition_lock);
	xa_for_each(&region->partitions, index, part) {
		wake_up_all(&part->access_wq);
		egm_partition_scrub_stop(part);
	}
	mutex_unlock(&region->partition_lock);
}

/*
 * The partition a parent's reset reaches: its own, else the whole-region
 * one (see the top of this file), with a reference; NULL when there is
 * none (the region is split and this parent has no partition).
 */
static struct egm_partition *egm_reset_target(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	struct egm_partition *part;

	mutex_lock(&region->partition_lock);
	part = attachment->partition;
	if (part)
		egm_partition_get(part);
	mutex_unlock(&region->partition_lock);
	return part ?: egm_partition_get_by_index(region, EGM_PARTITION_WHOLE);
}

/* End @attachment's reset; true when it was the target's last. */
static bool egm_reset_end_locked(struct egm_attachment *attachment,
				 struct egm_partition **target)
{
	struct egm_partition *part = attachment->reset_target;
	bool last = false;

	lockdep_assert_held(&attachment->region->access_lock);

	attachment->in_reset = false;
	attachment->reset_target = NULL;
	if (part) {
		WRITE_ONCE(part->resets, part->resets - 1);
		last = !part->resets;
	}
	*target = part;
	return last;
}

/**
 * egm_reset_begin() - a parent's GPU is about to be reset
 * @attachment: the parent's attachment
 *
 * Every mapping of the partition the parent exposes (its own after a
 * per-parent split, else the whole region) is zapped; faults on it wait
 * until each parent in reset has called egm_reset_end().  Other partitions
 * are not touched.  Two parents may reset at the same time: access resumes
 * when the last one ends.  A parent must not begin twice without ending.
 *
 * Context: process context; sleeps (synchronize_srcu()).
 * Return: 0, or -EINVAL when @attachment is already in reset.
 */
int egm_reset_begin(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	struct egm_partition *part = egm_reset_target(attachment);

	mutex_lock(&region->access_lock);
	if (attachment->in_reset) {
		mutex_unlock(&region->access_lock);
		egm_partition_put(part);
		dev_err(attachment->parent, "EGM PXM %u: reset begun twice\n",
			region->pxm);
		return -EINVAL;
	}
	attachment->in_reset = true;
	attachment->reset_target = part;
	if (part)
		WRITE_ONCE(part->resets, part->resets + 1);
	trace_egm_reset_begin(region->pxm, dev_name(attachment->parent),
			      part ? part->resets : 0);
	mutex_unlock(&region->access_lock);

	if (!part) {
		dev_dbg(attachment->parent,
			"EGM PXM %u: reset begins, no partition of its own\n",
			region->pxm);
		return 0;
	}
	synchronize_srcu(&egm_srcu);
	if (READ_ONCE(egm_reset_scoped))
		egm_region_zap(region, part->offset, part->size);
	else
		egm_region_zap(region, 0, 0);
	dev_dbg(attachment->parent, "EGM PXM %u: reset begins, %s zapped\n",
		region->pxm, part->name);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(egm_reset_begin, EGM_CORE_NS);

/**
 * egm_reset_end() - a parent's GPU reset is done
 * @attachment: the parent's attachment, after egm_reset_begin()
 *
 * When no parent reaching the same partition is in reset any more, the
 * faults waiting on it resume and map again.
 *
 * Context: process context.
 */
void egm_reset_end(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	struct egm_partition *part;
	bool last;

	mutex_lock(&region->access_lock);
	if (!attachment->in_reset) {
		mutex_unlock(&region->access_lock);
		dev_err(attachment->parent, "EGM PXM %u: reset ended without a begin\n",
			region->pxm);
		return;
	}
	last = egm_reset_end_locked(attachment, &part);
	trace_egm_reset_end(region->pxm, dev_name(attachment->parent),
			    part ? part->resets : 0);
	mutex_unlock(&region->access_lock);

	if (last)
		wake_up_all(&part->access_wq);
	dev_dbg(attachment->parent, "EGM PXM %u: reset ends%s\n", region->pxm,
		last ? ", access resumes" : "");
	egm_partition_put(part);
}
EXPORT_SYMBOL_NS_GPL(egm_reset_end, EGM_CORE_NS);

/*
 * The parent is leaving: if it is inside a reset, end it, or the other
 * users of its partition would wait for it forever.
 */
void egm_reset_abandon(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	struct egm_partition *part = NULL;
	bool last = false;

	mutex_lock(&region->access_lock);
	if (attachment->in_reset) {
		last = egm_reset_end_locked(attachment, &part);
		trace_egm_reset_end(region->pxm, dev_name(attachment->parent),
				    part ? part->resets : 0);
		dev_warn(attachment->parent,
			 "EGM PXM %u: unregistered during a reset, reset ended\n",
			 region->pxm);
	}
	mutex_unlock(&region->access_lock);

	if (last)
		wake_up_all(&part->access_wq);
	egm_partition_put(part);
}

/**
 * egm_revoke_region() - a parent says the region's memory is gone
 * @attachment: the parent's attachment
 *
 * For a parent that learns the memory can no longer be used (for example
 * the firmware took it back): every mapping of every partition is zapped
 * and every later access gets SIGBUS, for all users, even though the
 * region stays registered until its parents unregister.  Revoking is final.
 *
 * Context: process context; sleeps.
 */
void egm_revoke_region(struct egm_attachment *attachment)
{
	dev_warn(attachment->parent, "EGM PXM %u: region revoked\n",
		 attachment->region->pxm);
	egm_region_revoke(attachment->region);
}
EXPORT_SYMBOL_NS_GPL(egm_revoke_region, EGM_CORE_NS);
