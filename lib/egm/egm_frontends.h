/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core's frontends (chardev.c, vfio.c), as the module glue (main.c)
 * sets them up and KUnit calls them.  Each plugs into the core with
 * egm_frontend_register(); the core itself never includes this header.
 */
#ifndef _EGM_FRONTENDS_H
#define _EGM_FRONTENDS_H

#include <linux/compiler_types.h>
#include <linux/kconfig.h>

struct egm_partition;
struct egm_retired_pages;

int egm_chardev_init(void);
void egm_chardev_exit(void);
/* EGM_GET_RETIRED_PAGES, visible to KUnit */
long egm_ioctl_get_retired(struct egm_partition *part,
			   struct egm_retired_pages __user *uarg);

#if IS_ENABLED(CONFIG_EGM_CORE_VFIO)
int egm_vfio_init(void);
void egm_vfio_exit(void);
#else
static inline int egm_vfio_init(void)
{
	return 0;
}

static inline void egm_vfio_exit(void)
{
}
#endif

#endif /* _EGM_FRONTENDS_H */
