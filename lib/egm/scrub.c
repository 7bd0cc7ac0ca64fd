// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core scrubbing and tenancy: no user of a region ever sees data that
 * an earlier user left, and no user waits for the zeroing to get in.
 *
 * State machine (enum egm_state, under egm_region::state_lock):
 *
 *   DIRTY --scrub starts--> SCRUBBING --done--> CLEAN
 *     ^  \                    |  \                 |
 *     |   \                   |   +-- acquire --+  |
 *     |    +---- acquire -----|-----------------+--+--> IN_USE
 *     +----stopped or failed--+                          |
 *     +<----------------- last user gone ----------------+
 *
 * What a region holds is tracked per EGM_CHUNK_SIZE chunk (egm_region::
 * dirty): every chunk is dirty when the region is created and again when a
 * tenancy ends; a chunk is clean once zeroed.  Acquiring never waits:
 * a region nobody holds is handed out at once, whatever its chunks hold.
 * What keeps the next tenant from the last one's data is that nothing maps
 * or copies a dirty chunk: a fault (CPU, KVM, or VFIO type1 mapping the
 * memory for DMA) and a read()/write() of a frontend call
 * egm_region_clean_range() first, which zeroes the dirty chunks they reach
 * (or waits while the scrub zeroes one of them: that chunk alone).
 *
 * A tenancy lasts as long as its tenant file is held (backing.c): by the
 * acquirer, by every mapping, and by every IOMMU mapping VFIO type1 made of
 * the memory.  When the last holder goes, every chunk turns dirty and a
 * background scrub is queued at once; it goes on under the next tenant if
 * one comes, so its first touches rarely find a dirty chunk.  The region is
 * CLEAN only when no chunk is dirty.
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
	struct egm_region *region;
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

/* Zero one chunk, skipping poisoned pages; the caller holds its bit lock. */
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
 * Make one chunk clean: zero it if it is dirty.  Whoever takes the chunk's
 * bit lock first zeroes it; whoever comes meanwhile waits for that chunk
 * alone and then finds it clean.  The bit lock is uninterruptible: it is
 * held for the zeroing of one chunk only.
 *
 * Return: true when this call zeroed the chunk.
 */
static bool egm_clean_chunk(struct egm_region *region, void *kaddr,
			    unsigned long chunk)
{
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
		atomic_long_dec(&region->nr_dirty);
		zeroed = true;
	}
	clear_and_wake_up_bit(bit, lock);
	return zeroed;
}

/* Every chunk may now hold a tenant's data. */
static void egm_region_mark_dirty(struct egm_region *region)
{
	unsigned long chunk, newly = 0;

	for (chunk = 0; chunk < region->nr_chunks; chunk++)
		if (!test_and_set_bit(chunk, region->dirty))
			newly++;
	atomic_long_add(newly, &region->nr_dirty);
}

static bool egm_scrub_should_stop(struct egm_scrub_run *run)
{
	return atomic_read(&run->stop) ||
	       atomic_read(&run->region->scrub_cancel);
}

static void egm_scrub_worker_fn(struct work_struct *work)
{
	struct egm_scrub_worker *w = container_of(work, struct egm_scrub_worker,
						  work);
	struct egm_scrub_run *run = w->run;
	struct egm_region *region = run->region;
	u64 chunk;

	while (!egm_scrub_should_stop(run)) {
		chunk = atomic64_fetch_inc(&run->next_chunk);
		if (chunk >= region->nr_chunks)
			break;
		egm_clean_chunk(region, run->kaddr, chunk);
		atomic64_add(min_t(u64, EGM_CHUNK_SIZE,
				   region->size - chunk * EGM_CHUNK_SIZE),
			     &region->scrub_done);
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

/*
 * Zero every dirty chunk of the region, skipping poisoned pages.  With
 * @killable, a fatal signal to the caller stops the workers.
 *
 * Return: 0 when every chunk was visited (each is clean, or was dirtied
 * again by a tenancy that ended meanwhile, which queues another scrub);
 * -EINTR when stopped (fatal signal or revoke); -ENOMEM, or -ENXIO when
 * the memory cannot be mapped.
 */
static int egm_scrub_run(struct egm_region *region, bool killable)
{
	struct egm_scrub_worker *workers;
	struct egm_scrub_run run = {
		.region = region,
	};
	unsigned int nr, i;
	u64 start, done;
	int ret = 0;

	might_sleep();
	/* A task that is already dying does not start a scrub. */
	if (killable && fatal_signal_pending(current))
		return -EINTR;

	mutex_lock(&region->state_lock);
	run.kaddr = egm_region_kaddr_locked(region);
	mutex_unlock(&region->state_lock);
	if (!run.kaddr) {
		pr_err("PXM %u: cannot map the region to scrub it\n", region->pxm);
		return -ENXIO;
	}

	atomic_inc(&region->scrub_runs);
	/* Pairs with egm_region_scrub_stop(): one of us sees the other. */
	smp_mb__after_atomic();
	if (atomic_read(&region->scrub_cancel)) {
		ret = -EINTR;
		goto out;
	}
	nr = egm_scrub_nr_workers(region, region->nr_chunks);
	start = ktime_get_ns();
	trace_egm_scrub_begin(region->pxm, region->size, nr);
	workers = kcalloc(nr, sizeof(*workers), GFP_KERNEL);
	if (!workers) {
		ret = -ENOMEM;
		goto out_trace;
	}

	atomic64_set(&run.next_chunk, 0);
	atomic64_set(&region->scrub_done, 0);
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
	if (atomic64_read(&run.next_chunk) < region->nr_chunks)
		ret = -EINTR;
out_trace:
	done = min_t(u64, (u64)atomic64_read(&run.next_chunk) * EGM_CHUNK_SIZE,
		     region->size);
	trace_egm_scrub_end(region->pxm, done, ktime_get_ns() - start, ret);
out:
	if (atomic_dec_and_test(&region->scrub_runs))
		wake_up_all(&region->state_wq);
	return ret;
}

/**
 * egm_region_scrubs_running() - how many scrubs of a region are running
 * @region: the region
 *
 * Return: scrubs in progress: background ones, and the zeroing of chunks
 * that accesses do first (egm_region_clean_range()).
 */
int egm_region_scrubs_running(struct egm_region *region)
{
	return atomic_read(&region->scrub_runs);
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_scrubs_running);

/*
 * Where a region nobody holds stands after a scrub, or before one: CLEAN
 * when no chunk is dirty, else DIRTY.  A tenancy can end in the middle of
 * a scrub (queueing the next one), and that scrub may still zero every chunk
 * the tenancy dirtied: the region is then DIRTY with nothing left to do.
 * A region in use stays so.  Returns whether the state changed.
 */
static bool egm_region_settle(struct egm_region *region)
{
	enum egm_state old = region->state;

	lockdep_assert_held(&region->state_lock);
	/* Under state_lock no tenancy is marking chunks dirty: see above. */
	if (old == EGM_DIRTY || old == EGM_SCRUBBING)
		region->state = atomic_long_read(&region->nr_dirty) ?
				EGM_DIRTY : EGM_CLEAN;
	return region->state != old;
}

/*
 * Finish a scrub.  A region nobody took meanwhile becomes CLEAN, or DIRTY
 * again when chunks are left; one that was taken stays IN_USE.
 */
static void egm_scrub_finish(struct egm_region *region, int ret)
{
	enum egm_state state;
	bool changed;

	mutex_lock(&region->state_lock);
	region->scrub_error = ret;
	changed = egm_region_settle(region);
	state = region->state;
	mutex_unlock(&region->state_lock);
	if (changed)
		egm_region_view_notify(region, state);

	if (ret && ret != -EINTR)
		pr_err("PXM %u: scrub failed (%d), %ld chunks stay dirty\n",
		       region->pxm, ret, atomic_long_read(&region->nr_dirty));
	else
		pr_debug("PXM %u: scrub %s\n", region->pxm,
			 ret ? "stopped" : "done");
}

/*
 * The background scrub: runs while chunks are dirty, whether a tenant has
 * taken the region meanwhile or not.
 */
static void egm_scrub_work_fn(struct work_struct *work)
{
	struct egm_region *region = container_of(work, struct egm_region,
						 scrub_work);
	bool run, notify = false;
	enum egm_state state;

	mutex_lock(&region->state_lock);
	run = atomic_long_read(&region->nr_dirty) &&
	      !atomic_read(&region->scrub_cancel);
	if (run && region->state == EGM_DIRTY) {
		region->state = EGM_SCRUBBING;
		notify = true;
	} else if (!run) {
		notify = egm_region_settle(region);
	}
	state = region->state;
	mutex_unlock(&region->state_lock);

	if (notify)
		egm_region_view_notify(region, state);
	if (run)
		egm_scrub_finish(region, egm_scrub_run(region, false));
	/* Revoke waits for this work under egm_registry_lock. */
	egm_region_put_async(region);
}

/**
 * egm_region_scrub_create() - set up a new region's scrubbing and tenancy
 * @region: the region, its size known
 *
 * Every chunk starts dirty: nothing is known of what the memory holds.
 *
 * Return: 0, or -ENOMEM.
 */
int egm_region_scrub_create(struct egm_region *region)
{
	mutex_init(&region->state_lock);
	init_waitqueue_head(&region->state_wq);
	INIT_WORK(&region->scrub_work, egm_scrub_work_fn);
	region->state = EGM_DIRTY;
	region->nr_chunks = DIV_ROUND_UP(region->size, EGM_CHUNK_SIZE);
	region->dirty = bitmap_zalloc_node(region->nr_chunks, GFP_KERNEL,
					   region->nid);
	region->chunk_lock = bitmap_zalloc_node(region->nr_chunks, GFP_KERNEL,
						region->nid);
	if (!region->dirty || !region->chunk_lock) {
		egm_region_scrub_destroy(region);
		return -ENOMEM;
	}
	egm_region_mark_dirty(region);
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
 * egm_region_kick_scrub() - start a background scrub if the region is dirty
 * @region: the region
 *
 * Frontends call this when they expose a region, so that it is clean by
 * the time the first user touches it.  The work holds a region reference.
 */
void egm_region_kick_scrub(struct egm_region *region)
{
	if (atomic_read(&region->scrub_cancel))
		return;
	/*
	 * The coordinator waits for the chunk workers, so it runs on another
	 * workqueue than they do.
	 */
	egm_region_get(region);
	if (!queue_work(egm_wq, &region->scrub_work))
		egm_region_put(region);
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_kick_scrub);

/**
 * egm_region_scrub_stop() - stop every scrub of a region for good
 * @region: the region, revoked
 *
 * Stops the background scrub and the zeroing of chunks that accesses do
 * first, and returns when none of them writes to the memory any more (each
 * stops at the end of its chunk).
 *
 * Context: process context; waits for running scrubs.  The caller holds a
 * region reference of its own, so dropping the work's reference here is
 * never the last put.
 */
void egm_region_scrub_stop(struct egm_region *region)
{
	atomic_set(&region->scrub_cancel, 1);
	/* Pairs with egm_scrub_run(): see the run, or have it see the cancel. */
	smp_mb();
	if (cancel_work_sync(&region->scrub_work))
		egm_region_put_async(region);
	wait_event(region->state_wq, !atomic_read(&region->scrub_runs));
}

/**
 * egm_region_scrub() - scrub a region that nobody holds, in the caller's
 *	context
 * @region: the region
 * @killable: a fatal signal stops the scrub
 *
 * Return: 0 when the region is clean (or in use: nothing to do); -EBUSY
 * when a scrub is already running; -EINTR when stopped, leaving the region
 * DIRTY; another negative errno when the memory cannot be scrubbed.
 */
int egm_region_scrub(struct egm_region *region, bool killable)
{
	int ret;

	mutex_lock(&region->state_lock);
	switch (region->state) {
	case EGM_SCRUBBING:
		mutex_unlock(&region->state_lock);
		return -EBUSY;
	case EGM_CLEAN:
	case EGM_IN_USE:
		mutex_unlock(&region->state_lock);
		return 0;
	case EGM_DIRTY:
		break;
	}
	region->state = EGM_SCRUBBING;
	mutex_unlock(&region->state_lock);
	egm_region_view_notify(region, EGM_SCRUBBING);

	ret = egm_scrub_run(region, killable);
	egm_scrub_finish(region, ret);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_scrub);

/**
 * egm_region_clean_range() - zero what an access is about to reach
 * @region: the region, acquired
 * @first: first page of the access, from the start of the region
 * @nr: number of pages
 *
 * Called before a range is mapped (a fault) or copied (read()/write()):
 * zeroes each dirty chunk of the range, or waits while the scrub zeroes
 * it.  Cheap when the range is clean: one bit test per chunk.  It runs
 * outside egm_srcu (a reset does not wait for it); revoke stops it and
 * waits for it through @region->scrub_runs instead.
 *
 * Context: process context; may sleep.
 * Return: 0 when every chunk of the range is clean; -ENODEV when revoked.
 */
int egm_region_clean_range(struct egm_region *region, pgoff_t first,
			   unsigned long nr)
{
	unsigned long chunk = first / EGM_CHUNK_PAGES;
	unsigned long last = (first + nr - 1) / EGM_CHUNK_PAGES;
	void *kaddr = READ_ONCE(region->kaddr);
	int ret = 0;

	might_sleep();
	/* Pairs with clear_bit_unlock() in egm_clean_chunk(). */
	while (chunk <= last && !test_bit_acquire(chunk, region->dirty))
		chunk++;
	if (chunk > last)
		return 0;
	/* egm_region_acquire() made the mapping. */
	if (WARN_ON_ONCE(!kaddr))
		return -ENXIO;

	atomic_inc(&region->scrub_runs);
	/* Pairs with egm_region_scrub_stop(): one of us sees the other. */
	smp_mb__after_atomic();
	for (; chunk <= last; chunk++) {
		if (atomic_read(&region->scrub_cancel)) {
			ret = -ENODEV;
			break;
		}
		if (egm_clean_chunk(region, kaddr, chunk))
			atomic64_inc(&region->access_scrubs);
	}
	if (atomic_dec_and_test(&region->scrub_runs))
		wake_up_all(&region->state_wq);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_clean_range);

/**
 * egm_region_acquire() - hand a region to a new user, without waiting
 * @region: the region
 *
 * The region becomes EGM_IN_USE with a new tenant file, and the caller
 * holds a region reference; egm_region_release() drops both.  Exclusive:
 * only one acquire succeeds until the tenancy has ended.  It never waits
 * for zeroing: chunks still dirty are zeroed by the background scrub, or
 * by the first access that reaches them (egm_region_clean_range()).
 *
 * Context: process context.
 * Return: 0; -EBUSY when the region is in use; -ENODEV when revoked;
 * -ENOMEM, also when the memory cannot be mapped to be zeroed.
 */
int egm_region_acquire(struct egm_region *region)
{
	enum egm_state state;
	struct file *file;
	int ret = 0;

	if (!READ_ONCE(region->alive))
		return -ENODEV;

	mutex_lock(&region->state_lock);
	state = region->state;
	if (state == EGM_IN_USE) {
		ret = -EBUSY;
	} else if (!egm_region_kaddr_locked(region)) {
		pr_err("PXM %u: cannot map the region to zero it\n",
		       region->pxm);
		ret = -ENOMEM;
	} else {
		file = egm_region_tenant_file_create(region);
		if (IS_ERR(file)) {
			ret = PTR_ERR(file);
		} else {
			region->tenancy = file;
			region->acquirer_holds = true;
			region->state = EGM_IN_USE;
			egm_region_get(region);
			trace_egm_tenant_acquire(region->pxm);
		}
	}
	mutex_unlock(&region->state_lock);
	if (ret)
		return ret;

	egm_region_view_notify(region, EGM_IN_USE);
	/* A scrub stopped or failed earlier: the chunks still need it. */
	if (atomic_long_read(&region->nr_dirty))
		egm_region_kick_scrub(region);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_acquire);

/**
 * egm_region_release() - the acquirer is done with the region
 * @region: the region, from egm_region_acquire()
 *
 * Drops the acquirer's hold on the tenant file, and its reference.  The
 * tenancy goes on while mappings, or IOMMU mappings of them, hold the file.
 */
void egm_region_release(struct egm_region *region)
{
	struct file *file;

	mutex_lock(&region->state_lock);
	file = region->acquirer_holds ? region->tenancy : NULL;
	region->acquirer_holds = false;
	mutex_unlock(&region->state_lock);

	/*
	 * Synchronous, so that a release that ends the tenancy has ended it
	 * on return (a kernel thread's fput() would defer it).
	 */
	if (!WARN_ON_ONCE(!file))
		__fput_sync(file);
	egm_region_put(region);
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_release);

/**
 * egm_region_tenant_file() - the file a mapping of the acquired region uses
 * @region: the region, acquired
 *
 * Return: the tenant file with a reference for the caller, or NULL when
 * the acquirer has released the region.
 */
struct file *egm_region_tenant_file(struct egm_region *region)
{
	struct file *file;

	mutex_lock(&region->state_lock);
	file = region->acquirer_holds ? get_file(region->tenancy) : NULL;
	mutex_unlock(&region->state_lock);
	return file;
}

/**
 * egm_region_tenant_holders() - how many hold the current tenancy
 * @region: the region
 *
 * Return: the references to the tenant file (the acquirer, each mapping,
 * each VFIO DMA mapping), or 0 when no tenancy is going on.
 */
long egm_region_tenant_holders(struct egm_region *region)
{
	long holders = 0;

	mutex_lock(&region->state_lock);
	if (region->tenancy)
		holders = file_count(region->tenancy);
	mutex_unlock(&region->state_lock);
	return holders;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_tenant_holders);

/**
 * egm_region_end_tenancy() - the tenant file's last holder is gone
 * @region: the region
 *
 * No CPU and no IOMMU maps the memory any more: every chunk turns dirty,
 * the sink is wiped, and a background scrub is queued.
 */
void egm_region_end_tenancy(struct egm_region *region)
{
	mutex_lock(&region->state_lock);
	WARN_ON_ONCE(region->state != EGM_IN_USE);
	egm_region_mark_dirty(region);
	egm_region_sink_scrub(region);
	region->state = EGM_DIRTY;
	region->tenancy = NULL;
	mutex_unlock(&region->state_lock);
	trace_egm_tenant_release(region->pxm);
	egm_region_view_notify(region, EGM_DIRTY);

	pr_debug("PXM %u: tenancy ended\n", region->pxm);
	egm_region_kick_scrub(region);
}

/**
 * egm_region_state() - where a region is in the state machine
 * @region: the region
 *
 * Return: the current state; it may change as soon as the lock is dropped.
 */
enum egm_state egm_region_state(struct egm_region *region)
{
	enum egm_state state;

	mutex_lock(&region->state_lock);
	state = region->state;
	mutex_unlock(&region->state_lock);
	return state;
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_state);

int egm_scrub_init(void)
{
	egm_scrub_wq = alloc_workqueue("egm_scrub", WQ_UNBOUND | WQ_SYSFS, 0);
	return egm_scrub_wq ? 0 : -ENOMEM;
}

void egm_scrub_exit(void)
{
	destroy_workqueue(egm_scrub_wq);
}
