// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the egm-core region registry.
 *
 * Parents are real devices (kunit_device_register()).  Each test owns a
 * free 256 MiB window of the physical address space, claimed in
 * iomem_resource with allocate_resource() and not marked busy, so the
 * registry's request_mem_region() nests inside it exactly as it does under
 * a firmware-described reserved range.  The registry never touches the
 * memory, so the window needs no RAM behind it.  Every test ends by
 * checking that nothing leaked: no region object alive and no claim left
 * inside the window.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/egm_core.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>

#include "../egm_internal.h"

#define EGM_TEST_WINDOW		SZ_256M
#define EGM_TEST_REGION		SZ_64M
#define EGM_TEST_PXM		3

struct egm_registry_test {
	struct resource window;
	struct device *parent[4];
};

static int egm_registry_test_init(struct kunit *test)
{
	struct egm_registry_test *ctx;
	int i, err;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);

	ctx->window.name = "egm-kunit-window";
	ctx->window.flags = IORESOURCE_MEM;
	err = allocate_resource(&iomem_resource, &ctx->window, EGM_TEST_WINDOW,
				SZ_4G, iomem_resource.end, EGM_TEST_WINDOW,
				NULL, NULL);
	KUNIT_ASSERT_EQ_MSG(test, err, 0, "no free physical window for the test");

	for (i = 0; i < ARRAY_SIZE(ctx->parent); i++) {
		char name[24];

		snprintf(name, sizeof(name), "egm-test-gpu%d", i);
		ctx->parent[i] = kunit_device_register(test, name);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->parent[i]);
	}

	test->priv = ctx;
	return 0;
}

static void egm_registry_test_exit(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region *left;

	if (!ctx)
		return;
	/* Nothing a test registered may outlive it. */
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
	left = egm_region_get_by_pxm(EGM_TEST_PXM);
	KUNIT_EXPECT_NULL(test, left);
	egm_region_put(left);
	KUNIT_EXPECT_NULL_MSG(test, ctx->window.child,
			      "a claim was left inside the test window");
	/* A leaked claim keeps pointing at the window: then leak it too. */
	if (!ctx->window.child)
		release_resource(&ctx->window);
}

static struct egm_region_desc egm_test_desc(struct kunit *test, u64 offset,
					    u64 size, u32 pxm)
{
	struct egm_registry_test *ctx = test->priv;

	return (struct egm_region_desc) {
		.base = ctx->window.start + offset,
		.size = size,
		.pxm = pxm,
	};
}

/* Register and expect success. */
static struct egm_attachment *egm_test_attach(struct kunit *test, int parent,
					      const struct egm_region_desc *desc)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_attachment *att;

	att = egm_register_region(ctx->parent[parent], desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, att);
	return att;
}

/* Register and expect @err, with no trace left behind. */
static void egm_test_refused(struct kunit *test, struct device *parent,
			     const struct egm_region_desc *desc, int err)
{
	int live = egm_nr_live_regions();
	struct egm_attachment *att;

	att = egm_register_region(parent, desc);
	KUNIT_EXPECT_TRUE(test, IS_ERR(att));
	if (!IS_ERR(att)) {
		egm_unregister_region(att);
		return;
	}
	KUNIT_EXPECT_EQ(test, PTR_ERR(att), err);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), live);
}

static bool egm_test_window_claimed(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;

	return ctx->window.child;
}

static void egm_registry_register_creates_region(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_region *region, *found;
	struct egm_attachment *att;

	att = egm_test_attach(test, 0, &desc);
	region = egm_attachment_region(att);

	KUNIT_EXPECT_EQ(test, egm_region_base(region), desc.base);
	KUNIT_EXPECT_EQ(test, egm_region_size(region), (u64)EGM_TEST_REGION);
	KUNIT_EXPECT_EQ(test, egm_region_pxm(region), (u32)EGM_TEST_PXM);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 1);

	/* The range is claimed, named after the PXM, inside the window. */
	KUNIT_ASSERT_TRUE(test, egm_test_window_claimed(test));
	KUNIT_EXPECT_EQ(test, ctx->window.child->start, desc.base);
	KUNIT_EXPECT_STREQ(test, ctx->window.child->name, "egm-pxm3");

	found = egm_region_get_by_pxm(EGM_TEST_PXM);
	KUNIT_EXPECT_PTR_EQ(test, found, region);
	egm_region_put(found);

	egm_unregister_region(att);
	KUNIT_EXPECT_NULL(test, egm_region_get_by_pxm(EGM_TEST_PXM));
	KUNIT_EXPECT_FALSE(test, egm_test_window_claimed(test));
}

static int egm_test_count_parent(struct device *parent, void *data)
{
	struct device **seen = data;

	while (*seen)
		seen++;
	*seen = parent;
	return 0;
}

static void egm_registry_second_parent_joins(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct device *seen[4] = {};
	struct egm_attachment *a, *b;

	a = egm_test_attach(test, 0, &desc);
	b = egm_test_attach(test, 1, &desc);

	KUNIT_EXPECT_PTR_EQ(test, egm_attachment_region(a),
			    egm_attachment_region(b));
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 1);

	egm_region_walk_parents(egm_attachment_region(a),
				egm_test_count_parent, seen);
	KUNIT_EXPECT_PTR_EQ(test, seen[0], ctx->parent[0]);
	KUNIT_EXPECT_PTR_EQ(test, seen[1], ctx->parent[1]);
	KUNIT_EXPECT_NULL(test, seen[2]);

	egm_unregister_region(a);
	egm_unregister_region(b);
}

static int egm_test_stop_at_first(struct device *parent, void *data)
{
	(*(int *)data)++;
	return -ECANCELED;
}

static void egm_registry_parent_walk_stops(struct kunit *test)
{
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_attachment *a, *b;
	int calls = 0;

	a = egm_test_attach(test, 0, &desc);
	b = egm_test_attach(test, 1, &desc);

	KUNIT_EXPECT_EQ(test,
			egm_region_walk_parents(egm_attachment_region(a),
						egm_test_stop_at_first, &calls),
			-ECANCELED);
	KUNIT_EXPECT_EQ(test, calls, 1);

	egm_unregister_region(b);
	egm_unregister_region(a);
}

/* Three parents, torn down in each of the six possible orders. */
static void egm_registry_every_unregister_order(struct kunit *test)
{
	static const int orders[][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	int o, i;

	for (o = 0; o < ARRAY_SIZE(orders); o++) {
		struct egm_attachment *att[3];
		struct egm_region *region;

		for (i = 0; i < 3; i++)
			att[i] = egm_test_attach(test, i, &desc);
		region = egm_attachment_region(att[0]);

		for (i = 0; i < 3; i++) {
			struct egm_region *found;

			egm_unregister_region(att[orders[o][i]]);
			found = egm_region_get_by_pxm(EGM_TEST_PXM);
			if (i < 2) {
				KUNIT_EXPECT_PTR_EQ(test, found, region);
				KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 1);
				KUNIT_EXPECT_TRUE(test, egm_test_window_claimed(test));
			} else {
				KUNIT_EXPECT_NULL(test, found);
				KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
				KUNIT_EXPECT_FALSE(test, egm_test_window_claimed(test));
			}
			egm_region_put(found);
		}
	}
}

/*
 * A lookup reference keeps the retired region (and its claim) alive; the
 * PXM cannot be registered again over it until that reference is put.
 */
static void egm_registry_reference_outlives_parents(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_attachment *att;
	struct egm_region *held;

	att = egm_test_attach(test, 0, &desc);
	held = egm_region_get_by_pxm(EGM_TEST_PXM);
	KUNIT_ASSERT_NOT_NULL(test, held);

	egm_unregister_region(att);
	KUNIT_EXPECT_NULL(test, egm_region_get_by_pxm(EGM_TEST_PXM));
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 1);
	KUNIT_EXPECT_TRUE(test, egm_test_window_claimed(test));
	KUNIT_EXPECT_EQ(test, egm_region_size(held), (u64)EGM_TEST_REGION);

	egm_test_refused(test, ctx->parent[1], &desc, -EBUSY);

	egm_region_put(held);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
	KUNIT_EXPECT_FALSE(test, egm_test_window_claimed(test));

	att = egm_test_attach(test, 1, &desc);
	egm_unregister_region(att);
}

static void egm_registry_reregister_after_teardown(struct kunit *test)
{
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_region_desc moved = egm_test_desc(test, EGM_TEST_REGION,
						     2 * EGM_TEST_REGION,
						     EGM_TEST_PXM);
	struct egm_attachment *att;

	att = egm_test_attach(test, 0, &desc);
	egm_unregister_region(att);

	/* Same description, another parent. */
	att = egm_test_attach(test, 1, &desc);
	egm_unregister_region(att);

	/* The old description is forgotten: a new range for the PXM works. */
	att = egm_test_attach(test, 2, &moved);
	KUNIT_EXPECT_EQ(test, egm_region_base(egm_attachment_region(att)),
			moved.base);
	KUNIT_EXPECT_EQ(test, egm_region_size(egm_attachment_region(att)),
			(u64)(2 * EGM_TEST_REGION));
	egm_unregister_region(att);
}

#ifdef EGM_PFN_SPACE
/*
 * A stand-in for the kernel's registry of PFN address spaces (6.19's
 * register_pfn_address_space()), faithful where it matters here: a range
 * that overlaps a registered one is refused with -EBUSY, and removing a node
 * that is not in the tree is the corruption the real interval tree would
 * suffer.  Every call also records whether the range was claimed then.
 */
#define EGM_PFN_SPACES	4

static struct {
	spinlock_t lock;	/* guards the fields below */
	struct pfn_address_space *spaces[EGM_PFN_SPACES];
	int registered, unregistered, refused;
	int unclaimed;		/* calls made while the range was not claimed */
	int bad_removes;	/* removals of a node not in the registry */
} egm_fake_pfn;

static bool egm_fake_pfn_claimed(struct pfn_address_space *space)
{
	resource_size_t start = PFN_PHYS(space->node.start);
	size_t size = PFN_PHYS(space->node.last - space->node.start + 1);

	return region_intersects(start, size, IORESOURCE_MEM | IORESOURCE_BUSY,
				 IORES_DESC_NONE) == REGION_INTERSECTS;
}

static int egm_fake_pfn_register(struct pfn_address_space *space)
{
	bool claimed = egm_fake_pfn_claimed(space);
	int i, free = -1, err = 0;

	spin_lock(&egm_fake_pfn.lock);
	if (!claimed)
		egm_fake_pfn.unclaimed++;
	for (i = 0; i < EGM_PFN_SPACES; i++) {
		struct pfn_address_space *old = egm_fake_pfn.spaces[i];

		if (!old) {
			free = free < 0 ? i : free;
			continue;
		}
		if (space->node.start <= old->node.last &&
		    old->node.start <= space->node.last)
			err = -EBUSY;
	}
	if (!err && free < 0)
		err = -ENOSPC;
	if (err) {
		egm_fake_pfn.refused++;
	} else {
		egm_fake_pfn.spaces[free] = space;
		egm_fake_pfn.registered++;
	}
	spin_unlock(&egm_fake_pfn.lock);
	return err;
}

static void egm_fake_pfn_unregister(struct pfn_address_space *space)
{
	bool claimed = egm_fake_pfn_claimed(space);
	int i;

	spin_lock(&egm_fake_pfn.lock);
	if (!claimed)
		egm_fake_pfn.unclaimed++;
	for (i = 0; i < EGM_PFN_SPACES; i++)
		if (egm_fake_pfn.spaces[i] == space)
			break;
	if (i < EGM_PFN_SPACES) {
		egm_fake_pfn.spaces[i] = NULL;
		egm_fake_pfn.unregistered++;
	} else {
		egm_fake_pfn.bad_removes++;
	}
	spin_unlock(&egm_fake_pfn.lock);
}

static const struct egm_pfn_space_test_ops egm_fake_pfn_ops = {
	.register_space = egm_fake_pfn_register,
	.unregister_space = egm_fake_pfn_unregister,
};

/*
 * The memory-failure registration lives inside the claim of the range
 * (issue 14, defect 8): a parent that registers the same range right after
 * the last one went, before any deferred teardown ran, must succeed, and
 * nothing may ever be removed from the kernel's tree twice or without
 * having been inserted.  Runs on 6.12 through the stand-in of egm_compat.h.
 */
static void egm_registry_pfn_space_inside_claim(struct kunit *test)
{
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_registry_test *ctx = test->priv;
	struct egm_attachment *att;
	int round;

	memset(&egm_fake_pfn, 0, sizeof(egm_fake_pfn));
	spin_lock_init(&egm_fake_pfn.lock);
	egm_pfn_space_test_ops = &egm_fake_pfn_ops;

	for (round = 0; round < 3; round++) {
		att = egm_register_region(ctx->parent[round], &desc);
		KUNIT_EXPECT_FALSE_MSG(test, IS_ERR(att),
				       "round %d: re-registration right after teardown failed: %ld",
				       round, PTR_ERR(att));
		if (IS_ERR(att))
			break;
		/* No waiting for RCU or the workqueue: the window of the defect. */
		egm_unregister_region(att);
	}
	egm_registry_wait_freed();
	egm_pfn_space_test_ops = NULL;

	KUNIT_EXPECT_EQ(test, egm_fake_pfn.registered, 3);
	KUNIT_EXPECT_EQ(test, egm_fake_pfn.unregistered, 3);
	KUNIT_EXPECT_EQ(test, egm_fake_pfn.refused, 0);
	KUNIT_EXPECT_EQ_MSG(test, egm_fake_pfn.bad_removes, 0,
			    "a node never inserted (or removed already) was removed");
	KUNIT_EXPECT_EQ_MSG(test, egm_fake_pfn.unclaimed, 0,
			    "the registration outlived the claim of the range");
}

/* A refused registration leaves no node to remove, and the claim goes. */
static void egm_registry_pfn_space_refused(struct kunit *test)
{
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_registry_test *ctx = test->priv;
	struct pfn_address_space squatter = {
		.node.start = PHYS_PFN(desc.base),
		.node.last = PHYS_PFN(desc.base),
	};
	struct egm_attachment *att;

	memset(&egm_fake_pfn, 0, sizeof(egm_fake_pfn));
	spin_lock_init(&egm_fake_pfn.lock);
	/* Another driver registered a PFN of the range already. */
	egm_fake_pfn.spaces[0] = &squatter;
	egm_pfn_space_test_ops = &egm_fake_pfn_ops;

	egm_test_refused(test, ctx->parent[0], &desc, -EBUSY);
	egm_registry_wait_freed();
	egm_pfn_space_test_ops = NULL;

	KUNIT_EXPECT_EQ(test, egm_fake_pfn.refused, 1);
	KUNIT_EXPECT_EQ(test, egm_fake_pfn.bad_removes, 0);
	KUNIT_EXPECT_PTR_EQ(test, egm_fake_pfn.spaces[0], &squatter);
	KUNIT_EXPECT_FALSE(test, egm_test_window_claimed(test));

	/* Once the other driver is gone, the range registers. */
	egm_fake_pfn.spaces[0] = NULL;
	egm_pfn_space_test_ops = &egm_fake_pfn_ops;
	att = egm_test_attach(test, 1, &desc);
	egm_unregister_region(att);
	egm_registry_wait_freed();
	egm_pfn_space_test_ops = NULL;
	KUNIT_EXPECT_EQ(test, egm_fake_pfn.bad_removes, 0);
	KUNIT_EXPECT_EQ(test, egm_fake_pfn.unregistered, 1);
}
#endif /* EGM_PFN_SPACE */

static void egm_registry_conflicting_base(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_region_desc other = egm_test_desc(test, EGM_TEST_REGION,
						     EGM_TEST_REGION,
						     EGM_TEST_PXM);
	struct egm_attachment *att;
	struct device *seen[4] = {};

	att = egm_test_attach(test, 0, &desc);
	egm_test_refused(test, ctx->parent[1], &other, -EINVAL);

	/* The refused parent left no trace on the region. */
	egm_region_walk_parents(egm_attachment_region(att),
				egm_test_count_parent, seen);
	KUNIT_EXPECT_PTR_EQ(test, seen[0], ctx->parent[0]);
	KUNIT_EXPECT_NULL(test, seen[1]);
	KUNIT_EXPECT_EQ(test, egm_region_base(egm_attachment_region(att)),
			desc.base);
	egm_unregister_region(att);
}

static void egm_registry_conflicting_size(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_region_desc bigger = egm_test_desc(test, 0,
						      2 * EGM_TEST_REGION,
						      EGM_TEST_PXM);
	struct egm_region_desc smaller = egm_test_desc(test, 0, PAGE_SIZE,
						       EGM_TEST_PXM);
	struct egm_attachment *att;

	att = egm_test_attach(test, 0, &desc);
	egm_test_refused(test, ctx->parent[1], &bigger, -EINVAL);
	egm_test_refused(test, ctx->parent[1], &smaller, -EINVAL);
	KUNIT_EXPECT_EQ(test, egm_region_size(egm_attachment_region(att)),
			(u64)EGM_TEST_REGION);
	egm_unregister_region(att);
}

static void egm_registry_same_parent_twice(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_attachment *att;

	att = egm_test_attach(test, 0, &desc);
	egm_test_refused(test, ctx->parent[0], &desc, -EEXIST);
	egm_unregister_region(att);
}

static void egm_registry_null_arguments(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);

	egm_test_refused(test, NULL, &desc, -EINVAL);
	egm_test_refused(test, ctx->parent[0], NULL, -EINVAL);
	/* Unregistering NULL is a no-op, like kfree(NULL). */
	egm_unregister_region(NULL);
	egm_region_put(NULL);
}

static void egm_registry_zero_size(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, 0, EGM_TEST_PXM);

	egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);
}

static void egm_registry_unaligned(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc base = egm_test_desc(test, PAGE_SIZE / 2,
						    EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_region_desc size = egm_test_desc(test, 0,
						    EGM_TEST_REGION + 512,
						    EGM_TEST_PXM);
	struct egm_region_desc tiny = egm_test_desc(test, 0, 1, EGM_TEST_PXM);

	egm_test_refused(test, ctx->parent[0], &base, -EINVAL);
	egm_test_refused(test, ctx->parent[0], &size, -EINVAL);
	egm_test_refused(test, ctx->parent[0], &tiny, -EINVAL);
}

static void egm_registry_range_overflow(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc wrap = {
		.base = PHYS_ADDR_MAX & PAGE_MASK,
		.size = 2 * PAGE_SIZE,
		.pxm = EGM_TEST_PXM,
	};
	struct egm_region_desc huge = {
		.base = ctx->window.start,
		.size = U64_MAX & PAGE_MASK,
		.pxm = EGM_TEST_PXM,
	};

	egm_test_refused(test, ctx->parent[0], &wrap, -EOVERFLOW);
	egm_test_refused(test, ctx->parent[0], &huge, -EOVERFLOW);
}

static void egm_registry_invalid_pxm(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_PXM_MAX);
	struct egm_attachment *att;

	egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);
	desc.pxm = U32_MAX;
	egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);

	/* The largest valid PXM is accepted. */
	desc.pxm = EGM_PXM_MAX - 1;
	att = egm_test_attach(test, 0, &desc);
	KUNIT_EXPECT_EQ(test, egm_region_pxm(egm_attachment_region(att)),
			(u32)(EGM_PXM_MAX - 1));
	egm_unregister_region(att);
}

/*
 * A range the kernel uses as System RAM is refused.  Two shapes: the
 * kernel's own boot memory (where the architecture registers it in
 * iomem_resource; UML does not), and a hot-plugged block, which memory
 * hotplug registers as a "System RAM" resource nested in a window - the
 * test builds that one inside its own window so it exists everywhere.
 */
static void egm_registry_system_ram_refused(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct resource hotplug = {
		.name = "System RAM",
		.flags = IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY,
	};
	struct egm_region_desc desc = {
		.size = PAGE_SIZE,
		.pxm = EGM_TEST_PXM,
	};
	struct page *page;

	/* A page the kernel allocated is System RAM, where that is registered. */
	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	desc.base = page_to_phys(page);
	if (region_intersects(desc.base, PAGE_SIZE, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) == REGION_INTERSECTS)
		egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);
	else
		kunit_info(test, "no System RAM resources (UML): hot-plug shape only\n");
	__free_page(page);

	hotplug.start = ctx->window.start + EGM_TEST_REGION;
	hotplug.end = hotplug.start + EGM_TEST_REGION - 1;
	KUNIT_ASSERT_EQ(test, request_resource(&ctx->window, &hotplug), 0);

	/* Inside, straddling the start, and covering it whole. */
	desc = egm_test_desc(test, EGM_TEST_REGION + PAGE_SIZE, PAGE_SIZE,
			     EGM_TEST_PXM);
	egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);
	desc = egm_test_desc(test, EGM_TEST_REGION - PAGE_SIZE, 2 * PAGE_SIZE,
			     EGM_TEST_PXM);
	egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);
	desc = egm_test_desc(test, 0, 3 * EGM_TEST_REGION, EGM_TEST_PXM);
	egm_test_refused(test, ctx->parent[0], &desc, -EINVAL);

	release_resource(&hotplug);
}

static void egm_registry_overlap_other_pxm(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc first = egm_test_desc(test, 0, EGM_TEST_REGION,
						     EGM_TEST_PXM);
	struct egm_region_desc overlap = egm_test_desc(test, EGM_TEST_REGION / 2,
						       EGM_TEST_REGION,
						       EGM_TEST_PXM + 1);
	struct egm_region_desc inside = egm_test_desc(test, PAGE_SIZE, PAGE_SIZE,
						      EGM_TEST_PXM + 1);
	struct egm_region_desc adjacent = egm_test_desc(test, EGM_TEST_REGION,
							EGM_TEST_REGION,
							EGM_TEST_PXM + 1);
	struct egm_attachment *a, *b;

	a = egm_test_attach(test, 0, &first);
	egm_test_refused(test, ctx->parent[1], &overlap, -EBUSY);
	egm_test_refused(test, ctx->parent[1], &inside, -EBUSY);
	KUNIT_EXPECT_NULL(test, egm_region_get_by_pxm(EGM_TEST_PXM + 1));

	b = egm_test_attach(test, 1, &adjacent);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 2);
	KUNIT_EXPECT_PTR_NE(test, egm_attachment_region(a),
			    egm_attachment_region(b));

	egm_unregister_region(b);
	egm_unregister_region(a);
}

/* A range someone else has claimed is refused, and left alone. */
static void egm_registry_range_claimed_elsewhere(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct resource *other;

	other = request_mem_region(desc.base + PAGE_SIZE, PAGE_SIZE,
				   "egm-kunit-other-driver");
	KUNIT_ASSERT_NOT_NULL(test, other);

	egm_test_refused(test, ctx->parent[0], &desc, -EBUSY);
	KUNIT_EXPECT_NULL(test, egm_region_get_by_pxm(EGM_TEST_PXM));
	KUNIT_EXPECT_PTR_EQ(test, ctx->window.child, other);

	release_mem_region(desc.base + PAGE_SIZE, PAGE_SIZE);
}

static void egm_registry_node_of_pxm(struct kunit *test)
{
	struct egm_region_desc desc = egm_test_desc(test, 0, EGM_TEST_REGION,
						    EGM_TEST_PXM);
	struct egm_attachment *att;
	int nid;

	att = egm_test_attach(test, 0, &desc);
	nid = egm_region_node(egm_attachment_region(att));
	/* Either a real node or "no node" (no ACPI NUMA, or no SRAT entry). */
	KUNIT_EXPECT_TRUE(test, nid == NUMA_NO_NODE ||
			  (nid >= 0 && nid < MAX_NUMNODES));
	egm_unregister_region(att);
}

#define EGM_STRESS_THREADS	4
#define EGM_STRESS_LOOPS	300

struct egm_stress_thread {
	struct kunit *test;
	struct device *parent;
	struct egm_region_desc desc;
	struct completion done;
	atomic_t *errors;
};

static int egm_stress_fn(void *data)
{
	struct egm_stress_thread *t = data;
	int i;

	for (i = 0; i < EGM_STRESS_LOOPS; i++) {
		struct egm_attachment *att;
		struct egm_region *region, *found;

		att = egm_register_region(t->parent, &t->desc);
		if (IS_ERR(att)) {
			atomic_inc(t->errors);
			continue;
		}
		region = egm_attachment_region(att);
		if (egm_region_base(region) != t->desc.base ||
		    egm_region_pxm(region) != t->desc.pxm)
			atomic_inc(t->errors);

		/* While attached, the PXM resolves to this very region. */
		found = egm_region_get_by_pxm(t->desc.pxm);
		if (found != region)
			atomic_inc(t->errors);
		egm_region_put(found);

		egm_unregister_region(att);
		if (i % 16 == 0)
			cond_resched();
	}
	complete(&t->done);
	return 0;
}

/*
 * Four threads register and unregister at once: two on one PXM (sharing a
 * region) and two on another.  Every registration must succeed, always see
 * its own region, and nothing may be left at the end.
 */
static void egm_registry_concurrent(struct kunit *test)
{
	struct egm_registry_test *ctx = test->priv;
	struct egm_stress_thread *t;
	atomic_t errors = ATOMIC_INIT(0);
	int i;

	t = kunit_kcalloc(test, EGM_STRESS_THREADS, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);

	for (i = 0; i < EGM_STRESS_THREADS; i++) {
		struct task_struct *task;
		u32 pxm = EGM_TEST_PXM + i % 2;

		t[i].test = test;
		t[i].parent = ctx->parent[i];
		t[i].desc = egm_test_desc(test, (i % 2) * EGM_TEST_REGION,
					  EGM_TEST_REGION, pxm);
		t[i].errors = &errors;
		init_completion(&t[i].done);
		task = kthread_run(egm_stress_fn, &t[i], "egm-kunit-%d", i);
		if (IS_ERR(task)) {
			/* Keep the completion count balanced for the wait. */
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
			complete(&t[i].done);
		}
	}
	for (i = 0; i < EGM_STRESS_THREADS; i++)
		wait_for_completion(&t[i].done);

	KUNIT_EXPECT_EQ(test, atomic_read(&errors), 0);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
	KUNIT_EXPECT_NULL(test, egm_region_get_by_pxm(EGM_TEST_PXM + 1));
	KUNIT_EXPECT_FALSE(test, egm_test_window_claimed(test));
}

static struct kunit_case egm_registry_cases[] = {
	KUNIT_CASE(egm_registry_register_creates_region),
	KUNIT_CASE(egm_registry_second_parent_joins),
	KUNIT_CASE(egm_registry_parent_walk_stops),
	KUNIT_CASE(egm_registry_every_unregister_order),
	KUNIT_CASE(egm_registry_reference_outlives_parents),
	KUNIT_CASE(egm_registry_reregister_after_teardown),
#ifdef EGM_PFN_SPACE
	KUNIT_CASE(egm_registry_pfn_space_inside_claim),
	KUNIT_CASE(egm_registry_pfn_space_refused),
#endif
	KUNIT_CASE(egm_registry_conflicting_base),
	KUNIT_CASE(egm_registry_conflicting_size),
	KUNIT_CASE(egm_registry_same_parent_twice),
	KUNIT_CASE(egm_registry_null_arguments),
	KUNIT_CASE(egm_registry_zero_size),
	KUNIT_CASE(egm_registry_unaligned),
	KUNIT_CASE(egm_registry_range_overflow),
	KUNIT_CASE(egm_registry_invalid_pxm),
	KUNIT_CASE(egm_registry_system_ram_refused),
	KUNIT_CASE(egm_registry_overlap_other_pxm),
	KUNIT_CASE(egm_registry_range_claimed_elsewhere),
	KUNIT_CASE(egm_registry_node_of_pxm),
	KUNIT_CASE(egm_registry_concurrent),
	{}
};

static struct kunit_suite egm_registry_suite = {
	.name = "egm_registry",
	.init = egm_registry_test_init,
	.exit = egm_registry_test_exit,
	.test_cases = egm_registry_cases,
};

kunit_test_suite(egm_registry_suite);

MODULE_DESCRIPTION("KUnit tests for the egm-core region registry");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EGM_CORE);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
