// SPDX-License-Identifier: GPL-2.0
/*
 * egm_bench_base: the baselines of the egm-core benchmark.  Bench only:
 * nothing here belongs in egm-core.
 *
 * It maps a physical range the kernel does not manage (memmap=SIZE$BASE,
 * the same range the sample parent gives egm-core) the two ways egm-core
 * replaces:
 *
 *   /dev/egm_bench_remap  remap_pfn_range() of the whole VMA at mmap()
 *                         time, as the RFC v2 driver does
 *   /dev/egm_bench_fault  one vmf_insert_pfn() (a 4 KiB PTE) per fault
 *
 * The range is not claimed (egm-core claims it; the benchmark uses one
 * mapping at a time).  Mappings take the memory type the range already
 * has: egm-core's write-back kernel mapping of it.
 *
 * /sys/kernel/debug/egm_bench/ also has:
 *   faults  faults served by /dev/egm_bench_fault ("pte N")
 *   scale   the scale simulation: write "BASE SIZE" to register a region
 *           of that range with egm-core (no chardev, so nothing scrubs or
 *           touches it: the range needs no memory behind it), "0" to
 *           unregister it; read "register_ns N" and "unregister_ns N"
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/egm_core.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>

/* Unused by the firmware of any machine the benchmark runs on. */
#define EGM_BENCH_SCALE_PXM	200

static unsigned long base;
module_param(base, ulong, 0444);
MODULE_PARM_DESC(base, "physical base of the range to map");

static unsigned long size;
module_param(size, ulong, 0444);
MODULE_PARM_DESC(size, "size in bytes of the range to map");

static atomic64_t egm_bench_faults = ATOMIC64_INIT(0);
static struct dentry *egm_bench_debugfs;

/* The scale simulation's parent and registration, under egm_bench_lock. */
static DEFINE_MUTEX(egm_bench_lock);
static struct platform_device *egm_bench_pdev;
static struct egm_attachment *egm_bench_att;
static u64 egm_bench_register_ns;
static u64 egm_bench_unregister_ns;

/* The VMA's range in the physical range, or -EINVAL. */
static int egm_bench_check(struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	u64 offset = (u64)vma->vm_pgoff << PAGE_SHIFT;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (offset >= size || len > size - offset)
		return -EINVAL;
	return 0;
}

static int egm_bench_remap_mmap(struct file *file, struct vm_area_struct *vma)
{
	int err = egm_bench_check(vma);

	if (err)
		return err;
	/* Sets VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP itself. */
	return remap_pfn_range(vma, vma->vm_start,
			       PHYS_PFN(base) + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static vm_fault_t egm_bench_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long pfn = PHYS_PFN(base) + vma->vm_pgoff +
			    ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	vm_fault_t ret;

	ret = vmf_insert_pfn(vma, vmf->address, pfn);
	if (ret == VM_FAULT_NOPAGE)
		atomic64_inc(&egm_bench_faults);
	return ret;
}

static const struct vm_operations_struct egm_bench_vm_ops = {
	.fault = egm_bench_vm_fault,
};

static int egm_bench_fault_mmap(struct file *file, struct vm_area_struct *vma)
{
	int err = egm_bench_check(vma);

	if (err)
		return err;
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &egm_bench_vm_ops;
	return 0;
}

static const struct file_operations egm_bench_remap_fops = {
	.owner = THIS_MODULE,
	.mmap = egm_bench_remap_mmap,
};

static const struct file_operations egm_bench_fault_fops = {
	.owner = THIS_MODULE,
	.mmap = egm_bench_fault_mmap,
};

static struct miscdevice egm_bench_remap_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "egm_bench_remap",
	.fops = &egm_bench_remap_fops,
	.mode = 0600,
};

static struct miscdevice egm_bench_fault_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "egm_bench_fault",
	.fops = &egm_bench_fault_fops,
	.mode = 0600,
};

static int egm_bench_faults_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "pte %lld\n", atomic64_read(&egm_bench_faults));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_bench_faults);

static void egm_bench_scale_unregister(void)
{
	u64 t0;

	lockdep_assert_held(&egm_bench_lock);
	if (!egm_bench_att)
		return;
	t0 = ktime_get_ns();
	egm_unregister_region(egm_bench_att);
	egm_bench_unregister_ns = ktime_get_ns() - t0;
	egm_bench_att = NULL;
}

static ssize_t egm_bench_scale_write(struct file *file,
				     const char __user *ubuf, size_t count,
				     loff_t *ppos)
{
	struct egm_region_desc desc = { .pxm = EGM_BENCH_SCALE_PXM };
	struct egm_attachment *att;
	char buf[64];
	u64 t0;
	int n;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	n = sscanf(buf, "%llx %llx", &desc.base, &desc.size);

	mutex_lock(&egm_bench_lock);
	egm_bench_scale_unregister();
	if (n == 2) {
		t0 = ktime_get_ns();
		att = egm_register_region(&egm_bench_pdev->dev, &desc);
		egm_bench_register_ns = ktime_get_ns() - t0;
		if (IS_ERR(att)) {
			mutex_unlock(&egm_bench_lock);
			return PTR_ERR(att);
		}
		egm_bench_att = att;
	}
	mutex_unlock(&egm_bench_lock);
	return count;
}

static int egm_bench_scale_show(struct seq_file *m, void *unused)
{
	mutex_lock(&egm_bench_lock);
	seq_printf(m, "registered %d\nregister_ns %llu\nunregister_ns %llu\n",
		   !!egm_bench_att, egm_bench_register_ns,
		   egm_bench_unregister_ns);
	mutex_unlock(&egm_bench_lock);
	return 0;
}

static int egm_bench_scale_open(struct inode *inode, struct file *file)
{
	return single_open(file, egm_bench_scale_show, NULL);
}

static const struct file_operations egm_bench_scale_fops = {
	.owner = THIS_MODULE,
	.open = egm_bench_scale_open,
	.read = seq_read,
	.write = egm_bench_scale_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init egm_bench_init(void)
{
	int err;

	if (!size || !PAGE_ALIGNED(base) || !PAGE_ALIGNED(size)) {
		pr_err("base=%#lx size=%#lx: give a page-aligned range\n",
		       base, size);
		return -EINVAL;
	}
	egm_bench_pdev = platform_device_register_simple("egm_bench_scale",
							 -1, NULL, 0);
	if (IS_ERR(egm_bench_pdev))
		return PTR_ERR(egm_bench_pdev);
	err = misc_register(&egm_bench_remap_dev);
	if (err)
		goto err_pdev;
	err = misc_register(&egm_bench_fault_dev);
	if (err)
		goto err_remap;

	egm_bench_debugfs = debugfs_create_dir("egm_bench", NULL);
	debugfs_create_file("faults", 0400, egm_bench_debugfs, NULL,
			    &egm_bench_faults_fops);
	debugfs_create_file("scale", 0600, egm_bench_debugfs, NULL,
			    &egm_bench_scale_fops);
	return 0;

err_remap:
	misc_deregister(&egm_bench_remap_dev);
err_pdev:
	platform_device_unregister(egm_bench_pdev);
	return err;
}

static void __exit egm_bench_exit(void)
{
	debugfs_remove_recursive(egm_bench_debugfs);
	mutex_lock(&egm_bench_lock);
	egm_bench_scale_unregister();
	mutex_unlock(&egm_bench_lock);
	misc_deregister(&egm_bench_fault_dev);
	misc_deregister(&egm_bench_remap_dev);
	platform_device_unregister(egm_bench_pdev);
}

module_init(egm_bench_init);
module_exit(egm_bench_exit);

MODULE_DESCRIPTION("egm-core benchmark baselines: remap_pfn_range() and 4 KiB faults");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EGM_CORE);
