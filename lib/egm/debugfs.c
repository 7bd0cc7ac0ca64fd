// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core debugfs: /sys/kernel/debug/egm/<partition>/ for each partition
 * of a live region (egm<pxm> for the whole-region one, egm<pxm>.<index>
 * for the others),
 * /sys/kernel/debug/egm/reset_scoped (Y; N makes a reset zap every
 * partition of its region, for the partitions suite's control only),
 * and /sys/kernel/debug/egm/retired_sink (Y; N switches the retired-page
 * sink off, for the DMA suite's control only).
 *
 *   faults  faults served since the partition was created, by leaf size
 *           ("pte N", "pmd N", "pud N"): proof that huge leaves are used,
 *           cheap enough to keep (one atomic increment per fault)
 *   state   dirty, scrubbing, clean or in_use (see scrub.c)
 *   scrub   "dirty_chunks N": chunks that may still hold an earlier
 *           tenant's data; "access_zeroed N": chunks a fault or a read()/
 *           write() had to zero itself, the background scrub not having
 *           reached them yet (see egm_partition_clean_range())
 *   sink    the retired-page sink (see sink.c): "pfn 0x...", "faults N"
 *           (DMA-mapping faults that mapped it in place of a retired
 *           page), "writes N" (tenancies that left data in it)
 *   tenancy "holders N": references to the current tenancy (the opener,
 *           each mapping, each VFIO type1 DMA mapping); 0 between tenants
 *   mappings  what the CPU page tables of each process that maps the
 *           partition point at (see mappings.c)
 *
 * The directory is created with the partition and removed when it leaves
 * its region, under the region's partition_lock; debugfs_remove_recursive()
 * waits for readers, and the show functions take no egm-core lock but
 * state_lock.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>

#include "egm_internal.h"

static struct dentry *egm_debugfs_root;

static int egm_faults_show(struct seq_file *m, void *unused)
{
	struct egm_partition *part = m->private;

	seq_printf(m, "pte %lld\npmd %lld\npud %lld\n",
		   atomic64_read(&part->faults[EGM_LEAF_PTE]),
		   atomic64_read(&part->faults[EGM_LEAF_PMD]),
		   atomic64_read(&part->faults[EGM_LEAF_PUD]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_faults);

static int egm_sink_show(struct seq_file *m, void *unused)
{
	struct egm_partition *part = m->private;

	seq_printf(m, "pfn %#lx\nfaults %lld\nwrites %lld\n",
		   page_to_pfn(part->sink),
		   atomic64_read(&part->sink_faults),
		   atomic64_read(&part->sink_writes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_sink);

static int egm_tenancy_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "holders %ld\n", egm_partition_tenant_holders(m->private));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_tenancy);

static int egm_mappings_show(struct seq_file *m, void *unused)
{
	return egm_partition_mappings_show(m, m->private);
}
DEFINE_SHOW_ATTRIBUTE(egm_mappings);

static int egm_scrub_show(struct seq_file *m, void *unused)
{
	struct egm_partition *part = m->private;

	seq_printf(m, "dirty_chunks %ld\naccess_zeroed %lld\n",
		   atomic_long_read(&part->nr_dirty),
		   atomic64_read(&part->access_scrubs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_scrub);

static int egm_state_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%s\n", egm_state_name(egm_partition_state(m->private)));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_state);

void egm_partition_debugfs_create(struct egm_partition *part)
{
	struct dentry *dir;

	lockdep_assert_held(&part->region->partition_lock);

	dir = debugfs_create_dir(part->name, egm_debugfs_root);
	debugfs_create_file("faults", 0400, dir, part, &egm_faults_fops);
	debugfs_create_file("state", 0400, dir, part, &egm_state_fops);
	debugfs_create_file("scrub", 0400, dir, part, &egm_scrub_fops);
	debugfs_create_file("sink", 0400, dir, part, &egm_sink_fops);
	debugfs_create_file("mappings", 0400, dir, part, &egm_mappings_fops);
	debugfs_create_file("tenancy", 0400, dir, part, &egm_tenancy_fops);
	part->debugfs = dir;
}

void egm_partition_debugfs_remove(struct egm_partition *part)
{
	lockdep_assert_held(&part->region->partition_lock);

	debugfs_remove_recursive(part->debugfs);
	part->debugfs = NULL;
}

void egm_debugfs_init(void)
{
	egm_debugfs_root = debugfs_create_dir("egm", NULL);
	debugfs_create_bool("retired_sink", 0600, egm_debugfs_root,
			    &egm_sink_enabled);
	debugfs_create_bool("reset_scoped", 0600, egm_debugfs_root,
			    &egm_reset_scoped);
}

void egm_debugfs_exit(void)
{
	debugfs_remove_recursive(egm_debugfs_root);
}
