// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the egm-core mapping engine: faults and huge faults,
 * poison, revoke and reset, through real user mappings.
 *
 * The test thread gets an mm (egm_mt_attach_mm()) and maps a region's
 * whole-region partition through a file whose ->mmap is
 * egm_partition_mmap(), exactly as a frontend does.
 * User accesses (copy_to_user()/copy_from_user()) take the real fault path;
 * the kernel's write-back mapping of the same memory checks what landed
 * where.  Page-table leaves are read back with the generic walkers.
 */
#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/egm_core.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <uapi/linux/egm.h>

#include "../egm_frontends.h"
#include "egm_kunit.h"

static unsigned long mem_base;
module_param(mem_base, ulong, 0444);
MODULE_PARM_DESC(mem_base, "physical base of memory hidden from the kernel, for the mapping tests");
static unsigned long mem_size;
module_param(mem_size, ulong, 0444);
MODULE_PARM_DESC(mem_size, "size of that memory in bytes");

#define EGM_MT_PXM	11

void egm_kunit_mem_register(struct kunit *test, struct egm_kunit_mem *mem,
			    u64 offset, u64 size, u32 pxm)
{
	struct egm_region_desc desc = { .pxm = pxm };
	struct egm_attachment *att;

	if (!mem_size)
		kunit_skip(test,
			   "no memory hidden from the kernel (egm_core_kunit.mem_size=0; none on UML)");
	if (!size)
		size = mem_size - offset;
	KUNIT_ASSERT_LE(test, offset + size, (u64)mem_size);

	desc.base = mem_base + offset;
	desc.size = size;
	mem->parent = kunit_device_register(test, "egm-map-gpu0");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mem->parent);
	att = egm_register_region(mem->parent, &desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, att);
	mem->att = att;
	mem->region = egm_attachment_region(att);
	mem->part = egm_kunit_whole(mem->region);
}

struct egm_partition *egm_kunit_whole(struct egm_region *region)
{
	return xa_load(&region->partitions, EGM_PARTITION_WHOLE);
}

void egm_kunit_mem_assume_clean(struct egm_kunit_mem *mem)
{
	struct egm_partition *part = mem->part;
	unsigned long chunk;

	mutex_lock(&part->state_lock);
	for (chunk = part->first_chunk;
	     chunk < part->first_chunk + part->nr_chunks; chunk++)
		clear_bit(chunk, mem->region->dirty);
	atomic_long_set(&part->nr_dirty, 0);
	part->state = EGM_CLEAN;
	mutex_unlock(&part->state_lock);
}

void *egm_kunit_kaddr(struct egm_region *region)
{
	return egm_region_kaddr(region);
}

bool egm_kunit_wait_state(struct egm_region *region, enum egm_state state)
{
	struct egm_partition *part = egm_kunit_whole(region);
	int i;

	/* Up to 60 s: a 1 GiB scrub under QEMU TCG takes a few seconds. */
	for (i = 0; i < 3000; i++) {
		if (egm_region_state(region) == state)
			return true;
		msleep(20);
	}
	pr_err("egm_kunit: PXM %u in state %d, not %d, after 60 s: %ld dirty chunks, %d scrubs running, scrub work %s, last scrub %d\n",
	       region->pxm, egm_region_state(region), state,
	       atomic_long_read(&part->nr_dirty),
	       egm_partition_scrubs_running(part),
	       work_busy(&part->scrub_work) ? "busy" : "idle",
	       part->scrub_error);
	return false;
}

void egm_kunit_mem_unregister(struct kunit *test, struct egm_kunit_mem *mem)
{
	int i;

	if (!mem->att)
		return;
	/*
	 * Unregistering revokes: a background scrub stops and is waited for,
	 * queued poison work is cancelled when the region is freed.
	 */
	egm_unregister_region(mem->att);
	mem->att = NULL;
	/*
	 * A failed test's mappings go with its thread's mm, which may be
	 * torn down just now: give that a moment before calling it a leak.
	 */
	for (i = 0; i < 250 && egm_nr_live_regions(); i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
}

/* The test's own frontend: a file whose mmap goes to the engine. */
static int egm_mt_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	return egm_partition_mmap(file->private_data, vma, 0);
}

static unsigned long egm_mt_file_gua(struct file *file, unsigned long addr,
				     unsigned long len, unsigned long pgoff,
				     unsigned long flags)
{
	return egm_partition_get_unmapped_area(file->private_data, file, addr,
					       len, pgoff, flags);
}

static const struct file_operations egm_mt_fops = {
	.owner = THIS_MODULE,
	.mmap = egm_mt_file_mmap,
	.get_unmapped_area = egm_mt_file_gua,
};

struct egm_mt {
	struct egm_kunit_mem mem;
	struct file *file;
	bool acquired;
};

static void egm_mt_fput(void *file)
{
	fput(file);
}

/*
 * Give the test thread an mm to map into, as kunit_vm_mmap() would, but
 * without its leak.  kthread_use_mm() takes an mm_count reference that
 * only kthread_unuse_mm() gives back, and the test thread ends without
 * calling it (an assertion can end it anywhere): exit_mm() then drops the
 * users and the lazy-TLB reference, and the mm_struct, its pgd and its
 * counters are never freed (kmemleak reports them on 6.12).  So return
 * that reference at once: mm_users keeps the mm alive until exit_mm().
 */
static void egm_mt_attach_mm(struct kunit *test)
{
	struct mm_struct *mm;

	if (current->mm)
		return;
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	kthread_use_mm(mm);
	mmdrop(mm);
}

/* A region over hidden memory, acquired, and a file to map it with. */
static struct egm_mt *egm_mt_setup(struct kunit *test, u64 size)
{
	struct egm_mt *mt;

	egm_mt_attach_mm(test);
	mt = kunit_kzalloc(test, sizeof(*mt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mt);
	test->priv = mt;
	egm_kunit_mem_register(test, &mt->mem, 0, size, EGM_MT_PXM);
	egm_kunit_mem_assume_clean(&mt->mem);
	KUNIT_ASSERT_EQ(test, egm_partition_acquire(mt->mem.part), 0);
	mt->acquired = true;

	mt->file = anon_inode_getfile("[egm-kunit]", &egm_mt_fops,
				      mt->mem.part, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mt->file);
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, egm_mt_fput, mt->file), 0);
	/* The kernel mapping the tests compare against. */
	KUNIT_ASSERT_NOT_NULL(test, egm_kunit_kaddr(mt->mem.region));
	return mt;
}

static void egm_mt_exit(struct kunit *test)
{
	struct egm_mt *mt = test->priv;

	if (!mt)
		return;
	if (mt->acquired)
		egm_partition_release(mt->mem.part);
	egm_kunit_mem_unregister(test, &mt->mem);
}

static unsigned long egm_mt_map(struct kunit *test, struct egm_mt *mt,
				u64 offset, unsigned long len)
{
	unsigned long addr;

	addr = kunit_vm_mmap(test, mt->file, 0, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, offset);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(addr) || !addr,
			       "mmap of %lu bytes at %llu: %ld", len, offset,
			       (long)addr);
	return addr;
}

/*
 * Holders of the tenant file (acquirer, mappings), once the fput()s of
 * unmapped VMAs, which a kernel thread defers, have run.
 */
static long egm_mt_holders(struct egm_mt *mt)
{
	flush_delayed_fput();
	return egm_partition_tenant_holders(mt->mem.part);
}

static u8 *egm_mt_kaddr(struct egm_mt *mt, u64 offset)
{
	return (u8 *)mt->mem.region->kaddr + offset;
}

/* The PFN mapped at @addr, or 0. */
static unsigned long egm_mt_pfn(unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	struct follow_pfnmap_args args = {};
	unsigned long pfn = 0;

	mmap_read_lock(mm);
	args.vma = vma_lookup(mm, addr);
	args.address = addr;
	if (args.vma && !follow_pfnmap_start(&args)) {
		pfn = args.pfn;
		follow_pfnmap_end(&args);
	}
	mmap_read_unlock(mm);
	return pfn;
}

/* Size of the leaf mapping @addr, or 0 when nothing maps it. */
static unsigned long egm_mt_leaf(unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	unsigned long size = 0;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pmd_t pmdval;

	mmap_read_lock(mm);
	pgd = pgd_offset(mm, addr);
	if (pgd_none(READ_ONCE(*pgd)))
		goto out;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		goto out;
	pud = pud_offset(p4d, addr);
	if (pud_none(READ_ONCE(*pud)))
		goto out;
	if (pud_leaf(READ_ONCE(*pud))) {
		size = PUD_SIZE;
		goto out;
	}
	pmd = pmd_offset(pud, addr);
	pmdval = pmdp_get_lockless(pmd);
	if (pmd_none(pmdval))
		goto out;
	if (pmd_leaf(pmdval)) {
		size = PMD_SIZE;
		goto out;
	}
	/* A page table: is the PTE there? */
	mmap_read_unlock(mm);
	return egm_mt_pfn(addr) ? PAGE_SIZE : 0;
out:
	mmap_read_unlock(mm);
	return size;
}

/*
 * Data written through the user mapping lands in the right physical page
 * (read back through the kernel mapping), and the other way round, at
 * several offsets into mappings made at several offsets into the region.
 */
static void egm_mapping_right_pfn(struct kunit *test)
{
	static const u64 map_offsets[] = { 0, PAGE_SIZE, 3 * SZ_1M, SZ_4M };
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	int m;

	for (m = 0; m < ARRAY_SIZE(map_offsets); m++) {
		u64 moff = map_offsets[m];
		unsigned long len = SZ_4M, addr = egm_mt_map(test, mt, moff, len);
		unsigned long at[] = { 0, PAGE_SIZE + 8, SZ_2M - 4, len - 8 };
		int i;

		for (i = 0; i < ARRAY_SIZE(at); i++) {
			u64 val = 0x5eed0000ull + m * 16 + i, back = 0;

			KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr + at[i],
							   &val, sizeof(val)), 0ul);
			KUNIT_EXPECT_EQ(test, *(u64 *)egm_mt_kaddr(mt, moff + at[i]), val);
			KUNIT_EXPECT_EQ(test, egm_mt_pfn(addr + at[i]),
					PHYS_PFN(mt->mem.region->base + moff + at[i]));

			*(u64 *)egm_mt_kaddr(mt, moff + at[i]) = ~val;
			KUNIT_ASSERT_EQ(test, copy_from_user(&back,
							     (void __user *)addr + at[i],
							     sizeof(back)), 0ul);
			KUNIT_EXPECT_EQ(test, back, ~val);
		}
		vm_munmap(addr, len);
	}
	/* Only the acquirer is left holding the tenancy. */
	KUNIT_EXPECT_EQ(test, egm_mt_holders(mt), 1l);
}

/*
 * An aligned mapping of the whole region is served by the largest leaf the
 * architecture supports for PFN maps: PUD on x86_64, PMD on arm64.
 */
static void egm_mapping_huge_leaves(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, 0);
	struct egm_region *region = mt->mem.region;
	struct egm_partition *whole = mt->mem.part;
	unsigned long leaf = egm_partition_leaf_size(whole);
	unsigned long len = region->size, addr, off;
	s64 before[EGM_LEAF_NR];
	int i;

	if (leaf == PAGE_SIZE)
		kunit_skip(test, "no huge PFN maps on this architecture");
	KUNIT_ASSERT_TRUE(test, IS_ALIGNED(region->base, leaf));

	addr = egm_mt_map(test, mt, 0, len);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(addr, leaf));
	/* Nothing is mapped at mmap() time. */
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr), 0ul);

	for (i = 0; i < EGM_LEAF_NR; i++)
		before[i] = atomic64_read(&whole->faults[i]);

	for (off = 0; off < len; off += leaf) {
		u32 v = off / leaf;

		KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr + off + 64,
						   &v, sizeof(v)), 0ul);
		KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr + off), leaf);
		KUNIT_EXPECT_EQ(test, *(u32 *)egm_mt_kaddr(mt, off + 64), v);
	}
	kunit_info(test, "%lu leaves of %lu KiB for %lu MiB\n", len / leaf,
		   leaf >> 10, len >> 20);
	KUNIT_EXPECT_EQ(test, atomic64_read(&whole->faults[EGM_LEAF_PTE]),
			before[EGM_LEAF_PTE]);
	KUNIT_EXPECT_EQ(test, atomic64_read(&whole->faults[leaf == PUD_SIZE ?
							   EGM_LEAF_PUD : EGM_LEAF_PMD]) -
			before[leaf == PUD_SIZE ? EGM_LEAF_PUD : EGM_LEAF_PMD],
			(s64)(len / leaf));
	vm_munmap(addr, len);
}

/*
 * A poisoned page: the huge leaf that would hold it falls back to smaller
 * leaves, its neighbours map and work, the page itself cannot be accessed,
 * and the other huge blocks are unaffected.
 */
static void egm_mapping_poison_fallback(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, 0);
	struct egm_region *region = mt->mem.region;
	struct egm_partition *whole = mt->mem.part;
	unsigned long leaf = egm_partition_leaf_size(whole);
	unsigned long len = region->size, addr;
	u64 bad = leaf / 2 + 3 * PAGE_SIZE;	/* inside the first block */
	u64 val = 0x0bad0bad, back;

	if (leaf == PAGE_SIZE)
		kunit_skip(test, "no huge PFN maps on this architecture");
	addr = egm_mt_map(test, mt, 0, len);

	/* Map the first block huge, then poison a page in it. */
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, &val, sizeof(val)),
			0ul);
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr), leaf);
	KUNIT_ASSERT_EQ(test, egm_report_poison(mt->mem.att, region->base + bad), 0);
	flush_work(&region->poison_work);
	/* The zap removed the huge leaf. */
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr), 0ul);

	/* The neighbours still work, on leaves that avoid the bad page. */
	KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr + bad - PAGE_SIZE,
					   &val, sizeof(val)), 0ul);
	KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr + bad + PAGE_SIZE,
					   &val, sizeof(val)), 0ul);
	KUNIT_EXPECT_EQ(test, *(u64 *)egm_mt_kaddr(mt, bad + PAGE_SIZE), val);
	KUNIT_EXPECT_LT(test, egm_mt_leaf(addr + bad - PAGE_SIZE), leaf);
	KUNIT_EXPECT_GT(test, egm_mt_leaf(addr + bad - PAGE_SIZE), 0ul);
	/* Far from the bad page inside the block, a smaller huge leaf if any. */
	KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr, &val, sizeof(val)),
			0ul);
	KUNIT_EXPECT_GT(test, egm_mt_leaf(addr), 0ul);

	/* The poisoned page itself: VM_FAULT_HWPOISON, the access fails. */
	KUNIT_EXPECT_NE(test, copy_from_user(&back, (void __user *)addr + bad,
					     sizeof(back)), 0ul);
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr + bad), 0ul);

	/* The next block is still one huge leaf. */
	if (len >= 2 * leaf) {
		KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr + leaf, &val,
						   sizeof(val)), 0ul);
		KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr + leaf), leaf);
	}
	vm_munmap(addr, len);
}

/* Revoke: every later access fails; the region goes once unmapped. */
static void egm_mapping_revoke(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	unsigned long addr = egm_mt_map(test, mt, 0, SZ_16M);
	u64 val = 42, back;

	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr, &val, sizeof(val)),
			0ul);
	egm_revoke_region(mt->mem.att);

	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr), 0ul);
	KUNIT_EXPECT_NE(test, copy_from_user(&back, (void __user *)addr,
					     sizeof(back)), 0ul);
	KUNIT_EXPECT_NE(test, copy_to_user((void __user *)addr + SZ_8M, &val,
					   sizeof(val)), 0ul);
	/* A new mapping of a revoked region is refused. */
	KUNIT_EXPECT_EQ(test, (long)vm_mmap(mt->file, 0, PAGE_SIZE,
					    PROT_READ, MAP_SHARED, 0),
			(long)-ENODEV);
	/* Revoking twice is harmless. */
	egm_revoke_region(mt->mem.att);

	/* Parents gone while still mapped: the region outlives them... */
	egm_unregister_region(mt->mem.att);
	mt->mem.att = NULL;
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 1);
	/* ...and goes with the last user. */
	vm_munmap(addr, SZ_16M);
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 1);
	egm_partition_release(mt->mem.part);
	mt->acquired = false;
	KUNIT_EXPECT_EQ(test, egm_nr_live_regions(), 0);
}

struct egm_mt_toucher {
	struct mm_struct *mm;
	unsigned long addr;
	u64 value;
	unsigned long left;
	struct completion done;
};

/* Reads the address through the test's mm, from another thread. */
static int egm_mt_touch_fn(void *data)
{
	struct egm_mt_toucher *t = data;

	kthread_use_mm(t->mm);
	t->left = copy_from_user(&t->value, (void __user *)t->addr,
				 sizeof(t->value));
	kthread_unuse_mm(t->mm);
	mmput(t->mm);
	/* For every waiter: the test's and egm_mt_touch_wait()'s. */
	complete_all(&t->done);
	return 0;
}

/*
 * The toucher must be done before its memory goes.  One that is stuck for
 * a minute has already failed the test: leak it rather than hang the run.
 */
static void egm_mt_touch_wait(void *data)
{
	struct egm_mt_toucher *t = data;

	if (wait_for_completion_timeout(&t->done, msecs_to_jiffies(60000)))
		kfree(t);
	else
		pr_err("egm_mapping_reset: toucher stuck, leaking it\n");
}

static struct egm_mt_toucher *egm_mt_touch_async(struct kunit *test,
						 unsigned long addr)
{
	struct egm_mt_toucher *t;
	struct task_struct *task;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->mm = current->mm;
	t->addr = addr;
	t->left = ~0ul;
	init_completion(&t->done);
	mmget(t->mm);
	task = kthread_run(egm_mt_touch_fn, t, "egm-kunit-touch");
	if (IS_ERR(task)) {
		mmput(t->mm);
		kfree(t);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(task));
		return NULL;
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, egm_mt_touch_wait, t),
			0);
	return t;
}

/* Wait (bounded) until somebody sleeps on the region's reset queue. */
static bool egm_mt_wait_sleeper(struct egm_partition *part)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (wq_has_sleeper(&part->access_wq))
			return true;
		msleep(20);
	}
	return false;
}

static void egm_mt_unregister(void *att)
{
	egm_unregister_region(att);
}

/*
 * Reset: mappings are zapped and faults wait until every parent in reset
 * is done; then the same data is there again.
 */
static void egm_mapping_reset(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	struct egm_region *region = mt->mem.region;
	struct egm_partition *whole = mt->mem.part;
	unsigned long addr = egm_mt_map(test, mt, 0, SZ_16M);
	struct egm_region_desc desc = {
		.base = region->base,
		.size = region->size,
		.pxm = EGM_MT_PXM,
	};
	struct egm_attachment *second;
	struct egm_mt_toucher *t;
	struct device *gpu1;
	u64 val = 0xfeedface;

	gpu1 = kunit_device_register(test, "egm-map-gpu1");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, gpu1);
	second = egm_register_region(gpu1, &desc);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, second);
	/* Unregistering also ends a reset left open by a failed assertion. */
	KUNIT_ASSERT_EQ(test,
			kunit_add_action_or_reset(test, egm_mt_unregister, second),
			0);

	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr + SZ_4M, &val,
					   sizeof(val)), 0ul);
	KUNIT_ASSERT_GT(test, egm_mt_leaf(addr + SZ_4M), 0ul);

	/* Both parents reset at once. */
	KUNIT_ASSERT_EQ(test, egm_reset_begin(mt->mem.att), 0);
	KUNIT_EXPECT_EQ(test, egm_reset_begin(mt->mem.att), -EINVAL);
	KUNIT_ASSERT_EQ(test, egm_reset_begin(second), 0);
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr + SZ_4M), 0ul);

	/* A fault during the reset waits. */
	t = egm_mt_touch_async(test, addr + SZ_4M);
	KUNIT_EXPECT_TRUE(test, egm_mt_wait_sleeper(whole));
	KUNIT_EXPECT_FALSE(test, completion_done(&t->done));

	/* One parent done: still waiting for the other. */
	egm_reset_end(mt->mem.att);
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&t->done,
							     msecs_to_jiffies(200)));
	KUNIT_EXPECT_TRUE(test, wq_has_sleeper(&whole->access_wq));

	/* Both done: the fault completes, with the data that was there. */
	egm_reset_end(second);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&t->done,
							    msecs_to_jiffies(30000)));
	KUNIT_EXPECT_EQ(test, t->left, 0ul);
	KUNIT_EXPECT_EQ(test, t->value, val);
	KUNIT_EXPECT_GT(test, egm_mt_leaf(addr + SZ_4M), 0ul);

	/* A parent that leaves in the middle of a reset ends it. */
	KUNIT_ASSERT_EQ(test, egm_reset_begin(second), 0);
	kunit_release_action(test, egm_mt_unregister, second);
	KUNIT_EXPECT_EQ(test, copy_from_user(&val, (void __user *)addr, sizeof(val)),
			0ul);
	vm_munmap(addr, SZ_16M);
}

/*
 * A fault the architecture lets retry, called the way handle_mm_fault()
 * calls it: under the mmap lock, which it may drop (and then says so with
 * VM_FAULT_RETRY).
 */
struct egm_mt_retrier {
	struct mm_struct *mm;
	unsigned long addr;
	vm_fault_t first, second, third;
	struct completion first_done;	/* the first attempt returned */
	struct completion go_on;	/* the test began the second reset */
	struct completion done;
};

static vm_fault_t egm_mt_fault_once(struct egm_mt_retrier *r,
				    unsigned int flags)
{
	struct vm_area_struct *vma;
	vm_fault_t ret;

	mmap_read_lock(r->mm);
	vma = vma_lookup(r->mm, r->addr);
	if (!vma) {
		mmap_read_unlock(r->mm);
		return VM_FAULT_SIGSEGV;
	}
	{
		struct vm_fault vmf = {
			.vma = vma,
			.address = r->addr & PAGE_MASK,
			.real_address = r->addr,
			.pgoff = linear_page_index(vma, r->addr),
			.flags = flags,
			.gfp_mask = GFP_KERNEL,
		};

		ret = vma->vm_ops->fault(&vmf);
	}
	/* VM_FAULT_RETRY without RETRY_NOWAIT: the handler dropped the lock. */
	if (!(ret & VM_FAULT_RETRY) || (flags & FAULT_FLAG_RETRY_NOWAIT))
		mmap_read_unlock(r->mm);
	return ret;
}

static int egm_mt_retrier_fn(void *data)
{
	struct egm_mt_retrier *r = data;
	unsigned int flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;

	kthread_use_mm(r->mm);
	r->first = egm_mt_fault_once(r, flags);
	complete(&r->first_done);
	wait_for_completion(&r->go_on);
	/* The retry, as arch code makes it, while the next reset is on. */
	flags |= FAULT_FLAG_TRIED;
	r->second = egm_mt_fault_once(r, flags);
	if (r->second & VM_FAULT_RETRY)
		r->third = egm_mt_fault_once(r, flags);
	kthread_unuse_mm(r->mm);
	mmput(r->mm);
	complete_all(&r->done);
	return 0;
}

static void egm_mt_retrier_wait(void *data)
{
	struct egm_mt_retrier *r = data;

	complete(&r->go_on);
	if (wait_for_completion_timeout(&r->done, msecs_to_jiffies(60000)))
		kfree(r);
	else
		pr_err("egm_mapping_reset_retry_unlocked: retrier stuck, leaking it\n");
}

/* Is the mmap lock free (nobody holds it) at some point within a second? */
static bool egm_mt_mmap_lock_free(struct mm_struct *mm)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (!rwsem_is_locked(&mm->mmap_lock))
			return true;
		msleep(20);
	}
	return false;
}

/*
 * A retried fault that meets a second reset waits with the mmap lock
 * dropped, like the first attempt did: a fault may return VM_FAULT_RETRY
 * any number of times (FAULT_FLAG_TRIED only says it did before).  Held,
 * the lock would stall every mmap()/munmap() of the process, and behind
 * them every other thread's fault, for the whole reset.
 */
static void egm_mapping_reset_retry_unlocked(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	struct egm_partition *whole = mt->mem.part;
	unsigned long addr = egm_mt_map(test, mt, 0, SZ_16M);
	struct egm_mt_retrier *r;
	struct task_struct *task;
	u64 val = 0xc0ffee;
	bool free;
	int ret;

	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr + SZ_4M, &val,
					   sizeof(val)), 0ul);

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	r->mm = current->mm;
	r->addr = addr + SZ_4M;
	init_completion(&r->first_done);
	init_completion(&r->go_on);
	init_completion(&r->done);

	KUNIT_ASSERT_EQ(test, egm_reset_begin(mt->mem.att), 0);
	mmget(r->mm);
	task = kthread_run(egm_mt_retrier_fn, r, "egm-kunit-retry");
	if (IS_ERR(task)) {
		mmput(r->mm);
		kfree(r);
		egm_reset_end(mt->mem.att);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}
	ret = kunit_add_action_or_reset(test, egm_mt_retrier_wait, r);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/* First attempt: waits with the lock dropped. */
	KUNIT_EXPECT_TRUE(test, egm_mt_wait_sleeper(whole));
	KUNIT_EXPECT_TRUE(test, egm_mt_mmap_lock_free(current->mm));
	egm_reset_end(mt->mem.att);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->first_done,
							    msecs_to_jiffies(30000)));
	KUNIT_EXPECT_TRUE(test, r->first == VM_FAULT_RETRY);

	/* A second reset begins before the retry. */
	KUNIT_ASSERT_EQ(test, egm_reset_begin(mt->mem.att), 0);
	complete(&r->go_on);
	KUNIT_EXPECT_TRUE(test, egm_mt_wait_sleeper(whole));
	free = egm_mt_mmap_lock_free(current->mm);
	KUNIT_EXPECT_TRUE_MSG(test, free,
			      "a retried fault waits for a reset holding the mmap lock");
	/* An unrelated munmap of the same mm goes through meanwhile. */
	if (free)
		vm_munmap(addr + SZ_8M, SZ_1M);
	KUNIT_EXPECT_FALSE(test, completion_done(&r->done));

	egm_reset_end(mt->mem.att);
	KUNIT_ASSERT_TRUE(test, wait_for_completion_timeout(&r->done,
							    msecs_to_jiffies(30000)));
	KUNIT_EXPECT_TRUE(test, r->second == VM_FAULT_RETRY);
	KUNIT_EXPECT_TRUE(test, r->third == VM_FAULT_NOPAGE);
	KUNIT_EXPECT_EQ(test, copy_from_user(&val, (void __user *)addr + SZ_4M,
					     sizeof(val)), 0ul);
	KUNIT_EXPECT_EQ(test, val, 0xc0ffeeull);
	vm_munmap(addr, SZ_16M);
}

static void egm_mapping_bad_requests(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	unsigned long ok = egm_mt_map(test, mt, 0, PAGE_SIZE);

	/* Past the end, straddling the end. */
	KUNIT_EXPECT_EQ(test, (long)vm_mmap(mt->file, 0, PAGE_SIZE, PROT_READ,
					    MAP_SHARED, SZ_16M),
			(long)-EINVAL);
	KUNIT_EXPECT_EQ(test, (long)vm_mmap(mt->file, 0, 2 * PAGE_SIZE, PROT_READ,
					    MAP_SHARED, SZ_16M - PAGE_SIZE),
			(long)-EINVAL);
	KUNIT_EXPECT_EQ(test, (long)vm_mmap(mt->file, 0, SZ_32M, PROT_READ,
					    MAP_SHARED, 0),
			(long)-EINVAL);
	/* Private mappings would be copy-on-write of PFNs. */
	KUNIT_EXPECT_EQ(test, (long)vm_mmap(mt->file, 0, PAGE_SIZE,
					    PROT_READ | PROT_WRITE, MAP_PRIVATE, 0),
			(long)-EINVAL);
	/* An offset far past the end. */
	KUNIT_EXPECT_EQ(test, (long)vm_mmap(mt->file, 0, PAGE_SIZE, PROT_READ,
					    MAP_SHARED, 1ul << 40),
			(long)-EINVAL);
	vm_munmap(ok, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, egm_mt_holders(mt), 1l);
}

/*
 * Splitting a mapping (munmap of its middle) keeps both halves working and
 * counted: the region stays in use until the last piece goes.
 */
static void egm_mapping_split(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	unsigned long addr = egm_mt_map(test, mt, 0, SZ_16M);
	u64 val = 7, back = 0;

	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr + SZ_8M + 8, &val,
					   sizeof(val)), 0ul);
	KUNIT_EXPECT_EQ(test, egm_mt_holders(mt), 2l);

	KUNIT_ASSERT_EQ(test, vm_munmap(addr + SZ_4M, SZ_2M), 0);
	KUNIT_EXPECT_EQ(test, egm_mt_holders(mt), 3l);
	KUNIT_EXPECT_EQ(test, copy_from_user(&back, (void __user *)addr + SZ_8M + 8,
					     sizeof(back)), 0ul);
	KUNIT_EXPECT_EQ(test, back, val);
	KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr, &val, sizeof(val)),
			0ul);
	KUNIT_EXPECT_NE(test, copy_from_user(&back, (void __user *)addr + SZ_4M,
					     sizeof(back)), 0ul);

	vm_munmap(addr, SZ_16M);
	KUNIT_EXPECT_EQ(test, egm_mt_holders(mt), 1l);
	KUNIT_EXPECT_EQ(test, egm_region_state(mt->mem.region), EGM_IN_USE);
}

/*
 * Splitting a mapping inside a PUD leaf (munmap of a part) removes that
 * leaf first: 6.12 splits huge PMD leaves but not PUD leaves, and one left
 * across the split crashes the munmap (VM_BUG_ON_VMA in
 * __split_huge_pud_locked()).  The rest faults back in smaller, with the
 * same data.
 */
static void egm_mapping_split_pud(struct kunit *test)
{
	struct egm_mt *mt;
	unsigned long addr;
	u64 val = 0x1d, back = 0;

	if (!IS_ENABLED(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP))
		kunit_skip(test, "no PUD leaves for PFN maps on this architecture");
	if (mem_size < SZ_1G || !IS_ALIGNED(mem_base, SZ_1G))
		kunit_skip(test, "needs 1 GiB of hidden memory, 1 GiB aligned");

	mt = egm_mt_setup(test, SZ_1G);
	addr = egm_mt_map(test, mt, 0, SZ_1G);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)addr + SZ_256M, &val,
					   sizeof(val)), 0ul);
	KUNIT_ASSERT_EQ(test, egm_mt_leaf(addr + SZ_256M), (unsigned long)PUD_SIZE);

	KUNIT_ASSERT_EQ(test, vm_munmap(addr + SZ_512M, SZ_2M), 0);
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr + SZ_256M), 0ul);
	KUNIT_EXPECT_EQ(test, copy_from_user(&back, (void __user *)addr + SZ_256M,
					     sizeof(back)), 0ul);
	KUNIT_EXPECT_EQ(test, back, val);
	KUNIT_EXPECT_EQ(test, egm_mt_leaf(addr + SZ_256M), (unsigned long)PMD_SIZE);
	KUNIT_EXPECT_NE(test, copy_from_user(&back, (void __user *)addr + SZ_512M,
					     sizeof(back)), 0ul);
	vm_munmap(addr, SZ_1G);
}

/*
 * EGM_GET_RETIRED_PAGES never reports more entries than it wrote, even
 * when the poison bitmap is ahead of the count of poisoned pages (a report
 * sets its bits before it adds them to the count): count == entries
 * written, or ENOSPC.
 */
static void egm_mapping_retired_list_bound(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	struct egm_region *region = mt->mem.region;
	struct egm_partition *whole = mt->mem.part;
	struct egm_retired_pages hdr, __user *uarg;
	u64 offsets[4];
	unsigned long buf;
	u32 minsz = offsetof(struct egm_retired_pages, offsets);

	buf = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(buf));
	uarg = (void __user *)buf;

	/* A report between setting its bits and counting them. */
	set_bit(3, region->poison);
	set_bit(5, region->poison);
	KUNIT_ASSERT_EQ(test, atomic_long_read(&region->nr_poisoned), 0l);

	memset(offsets, 0xff, sizeof(offsets));
	hdr = (struct egm_retired_pages){ .argsz = minsz + sizeof(offsets) };
	KUNIT_ASSERT_EQ(test, copy_to_user(uarg, &hdr, sizeof(hdr)), 0ul);
	KUNIT_ASSERT_EQ(test, copy_to_user(uarg->offsets, offsets,
					   sizeof(offsets)), 0ul);
	KUNIT_EXPECT_EQ(test, egm_ioctl_get_retired(whole, uarg), 0l);
	KUNIT_ASSERT_EQ(test, copy_from_user(&hdr, uarg, sizeof(hdr)), 0ul);
	KUNIT_ASSERT_EQ(test, copy_from_user(offsets, uarg->offsets,
					     sizeof(offsets)), 0ul);
	KUNIT_EXPECT_EQ(test, hdr.count, 2u);
	KUNIT_EXPECT_EQ(test, offsets[0], 3ull << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, offsets[1], 5ull << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, hdr.argsz, minsz + 2 * (u32)sizeof(u64));

	/* Room for one of two: ENOSPC, and the room it takes. */
	hdr = (struct egm_retired_pages){ .argsz = minsz + sizeof(u64) };
	KUNIT_ASSERT_EQ(test, copy_to_user(uarg, &hdr, sizeof(hdr)), 0ul);
	KUNIT_EXPECT_EQ(test, egm_ioctl_get_retired(whole, uarg), (long)-ENOSPC);
	KUNIT_ASSERT_EQ(test, copy_from_user(&hdr, uarg, sizeof(hdr)), 0ul);
	KUNIT_EXPECT_EQ(test, hdr.argsz, minsz + 2 * (u32)sizeof(u64));
	vm_munmap(buf, PAGE_SIZE);
}

/*
 * A remote fault (VFIO type1 resolving the range for DMA) on a retired page
 * maps the region's sink in its place; the CPU's own fault on another
 * retired page still fails; the scrub between tenants reports and wipes
 * what was written into the sink.
 */
static void egm_mapping_retired_sink(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	struct egm_region *region = mt->mem.region;
	struct egm_partition *whole = mt->mem.part;
	unsigned long addr = egm_mt_map(test, mt, 0, SZ_16M);
	unsigned long sink_pfn = page_to_pfn(whole->sink);
	u64 bad = SZ_4M + PAGE_SIZE, bad2 = SZ_8M;
	u64 val = 0x5151, back = 0;
	s64 sink_faults = atomic64_read(&whole->sink_faults);
	s64 sink_writes = atomic64_read(&whole->sink_writes);
	int ret;

	KUNIT_ASSERT_EQ(test, egm_report_poison(mt->mem.att, region->base + bad), 0);
	KUNIT_ASSERT_EQ(test, egm_report_poison(mt->mem.att, region->base + bad2), 0);
	flush_work(&region->poison_work);

	/* The CPU's own access to a retired page fails, and maps nothing. */
	KUNIT_EXPECT_NE(test, copy_from_user(&back, (void __user *)addr + bad2,
					     sizeof(back)), 0ul);
	KUNIT_EXPECT_EQ(test, egm_mt_pfn(addr + bad2), 0ul);

	/* A remote fault, as type1's follow_fault_pfn() makes it. */
	mmap_read_lock(current->mm);
	ret = fixup_user_fault(current->mm, addr + bad,
			       FAULT_FLAG_REMOTE | FAULT_FLAG_WRITE, NULL);
	mmap_read_unlock(current->mm);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, egm_mt_pfn(addr + bad), sink_pfn);
	KUNIT_EXPECT_EQ(test, atomic64_read(&whole->sink_faults), sink_faults + 1);
	/* Its neighbours are the region's own pages. */
	mmap_read_lock(current->mm);
	ret = fixup_user_fault(current->mm, addr + bad + PAGE_SIZE,
			       FAULT_FLAG_REMOTE | FAULT_FLAG_WRITE, NULL);
	mmap_read_unlock(current->mm);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, egm_mt_pfn(addr + bad + PAGE_SIZE),
			PHYS_PFN(region->base + bad + PAGE_SIZE));

	/* What is written there lands in the sink, never in the bad page. */
	KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr + bad + 8, &val,
					   sizeof(val)), 0ul);
	KUNIT_EXPECT_EQ(test, *(u64 *)(page_address(whole->sink) + 8), val);

	/* Between tenants the sink is reported and zeroed. */
	vm_munmap(addr, SZ_16M);
	egm_partition_release(whole);
	mt->acquired = false;
	KUNIT_EXPECT_TRUE(test, egm_kunit_wait_state(region, EGM_CLEAN));
	KUNIT_EXPECT_EQ(test, atomic64_read(&whole->sink_writes), sink_writes + 1);
	KUNIT_EXPECT_NULL(test, memchr_inv(page_address(whole->sink), 0, PAGE_SIZE));
}

/*
 * A tenancy lasts while anything holds its file: here an extra reference
 * stands in for VFIO type1's hold on the vm_file of an IOMMU-mapped range.
 * The acquirer's release and the munmap do not end it; the next acquire
 * gets -EBUSY; dropping the last hold ends it and the region is scrubbed.
 */
static void egm_mapping_tenancy_outlives_mappings(struct kunit *test)
{
	struct egm_mt *mt = egm_mt_setup(test, SZ_16M);
	struct egm_region *region = mt->mem.region;
	struct egm_partition *whole = mt->mem.part;
	unsigned long addr = egm_mt_map(test, mt, 0, SZ_16M);
	struct vm_area_struct *vma;
	struct file *dma_hold;

	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, addr);
	dma_hold = vma ? get_file(vma->vm_file) : NULL;
	mmap_read_unlock(current->mm);
	KUNIT_ASSERT_NOT_NULL(test, dma_hold);
	KUNIT_EXPECT_EQ(test, egm_mt_holders(mt), 3l);

	vm_munmap(addr, SZ_16M);
	egm_partition_release(whole);
	mt->acquired = false;
	flush_delayed_fput();
	KUNIT_EXPECT_EQ(test, egm_region_state(region), EGM_IN_USE);
	KUNIT_EXPECT_EQ(test, egm_partition_acquire(whole), -EBUSY);

	__fput_sync(dma_hold);
	KUNIT_EXPECT_NE(test, egm_region_state(region), EGM_IN_USE);
	KUNIT_EXPECT_TRUE(test, egm_kunit_wait_state(region, EGM_CLEAN));
}

static struct kunit_case egm_mapping_cases[] = {
	KUNIT_CASE(egm_mapping_right_pfn),
	KUNIT_CASE(egm_mapping_huge_leaves),
	KUNIT_CASE(egm_mapping_poison_fallback),
	KUNIT_CASE(egm_mapping_revoke),
	KUNIT_CASE(egm_mapping_reset),
	KUNIT_CASE(egm_mapping_reset_retry_unlocked),
	KUNIT_CASE(egm_mapping_bad_requests),
	KUNIT_CASE(egm_mapping_split),
	KUNIT_CASE(egm_mapping_split_pud),
	KUNIT_CASE(egm_mapping_retired_list_bound),
	KUNIT_CASE(egm_mapping_retired_sink),
	KUNIT_CASE(egm_mapping_tenancy_outlives_mappings),
	{}
};

static struct kunit_suite egm_mapping_suite = {
	.name = "egm_mapping",
	.exit = egm_mt_exit,
	.test_cases = egm_mapping_cases,
};

kunit_test_suite(egm_mapping_suite);
