// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for egm-core partitions: the arithmetic of their ranges,
 * creating and deleting them (also while in use), the per-parent split,
 * poison seen through a partition, the scoped reset, and the tenancies of
 * two partitions side by side.
 *
 * The egm_partition suite needs no EGM memory: its regions live in a free
 * window of the physical address space, as in poison_kunit.c, and nothing
 * maps or zeroes them.  The egm_partition_tenancy suite takes tenants,
 * which map the memory to zero it: it uses the hidden memory of
 * egm_kunit_mem_register() and skips without it (UML).
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/egm_core.h>
#include <linux/delay.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "../egm_internal.h"
#include "egm_kunit.h"

#define EGM_PK_WINDOW	SZ_1G
#define EGM_PK_REGION	(SZ_256M + SZ_1M)	/* the last chunk is partial */
#define EGM_PK_PXM	17

struct egm_pk {
	struct resource window;
	struct device *parent[2];
	struct egm_attachment *att[2];
	struct egm_region *region;
	struct egm_kunit_mem mem;
};

static int egm_pk_init(struct kunit *test)
{
	struct egm_region_desc desc = { .size = EGM_PK_REGION, .pxm = EGM_PK_PXM };
	struct egm_pk *ctx;
	int err, i;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->window.name = "egm-kunit-partition";
	ctx->window.flags = IORESOURCE_MEM;
	err = allocate_resource(&iomem_resource, &ctx->window, EGM_PK_WINDOW,
				SZ_4G, iomem_resource.end, EGM_PK_WINDOW,
				NULL, NULL);
	KUNIT_ASSERT_EQ(test, err, 0);
	test->priv = ctx;

	desc.base = ctx->window.start;
	for (i = 0; i < 2; i++) {
		/* Named so that gpu0 sorts first, as a lower BDF would. */
		ctx->parent[i] = kunit_device_register(test, i ? "egm-pk-gpu1" :
							    "egm-pk-gpu0");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->parent[i]);
		ctx->att[i] = egm_register_region(ctx->parent[i], &desc);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->att[i]);
	}
	ctx->region = egm_attachment_region(ctx->att[0]);
	return 0;
}

static void egm_pk_exit(struct kunit *test)
{
	struct egm_pk *ctx = test->priv;
	int i;

	if (!ctx)
		return;
	for (i = 1; i >= 0; i--)
		egm_unregister_region(ctx->att[i]);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
	if (!ctx->window.child)
		release_resource(&ctx->window);
}

static struct egm_partition *egm_pk_get(struct egm_region *region,
					unsigned int index)
{
	struct egm_partition *part = egm_partition_get_by_index(region, index);

	/* The region holds it too: the reference can go at once. */
	egm_partition_put(part);
	return part;
}

/* Ranges: aligned to chunks, inside the region, not wrapping. */
static void egm_partition_range_rules(struct kunit *test)
{
	struct egm_region *region = ((struct egm_pk *)test->priv)->region;
	u64 end = region->size;

	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, 0, SZ_2M), 0);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, 0, end), 0);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, SZ_1M, SZ_2M),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, 0, SZ_1M),
			-EINVAL);
	/* A size that is not whole chunks only where it ends the region. */
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, SZ_256M, SZ_1M),
			0);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, SZ_256M, SZ_2M),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, end, SZ_2M),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, egm_partition_check_range(region, SZ_2M, U64_MAX),
			-EOVERFLOW);
}

/* Creation and deletion: overlaps, names, indexes, limits. */
static void egm_partition_create_delete(struct kunit *test)
{
	struct egm_region *region = ((struct egm_pk *)test->priv)->region;
	struct egm_partition *whole = egm_pk_get(region, EGM_PARTITION_WHOLE);
	struct egm_partition *a, *b, *p;
	int i;

	/* A region starts with one partition, over all of it. */
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_EXPECT_EQ(test, whole->offset, 0ull);
	KUNIT_EXPECT_EQ(test, whole->size, region->size);
	KUNIT_EXPECT_STREQ(test, whole->name, "egm17");

	KUNIT_EXPECT_EQ(test, PTR_ERR(egm_partition_create(region, 0, SZ_2M)),
			(long)-EEXIST);
	KUNIT_EXPECT_EQ(test, PTR_ERR(egm_partition_create(region, SZ_1M, SZ_2M)),
			(long)-EINVAL);
	KUNIT_EXPECT_EQ(test, egm_partition_delete(region, 5), -ENOENT);
	KUNIT_ASSERT_EQ(test, egm_partition_delete(region, EGM_PARTITION_WHOLE), 0);
	KUNIT_EXPECT_NULL(test, egm_pk_get(region, EGM_PARTITION_WHOLE));

	a = egm_partition_create(region, 0, SZ_64M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, a->index, 1u);
	KUNIT_EXPECT_STREQ(test, a->name, "egm17.1");
	b = egm_partition_create(region, SZ_64M, SZ_32M);	/* adjacent */
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_EQ(test, b->index, 2u);
	KUNIT_EXPECT_EQ(test, b->first_chunk, (unsigned long)(SZ_64M / SZ_2M));
	KUNIT_EXPECT_EQ(test, PTR_ERR(egm_partition_create(region, SZ_32M, SZ_64M)),
			(long)-EEXIST);
	KUNIT_EXPECT_EQ(test, PTR_ERR(egm_partition_create(region, SZ_64M + SZ_16M,
							   SZ_2M)),
			(long)-EEXIST);
	/* The partial last chunk belongs to the partition that ends the region. */
	p = egm_partition_create(region, SZ_256M, SZ_1M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	KUNIT_EXPECT_EQ(test, p->nr_chunks, 1ul);
	KUNIT_EXPECT_EQ(test, p->nr_pages, (unsigned long)(SZ_1M >> PAGE_SHIFT));

	/* An index freed is used again; the whole region's is never handed out. */
	KUNIT_ASSERT_EQ(test, egm_partition_delete(region, a->index), 0);
	a = egm_partition_create(region, SZ_128M, SZ_2M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, a->index, 1u);

	/* At most EGM_PARTITIONS_MAX, the whole-region one counted. */
	for (i = 0; i < EGM_PARTITIONS_MAX; i++) {
		p = egm_partition_create(region, SZ_128M + SZ_2M + (u64)i * SZ_2M, SZ_2M);
		if (IS_ERR(p))
			break;
	}
	KUNIT_EXPECT_EQ(test, PTR_ERR(p), (long)-ENOSPC);
	KUNIT_EXPECT_EQ(test, i, EGM_PARTITIONS_MAX - 1 - 3);

	/* Back to one partition over everything. */
	KUNIT_EXPECT_EQ(test, egm_region_set_layout(region, false), 0);
	whole = egm_pk_get(region, EGM_PARTITION_WHOLE);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_EXPECT_EQ(test, whole->size, region->size);
	KUNIT_EXPECT_NULL(test, egm_pk_get(region, 1));
}

/* Poison is the region's; a partition lists it from its own start. */
static void egm_partition_poison_relative(struct kunit *test)
{
	struct egm_region *region = ((struct egm_pk *)test->priv)->region;
	struct egm_partition *part;
	u64 offsets[4] = {};
	u32 total;

	KUNIT_ASSERT_EQ(test, egm_partition_delete(region, EGM_PARTITION_WHOLE), 0);
	part = egm_partition_create(region, SZ_64M, SZ_32M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part);

	egm_region_mark_poison(region, SZ_1M, 1);		/* before it */
	egm_region_mark_poison(region, SZ_64M + SZ_8M, 1);	/* in it */
	egm_region_mark_poison(region, SZ_64M + SZ_32M - PAGE_SIZE, 1);
	egm_region_mark_poison(region, SZ_64M + SZ_32M, 1);	/* after it */

	KUNIT_EXPECT_EQ(test, egm_partition_poison_list(part, offsets, 4, &total),
			2);
	KUNIT_EXPECT_EQ(test, total, 2u);
	KUNIT_EXPECT_EQ(test, offsets[0], (u64)SZ_8M);
	KUNIT_EXPECT_EQ(test, offsets[1], (u64)(SZ_32M - PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, egm_partition_nr_poisoned(part), 2ul);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&region->nr_poisoned), 4l);
}

/* Each parent its equal share, in name order; back to whole after. */
static void egm_partition_per_parent(struct kunit *test)
{
	struct egm_pk *ctx = test->priv;
	struct egm_region *region = ctx->region;
	struct egm_partition *p0, *p1;
	u64 share = ALIGN_DOWN(region->size / 2, SZ_2M);

	KUNIT_ASSERT_EQ(test, egm_region_set_layout(region, true), 0);
	KUNIT_EXPECT_NULL(test, egm_pk_get(region, EGM_PARTITION_WHOLE));
	p0 = ctx->att[0]->partition;
	p1 = ctx->att[1]->partition;
	KUNIT_ASSERT_NOT_NULL(test, p0);
	KUNIT_ASSERT_NOT_NULL(test, p1);
	KUNIT_EXPECT_EQ(test, p0->offset, 0ull);
	KUNIT_EXPECT_EQ(test, p1->offset, p0->size);
	KUNIT_EXPECT_EQ(test, p0->size, p1->size);
	if (share >= PUD_SIZE)
		share = ALIGN_DOWN(share, PUD_SIZE);
	KUNIT_EXPECT_EQ(test, p0->size, share);

	KUNIT_ASSERT_EQ(test, egm_region_set_layout(region, false), 0);
	KUNIT_EXPECT_NULL(test, ctx->att[0]->partition);
	KUNIT_EXPECT_NULL(test, ctx->att[1]->partition);
	KUNIT_EXPECT_NOT_NULL(test, egm_pk_get(region, EGM_PARTITION_WHOLE));
}

/*
 * A parent's reset reaches its own partition only; with no partition of
 * its own, the whole-region one; with neither, nothing.
 */
static void egm_partition_scoped_reset(struct kunit *test)
{
	struct egm_pk *ctx = test->priv;
	struct egm_region *region = ctx->region;
	struct egm_partition *p0, *p1, *whole;

	whole = egm_pk_get(region, EGM_PARTITION_WHOLE);
	KUNIT_ASSERT_EQ(test, egm_reset_begin(ctx->att[1]), 0);
	KUNIT_EXPECT_EQ(test, whole->resets, 1u);
	egm_reset_end(ctx->att[1]);
	KUNIT_EXPECT_EQ(test, whole->resets, 0u);

	KUNIT_ASSERT_EQ(test, egm_region_set_layout(region, true), 0);
	p0 = ctx->att[0]->partition;
	p1 = ctx->att[1]->partition;
	KUNIT_ASSERT_EQ(test, egm_reset_begin(ctx->att[0]), 0);
	KUNIT_EXPECT_EQ(test, p0->resets, 1u);
	KUNIT_EXPECT_EQ(test, p1->resets, 0u);
	/* The layout cannot change the target under a reset's feet. */
	KUNIT_ASSERT_EQ(test, egm_reset_begin(ctx->att[1]), 0);
	KUNIT_EXPECT_EQ(test, p0->resets, 1u);
	KUNIT_EXPECT_EQ(test, p1->resets, 1u);
	egm_reset_end(ctx->att[0]);
	KUNIT_EXPECT_EQ(test, p0->resets, 0u);
	KUNIT_EXPECT_EQ(test, p1->resets, 1u);
	egm_reset_end(ctx->att[1]);
	KUNIT_EXPECT_EQ(test, p1->resets, 0u);

	/* An operator's layout with no partition of the parent's: no target. */
	KUNIT_ASSERT_EQ(test, egm_region_set_layout(region, false), 0);
	KUNIT_ASSERT_EQ(test, egm_partition_delete(region, EGM_PARTITION_WHOLE), 0);
	p0 = egm_partition_create(region, 0, SZ_64M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p0);
	KUNIT_ASSERT_EQ(test, egm_reset_begin(ctx->att[0]), 0);
	KUNIT_EXPECT_EQ(test, p0->resets, 0u);
	egm_reset_end(ctx->att[0]);
}

/* A region over hidden memory, with two partitions of 32 MiB. */
static void egm_pk_mem_split(struct kunit *test, struct egm_partition **a,
			     struct egm_partition **b)
{
	struct egm_pk *ctx = test->priv;
	struct egm_region *region;

	egm_kunit_mem_register(test, &ctx->mem, 0, SZ_64M, EGM_PK_PXM);
	region = ctx->mem.region;
	KUNIT_ASSERT_NOT_NULL(test, egm_kunit_kaddr(region));
	KUNIT_ASSERT_EQ(test, egm_partition_delete(region, EGM_PARTITION_WHOLE), 0);
	*a = egm_partition_create(region, 0, SZ_32M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, *a);
	*b = egm_partition_create(region, SZ_32M, SZ_32M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, *b);
}

/* Wait (bounded, 60 s) for the background scrub to make @part clean. */
static bool egm_pk_wait_clean(struct egm_partition *part)
{
	int i;

	for (i = 0; i < 3000; i++) {
		if (egm_partition_state(part) == EGM_CLEAN)
			return true;
		msleep(20);
	}
	return false;
}

static void egm_pk_release(void *part)
{
	egm_partition_release(part);
}

/*
 * A tenant holds its partition against deletion and the layout; the
 * partition next to it can go.  A deleted partition takes no tenant.
 */
static void egm_partition_delete_in_use(struct kunit *test)
{
	struct egm_region *region;
	struct egm_partition *a, *b;

	egm_pk_mem_split(test, &a, &b);
	region = a->region;
	KUNIT_ASSERT_EQ(test, egm_partition_acquire(a), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, egm_pk_release, a),
			0);
	KUNIT_EXPECT_EQ(test, egm_partition_delete(region, a->index), -EBUSY);
	KUNIT_EXPECT_EQ(test, egm_region_set_layout(region, false), -EBUSY);
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_IN_USE);

	/* b may go while a runs, and come back. */
	egm_partition_get(b);
	KUNIT_EXPECT_EQ(test, egm_partition_delete(region, b->index), 0);
	KUNIT_EXPECT_EQ(test, egm_partition_acquire(b), -ENODEV);
	egm_partition_put(b);
	b = egm_partition_create(region, SZ_32M, SZ_32M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_EQ(test, egm_partition_state(b), EGM_DIRTY);

	kunit_release_action(test, egm_pk_release, a);
	KUNIT_EXPECT_EQ(test, egm_partition_delete(region, a->index), 0);
}

/*
 * Two tenants side by side: one's data survives the other's end of
 * tenancy and its scrub, and the next tenant of the other sees zeros.
 */
static void egm_partition_tenancies_apart(struct kunit *test)
{
	struct egm_partition *a, *b;
	struct egm_region *region;
	u8 *kaddr;

	egm_pk_mem_split(test, &a, &b);
	region = a->region;
	kaddr = egm_kunit_kaddr(region);

	KUNIT_ASSERT_EQ(test, egm_partition_acquire(a), 0);
	KUNIT_ASSERT_EQ(test, egm_partition_acquire(b), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, egm_pk_release, b),
			0);
	KUNIT_ASSERT_EQ(test, egm_partition_clean_range(a, 0, a->nr_pages), 0);
	KUNIT_ASSERT_EQ(test, egm_partition_clean_range(b, 0, b->nr_pages), 0);
	memset(kaddr, 0xa5, SZ_32M);
	memset(kaddr + SZ_32M, 0x5b, SZ_32M);

	/* a's tenant leaves: a's chunks turn dirty (and are scrubbed), b's not. */
	egm_partition_release(a);
	KUNIT_EXPECT_NE(test, egm_partition_state(a), EGM_IN_USE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&b->nr_dirty), 0l);
	KUNIT_EXPECT_EQ(test, egm_partition_state(b), EGM_IN_USE);

	/* a's next tenant, at once, sees zeros; b's memory is b's still. */
	KUNIT_ASSERT_EQ(test, egm_partition_acquire(a), 0);
	KUNIT_EXPECT_EQ(test, egm_partition_clean_range(a, 0, a->nr_pages), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(kaddr, 0, SZ_32M));
	KUNIT_EXPECT_NULL(test, memchr_inv(kaddr + SZ_32M, 0x5b, SZ_32M));
	memset(kaddr, 0xa5, SZ_32M);
	egm_partition_release(a);
	KUNIT_EXPECT_TRUE(test, egm_pk_wait_clean(a));
	KUNIT_EXPECT_NULL(test, memchr_inv(kaddr, 0, SZ_32M));
	KUNIT_EXPECT_NULL(test, memchr_inv(kaddr + SZ_32M, 0x5b, SZ_32M));
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_IN_USE);
	/* Before the suite's exit unregisters the region. */
	kunit_release_action(test, egm_pk_release, b);
}

static struct kunit_case egm_partition_cases[] = {
	KUNIT_CASE(egm_partition_range_rules),
	KUNIT_CASE(egm_partition_create_delete),
	KUNIT_CASE(egm_partition_poison_relative),
	KUNIT_CASE(egm_partition_per_parent),
	KUNIT_CASE(egm_partition_scoped_reset),
	{}
};

static struct kunit_suite egm_partition_suite = {
	.name = "egm_partition",
	.init = egm_pk_init,
	.exit = egm_pk_exit,
	.test_cases = egm_partition_cases,
};

/*
 * The cases with tenants, on hidden memory alone: the free window of the
 * cases above may be that very memory (arm64 places it at 4 GiB).
 */
static int egm_pk_mem_init(struct kunit *test)
{
	struct egm_pk *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	test->priv = ctx;
	return 0;
}

static void egm_pk_mem_exit(struct kunit *test)
{
	struct egm_pk *ctx = test->priv;

	if (ctx)
		egm_kunit_mem_unregister(test, &ctx->mem);
}

static struct kunit_case egm_partition_tenancy_cases[] = {
	KUNIT_CASE(egm_partition_delete_in_use),
	KUNIT_CASE(egm_partition_tenancies_apart),
	{}
};

static struct kunit_suite egm_partition_tenancy_suite = {
	.name = "egm_partition_tenancy",
	.init = egm_pk_mem_init,
	.exit = egm_pk_mem_exit,
	.test_cases = egm_partition_tenancy_cases,
};

kunit_test_suites(&egm_partition_suite, &egm_partition_tenancy_suite);
