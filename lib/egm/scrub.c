// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core scrubbing and tenancy: no tenant of a partition ever sees data
 * that an earlier tenant left, and no tenant waits for the zeroing to get
 * in.  A partition (partition.c) is the unit of tenancy: the whole region,
 * or a range of it an operator carved out.
 *
 * State machine (enum egm_state, under egm_partition::state_lock):
 *
 *   DIRTY --scrub starts--> SCRUBBING --done--> CLEAN
 *     ^  \                    |  \                 |
 *     |   \                   |   +-- acquire --+  |
 *     |    +---- acquire -----|-----------------+--+--> IN_USE
 *     +----stopped or failed--+                          |
 *     +<----------------- last user gone ----------------+
 *
 * What a partition holds is tracked per EGM_CHUNK_SIZE chunk (egm_region::
 * dirty, one bitmap for the region): every chunk of a partition is dirty
 * when the partition is created and again when its tenancy ends; a chunk
 * is clean once zeroed.  Acquiring never waits: a partition nobody holds
 * is handed out at once, whatever its chunks hold.
 * What keeps the next tenant from the last one's data is that nothing maps
 * or copies a dirty chunk: a fault (CPU, KVM, or VFIO type1 mapping the
 * memory for DMA) and a read()/write() of a frontend call
 * egm_partition_clean_range() first, which zeroes the dirty chunks they reach
 * (or waits while the scrub zeroes one of them: that chunk alone).
 *
 * A tenancy lasts as long as its tenant file is held (backing.c): by the
 * acquirer, by every mapping, and by every IOMMU mapping VFIO type1 made of
 * the memory.  When the last holder goes, every chunk turns dirty and a
 * background scrub is queued at once; it goes on under the next tenant if
 * one comes, so its first touches rarely find a dirty chunk.  A partition
 * is CLEAN only when none of its chunks is dirty.
 *
 * A scrub runs one work item per CPU of the region's NUMA node (at most
 * EGM_SCRUB_MAX_WORKERS) on an unbound workqueue placed on that node; the
 * workers take chunks from a shared counter, cond_resched() between chunks
 * and stop when told to.  Whoever zeroes a chunk, a worker or an access,
 * holds the chunk's bit lock (egm_region::chunk_lock) while it does, and
 * clears its dirty bit only after the last byte.  Poisoned pages are
 * skipped: touching them is a machine check.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>
#include <linux/wait_bit.h>
#include <kunit/visibility.h>
#include <trace/events/egm.h>

#include "egm_internal.h"

#define EGM_SCRUB_MAX_WORKERS	16

static struct workqueue_struct *egm_scrub_wq;

/* One scrub run, shared by its workers. */
struct egm_scrub_run {
	struct egm_partition *part;
	void *kaddr;
	atomic64_t next_chunk;
	atomic_t stop;
	atomic_t running;
	struct completion done;
};

struct egm_scrub_worker {
	struct work_struct work;
	struct egm_scrub_run *run;
};

/*
 * Zero one chunk of the region, skipping poisoned pages; the caller holds
 * its bit lock.
 */
static void egm_zero_chunk(struct egm_region *region, void *kaddr,
			   unsigned long chunk)
{
	unsigned long first = chunk * EGM_CHUNK_PAGES;
	unsigned long end = min_t(unsigned long, first + EGM_CHUNK_PAGES,
				  region->nr_pages);
	unsigned long i = first, bad;

	while (i < end) {
		bad = find_next_bit(region->poison, end, i);
		if (bad > i)
			memset(kaddr + ((u64)i << PAGE_SHIFT), 0,
			       (u64)(bad - i) << PAGE_SHIFT);
		i = bad + 1;
	}
}

/*
 * Make one chunk of @part clean (@chunk counts from the region's start):
 * zero it if it is dirty.  Whoever takes the chunk's bit lock first zeroes
 * it; whoever comes meanwhile waits for that chunk alone and then finds it
 * clean.  The bit lock is uninterruptible: it is held for the zeroing of
 * one chunk only.
 *
 * Return: true when this call zeroed the chunk.
 */
static bool egm_clean_chunk(struct egm_partition *part, void *kaddr,
			    unsigned long chunk)
{
	struct egm_region *region = part->region;
	unsigned long *lock = &region->chunk_lock[BIT_WORD(chunk)];
	int bit = chunk % BITS_PER_LONG;
	bool zeroed = false;

	/* Pairs with clear_bit_unlock() below: the zeroes are visible. */
	if (!test_bit_acquire(chunk, region->dirty))
		return false;
	wait_on_bit_lock(lock, bit, TASK_UNINTERRUPTIBLE);
	if (test_bit(chunk, region->dirty)) {
		egm_zero_chunk(region, kaddr, chunk);
		clear_bit_unlock(chunk, region->dirty);
		atomic_long_dec(&part->nr_dirty);
		zeroed = true;
	}
	clear_and_wake_up_bit(bit, lock);
	return zeroed;
}

/* Every chunk of the partition may now hold a tenant's data. */
static void egm_partition_mark_dirty(struct egm_partition *part)
{
	unsigned long chunk, end = part->first_chunk + part->nr_chunks;
	unsigned long newly = 0;

	for (chunk = part->first_chunk; chunk < end; chunk++)
		if (!test_and_set_bit(chunk, part->region->dirty))
			newly++;
	atomic_long_add(newly, &part->nr_dirty);
}

static bool egm_scrub_should_stop(struct egm_scrub_run *run)
{
	return atomic_read(&run->stop) ||
	       atomic_read(&run->part->scrub_cancel);
}

static void egm_scrub_worker_fn(struct work_struct *work)
{
	struct egm_scrub_worker *w = container_of(work, struct egm_scrub_worker,
						  work);
	struct egm_scrub_run *run = w->run;
	struct egm_partition *part = run->part;
	u64 chunk;

	while (!egm_scrub_should_stop(run)) {
		chunk = atomic64_fetch_inc(&run->next_chunk);
		if (chunk >= part->nr_chunks)
			break;
		egm_clean_chunk(part, run->kaddr, part->first_chunk + chunk);
		atomic64_add(min_t(u64, EGM_CHUNK_SIZE,
				   part->size - chunk * EGM_CHUNK_SIZE),
			     &part->scrub_done);
		cond_resched();
	}
	if (atomic_dec_and_test(&run->running))
		complete(&run->done);
}

static unsigned int egm_scrub_nr_workers(struct egm_region *region,
					 u64 nr_chunks)
{
	unsigned int cpus = num_online_cpus();

	if (region->nid != NUMA_NO_NODE && node_online(region->nid))
		cpus = cpumask_weight(cpumask_of_node(region->nid)) ?: cpus;
	return clamp_t(u64, min_t(u64, cpus, nr_chunks), 1,
		       EGM_SCRUB_MAX_WORKERS);
}

/* One more scrub (or access zeroing) of @part; false when it is stopped. */
static bool egm_scrub_enter(struct egm_partition *part)
{
	atomic_inc(&part->scrub_runs);
	/* Pairs with egm_partition_scrub_stop(): one of us sees the other. */
	smp_mb__after_atomic();
	return !atomic_read(&part->scrub_cancel);
}

static void egm_scrub_exit_run(struct egm_partition *part)
{
	if (atomic_dec_and_test(&part->scrub_runs))
		wake_up_all(&part->scrub_wq);
}

/*
 * Zero every dirty chunk of the partition, skipping poisoned pages.  With
 * @killable, a fatal signal to the caller stops the workers.
 *
 * Return: 0 when every chunk was visited (each is clean, or was dirtied
 * again by a tenancy that ended meanwhile, which queues another scrub);
 * -EINTR when stopped (fatal signal, revoke or deletion); -ENOMEM, or
 * -ENXIO when the memory cannot be mapped.
 */
static int egm_scrub_run(struct egm_partition *part, bool killable)
{
	struct egm_region *region = part->region;
	struct egm_scrub_worker *workers;
	struct egm_scrub_run run = {
		.part = part,
	};
	unsigned int nr, i;
	u64 start, done;
	int ret = 0;

	might_sleep();
	/* A task that is already dying does not start a scrub. */
	if (killable && fatal_signal_pending(current))
		return -EINTR;

	run.kaddr = egm_region_kaddr(region);
	if (!run.kaddr) {
		pr_err("%s: cannot map the memory to scrub it\n", part->name);
		return -ENXIO;
	}

	if (!egm_scrub_enter(part)) {
		ret = -EINTR;
		goto out;
	}
	nr = egm_scrub_nr_workers(region, part->nr_chunks);
	start = ktime_get_ns();
	trace_egm_scrub_begin(region->pxm, part->size, nr);
	workers = kcalloc(nr, sizeof(*workers), GFP_KERNEL);
	if (!workers) {
		ret = -ENOMEM;
		goto out_trace;
	}

	atomic64_set(&run.next_chunk, 0);
	atomic64_set(&part->scrub_done, 0);
	atomic_set(&run.stop, 0);
	atomic_set(&run.running, nr);
	init_completion(&run.done);

	for (i = 0; i < nr; i++) {
		workers[i].run = &run;
		INIT_WORK(&workers[i].work, egm_scrub_worker_fn);
		queue_work_node(region->nid, egm_scrub_wq, &workers[i].work);
	}

	if (killable && wait_for_completion_killable(&run.done)) {
		atomic_set(&run.stop, 1);
		wait_for_completion(&run.done);
	} else if (!killable) {
		wait_for_completion(&run.done);
	}

	kfree(workers);

	/* A chunk that was taken was made clean: all taken means all done. */
	if (atomic64_read(&run.next_chunk) < part->nr_chunks)
		ret = -EINTR;
out_trace:
	done = min_t(u64, (u64)atomic64_read(&run.next_chunk) * EGM_CHUNK_SIZE,
		     part->size);
	trace_egm_scrub_end(region->pxm, done, ktime_get_ns() - start, ret);
out:
	egm_scrub_exit_run(part);
	return ret;
}

/**
 * egm_partition_scrubs_running() - how many scrubs of a partition run
 * @part: the partition
 *
 * Return: scrubs in progress: background ones, and the zeroing of chunks
 * that accesses do first (egm_partition_clean_range()).
 */
int egm_partition_scrubs_running(struct egm_partition *part)
{
	return atomic_read(&part->scrub_runs);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_scrubs_running);

/*
 * Where a partition nobody holds stands after a scrub, or before one:
 * CLEAN when no chunk is dirty, else DIRTY.  A tenancy can end in the
 * middle of a scrub (queueing the next one), and that scrub may still zero
 * every chunk the tenancy dirtied: the partition is then DIRTY with nothing
 * left to do.  A partition in use stays so.  Returns whether the state
 * changed.
 */
static bool egm_partition_settle(struct egm_partition *part)
{
	enum egm_state old = part->state;

	lockdep_assert_held(&part->state_lock);
	/* Under state_lock no tenancy is marking chunks dirty: see above. */
	if (old == EGM_DIRTY || old == EGM_SCRUBBING)
		part->state = atomic_long_read(&part->nr_dirty) ?
			      EGM_DIRTY : EGM_CLEAN;
	return part->state != old;
}

/*
 * Finish a scrub.  A partition nobody took meanwhile becomes CLEAN, or
 * DIRTY again when chunks are left; one that was taken stays IN_USE.
 */
static void egm_scrub_finish(struct egm_partition *part, int ret)
{
	enum egm_state state;
	bool changed;

	mutex_lock(&part->state_lock);
	part->scrub_error = ret;
	changed = egm_partition_settle(part);
	state = part->state;
	mutex_unlock(&part->state_lock);
	if (changed)
		egm_partition_notify(part, state);

	if (ret && ret != -EINTR)
		pr_err("%s: scrub failed (%d), %ld chunks stay dirty\n",
		       part->name, ret, atomic_long_read(&part->nr_dirty));
	else
		pr_debug("%s: scrub %s\n", part->name, ret ? "stopped" : "done");
}

/*
 * The background scrub: runs while chunks are dirty, whether a tenant has
 * taken the partition meanwhile or not.
 */
static void egm_scrub_work_fn(struct work_struct *work)
{
	struct egm_partition *part = container_of(work, struct egm_partition,
						  scrub_work);
	bool run, notify = false;
	enum egm_state state;

	mutex_lock(&part->state_lock);
	run = atomic_long_read(&part->nr_dirty) &&
	      !atomic_read(&part->scrub_cancel);
	if (run && part->state == EGM_DIRTY) {
		part->state = EGM_SCRUBBING;
		notify = true;
	} else if (!run) {
		notify = egm_partition_settle(part);
	}
	state = part->state;
	mutex_unlock(&part->state_lock);

	if (notify)
		egm_partition_notify(part, state);
	if (run)
		egm_scrub_finish(part, egm_scrub_run(part, false));
	/* Revoke and deletion wait for this work under their locks. */
	egm_partition_put_async(part);
}

/**
 * egm_region_scrub_create() - set up a new region's chunk bitmaps
 * @region: the region, its size known
 *
 * Every chunk starts dirty: nothing is known of what the memory holds.
 *
 * Return: 0, or -ENOMEM.
 */
int egm_region_scrub_create(struct egm_region *region)
{
	region->nr_chunks = DIV_ROUND_UP(region->size, EGM_CHUNK_SIZE);
	region->dirty = bitmap_zalloc_node(region->nr_chunks, GFP_KERNEL,
					   region->nid);
	region->chunk_lock = bitmap_zalloc_node(region->nr_chunks, GFP_KERNEL,
						region->nid);
	if (!region->dirty || !region->chunk_lock) {
		egm_region_scrub_destroy(region);
		return -ENOMEM;
	}
	bitmap_fill(region->dirty, region->nr_chunks);
	return 0;
}

/* Free what egm_region_scrub_create() made; safe when it failed. */
void egm_region_scrub_destroy(struct egm_region *region)
{
	bitmap_free(region->dirty);
	bitmap_free(region->chunk_lock);
	region->dirty = NULL;
	region->chunk_lock = NULL;
}

/**
 * egm_partition_scrub_init() - set up a new partition's tenancy
 * @part: the partition, its range set and not yet visible
 *
 * Every chunk of it starts dirty: an earlier partition over the same range
 * may have had a tenant.
 */
void egm_partition_scrub_init(struct egm_partition *part)
{
	mutex_init(&part->state_lock);
	init_waitqueue_head(&part->scrub_wq);
	INIT_WORK(&part->scrub_work, egm_scrub_work_fn);
	part->state = EGM_DIRTY;
	/*
	 * Atomically, bit by bit: a neighbour's chunks share the words.
	 * Chunks an earlier partition left dirty are counted too.
	 */
	egm_partition_mark_dirty(part);
	atomic_long_set(&part->nr_dirty, part->nr_chunks);
}

/**
 * egm_partition_kick_scrub() - start a background scrub if the partition
 *	is dirty
 * @part: the partition
 *
 * Frontends call this when they expose a partition, so that it is clean by
 * the time the first user touches it.  The work holds a reference.
 */
void egm_partition_kick_scrub(struct egm_partition *part)
{
	if (atomic_read(&part->scrub_cancel))
		return;
	/*
	 * The coordinator waits for the chunk workers, so it runs on another
	 * workqueue than they do.
	 */
	egm_partition_get(part);
	if (!queue_work(egm_wq, &part->scrub_work))
		egm_partition_put_async(part);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_kick_scrub);

/**
 * egm_partition_scrub_stop() - stop every scrub of a partition for good
 * @part: the partition, revoked or being deleted
 *
 * Stops the background scrub and the zeroing of chunks that accesses do
 * first, and returns when none of them writes to the memory any more (each
 * stops at the end of its chunk).
 *
 * Context: process context; waits for running scrubs.  The caller holds a
 * reference of its own, so dropping the work's reference here is never
 * the last put.
 */
void egm_partition_scrub_stop(struct egm_partition *part)
{
	atomic_set(&part->scrub_cancel, 1);
	/* Pairs with egm_scrub_enter(): see the run, or have it see the cancel. */
	smp_mb();
	if (cancel_work_sync(&part->scrub_work))
		egm_partition_put_async(part);
	wait_event(part->scrub_wq, !atomic_read(&part->scrub_runs));
}

/**
 * egm_partition_scrub() - scrub a partition that nobody holds, in the
 *	caller's context
 * @part: the partition
 * @killable: a fatal signal stops the scrub
 *
 * Return: 0 when the partition is clean (or in use: nothing to do); -EBUSY
 * when a scrub is already running; -EINTR when stopped, leaving it DIRTY;
 * another negative errno when the memory cannot be scrubbed.
 */
int egm_partition_scrub(struct egm_partition *part, bool killable)
{
	int ret;

	mutex_lock(&part->state_lock);
	switch (part->state) {
	case EGM_SCRUBBING:
		mutex_unlock(&part->state_lock);
		return -EBUSY;
	case EGM_CLEAN:
	case EGM_IN_USE:
		mutex_unlock(&part->state_lock);
		return 0;
	case EGM_DIRTY:
		break;
	}
	part->state = EGM_SCRUBBING;
	mutex_unlock(&part->state_lock);
	egm_partition_notify(part, EGM_SCRUBBING);

	ret = egm_scrub_run(part, killable);
	egm_scrub_finish(part, ret);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_scrub);

/**
 * egm_partition_clean_range() - zero what an access is about to reach
 * @part: the partition, acquired
 * @first: first page of the access, from the start of the partition
 * @nr: number of pages
 *
 * Called before a range is mapped (a fault) or copied (read()/write()):
 * zeroes each dirty chunk of the range, or waits while the scrub zeroes
 * it.  Cheap when the range is clean: one bit test per chunk.  It runs
 * outside egm_srcu (a reset does not wait for it); revoke stops it and
 * waits for it through @part->scrub_runs instead.
 *
 * Context: process context; may sleep.
 * Return: 0 when every chunk of the range is clean; -ENODEV when revoked.
 */
int egm_partition_clean_range(struct egm_partition *part, pgoff_t first,
			      unsigned long nr)
{
	struct egm_region *region = part->region;
	unsigned long chunk = (part->first_page + first) / EGM_CHUNK_PAGES;
	unsigned long last = (part->first_page + first + nr - 1) /
			     EGM_CHUNK_PAGES;
	void *kaddr = READ_ONCE(region->kaddr);
	int ret = 0;

	might_sleep();
	/* Pairs with clear_bit_unlock() in egm_clean_chunk(). */
	while (chunk <= last && !test_bit_acquire(chunk, region->dirty))
		chunk++;
	if (chunk > last)
		return 0;
	/* egm_partition_acquire() made the mapping. */
	if (WARN_ON_ONCE(!kaddr))
		return -ENXIO;

	if (egm_scrub_enter(part)) {
		for (; chunk <= last; chunk++) {
			if (atomic_read(&part->scrub_cancel)) {
				ret = -ENODEV;
				break;
			}
			if (egm_clean_chunk(part, kaddr, chunk))
				atomic64_inc(&part->access_scrubs);
		}
	} else {
		ret = -ENODEV;
	}
	egm_scrub_exit_run(part);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_clean_range);

/**
 * egm_partition_acquire() - hand a partition to a new user, without waiting
 * @part: the partition
 *
 * The partition becomes EGM_IN_USE with a new tenant file, and the caller
 * holds a reference; egm_partition_release() drops both.  Exclusive: only
 * one acquire succeeds until the tenancy has ended.  It never waits for
 * zeroing: chunks still dirty are zeroed by the background scrub, or by
 * the first access that reaches them (egm_partition_clean_range()).
 *
 * Context: process context.
 * Return: 0; -EBUSY when the partition is in use; -ENODEV when revoked or
 * deleted; -ENOMEM, also when the memory cannot be mapped to be zeroed.
 */
int egm_partition_acquire(struct egm_partition *part)
{
	struct egm_region *region = part->region;
	struct file *file;
	int ret = 0;

	if (!READ_ONCE(region->alive))
		return -ENODEV;
	if (!egm_region_kaddr(region)) {
		pr_err("%s: cannot map the memory to zero it\n", part->name);
		return -ENOMEM;
	}

	mutex_lock(&part->state_lock);
	if (part->removed) {
		ret = -ENODEV;
	} else if (part->state == EGM_IN_USE) {
		ret = -EBUSY;
	} else {
		file = egm_partition_tenant_file_create(part);
		if (IS_ERR(file)) {
			ret = PTR_ERR(file);
		} else {
			part->tenancy = file;
			part->acquirer_holds = true;
			part->state = EGM_IN_USE;
			egm_partition_get(part);
			trace_egm_tenant_acquire(region->pxm);
		}
	}
	mutex_unlock(&part->state_lock);
	if (ret)
		return ret;

	egm_partition_notify(part, EGM_IN_USE);
	/* A scrub stopped or failed earlier: the chunks still need it. */
	if (atomic_long_read(&part->nr_dirty))
		egm_partition_kick_scrub(part);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_acquire);

/**
 * egm_partition_release() - the acquirer is done with the partition
 * @part: the partition, from egm_partition_acquire()
 *
 * Drops the acquirer's hold on the tenant file, and its reference.  The
 * tenancy goes on while mappings, or IOMMU mappings of them, hold the file.
 */
void egm_partition_release(struct egm_partition *part)
{
	struct file *file;

	mutex_lock(&part->state_lock);
	file = part->acquirer_holds ? part->tenancy : NULL;
	part->acquirer_holds = false;
	mutex_unlock(&part->state_lock);

	/*
	 * Synchronous, so that a release that ends the tenancy has ended it
	 * on return (a kernel thread's fput() would defer it).
	 */
	if (!WARN_ON_ONCE(!file))
		__fput_sync(file);
	egm_partition_put(part);
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_release);

/**
 * egm_partition_tenant_file() - the file a mapping of the acquired
 *	partition uses
 * @part: the partition, acquired
 *
 * Return: the tenant file with a reference for the caller, or NULL when
 * the acquirer has released the partition.
 */
struct file *egm_partition_tenant_file(struct egm_partition *part)
{
	struct file *file;

	mutex_lock(&part->state_lock);
	file = part->acquirer_holds ? get_file(part->tenancy) : NULL;
	mutex_unlock(&part->state_lock);
	return file;
}

/**
 * egm_partition_tenant_holders() - how many hold the current tenancy
 * @part: the partition
 *
 * Return: the references to the tenant file (the acquirer, each mapping,
 * each VFIO DMA mapping), or 0 when no tenancy is going on.
 */
long egm_partition_tenant_holders(struct egm_partition *part)
{
	long holders = 0;

	mutex_lock(&part->state_lock);
	if (part->tenancy)
		holders = file_count(part->tenancy);
	mutex_unlock(&part->state_lock);
	return holders;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_tenant_holders);

/**
 * egm_partition_end_tenancy() - the tenant file's last holder is gone
 * @part: the partition
 *
 * No CPU and no IOMMU maps the memory any more: every chunk turns dirty,
 * the sink is wiped, and a background scrub is queued.
 */
void egm_partition_end_tenancy(struct egm_partition *part)
{
	mutex_lock(&part->state_lock);
	WARN_ON_ONCE(part->state != EGM_IN_USE);
	egm_partition_mark_dirty(part);
	egm_partition_sink_scrub(part);
	part->state = EGM_DIRTY;
	part->tenancy = NULL;
	mutex_unlock(&part->state_lock);
	trace_egm_tenant_release(part->region->pxm);
	egm_partition_notify(part, EGM_DIRTY);

	pr_debug("%s: tenancy ended\n", part->name);
	egm_partition_kick_scrub(part);
}

/**
 * egm_partition_mark_removed() - no new tenant may take the partition
 * @part: the partition, being deleted
 *
 * Return: true when it was marked; false when it has a tenant, and stays.
 */
bool egm_partition_mark_removed(struct egm_partition *part)
{
	bool removed;

	mutex_lock(&part->state_lock);
	removed = part->state != EGM_IN_USE;
	if (removed)
		part->removed = true;
	mutex_unlock(&part->state_lock);
	return removed;
}

/**
 * egm_partition_unmark_removed() - undo egm_partition_mark_removed()
 * @part: the partition, still in its region
 *
 * For a change of several partitions that one of them refused.
 */
void egm_partition_unmark_removed(struct egm_partition *part)
{
	mutex_lock(&part->state_lock);
	part->removed = false;
	mutex_unlock(&part->state_lock);
}

/**
 * egm_partition_state() - where a partition is in the state machine
 * @part: the partition
 *
 * Return: the current state; it may change as soon as the lock is dropped.
 */
enum egm_state egm_partition_state(struct egm_partition *part)
{
	enum egm_state state;

	mutex_lock(&part->state_lock);
	state = part->state;
	mutex_unlock(&part->state_lock);
	return state;
}
EXPORT_SYMBOL_IF_KUNIT(egm_partition_state);

int egm_scrub_init(void)
{
	egm_scrub_wq = alloc_workqueue("egm_scrub", WQ_UNBOUND | WQ_SYSFS, 0);
	return egm_scrub_wq ? 0 : -ENOMEM;
}

void egm_scrub_exit(void)
{
	destroy_workqueue(egm_scrub_wq);
}
