/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm_parent: what the platform part (platform.c) shares with the vfio-pci
 * variant driver (vfio_variant.c).
 */
#ifndef EGM_PARENT_H
#define EGM_PARENT_H

#include <linux/egm_core.h>
#include <linux/kconfig.h>

int egm_parent_instance_desc(unsigned int i, struct egm_region_desc *desc);

#if IS_ENABLED(CONFIG_VFIO_PCI_CORE)
int egm_parent_vfio_init(void);
void egm_parent_vfio_exit(void);
#else
static inline int egm_parent_vfio_init(void)
{
	return 0;
}

static inline void egm_parent_vfio_exit(void)
{
}
#endif

#endif /* EGM_PARENT_H */
