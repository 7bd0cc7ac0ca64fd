// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core debugfs: /sys/kernel/debug/egm/egm<pxm>/ for each live region.
 *
 *   faults  faults served since the region was created, by leaf size
 *           ("pte N", "pmd N", "pud N"): proof that huge leaves are used,
 *           cheap enough to keep (one atomic increment per fault)
 *   state   dirty, scrubbing, clean or in_use (see scrub.c)
 *
 * The directory is created with the region and removed when it is
 * retired, under egm_registry_lock; debugfs_remove_recursive() waits for
 * readers, and the show functions take no egm-core lock but state_lock.
 */
#include <linux/debugfs.h>
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

static int egm_state_show(struct seq_file *m, void *unused)
{
	static const char * const names[] = {
		[EGM_DIRTY] = "dirty",
		[EGM_SCRUBBING] = "scrubbing",
		[EGM_CLEAN] = "clean",
		[EGM_IN_USE] = "in_use",
	};

	seq_printf(m, "%s\n", names[egm_region_state(m->private)]);
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
}

void egm_debugfs_exit(void)
{
	debugfs_remove_recursive(egm_debugfs_root);
}
