/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core internals shared by the files of lib/egm/ (registry, mapping
 * engine, poison, scrub and the frontends).  Nothing outside lib/egm/
 * includes this file: parents use <linux/egm_core.h>.
 */
#ifndef _EGM_INTERNAL_H
#define _EGM_INTERNAL_H

#include <linux/egm_core.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "egm_compat.h"

struct dentry;
struct device;
struct egm_view;
struct file;
struct inode;
struct resource;
struct seq_file;
struct vm_fault;

/*
 * egm_registry_lock guards egm_regions (the PXM -> region xarray), every
 * region's attachment list and attachment count, and the decision to create
 * or retire a region.  Defined in registry.c.
 */
extern struct mutex egm_registry_lock;

/*
 * egm_srcu: a fault holds a read section from the moment it checks that a
 * region may be mapped (alive, not in reset, page not poisoned) until its
 * PFN is in the page table.  Whoever changes one of those conditions calls
 * synchronize_srcu() before zapping, so no fault can re-insert what the zap
 * removed.  Defined in access.c.
 */
extern struct srcu_struct egm_srcu;

/*
 * egm_wq: egm-core's own work (background scrub coordinators, deferred
 * frees and puts), drained when the module goes.  Defined in main.c.
 */
extern struct workqueue_struct *egm_wq;

/* Newly poisoned pages remembered one by one before zapping them all. */
#define EGM_ZAP_PENDING_MAX	16

/*
 * The unit of zeroing: the scrub hands out chunks of this size to its
 * workers, and a region remembers, chunk by chunk, which may still hold an
 * earlier tenant's data (egm_region::dirty).
 */
#define EGM_CHUNK_SIZE		SZ_2M
#define EGM_CHUNK_PAGES		(EGM_CHUNK_SIZE >> PAGE_SHIFT)

/* Leaf sizes a fault can install, for the statistics. */
enum egm_leaf {
	EGM_LEAF_PTE,
	EGM_LEAF_PMD,
	EGM_LEAF_PUD,
	EGM_LEAF_NR,
};

/**
 * enum egm_state - what a region's memory holds, and who may have it
 * @EGM_DIRTY: nobody holds it; some chunks may hold a previous tenant's
 *	data, and no scrub runs
 * @EGM_SCRUBBING: nobody holds it; the background scrub zeroes its dirty
 *	chunks
 * @EGM_CLEAN: nobody holds it; every chunk is zeroed
 * @EGM_IN_USE: handed out; the tenant's file is held: by the acquirer, by
 *	mappings, or by an IOMMU mapping (VFIO type1) of the memory.  Chunks
 *	may still be dirty: the background scrub goes on, and every access
 *	zeroes the chunks it reaches first (egm_region_clean_range())
 *
 * Transitions: DIRTY -> SCRUBBING -> CLEAN, SCRUBBING -> DIRTY when a scrub
 * is stopped or fails, any of those three -> IN_USE (acquire never waits),
 * IN_USE -> DIRTY when the tenancy ends.  They happen under
 * egm_region::state_lock, in scrub.c.
 */
enum egm_state {
	EGM_DIRTY,
	EGM_SCRUBBING,
	EGM_CLEAN,
	EGM_IN_USE,
};

/**
 * struct egm_region - one EGM region, shared by every parent of its PXM
 * @base: first physical address (immutable)
 * @size: length in bytes (immutable)
 * @nr_pages: @size in PAGE_SIZE pages (immutable)
 * @pxm: ACPI proximity domain (immutable)
 * @nid: NUMA node of @pxm, or NUMA_NO_NODE (immutable)
 * @res: the claim on [@base, @base + @size) in iomem_resource; released
 *	when @ref drops to zero
 * @name: resource name shown in /proc/iomem, "egm-pxm<N>"
 * @ref: lifetime of this structure, its claim and its backing objects.
 *	The registry holds one reference while the region has attachments;
 *	lookups, open files, mappings and queued work hold their own.
 * @free_rwork: frees the structure after an RCU grace period, for the
 *	lockless poison lookup of the GHES notifier
 * @put_work: drops a reference from a context that must not take
 *	egm_registry_lock (see egm_region_put_async())
 * @attachments: list of struct egm_attachment, changed under egm_registry_lock
 *	and @view_lock; read under either
 * @nr_attachments: length of @attachments, guarded by egm_registry_lock;
 *	the region is in the registry exactly while this is non-zero
 * @inode: anonymous inode; its i_mapping is the one address_space every
 *	mapping of the region lives in, so one unmap_mapping_range() zaps all
 * @file: the region's own pseudo file on @inode; it pins the inode, the
 *	pseudo mount and the module for the region's lifetime
 * @access_lock: serialises revoke and reset transitions; guards @resets
 *	and the attachments' in_reset flags, and writes of @alive
 * @alive: false once revoked; faults read it under egm_srcu
 * @resets: number of parents inside a reset; faults read it under egm_srcu
 * @access_wq: faults waiting for the last reset to end
 * @poison: one bit per PAGE_SIZE page, set atomically (any context), never
 *	cleared; freed with the region
 * @nr_poisoned: number of bits set in @poison
 * @poison_lock: guards @zap_pending, @nr_zap_pending and @zap_all; taken
 *	with interrupts off (the GHES notifier runs in atomic context)
 * @zap_pending: pages newly poisoned and not yet zapped
 * @nr_zap_pending: entries used in @zap_pending
 * @zap_all: @zap_pending overflowed (or a table was loaded): zap every
 *	poisoned page
 * @poison_work: zaps newly poisoned pages out of every mapping
 * @sink: the page that remote (DMA-mapping) faults on retired pages map
 *	instead of them, reserved; zeroed between tenants (sink.c)
 * @sink_faults: remote faults that mapped @sink
 * @sink_writes: tenancies after which @sink was found written
 * @sink_told: the current tenancy's first sink fault has been logged
 * @state_lock: guards @state, @tenancy, @acquirer_holds, @kaddr and
 *	@scrub_error
 * @state: see enum egm_state
 * @tenancy: the current tenant's file (the vm_file of its mappings), from
 *	acquire until its release ends the tenancy; a reference of its own
 *	only while @acquirer_holds
 * @acquirer_holds: the acquirer has not released the region yet
 * @kaddr: write-back kernel mapping of the whole region, made by the first
 *	scrub and kept until the region is freed
 * @state_wq: revoke waiting for @scrub_runs to drop to zero
 * @scrub_work: background scrub, queued when the last user leaves
 * @scrub_cancel: set by revoke; every scrub of the region stops
 * @scrub_runs: scrubs in progress (background, or the chunks an access
 *	zeroes first); revoke waits on @state_wq until it is zero
 * @nr_chunks: @size in EGM_CHUNK_SIZE chunks, the last one maybe partial
 *	(immutable)
 * @dirty: one bit per chunk: it may hold data of an earlier tenant.  All
 *	set at creation and when a tenancy ends; a bit is cleared, with
 *	release semantics, only once its chunk has been zeroed under its
 *	@chunk_lock bit, and read with acquire semantics before a chunk is
 *	mapped or copied
 * @chunk_lock: one bit lock per chunk (wait_on_bit_lock()): held by
 *	whoever zeroes the chunk, the scrub's worker or an access; others
 *	wait for that chunk alone
 * @nr_dirty: bits set in @dirty
 * @access_scrubs: chunks an access had to zero itself, the scrub not
 *	having reached them yet
 * @scrub_error: result of the last scrub (0, -EINTR, -ENOMEM, ...)
 * @faults: faults served, by leaf size
 * @scrub_done: bytes the current (or last) scrub has zeroed, for sysfs
 * @view: /sys/class/egm/egm<pxm> (sysfs.c), from creation until the region
 *	is retired; set and cleared under egm_registry_lock and @view_lock
 * @view_lock: guards @view for the state-change uevent, which is sent
 *	without egm_registry_lock, and @attachments for the view's readers,
 *	which must not take it (writers hold both)
 * @debugfs: /sys/kernel/debug/egm/egm<pxm>, while the region is registered
 */
struct egm_region {
	phys_addr_t base;
	u64 size;
	unsigned long nr_pages;
	u32 pxm;
	int nid;
	struct resource *res;
	char name[16];
	struct kref ref;
	struct rcu_work free_rwork;
	struct work_struct put_work;

	struct list_head attachments;
	unsigned int nr_attachments;

	struct inode *inode;
	struct file *file;

	/* Serialises revoke and reset: guards @resets, in_reset, writes of @alive. */
	struct mutex access_lock;
	bool alive;
	unsigned int resets;
	wait_queue_head_t access_wq;

	unsigned long *poison;
	atomic_long_t nr_poisoned;
	/* Guards @zap_pending, @nr_zap_pending, @zap_all; irqsave. */
	spinlock_t poison_lock;
	unsigned long zap_pending[EGM_ZAP_PENDING_MAX];
	unsigned int nr_zap_pending;
	bool zap_all;
	struct work_struct poison_work;

	struct page *sink;
	atomic64_t sink_faults;
	atomic64_t sink_writes;
	atomic_t sink_told;

	/* Guards @state, @tenancy, @acquirer_holds, @kaddr, @scrub_error. */
	struct mutex state_lock;
	enum egm_state state;
	struct file *tenancy;
	bool acquirer_holds;
	void *kaddr;
	wait_queue_head_t state_wq;
	struct work_struct scrub_work;
	atomic_t scrub_cancel;
	atomic_t scrub_runs;
	int scrub_error;
	unsigned long nr_chunks;
	unsigned long *dirty;
	unsigned long *chunk_lock;
	atomic_long_t nr_dirty;
	atomic64_t access_scrubs;

	atomic64_t scrub_done;

	atomic64_t faults[EGM_LEAF_NR];
	/* Guards @view, and @attachments for sysfs readers; see above. */
	struct mutex view_lock;
	struct egm_view *view;
	struct dentry *debugfs;
#ifdef EGM_PFN_SPACE
	/**
	 * @pfn_space: registration with the kernel's memory-failure
	 * handling, on kernels that have it (a stand-in elsewhere, see
	 * egm_compat.h); lives inside the claim of the range
	 */
	struct pfn_address_space pfn_space;
	/**
	 * @pfn_space_registered: @pfn_space is in the kernel's registry;
	 * guarded by egm_registry_lock
	 */
	bool pfn_space_registered;
#endif
};

/**
 * struct egm_attachment - one parent's registration of a region
 * @region: the region; valid until egm_unregister_region()
 * @parent: the parent device, with a reference held
 * @node: entry in @region->attachments, guarded by egm_registry_lock
 * @in_reset: the parent is between egm_reset_begin() and egm_reset_end();
 *	guarded by @region->access_lock
 * @view_link: the parent has its link under /sys/class/egm/egm<pxm>/parents/;
 *	guarded by egm_registry_lock
 * @chardev: the parent selected the chardev frontend; guarded by
 *	egm_registry_lock
 * @vfio: the parent selected the VFIO frontend (a PCI parent that may
 *	expose the region on its vfio device); guarded by egm_registry_lock
 */
struct egm_attachment {
	struct egm_region *region;
	struct device *parent;
	struct list_head node;
	bool in_reset;
	bool view_link;
	bool chardev;
	bool vfio;
};

/* registry.c */
void egm_region_get(struct egm_region *region);
void egm_region_put_async(struct egm_region *region);
int egm_nr_live_regions(void);
bool egm_registry_poison_pa(phys_addr_t pa);

/* backing.c: inode, pseudo file and kernel mapping */
int egm_region_backing_create(struct egm_region *region);
void egm_region_backing_destroy(struct egm_region *region);
void *egm_region_kaddr_locked(struct egm_region *region);
struct file *egm_region_tenant_file_create(struct egm_region *region);

/* access.c: liveness, reset, revoke, zap */
void egm_region_access_init(struct egm_region *region);
void egm_region_revoke(struct egm_region *region);
void egm_region_zap(struct egm_region *region, u64 offset, u64 len);
void egm_reset_abandon(struct egm_attachment *attachment);

/* poison.c */
int egm_poison_init(void);
void egm_poison_exit(void);
int egm_region_poison_create(struct egm_region *region);
void egm_region_poison_destroy(struct egm_region *region);
void egm_region_queue_poison_zap(struct egm_region *region, pgoff_t page);

#ifdef EGM_PFN_SPACE
int egm_region_poison_register(struct egm_region *region);
void egm_region_poison_unregister(struct egm_region *region);
#else
static inline int egm_region_poison_register(struct egm_region *region)
{
	return 0;
}

static inline void egm_region_poison_unregister(struct egm_region *region)
{
}
#endif

#if IS_ENABLED(CONFIG_KUNIT)
#ifdef EGM_PFN_SPACE
/*
 * KUnit's stand-in for the kernel's registry of PFN address spaces: when
 * set, egm_region_poison_{,un}register() call it instead of the kernel.
 */
struct egm_pfn_space_test_ops {
	int (*register_space)(struct pfn_address_space *space);
	void (*unregister_space)(struct pfn_address_space *space);
};

extern const struct egm_pfn_space_test_ops *egm_pfn_space_test_ops;
#endif
void egm_registry_wait_freed(void);
#endif

int egm_poison_load_table(struct egm_region *region, struct device *parent,
			  phys_addr_t table_pa, size_t table_size);
int egm_poison_parse_table(struct egm_region *region, struct device *parent,
			   const void *table, size_t table_size);
bool egm_region_range_poisoned(struct egm_region *region, pgoff_t first,
			       unsigned long nr);
unsigned long egm_region_mark_poison(struct egm_region *region, u64 offset,
				     u64 len);
int egm_region_poison_list(struct egm_region *region, u64 *offsets,
			   u32 max, u32 *total);
u32 egm_region_poison_list_from(struct egm_region *region, unsigned long *pos,
				u64 *offsets, u32 max);
unsigned long egm_region_poison_count_from(struct egm_region *region,
					   unsigned long pos);
u32 egm_region_poison_granularity(const struct egm_region *region);

/* sink.c: what DMA mappings of retired pages reach */
extern bool egm_sink_enabled;
int egm_region_sink_create(struct egm_region *region);
void egm_region_sink_destroy(struct egm_region *region);
vm_fault_t egm_region_sink_fault(struct vm_fault *vmf,
				 struct egm_region *region, pgoff_t pgoff);
void egm_region_sink_scrub(struct egm_region *region);

/* scrub.c */
int egm_scrub_init(void);
void egm_scrub_exit(void);
int egm_region_scrub_create(struct egm_region *region);
void egm_region_scrub_destroy(struct egm_region *region);
void egm_region_scrub_stop(struct egm_region *region);
int egm_region_scrub(struct egm_region *region, bool killable);
int egm_region_scrubs_running(struct egm_region *region);
int egm_region_clean_range(struct egm_region *region, pgoff_t first,
			   unsigned long nr);
int egm_region_acquire(struct egm_region *region);
void egm_region_release(struct egm_region *region);
void egm_region_end_tenancy(struct egm_region *region);
struct file *egm_region_tenant_file(struct egm_region *region);
long egm_region_tenant_holders(struct egm_region *region);
void egm_region_kick_scrub(struct egm_region *region);
enum egm_state egm_region_state(struct egm_region *region);

/* sysfs.c: the read-only view, /sys/class/egm/egm<pxm> */
int egm_sysfs_init(void);
void egm_sysfs_exit(void);
const char *egm_state_name(enum egm_state state);
int egm_region_view_create(struct egm_region *region);
void egm_region_view_destroy(struct egm_region *region);
struct device *egm_region_view_device(struct egm_region *region);
void egm_region_view_link(struct egm_attachment *attachment);
void egm_region_view_unlink(struct egm_attachment *attachment);
void egm_region_view_notify(struct egm_region *region, enum egm_state state);

/**
 * struct egm_frontend - a way of exposing regions to user space
 * @name: the frontend's name, as the view's "frontends" attribute shows it
 * @show: append to @buf, at @len, a line "<name> <what>" for each way the
 *	frontend exposes @region now (the device, the GPU); return the new
 *	length.  Called with @region->view_lock held and never with
 *	egm_registry_lock (see sysfs.c); may be NULL.
 * @region_gone: the region's last parent unregistered: remove what the
 *	frontend made for it.  Called with egm_registry_lock held; may be
 *	NULL.
 *
 * The core never calls a frontend directly: chardev.c and vfio.c register
 * one of these at module init (egm_frontend_register()), and the registry
 * and the view go through it.
 */
struct egm_frontend {
	const char *name;
	int (*show)(struct egm_region *region, char *buf, int len);
	void (*region_gone)(struct egm_region *region);
};

/* registry.c: the frontends, set at module init before any region exists */
#define EGM_FRONTENDS_MAX	2
extern const struct egm_frontend *egm_frontends[EGM_FRONTENDS_MAX];
int egm_frontend_register(const struct egm_frontend *frontend);
void egm_frontend_unregister(const struct egm_frontend *frontend);

/* debugfs.c */
void egm_debugfs_init(void);
void egm_debugfs_exit(void);
void egm_region_debugfs_create(struct egm_region *region);
void egm_region_debugfs_remove(struct egm_region *region);

/* mmap.c: the frontend-neutral mapping entry points */
int egm_region_mmap(struct egm_region *region, struct vm_area_struct *vma,
		    unsigned long pgoff_base);
unsigned long egm_region_get_unmapped_area(struct egm_region *region,
					   struct file *file,
					   unsigned long addr,
					   unsigned long len,
					   unsigned long pgoff,
					   unsigned long flags);
unsigned long egm_region_leaf_size(const struct egm_region *region);
bool egm_vma_maps_region(struct vm_area_struct *vma,
			 struct egm_region *region);

/* mappings.c: the CPU page tables that map a region, for debugfs */
int egm_region_mappings_show(struct seq_file *m, struct egm_region *region);

#endif /* _EGM_INTERNAL_H */
