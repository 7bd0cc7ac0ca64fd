// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core sysfs: /sys/class/egm/egm<pxm>, the view of every live region
 * whatever its frontend, with a directory per partition, and the three
 * attributes through which an operator divides a region into partitions
 * (Documentation/ABI/testing/sysfs-class-egm).
 *
 * The view is for operators and their tools, so reading it never acquires,
 * dirties or scrubs a region, and never waits for a tenant: a VM keeps
 * running while it is read.  The region-wide values (state, dirty_bytes,
 * scrub_progress) are summed over the partitions under RCU, without the
 * partition lock, which deletion holds while it waits for this view's
 * readers of the partition it removes.  Attributes that tools in the field read under
 * these names (egm_size, gpu_devices; NVIDIA's EGM driver, KubeVirt) keep
 * those tools' formats.  A change of state (dirty, scrubbing, clean,
 * in_use) is announced with a KOBJ_CHANGE uevent carrying EGM_STATE=, so
 * that an operator can wait for a region to be clean without polling.
 *
 * The device is created with the region and unregistered when the region
 * is retired, both under egm_registry_lock; device_del() waits for the
 * attribute readers, so they need no reference of their own, and they
 * must not take egm_registry_lock (the region's view_lock instead).  The
 * writers (partition_create, partition_delete, layout) take the region's
 * partition_lock, never egm_registry_lock, for the same reason; retirement
 * removes the partitions before it removes the view.  Frontends hang their
 * devices below it (the chardev's), and say through their
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

/* Bytes of @part that may still hold an earlier tenant's data. */
static u64 egm_partition_dirty_bytes(struct egm_partition *part)
{
	u64 bytes = (u64)atomic_long_read(&part->nr_dirty) * EGM_CHUNK_SIZE;

	return min(bytes, part->size);
}

/* Over every partition of the region: see egm_region_state(). */
static ssize_t scrub_progress_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct egm_region *region = to_region(dev);
	struct egm_partition *part;
	unsigned long index;
	u64 done = 0, size = 0;

	rcu_read_lock();
	xa_for_each(&region->partitions, index, part) {
		done += atomic64_read(&part->scrub_done);
		size += part->size;
	}
	rcu_read_unlock();
	return sysfs_emit(buf, "%llu %llu\n", done, size);
}
static DEVICE_ATTR_RO(scrub_progress);

static ssize_t dirty_bytes_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct egm_region *region = to_region(dev);
	struct egm_partition *part;
	unsigned long index;
	u64 bytes = 0;

	rcu_read_lock();
	xa_for_each(&region->partitions, index, part)
		bytes += egm_partition_dirty_bytes(part);
	rcu_read_unlock();
	return sysfs_emit(buf, "%llu\n", bytes);
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

/*
 * "<offset> <size>" (decimal, or hex with 0x): a new partition,
 * /dev/egm<pxm>.<index>.  The errno says what is wrong, and the log says
 * it in words.
 */
static ssize_t partition_create_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct egm_region *region = to_region(dev);
	struct egm_partition *part;
	u64 offset, size;
	char end;

	if (sscanf(buf, "%lli %lli %c", &offset, &size, &end) != 2) {
		dev_info(dev, "partition_create: want \"<offset> <size>\"\n");
		return -EINVAL;
	}
	part = egm_partition_create(region, offset, size);
	if (IS_ERR(part)) {
		dev_info(dev, "partition_create %#llx %#llx: %pe\n", offset,
			 size, part);
		return PTR_ERR(part);
	}
	dev_info(dev, "partition %s: [%#llx, +%#llx)\n", part->name,
		 part->offset, part->size);
	return count;
}
static DEVICE_ATTR_WO(partition_create);

/* "<index>": delete that partition; refused while it has a tenant. */
static ssize_t partition_delete_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	unsigned int index;
	int err;

	err = kstrtouint(buf, 0, &index);
	if (err)
		return err;
	err = egm_partition_delete(to_region(dev), index);
	if (err) {
		dev_info(dev, "partition_delete %u: %s\n", index,
			 err == -EBUSY ? "it has a tenant" : "no such partition");
		return err;
	}
	return count;
}
static DEVICE_ATTR_WO(partition_delete);

/*
 * "whole": the one whole-region partition.  "per_parent": one equal
 * partition per parent, each its own.  "custom": anything else, made with
 * partition_create and partition_delete.
 */
static ssize_t layout_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct egm_region *region = to_region(dev);
	struct egm_attachment *att;
	struct egm_partition *part;
	unsigned long index;
	unsigned int nr = 0, owned = 0;
	bool whole = false;

	mutex_lock(&region->partition_lock);
	xa_for_each(&region->partitions, index, part) {
		nr++;
		whole |= index == EGM_PARTITION_WHOLE;
	}
	mutex_lock(&region->view_lock);
	list_for_each_entry(att, &region->attachments, node)
		owned += !!att->partition;
	mutex_unlock(&region->view_lock);
	mutex_unlock(&region->partition_lock);

	if (whole && nr == 1)
		return sysfs_emit(buf, "whole\n");
	if (owned && owned == nr)
		return sysfs_emit(buf, "per_parent\n");
	return sysfs_emit(buf, "custom\n");
}

static ssize_t layout_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	int err;

	if (sysfs_streq(buf, "whole"))
		err = egm_region_set_layout(to_region(dev), false);
	else if (sysfs_streq(buf, "per_parent"))
		err = egm_region_set_layout(to_region(dev), true);
	else
		err = -EINVAL;
	if (err)
		dev_info(dev, "layout %.*s: %pe\n", (int)strcspn(buf, "\n"),
			 buf, ERR_PTR(err));
	return err ?: count;
}
static DEVICE_ATTR_RW(layout);

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
	&dev_attr_partition_create.attr,
	&dev_attr_partition_delete.attr,
	&dev_attr_layout.attr,
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
 * Return: /sys/class/egm/egm<pxm>'s device, valid while the region has
 * partitions (it is retired after they are).
 */
struct device *egm_region_view_device(struct egm_region *region)
{
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
 * egm_region_state() - where a region stands, over its partitions
 * @region: the region
 *
 * The first that applies: in_use when a partition has a tenant, scrubbing
 * when one is being scrubbed, dirty when one is dirty (or there is no
 * partition), else clean.  With one partition, that partition's state.
 *
 * Return: the state; it may change at once.
 */
enum egm_state egm_region_state(struct egm_region *region)
{
	static const int rank[] = {
		[EGM_CLEAN] = 0, [EGM_DIRTY] = 1, [EGM_SCRUBBING] = 2,
		[EGM_IN_USE] = 3,
	};
	enum egm_state state = EGM_CLEAN, s;
	struct egm_partition *part;
	unsigned long index;
	bool any = false;

	rcu_read_lock();
	xa_for_each(&region->partitions, index, part) {
		s = READ_ONCE(part->state);
		if (rank[s] > rank[state])
			state = s;
		any = true;
	}
	rcu_read_unlock();
	return any ? state : EGM_DIRTY;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_state);

static struct egm_partition *to_partition(struct device *dev)
{
	return dev_get_drvdata(dev);
}

static ssize_t partition_offset_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_partition(dev)->offset);
}

static ssize_t partition_size_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", to_partition(dev)->size);
}

static ssize_t partition_state_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  egm_state_name(READ_ONCE(to_partition(dev)->state)));
}

static ssize_t partition_dirty_bytes_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  egm_partition_dirty_bytes(to_partition(dev)));
}

/* The name of its device node: /dev/<name> when a chardev exposes it. */
static ssize_t partition_name_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_partition(dev)->name);
}

static ssize_t partition_retired_count_show(struct device *dev,
					    struct device_attribute *attr,
					    char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  egm_partition_nr_poisoned(to_partition(dev)));
}

static struct device_attribute egm_partition_dev_attrs[] = {
	__ATTR(offset, 0444, partition_offset_show, NULL),
	__ATTR(size, 0444, partition_size_show, NULL),
	__ATTR(state, 0444, partition_state_show, NULL),
	__ATTR(dirty_bytes, 0444, partition_dirty_bytes_show, NULL),
	__ATTR(name, 0444, partition_name_show, NULL),
	__ATTR(retired_count, 0444, partition_retired_count_show, NULL),
};

static struct attribute *egm_partition_attrs[] = {
	&egm_partition_dev_attrs[0].attr,
	&egm_partition_dev_attrs[1].attr,
	&egm_partition_dev_attrs[2].attr,
	&egm_partition_dev_attrs[3].attr,
	&egm_partition_dev_attrs[4].attr,
	&egm_partition_dev_attrs[5].attr,
	NULL
};
ATTRIBUTE_GROUPS(egm_partition);

static void egm_partition_dev_release(struct device *dev)
{
	egm_partition_put_async(to_partition(dev));
	kfree(dev);
}

/**
 * egm_partition_view_create() - /sys/class/egm/egm<pxm>/partition<index>
 * @part: a new partition
 *
 * Its offset, size, state, dirty_bytes, name and retired_count.  A
 * directory that cannot be made is logged and left out: the partition
 * works without it.
 *
 * Context: process context, @part->region->partition_lock held.
 */
void egm_partition_view_create(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	struct device *dev;
	int err;

	lockdep_assert_held(&region->partition_lock);

	if (!region->view)
		return;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev) {
		pr_warn("%s: no sysfs directory: out of memory\n", part->name);
		return;
	}
	device_initialize(dev);
	dev->parent = &region->view->dev;
	dev->groups = egm_partition_groups;
	dev->release = egm_partition_dev_release;
	egm_partition_get(part);
	dev_set_drvdata(dev, part);
	err = dev_set_name(dev, "partition%u", part->index);
	if (!err)
		err = device_add(dev);
	if (err) {
		pr_warn("%s: no sysfs directory: %d\n", part->name, err);
		put_device(dev);
		return;
	}
	mutex_lock(&region->view_lock);
	part->dev = dev;
	mutex_unlock(&region->view_lock);
}

/**
 * egm_partition_view_destroy() - the partition leaves its region
 * @part: the partition
 *
 * Context: process context, @part->region->partition_lock held.
 */
void egm_partition_view_destroy(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	struct device *dev;

	mutex_lock(&region->view_lock);
	dev = part->dev;
	part->dev = NULL;
	mutex_unlock(&region->view_lock);
	if (dev)
		device_unregister(dev);
}

/**
 * egm_partition_notify() - announce a partition's new state
 * @part: the partition
 * @state: the state it just entered
 *
 * A KOBJ_CHANGE uevent with EGM_STATE=<state> on the partition's
 * directory, and one on /sys/class/egm/egm<pxm> with the region's state
 * (egm_region_state()) and EGM_PARTITION=<name>.  A region being retired
 * has no view any more and announces nothing.
 *
 * Context: process context; takes @part->region->view_lock.
 */
void egm_partition_notify(struct egm_partition *part, enum egm_state state)
{
	struct egm_region *region = part->region;
	char env[32], name[48], *envp[3];

	envp[0] = env;
	envp[1] = name;
	envp[2] = NULL;
	snprintf(name, sizeof(name), "EGM_PARTITION=%s", part->name);
	mutex_lock(&region->view_lock);
	if (part->dev) {
		snprintf(env, sizeof(env), "EGM_STATE=%s", egm_state_name(state));
		kobject_uevent_env(&part->dev->kobj, KOBJ_CHANGE, envp);
	}
	if (region->view) {
		snprintf(env, sizeof(env), "EGM_STATE=%s",
			 egm_state_name(egm_region_state(region)));
		kobject_uevent_env(&region->view->dev.kobj, KOBJ_CHANGE, envp);
	}
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
