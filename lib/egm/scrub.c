// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core scrubbing and tenancy: no user of a region ever sees data that
 * an earlier user left.
 *
 * State machine (enum egm_state, under egm_region::state_lock):
 *
 *   DIRTY --scrub starts--> SCRUBBING --done--> CLEAN --acquire--> IN_USE
 *     ^                        |                                     |
 *     +----stopped or failed---+<------------last user gone----------+
 *
 * A region starts DIRTY.  The first frontend that exposes it kicks a
 * background scrub, so the first open usually finds it CLEAN.  A tenancy
 * lasts as long as its tenant file is held (backing.c): by the acquirer,
 * by every mapping, and by every IOMMU mapping VFIO type1 made of the
 * memory.  When the last holder goes, the region turns DIRTY and a
 * background scrub is queued at once: the next tenant's open() does not
 * pay for it unless it comes while the scrub still runs, and then it waits
 * (killable; O_NONBLOCK gets -EAGAIN).  An opener that finds the region
 * DIRTY with no scrub running (an earlier scrub was stopped) scrubs it
 * itself; a fatal signal stops that scrub and leaves the region DIRTY.
 * Nothing is ever marked CLEAN unless every page was zeroed.
 *
 * A scrub splits the region into EGM_SCRUB_CHUNK pieces and runs one work
 * item per CPU of the region's NUMA node (at most EGM_SCRUB_MAX_WORKERS) on
 * an unbound workqueue placed on that node; the workers take chunks from a
 * shared counter, cond_resched() between chunks and stop when told to.
 * Poisoned pages are skipped: touching them is a machine check.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/atomic.h>
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
#include <kunit/visibility.h>
#include <trace/events/egm.h>

#include "egm_internal.h"

#define EGM_SCRUB_CHUNK		SZ_2M
#define EGM_SCRUB_MAX_WORKERS	16

static struct workqueue_struct *egm_scrub_wq;

/* One scrub run, shared by its workers. */
struct egm_scrub_run {
	struct egm_region *region;
	void *kaddr;
	u64 nr_chunks;
	atomic64_t next_chunk;
	atomic_t stop;
	atomic_t running;
	struct completion done;
};

struct egm_scrub_worker {
	struct work_struct work;
	struct egm_scrub_run *run;
};

/* Zero one chunk, skipping poisoned pages. */
static void egm_scrub_chunk(struct egm_scrub_run *run, u64 chunk)
{
	struct egm_region *region = run->region;
	unsigned long first = (chunk * EGM_SCRUB_CHUNK) >> PAGE_SHIFT;
	unsigned long end = min_t(unsigned long,
				  first + (EGM_SCRUB_CHUNK >> PAGE_SHIFT),
				  region->nr_pages);
	unsigned long i = first, bad;

	while (i < end) {
		bad = find_next_bit(region->poison, end, i);
		if (bad > i)
			memset(run->kaddr + ((u64)i << PAGE_SHIFT), 0,
			       (u64)(bad - i) << PAGE_SHIFT);
		i = bad + 1;
	}
	atomic64_add((u64)(end - first) << PAGE_SHIFT, &region->scrub_done);
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
	u64 chunk;

	while (!egm_scrub_should_stop(run)) {
		chunk = atomic64_fetch_inc(&run->next_chunk);
		if (chunk >= run->nr_chunks)
			break;
		egm_scrub_chunk(run, chunk);
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
 * Zero every page of the region but the poisoned ones.  The caller has
 * moved the region to EGM_SCRUBBING.  With @killable, a fatal signal to the
 * caller stops the workers.
 *
 * Return: 0 when every page was zeroed; -EINTR when stopped (fatal signal
 * or revoke); -ENOMEM, or -ENXIO when the memory cannot be mapped.
 */
static int egm_scrub_run(struct egm_region *region, bool killable)
{
	struct egm_scrub_worker *workers;
	struct egm_scrub_run run = {
		.region = region,
		.nr_chunks = DIV_ROUND_UP(region->size, EGM_SCRUB_CHUNK),
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
	egm_region_sink_scrub(region);

	nr = egm_scrub_nr_workers(region, run.nr_chunks);
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

	/* A chunk that was taken was zeroed whole: all taken means all done. */
	if (atomic64_read(&run.next_chunk) < run.nr_chunks)
		ret = -EINTR;
out_trace:
	done = min_t(u64, (u64)atomic64_read(&run.next_chunk) * EGM_SCRUB_CHUNK,
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
 * Return: scrubs in progress, in the background or in openers' contexts.
 */
int egm_region_scrubs_running(struct egm_region *region)
{
	return atomic_read(&region->scrub_runs);
}
EXPORT_SYMBOL_IF_KUNIT(egm_region_scrubs_running);

/* Finish a scrub: the region becomes CLEAN, or DIRTY again. */
static void egm_scrub_finish(struct egm_region *region, int ret)
{
	mutex_lock(&region->state_lock);
	region->scrub_error = ret;
	region->state = ret ? EGM_DIRTY : EGM_CLEAN;
	mutex_unlock(&region->state_lock);
	wake_up_all(&region->state_wq);
	egm_region_view_notify(region, ret ? EGM_DIRTY : EGM_CLEAN);

	if (ret && ret != -EINTR)
		pr_err("PXM %u: scrub failed (%d), region stays dirty\n",
		       region->pxm, ret);
	else
		pr_debug("PXM %u: scrub %s\n", region->pxm,
			 ret ? "stopped, region stays dirty" : "done");
}

static void egm_scrub_work_fn(struct work_struct *work)
{
	struct egm_region *region = container_of(work, struct egm_region,
						 scrub_work);
	bool run;

	mutex_lock(&region->state_lock);
	run = region->state == EGM_DIRTY && !atomic_read(&region->scrub_cancel);
	if (run)
		region->state = EGM_SCRUBBING;
	mutex_unlock(&region->state_lock);

	if (run) {
		egm_region_view_notify(region, EGM_SCRUBBING);
		egm_scrub_finish(region, egm_scrub_run(region, false));
	}
	/* Revoke waits for this work under egm_registry_lock. */
	egm_region_put_async(region);
}

void egm_region_scrub_init(struct egm_region *region)
{
	mutex_init(&region->state_lock);
	init_waitqueue_head(&region->state_wq);
	INIT_WORK(&region->scrub_work, egm_scrub_work_fn);
	region->state = EGM_DIRTY;
}

/**
 * egm_region_kick_scrub() - start a background scrub if the region is dirty
 * @region: the region
 *
 * Frontends call this when they expose a region, so that it is clean by
 * the time the first user opens it.  The work holds a region reference.
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
 * Stops the background scrub and any scrub an opener runs in its own
 * context, and returns when none of their workers writes to the memory
 * any more (each stops at the end of its chunk).
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
 * egm_region_scrub() - scrub a dirty region in the caller's context
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

/*
 * One look at the state: a clean region becomes the caller's (EGM_IN_USE,
 * a new tenant file, a reference).  Returns the state it found; sets
 * *@err to 0, or to the error when the tenant file cannot be made (never
 * left over from an earlier step: a clean region taken with a stale
 * -EBUSY of a lost scrub race would be held and reported as not taken).
 */
static enum egm_state egm_region_try_acquire(struct egm_region *region,
					     int *err)
{
	enum egm_state state;
	struct file *file;

	*err = 0;
	mutex_lock(&region->state_lock);
	state = region->state;
	if (state == EGM_CLEAN) {
		file = egm_region_tenant_file_create(region);
		if (IS_ERR(file)) {
			*err = PTR_ERR(file);
		} else {
			region->tenancy = file;
			region->acquirer_holds = true;
			region->state = EGM_IN_USE;
			egm_region_get(region);
			trace_egm_tenant_acquire(region->pxm);
		}
	}
	mutex_unlock(&region->state_lock);
	if (state == EGM_CLEAN && !*err)
		egm_region_view_notify(region, EGM_IN_USE);
	return state;
}

/**
 * egm_region_acquire() - hand a clean region to a new user
 * @region: the region
 * @nonblock: do not wait for (or run) a scrub
 *
 * The region becomes EGM_IN_USE with a new tenant file, and the caller
 * holds a region reference; egm_region_release() drops both.  Exclusive:
 * only one acquire succeeds until the tenancy has ended and the region has
 * been scrubbed again.
 *
 * Context: process context; may sleep for a scrub.
 * Return: 0; -EBUSY when the region is in use; -EAGAIN with @nonblock while
 * it is not clean; -EINTR on a fatal signal while waiting or scrubbing
 * (the region stays DIRTY or keeps scrubbing); -ENODEV when revoked;
 * -ENOMEM; or the error of a failed scrub.
 */
int egm_region_acquire(struct egm_region *region, bool nonblock)
{
	enum egm_state state;
	int ret = 0;

	for (;;) {
		if (!READ_ONCE(region->alive))
			return -ENODEV;

		state = egm_region_try_acquire(region, &ret);
		switch (state) {
		case EGM_CLEAN:
			return ret;
		case EGM_IN_USE:
			return -EBUSY;
		case EGM_SCRUBBING:
			if (nonblock)
				return -EAGAIN;
			if (wait_event_killable(region->state_wq,
						READ_ONCE(region->state) != EGM_SCRUBBING))
				return -EINTR;
			break;
		case EGM_DIRTY:
			if (nonblock) {
				egm_region_kick_scrub(region);
				return -EAGAIN;
			}
			ret = egm_region_scrub(region, true);
			if (ret && ret != -EBUSY)
				return READ_ONCE(region->alive) ? ret : -ENODEV;
			break;
		}
	}
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
 * No CPU and no IOMMU maps the memory any more: the region turns DIRTY
 * and a background scrub is queued.
 */
void egm_region_end_tenancy(struct egm_region *region)
{
	mutex_lock(&region->state_lock);
	WARN_ON_ONCE(region->state != EGM_IN_USE);
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
