// SPDX-License-Identifier: GPL-2.0
/*
 * egm_parent: the smallest honest parent of egm-core.
 *
 * A real parent (nvgrace-gpu, an out-of-tree vGPU driver) discovers its
 * socket's EGM region from ACPI; this one takes it from module parameters,
 * so that egm-core runs anywhere a physical range can be hidden from the
 * kernel (memmap=SIZE$BASE on x86, mem= on arm64).  Instance i describes
 * base[i], size[i], pxm[i] and is the platform device "egm_parent.<i>";
 * several instances may describe the same socket (two "GPUs" of one
 * socket) or different ones.  Retired pages (retired=) are handed over in
 * the firmware's table format, as ACPI would.
 *
 *   modprobe egm_parent base=0x140000000,0x140000000 size=0x40000000,0x40000000 pxm=1,1
 *
 * Per instance, /sys/kernel/debug/egm_parent/egm_parent.<i>/ lets tests
 * play the GPU through the public API only:
 *   reset   write 1: a GPU reset begins; write 0: it ends
 *   poison  write a physical address: a memory error there
 *   revoke  write 1: the memory is gone for good
 *   mem     read: the region's memory as this "GPU" sees it, whoever has
 *           it open (the demo shows a nested VM's writes with it; a real
 *           GPU reaches the same memory through its own path)
 * Unbinding an instance (/sys/bus/platform/drivers/egm_parent/unbind) is
 * the GPU going away.
 *
 * With VFIO PCI support the module is also a vfio-pci variant driver,
 * egm_parent_vfio (vfio_variant.c): bind any PCI device to it with
 * driver_override and the device joins instance vfio_instance's region and
 * exposes it through egm-core's VFIO frontend.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/egm_core.h>
#include <linux/io.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

#include "egm_parent.h"

#define EGM_PARENT_MAX		8
#define EGM_PARENT_RETIRED_MAX	64

static unsigned long base[EGM_PARENT_MAX];
static int nr_base;
module_param_array(base, ulong, &nr_base, 0444);
MODULE_PARM_DESC(base, "physical base of each instance's region");

static unsigned long size[EGM_PARENT_MAX];
static int nr_size;
module_param_array(size, ulong, &nr_size, 0444);
MODULE_PARM_DESC(size, "size in bytes of each instance's region");

static unsigned int pxm[EGM_PARENT_MAX];
static int nr_pxm;
module_param_array(pxm, uint, &nr_pxm, 0444);
MODULE_PARM_DESC(pxm, "ACPI proximity domain of each instance's region");

static unsigned long retired[EGM_PARENT_RETIRED_MAX];
static int nr_retired;
module_param_array(retired, ulong, &nr_retired, 0444);
MODULE_PARM_DESC(retired, "physical addresses of retired pages (64 KiB blocks), for every instance whose region holds them");

static struct platform_device *egm_parent_devs[EGM_PARENT_MAX];
static struct dentry *egm_parent_debugfs;

struct egm_parent {
	struct egm_attachment *att;
	struct dentry *debugfs;
	phys_addr_t base;
	u64 size;
};

/**
 * egm_parent_instance_desc() - the region instance @i describes
 * @i: instance number
 * @desc: filled with base, size and PXM (no retired-page table)
 *
 * Return: 0, or -EINVAL when there is no instance @i.
 */
int egm_parent_instance_desc(unsigned int i, struct egm_region_desc *desc)
{
	if (i >= nr_base)
		return -EINVAL;
	desc->base = base[i];
	desc->size = size[i];
	desc->pxm = pxm[i];
	return 0;
}

/* The retired pages of this instance's range, in the firmware's format. */
static void *egm_parent_retired_table(int i, size_t *table_size)
{
	unsigned int n = 0, k;
	void *table;

	table = kzalloc(sizeof(u64) * (1 + nr_retired), GFP_KERNEL);
	if (!table)
		return NULL;
	for (k = 0; k < nr_retired; k++)
		if (retired[k] >= base[i] && retired[k] - base[i] < size[i])
			put_unaligned_le64(retired[k], table + sizeof(u64) * (1 + n++));
	put_unaligned_le64(n, table);
	*table_size = sizeof(u64) * (1 + n);
	return table;
}

static ssize_t egm_parent_reset_write(struct file *file, const char __user *ubuf,
				      size_t count, loff_t *ppos)
{
	struct egm_parent *p = file->private_data;
	bool begin;
	int err;

	err = kstrtobool_from_user(ubuf, count, &begin);
	if (err)
		return err;
	if (begin) {
		err = egm_reset_begin(p->att);
		if (err)
			return err;
	} else {
		egm_reset_end(p->att);
	}
	return count;
}

static ssize_t egm_parent_poison_write(struct file *file,
				       const char __user *ubuf, size_t count,
				       loff_t *ppos)
{
	struct egm_parent *p = file->private_data;
	u64 pa;
	int err;

	err = kstrtou64_from_user(ubuf, count, 0, &pa);
	if (err)
		return err;
	err = egm_report_poison(p->att, pa);
	return err ? err : count;
}

static ssize_t egm_parent_revoke_write(struct file *file,
				       const char __user *ubuf, size_t count,
				       loff_t *ppos)
{
	struct egm_parent *p = file->private_data;
	bool revoke;
	int err;

	err = kstrtobool_from_user(ubuf, count, &revoke);
	if (err)
		return err;
	if (revoke)
		egm_revoke_region(p->att);
	return count;
}

static ssize_t egm_parent_mem_read(struct file *file, char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct egm_parent *p = file->private_data;
	size_t len;
	void *kaddr;
	ssize_t ret;

	if (*ppos < 0 || *ppos >= p->size)
		return 0;
	len = min_t(u64, count, p->size - *ppos);
	len = min_t(size_t, len, PAGE_SIZE - offset_in_page(*ppos));

	kaddr = memremap(p->base + *ppos, len, MEMREMAP_WB);
	if (!kaddr)
		return -ENOMEM;
	ret = copy_to_user(ubuf, kaddr, len) ? -EFAULT : len;
	memunmap(kaddr);
	if (ret > 0)
		*ppos += ret;
	return ret;
}

static const struct file_operations egm_parent_mem_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = egm_parent_mem_read,
	.llseek = default_llseek,
};

static const struct file_operations egm_parent_reset_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = egm_parent_reset_write,
};

static const struct file_operations egm_parent_poison_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = egm_parent_poison_write,
};

static const struct file_operations egm_parent_revoke_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = egm_parent_revoke_write,
};

static int egm_parent_probe(struct platform_device *pdev)
{
	struct egm_region_desc desc = {};
	struct egm_parent *p;
	size_t table_size;
	void *table;
	int i = pdev->id;
	int err;

	p = devm_kzalloc(&pdev->dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;

	desc.base = base[i];
	desc.size = size[i];
	desc.pxm = pxm[i];
	p->base = desc.base;
	p->size = desc.size;
	table = egm_parent_retired_table(i, &table_size);
	if (!table)
		return -ENOMEM;
	if (table_size > sizeof(u64)) {
		desc.retired_table_pa = virt_to_phys(table);
		desc.retired_table_size = table_size;
	}

	/* egm-core reads the table during registration; it is ours again after. */
	p->att = egm_register_region(&pdev->dev, &desc);
	kfree(table);
	if (IS_ERR(p->att))
		return PTR_ERR(p->att);

	err = egm_attach_chardev(p->att);
	if (err) {
		egm_unregister_region(p->att);
		return err;
	}

	p->debugfs = debugfs_create_dir(dev_name(&pdev->dev), egm_parent_debugfs);
	debugfs_create_file("reset", 0200, p->debugfs, p, &egm_parent_reset_fops);
	debugfs_create_file("poison", 0200, p->debugfs, p, &egm_parent_poison_fops);
	debugfs_create_file("revoke", 0200, p->debugfs, p, &egm_parent_revoke_fops);
	debugfs_create_file("mem", 0400, p->debugfs, p, &egm_parent_mem_fops);

	platform_set_drvdata(pdev, p);
	return 0;
}

static void egm_parent_remove(struct platform_device *pdev)
{
	struct egm_parent *p = platform_get_drvdata(pdev);

	/* No debugfs writer can reach the attachment after this. */
	debugfs_remove_recursive(p->debugfs);
	egm_unregister_region(p->att);
}

static struct platform_driver egm_parent_driver = {
	.probe = egm_parent_probe,
	.remove = egm_parent_remove,
	.driver = {
		.name = "egm_parent",
	},
};

static void egm_parent_unregister_devices(void)
{
	int i;

	for (i = 0; i < EGM_PARENT_MAX; i++) {
		platform_device_unregister(egm_parent_devs[i]);
		egm_parent_devs[i] = NULL;
	}
}

static int __init egm_parent_init(void)
{
	int i, err;

	if (!nr_base || nr_base != nr_size || nr_base != nr_pxm) {
		pr_err("give base=, size= and pxm= with one value per instance (got %d, %d, %d)\n",
		       nr_base, nr_size, nr_pxm);
		return -EINVAL;
	}

	egm_parent_debugfs = debugfs_create_dir("egm_parent", NULL);
	err = platform_driver_register(&egm_parent_driver);
	if (err)
		goto err_debugfs;

	for (i = 0; i < nr_base; i++) {
		struct platform_device *pdev;

		pdev = platform_device_register_simple("egm_parent", i, NULL, 0);
		if (IS_ERR(pdev)) {
			err = PTR_ERR(pdev);
			goto err_devices;
		}
		egm_parent_devs[i] = pdev;
		/* A bad description fails the probe, which is logged; go on. */
		if (!platform_get_drvdata(pdev))
			pr_warn("instance %d did not bind\n", i);
	}

	err = egm_parent_vfio_init();
	if (err)
		goto err_devices;
	return 0;

err_devices:
	egm_parent_unregister_devices();
	platform_driver_unregister(&egm_parent_driver);
err_debugfs:
	debugfs_remove_recursive(egm_parent_debugfs);
	return err;
}

static void __exit egm_parent_exit(void)
{
	egm_parent_vfio_exit();
	egm_parent_unregister_devices();
	platform_driver_unregister(&egm_parent_driver);
	debugfs_remove_recursive(egm_parent_debugfs);
}

module_init(egm_parent_init);
module_exit(egm_parent_exit);

MODULE_DESCRIPTION("Sample egm-core parent over a reserved physical range");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EGM_CORE);
