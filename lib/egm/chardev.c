// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core chardev frontend: a device per partition, the device QEMU and
 * libvirt name as a memory-backend-file: /dev/egm<pxm> for the partition
 * that covers the whole region (the only one unless an operator carves
 * the region up), /dev/egm<pxm>.<index> for the others (partition.c).
 *
 * Once a parent of a region selects this frontend, every partition of the
 * region has its device, however many parents select it; a device goes
 * with its partition (deleted, or its region retired).  It sits below the
 * region's /sys/class/egm/egm<pxm> (sysfs.c), in a class of its own
 * (egm_chardev), so that /sys/class/egm lists regions only.  The minor
 * comes from an IDA, not from the PXM, which is not bounded by the minor
 * space.  Not a misc device: misc runs every ->open() under its global
 * lock, and this one maps the whole region the first time (memremap()).
 * Open is exclusive and never waits for zeroing (egm_partition_acquire()):
 * nothing an earlier tenant left is mapped before it is zeroed.  An open
 * file and each of its mappings hold the partition.  The uAPI is in
 * <uapi/linux/egm.h>; offsets in it count from the partition's start.
 *
 * Locking: egm_chardev_lock guards egm_chardevs; the attachments' chardev
 * flags are set under egm_registry_lock and the region's view_lock.  File
 * operations need no lock of their own: the device holds a partition
 * reference for as long as it exists, and an open file holds another.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/egm.h>
#include <kunit/visibility.h>

#include "egm_frontends.h"
#include "egm_internal.h"

#define EGM_MINORS	256

/**
 * struct egm_chardev - the device node of a partition
 * @dev: the device, below the region's view; its release frees this
 * @cdev: the character device
 * @part: the partition, with a reference held until @dev is released
 * @minor: from egm_minor_ida
 */
struct egm_chardev {
	struct device dev;
	struct cdev cdev;
	struct egm_partition *part;
	int minor;
};

static dev_t egm_devt;
static DEFINE_IDA(egm_minor_ida);
/* Guards egm_chardevs. */
static DEFINE_MUTEX(egm_chardev_lock);
/* The device of each partition that has one, by egm_chardev_key(). */
static DEFINE_XARRAY(egm_chardevs);

static unsigned long egm_chardev_key(struct egm_partition *part)
{
	return (unsigned long)part->region->pxm * EGM_PARTITIONS_MAX +
	       part->index;
}

static char *egm_chardev_devnode(const struct device *dev, umode_t *mode)
{
	if (mode)
		*mode = 0600;
	return NULL;
}

static const struct class egm_chardev_class = {
	.name = "egm_chardev",
	.devnode = egm_chardev_devnode,
};

static int egm_chardev_open(struct inode *inode, struct file *file)
{
	struct egm_chardev *cd = container_of(inode->i_cdev, struct egm_chardev,
					      cdev);
	struct egm_partition *part = cd->part;
	int ret;

	ret = egm_partition_acquire(part);
	if (ret)
		return ret;
	file->private_data = part;
	return 0;
}

static int egm_chardev_release(struct inode *inode, struct file *file)
{
	egm_partition_release(file->private_data);
	return 0;
}

/* QEMU learns the size of a character device with SEEK_END. */
static loff_t egm_chardev_llseek(struct file *file, loff_t offset, int whence)
{
	struct egm_partition *part = file->private_data;

	return fixed_size_llseek(file, offset, whence, part->size);
}

static int egm_chardev_mmap(struct file *file, struct vm_area_struct *vma)
{
	return egm_partition_mmap(file->private_data, vma, 0);
}

static unsigned long egm_chardev_get_unmapped_area(struct file *file,
						   unsigned long addr,
						   unsigned long len,
						   unsigned long pgoff,
						   unsigned long flags)
{
	return egm_partition_get_unmapped_area(file->private_data, file, addr,
					       len, pgoff, flags);
}

static long egm_ioctl_get_info(struct egm_partition *part,
			       struct egm_info __user *uarg)
{
	struct egm_region *region = part->region;
	unsigned long minsz = offsetofend(struct egm_info, nr_retired);
	struct egm_info info;

	if (copy_from_user(&info, uarg, offsetofend(struct egm_info, flags)))
		return -EFAULT;
	if (info.argsz < minsz || info.flags)
		return -EINVAL;

	info.argsz = minsz;
	info.size = part->size;
	info.pxm = region->pxm;
	info.numa_node = region->nid;
	info.poison_granularity = egm_region_poison_granularity(region);
	info.nr_retired = egm_partition_nr_poisoned(part);

	return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
}

/* Offsets copied out per batch, from the stack. */
#define EGM_RETIRED_BATCH	32

/*
 * EGM_GET_RETIRED_PAGES.  The list is bounded by the room the caller gave,
 * never by a count read before listing: a report sets its bits before it
 * counts them.  @count is exactly the number of offsets written, or the
 * call fails with ENOSPC and @argsz says how much room every entry takes.
 */
long egm_ioctl_get_retired(struct egm_partition *part,
			   struct egm_retired_pages __user *uarg)
{
	unsigned long minsz = offsetofend(struct egm_retired_pages, granularity);
	u64 batch[EGM_RETIRED_BATCH];
	struct egm_retired_pages hdr;
	unsigned long pos = 0, more;
	u32 room, written = 0, n;
	size_t needed;
	long ret = 0;

	if (copy_from_user(&hdr, uarg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;

	room = (hdr.argsz - minsz) / sizeof(u64);
	while (written < room) {
		n = egm_partition_poison_list_from(part, &pos, batch,
						   min_t(u32, room - written,
							 EGM_RETIRED_BATCH));
		if (!n)
			break;
		if (copy_to_user(uarg->offsets + written, batch, n * sizeof(u64)))
			return -EFAULT;
		written += n;
		cond_resched();
	}
	more = egm_partition_poison_count_from(part, pos);

	hdr.granularity = egm_region_poison_granularity(part->region);
	if (more) {
		/* Never a silent truncation: say how much room it takes. */
		needed = struct_size(&hdr, offsets, written + more);
		hdr.argsz = min_t(size_t, needed, U32_MAX);
		hdr.count = min_t(unsigned long, written + more, U32_MAX);
		ret = -ENOSPC;
	} else {
		hdr.argsz = struct_size(&hdr, offsets, written);
		hdr.count = written;
	}
	if (copy_to_user(uarg, &hdr, minsz))
		ret = -EFAULT;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(egm_ioctl_get_retired);

static long egm_chardev_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct egm_partition *part = file->private_data;

	switch (cmd) {
	case EGM_GET_INFO:
		return egm_ioctl_get_info(part, (void __user *)arg);
	case EGM_GET_RETIRED_PAGES:
		return egm_ioctl_get_retired(part, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations egm_chardev_fops = {
	.owner = THIS_MODULE,
	.open = egm_chardev_open,
	.release = egm_chardev_release,
	.llseek = egm_chardev_llseek,
	.mmap = egm_chardev_mmap,
	.get_unmapped_area = egm_chardev_get_unmapped_area,
	.unlocked_ioctl = egm_chardev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static void egm_chardev_dev_release(struct device *dev)
{
	struct egm_chardev *cd = container_of(dev, struct egm_chardev, dev);

	ida_free(&egm_minor_ida, cd->minor);
	egm_partition_put_async(cd->part);
	kfree(cd);
}

static struct egm_chardev *egm_chardev_create(struct egm_partition *part)
{
	struct egm_chardev *cd;
	int err;

	lockdep_assert_held(&egm_chardev_lock);

	cd = kzalloc(sizeof(*cd), GFP_KERNEL);
	if (!cd)
		return ERR_PTR(-ENOMEM);
	cd->minor = ida_alloc_max(&egm_minor_ida, EGM_MINORS - 1, GFP_KERNEL);
	if (cd->minor < 0) {
		err = cd->minor;
		kfree(cd);
		return ERR_PTR(err);
	}

	egm_partition_get(part);
	cd->part = part;
	device_initialize(&cd->dev);
	cd->dev.class = &egm_chardev_class;
	cd->dev.parent = egm_region_view_device(part->region);
	cd->dev.devt = MKDEV(MAJOR(egm_devt), cd->minor);
	cd->dev.release = egm_chardev_dev_release;
	/* From here on, put_device() undoes everything above. */
	err = dev_set_name(&cd->dev, "%s", part->name);
	if (err)
		goto err_put;

	cdev_init(&cd->cdev, &egm_chardev_fops);
	cd->cdev.owner = THIS_MODULE;
	err = cdev_device_add(&cd->cdev, &cd->dev);
	if (err)
		goto err_put;
	return cd;

err_put:
	put_device(&cd->dev);
	return ERR_PTR(err);
}

/*
 * Give @part its device node unless it has one, and start the scrub that
 * makes it ready for its first user.  Returns 0 or a negative errno, which
 * is logged.
 */
static int egm_chardev_expose(struct egm_partition *part, struct device *by)
{
	unsigned long key = egm_chardev_key(part);
	struct egm_chardev *cd;
	int err = 0;

	lockdep_assert_held(&part->region->partition_lock);

	mutex_lock(&egm_chardev_lock);
	if (xa_load(&egm_chardevs, key))
		goto out;
	cd = egm_chardev_create(part);
	if (!IS_ERR(cd)) {
		err = xa_err(xa_store(&egm_chardevs, key, cd, GFP_KERNEL));
		if (err) {
			cdev_device_del(&cd->cdev, &cd->dev);
			put_device(&cd->dev);
			cd = ERR_PTR(err);
		}
	}
	if (IS_ERR(cd)) {
		err = PTR_ERR(cd);
		pr_err("cannot create /dev/%s: %d\n", part->name, err);
		goto out;
	}
	if (by)
		dev_info(by, "EGM PXM %u: /dev/%s\n", part->region->pxm,
			 dev_name(&cd->dev));
	else
		pr_info("/dev/%s\n", dev_name(&cd->dev));
	egm_partition_kick_scrub(part);
out:
	mutex_unlock(&egm_chardev_lock);
	return err;
}

/**
 * egm_attach_chardev() - expose a parent's region as device nodes
 * @attachment: the parent's attachment
 *
 * The first parent of a region that asks creates a device for each
 * partition of the region: /dev/egm<pxm> for the whole-region one,
 * /dev/egm<pxm>.<index> for others; later ones find them there.
 * Partitions created later get theirs at once.  A device goes with its
 * partition.
 *
 * Context: process context; takes egm_registry_lock.
 * Return: 0, -EEXIST when this parent already attached it, or a negative
 * errno from device creation.
 */
int egm_attach_chardev(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	struct egm_partition *part;
	unsigned long index;
	int err = 0;

	mutex_lock(&egm_registry_lock);
	if (attachment->chardev) {
		err = -EEXIST;
		goto out;
	}
	mutex_lock(&region->partition_lock);
	xa_for_each(&region->partitions, index, part) {
		err = egm_chardev_expose(part, attachment->parent);
		if (err)
			break;
	}
	if (!err) {
		mutex_lock(&region->view_lock);
		attachment->chardev = true;
		mutex_unlock(&region->view_lock);
	}
	mutex_unlock(&region->partition_lock);
out:
	mutex_unlock(&egm_registry_lock);
	return err;
}
EXPORT_SYMBOL_NS_GPL(egm_attach_chardev, EGM_CORE_NS);

/* An operator made a partition: a device for it if its region has them. */
static void egm_chardev_partition_added(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	struct egm_attachment *att;
	bool exposed = false;

	mutex_lock(&region->view_lock);
	list_for_each_entry(att, &region->attachments, node)
		exposed |= att->chardev;
	mutex_unlock(&region->view_lock);
	if (exposed)
		egm_chardev_expose(part, NULL);
}

/* The partition left its region: its device goes; open files keep it. */
static void egm_chardev_partition_gone(struct egm_partition *part)
{
	struct egm_chardev *cd;

	mutex_lock(&egm_chardev_lock);
	cd = xa_erase(&egm_chardevs, egm_chardev_key(part));
	mutex_unlock(&egm_chardev_lock);
	if (!cd)
		return;
	cdev_device_del(&cd->cdev, &cd->dev);
	put_device(&cd->dev);
}

/* "chardev <name>" for each partition of the region with its device. */
static int egm_chardev_show(struct egm_region *region, char *buf, int len)
{
	unsigned long first = (unsigned long)region->pxm * EGM_PARTITIONS_MAX;
	struct egm_chardev *cd;
	unsigned long key;

	mutex_lock(&egm_chardev_lock);
	xa_for_each_range(&egm_chardevs, key, cd, first,
			  first + EGM_PARTITIONS_MAX - 1)
		len += sysfs_emit_at(buf, len, "chardev %s\n",
				     dev_name(&cd->dev));
	mutex_unlock(&egm_chardev_lock);
	return len;
}

static const struct egm_frontend egm_chardev_frontend = {
	.name = "chardev",
	.show = egm_chardev_show,
	.partition_added = egm_chardev_partition_added,
	.partition_gone = egm_chardev_partition_gone,
};

int egm_chardev_init(void)
{
	int err;

	err = alloc_chrdev_region(&egm_devt, 0, EGM_MINORS, "egm");
	if (err)
		return err;
	err = class_register(&egm_chardev_class);
	if (err)
		goto err_region;
	err = egm_frontend_register(&egm_chardev_frontend);
	if (err)
		goto err_class;
	return 0;

err_class:
	class_unregister(&egm_chardev_class);
err_region:
	unregister_chrdev_region(egm_devt, EGM_MINORS);
	return err;
}

void egm_chardev_exit(void)
{
	egm_frontend_unregister(&egm_chardev_frontend);
	class_unregister(&egm_chardev_class);
	unregister_chrdev_region(egm_devt, EGM_MINORS);
}
