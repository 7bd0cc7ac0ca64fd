// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core backing objects of a region: the anonymous inode whose
 * address_space every user mapping of the region shares, the pseudo file
 * installed as those mappings' vm_file, and the kernel's write-back mapping
 * of the memory (used by the scrubber and by read/write frontends).
 *
 * One address_space per region, whatever frontend created a mapping
 * (chardev or VFIO region), is what lets a single unmap_mapping_range()
 * reach every user on revoke, reset and poison.  The pattern is the one
 * vfio uses for its device inodes: a small pseudo filesystem, pinned while
 * any region exists.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <kunit/visibility.h>

#include "egm_internal.h"

#define EGM_FS_MAGIC	0x45474d31	/* "EGM1" */

/* Pinned by every region's inode; guarded by simple_pin_fs()'s own lock. */
static struct vfsmount *egm_mnt;
static int egm_mnt_count;

static int egm_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, EGM_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type egm_fs_type = {
	.name = "egm",
	.owner = THIS_MODULE,
	.init_fs_context = egm_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

/*
 * The pseudo file is never handed to userspace as a descriptor: it only
 * serves as the vm_file of mappings.  Mappings are created through a
 * frontend, which calls egm_region_mmap() directly.
 */
static const struct file_operations egm_region_file_fops = {
	.owner = THIS_MODULE,
};

int egm_region_backing_create(struct egm_region *region)
{
	struct inode *inode;
	struct file *file;
	int err;

	err = simple_pin_fs(&egm_fs_type, &egm_mnt, &egm_mnt_count);
	if (err)
		return err;

	inode = alloc_anon_inode(egm_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto err_unpin;
	}
	inode->i_size = region->size;

	/*
	 * The file holds its own inode reference; ours is dropped with it.
	 * Its final fput() drops a module reference (fops_put()), which is
	 * taken here: so egm_core cannot be unloaded while a region, or a
	 * mapping that outlived its region's parents, exists.
	 */
	ihold(inode);
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(inode, egm_mnt, region->name, O_RDWR,
				 &egm_region_file_fops);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		module_put(THIS_MODULE);
		iput(inode);
		iput(inode);
		goto err_unpin;
	}
	file->private_data = region;

	region->inode = inode;
	region->file = file;
	return 0;

err_unpin:
	simple_release_fs(&egm_mnt, &egm_mnt_count);
	return err;
}

/* Called once the last reference is gone: no mapping uses the file. */
void egm_region_backing_destroy(struct egm_region *region)
{
	if (region->kaddr)
		memunmap(region->kaddr);
	if (region->file) {
		fput(region->file);
		iput(region->inode);
		simple_release_fs(&egm_mnt, &egm_mnt_count);
	}
}

/**
 * egm_region_kaddr_locked() - the kernel mapping of a region, made on first use
 * @region: the region
 *
 * A cacheable (write-back) mapping: this is system RAM that the kernel does
 * not manage, not MMIO.  On x86 the mapping also records the range's memory
 * type as write-back, which is what user mappings inherit.
 *
 * Context: process context, with @region->state_lock held.
 * Return: the mapping, or NULL when the architecture cannot map the range.
 */
void *egm_region_kaddr_locked(struct egm_region *region)
{
	lockdep_assert_held(&region->state_lock);

	if (!region->kaddr)
		region->kaddr = memremap(region->base, region->size, MEMREMAP_WB);
	return region->kaddr;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_kaddr_locked);
