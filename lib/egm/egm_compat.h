/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egm-core: the few places where kernel versions differ.
 *
 * egm-core is developed and tested against Linux 6.12; every test of
 * LINUX_VERSION_CODE lives in this file, so that a newer tree needs
 * changes here only (sparse 0.6.4 cannot parse __has_include(), so the
 * version number it is).  Paths for newer kernels are written from their
 * public interfaces but are not built by this project's 6.12 test suite.
 */
#ifndef _EGM_COMPAT_H
#define _EGM_COMPAT_H

#include <linux/export.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/version.h>

/*
 * The symbol namespace, for EXPORT_SYMBOL_NS_GPL(sym, EGM_CORE_NS): 6.13
 * turned the namespace argument into a string literal.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define EGM_CORE_NS	"EGM_CORE"
#else
#define EGM_CORE_NS	EGM_CORE
#endif

/* 6.17 removed pfn_t: the huge insert helpers take a plain PFN. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 17, 0)
#define egm_vmf_insert_pfn_pmd(vmf, pfn, write)	\
	vmf_insert_pfn_pmd(vmf, pfn, write)
#define egm_vmf_insert_pfn_pud(vmf, pfn, write)	\
	vmf_insert_pfn_pud(vmf, pfn, write)
#else
#include <linux/pfn_t.h>
#define egm_vmf_insert_pfn_pmd(vmf, pfn, write)	\
	vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), write)
#define egm_vmf_insert_pfn_pud(vmf, pfn, write)	\
	vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), write)
#endif

/*
 * 6.19 lets a driver register a PFN range with memory-failure handling
 * (register_pfn_address_space()), so that the kernel's own poison path
 * reaches VM_PFNMAP mappings.  On older kernels egm-core relies on the GHES
 * report chain and on parents calling egm_report_poison().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0) && \
	IS_ENABLED(CONFIG_MEMORY_FAILURE)
#define EGM_HAVE_PFN_ADDRESS_SPACE 1
#include <linux/memory-failure.h>
#else
/*
 * A stand-in of the same shape, with nothing to register with: it keeps
 * egm-core's side of the registration (its lifetime inside the claim of the
 * range, an unregister that is safe to repeat) compiled, and tested by
 * KUnit, on every kernel.
 */
#include <linux/interval_tree.h>

struct pfn_address_space {
	struct interval_tree_node node;
	struct address_space *mapping;
	int (*pfn_to_vma_pgoff)(struct vm_area_struct *vma, unsigned long pfn,
				pgoff_t *pgoff);
};

static inline int register_pfn_address_space(struct pfn_address_space *space)
{
	return 0;
}

static inline void
unregister_pfn_address_space(struct pfn_address_space *space)
{
}
#endif

/*
 * egm-core's side of that registration, under EGM_PFN_SPACE: compiled on
 * every kernel (with the stand-in above where the kernel has none) so that
 * KUnit tests it.  The series for upstream targets 6.12, which has no such
 * registry: make series leaves it out (unifdef -UEGM_PFN_SPACE).
 */
#define EGM_PFN_SPACE 1

/*
 * VFIO type1 keeps the file of a VM_PFNMAP range open while an IOMMU maps
 * it when the file asks (patches/0008).  Without it egm-core cannot see
 * type1's DMA mappings: a tenancy then ends with its CPU mappings (see
 * Documentation/userspace-api/egm.rst, "Device DMA into the region").
 */
#ifdef FOP_PFNMAP_DMA_HOLD
#define EGM_FOP_DMA_HOLD	FOP_PFNMAP_DMA_HOLD
#else
#define EGM_FOP_DMA_HOLD	((__force fop_flags_t)0)
#endif

#endif /* _EGM_COMPAT_H */
