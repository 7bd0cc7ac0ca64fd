// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core's account of the CPU page tables that map a partition, for
 * debugfs (/sys/kernel/debug/egm/<partition>/mappings): for every process
 * with a mapping of the partition, what its page tables point at, read from the
 * page tables themselves.  It is how an operator, and the DMA suite, see
 * that no retired page is mapped anywhere: /proc/PID/pagemap skips
 * VM_PFNMAP mappings.
 *
 * One line per process:
 *   PID COMM: vmas N pages N region N sink N retired N foreign N
 * pages are present PAGE_SIZE pages (a huge leaf counts all of its pages);
 * region those mapping the partition's own memory, sink those mapping its
 * retired-page sink (sink.c), retired those mapping a retired page of the
 * partition (never anything but 0), foreign those mapping anything else,
 * another partition's memory included (never anything but 0).
 */
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "egm_internal.h"

/* Processes looked at, at most; the rest are reported as not walked. */
#define EGM_MAPPINGS_MAX_TASKS	4096

struct egm_map_count {
	unsigned long vmas, pages, region, sink, retired, foreign;
};

static void egm_count_vma(struct egm_partition *part, struct vm_area_struct *vma,
			  struct egm_map_count *c)
{
	struct egm_region *region = part->region;
	unsigned long region_pfn = PHYS_PFN(region->base);
	unsigned long base_pfn = region_pfn + part->first_page;
	unsigned long sink_pfn = page_to_pfn(part->sink);
	unsigned long addr = vma->vm_start, step, nr, pfn;

	c->vmas++;
	while (addr < vma->vm_end) {
		struct follow_pfnmap_args args = { .vma = vma, .address = addr };
		bool huge;

		step = PAGE_SIZE;
		if (!follow_pfnmap_start(&args)) {
			pfn = args.pfn;
			huge = !args.ptep;
			follow_pfnmap_end(&args);
			/* A PMD or PUD leaf: count it up to the next PMD boundary. */
			if (huge)
				step = min(ALIGN(addr + 1, PMD_SIZE), vma->vm_end) - addr;
			nr = step >> PAGE_SHIFT;
			c->pages += nr;
			if (pfn == sink_pfn && !huge)
				c->sink++;
			else if (pfn < base_pfn || pfn + nr > base_pfn + part->nr_pages)
				c->foreign += nr;
			else if (egm_region_range_poisoned(region, pfn - region_pfn, nr))
				c->retired += nr;
			else
				c->region += nr;
		}
		addr += step;
		cond_resched();
	}
}

static void egm_count_mm(struct egm_partition *part, struct mm_struct *mm,
			 struct egm_map_count *c)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	if (mmap_read_lock_killable(mm))
		return;
	for_each_vma(vmi, vma)
		if (egm_vma_maps_partition(vma, part))
			egm_count_vma(part, vma, c);
	mmap_read_unlock(mm);
}

int egm_partition_mappings_show(struct seq_file *m, struct egm_partition *part)
{
	struct egm_map_count c;
	struct task_struct *p;
	struct mm_struct *mm;
	unsigned int n = 0, i;
	struct pid **pids;

	pids = kvcalloc(EGM_MAPPINGS_MAX_TASKS, sizeof(*pids), GFP_KERNEL);
	if (!pids)
		return -ENOMEM;
	rcu_read_lock();
	for_each_process(p) {
		if (n == EGM_MAPPINGS_MAX_TASKS)
			break;
		pids[n++] = get_pid(task_tgid(p));
	}
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		p = get_pid_task(pids[i], PIDTYPE_TGID);
		put_pid(pids[i]);
		if (!p)
			continue;
		mm = get_task_mm(p);
		if (mm) {
			memset(&c, 0, sizeof(c));
			egm_count_mm(part, mm, &c);
			mmput(mm);
			if (c.vmas)
				seq_printf(m, "%d %s: vmas %lu pages %lu region %lu sink %lu retired %lu foreign %lu\n",
					   task_tgid_nr(p), p->comm, c.vmas, c.pages,
					   c.region, c.sink, c.retired, c.foreign);
		}
		put_task_struct(p);
	}
	if (n == EGM_MAPPINGS_MAX_TASKS)
		seq_puts(m, "(more processes, not walked)\n");
	kvfree(pids);
	return 0;
}
