/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core: the few places where kernel versions differ.
 *
 * egm-core is developed against Linux 6.12 and is meant to build unchanged
 * on newer trees; every #if on LINUX_VERSION_CODE lives in this file.
 */
#ifndef _EGM_COMPAT_H
#define _EGM_COMPAT_H

#include <linux/export.h>
#include <linux/version.h>

/* 6.13 turned the namespace argument of EXPORT_SYMBOL_NS*() into a string. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define EGM_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, "EGM_CORE")
#else
#define EGM_EXPORT_SYMBOL(sym)	EXPORT_SYMBOL_NS_GPL(sym, EGM_CORE)
#endif

#endif /* _EGM_COMPAT_H */
