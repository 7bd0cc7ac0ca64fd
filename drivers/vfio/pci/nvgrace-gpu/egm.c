// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvgrace-gpu as a parent of the socket's Extended GPU Memory (EGM) region.
 *
 * Firmware describes the EGM region of a GPU's socket in the GPU's ACPI
 * _DSD:
 *
 *   nvidia,egm-pxm                      proximity domain of the memory
 *   nvidia,egm-base-pa                  first physical address
 *   nvidia,egm-size                     length in bytes
 *   nvidia,egm-retired-pages-data-base  optional: physical address of the
 *                                       retired-page table (a u64 count,
 *                                       then that many u64 addresses)
 *
 * Every GPU of a socket carries the same description; each registers with
 * egm-core, which keeps one region per PXM (see include/linux/egm_core.h).
 * A GPU without these properties behaves exactly as before.  A GPU whose
 * properties are incomplete or invalid is logged and works without EGM:
 * the GPU itself is still usable, and the region is registered by the
 * socket's other GPUs.
 *
 * The frontend is chosen with the egm_frontend module parameter:
 *   vfio     (default) the region is a device-specific region of the vfio
 *            device of one GPU of the socket (the lowest-BDF one, unless
 *            another GPU's open device exposes it already): its life
 *            follows the GPU's vfio device, with no separate device or
 *            uAPI to manage, as the VFIO maintainer asked in review;
 *   chardev  /dev/egm<pxm>, for VMMs that take guest RAM from a
 *            memory-backend-file;
 *   none     registered (egm_size, poison handling) but not exposed.
 *
 * With egm_per_gpu=Y the region is split among the socket's GPUs, one
 * equal partition each, as KubeVirt assigns one VM per GPU: each GPU's vfio
 * device exposes its own partition, and a GPU's reset reaches that
 * partition alone.  Each GPU re-splits as it probes (egm_set_layout()), so
 * the last one of the socket leaves one partition per GPU.
 *
 * State lives in a devres of the PCI device, so it goes after remove()
 * has unregistered the vfio device (which waits for the device to be
 * closed): no remove hook is needed, and the reset handlers find it from
 * the pci_dev.
 */
#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/string.h>
#include <linux/vfio_pci_core.h>

#include "egm.h"

MODULE_IMPORT_NS(EGM_CORE);

enum nvgrace_gpu_egm_frontend {
	NVGRACE_EGM_VFIO,
	NVGRACE_EGM_CHARDEV,
	NVGRACE_EGM_NONE,
};

static const char * const nvgrace_gpu_egm_frontends[] = {
	[NVGRACE_EGM_VFIO] = "vfio",
	[NVGRACE_EGM_CHARDEV] = "chardev",
	[NVGRACE_EGM_NONE] = "none",
};

/* Read at probe: a change applies to GPUs bound afterwards. */
static int egm_frontend = NVGRACE_EGM_VFIO;

static int egm_frontend_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(nvgrace_gpu_egm_frontends, val);

	if (i < 0) {
		pr_err("nvgrace_gpu_vfio_pci: egm_frontend=%s: expected vfio, chardev or none\n",
		       val);
		return -EINVAL;
	}
	WRITE_ONCE(*(int *)kp->arg, i);
	return 0;
}

static int egm_frontend_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  nvgrace_gpu_egm_frontends[READ_ONCE(*(int *)kp->arg)]);
}

static const struct kernel_param_ops egm_frontend_ops = {
	.set = egm_frontend_set,
	.get = egm_frontend_get,
};
module_param_cb(egm_frontend, &egm_frontend_ops, &egm_frontend, 0644);
MODULE_PARM_DESC(egm_frontend,
		 "How a GPU's EGM region is exposed: vfio (default; a region of the lowest-BDF GPU's vfio device), chardev (/dev/egm<pxm>) or none");

static bool egm_per_gpu;
module_param(egm_per_gpu, bool, 0444);
MODULE_PARM_DESC(egm_per_gpu,
		 "Split each socket's EGM region among its GPUs, one equal partition each, exposed by its GPU (default: N, one region for the socket)");

/**
 * struct nvgrace_gpu_egm - one GPU's registration of its socket's region
 * @attachment: from egm_register_region()
 * @size: region size, for egm_size
 * @frontend: the frontend chosen at probe
 * @in_reset: between reset_prepare and reset_done; serialised by the PCI
 *	core, which calls both with the device locked
 */
struct nvgrace_gpu_egm {
	struct egm_attachment *attachment;
	u64 size;
	enum nvgrace_gpu_egm_frontend frontend;
	bool in_reset;
};

static void nvgrace_gpu_egm_release(struct device *dev, void *res);

static struct nvgrace_gpu_egm *nvgrace_gpu_egm_find(struct pci_dev *pdev)
{
	return devres_find(&pdev->dev, nvgrace_gpu_egm_release, NULL, NULL);
}

static ssize_t egm_size_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct nvgrace_gpu_egm *egm = nvgrace_gpu_egm_find(to_pci_dev(dev));

	return egm ? sysfs_emit(buf, "%llu\n", egm->size) : -ENODEV;
}
static DEVICE_ATTR_RO(egm_size);

static void nvgrace_gpu_egm_release(struct device *dev, void *res)
{
	struct nvgrace_gpu_egm *egm = res;

	device_remove_file(dev, &dev_attr_egm_size);
	egm_unregister_region(egm->attachment);
}

/*
 * Read and check the firmware's description.  Return: 1 with @desc filled,
 * 0 when the GPU has no EGM, or a negative errno (logged) when the
 * description is incomplete or invalid.
 */
static int nvgrace_gpu_egm_read_desc(struct pci_dev *pdev,
				     struct egm_region_desc *desc)
{
	static const char * const required[] = {
		"nvidia,egm-pxm", "nvidia,egm-base-pa", "nvidia,egm-size",
	};
	const char *table_prop = "nvidia,egm-retired-pages-data-base";
	struct device *dev = &pdev->dev;
	u64 pxm, base, size, table = 0, last, table_end;
	unsigned int i, present = 0;
	int ret;

	for (i = 0; i < ARRAY_SIZE(required); i++)
		present += device_property_present(dev, required[i]);
	if (!present && !device_property_present(dev, table_prop))
		return 0;
	if (present != ARRAY_SIZE(required)) {
		pci_err(pdev, "EGM: firmware gives only %u of %s, %s and %s\n",
			present, required[0], required[1], required[2]);
		return -EINVAL;
	}

	ret = device_property_read_u64(dev, "nvidia,egm-pxm", &pxm);
	if (!ret)
		ret = device_property_read_u64(dev, "nvidia,egm-base-pa", &base);
	if (!ret)
		ret = device_property_read_u64(dev, "nvidia,egm-size", &size);
	if (!ret && device_property_present(dev, table_prop))
		ret = device_property_read_u64(dev, table_prop, &table);
	if (ret) {
		pci_err(pdev, "EGM: cannot read the firmware properties as integers: %d\n",
			ret);
		return ret;
	}

	if (pxm > U32_MAX) {
		pci_err(pdev, "EGM: PXM %llu out of range\n", pxm);
		return -EINVAL;
	}
	if (!size || !PAGE_ALIGNED(base) || !PAGE_ALIGNED(size)) {
		pci_err(pdev, "EGM PXM %llu: base %#llx size %#llx: empty or not aligned to %lu bytes\n",
			pxm, base, size, PAGE_SIZE);
		return -EINVAL;
	}
	if (check_add_overflow(base, size - 1, &last) ||
	    last > (u64)type_max(phys_addr_t)) {
		pci_err(pdev, "EGM PXM %llu: base %#llx + size %#llx overflows\n",
			pxm, base, size);
		return -EOVERFLOW;
	}
	if (table) {
		/* The largest table the core reads: count + EGM_FW_RETIRED_MAX. */
		if (!IS_ALIGNED(table, sizeof(u64)) ||
		    check_add_overflow(table, (u64)(1 + EGM_FW_RETIRED_MAX) *
				       sizeof(u64) - 1, &table_end) ||
		    table_end > (u64)type_max(phys_addr_t)) {
			pci_err(pdev, "EGM PXM %llu: retired-page table at %#llx is unaligned or runs past the address space\n",
				pxm, table);
			return -EINVAL;
		}
		if (table <= last && table_end >= base) {
			pci_err(pdev, "EGM PXM %llu: retired-page table at %#llx lies in the region [%#llx-%#llx]\n",
				pxm, table, base, last);
			return -EINVAL;
		}
	}

	desc->pxm = pxm;
	desc->base = base;
	desc->size = size;
	desc->retired_table_pa = table;
	return 1;
}

static int nvgrace_gpu_egm_attach(struct nvgrace_gpu_egm *egm)
{
	switch (egm->frontend) {
	case NVGRACE_EGM_VFIO:
		return egm_attach_vfio(egm->attachment);
	case NVGRACE_EGM_CHARDEV:
		return egm_attach_chardev(egm->attachment);
	default:
		return 0;
	}
}

/**
 * nvgrace_gpu_egm_probe() - register the GPU's EGM region, if it has one
 * @pdev: the GPU
 *
 * Call before vfio_pci_core_register_device().  A missing description is
 * not an error; an invalid one, or a refusal by egm-core, is logged and
 * leaves the GPU without EGM.
 *
 * Return: 0, or -ENOMEM.
 */
int nvgrace_gpu_egm_probe(struct pci_dev *pdev)
{
	struct egm_region_desc desc = {};
	struct nvgrace_gpu_egm *egm;
	int ret;

	ret = nvgrace_gpu_egm_read_desc(pdev, &desc);
	if (ret <= 0)
		return 0;

	egm = devres_alloc(nvgrace_gpu_egm_release, sizeof(*egm), GFP_KERNEL);
	if (!egm)
		return -ENOMEM;
	egm->size = desc.size;
	egm->frontend = READ_ONCE(egm_frontend);

	egm->attachment = egm_register_region(&pdev->dev, &desc);
	if (IS_ERR(egm->attachment)) {
		ret = PTR_ERR(egm->attachment);
		devres_free(egm);
		pci_err(pdev, "EGM PXM %u: not registered (%d), the GPU works without EGM\n",
			desc.pxm, ret);
		return ret == -ENOMEM ? ret : 0;
	}

	ret = nvgrace_gpu_egm_attach(egm);
	if (!ret)
		ret = device_create_file(&pdev->dev, &dev_attr_egm_size);
	if (ret) {
		pci_err(pdev, "EGM PXM %u: %s frontend failed (%d), the GPU works without EGM\n",
			desc.pxm, nvgrace_gpu_egm_frontends[egm->frontend], ret);
		egm_unregister_region(egm->attachment);
		devres_free(egm);
		return ret == -ENOMEM ? ret : 0;
	}
	devres_add(&pdev->dev, egm);
	/* Not fatal: the GPU works with the region as it is divided now. */
	if (egm_per_gpu)
		egm_set_layout(egm->attachment, EGM_LAYOUT_PER_PARENT);
	pci_info(pdev, "EGM PXM %u: %llu MiB, %s frontend%s\n", desc.pxm,
		 desc.size >> 20, nvgrace_gpu_egm_frontends[egm->frontend],
		 egm_per_gpu ? ", split per GPU" : "");
	return 0;
}

/**
 * nvgrace_gpu_egm_open_device() - the GPU's vfio device is being opened
 * @vdev: its core device, between vfio_pci_core_enable() and
 *	vfio_pci_core_finish_enable()
 *
 * The GPU opens whatever the state of its socket's EGM region: the open
 * neither waits for a scrub nor fails because another tenant holds the
 * region or it was revoked.  The region's capability says whether it is
 * available, and its first access takes it (see lib/egm/vfio.c).
 *
 * Return: 0, or -ENOMEM from egm_vfio_open_device() (the open fails).
 */
int nvgrace_gpu_egm_open_device(struct vfio_pci_core_device *vdev)
{
	struct nvgrace_gpu_egm *egm = nvgrace_gpu_egm_find(vdev->pdev);

	if (!egm || egm->frontend != NVGRACE_EGM_VFIO)
		return 0;
	return egm_vfio_open_device(egm->attachment, vdev);
}

/*
 * VFIO_DEVICE_RESET, a hot reset of the GPU's bus and any other function
 * reset pass through these: mappings of the region are zapped before the
 * reset and fault back in after it.
 */
static void nvgrace_gpu_egm_reset_prepare(struct pci_dev *pdev)
{
	struct nvgrace_gpu_egm *egm = nvgrace_gpu_egm_find(pdev);

	if (egm && !egm_reset_begin(egm->attachment))
		egm->in_reset = true;
}

static void nvgrace_gpu_egm_reset_done(struct pci_dev *pdev)
{
	struct nvgrace_gpu_egm *egm = nvgrace_gpu_egm_find(pdev);

	if (egm && egm->in_reset) {
		egm->in_reset = false;
		egm_reset_end(egm->attachment);
	}
}

const struct pci_error_handlers nvgrace_gpu_egm_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
	.reset_prepare = nvgrace_gpu_egm_reset_prepare,
	.reset_done = nvgrace_gpu_egm_reset_done,
};
