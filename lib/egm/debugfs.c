// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core debugfs: /sys/kernel/debug/egm/egm<pxm>/ for each live region,
 * and /sys/kernel/debug/egm/retired_sink (Y; N switches the retired-page
 * sink off, for the DMA suite's control only).
 *
 *   faults  faults served since the region was created, by leaf size
 *           ("pte N", "pmd N", "pud N"): proof that huge leaves are used,
 *           cheap enough to keep (one atomic increment per fault)
 *   state   dirty, scrubbing, clean or in_use (see scrub.c)
 *   scrub   "dirty_chunks N": chunks that may still hold an earlier
 *           tenant's data; "access_zeroed N": chunks a fault or a read()/
 *           write() had to zero itself, the background scrub not having
 *           reached them yet (see egm_region_clean_range())
 *   sink    the retired-page sink (see sink.c): "pfn 0x...", "faults N"
 *           (DMA-mapping faults that mapped it in place of a retired
 *           page), "writes N" (tenancies that left data in it)
 *   tenancy "holders N": references to the current tenancy (the opener,
 *           each mapping, each VFIO type1 DMA mapping); 0 between tenants
 *   mappings  what the CPU page tables of each process that maps the
 *           region point at (see mappings.c)
 *
 * The directory is created with the region and removed when it is
 * retired, under egm_registry_lock; debugfs_remove_recursive() waits for
 * readers, and the show functions take no egm-core lock but state_lock.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>

#include "egm_internal.h"

static struct dentry *egm_debugfs_root;

static int egm_faults_show(struct seq_file *m, void *unused)
{
	struct egm_region *region = m->private;

	seq_printf(m, "pte %lld\npmd %lld\npud %lld\n",
		   atomic64_read(&region->faults[EGM_LEAF_PTE]),
		   atomic64_read(&region->faults[EGM_LEAF_PMD]),
		   atomic64_read(&region->faults[EGM_LEAF_PUD]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_faults);

static int egm_sink_show(struct seq_file *m, void *unused)
{
	struct egm_region *region = m->private;

	seq_printf(m, "pfn %#lx\nfaults %lld\nwrites %lld\n",
		   page_to_pfn(region->sink),
		   atomic64_read(&region->sink_faults),
		   atomic64_read(&region->sink_writes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_sink);

static int egm_tenancy_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "holders %ld\n", egm_region_tenant_holders(m->private));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_tenancy);

static int egm_mappings_show(struct seq_file *m, void *unused)
{
	return egm_region_mappings_show(m, m->private);
}
DEFINE_SHOW_ATTRIBUTE(egm_mappings);

static int egm_scrub_show(struct seq_file *m, void *unused)
{
	struct egm_region *region = m->private;

	seq_printf(m, "dirty_chunks %ld\naccess_zeroed %lld\n",
		   atomic_long_read(&region->nr_dirty),
		   atomic64_read(&region->access_scrubs));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_scrub);

static int egm_state_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%s\n", egm_state_name(egm_region_state(m->private)));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(egm_state);

void egm_region_debugfs_create(struct egm_region *region)
{
	char name[16];

	lockdep_assert_held(&egm_registry_lock);

	snprintf(name, sizeof(name), "egm%u", region->pxm);
	region->debugfs = debugfs_create_dir(name, egm_debugfs_root);
	debugfs_create_file("faults", 0400, region->debugfs, region,
			    &egm_faults_fops);
	debugfs_create_file("state", 0400, region->debugfs, region,
			    &egm_state_fops);
	debugfs_create_file("scrub", 0400, region->debugfs, region,
			    &egm_scrub_fops);
	debugfs_create_file("sink", 0400, region->debugfs, region,
			    &egm_sink_fops);
	debugfs_create_file("mappings", 0400, region->debugfs, region,
			    &egm_mappings_fops);
	debugfs_create_file("tenancy", 0400, region->debugfs, region,
			    &egm_tenancy_fops);
}

void egm_region_debugfs_remove(struct egm_region *region)
{
	lockdep_assert_held(&egm_registry_lock);

	debugfs_remove_recursive(region->debugfs);
	region->debugfs = NULL;
}

void egm_debugfs_init(void)
{
	egm_debugfs_root = debugfs_create_dir("egm", NULL);
	debugfs_create_bool("retired_sink", 0600, egm_debugfs_root,
			    &egm_sink_enabled);
}

void egm_debugfs_exit(void)
{
	debugfs_remove_recursive(egm_debugfs_root);
}
