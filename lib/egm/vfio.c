// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core VFIO frontend: a partition of the region as a device-specific
 * region of a GPU's vfio-pci device, the design the VFIO maintainer asked
 * for in review of the auxiliary-device RFC.  The uAPI (subtype,
 * capability) is in <uapi/linux/egm.h>; offsets in it count from the
 * partition's start.
 *
 * Which partition: after a per-parent split (partition.c), each GPU
 * exposes the partition that is its own, and nothing else.  Otherwise the
 * whole-region partition, "the region" below, de-duplicated as follows.
 *
 * De-duplication: every GPU of a socket is a parent of the same region,
 * but only one vfio device exposes it.  The rule, applied when a device is
 * opened: the device that exposes the region now (it is open) keeps it;
 * when none does, the parent with the lowest PCI address (domain, bus,
 * devfn) among those that attached this frontend exposes it.  So a GPU
 * with a lower address bound while another GPU's open device exposes the
 * region opens without it (and logs which device has it); its next open
 * after that device is closed exposes it.
 *
 * Tenancy: opening a GPU's vfio device never waits for the region and
 * never fails because of its state: open_device runs under the device
 * set's lock.  The exposing device takes the region at open
 * (egm_partition_acquire(), which never waits for zeroing: chunks an earlier
 * tenant dirtied are zeroed by the background scrub or by the first access
 * that reaches them).  If another tenant still holds it, the device opens
 * without it, the region's capability says so (VFIO_EGM_CAP_BUSY, or
 * _REVOKED, in <uapi/linux/egm.h>), and the first mmap(), read() or write()
 * through the device takes it, or fails: -EBUSY while another tenant holds
 * it, -ENODEV once revoked.  Whatever the path, the region is handed out
 * only by egm_partition_acquire(), exclusive, and nothing of it is reachable
 * through the device before that.  The device lets go when the region is
 * released at close.
 *
 * When the exposing device goes away (it is closed first: vfio waits for
 * that before unbind completes) while other parents of the region remain,
 * the region stays registered.  Mappings made through the closed device
 * keep working until they are unmapped, since the memory belongs to the
 * socket, not to the GPU; the next exposer's device opens meanwhile,
 * reporting the region busy, and takes it at its first access once those
 * mappings are gone and the region has been scrubbed.
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
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vfio_pci_core.h>
#include <uapi/linux/egm.h>

#include "egm_frontends.h"
#include "egm_internal.h"

#define EGM_VFIO_REGION_TYPE \
	(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | PCI_VENDOR_ID_NVIDIA)
/*
 * read() and write() copy through the kernel's mapping of the region, so
 * a read may be the first to touch memory that went bad since it was last
 * used (latent poison, not yet in the region's bitmap).  Poison consumed
 * by a kernel load is fatal unless the load is one the architecture can
 * recover from: copy_mc_to_user() (CONFIG_ARCH_HAS_COPY_MC; x86_64, where
 * it is recoverable on CPUs with MCA recovery).  arm64 has no such copy in
 * 6.12: a kernel load of poison is a synchronous external abort in kernel
 * mode, which dies.  There the region offers mmap() only, where poison
 * reaches the user as SIGBUS, and read()/write() fail with EINVAL.
 */
#ifdef CONFIG_ARCH_HAS_COPY_MC
#define EGM_VFIO_REGION_FLAGS \
	(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | \
	 VFIO_REGION_INFO_FLAG_MMAP)
#else
#define EGM_VFIO_REGION_FLAGS	VFIO_REGION_INFO_FLAG_MMAP
#endif

/**
 * struct egm_vfio_exposure - a partition, exposed on one open vfio device
 * @part: the partition, with a reference of ours: the GPU's own after a
 *	per-parent split, else the whole-region partition
 * @attachment: the exposing parent's attachment (valid while its device is
 *	open: the parent unregisters only after vfio closed the device)
 * @node: entry in egm_vfio_exposures, changed under egm_registry_lock and
 *	egm_vfio_exposures_lock
 * @lock: serialises taking the region; guards the transition of @held
 *	from false to true
 * @held: the device holds the partition (egm_partition_acquire() succeeded);
 *	read without @lock with smp_load_acquire(), and cleared only at
 *	release, when nothing else can use the exposure
 */
struct egm_vfio_exposure {
	struct egm_partition *part;
	struct egm_attachment *attachment;
	struct list_head node;
	/* Serialises egm_partition_acquire(); guards @held going true. */
	struct mutex lock;
	bool held;
};

/*
 * Exposures of open vfio devices, at most one per partition: the exposer
 * rule looks here first.  Changed with both egm_registry_lock and
 * egm_vfio_exposures_lock held; read under either (the view, which must
 * not take egm_registry_lock, under the spinlock).
 */
static LIST_HEAD(egm_vfio_exposures);
/* Guards egm_vfio_exposures for the view's readers; see above. */
static DEFINE_SPINLOCK(egm_vfio_exposures_lock);

static struct egm_vfio_exposure *egm_vfio_exposure(struct vfio_pci_region *vreg)
{
	return vreg->data;
}

static struct egm_partition *egm_vfio_partition(struct vfio_pci_region *vreg)
{
	return egm_vfio_exposure(vreg)->part;
}

/* The device now holds the region: tell the lockless readers of @held. */
static void egm_vfio_set_held(struct egm_vfio_exposure *exp)
{
	lockdep_assert_held(&exp->lock);
	/* Pairs with their smp_load_acquire(): the acquire is complete. */
	smp_store_release(&exp->held, true);
}

/*
 * Take the region for the device, at its first access if the open could
 * not (another tenant held it then).
 *
 * Return: 0 when the device holds the region; -EBUSY while another tenant
 * holds it; -ENODEV once revoked; -EINTR on a fatal signal; -ENOMEM.
 */
static int egm_vfio_hold(struct vfio_pci_core_device *vdev,
			 struct egm_vfio_exposure *exp)
{
	int err = 0;

	/* Pairs with egm_vfio_set_held(). */
	if (smp_load_acquire(&exp->held))
		return 0;
	if (mutex_lock_killable(&exp->lock))
		return -EINTR;
	if (!exp->held) {
		err = egm_partition_acquire(exp->part);
		if (!err)
			egm_vfio_set_held(exp);
	}
	mutex_unlock(&exp->lock);

	if (err && err != -EINTR)
		pci_dbg(vdev->pdev, "EGM %s: not available: %s (%d)\n",
			exp->part->name,
			err == -EBUSY ? "another tenant holds it" :
			err == -ENODEV ? "revoked" : "cannot take it", err);
	return err;
}

/* What the capability says of the region's availability to the device. */
static u32 egm_vfio_cap_state(struct egm_vfio_exposure *exp)
{
	struct egm_partition *part = exp->part;

	if (!READ_ONCE(part->region->alive))
		return VFIO_EGM_CAP_REVOKED;
	/* Without @lock, which a first access holds while it waits. */
	if (smp_load_acquire(&exp->held))
		return 0;
	/* Nobody else holds it: the first access takes it, without waiting. */
	return egm_partition_state(part) == EGM_IN_USE ? VFIO_EGM_CAP_BUSY : 0;
}

#ifdef CONFIG_ARCH_HAS_COPY_MC
/*
 * Copy @len bytes of the region at @pos out to @buf, machine-check safe,
 * with _copy_mc_to_iter() (copy_mc_to_user() itself is not exported).  It
 * stops both at a fault on @buf and at poison in the region, and says only
 * how much it copied.  The word it stopped at is read again into the
 * kernel, machine-check safe too: if that fails, the memory is bad, and it
 * is retired through the path of a runtime report
 * (egm_registry_poison_pa(): bitmap, zap of every mapping); else it was
 * @buf.  Poison is consumed twice that way, both times recoverably; a page
 * the bitmap already holds is never read (the caller checks).
 *
 * Return: 0; -EFAULT when @buf faulted; -EIO when the region's memory is
 * bad.
 */
static int egm_vfio_copy_out(struct egm_region *region, char __user *buf,
			     const void *src, u64 pos, size_t len)
{
	struct iov_iter iter;
	size_t at;
	u64 probe;

	iov_iter_ubuf(&iter, ITER_DEST, buf, len);
	at = _copy_mc_to_iter(src, len, &iter);
	if (at == len)
		return 0;
	if (!copy_mc_to_kernel(&probe, src + at,
			       min_t(size_t, len - at, sizeof(probe))))
		return -EFAULT;
	egm_registry_poison_pa(region->base + pos + at);
	return -EIO;
}
#else
/* Not reached: without READ in the region's flags egm_vfio_rw() refuses. */
static int egm_vfio_copy_out(struct egm_region *region, char __user *buf,
			     const void *src, u64 pos, size_t len)
{
	return -EIO;
}
#endif

/*
 * Copy one piece that does not cross a page.  Like a fault, it checks the
 * region inside an egm_srcu read section and waits (killable) while a
 * parent is in reset: revoke and reset call synchronize_srcu() before they
 * zap, so no copy runs behind them.  The copy itself runs with page faults
 * disabled: the user buffer may be a mapping of this very region, whose
 * fault would wait for a reset that waits for this read section.  A
 * buffer that is not present is faulted in outside the section, and the
 * copy retried.
 *
 * A read copies with egm_vfio_copy_out(), safe against poison.  A write
 * keeps copy_from_user(): storing to poisoned memory does not consume the
 * poison (x86 signals a machine check on the load that uses the data,
 * not on a store; the line keeps its poison, or loses it when wholly
 * overwritten), and the load from @buf is user memory, which the kernel
 * already recovers in copy_from_user() (MCE_IN_KERNEL_COPYIN).
 */
static ssize_t egm_vfio_rw_page(struct egm_partition *part, void *kaddr,
				char __user *buf, u64 pos, size_t len,
				bool iswrite)
{
	struct egm_region *region = part->region;
	ssize_t ret;
	int idx, err;

	for (;;) {
		idx = srcu_read_lock(&egm_srcu);
		if (!READ_ONCE(region->alive)) {
			ret = -ENODEV;
			break;
		}
		if (!READ_ONCE(part->resets)) {
			if (egm_region_range_poisoned(region, pos >> PAGE_SHIFT, 1)) {
				ret = -EIO;
				break;
			}
			pagefault_disable();
			if (iswrite)
				err = copy_from_user(kaddr + pos, buf, len) ?
				      -EFAULT : 0;
			else
				err = egm_vfio_copy_out(region, buf, kaddr + pos,
							pos, len);
			pagefault_enable();
			if (err != -EFAULT) {
				ret = err ?: len;
				break;
			}
		}
		srcu_read_unlock(&egm_srcu, idx);

		if (READ_ONCE(part->resets)) {
			if (wait_event_killable(part->access_wq,
						!READ_ONCE(part->resets) ||
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
	struct egm_partition *part = egm_vfio_partition(&vdev->region[index]);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	size_t done = 0;
	void *kaddr;
	int err;

	/* No read()/write() where a read could not survive poison. */
	if (!(EGM_VFIO_REGION_FLAGS & VFIO_REGION_INFO_FLAG_READ))
		return -EINVAL;
	if (pos >= part->size)
		return -EINVAL;
	count = min_t(u64, count, part->size - pos);

	err = egm_vfio_hold(vdev, egm_vfio_exposure(&vdev->region[index]));
	if (err)
		return err;

	kaddr = egm_region_kaddr(part->region);
	if (!kaddr)
		return -ENOMEM;

	while (done < count) {
		size_t len = min_t(u64, count - done,
				   PAGE_SIZE - offset_in_page(pos + done));
		ssize_t ret;

		/* Nothing of an earlier tenant is read, or half-overwritten. */
		ret = egm_partition_clean_range(part, (pos + done) >> PAGE_SHIFT,
						1);
		if (!ret)
			ret = egm_vfio_rw_page(part, kaddr, buf + done,
					       part->offset + pos + done, len,
					       iswrite);
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
	int err;

	err = egm_vfio_hold(vdev, egm_vfio_exposure(vreg));
	if (err)
		return err;
	return egm_partition_mmap(egm_vfio_partition(vreg), vma,
				  index << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT));
}

/* Forget an exposure: the next open applies the exposer rule afresh. */
static void egm_vfio_unexpose(struct egm_vfio_exposure *exp)
{
	mutex_lock(&egm_registry_lock);
	spin_lock(&egm_vfio_exposures_lock);
	list_del(&exp->node);
	spin_unlock(&egm_vfio_exposures_lock);
	mutex_unlock(&egm_registry_lock);

	if (exp->held)
		egm_partition_release(exp->part);
	egm_partition_put(exp->part);
	mutex_destroy(&exp->lock);
	kfree(exp);
}

/*
 * The device is closed: the tenancy ends once its mappings are gone, and
 * another device may expose the region.
 */
static void egm_vfio_release(struct vfio_pci_core_device *vdev,
			     struct vfio_pci_region *vreg)
{
	struct egm_vfio_exposure *exp = egm_vfio_exposure(vreg);

	pci_dbg(vdev->pdev, "EGM %s: released%s\n", exp->part->name,
		exp->held ? "" : " (never taken)");
	egm_vfio_unexpose(exp);
}

/*
 * Entries of the retired list the capability has room for: as many as keep
 * the whole capability chain (@chain bytes before ours) within one page,
 * because vfio_info_cap_add() krealloc()s the chain in one piece.  A
 * larger list would ask for a high-order allocation at every
 * VFIO_DEVICE_GET_REGION_INFO; what does not fit is counted, not listed.
 */
static u32 egm_vfio_cap_room(size_t chain, unsigned long nr_poisoned)
{
	size_t fixed = chain + sizeof(struct vfio_region_info_cap_nvidia_egm);
	size_t fit = fixed < PAGE_SIZE ? (PAGE_SIZE - fixed) / sizeof(u64) : 0;

	return min_t(unsigned long, nr_poisoned, fit);
}

/*
 * The capability is built in place, in the chain's buffer: nothing is
 * allocated here that could fail after the vfio core allocated the chain
 * (on an error from add_capability, vfio_pci_ioctl_get_region_info()
 * returns without freeing it).  vfio_info_cap_add() frees the chain itself
 * when it cannot grow it.
 */
static int egm_vfio_add_capability(struct vfio_pci_core_device *vdev,
				   struct vfio_pci_region *vreg,
				   struct vfio_info_cap *caps)
{
	struct egm_partition *part = egm_vfio_partition(vreg);
	struct egm_region *region = part->region;
	struct vfio_region_info_cap_nvidia_egm *cap;
	struct vfio_info_cap_header *header;
	u32 total, room;

	room = egm_vfio_cap_room(caps->size, egm_partition_nr_poisoned(part));
	header = vfio_info_cap_add(caps, struct_size(cap, retired, room),
				   VFIO_REGION_INFO_CAP_NVIDIA_EGM, 1);
	if (IS_ERR(header))
		return PTR_ERR(header);
	cap = container_of(header, struct vfio_region_info_cap_nvidia_egm,
			   header);

	cap->pxm = region->pxm;
	cap->granularity = egm_region_poison_granularity(region);
	cap->flags = egm_vfio_cap_state(egm_vfio_exposure(vreg));
	/*
	 * Pages poisoned since the count was read are counted, not listed;
	 * bits are never cleared, so the list fills @room.
	 */
	cap->nr_listed = egm_partition_poison_list(part, cap->retired, room,
						   &total);
	cap->nr_retired = total;
	if (cap->nr_listed < total)
		cap->flags |= VFIO_EGM_CAP_RETIRED_TRUNCATED;
	return 0;
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

/* The exposure of the open vfio device that exposes @part, or NULL. */
static struct egm_vfio_exposure *egm_vfio_exposure_of(struct egm_partition *part)
{
	struct egm_vfio_exposure *exp;

	lockdep_assert_held(&egm_registry_lock);

	list_for_each_entry(exp, &egm_vfio_exposures, node)
		if (exp->part == part)
			return exp;
	return NULL;
}

/* The lowest BDF among the region's VFIO parents. */
static struct egm_attachment *egm_vfio_lowest(struct egm_region *region)
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
		WRITE_ONCE(attachment->vfio, true);	/* the view reads it */
	mutex_unlock(&egm_registry_lock);
	return err;
}
EXPORT_SYMBOL_NS_GPL(egm_attach_vfio, EGM_CORE_NS);

/*
 * Which partition @attachment's device exposes.  A GPU with a partition of
 * its own (per-parent split) exposes that one.  Else the whole-region
 * partition, by the exposer rule: the parent whose open device exposes it
 * keeps it; when there is none, the lowest BDF exposes it.  If @attachment
 * is the one, record @exp as the partition's exposure and return true.
 * Else copy the exposer's name into @by ("" when the region has no
 * partition for this GPU), and set *@held_open when @attachment comes
 * before the exposer but the exposer's device is open (so the rule kept
 * the partition there).
 */
static bool egm_vfio_claim(struct egm_attachment *attachment,
			   struct egm_vfio_exposure *exp, char *by,
			   size_t by_size, bool *held_open)
{
	struct egm_region *region = attachment->region;
	struct egm_vfio_exposure *cur = NULL;
	struct egm_attachment *exposer = NULL;
	struct egm_partition *part;

	lockdep_assert_held(&egm_registry_lock);

	mutex_lock(&region->partition_lock);
	part = attachment->partition;
	if (part) {
		egm_partition_get(part);
		exposer = attachment;
	} else {
		part = xa_load(&region->partitions, EGM_PARTITION_WHOLE);
		if (part)
			egm_partition_get(part);
	}
	mutex_unlock(&region->partition_lock);
	if (!part) {
		by[0] = '\0';
		return false;
	}
	if (part != attachment->partition) {
		cur = egm_vfio_exposure_of(part);
		exposer = cur ? cur->attachment : egm_vfio_lowest(region);
	}
	if (exposer != attachment) {
		/* The name is copied: the exposer may go once the lock is dropped. */
		strscpy(by, dev_name(exposer->parent), by_size);
		*held_open = cur &&
			     egm_pci_before(to_pci_dev(attachment->parent),
					    to_pci_dev(exposer->parent));
		egm_partition_put(part);
		return false;
	}
	exp->part = part;
	exp->attachment = attachment;
	mutex_init(&exp->lock);
	spin_lock(&egm_vfio_exposures_lock);
	list_add(&exp->node, &egm_vfio_exposures);
	spin_unlock(&egm_vfio_exposures_lock);
	return true;
}

/*
 * Take the region at open; it never waits.  A busy or revoked region stays
 * so; the device opens all the same and its first access tries again.
 */
static void egm_vfio_try_hold(struct vfio_pci_core_device *vdev,
			      struct egm_vfio_exposure *exp)
{
	struct egm_partition *part = exp->part;
	int err;

	mutex_lock(&exp->lock);
	err = egm_partition_acquire(part);
	if (!err)
		egm_vfio_set_held(exp);
	mutex_unlock(&exp->lock);

	if (!err)
		pci_dbg(vdev->pdev, "EGM %s: exposed as region %u, taken at open\n",
			part->name, VFIO_PCI_NUM_REGIONS + vdev->num_regions - 1);
	else
		pci_info(vdev->pdev, "EGM %s: exposed as region %u but not available: %s (%d)\n",
			 part->name, VFIO_PCI_NUM_REGIONS + vdev->num_regions - 1,
			 err == -EBUSY ? "another tenant still holds it" :
			 err == -ENODEV ? "revoked" : "cannot take it", err);
}

/**
 * egm_vfio_open_device() - add the region to a vfio device being opened
 * @attachment: the parent's attachment, after egm_attach_vfio()
 * @vdev: the parent's vfio-pci core device
 *
 * Call from the variant driver's open_device, between
 * vfio_pci_core_enable() and vfio_pci_core_finish_enable().  If the parent
 * is the one to expose the region (the parent whose open device exposes
 * it now, else the lowest-BDF VFIO parent), the region is registered as a
 * device-specific region of type %VFIO_REGION_TYPE_PCI_VENDOR_TYPE |
 * %PCI_VENDOR_ID_NVIDIA, subtype %VFIO_REGION_SUBTYPE_NVIDIA_EGM;
 * vfio_pci_core_disable() releases it at close.  Other parents get nothing
 * and 0.
 *
 * Never waits for the region and never fails because of its state: the
 * device takes the region here when no other tenant holds it, else at its
 * first mmap(), read() or write() of it, and the region's capability
 * reports whether it is available (busy, revoked).
 *
 * Context: process context, under the vfio device set's lock; takes
 * egm_registry_lock, never waits for zeroing.
 * Return: 0; -EINVAL when egm_attach_vfio() was not called; -ENOMEM.
 */
int egm_vfio_open_device(struct egm_attachment *attachment,
			 struct vfio_pci_core_device *vdev)
{
	struct egm_region *region = attachment->region;
	struct egm_vfio_exposure *exp;
	bool mine, held_open = false;
	char by[32];
	int err;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		return -ENOMEM;

	mutex_lock(&egm_registry_lock);
	if (!attachment->vfio) {
		mutex_unlock(&egm_registry_lock);
		kfree(exp);
		return -EINVAL;
	}
	mine = egm_vfio_claim(attachment, exp, by, sizeof(by), &held_open);
	mutex_unlock(&egm_registry_lock);

	if (!mine) {
		kfree(exp);
		if (!by[0])
			pci_dbg(vdev->pdev, "EGM PXM %u: split, and no partition is this GPU's\n",
				region->pxm);
		else if (held_open)
			pci_info(vdev->pdev, "EGM PXM %u: exposed by %s, whose vfio device is open; exposed here at an open after it is closed\n",
				 region->pxm, by);
		else
			pci_dbg(vdev->pdev, "EGM PXM %u: exposed by %s, not here\n",
				region->pxm, by);
		return 0;
	}

	err = vfio_pci_core_register_dev_region(vdev, EGM_VFIO_REGION_TYPE,
						VFIO_REGION_SUBTYPE_NVIDIA_EGM,
						&egm_vfio_regops, exp->part->size,
						EGM_VFIO_REGION_FLAGS, exp);
	if (err) {
		egm_vfio_unexpose(exp);
		return err;
	}
	egm_vfio_try_hold(vdev, exp);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(egm_vfio_open_device, EGM_CORE_NS);

/*
 * "vfio <BDF>": the GPU whose vfio device has the region, or would have it
 * at its next open (the exposer rule: an open exposer keeps it, else the
 * lowest PCI address among the region's VFIO parents).
 */
static int egm_vfio_show(struct egm_region *region, char *buf, int len)
{
	struct egm_attachment *att, *by = NULL;
	struct egm_vfio_exposure *exp;

	lockdep_assert_held(&region->view_lock);

	spin_lock(&egm_vfio_exposures_lock);
	list_for_each_entry(exp, &egm_vfio_exposures, node) {
		if (exp->part->region == region) {
			/* Its attachment outlives the exposure. */
			len += sysfs_emit_at(buf, len, "vfio %s\n",
					     pci_name(to_pci_dev(exp->attachment->parent)));
			by = exp->attachment;
		}
	}
	spin_unlock(&egm_vfio_exposures_lock);
	if (by)
		return len;

	/* region->attachments: guarded for the view by view_lock. */
	list_for_each_entry(att, &region->attachments, node) {
		if (!READ_ONCE(att->vfio))
			continue;
		if (!by || egm_pci_before(to_pci_dev(att->parent),
					  to_pci_dev(by->parent)))
			by = att;
	}
	if (by)
		len += sysfs_emit_at(buf, len, "vfio %s\n",
				     pci_name(to_pci_dev(by->parent)));
	return len;
}

static const struct egm_frontend egm_vfio_frontend = {
	.name = "vfio",
	.show = egm_vfio_show,
};

int egm_vfio_init(void)
{
	return egm_frontend_register(&egm_vfio_frontend);
}

void egm_vfio_exit(void)
{
	egm_frontend_unregister(&egm_vfio_frontend);
}
