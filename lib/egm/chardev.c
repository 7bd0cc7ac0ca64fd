// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core chardev frontend: /dev/egm<pxm>, the device QEMU and libvirt
 * name as a memory-backend-file.
 *
 * One device per region, however many of its parents select this
 * frontend; it goes when the region is retired (its last parent leaves).
 * It sits below the region's /sys/class/egm/egm<pxm> (sysfs.c), which
 * holds the region's attributes, in a class of its own (egm_chardev), so
 * that /sys/class/egm lists regions only.  The minor comes from an IDA,
 * not from the PXM, which is not bounded by the minor space.  Not a misc
 * device: misc runs every ->open() under its global lock, and this one
 * maps the whole region the first time (memremap()).  Open is exclusive
 * and never waits for zeroing (egm_region_acquire()): nothing an earlier
 * tenant left is mapped before it is zeroed.  An open file and each of its
 * mappings hold the region.  The uAPI is in <uapi/linux/egm.h>.
 *
 * Locking: a region's chardev pointer and the attachments' chardev flags
 * are set and cleared under egm_registry_lock.  File operations need no
 * lock of their own: the device holds a region reference for as long as it
 * exists, and an open file holds another.
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
 * struct egm_chardev - the /dev/egm<pxm> of a region
 * @dev: the device, below the region's view; its release frees this
 * @cdev: the character device
 * @region: the region, with a reference held until @dev is released
 * @minor: from egm_minor_ida
 */
struct egm_chardev {
	struct device dev;
	struct cdev cdev;
	struct egm_region *region;
	int minor;
};

static dev_t egm_devt;
static DEFINE_IDA(egm_minor_ida);
/*
 * The /dev/egm<pxm> of each region that has one, by PXM.  Changed under
 * egm_registry_lock; the view reads it under the xarray's own lock.
 */
static DEFINE_XARRAY(egm_chardevs);

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
	struct egm_region *region = cd->region;
	int ret;

	ret = egm_region_acquire(region);
	if (ret)
		return ret;
	file->private_data = region;
	return 0;
}

static int egm_chardev_release(struct inode *inode, struct file *file)
{
	egm_region_release(file->private_data);
	return 0;
}

/* QEMU learns the size of a character device with SEEK_END. */
static loff_t egm_chardev_llseek(struct file *file, loff_t offset, int whence)
{
	struct egm_region *region = file->private_data;

	return fixed_size_llseek(file, offset, whence, region->size);
}

static int egm_chardev_mmap(struct file *file, struct vm_area_struct *vma)
{
	return egm_region_mmap(file->private_data, vma, 0);
}

static unsigned long egm_chardev_get_unmapped_area(struct file *file,
						   unsigned long addr,
						   unsigned long len,
						   unsigned long pgoff,
						   unsigned long flags)
{
	return egm_region_get_unmapped_area(file->private_data, file, addr, len,
					    pgoff, flags);
}

static long egm_ioctl_get_info(struct egm_region *region,
			       struct egm_info __user *uarg)
{
	unsigned long minsz = offsetofend(struct egm_info, nr_retired);
	struct egm_info info;

	if (copy_from_user(&info, uarg, offsetofend(struct egm_info, flags)))
		return -EFAULT;
	if (info.argsz < minsz || info.flags)
		return -EINVAL;

	info.argsz = minsz;
	info.size = region->size;
	info.pxm = region->pxm;
	info.numa_node = region->nid;
	info.poison_granularity = egm_region_poison_granularity(region);
	info.nr_retired = atomic_long_read(&region->nr_poisoned);

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
long egm_ioctl_get_retired(struct egm_region *region,
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
		n = egm_region_poison_list_from(region, &pos, batch,
						min_t(u32, room - written,
						      EGM_RETIRED_BATCH));
		if (!n)
			break;
		if (copy_to_user(uarg->offsets + written, batch, n * sizeof(u64)))
			return -EFAULT;
		written += n;
		cond_resched();
	}
	more = egm_region_poison_count_from(region, pos);

	hdr.granularity = egm_region_poison_granularity(region);
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
	struct egm_region *region = file->private_data;

	switch (cmd) {
	case EGM_GET_INFO:
		return egm_ioctl_get_info(region, (void __user *)arg);
	case EGM_GET_RETIRED_PAGES:
		return egm_ioctl_get_retired(region, (void __user *)arg);
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
	egm_region_put_async(cd->region);
	kfree(cd);
}

static struct egm_chardev *egm_chardev_create(struct egm_region *region)
{
	struct egm_chardev *cd;
	int err;

	lockdep_assert_held(&egm_registry_lock);

	cd = kzalloc(sizeof(*cd), GFP_KERNEL);
	if (!cd)
		return ERR_PTR(-ENOMEM);
	cd->minor = ida_alloc_max(&egm_minor_ida, EGM_MINORS - 1, GFP_KERNEL);
	if (cd->minor < 0) {
		err = cd->minor;
		kfree(cd);
		return ERR_PTR(err);
	}

	egm_region_get(region);
	cd->region = region;
	device_initialize(&cd->dev);
	cd->dev.class = &egm_chardev_class;
	cd->dev.parent = egm_region_view_device(region);
	cd->dev.devt = MKDEV(MAJOR(egm_devt), cd->minor);
	cd->dev.release = egm_chardev_dev_release;
	/* From here on, put_device() undoes everything above. */
	err = dev_set_name(&cd->dev, "egm%u", region->pxm);
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

/**
 * egm_attach_chardev() - expose a parent's region as /dev/egm<pxm>
 * @attachment: the parent's attachment
 *
 * The first parent of a region that asks creates the device (and starts
 * the scrub that makes the region ready for its first user); later ones
 * find it there.  The device goes when the region's last parent
 * unregisters.
 *
 * Context: process context; takes egm_registry_lock.
 * Return: 0, -EEXIST when this parent already attached it, or a negative
 * errno from device creation.
 */
int egm_attach_chardev(struct egm_attachment *attachment)
{
	struct egm_region *region = attachment->region;
	struct egm_chardev *cd;
	int err = 0;

	mutex_lock(&egm_registry_lock);
	if (attachment->chardev) {
		err = -EEXIST;
		goto out;
	}
	if (!xa_load(&egm_chardevs, region->pxm)) {
		cd = egm_chardev_create(region);
		if (!IS_ERR(cd)) {
			err = xa_err(xa_store(&egm_chardevs, region->pxm, cd,
					      GFP_KERNEL));
			if (err) {
				cdev_device_del(&cd->cdev, &cd->dev);
				put_device(&cd->dev);
				cd = ERR_PTR(err);
			}
		}
		if (IS_ERR(cd)) {
			err = PTR_ERR(cd);
			dev_err(attachment->parent,
				"EGM PXM %u: cannot create /dev/egm%u: %d\n",
				region->pxm, region->pxm, err);
			goto out;
		}
		egm_region_kick_scrub(region);
		dev_info(attachment->parent, "EGM PXM %u: /dev/%s\n",
			 region->pxm, dev_name(&cd->dev));
	}
	attachment->chardev = true;
out:
	mutex_unlock(&egm_registry_lock);
	return err;
}
EXPORT_SYMBOL_NS_GPL(egm_attach_chardev, EGM_CORE_NS);

/* The region is retired: the device goes; open files keep working on it. */
/* The region's last parent is gone: so is its /dev/egm<pxm>. */
static void egm_chardev_region_gone(struct egm_region *region)
{
	struct egm_chardev *cd;

	lockdep_assert_held(&egm_registry_lock);

	cd = xa_erase(&egm_chardevs, region->pxm);
	if (!cd)
		return;
	cdev_device_del(&cd->cdev, &cd->dev);
	put_device(&cd->dev);
}

/* "chardev egm<pxm>" while the region has its device. */
static int egm_chardev_show(struct egm_region *region, char *buf, int len)
{
	if (xa_load(&egm_chardevs, region->pxm))
		len += sysfs_emit_at(buf, len, "chardev egm%u\n", region->pxm);
	return len;
}

static const struct egm_frontend egm_chardev_frontend = {
	.name = "chardev",
	.show = egm_chardev_show,
	.region_gone = egm_chardev_region_gone,
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
