// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core access control of mappings: revoke (the memory is gone for
 * good), reset (a parent's GPU is being reset: no access until it is done)
 * and the zap that makes either take effect in every mapping.
 *
 * Faults check the region's state inside an egm_srcu read section (see
 * mmap.c).  A writer changes the state under access_lock, then calls
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

void egm_region_access_init(struct egm_region *region)
{
	mutex_init(&region->access_lock);
	init_waitqueue_head(&region->access_wq);
	region->alive = true;
}

/**
 * egm_region_zap() - remove a range of a region from every user mapping
 * @region: the region
 * @offset: first byte, from the region start
 * @len: length in bytes; 0 means to the end of the region
 *
 * A huge leaf that overlaps the range is removed whole; the next fault
 * installs what is allowed then.
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
 * mapping and stops scrubbing.  Later faults get SIGBUS; waiters for a
 * reset are woken and fail.  Idempotent.
 *
 * Context: process context; sleeps.
 */
void egm_region_revoke(struct egm_region *region)
{
	mutex_lock(&region->access_lock);
	if (READ_ONCE(region->alive))
		trace_egm_revoke(region->pxm);
	WRITE_ONCE(region->alive, false);
	mutex_unlock(&region->access_lock);

	synchronize_srcu(&egm_srcu);
	egm_region_zap(region, 0, 0);
	wake_up_all(&region->access_wq);
	egm_region_scrub_stop(region);
}

/**
 * egm_reset_begin() - a parent's GPU is about to be reset
 * @attachment: the parent's attachment
 *
 * Every mapping of the region is zapped; faults wait until each parent in
 * reset has called egm_reset_end().  Two parents of one region may reset at
 * the same time: access resumes when the last one ends.  A parent must not
 * begin twice without ending.
 *
 * Context: process context; sleeps (synchronize_srcu()).
 * Return: 0, or -EINVAL when @attachment is already in reset.
 */
int egm_reset_begin(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;

	mutex_lock(&region->access_lock);
	if (attachment->in_reset) {
		mutex_unlock(&region->access_lock);
		dev_err(attachment->parent, "EGM PXM %u: reset begun twice\n",
			region->pxm);
		return -EINVAL;
	}
	attachment->in_reset = true;
	WRITE_ONCE(region->resets, region->resets + 1);
	trace_egm_reset_begin(region->pxm, dev_name(attachment->parent),
			      region->resets);
	mutex_unlock(&region->access_lock);

	synchronize_srcu(&egm_srcu);
	egm_region_zap(region, 0, 0);
	dev_dbg(attachment->parent, "EGM PXM %u: reset begins, mappings zapped\n",
		region->pxm);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(egm_reset_begin, EGM_CORE_NS);

/**
 * egm_reset_end() - a parent's GPU reset is done
 * @attachment: the parent's attachment, after egm_reset_begin()
 *
 * When no parent of the region is in reset any more, waiting faults resume
 * and map again.
 *
 * Context: process context.
 */
void egm_reset_end(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	bool last;

	mutex_lock(&region->access_lock);
	if (!attachment->in_reset) {
		mutex_unlock(&region->access_lock);
		dev_err(attachment->parent, "EGM PXM %u: reset ended without a begin\n",
			region->pxm);
		return;
	}
	attachment->in_reset = false;
	WRITE_ONCE(region->resets, region->resets - 1);
	last = !region->resets;
	trace_egm_reset_end(region->pxm, dev_name(attachment->parent),
			    region->resets);
	mutex_unlock(&region->access_lock);

	if (last)
		wake_up_all(&region->access_wq);
	dev_dbg(attachment->parent, "EGM PXM %u: reset ends%s\n", region->pxm,
		last ? ", access resumes" : "");
}
EXPORT_SYMBOL_NS_GPL(egm_reset_end, EGM_CORE_NS);

/*
 * The parent is leaving: if it is inside a reset, end it, or the other
 * parents' users would wait for it forever.
 */
void egm_reset_abandon(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	bool last = false;

	mutex_lock(&region->access_lock);
	if (attachment->in_reset) {
		attachment->in_reset = false;
		WRITE_ONCE(region->resets, region->resets - 1);
		last = !region->resets;
		trace_egm_reset_end(region->pxm, dev_name(attachment->parent),
				    region->resets);
		dev_warn(attachment->parent,
			 "EGM PXM %u: unregistered during a reset, reset ended\n",
			 region->pxm);
	}
	mutex_unlock(&region->access_lock);

	if (last)
		wake_up_all(&region->access_wq);
}

/**
 * egm_revoke_region() - a parent says the region's memory is gone
 * @attachment: the parent's attachment
 *
 * For a parent that learns the memory can no longer be used (for example
 * the firmware took it back): every mapping is zapped and every later
 * access gets SIGBUS, for all users, even though the region stays
 * registered until its parents unregister.  Revoking is final.
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
