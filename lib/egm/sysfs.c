// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core sysfs: /sys/class/egm/egm<pxm>, a read-only view of every live
 * region whatever its frontend (Documentation/ABI/testing/sysfs-class-egm).
 *
 * The view is for operators and their tools, so reading it never acquires,
 * dirties or scrubs a region, and never waits for a tenant: a VM keeps
 * running while it is read.  Attributes that tools in the field read under
 * these names (egm_size, gpu_devices; NVIDIA's EGM driver, KubeVirt) keep
 * those tools' formats.  A change of state (dirty, scrubbing, clean,
 * in_use) is announced with a KOBJ_CHANGE uevent carrying EGM_STATE=, so
 * that an operator can wait for a region to be clean without polling.
 *
 * The device is created with the region and unregistered when the region
 * is retired, both under egm_registry_lock; device_del() waits for the
 * attribute readers, so they need no reference of their own, and they
 * must not take egm_registry_lock (the region's view_lock instead).  Frontends
 * hang their devices below it (the chardev's), and say through their
 * egm_frontend.show how they expose the region ("frontends").
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <kunit/visibility.h>

#include "egm_internal.h"

/* One line of retired_pages: "0x" and 16 hex digits, then a newline. */
#define EGM_RETIRED_LINE	19

/**
 * struct egm_view - /sys/class/egm/egm<pxm>
 * @dev: the class device; its release frees this structure
 * @region: the region; only read while @dev is registered
 * @parents: the "parents" directory: a link to each parent device
 */
struct egm_view {
	struct device dev;
	struct egm_region *region;
	struct kobject *parents;
};

static struct egm_region *to_region(struct device *dev)
{
	return container_of(dev, struct egm_view, dev)->region;
}

static const char * const egm_state_names[] = {
	[EGM_DIRTY] = "dirty",
	[EGM_SCRUBBING] = "scrubbing",
	[EGM_CLEAN] = "clean",
	[EGM_IN_USE] = "in_use",
};

/**
 * egm_state_name() - the name of a region state, as sysfs and debugfs show it
 * @state: the state
 *
 * Return: "dirty", "scrubbing", "clean" or "in_use".
 */
const char *egm_state_name(enum egm_state state)
{
	return egm_state_names[state];
}

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_region(dev)->size);
}
static DEVICE_ATTR_RO(size);

/* NVIDIA's EGM driver's name and format, which KubeVirt reads. */
static ssize_t egm_size_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%#llx\n", to_region(dev)->size);
}
static DEVICE_ATTR_RO(egm_size);

static ssize_t pxm_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%u\n", to_region(dev)->pxm);
}
static DEVICE_ATTR_RO(pxm);

static ssize_t numa_node_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", to_region(dev)->nid);
}
static DEVICE_ATTR_RO(numa_node);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  egm_state_name(egm_region_state(to_region(dev))));
}
static DEVICE_ATTR_RO(state);

static ssize_t scrub_progress_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct egm_region *region = to_region(dev);

	return sysfs_emit(buf, "%lld %llu\n",
			  atomic64_read(&region->scrub_done), region->size);
}
static DEVICE_ATTR_RO(scrub_progress);

static ssize_t dirty_bytes_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct egm_region *region = to_region(dev);
	u64 bytes = (u64)atomic_long_read(&region->nr_dirty) * EGM_CHUNK_SIZE;

	return sysfs_emit(buf, "%llu\n", min(bytes, region->size));
}
static DEVICE_ATTR_RO(dirty_bytes);

static ssize_t retired_count_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&to_region(dev)->nr_poisoned));
}
static DEVICE_ATTR_RO(retired_count);

static ssize_t retired_granularity_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  egm_region_poison_granularity(to_region(dev)));
}
static DEVICE_ATTR_RO(retired_granularity);

/* NVIDIA's name and format: the PCI address of each GPU parent, a line each. */
/* How the region is exposed: a line per frontend's exposure. */
static ssize_t frontends_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct egm_region *region = to_region(dev);
	int i, len = 0;

	/* Not egm_registry_lock: see gpu_devices_show(). */
	mutex_lock(&region->view_lock);
	for (i = 0; i < EGM_FRONTENDS_MAX; i++)
		if (egm_frontends[i] && egm_frontends[i]->show)
			len = egm_frontends[i]->show(region, buf, len);
	mutex_unlock(&region->view_lock);
	return len;
}
static DEVICE_ATTR_RO(frontends);

static ssize_t gpu_devices_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct egm_region *region = to_region(dev);
	struct egm_attachment *att;
	int len = 0;

	/*
	 * Not egm_registry_lock: retirement holds it while it waits for
	 * this reader to leave.
	 */
	mutex_lock(&region->view_lock);
	list_for_each_entry(att, &region->attachments, node)
		if (dev_is_pci(att->parent))
			len += sysfs_emit_at(buf, len, "%s\n",
					     pci_name(to_pci_dev(att->parent)));
	mutex_unlock(&region->view_lock);
	return len;
}
static DEVICE_ATTR_RO(gpu_devices);

static struct attribute *egm_view_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_egm_size.attr,
	&dev_attr_pxm.attr,
	&dev_attr_numa_node.attr,
	&dev_attr_state.attr,
	&dev_attr_scrub_progress.attr,
	&dev_attr_dirty_bytes.attr,
	&dev_attr_retired_count.attr,
	&dev_attr_retired_granularity.attr,
	&dev_attr_gpu_devices.attr,
	&dev_attr_frontends.attr,
	NULL
};

/*
 * The whole retired list, however long: one fixed-width line per retired
 * page ("0x%016llx\n", its byte offset in the region, ascending), so that
 * a read at any offset finds its first line by arithmetic.  The bitmap
 * only grows; pages retired while a reader moves may be missed by it.
 */
static ssize_t retired_pages_read(struct file *file, struct kobject *kobj,
				  struct bin_attribute *attr, char *buf,
				  loff_t off, size_t count)
{
	struct egm_region *region = to_region(kobj_to_dev(kobj));
	char line[EGM_RETIRED_LINE + 1];
	unsigned long bit = 0;
	loff_t skip = off / EGM_RETIRED_LINE;
	size_t done = 0, from = off % EGM_RETIRED_LINE;

	for (; skip > 0; skip--) {
		bit = find_next_bit(region->poison, region->nr_pages, bit);
		if (bit >= region->nr_pages)
			return 0;
		bit++;
	}
	while (done < count) {
		size_t n;

		bit = find_next_bit(region->poison, region->nr_pages, bit);
		if (bit >= region->nr_pages)
			break;
		snprintf(line, sizeof(line), "%#018llx\n", (u64)bit << PAGE_SHIFT);
		n = min(count - done, EGM_RETIRED_LINE - from);
		memcpy(buf + done, line + from, n);
		done += n;
		from = 0;
		bit++;
	}
	return done;
}

static BIN_ATTR_RO(retired_pages, 0);

static struct bin_attribute *egm_view_bin_attrs[] = {
	&bin_attr_retired_pages,
	NULL
};

static const struct attribute_group egm_view_group = {
	.attrs = egm_view_attrs,
	.bin_attrs = egm_view_bin_attrs,
};

static const struct attribute_group *egm_view_groups[] = {
	&egm_view_group,
	NULL
};

static const struct class egm_class = {
	.name = "egm",
	.dev_groups = egm_view_groups,
};

static void egm_view_release(struct device *dev)
{
	kfree(container_of(dev, struct egm_view, dev));
}

/**
 * egm_region_view_create() - /sys/class/egm/egm<pxm> for a new region
 * @region: the region, not yet in the registry
 *
 * Context: process context, with egm_registry_lock held.
 * Return: 0 or a negative errno; on failure nothing is left.
 */
int egm_region_view_create(struct egm_region *region)
{
	struct egm_view *view;
	int err;

	lockdep_assert_held(&egm_registry_lock);

	view = kzalloc(sizeof(*view), GFP_KERNEL);
	if (!view)
		return -ENOMEM;
	view->region = region;
	device_initialize(&view->dev);
	view->dev.class = &egm_class;
	view->dev.release = egm_view_release;
	/* From here on, put_device() frees the view. */
	err = dev_set_name(&view->dev, "egm%u", region->pxm);
	if (!err)
		err = device_add(&view->dev);
	if (err)
		goto err_put;
	view->parents = kobject_create_and_add("parents", &view->dev.kobj);
	if (!view->parents) {
		err = -ENOMEM;
		goto err_del;
	}
	mutex_lock(&region->view_lock);
	region->view = view;
	mutex_unlock(&region->view_lock);
	return 0;

err_del:
	device_del(&view->dev);
err_put:
	put_device(&view->dev);
	return err;
}

/**
 * egm_region_view_destroy() - the region is retired: its view goes
 * @region: the region
 *
 * Frontends have removed their devices below it already.
 *
 * Context: process context, with egm_registry_lock held.
 */
void egm_region_view_destroy(struct egm_region *region)
{
	struct egm_view *view;

	lockdep_assert_held(&egm_registry_lock);

	mutex_lock(&region->view_lock);
	view = region->view;
	region->view = NULL;
	mutex_unlock(&region->view_lock);
	if (!view)
		return;
	kobject_put(view->parents);
	device_unregister(&view->dev);
}

/**
 * egm_region_view_device() - the device frontends put theirs under
 * @region: a live region
 *
 * Return: /sys/class/egm/egm<pxm>'s device, valid until the region is
 * retired.
 */
struct device *egm_region_view_device(struct egm_region *region)
{
	lockdep_assert_held(&egm_registry_lock);

	return region->view ? &region->view->dev : NULL;
}

/**
 * egm_region_view_link() - list a parent under parents/
 * @attachment: the parent's new attachment
 *
 * A link that cannot be made is logged and left out: the region works
 * without it, and gpu_devices still lists the parent.
 *
 * Context: process context, with egm_registry_lock held.
 */
void egm_region_view_link(struct egm_attachment *attachment)
{
	struct egm_view *view = attachment->region->view;
	int err;

	lockdep_assert_held(&egm_registry_lock);

	if (!view)
		return;
	err = sysfs_create_link(view->parents, &attachment->parent->kobj,
				dev_name(attachment->parent));
	if (err)
		dev_warn(attachment->parent,
			 "EGM PXM %u: no link under /sys/class/egm/%s/parents: %d\n",
			 attachment->region->pxm, dev_name(&view->dev), err);
	else
		attachment->view_link = true;
}

/**
 * egm_region_view_unlink() - a parent leaves: its link goes
 * @attachment: the parent's attachment
 *
 * Context: process context, with egm_registry_lock held.
 */
void egm_region_view_unlink(struct egm_attachment *attachment)
{
	lockdep_assert_held(&egm_registry_lock);

	if (!attachment->view_link)
		return;
	sysfs_remove_link(attachment->region->view->parents,
			  dev_name(attachment->parent));
	attachment->view_link = false;
}

/**
 * egm_region_view_notify() - announce the region's new state
 * @region: the region
 * @state: the state it just entered
 *
 * A KOBJ_CHANGE uevent on /sys/class/egm/egm<pxm> with EGM_STATE=<state>.
 * A region being retired has no view any more and announces nothing.
 *
 * Context: process context; takes @region->view_lock.
 */
void egm_region_view_notify(struct egm_region *region, enum egm_state state)
{
	char env[32], *envp[2];

	snprintf(env, sizeof(env), "EGM_STATE=%s", egm_state_name(state));
	envp[0] = env;
	envp[1] = NULL;
	mutex_lock(&region->view_lock);
	if (region->view)
		kobject_uevent_env(&region->view->dev.kobj, KOBJ_CHANGE, envp);
	mutex_unlock(&region->view_lock);
}

int egm_sysfs_init(void)
{
	return class_register(&egm_class);
}

void egm_sysfs_exit(void)
{
	class_unregister(&egm_class);
}
