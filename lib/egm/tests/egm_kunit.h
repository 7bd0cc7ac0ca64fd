/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the egm-core KUnit suites that need real EGM-like
 * memory: a physical range the kernel does not use, given on the command
 * line (egm_core_kunit.mem_base= and egm_core_kunit.mem_size=) and hidden
 * from the kernel with memmap= (x86) or mem= (arm64).  UML has no such
 * range; there these suites skip with that reason.
 */
#ifndef _EGM_KUNIT_H
#define _EGM_KUNIT_H

#include <kunit/test.h>
#include <linux/egm_core.h>

#include "../egm_internal.h"

struct egm_kunit_mem {
	struct device *parent;
	struct egm_attachment *att;
	struct egm_region *region;
	/* Its whole-region partition; tenants and mappings keep it alive. */
	struct egm_partition *part;
};

/*
 * Register [mem_base + @offset, + @size) as a region of PXM @pxm, or skip
 * the test when no hidden memory was given.  @size 0 means all the rest.
 */
void egm_kunit_mem_register(struct kunit *test, struct egm_kunit_mem *mem,
			    u64 offset, u64 size, u32 pxm);
/* The region's whole-region partition; the region holds it while registered. */
struct egm_partition *egm_kunit_whole(struct egm_region *region);
/* Mark the region clean without scrubbing it, for tests of other things. */
void egm_kunit_mem_assume_clean(struct egm_kunit_mem *mem);
/* Unregister, wait for background work, and check nothing leaked. */
void egm_kunit_mem_unregister(struct kunit *test, struct egm_kunit_mem *mem);
/* The region's kernel mapping (made on first use), or NULL. */
void *egm_kunit_kaddr(struct egm_region *region);
/* Wait (bounded) for the region to reach @state. */
bool egm_kunit_wait_state(struct egm_region *region, enum egm_state state);

#endif /* _EGM_KUNIT_H */
