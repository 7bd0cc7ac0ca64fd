// SPDX-License-Identifier: GPL-2.0
/*
 * egm_parent_vfio: the sample parent as a vfio-pci variant driver, the way
 * an out-of-tree GPU driver (a vGPU manager, say) would expose its socket's
 * EGM region through egm-core's VFIO frontend.
 *
 * It has no ID table: bind any PCI device to it with driver_override,
 *
 *   echo egm_parent_vfio > /sys/bus/pci/devices/0000:01:00.0/driver_override
 *   echo 0000:01:00.0 > /sys/bus/pci/drivers_probe
 *
 * and the device joins the region of instance vfio_instance (base[],
 * size[], pxm[] of platform.c).  Otherwise it is plain vfio-pci: the
 * region is added in open_device, which never waits for it (the region is
 * taken at its first access when it was not ready at open), and the
 * device's resets zap its mappings through the PCI reset_prepare/reset_done
 * handlers.  Each bound device shows the region's size in its egm_size
 * attribute.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>

#include "egm_parent.h"

static unsigned int vfio_instance;
module_param(vfio_instance, uint, 0444);
MODULE_PARM_DESC(vfio_instance,
		 "instance whose region PCI devices bound to egm_parent_vfio join (default 0)");

/**
 * struct egm_parent_vfio - one PCI device bound to egm_parent_vfio
 * @core: the vfio-pci core device
 * @att: its attachment to the region
 * @size: the region's size, for egm_size
 * @in_reset: between reset_prepare and reset_done (the PCI core calls
 *	both with the device locked)
 */
struct egm_parent_vfio {
	struct vfio_pci_core_device core;
	struct egm_attachment *att;
	u64 size;
	bool in_reset;
};

static struct egm_parent_vfio *egm_parent_vfio_of(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	return container_of(core, struct egm_parent_vfio, core);
}

static ssize_t egm_size_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%llu\n",
			  egm_parent_vfio_of(to_pci_dev(dev))->size);
}
static DEVICE_ATTR_RO(egm_size);

static int egm_parent_vfio_open_device(struct vfio_device *core_vdev)
{
	struct egm_parent_vfio *p = container_of(core_vdev, struct egm_parent_vfio,
						 core.vdev);
	int ret;

	ret = vfio_pci_core_enable(&p->core);
	if (ret)
		return ret;

	/* Fails only for want of memory: the region's state never fails it. */
	ret = egm_vfio_open_device(p->att, &p->core);
	if (ret) {
		vfio_pci_core_disable(&p->core);
		return ret;
	}

	vfio_pci_core_finish_enable(&p->core);
	return 0;
}

static const struct vfio_device_ops egm_parent_vfio_ops = {
	.name		= "egm-parent-vfio-pci",
	.init		= vfio_pci_core_init_dev,
	.release	= vfio_pci_core_release_dev,
	.open_device	= egm_parent_vfio_open_device,
	.close_device	= vfio_pci_core_close_device,
	.ioctl		= vfio_pci_core_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
};

static int egm_parent_vfio_probe(struct pci_dev *pdev,
				 const struct pci_device_id *id)
{
	struct egm_region_desc desc = {};
	struct egm_parent_vfio *p;
	int ret;

	ret = egm_parent_instance_desc(vfio_instance, &desc);
	if (ret) {
		pci_err(pdev, "no instance %u to take the region from\n",
			vfio_instance);
		return ret;
	}

	p = vfio_alloc_device(egm_parent_vfio, core.vdev, &pdev->dev,
			      &egm_parent_vfio_ops);
	if (IS_ERR(p))
		return PTR_ERR(p);
	p->size = desc.size;

	p->att = egm_register_region(&pdev->dev, &desc);
	if (IS_ERR(p->att)) {
		ret = PTR_ERR(p->att);
		goto err_put;
	}
	ret = egm_attach_vfio(p->att);
	if (ret)
		goto err_unregister;

	dev_set_drvdata(&pdev->dev, &p->core);
	ret = device_create_file(&pdev->dev, &dev_attr_egm_size);
	if (ret)
		goto err_unregister;
	ret = vfio_pci_core_register_device(&p->core);
	if (ret)
		goto err_remove_file;
	return 0;

err_remove_file:
	device_remove_file(&pdev->dev, &dev_attr_egm_size);
err_unregister:
	egm_unregister_region(p->att);
err_put:
	vfio_put_device(&p->core.vdev);
	return ret;
}

static void egm_parent_vfio_remove(struct pci_dev *pdev)
{
	struct egm_parent_vfio *p = egm_parent_vfio_of(pdev);

	/* Waits for the device to be closed: the region is released by then. */
	vfio_pci_core_unregister_device(&p->core);
	device_remove_file(&pdev->dev, &dev_attr_egm_size);
	egm_unregister_region(p->att);
	vfio_put_device(&p->core.vdev);
}

static void egm_parent_vfio_reset_prepare(struct pci_dev *pdev)
{
	struct egm_parent_vfio *p = egm_parent_vfio_of(pdev);

	if (!egm_reset_begin(p->att))
		p->in_reset = true;
}

static void egm_parent_vfio_reset_done(struct pci_dev *pdev)
{
	struct egm_parent_vfio *p = egm_parent_vfio_of(pdev);

	if (p->in_reset) {
		p->in_reset = false;
		egm_reset_end(p->att);
	}
}

static const struct pci_error_handlers egm_parent_vfio_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
	.reset_prepare = egm_parent_vfio_reset_prepare,
	.reset_done = egm_parent_vfio_reset_done,
};

/* Empty: devices are bound with driver_override only. */
static const struct pci_device_id egm_parent_vfio_ids[] = {
	{}
};

static struct pci_driver egm_parent_vfio_driver = {
	.name = "egm_parent_vfio",
	.id_table = egm_parent_vfio_ids,
	.probe = egm_parent_vfio_probe,
	.remove = egm_parent_vfio_remove,
	.err_handler = &egm_parent_vfio_err_handlers,
	.driver_managed_dma = true,
};

int egm_parent_vfio_init(void)
{
	return pci_register_driver(&egm_parent_vfio_driver);
}

void egm_parent_vfio_exit(void)
{
	pci_unregister_driver(&egm_parent_vfio_driver);
}
