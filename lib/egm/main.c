// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core module glue.  The registry needs no set-up of its own; the
 * frontends and the poison and scrub machinery hook in here.
 */
#define pr_fmt(fmt) "egm_core: " fmt

#include <linux/bug.h>
#include <linux/module.h>

#include "egm_internal.h"

static int __init egm_core_init(void)
{
	int err;

	err = egm_scrub_init();
	if (err)
		return err;
	err = egm_poison_init();
	if (err)
		egm_scrub_exit();
	return err;
}

static void __exit egm_core_exit(void)
{
	egm_poison_exit();
	/* Every region holder pins this module; see registry.c. */
	WARN_ON(egm_nr_live_regions());
	egm_scrub_exit();
}

module_init(egm_core_init);
module_exit(egm_core_exit);

MODULE_DESCRIPTION("Extended GPU Memory (EGM) region core");
MODULE_LICENSE("GPL");
