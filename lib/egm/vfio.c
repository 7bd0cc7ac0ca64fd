// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core VFIO frontend: the region as a device-specific region of a GPU's
 * vfio-pci device, the design the VFIO maintainer asked for in review of
 * the auxiliary-device RFC.  The uAPI (subtype, capability) is in
 * <uapi/linux/egm.h>.
 *
 * De-duplication: every GPU of a socket is a parent of the same region,
 * but only one vfio device exposes it: the parent with the lowest PCI
 * address (domain, bus, devfn) among those that attached this frontend,
 * decided when a device is opened.  The exposing device acquires the
 * region (exclusive, scrubbed, egm_region_acquire()) in its open_device
 * and releases it when the region is released at close.
 *
 * When the exposing device goes away (it is closed first: vfio waits for
 * that before unbind completes) while other parents of the region remain,
 * the region stays registered.  Mappings made through the closed device
 * keep working until they are unmapped, since the memory belongs to the
 * socket, not to the GPU; then the region is scrubbed, and the next open of
 * the now lowest-BDF parent exposes it.  A device opened while the region
 * is still held (by such mappings, or by the chardev frontend of another
 * parent) fails to open with -EBUSY rather than come up without its EGM.
 *
 * Reset: a parent reports its GPU's resets with egm_reset_begin() and
 * egm_reset_end() (from its PCI reset_prepare/reset_done handlers, which
 * cover VFIO_DEVICE_RESET, hot reset and any other function reset); every
 * mapping of the region is zapped and faults back in afterwards, as
 * vfio_pci_zap_bars() does for BARs.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>
#include <uapi/linux/egm.h>

#include "egm_internal.h"

#define EGM_VFIO_REGION_TYPE \
	(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_NVIDIA)
#define EGM_VFIO_REGION_FLAGS \
	(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | \
	 VFIO_REGION_INFO_FLAG_MMAP)

static struct egm_region *egm_vfio_region(struct vfio_pci_region *vreg)
{
	return vreg->data;
}

/*
 * Copy one piece that does not cross a page.  Like a fault, it checks the
 * region inside an egm_srcu read section and waits (killable) while a
 * parent is in reset: revoke and reset call synchronize_srcu() before they
 * zap, so no copy runs behind them.  The copy itself runs with page faults
 * disabled: the user buffer may be a mapping of this very region, whose
 * fault would wait for a reset that waits for this read section.  A
 * buffer that is not present is faulted in outside the section, and the
 * copy retried.
 */
static ssize_t egm_vfio_rw_page(struct egm_region *region, void *kaddr,
				char __user *buf, u64 pos, size_t len,
				bool iswrite)
{
	unsigned long left;
	ssize_t ret;
	int idx;

	for (;;) {
		idx = srcu_read_lock(&egm_srcu);
		if (!READ_ONCE(region->alive)) {
			ret = -ENODEV;
			break;
		}
		if (!READ_ONCE(region->resets)) {
			if (egm_region_range_poisoned(region, pos >> PAGE_SHIFT, 1)) {
				ret = -EIO;
				break;
			}
			pagefault_disable();
			if (iswrite)
				left = copy_from_user(kaddr + pos, buf, len);
			else
				left = copy_to_user(buf, kaddr + pos, len);
			pagefault_enable();
			if (!left) {
				ret = len;
				break;
			}
		}
		srcu_read_unlock(&egm_srcu, idx);

		if (READ_ONCE(region->resets)) {
			if (wait_event_killable(region->access_wq,
						!READ_ONCE(region->resets) ||
						!READ_ONCE(region->alive)))
				return -EINTR;
		} else if (iswrite ? fault_in_readable(buf, len) :
			   fault_in_writeable(buf, len)) {
			return -EFAULT;
		}
	}
	srcu_read_unlock(&egm_srcu, idx);
	return ret;
}

/*
 * read()/write() at an offset of the region, through the kernel's
 * write-back mapping that the scrub made.  Returns what was copied before
 * an error, else the error: -EINVAL past the end, -EIO on a retired page,
 * -ENODEV once revoked, -EFAULT.
 */
static ssize_t egm_vfio_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite)
{
	unsigned int index = VFIO_PCI_OFFSET_TO_INDEX(*ppos) - VFIO_PCI_NUM_REGIONS;
	struct egm_region *region = egm_vfio_region(&vdev->region[index]);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t done = 0;
	void *kaddr;

	if (pos >= region->size)
		return -EINVAL;
	count = min_t(u64, count, region->size - pos);

	mutex_lock(&region->state_lock);
	kaddr = egm_region_kaddr_locked(region);
	mutex_unlock(&region->state_lock);
	if (!kaddr)
		return -ENOMEM;

	while (done < count) {
		size_t len = min_t(u64, count - done,
				   PAGE_SIZE - offset_in_page(pos + done));
		ssize_t ret;

		ret = egm_vfio_rw_page(region, kaddr, buf + done, pos + done,
				       len, iswrite);
		if (ret < 0)
			return done ? done : ret;
		done += ret;
		cond_resched();
	}
	*ppos += done;
	return done;
}

static int egm_vfio_mmap(struct vfio_pci_core_device *vdev,
			 struct vfio_pci_region *vreg,
			 struct vm_area_struct *vma)
{
	unsigned long index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);

	return egm_region_mmap(egm_vfio_region(vreg), vma,
			       index << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT));
}

/* The device is closed: the region goes back to be scrubbed. */
static void egm_vfio_release(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_region *vreg)
{
	struct egm_region *region = egm_vfio_region(vreg);

	pci_dbg(vdev->pdev, "EGM PXM %u: region released\n", region->pxm);
	egm_region_release(region);
}

static int egm_vfio_add_capability(struct vfio_pci_core_device *vdev,
				   struct vfio_pci_region *vreg,
				   struct vfio_info_cap *caps)
{
	struct egm_region *region = egm_vfio_region(vreg);
	struct vfio_region_info_cap_nvidia_egm *cap;
	u32 total, room;
	size_t size;
	int ret;

	room = min_t(unsigned long, atomic_long_read(&region->nr_poisoned),
		     VFIO_EGM_CAP_RETIRED_MAX);
	size = struct_size(cap, retired, room);
	cap = kvzalloc(size, GFP_KERNEL);
	if (!cap)
		return -ENOMEM;

	cap->header.id = VFIO_REGION_INFO_CAP_NVIDIA_EGM;
	cap->header.version = 1;
	cap->pxm = region->pxm;
	cap->granularity = egm_region_poison_granularity(region);
	/* Pages poisoned since the count was read are counted, not listed. */
	cap->nr_listed = egm_region_poison_list(region, cap->retired, room,
						&total);
	cap->nr_retired = total;
	if (cap->nr_listed < total)
		cap->flags |= VFIO_EGM_CAP_RETIRED_TRUNCATED;

	ret = vfio_info_add_capability(caps, &cap->header,
				       struct_size(cap, retired, cap->nr_listed));
	kvfree(cap);
	return ret;
}

static const struct vfio_pci_regops egm_vfio_regops = {
	.rw = egm_vfio_rw,
	.mmap = egm_vfio_mmap,
	.release = egm_vfio_release,
	.add_capability = egm_vfio_add_capability,
};

/* Orders PCI devices by domain, bus and devfn: their BDF. */
static bool egm_pci_before(struct pci_dev *a, struct pci_dev *b)
{
	if (pci_domain_nr(a->bus) != pci_domain_nr(b->bus))
		return pci_domain_nr(a->bus) < pci_domain_nr(b->bus);
	if (a->bus->number != b->bus->number)
		return a->bus->number < b->bus->number;
	return a->devfn < b->devfn;
}

/* The parent that exposes the region: the lowest BDF among VFIO parents. */
static struct egm_attachment *egm_vfio_exposer(struct egm_region *region)
{
	struct egm_attachment *att, *lowest = NULL;

	lockdep_assert_held(&egm_registry_lock);

	list_for_each_entry(att, &region->attachments, node) {
		if (!att->vfio)
			continue;
		if (!lowest || egm_pci_before(to_pci_dev(att->parent),
					      to_pci_dev(lowest->parent)))
			lowest = att;
	}
	return lowest;
}

/**
 * egm_attach_vfio() - let a parent's vfio device expose its region
 * @attachment: the attachment of a PCI parent
 *
 * Marks the parent as a candidate for exposing the region as a VFIO
 * device-specific region; egm_vfio_open_device() then decides, at each
 * open, whether this parent is the one (the lowest BDF among candidates).
 *
 * Context: process context; takes egm_registry_lock.
 * Return: 0; -EINVAL when the parent is not a PCI device; -EEXIST when it
 * attached already.
 */
int egm_attach_vfio(struct egm_attachment *attachment)
{
	int err = 0;

	if (!dev_is_pci(attachment->parent)) {
		dev_err(attachment->parent,
			"EGM PXM %u: the VFIO frontend needs a PCI parent\n",
			attachment->region->pxm);
		return -EINVAL;
	}

	mutex_lock(&egm_registry_lock);
	if (attachment->vfio)
		err = -EEXIST;
	else
		attachment->vfio = true;
	mutex_unlock(&egm_registry_lock);
	return err;
}
EXPORT_SYMBOL_NS_GPL(egm_attach_vfio, EGM_CORE_NS);

/**
 * egm_vfio_open_device() - add the region to a vfio device being opened
 * @attachment: the parent's attachment, after egm_attach_vfio()
 * @vdev: the parent's vfio-pci core device
 *
 * Call from the variant driver's open_device, between
 * vfio_pci_core_enable() and vfio_pci_core_finish_enable().  If the parent
 * is the region's lowest-BDF VFIO parent, the region is acquired (waiting
 * for a scrub if one is due) and registered as a device-specific region of
 * type %VFIO_REGION_TYPE_PCI_VENDOR_TYPE | %PCI_VENDOR_ID_NVIDIA, subtype
 * %VFIO_REGION_SUBTYPE_NVIDIA_EGM; vfio_pci_core_disable() releases it at
 * close.  Other parents get nothing and 0.
 *
 * Context: process context; may sleep for a scrub.
 * Return: 0; -EINVAL when egm_attach_vfio() was not called; -EBUSY when the
 * region is still held (mapped after an earlier close, or open through
 * another frontend); -ENODEV when revoked; -EINTR on a fatal signal while
 * waiting for the scrub; -ENOMEM.
 */
int egm_vfio_open_device(struct egm_attachment *attachment,
			 struct vfio_pci_core_device *vdev)
{
	struct egm_region *region = attachment->region;
	struct egm_attachment *exposer;
	int err;

	mutex_lock(&egm_registry_lock);
	if (!attachment->vfio) {
		mutex_unlock(&egm_registry_lock);
		return -EINVAL;
	}
	exposer = egm_vfio_exposer(region);
	mutex_unlock(&egm_registry_lock);

	if (exposer != attachment) {
		pci_dbg(vdev->pdev, "EGM PXM %u: exposed by %s, not here\n",
			region->pxm, dev_name(exposer->parent));
		return 0;
	}

	err = egm_region_acquire(region, false);
	if (err) {
		pci_err(vdev->pdev, "EGM PXM %u: cannot expose the region: %s (%d)\n",
			region->pxm,
			err == -EBUSY ? "still in use by an earlier user" :
			err == -ENODEV ? "revoked" : "not ready", err);
		return err;
	}

	err = vfio_pci_core_register_dev_region(vdev, EGM_VFIO_REGION_TYPE,
						VFIO_REGION_SUBTYPE_NVIDIA_EGM,
						&egm_vfio_regops, region->size,
						EGM_VFIO_REGION_FLAGS, region);
	if (err) {
		egm_region_release(region);
		return err;
	}
	pci_dbg(vdev->pdev, "EGM PXM %u: exposed as region %u\n", region->pxm,
		VFIO_PCI_NUM_REGIONS + vdev->num_regions - 1);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(egm_vfio_open_device, EGM_CORE_NS);
