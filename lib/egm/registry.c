// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core region registry: one struct egm_region per ACPI proximity domain,
 * created by the first parent that registers it and shared by every later
 * one.
 *
 * Concurrency model
 * -----------------
 * egm_registry_lock (a mutex) guards:
 *   - egm_regions, the xarray that maps a PXM to its live region;
 *   - each region's attachment list and attachment count;
 *   - the get-or-create decision and the retirement of a region.
 * Registration and unregistration sleep (allocation, request_mem_region())
 * and are rare, so one mutex for the whole registry is enough.  The xarray's
 * internal spinlock only protects the tree itself.
 *
 * A region's memory (and its claim on the physical range) is governed by
 * egm_region::ref.  The registry owns one reference from creation until the
 * last attachment is dropped; egm_region_get_by_pxm() hands out further
 * references under egm_registry_lock, so a lookup can never race with the
 * region being freed.  The range stays claimed until the last reference is
 * put: a parent that re-registers the PXM before then gets -EBUSY from
 * request_mem_region() instead of two objects owning one range.
 *
 * The last parent leaving also revokes the region (access.c) before the
 * registry's reference is dropped, all under egm_registry_lock: mappings
 * are zapped and later faults get SIGBUS, but the structure lives on for
 * as long as an open file or a mapping still refers to it.
 *
 * The GHES notifier (poison.c) looks regions up by address in atomic
 * context: it walks egm_regions under RCU, and egm_region_free() waits for
 * a grace period before tearing a region down.
 *
 * Module lifetime: each region owns a pseudo file (backing.c) that holds a
 * reference on egm_core.ko until the region is freed, so the module cannot
 * be unloaded while a region, or a mapping of one, exists.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/device.h>
#include <linux/err.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <kunit/visibility.h>

#ifdef CONFIG_ACPI_NUMA
#include <acpi/acpi_numa.h>
#endif

#include "egm_compat.h"
#include "egm_internal.h"

/* Guards egm_regions, attachment lists and counts, create and retire. */
DEFINE_MUTEX(egm_registry_lock);

/* PXM -> struct egm_region with nr_attachments > 0; see egm_registry_lock. */
static DEFINE_XARRAY(egm_regions);

/*
 * Regions created and not yet freed (claim released); read by KUnit to
 * prove no leak.
 */
static atomic_t egm_live_regions = ATOMIC_INIT(0);

int egm_nr_live_regions(void)
{
	return atomic_read(&egm_live_regions);
}
EXPORT_SYMBOL_IF_KUNIT(egm_nr_live_regions);

/*
 * Without ACPI NUMA the kernel has no PXM table: the region gets
 * NUMA_NO_NODE, and node-local placement (allocations, scrub workers)
 * falls back to "anywhere".
 */
static int egm_pxm_to_node(u32 pxm)
{
#ifdef CONFIG_ACPI_NUMA
	return pxm_to_node(pxm);
#else
	return NUMA_NO_NODE;
#endif
}

static phys_addr_t egm_desc_last(const struct egm_region_desc *desc)
{
	return desc->base + desc->size - 1;
}

/* Checks that need no registry state. */
static int egm_desc_validate(struct device *parent,
			     const struct egm_region_desc *desc)
{
	phys_addr_t last;

	if (!parent) {
		pr_err("register: no parent device\n");
		return -EINVAL;
	}
	if (!desc) {
		dev_err(parent, "EGM: register: no region description\n");
		return -EINVAL;
	}
	if (desc->pxm >= EGM_PXM_MAX) {
		dev_err(parent, "EGM: PXM %u out of range (max %u)\n",
			desc->pxm, EGM_PXM_MAX - 1);
		return -EINVAL;
	}
	if (!desc->size) {
		dev_err(parent, "EGM PXM %u: region size is zero\n", desc->pxm);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(desc->base) || !PAGE_ALIGNED(desc->size)) {
		dev_err(parent,
			"EGM PXM %u: base %pa size %#llx not aligned to %lu bytes\n",
			desc->pxm, &desc->base, desc->size, PAGE_SIZE);
		return -EINVAL;
	}
	/* desc->size - 1 cannot wrap: size is non-zero here. */
	if (check_add_overflow(desc->base, desc->size - 1, &last)) {
		dev_err(parent,
			"EGM PXM %u: base %pa + size %#llx overflows the physical address space\n",
			desc->pxm, &desc->base, desc->size);
		return -EOVERFLOW;
	}
	if (region_intersects(desc->base, desc->size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		dev_err(parent,
			"EGM PXM %u: [%pa-%pa] overlaps System RAM; EGM memory must be hidden from the kernel\n",
			desc->pxm, &desc->base, &last);
		return -EINVAL;
	}
	return 0;
}

/* A parent joining an existing region must describe it identically. */
static int egm_region_check_join(struct egm_region *region,
				 struct device *parent,
				 const struct egm_region_desc *desc)
{
	struct egm_attachment *att, *first;
	phys_addr_t last = egm_desc_last(desc);
	phys_addr_t region_last = region->base + region->size - 1;

	lockdep_assert_held(&egm_registry_lock);

	list_for_each_entry(att, &region->attachments, node) {
		if (att->parent == parent) {
			dev_err(parent, "EGM PXM %u: already registered by this device\n",
				region->pxm);
			return -EEXIST;
		}
	}

	if (desc->base == region->base && desc->size == region->size)
		return 0;

	first = list_first_entry(&region->attachments, struct egm_attachment, node);
	dev_err(parent,
		"EGM PXM %u: [%pa-%pa] from %s conflicts with [%pa-%pa] registered by %s\n",
		region->pxm, &desc->base, &last, dev_name(parent),
		&region->base, &region_last, dev_name(first->parent));
	return -EINVAL;
}

/* A new region must not overlap the region of another PXM. */
static int egm_check_overlap(struct device *parent,
			     const struct egm_region_desc *desc)
{
	phys_addr_t last = egm_desc_last(desc);
	struct egm_region *region;
	unsigned long pxm;

	lockdep_assert_held(&egm_registry_lock);

	xa_for_each(&egm_regions, pxm, region) {
		phys_addr_t region_last = region->base + region->size - 1;

		if (desc->base > region_last || last < region->base)
			continue;
		dev_err(parent,
			"EGM PXM %u: [%pa-%pa] overlaps [%pa-%pa] of PXM %u\n",
			desc->pxm, &desc->base, &last, &region->base,
			&region_last, region->pxm);
		return -EBUSY;
	}
	return 0;
}

/*
 * Undo egm_region_setup() but for the memory-failure registration, which
 * egm_region_free() undoes before the claim goes; safe on a partly set up
 * region.
 */
static void egm_region_teardown(struct egm_region *region)
{
	if (region->poison)
		egm_region_poison_destroy(region);
	egm_region_backing_destroy(region);
	egm_region_scrub_destroy(region);
	ida_destroy(&region->partition_ida);
}

/*
 * The frontends (chardev.c, vfio.c) plug in here at module init, before
 * any parent can register a region, and leave at module exit, after the
 * last region is gone: the array does not change while a region exists,
 * so its readers (the registry, the view) need no lock.
 */
const struct egm_frontend *egm_frontends[EGM_FRONTENDS_MAX];

/**
 * egm_frontend_register() - plug a frontend into the core
 * @frontend: the frontend; must stay valid until egm_frontend_unregister()
 *
 * Context: module init of egm_core, before any region exists.
 * Return: 0; -EBUSY once a region exists; -ENOSPC when EGM_FRONTENDS_MAX
 * are registered already.
 */
int egm_frontend_register(const struct egm_frontend *frontend)
{
	int i;

	if (WARN_ON(egm_nr_live_regions()))
		return -EBUSY;
	for (i = 0; i < EGM_FRONTENDS_MAX; i++) {
		if (!egm_frontends[i]) {
			egm_frontends[i] = frontend;
			return 0;
		}
	}
	return -ENOSPC;
}

/**
 * egm_frontend_unregister() - undo egm_frontend_register()
 * @frontend: a registered frontend
 *
 * Context: module exit of egm_core, after the last region is gone.
 */
void egm_frontend_unregister(const struct egm_frontend *frontend)
{
	int i;

	WARN_ON(egm_nr_live_regions());
	for (i = 0; i < EGM_FRONTENDS_MAX; i++)
		if (egm_frontends[i] == frontend)
			egm_frontends[i] = NULL;
}

/* Everything but the claim and the registry entry. */
static int egm_region_setup(struct egm_region *region)
{
	int err;

	egm_region_access_init(region);

	err = egm_region_scrub_create(region);
	if (!err)
		err = egm_region_poison_create(region);
	if (!err)
		err = egm_region_backing_create(region);
	if (!err)
		err = egm_region_poison_register(region);	/* last: see teardown */
	if (err)
		egm_region_teardown(region);
	return err;
}

/* After a grace period: no GHES reader can still see the region. */
static void egm_region_free_rcu(struct work_struct *work)
{
	struct egm_region *region = container_of(to_rcu_work(work),
						 struct egm_region, free_rwork);

	egm_region_teardown(region);
	kfree(region);
}

/*
 * Free a region whose last reference is gone.  Runs under egm_registry_lock
 * so that releasing the physical range and a new registration of the same
 * PXM are ordered: a parent that re-registers right after teardown never
 * sees the old claim.  The rest waits for an RCU grace period (the GHES
 * notifier walks egm_regions locklessly), off this path: it may run under
 * the registry lock and the mmap lock of a munmap().
 */
static void egm_region_free(struct egm_region *region)
{
	lockdep_assert_held(&egm_registry_lock);

	pr_debug("PXM %u: region freed\n", region->pxm);
	/* The registration never outlives the claim. */
	egm_region_poison_unregister(region);
	release_mem_region(region->base, region->size);
	atomic_dec(&egm_live_regions);
	INIT_RCU_WORK(&region->free_rwork, egm_region_free_rcu);
	queue_rcu_work(egm_wq, &region->free_rwork);
}

#if IS_ENABLED(CONFIG_KUNIT)
/* Wait until every freed region's deferred teardown has run. */
void egm_registry_wait_freed(void)
{
	rcu_barrier();
	flush_workqueue(egm_wq);
}
EXPORT_SYMBOL_IF_KUNIT(egm_registry_wait_freed);
#endif

/* kref release for puts made with egm_registry_lock held. */
static void egm_region_release_locked(struct kref *ref)
{
	egm_region_free(container_of(ref, struct egm_region, ref));
}

/* kref release for kref_put_mutex(): called with the lock, drops it. */
static void egm_region_release_unlock(struct kref *ref)
{
	egm_region_free(container_of(ref, struct egm_region, ref));
	mutex_unlock(&egm_registry_lock);
}

/*
 * A table that cannot be mapped fails the registration (-ENOMEM): the
 * region must never reach a tenant without the pages its firmware retired,
 * and a later attempt may succeed.  A malformed table is logged and leaves
 * the registration in place, with what it could read: nothing better can
 * be had, and its pages can still be reported with egm_report_poison().
 */
static int egm_region_load_retired(struct egm_region *region,
				   struct device *parent,
				   const struct egm_region_desc *desc)
{
	int ret;

	lockdep_assert_held(&egm_registry_lock);

	if (!desc->retired_table_pa)
		return 0;
	ret = egm_poison_load_table(region, parent, desc->retired_table_pa,
				    desc->retired_table_size);
	return ret == -ENOMEM ? ret : 0;
}

static void egm_region_put_work_fn(struct work_struct *work)
{
	egm_region_put(container_of(work, struct egm_region, put_work));
}

static struct egm_region *egm_region_create(struct device *parent,
					    const struct egm_region_desc *desc)
{
	phys_addr_t last = egm_desc_last(desc);
	struct egm_region *region;
	int err;

	lockdep_assert_held(&egm_registry_lock);

	err = egm_check_overlap(parent, desc);
	if (err)
		return ERR_PTR(err);

	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region)
		return ERR_PTR(-ENOMEM);

	region->base = desc->base;
	region->size = desc->size;
	region->nr_pages = desc->size >> PAGE_SHIFT;
	region->pxm = desc->pxm;
	region->nid = egm_pxm_to_node(desc->pxm);
	snprintf(region->name, sizeof(region->name), "egm-pxm%u", desc->pxm);
	kref_init(&region->ref);
	INIT_LIST_HEAD(&region->attachments);
	INIT_WORK(&region->put_work, egm_region_put_work_fn);
	mutex_init(&region->view_lock);
	mutex_init(&region->kaddr_lock);
	mutex_init(&region->partition_lock);
	xa_init(&region->partitions);
	ida_init(&region->partition_ida);

	region->res = request_mem_region(desc->base, desc->size, region->name);
	if (!region->res) {
		/*
		 * request_mem_region() says NULL for a conflict and for a
		 * failed allocation alike: only a busy resource in the range
		 * is a conflict.
		 */
		if (region_intersects(desc->base, desc->size,
				      IORESOURCE_MEM | IORESOURCE_BUSY,
				      IORES_DESC_NONE) == REGION_DISJOINT) {
			dev_err(parent, "EGM PXM %u: out of memory claiming [%pa-%pa]\n",
				desc->pxm, &desc->base, &last);
			err = -ENOMEM;
		} else {
			dev_err(parent,
				"EGM PXM %u: [%pa-%pa] is busy (claimed by another driver or a revoked region still mapped)\n",
				desc->pxm, &desc->base, &last);
			err = -EBUSY;
		}
		goto err_free;
	}

	err = egm_region_setup(region);
	if (err)
		goto err_release;

	/* Retired pages are known before anyone can scrub or map the region. */
	err = egm_region_load_retired(region, parent, desc);
	if (!err)
		err = egm_region_view_create(region);
	if (err)
		goto err_teardown;
	err = egm_region_partitions_create(region);
	if (err)
		goto err_view;
	err = xa_insert(&egm_regions, desc->pxm, region, GFP_KERNEL);
	if (err)
		goto err_partitions;

	atomic_inc(&egm_live_regions);
	dev_info(parent, "EGM PXM %u: region [%pa-%pa] (%llu MiB) on node %d\n",
		 desc->pxm, &desc->base, &last, desc->size >> 20, region->nid);
	return region;

err_partitions:
	WRITE_ONCE(region->alive, false);
	egm_region_partitions_retire(region);
err_view:
	egm_region_view_destroy(region);
err_teardown:
	egm_region_poison_unregister(region);
	egm_region_teardown(region);
err_release:
	release_mem_region(desc->base, desc->size);
err_free:
	kfree(region);
	return ERR_PTR(err);
}

/**
 * egm_register_region() - attach a parent to the EGM region of a PXM
 * @parent: the parent's device (a GPU, or a sample device); a reference is
 *	held until egm_unregister_region()
 * @desc: the region as the parent discovered it
 *
 * The first parent of a PXM creates the region and claims its physical
 * range; later parents must describe the same base and size and join it.
 *
 * Context: process context; takes egm_registry_lock.
 * Return: the parent's attachment, or an ERR_PTR():
 * -EINVAL for a NULL @parent or @desc, a PXM >= %EGM_PXM_MAX, a zero or
 * unaligned base or size, a range that overlaps System RAM, or a description
 * that differs from the one the PXM's region was created with;
 * -EOVERFLOW when base + size wraps; -EEXIST when @parent is already
 * attached to that PXM; -EBUSY when the range overlaps another PXM's region
 * or is claimed by someone else; -ENOMEM, also when the parent's
 * retired-page table cannot be mapped.
 * Every failure is logged and leaves nothing registered.
 */
struct egm_attachment *egm_register_region(struct device *parent,
					   const struct egm_region_desc *desc)
{
	struct egm_attachment *att;
	struct egm_region *region;
	unsigned int nr;
	int err;

	err = egm_desc_validate(parent, desc);
	if (err)
		return ERR_PTR(err);

	att = kzalloc(sizeof(*att), GFP_KERNEL);
	if (!att)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&egm_registry_lock);
	region = xa_load(&egm_regions, desc->pxm);
	if (region) {
		err = egm_region_check_join(region, parent, desc);
		if (!err)
			err = egm_region_load_retired(region, parent, desc);
		if (err)
			goto err_unlock;
	} else {
		region = egm_region_create(parent, desc);
		if (IS_ERR(region)) {
			err = PTR_ERR(region);
			goto err_unlock;
		}
	}

	att->region = region;
	att->parent = get_device(parent);
	mutex_lock(&region->view_lock);
	list_add_tail(&att->node, &region->attachments);
	mutex_unlock(&region->view_lock);
	nr = ++region->nr_attachments;
	egm_region_view_link(att);
	mutex_unlock(&egm_registry_lock);

	dev_dbg(parent, "EGM PXM %u: attached (%u parents)\n", region->pxm, nr);
	return att;

err_unlock:
	mutex_unlock(&egm_registry_lock);
	kfree(att);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_NS_GPL(egm_register_region, EGM_CORE_NS);

/**
 * egm_unregister_region() - drop a parent's attachment
 * @attachment: what egm_register_region() returned; NULL is ignored
 *
 * When the last parent of a region leaves, the region is removed from the
 * registry and the registry's reference is dropped; the region itself is
 * freed, and its physical range released, when the last other reference
 * goes.
 *
 * Context: process context; takes egm_registry_lock.
 */
void egm_unregister_region(struct egm_attachment *attachment)
{
	struct egm_region *region;
	bool last;

	if (!attachment)
		return;

	region = attachment->region;

	dev_dbg(attachment->parent, "EGM PXM %u: detaching\n", region->pxm);

	/* A parent that goes away in the middle of a reset ends its reset. */
	egm_reset_abandon(attachment);

	mutex_lock(&egm_registry_lock);
	egm_region_view_unlink(attachment);
	mutex_lock(&region->partition_lock);
	/* Not the last reference: the region holds the partition too. */
	egm_partition_put(attachment->partition);
	attachment->partition = NULL;
	mutex_lock(&region->view_lock);
	list_del(&attachment->node);
	mutex_unlock(&region->view_lock);
	mutex_unlock(&region->partition_lock);
	last = !--region->nr_attachments;
	if (last) {
		/*
		 * Last parent gone: retire the region, revoke every mapping,
		 * remove its frontends, drop the registry's reference.
		 */
		xa_erase(&egm_regions, region->pxm);
		egm_region_revoke(region);
		egm_region_partitions_retire(region);
		egm_region_view_destroy(region);
		kref_put(&region->ref, egm_region_release_locked);
	}
	mutex_unlock(&egm_registry_lock);

	put_device(attachment->parent);
	kfree(attachment);
}
EXPORT_SYMBOL_NS_GPL(egm_unregister_region, EGM_CORE_NS);

/**
 * egm_attachment_region() - the region an attachment belongs to
 * @attachment: a live attachment
 *
 * Return: the region; valid (without taking a reference) until
 * egm_unregister_region(@attachment).
 */
struct egm_region *egm_attachment_region(const struct egm_attachment *attachment)
{
	return attachment->region;
}
EXPORT_SYMBOL_NS_GPL(egm_attachment_region, EGM_CORE_NS);

/**
 * egm_region_get_by_pxm() - look up the live region of a PXM
 * @pxm: ACPI proximity domain
 *
 * Context: process context; takes egm_registry_lock.
 * Return: the region with a reference the caller drops with
 * egm_region_put(), or NULL when no parent has registered @pxm.
 */
struct egm_region *egm_region_get_by_pxm(u32 pxm)
{
	struct egm_region *region;

	mutex_lock(&egm_registry_lock);
	region = xa_load(&egm_regions, pxm);
	if (region)
		kref_get(&region->ref);
	mutex_unlock(&egm_registry_lock);

	return region;
}
EXPORT_SYMBOL_NS_GPL(egm_region_get_by_pxm, EGM_CORE_NS);

/* Another reference for a holder that already has one (file, VMA, work). */
void egm_region_get(struct egm_region *region)
{
	kref_get(&region->ref);
}

/**
 * egm_region_put_async() - drop a reference without taking egm_registry_lock
 * @region: the region
 *
 * For work items that revoke waits for under egm_registry_lock: if theirs
 * is the last reference, the put is handed to another work item.
 */
void egm_region_put_async(struct egm_region *region)
{
	if (!refcount_dec_not_one(&region->ref.refcount))
		queue_work(egm_wq, &region->put_work);
}

/*
 * Mark a physical address poisoned in the region that holds it, for the
 * GHES notifier.  Any context but NMI.  Returns whether a region held it.
 */
bool egm_registry_poison_pa(phys_addr_t pa)
{
	struct egm_region *region;
	unsigned long pxm;
	bool found = false;

	rcu_read_lock();
	xa_for_each(&egm_regions, pxm, region) {
		if (pa < region->base || pa - region->base >= region->size)
			continue;
		found = true;
		if (!egm_region_mark_poison(region, pa - region->base, 1))
			continue;
		egm_region_queue_poison_zap(region,
					    (pa - region->base) >> PAGE_SHIFT);
		pr_warn_ratelimited("PXM %u: memory error at %pa, page poisoned\n",
				    region->pxm, &pa);
	}
	rcu_read_unlock();
	return found;
}

/**
 * egm_region_put() - drop a reference to a region
 * @region: a region from egm_region_get_by_pxm(); NULL is ignored
 *
 * Context: process context, without egm_registry_lock held (the last put
 * takes it to release the region).
 */
void egm_region_put(struct egm_region *region)
{
	if (region)
		kref_put_mutex(&region->ref, egm_region_release_unlock,
			       &egm_registry_lock);
}
EXPORT_SYMBOL_NS_GPL(egm_region_put, EGM_CORE_NS);

/**
 * egm_region_pxm() - proximity domain of a region
 * @region: the region
 *
 * Return: the ACPI PXM the region was registered with.
 */
u32 egm_region_pxm(const struct egm_region *region)
{
	return region->pxm;
}
EXPORT_SYMBOL_NS_GPL(egm_region_pxm, EGM_CORE_NS);

/**
 * egm_region_node() - NUMA node of a region's memory
 * @region: the region
 *
 * Return: the node the PXM maps to, or %NUMA_NO_NODE when the kernel has no
 * mapping for it (no ACPI NUMA, or a PXM absent from SRAT).
 */
int egm_region_node(const struct egm_region *region)
{
	return region->nid;
}
EXPORT_SYMBOL_NS_GPL(egm_region_node, EGM_CORE_NS);

/**
 * egm_region_base() - first physical address of a region
 * @region: the region
 *
 * Return: the base physical address.
 */
phys_addr_t egm_region_base(const struct egm_region *region)
{
	return region->base;
}
EXPORT_SYMBOL_NS_GPL(egm_region_base, EGM_CORE_NS);

/**
 * egm_region_size() - length of a region
 * @region: the region
 *
 * Return: the size in bytes.
 */
u64 egm_region_size(const struct egm_region *region)
{
	return region->size;
}
EXPORT_SYMBOL_NS_GPL(egm_region_size, EGM_CORE_NS);

/**
 * egm_region_walk_parents() - call @fn for every parent of a region
 * @region: the region
 * @fn: called with each parent device, in registration order; a non-zero
 *	return value stops the walk
 * @data: passed to @fn
 *
 * Context: process context.  @fn runs under egm_registry_lock and must not
 * register, unregister or look up regions.
 * Return: 0, or the first non-zero value @fn returned.
 */
int egm_region_walk_parents(struct egm_region *region,
			    int (*fn)(struct device *parent, void *data),
			    void *data)
{
	struct egm_attachment *att;
	int ret = 0;

	mutex_lock(&egm_registry_lock);
	list_for_each_entry(att, &region->attachments, node) {
		ret = fn(att->parent, data);
		if (ret)
			break;
	}
	mutex_unlock(&egm_registry_lock);

	return ret;
}
EXPORT_SYMBOL_NS_GPL(egm_region_walk_parents, EGM_CORE_NS);
