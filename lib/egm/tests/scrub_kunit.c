// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for egm-core scrubbing and tenancy: zeroing skips poisoned
 * pages, a fatal signal stops a scrub and leaves the region dirty, and a
 * region is scrubbed in the background between users.  They need memory
 * hidden from the kernel (see egm_kunit.h) and skip without it.
 */
#include <kunit/test.h>
#include <linux/egm_core.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/sched/signal.h>
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

static void egm_st_release(void *region)
{
	egm_region_release(region);
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
	u8 *kaddr = egm_st_kaddr(test, region);

	memset(kaddr, 0xa5, region->size);
	/* Poison the first page, one in the middle, and the last. */
	egm_region_mark_poison(region, 0, 1);
	egm_region_mark_poison(region, SZ_32M + 5 * PAGE_SIZE, 1);
	egm_region_mark_poison(region, region->size - 1, 1);

	KUNIT_EXPECT_EQ(test, egm_region_scrub(region, true), 0);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_CLEAN);
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0xa5), 0ul);

	/* A clean region is not scrubbed again. */
	KUNIT_EXPECT_EQ(test, egm_region_scrub(region, true), 0);
}

/* A caller that is already dying does not scrub: the region stays dirty. */
static void egm_scrub_fatal_signal_pending(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, SZ_64M);
	struct egm_region *region = mem->region;
	u8 *kaddr = egm_st_kaddr(test, region);
	int ret;

	memset(kaddr, 0x5a, region->size);
	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
	KUNIT_ASSERT_TRUE(test, fatal_signal_pending(current));

	ret = egm_region_scrub(region, true);
	KUNIT_EXPECT_EQ(test, egm_region_acquire(region, false), -EINTR);
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
	struct egm_st_killer k = { .victim = current, .delay_ms = 5 };
	struct task_struct *killer;
	u8 *kaddr = egm_st_kaddr(test, region);
	int ret;

	memset(kaddr, 0x3c, region->size);
	allow_signal(SIGKILL);
	killer = kthread_run(egm_st_killer_fn, &k, "egm-kunit-killer");
	KUNIT_ASSERT_FALSE(test, IS_ERR(killer));

	ret = egm_region_scrub(region, true);
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
		KUNIT_EXPECT_EQ(test, egm_region_scrub(region, true), 0);
	}
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_CLEAN);
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0), 0ul);
}

/*
 * Tenancy: one user at a time; the last user's release scrubs in the
 * background; the next acquire gets a clean region.
 */
static void egm_scrub_between_tenants(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, SZ_64M);
	struct egm_region *region = mem->region;
	u8 *kaddr = egm_st_kaddr(test, region);

	/* Dirty and not scrubbing: a non-blocking acquire starts the scrub. */
	KUNIT_EXPECT_EQ(test, egm_region_acquire(region, true), -EAGAIN);
	/* A blocking one waits for it (or runs it). */
	KUNIT_ASSERT_EQ(test, egm_region_acquire(region, false), 0);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, egm_st_release, region),
			0);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_IN_USE);
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0), 0ul);
	KUNIT_EXPECT_EQ(test, egm_region_acquire(region, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, egm_region_acquire(region, true), -EBUSY);

	/* The tenant leaves data behind. */
	memset(kaddr, 0x77, region->size);
	kunit_release_action(test, egm_st_release, region);

	/* The next tenant never sees it. */
	KUNIT_ASSERT_TRUE(test, egm_kunit_wait_state(region, EGM_CLEAN));
	KUNIT_EXPECT_EQ(test, egm_st_dirty_pages(test, region, 0), 0ul);
	KUNIT_ASSERT_EQ(test, egm_region_acquire(region, true), 0);
	egm_region_release(region);
	KUNIT_EXPECT_TRUE(test, egm_kunit_wait_state(region, EGM_CLEAN));
}

/* Revoke stops a background scrub and leaves the region dirty. */
static void egm_scrub_revoke_stops(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, 0);
	struct egm_region *region = mem->region;

	u8 *kaddr = egm_st_kaddr(test, region);

	memset(kaddr, 0x42, region->size);
	egm_region_kick_scrub(region);
	/* 1 GiB takes seconds under TCG: catch it running. */
	KUNIT_ASSERT_TRUE(test, egm_kunit_wait_state(region, EGM_SCRUBBING));
	egm_revoke_region(mem->att);
	/* Stopped, not finished: still dirty, and dirty pages remain. */
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_DIRTY);
	KUNIT_EXPECT_NE(test, egm_st_dirty_pages(test, region, 0), 0ul);
	KUNIT_EXPECT_EQ(test, egm_region_acquire(region, false), -ENODEV);
}

struct egm_st_opener {
	struct egm_region *region;
	int ret;
	struct completion done;
};

/* An opener that finds the region dirty and scrubs it in its own context. */
static int egm_st_opener_fn(void *data)
{
	struct egm_st_opener *o = data;

	o->ret = egm_region_acquire(o->region, false);
	if (!o->ret)
		egm_region_release(o->region);
	egm_region_put(o->region);
	complete_all(&o->done);
	return 0;
}

static void egm_st_opener_wait(void *data)
{
	struct egm_st_opener *o = data;

	if (wait_for_completion_timeout(&o->done, msecs_to_jiffies(120000)))
		kfree(o);
	else
		pr_err("egm_scrub_revoke_stops_opener: opener stuck, leaking it\n");
}

/*
 * Revoke ("the firmware took the memory back") also stops a scrub that an
 * opener runs in its own context, and returns only when none of its
 * workers writes to the memory any more.
 */
static void egm_scrub_revoke_stops_opener(struct kunit *test)
{
	struct egm_kunit_mem *mem = egm_st_setup(test, 0);
	struct egm_region *region = mem->region;
	struct task_struct *task;
	struct egm_st_opener *o;
	int running, err;

	o = kzalloc(sizeof(*o), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, o);
	/* The opener's own reference, as an open file would hold. */
	o->region = egm_region_get_by_pxm(EGM_ST_PXM);
	KUNIT_ASSERT_PTR_EQ(test, o->region, region);
	init_completion(&o->done);
	task = kthread_run(egm_st_opener_fn, o, "egm-kunit-opener");
	if (IS_ERR(task)) {
		egm_region_put(region);
		kfree(o);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}
	err = kunit_add_action_or_reset(test, egm_st_opener_wait, o);
	KUNIT_ASSERT_EQ(test, err, 0);

	/* 1 GiB takes seconds under TCG: catch the opener's scrub running. */
	KUNIT_ASSERT_TRUE(test, egm_kunit_wait_state(region, EGM_SCRUBBING));
	KUNIT_ASSERT_FALSE(test, completion_done(&o->done));
	egm_revoke_region(mem->att);
	running = egm_region_scrubs_running(region);
	KUNIT_EXPECT_EQ_MSG(test, running, 0,
			    "revoke returned while an opener's scrub still ran");

	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&o->done,
							    msecs_to_jiffies(60000)));
	KUNIT_EXPECT_EQ(test, o->ret, -ENODEV);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_DIRTY);
}

static struct kunit_case egm_scrub_cases[] = {
	KUNIT_CASE(egm_scrub_zeroes_all_but_poison),
	KUNIT_CASE(egm_scrub_fatal_signal_pending),
	KUNIT_CASE(egm_scrub_fatal_signal_midway),
	KUNIT_CASE(egm_scrub_between_tenants),
	KUNIT_CASE(egm_scrub_revoke_stops),
	KUNIT_CASE(egm_scrub_revoke_stops_opener),
	{}
};

static struct kunit_suite egm_scrub_suite = {
	.name = "egm_scrub",
	.exit = egm_st_exit,
	.test_cases = egm_scrub_cases,
};

kunit_test_suite(egm_scrub_suite);
