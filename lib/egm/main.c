// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core module glue: the workqueues, the GHES hook of the poison code,
 * the view's class, the debugfs root, and the frontends (chardev, VFIO),
 * which plug into the core here.  The registry needs no set-up of its own.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/bug.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "egm_frontends.h"
#include "egm_internal.h"

struct workqueue_struct *egm_wq;

static int __init egm_core_init(void)
{
	int err;

	egm_wq = alloc_workqueue("egm", WQ_UNBOUND, 0);
	if (!egm_wq)
		return -ENOMEM;
	err = egm_scrub_init();
	if (err)
		goto err_wq;
	err = egm_poison_init();
	if (err)
		goto err_scrub;
	err = egm_sysfs_init();
	if (err)
		goto err_poison;
	err = egm_chardev_init();
	if (err)
		goto err_sysfs;
	err = egm_vfio_init();
	if (err)
		goto err_chardev;
	egm_debugfs_init();
	return 0;

err_chardev:
	egm_chardev_exit();
err_sysfs:
	egm_sysfs_exit();
err_poison:
	egm_poison_exit();
err_scrub:
	egm_scrub_exit();
err_wq:
	destroy_workqueue(egm_wq);
	return err;
}

static void __exit egm_core_exit(void)
{
	egm_debugfs_exit();
	egm_vfio_exit();
	egm_chardev_exit();
	egm_sysfs_exit();
	egm_poison_exit();
	/* Every region pins this module (backing.c): none can be left. */
	WARN_ON(egm_nr_live_regions());
	/* Frees queued after a grace period, then the work itself. */
	rcu_barrier();
	destroy_workqueue(egm_wq);
	egm_scrub_exit();
}

module_init(egm_core_init);
module_exit(egm_core_exit);

MODULE_DESCRIPTION("Extended GPU Memory (EGM) region core");
MODULE_LICENSE("GPL");
