// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core backing objects of a region: the anonymous inode whose
 * address_space every user mapping of the region shares, the pseudo files
 * on it (the region's own, and one per tenancy of a partition that its
 * mappings use as their vm_file), and the kernel's write-back mapping of
 * the memory (used by the scrubber and by read/write frontends).
 *
 * One address_space per region, whatever frontend created a mapping
 * (chardev or VFIO region) and whatever partition it maps, with every
 * mapping at its offset in the region, is what lets one
 * unmap_mapping_range() reach exactly the users of a page (poison), of a
 * partition (its parent's reset) or of the region (revoke), and what the
 * kernel's memory-failure handling walks.  The pattern is the one
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
 * The pseudo files are never handed to userspace as descriptors.  The
 * region's own pins what the region needs; a tenant's serves as the
 * vm_file of mappings, which a frontend creates by calling
 * egm_region_mmap() directly.
 */
static const struct file_operations egm_region_file_fops = {
	.owner = THIS_MODULE,
};

/*
 * A tenant's file: the vm_file of every mapping made during one tenancy.
 * Its holders are the acquirer (until egm_region_release()), each mapping,
 * and VFIO type1 for as long as it maps part of the region for DMA (type1
 * keeps the file of a PFNMAP range open while the IOMMU maps it when the
 * file asks with FOP_PFNMAP_DMA_HOLD; see patches/0008).  The file holds
 * nothing of VFIO's, so that hold can never form a cycle.  So its release
 * is the moment no CPU and no IOMMU can reach the memory any more, and
 * only then does the tenancy end.
 */
static int egm_tenant_file_release(struct inode *inode, struct file *file)
{
	struct egm_partition *part = file->private_data;

	egm_partition_end_tenancy(part);
	egm_partition_put(part);
	return 0;
}

/*
 * Refuse to move a mapping.  mremap() asks the VMA's file, this one, where
 * to put the moved mapping before it moves any page table; no mmap() asks
 * it, since a frontend's ->mmap() is called on the frontend's own file and
 * only then hands the VMA to this one (remap_file_pages() asks too, and is
 * refused either way: this file has no ->mmap).  Refusing in
 * vm_ops->mremap is too late: 6.12's move_page_tables() has run by then,
 * and it takes a special PUD leaf (VM_PFNMAP, not devmap) for a bad table,
 * printing "bad pud" and clearing it without a TLB flush.  Growing
 * (VM_DONTEXPAND) and MREMAP_DONTUNMAP (VM_PFNMAP) the kernel refuses
 * itself, earlier.
 */
static unsigned long egm_tenant_get_unmapped_area(struct file *file,
						  unsigned long addr,
						  unsigned long len,
						  unsigned long pgoff,
						  unsigned long flags)
{
	return -EINVAL;
}

static const struct file_operations egm_tenant_file_fops = {
	.owner = THIS_MODULE,
	.fop_flags = EGM_FOP_DMA_HOLD,
	.release = egm_tenant_file_release,
	.get_unmapped_area = egm_tenant_get_unmapped_area,
};

/**
 * egm_partition_tenant_file_create() - the file of a new tenancy
 * @part: the partition, being acquired
 *
 * The file is on the region's inode: its mappings sit in the region's
 * address_space at their offsets in the region.  It holds a partition
 * reference.  Its release (the last holder gone) calls
 * egm_partition_end_tenancy().
 *
 * Return: the file, or an ERR_PTR().
 */
struct file *egm_partition_tenant_file_create(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	struct file *file;

	/* As for the region's own file: an inode and a module reference. */
	ihold(region->inode);
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(region->inode, egm_mnt, region->name, O_RDWR,
				 &egm_tenant_file_fops);
	if (IS_ERR(file)) {
		module_put(THIS_MODULE);
		iput(region->inode);
		return file;
	}
	egm_partition_get(part);
	file->private_data = part;
	return file;
}

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
 * egm_region_kaddr() - the kernel mapping of a region, made on first use
 * @region: the region
 *
 * A cacheable (write-back) mapping: this is system RAM that the kernel does
 * not manage, not MMIO.  On x86 the mapping also records the range's memory
 * type as write-back, which is what user mappings inherit.
 *
 * Context: process context; takes @region->kaddr_lock the first time.
 * Return: the mapping, or NULL when the architecture cannot map the range.
 */
void *egm_region_kaddr(struct egm_region *region)
{
	void *kaddr = READ_ONCE(region->kaddr);

	if (kaddr)
		return kaddr;
	mutex_lock(&region->kaddr_lock);
	if (!region->kaddr)
		WRITE_ONCE(region->kaddr, memremap(region->base, region->size,
						   MEMREMAP_WB));
	kaddr = region->kaddr;
	mutex_unlock(&region->kaddr_lock);
	return kaddr;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_kaddr);
