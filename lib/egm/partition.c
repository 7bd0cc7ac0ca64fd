// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core partitions: the ranges of a region that tenants take.
 *
 * A region (registry.c) is a socket's memory: its physical range, its
 * poison, its parents.  A partition is a range of it with a tenancy of its
 * own (scrub.c): its own state, scrub, users, sink, and frontend exposure.
 * With no configuration a region has one partition, index 0
 * (%EGM_PARTITION_WHOLE), covering all of it: /dev/egm<pxm> and the VFIO
 * region work as they did before partitions.  An operator may delete it
 * and carve the region into others (sysfs.c: partition_create,
 * partition_delete, layout), each /dev/egm<pxm>.<index>, but only while
 * the ranges concerned have no tenant.
 *
 * Partitions start on a chunk boundary (EGM_CHUNK_SIZE) and end on one or
 * at the end of the region: a chunk, the unit of zeroing, belongs to one
 * partition at most.  The per-parent split ("per_parent" layout) gives each
 * parent an equal share aligned to the largest leaf that fits, so that
 * each VM's memory maps with PUD (or PMD) leaves.
 *
 * All mappings of all partitions share the region's address_space, each at
 * the offsets of its memory (backing.c): a partition's range of it is its
 * own, and zapping a partition is zapping that range.
 *
 * Locking: @region->partition_lock guards the region's partitions (the
 * xarray and the ranges they cover) and the attachments' partition
 * pointers.  Lock order: egm_registry_lock, then partition_lock, then
 * view_lock and the frontends' own locks.  The frontends' partition
 * callbacks run under partition_lock.  Nothing that a scrub's work item,
 * a fault or a sysfs show does takes partition_lock: deletion waits for
 * all of those while holding it.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/device.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <kunit/visibility.h>

#include "egm_internal.h"

static void egm_partition_free(struct kref *ref)
{
	struct egm_partition *part = container_of(ref, struct egm_partition,
						  ref);
	struct egm_region *region = part->region;

	egm_partition_sink_destroy(part);
	kfree_rcu(part, rcu);
	egm_region_put(region);
}

/* Another reference for a holder that already has one, or under the lock. */
void egm_partition_get(struct egm_partition *part)
{
	kref_get(&part->ref);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_get);

/**
 * egm_partition_put() - drop a reference to a partition
 * @part: the partition; NULL is ignored
 *
 * Context: process context, without egm_registry_lock held unless the
 * caller knows the region keeps another reference (the last put of a
 * partition drops its region reference).
 */
void egm_partition_put(struct egm_partition *part)
{
	if (part)
		kref_put(&part->ref, egm_partition_free);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_put);

static void egm_partition_put_work_fn(struct work_struct *work)
{
	egm_partition_put(container_of(work, struct egm_partition, put_work));
}

/**
 * egm_partition_put_async() - drop a reference from a work item that
 *	revoke or deletion may wait for
 * @part: the partition
 *
 * If it is the last reference, the put is handed to another work item.
 */
void egm_partition_put_async(struct egm_partition *part)
{
	if (!refcount_dec_not_one(&part->ref.refcount))
		queue_work(egm_wq, &part->put_work);
}

/**
 * egm_partition_check_range() - can a partition cover this range?
 * @region: the region
 * @offset: first byte, from the start of the region
 * @size: length in bytes
 *
 * Overlaps with existing partitions are the caller's to check.
 *
 * Return: 0; -EINVAL for a zero size, or an offset or a size that is not a
 * multiple of EGM_CHUNK_SIZE (the size may instead reach the end of the
 * region); -EOVERFLOW when @offset + @size wraps; -ERANGE when the range
 * goes past the end of the region.
 */
int egm_partition_check_range(const struct egm_region *region, u64 offset,
			      u64 size)
{
	u64 end;

	if (!size)
		return -EINVAL;
	if (check_add_overflow(offset, size, &end))
		return -EOVERFLOW;
	if (end > region->size)
		return -ERANGE;
	if (!IS_ALIGNED(offset, EGM_CHUNK_SIZE))
		return -EINVAL;
	if (!IS_ALIGNED(size, EGM_CHUNK_SIZE) && end != region->size)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_check_range);

/* Does [@offset, @offset + @size) overlap a partition of @region? */
static struct egm_partition *egm_partition_overlap(struct egm_region *region,
						   u64 offset, u64 size)
{
	struct egm_partition *part;
	unsigned long index;

	lockdep_assert_held(&region->partition_lock);

	xa_for_each(&region->partitions, index, part)
		if (offset < part->offset + part->size &&
		    part->offset < offset + size)
			return part;
	return NULL;
}

static struct egm_partition *egm_partition_alloc(struct egm_region *region,
						 unsigned int index,
						 u64 offset, u64 size)
{
	struct egm_partition *part;
	int i;

	part = kzalloc_node(sizeof(*part), GFP_KERNEL, region->nid);
	if (!part)
		return ERR_PTR(-ENOMEM);
	part->region = region;
	part->index = index;
	part->offset = offset;
	part->size = size;
	part->first_page = offset >> PAGE_SHIFT;
	part->nr_pages = size >> PAGE_SHIFT;
	part->first_chunk = offset / EGM_CHUNK_SIZE;
	part->nr_chunks = DIV_ROUND_UP(size, EGM_CHUNK_SIZE);
	if (index == EGM_PARTITION_WHOLE)
		snprintf(part->name, sizeof(part->name), "egm%u", region->pxm);
	else
		snprintf(part->name, sizeof(part->name), "egm%u.%u",
			 region->pxm, index);
	kref_init(&part->ref);
	INIT_WORK(&part->put_work, egm_partition_put_work_fn);
	init_waitqueue_head(&part->access_wq);
	for (i = 0; i < EGM_LEAF_NR; i++)
		atomic64_set(&part->faults[i], 0);
	if (egm_partition_sink_create(part)) {
		kfree(part);
		return ERR_PTR(-ENOMEM);
	}
	egm_partition_scrub_init(part);
	egm_region_get(region);
	return part;
}

/* Make a new partition visible: the region's, sysfs, debugfs, frontends. */
static int egm_partition_publish(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	int err, i;

	lockdep_assert_held(&region->partition_lock);

	err = xa_insert(&region->partitions, part->index, part, GFP_KERNEL);
	if (err)
		return err;
	egm_partition_view_create(part);
	egm_partition_debugfs_create(part);
	for (i = 0; i < EGM_FRONTENDS_MAX; i++)
		if (egm_frontends[i] && egm_frontends[i]->partition_added)
			egm_frontends[i]->partition_added(part);
	return 0;
}

/*
 * Take a partition out of its region: no frontend exposes it, no scrub
 * runs, no new tenant takes it.  Drops the region's reference.
 */
static void egm_partition_unpublish(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	struct egm_attachment *att;
	int i;

	lockdep_assert_held(&region->partition_lock);

	xa_erase(&region->partitions, part->index);
	for (i = 0; i < EGM_FRONTENDS_MAX; i++)
		if (egm_frontends[i] && egm_frontends[i]->partition_gone)
			egm_frontends[i]->partition_gone(part);
	egm_partition_debugfs_remove(part);
	egm_partition_view_destroy(part);
	egm_partition_scrub_stop(part);
	mutex_lock(&region->view_lock);
	list_for_each_entry(att, &region->attachments, node) {
		if (att->partition == part) {
			att->partition = NULL;
			/* Not the last: the region's is dropped below. */
			egm_partition_put(part);
		}
	}
	mutex_unlock(&region->view_lock);
	if (part->index != EGM_PARTITION_WHOLE)
		ida_free(&region->partition_ida, part->index);
	pr_debug("%s: partition [%#llx, +%#llx) gone\n", part->name,
		 part->offset, part->size);
	egm_partition_put(part);
}

static struct egm_partition *egm_partition_create_locked(struct egm_region *region,
							 unsigned int index,
							 u64 offset, u64 size)
{
	struct egm_partition *part;
	int err;

	lockdep_assert_held(&region->partition_lock);

	part = egm_partition_alloc(region, index, offset, size);
	if (IS_ERR(part))
		return part;
	err = egm_partition_publish(part);
	if (err) {
		egm_partition_put(part);
		return ERR_PTR(err);
	}
	pr_debug("%s: partition [%#llx, +%#llx)\n", part->name, offset, size);
	return part;
}

/**
 * egm_partition_create() - carve a partition out of a region
 * @region: the region
 * @offset: first byte, from the start of the region
 * @size: length in bytes
 *
 * Context: process context; takes @region->partition_lock.
 * Return: the partition (the region holds it; no reference for the
 * caller), or an ERR_PTR(): what egm_partition_check_range() says;
 * -EEXIST when the range overlaps a partition; -ENOSPC when the region
 * has %EGM_PARTITIONS_MAX already; -ENODEV when the region is revoked;
 * -ENOMEM.
 */
struct egm_partition *egm_partition_create(struct egm_region *region,
					   u64 offset, u64 size)
{
	struct egm_partition *part;
	int err, index;

	err = egm_partition_check_range(region, offset, size);
	if (err)
		return ERR_PTR(err);

	mutex_lock(&region->partition_lock);
	if (!READ_ONCE(region->alive)) {
		part = ERR_PTR(-ENODEV);
		goto out;
	}
	part = egm_partition_overlap(region, offset, size);
	if (part) {
		pr_info("PXM %u: [%#llx, +%#llx) overlaps %s [%#llx, +%#llx)\n",
			region->pxm, offset, size, part->name, part->offset,
			part->size);
		part = ERR_PTR(-EEXIST);
		goto out;
	}
	index = ida_alloc_range(&region->partition_ida, 1,
				EGM_PARTITIONS_MAX - 1, GFP_KERNEL);
	if (index < 0) {
		part = ERR_PTR(index == -ENOSPC ? -ENOSPC : index);
		goto out;
	}
	part = egm_partition_create_locked(region, index, offset, size);
	if (IS_ERR(part))
		ida_free(&region->partition_ida, index);
out:
	mutex_unlock(&region->partition_lock);
	return part;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_create);

/* Delete @part unless it has a tenant; the caller holds partition_lock. */
static int egm_partition_delete_locked(struct egm_partition *part)
{
	lockdep_assert_held(&part->region->partition_lock);

	if (!egm_partition_mark_removed(part))
		return -EBUSY;
	egm_partition_unpublish(part);
	return 0;
}

/**
 * egm_partition_delete() - give a partition's range back to its region
 * @region: the region
 * @index: the partition's index
 *
 * The whole-region partition (index 0) may be deleted too, to carve the
 * region up.  Its memory counts as dirty until a partition over it is
 * scrubbed.
 *
 * Context: process context; takes @region->partition_lock and waits for
 * the partition's scrub to stop.
 * Return: 0; -ENOENT when there is no such partition; -EBUSY when it has
 * a tenant.
 */
int egm_partition_delete(struct egm_region *region, unsigned int index)
{
	struct egm_partition *part;
	int err;

	mutex_lock(&region->partition_lock);
	part = xa_load(&region->partitions, index);
	err = part ? egm_partition_delete_locked(part) : -ENOENT;
	mutex_unlock(&region->partition_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_delete);

/**
 * egm_partition_get_by_index() - look a partition up
 * @region: the region
 * @index: the partition's index
 *
 * Context: process context; takes @region->partition_lock.
 * Return: the partition with a reference for the caller, or NULL.
 */
struct egm_partition *egm_partition_get_by_index(struct egm_region *region,
						 unsigned int index)
{
	struct egm_partition *part;

	mutex_lock(&region->partition_lock);
	part = xa_load(&region->partitions, index);
	if (part)
		egm_partition_get(part);
	mutex_unlock(&region->partition_lock);
	return part;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_get_by_index);

static int egm_attachment_cmp(const void *a, const void *b)
{
	const struct egm_attachment *x = *(const struct egm_attachment **)a;
	const struct egm_attachment *y = *(const struct egm_attachment **)b;

	return strcmp(dev_name(x->parent), dev_name(y->parent));
}

/* The per-parent share: equal, aligned to the largest leaf that fits. */
static u64 egm_per_parent_size(const struct egm_region *region,
			       unsigned int nr)
{
	u64 share = div_u64(region->size, nr);

	if (share >= PUD_SIZE)
		return ALIGN_DOWN(share, PUD_SIZE);
	return ALIGN_DOWN(share, EGM_CHUNK_SIZE);
}

/*
 * Give each parent, in order of device name (the PCI address for a GPU),
 * an equal partition of its own.
 */
static int egm_region_split_locked(struct egm_region *region)
{
	struct egm_attachment **atts, *att;
	struct egm_partition *part;
	unsigned int nr = 0, i;
	u64 share;
	int index, err = 0;

	lockdep_assert_held(&region->partition_lock);

	atts = kcalloc(region->nr_attachments ?: 1, sizeof(*atts), GFP_KERNEL);
	if (!atts)
		return -ENOMEM;
	mutex_lock(&region->view_lock);
	list_for_each_entry(att, &region->attachments, node)
		if (nr < region->nr_attachments)
			atts[nr++] = att;
	mutex_unlock(&region->view_lock);
	share = nr ? egm_per_parent_size(region, nr) : 0;
	if (!share) {
		err = -ENOSPC;
		goto out;
	}
	sort(atts, nr, sizeof(*atts), egm_attachment_cmp, NULL);

	for (i = 0; i < nr; i++) {
		index = ida_alloc_range(&region->partition_ida, 1,
					EGM_PARTITIONS_MAX - 1, GFP_KERNEL);
		if (index < 0) {
			err = index;
			break;
		}
		part = egm_partition_create_locked(region, index, i * share,
						   share);
		if (IS_ERR(part)) {
			ida_free(&region->partition_ida, index);
			err = PTR_ERR(part);
			break;
		}
		egm_partition_get(part);
		atts[i]->partition = part;
		dev_info(atts[i]->parent, "EGM PXM %u: partition %s [%#llx, +%#llx) is this GPU's\n",
			 region->pxm, part->name, part->offset, part->size);
	}
out:
	kfree(atts);
	return err;
}

/**
 * egm_region_set_layout() - replace every partition of a region at once
 * @region: the region
 * @per_parent: true for one equal partition per parent, each the parent's
 *	own (its reset reaches that partition alone); false for the one
 *	whole-region partition
 *
 * Refused while any partition has a tenant, and then nothing changes:
 * every partition is marked for deletion first, under its state lock, so
 * that no tenant takes one while the others go.  On a failure to create
 * the new ones, the ones made are kept and the error returned.
 *
 * Context: process context; takes @region->partition_lock.
 * Return: 0; -EBUSY when a partition has a tenant; -ENODEV when revoked;
 * -ENOSPC when the region is too small to split; -ENOMEM.
 */
int egm_region_set_layout(struct egm_region *region, bool per_parent)
{
	struct egm_partition *part;
	unsigned long index;
	int err = 0;

	mutex_lock(&region->partition_lock);
	if (!READ_ONCE(region->alive)) {
		err = -ENODEV;
		goto out;
	}
	/* All or nothing: no tenant may take one while the others go. */
	xa_for_each(&region->partitions, index, part) {
		if (!egm_partition_mark_removed(part)) {
			err = -EBUSY;
			break;
		}
	}
	xa_for_each(&region->partitions, index, part) {
		if (err)
			egm_partition_unmark_removed(part);
		else
			egm_partition_unpublish(part);
	}
	if (err)
		goto out;
	if (per_parent) {
		err = egm_region_split_locked(region);
	} else {
		part = egm_partition_create_locked(region, EGM_PARTITION_WHOLE,
						   0, region->size);
		err = PTR_ERR_OR_ZERO(part);
	}
out:
	mutex_unlock(&region->partition_lock);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_set_layout);

/**
 * egm_set_layout() - a parent divides its region among tenants
 * @attachment: the parent's attachment
 * @layout: %EGM_LAYOUT_PER_PARENT for one partition per parent registered
 *	now, %EGM_LAYOUT_WHOLE for the one whole-region partition
 *
 * For a parent that offers the split as an option (nvgrace-gpu's
 * egm_layout parameter): each parent of a socket that calls it after
 * registering re-splits the region among the parents registered so far,
 * so that the last one to probe leaves one partition per GPU.  Operators
 * do the same through sysfs (the region's "layout").
 *
 * Context: process context; takes the region's partition_lock.
 * Return: 0, or what egm_region_set_layout() returns (-EBUSY while any
 * partition has a tenant).
 */
int egm_set_layout(struct egm_attachment *attachment, enum egm_layout layout)
{
	int err;

	err = egm_region_set_layout(attachment->region,
				    layout == EGM_LAYOUT_PER_PARENT);
	if (err)
		dev_warn(attachment->parent, "EGM PXM %u: layout not changed: %d\n",
			 attachment->region->pxm, err);
	return err;
}
EXPORT_SYMBOL_NS_GPL(egm_set_layout, EGM_CORE_NS);

/**
 * egm_region_partitions_create() - the first partition of a new region
 * @region: the region, set up, with its view
 *
 * Context: process context, egm_registry_lock held.
 * Return: 0, or -ENOMEM.
 */
int egm_region_partitions_create(struct egm_region *region)
{
	struct egm_partition *part;

	mutex_lock(&region->partition_lock);
	part = egm_partition_create_locked(region, EGM_PARTITION_WHOLE, 0,
					   region->size);
	mutex_unlock(&region->partition_lock);
	return PTR_ERR_OR_ZERO(part);
}

/**
 * egm_region_partitions_retire() - the region's last parent is gone
 * @region: the region, revoked
 *
 * Every partition leaves the region and its frontends, tenant or not;
 * open files and mappings keep theirs, revoked.
 *
 * Context: process context, egm_registry_lock held.
 */
void egm_region_partitions_retire(struct egm_region *region)
{
	struct egm_partition *part;
	unsigned long index;

	mutex_lock(&region->partition_lock);
	xa_for_each(&region->partitions, index, part) {
		mutex_lock(&part->state_lock);
		part->removed = true;
		mutex_unlock(&part->state_lock);
		egm_partition_unpublish(part);
	}
	mutex_unlock(&region->partition_lock);
}
