// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for egm-core poison tracking: the firmware retired-page table
 * parser, run-time reports and the poisoned list.
 *
 * The parser reads a table from memory the test builds, so these tests need
 * no EGM memory: regions live in a free window of the physical address
 * space, as in registry_kunit.c.  Expectations are written for the running
 * kernel's page size: a firmware entry covers EGM_FW_RETIRE_SIZE bytes,
 * which is 16 bits of the bitmap with 4 KiB pages and one with 64 KiB.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/egm_core.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

#include "../egm_internal.h"
#include "egm_kunit.h"

#define EGM_PT_WINDOW	SZ_256M
#define EGM_PT_REGION	SZ_64M
#define EGM_PT_PXM	7
/* Base pages per firmware block. */
#define EGM_PT_BLOCK_PAGES	max_t(unsigned long, 1,			\
				      EGM_FW_RETIRE_SIZE / PAGE_SIZE)

struct egm_poison_test {
	struct resource window;
	struct device *parent;
	struct egm_attachment *att;
	struct egm_region *region;
};

static int egm_poison_test_init(struct kunit *test)
{
	struct egm_region_desc desc = { .size = EGM_PT_REGION, .pxm = EGM_PT_PXM };
	struct egm_attachment *att;
	struct egm_poison_test *ctx;
	int err;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->window.name = "egm-kunit-poison";
	ctx->window.flags = IORESOURCE_MEM;
	err = allocate_resource(&iomem_resource, &ctx->window, EGM_PT_WINDOW,
				SZ_4G, iomem_resource.end, EGM_PT_WINDOW,
				NULL, NULL);
	KUNIT_ASSERT_EQ(test, err, 0);
	test->priv = ctx;

	ctx->parent = kunit_device_register(test, "egm-poison-gpu0");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->parent);

	desc.base = ctx->window.start;
	att = egm_register_region(ctx->parent, &desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, att);
	ctx->att = att;
	ctx->region = egm_attachment_region(att);
	return 0;
}

static void egm_poison_test_exit(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;

	if (!ctx)
		return;
	egm_unregister_region(ctx->att);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
	if (!ctx->window.child)
		release_resource(&ctx->window);
}

/* A table of @count entries, with room for @room entries after the header. */
static void *egm_pt_table(struct kunit *test, u64 count, size_t room,
			  size_t *size)
{
	void *t;

	*size = sizeof(u64) * (1 + room);
	t = kunit_kzalloc(test, *size + sizeof(u64), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	put_unaligned_le64(count, t);
	return t;
}

static void egm_pt_set(void *table, unsigned int i, u64 pa)
{
	put_unaligned_le64(pa, table + sizeof(u64) * (1 + i));
}

static long egm_pt_poisoned(struct egm_poison_test *ctx)
{
	return atomic_long_read(&ctx->region->nr_poisoned);
}

static void egm_poison_bitmap_size(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;

	/* One bit per base page. */
	KUNIT_EXPECT_EQ(test, ctx->region->nr_pages,
			(unsigned long)(EGM_PT_REGION / PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, egm_region_poison_granularity(ctx->region),
			(u32)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 0);
}

static void egm_poison_table_empty(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size;
	void *t = egm_pt_table(test, 0, 0, &size);

	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size), 0);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 0);

	/* A table too small for its header is refused. */
	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, sizeof(u64) - 1), -EINVAL);
}

static void egm_poison_table_one_block(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	u64 base = ctx->region->base;
	u64 pa = base + 3 * EGM_FW_RETIRE_SIZE + 0x1234;
	unsigned long first = 3 * EGM_FW_RETIRE_SIZE / PAGE_SIZE;
	size_t size;
	void *t = egm_pt_table(test, 1, 1, &size);
	unsigned long i;

	egm_pt_set(t, 0, pa);
	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size), 1);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), (long)EGM_PT_BLOCK_PAGES);

	/* Exactly the base pages of the 64 KiB block, not its neighbours. */
	for (i = 0; i < EGM_PT_BLOCK_PAGES; i++)
		KUNIT_EXPECT_TRUE(test, test_bit(first + i, ctx->region->poison));
	KUNIT_EXPECT_FALSE(test, test_bit(first - 1, ctx->region->poison));
	KUNIT_EXPECT_FALSE(test, test_bit(first + EGM_PT_BLOCK_PAGES,
					  ctx->region->poison));
	KUNIT_EXPECT_TRUE(test, egm_region_range_poisoned(ctx->region, 0,
							  first + 1));
	KUNIT_EXPECT_FALSE(test, egm_region_range_poisoned(ctx->region, 0, first));
}

static void egm_poison_table_full(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size;
	void *t = egm_pt_table(test, EGM_FW_RETIRED_MAX, EGM_FW_RETIRED_MAX, &size);
	unsigned int i;

	/* The entries cycle through the region's 1024 blocks, four times. */
	for (i = 0; i < EGM_FW_RETIRED_MAX; i++)
		egm_pt_set(t, i, ctx->region->base +
			   (u64)(i % (EGM_PT_REGION / EGM_FW_RETIRE_SIZE)) *
			   EGM_FW_RETIRE_SIZE);
	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size),
			EGM_FW_RETIRED_MAX);
	/* 1024 distinct blocks in a 64 MiB region; the rest are duplicates. */
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx),
			(long)(EGM_PT_REGION / EGM_FW_RETIRE_SIZE) *
			(long)EGM_PT_BLOCK_PAGES);
}

/* A count above the maximum is cut to the maximum. */
static void egm_poison_table_over_full(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size;
	void *t = egm_pt_table(test, EGM_FW_RETIRED_MAX + 1,
			       EGM_FW_RETIRED_MAX + 1, &size);
	unsigned int i;

	for (i = 0; i <= EGM_FW_RETIRED_MAX; i++)
		egm_pt_set(t, i, ctx->region->base);
	/* The entry past the maximum would be a new block: it is ignored. */
	egm_pt_set(t, EGM_FW_RETIRED_MAX, ctx->region->base + SZ_1M);

	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size),
			EGM_FW_RETIRED_MAX);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), (long)EGM_PT_BLOCK_PAGES);
	KUNIT_EXPECT_FALSE(test, test_bit(SZ_1M / PAGE_SIZE, ctx->region->poison));
}

/*
 * The count claims one entry more than the mapping holds.  The word after
 * the mapping holds a valid address: reading it would be the RFC's
 * off-by-one overrun, and would poison that block.
 */
static void egm_poison_table_off_by_one(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size;
	void *t = egm_pt_table(test, 3, 2, &size);

	egm_pt_set(t, 0, ctx->region->base);
	egm_pt_set(t, 1, ctx->region->base + SZ_1M);
	/* Beyond @size: the canary. */
	egm_pt_set(t, 2, ctx->region->base + SZ_2M);

	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size), 2);
	KUNIT_EXPECT_TRUE(test, test_bit(SZ_1M / PAGE_SIZE, ctx->region->poison));
	KUNIT_EXPECT_FALSE(test, test_bit(SZ_2M / PAGE_SIZE, ctx->region->poison));
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 2 * (long)EGM_PT_BLOCK_PAGES);
}

static void egm_poison_table_out_of_range(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	u64 base = ctx->region->base;
	size_t size;
	void *t = egm_pt_table(test, 5, 5, &size);

	egm_pt_set(t, 0, base - 1);
	egm_pt_set(t, 1, base + EGM_PT_REGION);
	egm_pt_set(t, 2, 0);
	egm_pt_set(t, 3, U64_MAX);
	egm_pt_set(t, 4, base + EGM_PT_REGION - 1);	/* last byte: inside */

	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size), 1);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), (long)EGM_PT_BLOCK_PAGES);
	KUNIT_EXPECT_TRUE(test, test_bit(ctx->region->nr_pages - 1,
					 ctx->region->poison));
}

static void egm_poison_table_duplicates(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size;
	void *t = egm_pt_table(test, 4, 4, &size);

	egm_pt_set(t, 0, ctx->region->base + SZ_4M);
	egm_pt_set(t, 1, ctx->region->base + SZ_4M);
	egm_pt_set(t, 2, ctx->region->base + SZ_4M + EGM_FW_RETIRE_SIZE - 1);
	egm_pt_set(t, 3, ctx->region->base + SZ_4M + 8);

	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size), 4);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), (long)EGM_PT_BLOCK_PAGES);
}

/* Two parents, two tables: the region's poison is the union. */
static void egm_poison_tables_union(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size_a, size_b;
	void *a = egm_pt_table(test, 2, 2, &size_a);
	void *b = egm_pt_table(test, 2, 2, &size_b);

	egm_pt_set(a, 0, ctx->region->base);
	egm_pt_set(a, 1, ctx->region->base + SZ_1M);
	egm_pt_set(b, 0, ctx->region->base + SZ_1M);
	egm_pt_set(b, 1, ctx->region->base + SZ_8M);

	egm_poison_parse_table(ctx->region, ctx->parent, a, size_a);
	egm_poison_parse_table(ctx->region, ctx->parent, b, size_b);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 3 * (long)EGM_PT_BLOCK_PAGES);
}

static void egm_poison_report_runtime(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	phys_addr_t pa = ctx->region->base + SZ_16M + PAGE_SIZE + 17;

	KUNIT_EXPECT_EQ(test, egm_report_poison(ctx->att, pa), 0);
	/* Run-time reports mark one base page, not a firmware block. */
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 1);
	KUNIT_EXPECT_TRUE(test, test_bit((SZ_16M + PAGE_SIZE) / PAGE_SIZE,
					 ctx->region->poison));
	/* Again: no change. */
	KUNIT_EXPECT_EQ(test, egm_report_poison(ctx->att, pa), 0);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 1);

	KUNIT_EXPECT_EQ(test, egm_report_poison(ctx->att, ctx->region->base - 1),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, egm_report_poison(ctx->att,
						ctx->region->base + EGM_PT_REGION),
			-ERANGE);
	flush_work(&ctx->region->poison_work);
}

static void egm_poison_list(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	struct egm_partition *whole = egm_kunit_whole(ctx->region);
	u64 offsets[4] = {};
	u32 total;

	egm_region_mark_poison(ctx->region, SZ_8M, 1);
	egm_region_mark_poison(ctx->region, SZ_1M, 1);
	egm_region_mark_poison(ctx->region, SZ_32M, 1);

	/* Room for all: ascending offsets at PAGE_SIZE granularity. */
	KUNIT_EXPECT_EQ(test, egm_partition_poison_list(whole, offsets, 4, &total), 3);
	KUNIT_EXPECT_EQ(test, total, 3u);
	KUNIT_EXPECT_EQ(test, offsets[0], (u64)SZ_1M);
	KUNIT_EXPECT_EQ(test, offsets[1], (u64)SZ_8M);
	KUNIT_EXPECT_EQ(test, offsets[2], (u64)SZ_32M);

	/* Too little room: the total still says how many there are. */
	memset(offsets, 0, sizeof(offsets));
	KUNIT_EXPECT_EQ(test, egm_partition_poison_list(whole, offsets, 1, &total), 1);
	KUNIT_EXPECT_EQ(test, total, 3u);
	KUNIT_EXPECT_EQ(test, offsets[0], (u64)SZ_1M);
	KUNIT_EXPECT_EQ(test, offsets[1], 0ull);

	KUNIT_EXPECT_EQ(test, egm_partition_poison_list(whole, NULL, 0, &total), 0);
	KUNIT_EXPECT_EQ(test, total, 3u);
}

/* The ranges a marking touches, clipped to the region. */
static void egm_poison_mark_ranges(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, egm_region_mark_poison(ctx->region, 0, 0), 0ul);
	KUNIT_EXPECT_EQ(test, egm_region_mark_poison(ctx->region, EGM_PT_REGION, 1),
			0ul);
	KUNIT_EXPECT_EQ(test, egm_region_mark_poison(ctx->region,
						     PAGE_SIZE - 1, 2), 2ul);
	KUNIT_EXPECT_EQ(test, egm_region_mark_poison(ctx->region,
						     EGM_PT_REGION - PAGE_SIZE,
						     SZ_1G), 1ul);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 3);
}

/* A count that overflows when multiplied by the entry size is cut too. */
static void egm_poison_table_count_overflow(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	size_t size;
	void *t = egm_pt_table(test, U64_MAX, 3, &size);

	egm_pt_set(t, 0, ctx->region->base);
	egm_pt_set(t, 1, ctx->region->base + SZ_1M);
	egm_pt_set(t, 2, ctx->region->base + SZ_2M);
	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(ctx->region, ctx->parent,
						     t, size), 3);
	KUNIT_EXPECT_EQ(test, egm_pt_poisoned(ctx), 3 * (long)EGM_PT_BLOCK_PAGES);
}

/*
 * A region whose base and end are not 64 KiB aligned: the retired blocks
 * of its first and last entries reach outside it, and only the region's
 * own pages are marked.
 */
static void egm_poison_table_block_across_edges(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	struct egm_region_desc desc = {
		.base = ctx->window.start + SZ_128M + PAGE_SIZE,
		.size = SZ_1M,
		.pxm = EGM_PT_PXM + 1,
	};
	u64 end = desc.base + desc.size;
	long head = (ALIGN(desc.base + 1, EGM_FW_RETIRE_SIZE) - desc.base) >>
		    PAGE_SHIFT;
	long tail = (end - ALIGN_DOWN(end - 1, EGM_FW_RETIRE_SIZE)) >> PAGE_SHIFT;
	struct egm_attachment *att;
	struct egm_region *region;
	struct device *parent;
	size_t size;
	void *t = egm_pt_table(test, 2, 2, &size);

	parent = kunit_device_register(test, "egm-poison-gpu1");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, parent);
	att = egm_register_region(parent, &desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, att);
	region = egm_attachment_region(att);

	egm_pt_set(t, 0, desc.base);
	egm_pt_set(t, 1, end - 1);
	KUNIT_EXPECT_EQ(test, egm_poison_parse_table(region, parent, t, size), 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&region->nr_poisoned), head + tail);
	KUNIT_EXPECT_EQ(test, find_first_bit(region->poison, region->nr_pages),
			0ul);
	KUNIT_EXPECT_EQ(test, find_next_bit(region->poison, region->nr_pages, head),
			region->nr_pages - tail);
	egm_unregister_region(att);
}

/*
 * A table given by address only (nvgrace-gpu's _DSD gives no size) is
 * mapped for the count it claims, but never for more than
 * EGM_FW_RETIRED_MAX entries: a count of U64_MAX maps, and reads, the
 * header and EGM_FW_RETIRED_MAX entries.
 */
static void egm_poison_load_table_unsized(struct kunit *test)
{
	struct egm_poison_test *ctx = test->priv;
	struct egm_region_desc desc = {
		.base = ctx->window.start + SZ_128M + SZ_64M,
		.size = SZ_8M,
		.pxm = EGM_PT_PXM + 2,
	};
	struct egm_attachment *att;
	struct egm_region *region;
	struct device *parent;
	size_t size;
	void *t;
	int i;

	if (IS_ENABLED(CONFIG_UML))
		kunit_skip(test, "UML has no memremap() of kernel memory");
	t = egm_pt_table(test, U64_MAX, EGM_FW_RETIRED_MAX, &size);
	for (i = 0; i < EGM_FW_RETIRED_MAX; i++)
		egm_pt_set(t, i, desc.base + SZ_4M);
	desc.retired_table_pa = virt_to_phys(t);

	parent = kunit_device_register(test, "egm-poison-gpu2");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, parent);
	att = egm_register_region(parent, &desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, att);
	region = egm_attachment_region(att);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&region->nr_poisoned),
			(long)EGM_PT_BLOCK_PAGES);
	KUNIT_EXPECT_TRUE(test, test_bit(SZ_4M / PAGE_SIZE, region->poison));
	egm_unregister_region(att);
}

static struct kunit_case egm_poison_cases[] = {
	KUNIT_CASE(egm_poison_bitmap_size),
	KUNIT_CASE(egm_poison_table_empty),
	KUNIT_CASE(egm_poison_table_one_block),
	KUNIT_CASE(egm_poison_table_full),
	KUNIT_CASE(egm_poison_table_over_full),
	KUNIT_CASE(egm_poison_table_off_by_one),
	KUNIT_CASE(egm_poison_table_out_of_range),
	KUNIT_CASE(egm_poison_table_duplicates),
	KUNIT_CASE(egm_poison_tables_union),
	KUNIT_CASE(egm_poison_report_runtime),
	KUNIT_CASE(egm_poison_list),
	KUNIT_CASE(egm_poison_mark_ranges),
	KUNIT_CASE(egm_poison_table_count_overflow),
	KUNIT_CASE(egm_poison_table_block_across_edges),
	KUNIT_CASE(egm_poison_load_table_unsized),
	{}
};

static struct kunit_suite egm_poison_suite = {
	.name = "egm_poison",
	.init = egm_poison_test_init,
	.exit = egm_poison_test_exit,
	.test_cases = egm_poison_cases,
};

kunit_test_suite(egm_poison_suite);
