// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for egm-core scrubbing and tenancy: zeroing skips poisoned
 * pages, a fatal signal stops a scrub and leaves the region dirty, a region
 * is scrubbed in the background between users, acquiring never waits for
 * it, and an access zeroes (or waits for) only the chunks it reaches.  They
 * need memory hidden from the kernel (see egm_kunit.h) and skip without it.
 */
#include <kunit/test.h>
#include <linux/egm_core.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/sched/signal.h>
#include <linux/wait_bit.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "egm_kunit.h"

#define EGM_ST_PXM	13

static void egm_st_exit(struct kunit *test)
{
	struct egm_kunit_mem *mem = test->priv;

	if (mem)
		egm_kunit_mem_unregister(test, mem);
}

static struct egm_kunit_mem *egm_st_setup(struct kunit *test, u64 size)
{
	struct egm_kunit_mem *mem;

	mem = kunit_kzalloc(test, sizeof(*mem), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	test->priv = mem;
	egm_kunit_mem_register(test, mem, 0, size, EGM_ST_PXM);
	KUNIT_ASSERT_EQ(test, egm_region_state(mem->region), EGM_DIRTY);
	return mem;
}

static u8 *egm_st_kaddr(struct kunit *test, struct egm_region *region)
{
	u8 *kaddr = egm_kunit_kaddr(region);

	KUNIT_ASSERT_NOT_NULL(test, kaddr);
	return kaddr;
}

static void egm_st_release(void *part)
{
	egm_partition_release(part);
}

/* Count pages that are not all zero; poisoned pages must keep @fill. */
static unsigned long egm_st_dirty_pages(struct kunit *test,
					struct egm_region *region, u8 fill)
{
	u8 *kaddr = region->kaddr;
	unsigned long i, dirty = 0;

	for (i = 0; i < region->nr_pages; i++) {
		u8 *page = kaddr + ((u64)i << PAGE_SHIFT);

		if (test_bit(i, region->poison)) {
			KUNIT_EXPECT_NULL_MSG(test, memchr_inv(page, fill, PAGE_SIZE),
					      "poisoned page %lu was written", i);
			continue;
		}
		if (memchr_inv(page, 0, PAGE_SIZE))
			dirty++;
	}
	return dirty;
}

static void egm_scrub_zeroes_all_but_poison(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, SZ_64M);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;
	u8 *kaddr = egm_st_kaddr(test, region);

	memset(kaddr, 0xa5, region->size);
	/* Poison the first page, one in the middle, and the last. */
	egm_region_mark_poison(region, 0, 1);
	egm_region_mark_poison(region, SZ_32M + 5 * PAGE_SIZE, 1);
	egm_region_mark_poison(region, region->size - 1, 1);

	KUNIT_EXPECT_EQ(test, egm_partition_scrub(whole, true), 0);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_CLEAN);
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0xa5), 0ul);

	/* A clean region is not scrubbed again. */
	KUNIT_EXPECT_EQ(test, egm_partition_scrub(whole, true), 0);
}

/* A caller that is already dying does not scrub: the region stays dirty. */
static void egm_scrub_fatal_signal_pending(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, SZ_64M);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;
	u8 *kaddr = egm_st_kaddr(test, region);
	int ret;

	memset(kaddr, 0x5a, region->size);
	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
	KUNIT_ASSERT_TRUE(test, fatal_signal_pending(current));

	ret = egm_partition_scrub(whole, true);
	flush_signals(current);
	disallow_signal(SIGKILL);

	KUNIT_EXPECT_EQ(test, ret, -EINTR);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_DIRTY);
	KUNIT_EXPECT_NE(test, egm_st_dirty_pages(test, region, 0), 0ul);
}

struct egm_st_killer {
	struct task_struct *victim;
	unsigned int delay_ms;
};

static int egm_st_killer_fn(void *data)
{
	struct egm_st_killer *k = data;

	usleep_range(k->delay_ms * 1000, k->delay_ms * 1000 + 500);
	send_sig(SIGKILL, k->victim, 1);
	return 0;
}

/*
 * A fatal signal in the middle of a scrub: the scrub either stops, and the
 * region stays DIRTY, or it had already finished, and then every page is
 * zero.  Never half-clean and marked clean.
 */
static void egm_scrub_fatal_signal_midway(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, 0);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;
	struct egm_st_killer k = { .victim = current, .delay_ms = 5 };
	struct task_struct *killer;
	u8 *kaddr = egm_st_kaddr(test, region);
	int ret;

	memset(kaddr, 0x3c, region->size);
	allow_signal(SIGKILL);
	killer = kthread_run(egm_st_killer_fn, &k, "egm-kunit-killer");
	KUNIT_ASSERT_FALSE(test, IS_ERR(killer));

	ret = egm_partition_scrub(whole, true);
	/* The killer may not have fired yet if the scrub was quick. */
	while (!fatal_signal_pending(current))
		usleep_range(1000, 2000);
	flush_signals(current);
	disallow_signal(SIGKILL);

	kunit_info(test, "scrub of %llu MiB returned %d\n", region->size >> 20, ret);
	if (ret) {
		KUNIT_EXPECT_EQ(test, ret, -EINTR);
		KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_DIRTY);
		KUNIT_EXPECT_NE(test, egm_st_dirty_pages(test, region, 0), 0ul);
		/* A later scrub finishes the job. */
		KUNIT_EXPECT_EQ(test, egm_partition_scrub(whole, true), 0);
	}
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_CLEAN);
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0), 0ul);
}

/* Is every byte of chunk @chunk @val? */
static bool egm_st_chunk_is(struct egm_region *region, unsigned long chunk,
			    u8 val)
{
	u64 off = (u64)chunk * EGM_CHUNK_SIZE;

	return !memchr_inv((u8 *)region->kaddr + off, val,
			   min_t(u64, EGM_CHUNK_SIZE, region->size - off));
}

/*
 * Tenancy: one user at a time; acquiring never waits for zeroing; an
 * access zeroes what it reaches first; the last user's release dirties
 * every chunk and scrubs them in the background.
 */
static void egm_scrub_between_tenants(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, SZ_64M);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;
	u8 *kaddr = egm_st_kaddr(test, region);
	pgoff_t last;

	memset(kaddr, 0x77, region->size);
	/* Dirty, nobody scrubbing: taken at once all the same. */
	KUNIT_ASSERT_EQ(test, egm_partition_acquire(whole), 0);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, egm_st_release, whole),
			0);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_IN_USE);
	KUNIT_EXPECT_EQ(test, egm_partition_acquire(whole), -EBUSY);

	/* What the tenant reaches is zero, whoever zeroed it. */
	KUNIT_EXPECT_EQ(test, egm_partition_clean_range(whole, 0, region->nr_pages), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&whole->nr_dirty), 0l);
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0), 0ul);

	/* The tenant leaves data behind. */
	memset(kaddr, 0x77, region->size);
	kunit_release_action(test, egm_st_release, whole);
	KUNIT_EXPECT_NE(test, egm_region_state(region), EGM_IN_USE);

	/* The next tenant, right away, never sees it. */
	KUNIT_ASSERT_EQ(test, egm_partition_acquire(whole), 0);
	KUNIT_EXPECT_EQ(test, egm_partition_clean_range(whole, 0, 1), 0);
	KUNIT_EXPECT_TRUE(test, egm_st_chunk_is(region, 0, 0));
	last = region->nr_pages - 1;
	KUNIT_EXPECT_EQ(test, egm_partition_clean_range(whole, last, 1), 0);
	KUNIT_EXPECT_TRUE(test, egm_st_chunk_is(region, region->nr_chunks - 1, 0));
	egm_partition_release(whole);

	/* And the background scrub finishes the job. */
	KUNIT_ASSERT_TRUE(test, egm_kunit_wait_state(region, EGM_CLEAN));
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0), 0ul);
}

struct egm_st_access {
	struct egm_partition *part;
	pgoff_t page;
	int ret;
	struct completion done;
};

static int egm_st_access_fn(void *data)
{
	struct egm_st_access *a = data;

	a->ret = egm_partition_clean_range(a->part, a->page, 1);
	complete_all(&a->done);
	return 0;
}

/*
 * An access that reaches a chunk being zeroed waits for that chunk alone
 * and then finds it zero; nothing is marked clean before it is zeroed.
 * The test holds one chunk's bit lock, as a scrub worker zeroing it does,
 * and lets go without zeroing it (a worker stopped by revoke would not
 * stop in the middle, but this is the harder case): the waiter must zero
 * it itself.
 */
static void egm_scrub_access_waits_for_chunk(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, SZ_64M);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;
	const unsigned long held = 3, other = 5;
	unsigned long *lock = &region->chunk_lock[BIT_WORD(held)];
	int bit = held % BITS_PER_LONG;
	struct egm_st_access a = {
		.part = whole,
		.page = held * EGM_CHUNK_PAGES + 7,
	};
	struct task_struct *task;
	bool waited, untouched, other_clean;
	int other_ret;

	memset(egm_st_kaddr(test, region), 0x5a, region->size);
	init_completion(&a.done);

	/* Take the chunk before the tenant's scrub can. */
	wait_on_bit_lock(lock, bit, TASK_UNINTERRUPTIBLE);
	if (egm_partition_acquire(whole)) {
		clear_and_wake_up_bit(bit, lock);
		KUNIT_FAIL_AND_ABORT(test, "acquire of a dirty region failed");
	}
	task = kthread_run(egm_st_access_fn, &a, "egm-kunit-access");
	if (IS_ERR(task)) {
		clear_and_wake_up_bit(bit, lock);
		egm_partition_release(whole);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(task));
	}
	other_ret = egm_partition_clean_range(whole, other * EGM_CHUNK_PAGES, 1);
	other_clean = egm_st_chunk_is(region, other, 0);
	waited = !wait_for_completion_timeout(&a.done, msecs_to_jiffies(200));
	untouched = egm_st_chunk_is(region, held, 0x5a) &&
		    test_bit(held, region->dirty);
	clear_and_wake_up_bit(bit, lock);
	wait_for_completion(&a.done);

	KUNIT_EXPECT_EQ(test, other_ret, 0);
	KUNIT_EXPECT_TRUE_MSG(test, other_clean,
			      "an access to another chunk did not find it zero");
	KUNIT_EXPECT_TRUE_MSG(test, waited,
			      "the access did not wait for the chunk being zeroed");
	KUNIT_EXPECT_TRUE_MSG(test, untouched,
			      "the chunk was written or marked clean under its lock");
	KUNIT_EXPECT_EQ(test, a.ret, 0);
	KUNIT_EXPECT_TRUE_MSG(test, egm_st_chunk_is(region, held, 0),
			      "the access returned before its chunk was zero");
	KUNIT_EXPECT_FALSE(test, test_bit(held, region->dirty));
	egm_partition_release(whole);
}

/* Revoke stops a background scrub and leaves the region dirty. */
static void egm_scrub_revoke_stops(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, 0);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;

	u8 *kaddr = egm_st_kaddr(test, region);

	memset(kaddr, 0x42, region->size);
	egm_partition_kick_scrub(whole);
	/* 1 GiB takes seconds under TCG: catch it running. */
	KUNIT_ASSERT_TRUE(test, egm_kunit_wait_state(region, EGM_SCRUBBING));
	egm_revoke_region(mem->att);
	/* Stopped, not finished: still dirty, and dirty pages remain. */
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_DIRTY);
	KUNIT_EXPECT_NE(test, egm_st_dirty_pages(test, region, 0), 0ul);
	KUNIT_EXPECT_EQ(test, egm_partition_acquire(whole), -ENODEV);
}

struct egm_st_tenant {
	struct egm_region *region;
	struct egm_partition *part;
	int acquired;
	int ret;
	struct completion zeroing;
	struct completion done;
};

/* A tenant whose first access reaches the whole region, still dirty. */
static int egm_st_tenant_fn(void *data)
{
	struct egm_st_tenant *t = data;

	t->acquired = egm_partition_acquire(t->part);
	complete_all(&t->zeroing);
	if (!t->acquired) {
		t->ret = egm_partition_clean_range(t->part, 0, t->part->nr_pages);
		egm_partition_release(t->part);
	}
	egm_region_put(t->region);
	complete_all(&t->done);
	return 0;
}

static void egm_st_tenant_wait(void *data)
{
	struct egm_st_tenant *t = data;

	if (wait_for_completion_timeout(&t->done, msecs_to_jiffies(120000)))
		kfree(t);
	else
		pr_err("egm_scrub_revoke_stops_access: tenant stuck, leaking it\n");
}

/*
 * Revoke ("the firmware took the memory back") also stops the zeroing an
 * access does in its own context, and returns only when nothing writes to
 * the memory any more.
 */
static void egm_scrub_revoke_stops_access(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, 0);
	struct egm_region *region = mem->region;
	struct egm_partition *whole = mem->part;
	struct task_struct *task;
	struct egm_st_tenant *t;
	int running, err, i;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	/* The tenant's own reference, as an open file would hold. */
	t->region = egm_region_get_by_pxm(EGM_ST_PXM);
	KUNIT_ASSERT_PTR_EQ(test, t->region, region);
	t->part = whole;
	init_completion(&t->zeroing);
	init_completion(&t->done);
	task = kthread_run(egm_st_tenant_fn, t, "egm-kunit-tenant");
	if (IS_ERR(task)) {
		egm_region_put(region);
		kfree(t);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}
	err = kunit_add_action_or_reset(test, egm_st_tenant_wait, t);
	KUNIT_ASSERT_EQ(test, err, 0);

	/* 1 GiB takes seconds under TCG: catch the tenant zeroing. */
	wait_for_completion(&t->zeroing);
	KUNIT_ASSERT_EQ(test, t->acquired, 0);
	for (i = 0; i < 5000 && !atomic64_read(&whole->access_scrubs); i++)
		usleep_range(1000, 2000);
	KUNIT_ASSERT_NE_MSG(test, atomic64_read(&whole->access_scrubs), 0ll,
			    "the tenant's access never zeroed a chunk");
	KUNIT_ASSERT_FALSE(test, completion_done(&t->done));
	egm_revoke_region(mem->att);
	running = egm_partition_scrubs_running(whole);
	KUNIT_EXPECT_EQ_MSG(test, running, 0,
			    "revoke returned while an access still zeroed");

	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&t->done,
							    msecs_to_jiffies(60000)));
	KUNIT_EXPECT_EQ(test, t->ret, -ENODEV);
	KUNIT_EXPECT_NE(test, atomic_long_read(&whole->nr_dirty), 0l);
}

static struct kunit_case egm_scrub_cases[] = {
	KUNIT_CASE(egm_scrub_zeroes_all_but_poison),
	KUNIT_CASE(egm_scrub_fatal_signal_pending),
	KUNIT_CASE(egm_scrub_fatal_signal_midway),
	KUNIT_CASE(egm_scrub_between_tenants),
	KUNIT_CASE(egm_scrub_access_waits_for_chunk),
	KUNIT_CASE(egm_scrub_revoke_stops),
	KUNIT_CASE(egm_scrub_revoke_stops_access),
	{}
};

static struct kunit_suite egm_scrub_suite = {
	.name = "egm_scrub",
	.exit = egm_st_exit,
	.test_cases = egm_scrub_cases,
};

kunit_test_suite(egm_scrub_suite);
