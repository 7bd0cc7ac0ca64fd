/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core internals shared by the files of lib/egm/ (registry, mapping
 * engine, poison, scrub and the frontends).  Nothing outside lib/egm/
 * includes this file: parents use <linux/egm_core.h>.
 */
#ifndef _EGM_INTERNAL_H
#define _EGM_INTERNAL_H

#include <linux/bitops.h>
#include <linux/egm_core.h>
#include <linux/find.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/pgtable.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/idr.h>

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

/*
 * The largest leaf a mapping of @size bytes can use: PUD_SIZE, PMD_SIZE
 * or PAGE_SIZE, by what the architecture maps for PFNs and what fits.
 */
static inline unsigned long egm_leaf_for_size(u64 size)
{
#ifdef CONFIG_ARCH_SUPPORTS_PUD_PFNMAP
	if (size >= PUD_SIZE)
		return PUD_SIZE;
#endif
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
	if (size >= PMD_SIZE)
		return PMD_SIZE;
#endif
	return PAGE_SIZE;
}

/* Leaf sizes a fault can install, for the statistics. */
enum egm_leaf {
	EGM_LEAF_PTE,
	EGM_LEAF_PMD,
	EGM_LEAF_PUD,
	EGM_LEAF_NR,
};

/**
 * enum egm_state - what a partition's memory holds, and who may have it
 * @EGM_DIRTY: nobody holds it; some chunks may hold a previous tenant's
 *	data, and no scrub runs
 * @EGM_SCRUBBING: nobody holds it; the background scrub zeroes its dirty
 *	chunks
 * @EGM_CLEAN: nobody holds it; every chunk is zeroed
 * @EGM_IN_USE: handed out; the tenant's file is held: by the acquirer, by
 *	mappings, or by an IOMMU mapping (VFIO type1) of the memory.  Chunks
 *	may still be dirty: the background scrub goes on, and every access
 *	zeroes the chunks it reaches first (egm_partition_clean_range())
 *
 * Transitions: DIRTY -> SCRUBBING -> CLEAN, SCRUBBING -> DIRTY when a scrub
 * is stopped or fails, any of those three -> IN_USE (acquire never waits),
 * IN_USE -> DIRTY when the tenancy ends.  They happen under
 * egm_partition::state_lock, in scrub.c.
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
 *	lookups and partitions hold their own.
 * @free_rwork: frees the structure after an RCU grace period, for the
 *	lockless poison lookup of the GHES notifier
 * @put_work: drops a reference from a context that must not take
 *	egm_registry_lock (see egm_region_put_async())
 * @attachments: list of struct egm_attachment, changed under egm_registry_lock
 *	and @view_lock; read under either
 * @nr_attachments: length of @attachments, guarded by egm_registry_lock;
 *	the region is in the registry exactly while this is non-zero
 * @inode: anonymous inode; its i_mapping is the one address_space every
 *	mapping of the region lives in, at its offset in the region, so one
 *	unmap_mapping_range() zaps a page, a partition or everything
 * @file: the region's own pseudo file on @inode; it pins the inode, the
 *	pseudo mount and the module for the region's lifetime
 * @access_lock: serialises revoke and reset transitions; guards the
 *	partitions' resets, the attachments' in_reset flags and writes of
 *	@alive
 * @alive: false once revoked; faults read it under egm_srcu
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
 * @kaddr_lock: guards the creation of @kaddr
 * @kaddr: write-back kernel mapping of the whole region, made on first
 *	need and kept until the region is freed
 * @nr_chunks: @size in EGM_CHUNK_SIZE chunks, the last one maybe partial
 *	(immutable)
 * @dirty: one bit per chunk: it may hold data of an earlier tenant of the
 *	partition that holds it.  Set for a partition's chunks when it is
 *	created and when its tenancy ends; a bit is cleared, with release
 *	semantics, only once its chunk has been zeroed under its @chunk_lock
 *	bit, and read with acquire semantics before a chunk is mapped or
 *	copied.  Partitions start and end on chunk boundaries, so a chunk
 *	belongs to one partition at most.
 * @chunk_lock: one bit lock per chunk (wait_on_bit_lock()): held by
 *	whoever zeroes the chunk, the scrub's worker or an access; others
 *	wait for that chunk alone
 * @partition_lock: guards @partitions, the ranges they cover and the
 *	attachments' partition pointers: taken to create or delete one
 * @partitions: index -> struct egm_partition, each with a reference of the
 *	region's; read under @partition_lock, or under RCU with a reference
 *	taken
 * @partition_ida: indexes of partitions other than the whole-region one
 * @view: /sys/class/egm/egm<pxm> (sysfs.c), from creation until the region
 *	is retired; set and cleared under egm_registry_lock and @view_lock
 * @view_lock: guards @view for the state-change uevent, which is sent
 *	without egm_registry_lock, and @attachments for the view's readers,
 *	which must not take it (writers hold both)
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

	/* Serialises revoke and reset: guards resets, in_reset, writes of @alive. */
	struct mutex access_lock;
	bool alive;

	unsigned long *poison;
	atomic_long_t nr_poisoned;
	/* Guards @zap_pending, @nr_zap_pending, @zap_all; irqsave. */
	spinlock_t poison_lock;
	unsigned long zap_pending[EGM_ZAP_PENDING_MAX];
	unsigned int nr_zap_pending;
	bool zap_all;
	struct work_struct poison_work;

	/* Guards the creation of @kaddr. */
	struct mutex kaddr_lock;
	void *kaddr;
	unsigned long nr_chunks;
	unsigned long *dirty;
	unsigned long *chunk_lock;

	/* Guards @partitions, their ranges, attachments' partition pointers. */
	struct mutex partition_lock;
	struct xarray partitions;
	struct ida partition_ida;

	/* Guards @view, and @attachments for sysfs readers; see above. */
	struct mutex view_lock;
	struct egm_view *view;
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

/* The whole-region partition's index: /dev/egm<pxm>, as before partitions. */
#define EGM_PARTITION_WHOLE	0
/* Most partitions a region holds, the whole-region one included. */
#define EGM_PARTITIONS_MAX	64

/**
 * struct egm_partition - a range of a region with a tenant of its own
 * @region: the region, with a reference held (immutable)
 * @index: 0 (%EGM_PARTITION_WHOLE) for the partition covering the whole
 *	region, else from @region->partition_ida (immutable)
 * @offset: first byte, from the start of the region; a multiple of
 *	EGM_CHUNK_SIZE (immutable)
 * @size: length in bytes; a multiple of EGM_CHUNK_SIZE, or reaching the
 *	end of the region (immutable)
 * @first_page: @offset in pages (immutable)
 * @nr_pages: @size in pages (immutable)
 * @first_chunk: @offset in chunks (immutable)
 * @nr_chunks: @size in chunks, the last one maybe partial (immutable)
 * @name: "egm<pxm>" for the whole region, else "egm<pxm>.<index>": the
 *	name of its device node and of its directories
 * @ref: lifetime of this structure.  The region holds one reference while
 *	the partition is in its @partitions; open files, mappings, tenant
 *	files, devices, attachments and queued work hold their own.
 * @put_work: drops a reference from a context that must not take
 *	egm_registry_lock (see egm_partition_put_async())
 * @rcu: frees the structure after a grace period, for the lockless
 *	readers of @region->partitions (the region's state in sysfs)
 * @removed: deleted, or its region retired: no new tenant; guarded by
 *	@state_lock
 * @resets: parents inside a reset that reaches this partition; guarded by
 *	@region->access_lock; faults read it under egm_srcu
 * @access_wq: faults waiting for the last such reset to end
 * @sink: the page that remote (DMA-mapping) faults on retired pages map
 *	instead of them, reserved; zeroed between tenants (sink.c)
 * @sink_faults: remote faults that mapped @sink
 * @sink_writes: tenancies after which @sink was found written
 * @sink_told: the current tenancy's first sink fault has been logged
 * @state_lock: guards @state, @tenancy, @acquirer_holds, @removed and
 *	@scrub_error
 * @state: see enum egm_state
 * @tenancy: the current tenant's file (the vm_file of its mappings), from
 *	acquire until its release ends the tenancy; a reference of its own
 *	only while @acquirer_holds
 * @acquirer_holds: the acquirer has not released the partition yet
 * @scrub_wq: egm_partition_scrub_stop() waiting for @scrub_runs to drop to
 *	zero
 * @scrub_work: background scrub, queued when the last user leaves
 * @scrub_cancel: set by revoke and by deletion; every scrub of the
 *	partition stops
 * @scrub_runs: scrubs in progress (background, or the chunks an access
 *	zeroes first)
 * @nr_dirty: bits of the partition's chunks set in @region->dirty
 * @access_scrubs: chunks an access had to zero itself, the scrub not
 *	having reached them yet
 * @scrub_error: result of the last scrub (0, -EINTR, -ENOMEM, ...)
 * @scrub_done: bytes the current (or last) scrub has zeroed, for sysfs
 * @faults: faults served, by leaf size
 * @dev: /sys/class/egm/egm<pxm>/egm<pxm>.<index> (sysfs.c), or NULL; set
 *	and cleared under @region->partition_lock
 * @debugfs: /sys/kernel/debug/egm/<name>, while the partition is in its
 *	region
 */
struct egm_partition {
	struct egm_region *region;
	unsigned int index;
	u64 offset;
	u64 size;
	unsigned long first_page;
	unsigned long nr_pages;
	unsigned long first_chunk;
	unsigned long nr_chunks;
	char name[24];
	struct kref ref;
	struct work_struct put_work;
	struct rcu_head rcu;

	unsigned int resets;
	wait_queue_head_t access_wq;

	struct page *sink;
	atomic64_t sink_faults;
	atomic64_t sink_writes;
	atomic_t sink_told;

	/* Guards @state, @tenancy, @acquirer_holds, @removed, @scrub_error. */
	struct mutex state_lock;
	enum egm_state state;
	struct file *tenancy;
	bool acquirer_holds;
	bool removed;
	wait_queue_head_t scrub_wq;
	struct work_struct scrub_work;
	atomic_t scrub_cancel;
	atomic_t scrub_runs;
	atomic_long_t nr_dirty;
	atomic64_t access_scrubs;
	int scrub_error;
	atomic64_t scrub_done;

	atomic64_t faults[EGM_LEAF_NR];
	struct device *dev;
	struct dentry *debugfs;
};

/**
 * struct egm_attachment - one parent's registration of a region
 * @region: the region; valid until egm_unregister_region()
 * @parent: the parent device, with a reference held
 * @node: entry in @region->attachments, guarded by egm_registry_lock
 * @in_reset: the parent is between egm_reset_begin() and egm_reset_end();
 *	guarded by @region->access_lock
 * @reset_target: the partition its reset reaches, with a reference, from
 *	egm_reset_begin() to egm_reset_end(); guarded by @region->access_lock
 * @partition: the partition this parent has to itself after a per-parent
 *	split ("per_parent" layout), with a reference, or NULL; guarded by
 *	@region->partition_lock
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
	struct egm_partition *reset_target;
	struct egm_partition *partition;
	bool view_link;
	bool chardev;
	bool vfio;
};

/* registry.c */
void egm_region_get(struct egm_region *region);
void egm_region_put_async(struct egm_region *region);
int egm_nr_live_regions(void);
bool egm_registry_poison_pa(phys_addr_t pa);

/* partition.c: the ranges of a region that tenants take */
int egm_region_partitions_create(struct egm_region *region);
void egm_region_partitions_retire(struct egm_region *region);
struct egm_partition *egm_partition_create(struct egm_region *region,
					   u64 offset, u64 size);
int egm_partition_delete(struct egm_region *region, unsigned int index);
int egm_region_set_layout(struct egm_region *region, bool per_parent);
struct egm_partition *egm_partition_get_by_index(struct egm_region *region,
						 unsigned int index);
void egm_partition_get(struct egm_partition *part);
void egm_partition_put(struct egm_partition *part);
void egm_partition_put_async(struct egm_partition *part);
int egm_partition_check_range(const struct egm_region *region, u64 offset,
			      u64 size);

/* backing.c: inode, pseudo files and kernel mapping */
int egm_region_backing_create(struct egm_region *region);
void egm_region_backing_destroy(struct egm_region *region);
void *egm_region_kaddr(struct egm_region *region);
struct file *egm_partition_tenant_file_create(struct egm_partition *part);

/* access.c: liveness, reset, revoke, zap */
void egm_region_access_init(struct egm_region *region);
void egm_region_revoke(struct egm_region *region);
void egm_region_zap(struct egm_region *region, u64 offset, u64 len);
void egm_reset_abandon(struct egm_attachment *attachment);
extern bool egm_reset_scoped;

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

/**
 * egm_region_range_poisoned() - is any page of a range poisoned?
 * @region: the region
 * @first: first page index, from the start of the region
 * @nr: number of pages
 *
 * Inline: every fault asks it, under egm_srcu (mmap.c).
 *
 * Return: true when a page in [@first, @first + @nr) is poisoned.
 */
static inline bool egm_region_range_poisoned(struct egm_region *region,
					     pgoff_t first, unsigned long nr)
{
	return find_next_bit(region->poison, first + nr, first) < first + nr;
}

unsigned long egm_region_mark_poison(struct egm_region *region, u64 offset,
				     u64 len);
int egm_partition_poison_list(struct egm_partition *part, u64 *offsets,
			      u32 max, u32 *total);
u32 egm_partition_poison_list_from(struct egm_partition *part,
				   unsigned long *pos, u64 *offsets, u32 max);
unsigned long egm_partition_poison_count_from(struct egm_partition *part,
					      unsigned long pos);
unsigned long egm_partition_nr_poisoned(struct egm_partition *part);
u32 egm_region_poison_granularity(const struct egm_region *region);

/* sink.c: what DMA mappings of retired pages reach (mapped by mmap.c) */
extern bool egm_sink_enabled;
int egm_partition_sink_create(struct egm_partition *part);
void egm_partition_sink_destroy(struct egm_partition *part);
void egm_partition_sink_scrub(struct egm_partition *part);

/* scrub.c */
int egm_scrub_init(void);
void egm_scrub_exit(void);
int egm_region_scrub_create(struct egm_region *region);
void egm_region_scrub_destroy(struct egm_region *region);
void egm_partition_scrub_init(struct egm_partition *part);
void egm_partition_scrub_stop(struct egm_partition *part);
int egm_partition_scrub(struct egm_partition *part, bool killable);
int egm_partition_scrubs_running(struct egm_partition *part);
int egm_partition_clean_range(struct egm_partition *part, pgoff_t first,
			      unsigned long nr);
int egm_partition_acquire(struct egm_partition *part);
void egm_partition_release(struct egm_partition *part);
void egm_partition_end_tenancy(struct egm_partition *part);
struct file *egm_partition_tenant_file(struct egm_partition *part);
long egm_partition_tenant_holders(struct egm_partition *part);
void egm_partition_kick_scrub(struct egm_partition *part);
enum egm_state egm_partition_state(struct egm_partition *part);
bool egm_partition_mark_removed(struct egm_partition *part);
void egm_partition_unmark_removed(struct egm_partition *part);

/* sysfs.c: /sys/class/egm/egm<pxm> and its partitions */
int egm_sysfs_init(void);
void egm_sysfs_exit(void);
const char *egm_state_name(enum egm_state state);
enum egm_state egm_region_state(struct egm_region *region);
int egm_region_view_create(struct egm_region *region);
void egm_region_view_destroy(struct egm_region *region);
struct device *egm_region_view_device(struct egm_region *region);
void egm_region_view_link(struct egm_attachment *attachment);
void egm_region_view_unlink(struct egm_attachment *attachment);
void egm_partition_view_create(struct egm_partition *part);
void egm_partition_view_destroy(struct egm_partition *part);
void egm_partition_notify(struct egm_partition *part, enum egm_state state);

/**
 * struct egm_frontend - a way of exposing partitions to user space
 * @name: the frontend's name, as the view's "frontends" attribute shows it
 * @show: append to @buf, at @len, a line "<name> <what>" for each way the
 *	frontend exposes @region now (a device, a GPU); return the new
 *	length.  Called with @region->view_lock held and never with
 *	egm_registry_lock (see sysfs.c); may be NULL.
 * @partition_added: an operator created @part: expose it if the frontend
 *	exposes its region.  Called with @part->region->partition_lock
 *	held; may be NULL.
 * @partition_gone: @part was deleted, or its region retired: remove what
 *	the frontend made for it.  Called with @part->region->partition_lock
 *	held; may be NULL.
 *
 * The core never calls a frontend directly: chardev.c and vfio.c register
 * one of these at module init (egm_frontend_register()), and the core
 * and the view go through it.
 */
struct egm_frontend {
	const char *name;
	int (*show)(struct egm_region *region, char *buf, int len);
	void (*partition_added)(struct egm_partition *part);
	void (*partition_gone)(struct egm_partition *part);
};

/* registry.c: the frontends, set at module init before any region exists */
#define EGM_FRONTENDS_MAX	2
extern const struct egm_frontend *egm_frontends[EGM_FRONTENDS_MAX];
int egm_frontend_register(const struct egm_frontend *frontend);
void egm_frontend_unregister(const struct egm_frontend *frontend);

/* debugfs.c */
void egm_debugfs_init(void);
void egm_debugfs_exit(void);
void egm_partition_debugfs_create(struct egm_partition *part);
void egm_partition_debugfs_remove(struct egm_partition *part);

/* mmap.c: the frontend-neutral mapping entry points */
int egm_partition_mmap(struct egm_partition *part, struct vm_area_struct *vma,
		       unsigned long pgoff_base);
unsigned long egm_partition_get_unmapped_area(struct egm_partition *part,
					      struct file *file,
					      unsigned long addr,
					      unsigned long len,
					      unsigned long pgoff,
					      unsigned long flags);
unsigned long egm_partition_leaf_size(const struct egm_partition *part);
bool egm_vma_maps_partition(struct vm_area_struct *vma,
			    struct egm_partition *part);

/* mappings.c: the CPU page tables that map a partition, for debugfs */
int egm_partition_mappings_show(struct seq_file *m, struct egm_partition *part);

#endif /* _EGM_INTERNAL_H */
