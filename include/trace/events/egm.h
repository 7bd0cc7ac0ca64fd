/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of egm-core: what happens to an EGM region, for operators
 * (perf, trace-cmd, /sys/kernel/tracing/events/egm/).  Offsets are bytes
 * from the start of the region; pxm names the region.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM egm

#if !defined(_TRACE_EGM_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_EGM_H

#include <linux/mm_types.h>
#include <linux/tracepoint.h>

/* vm_fault_t is __bitwise: the results egm-core returns, as flag values. */
#define EGM_VM_FAULT(r)		((__force unsigned long)VM_FAULT_##r)

/* A fault of a mapping: the leaf it asked for and what it got. */
TRACE_EVENT(egm_fault,
	    TP_PROTO(u32 pxm, u64 offset, unsigned long size, vm_fault_t result),
	    TP_ARGS(pxm, offset, size, result),
	    TP_STRUCT__entry(__field(u32, pxm)
			     __field(u64, offset)
			     __field(unsigned long, size)
			     __field(unsigned int, result)),
	    TP_fast_assign(__entry->pxm = pxm;
			   __entry->offset = offset;
			   __entry->size = size;
			   __entry->result = (__force unsigned int)result;),
	    TP_printk("pxm=%u offset=0x%llx size=0x%lx result=%s",
		      __entry->pxm, __entry->offset, __entry->size,
		      __print_flags(__entry->result, "|",
				    { EGM_VM_FAULT(NOPAGE), "NOPAGE" },
				    { EGM_VM_FAULT(FALLBACK), "FALLBACK" },
				    { EGM_VM_FAULT(HWPOISON), "HWPOISON" },
				    { EGM_VM_FAULT(SIGBUS), "SIGBUS" },
				    { EGM_VM_FAULT(RETRY), "RETRY" },
				    { EGM_VM_FAULT(OOM), "OOM" }))
);

/* A scrub starts zeroing the region, in the background or for an opener. */
TRACE_EVENT(egm_scrub_begin,
	    TP_PROTO(u32 pxm, u64 bytes, unsigned int workers),
	    TP_ARGS(pxm, bytes, workers),
	    TP_STRUCT__entry(__field(u32, pxm)
			     __field(u64, bytes)
			     __field(unsigned int, workers)),
	    TP_fast_assign(__entry->pxm = pxm;
			   __entry->bytes = bytes;
			   __entry->workers = workers;),
	    TP_printk("pxm=%u bytes=%llu workers=%u",
		      __entry->pxm, __entry->bytes, __entry->workers)
);

/* A scrub ends: bytes zeroed, how long it took, 0 or why it stopped. */
TRACE_EVENT(egm_scrub_end,
	    TP_PROTO(u32 pxm, u64 bytes, u64 duration_ns, int ret),
	    TP_ARGS(pxm, bytes, duration_ns, ret),
	    TP_STRUCT__entry(__field(u32, pxm)
			     __field(u64, bytes)
			     __field(u64, duration_ns)
			     __field(int, ret)),
	    TP_fast_assign(__entry->pxm = pxm;
			   __entry->bytes = bytes;
			   __entry->duration_ns = duration_ns;
			   __entry->ret = ret;),
	    TP_printk("pxm=%u bytes=%llu duration_ns=%llu ret=%d",
		      __entry->pxm, __entry->bytes, __entry->duration_ns,
		      __entry->ret)
);

/* Pages retired: by the firmware's table or a report at run time. */
TRACE_EVENT(egm_poison,
	    TP_PROTO(u32 pxm, u64 offset, unsigned long pages, unsigned long added),
	    TP_ARGS(pxm, offset, pages, added),
	    TP_STRUCT__entry(__field(u32, pxm)
			     __field(u64, offset)
			     __field(unsigned long, pages)
			     __field(unsigned long, added)),
	    TP_fast_assign(__entry->pxm = pxm;
			   __entry->offset = offset;
			   __entry->pages = pages;
			   __entry->added = added;),
	    TP_printk("pxm=%u offset=0x%llx pages=%lu new=%lu",
		      __entry->pxm, __entry->offset, __entry->pages,
		      __entry->added)
);

DECLARE_EVENT_CLASS(egm_reset,
		    TP_PROTO(u32 pxm, const char *parent, unsigned int resets),
		    TP_ARGS(pxm, parent, resets),
		    TP_STRUCT__entry(__field(u32, pxm)
				     __string(parent, parent)
				     __field(unsigned int, resets)),
		    TP_fast_assign(__entry->pxm = pxm;
				   __assign_str(parent);
				   __entry->resets = resets;),
		    TP_printk("pxm=%u parent=%s resets=%u",
			      __entry->pxm, __get_str(parent), __entry->resets)
);

/* A parent begins a reset; resets: how many are in progress now. */
DEFINE_EVENT(egm_reset, egm_reset_begin,
	     TP_PROTO(u32 pxm, const char *parent, unsigned int resets),
	     TP_ARGS(pxm, parent, resets)
);

/* A parent's reset ends (or is abandoned). */
DEFINE_EVENT(egm_reset, egm_reset_end,
	     TP_PROTO(u32 pxm, const char *parent, unsigned int resets),
	     TP_ARGS(pxm, parent, resets)
);

DECLARE_EVENT_CLASS(egm_region_event,
		    TP_PROTO(u32 pxm),
		    TP_ARGS(pxm),
		    TP_STRUCT__entry(__field(u32, pxm)),
		    TP_fast_assign(__entry->pxm = pxm;),
		    TP_printk("pxm=%u",
			      __entry->pxm)
);

/* The region is revoked: every mapping of it is gone for good. */
DEFINE_EVENT(egm_region_event, egm_revoke,
	     TP_PROTO(u32 pxm),
	     TP_ARGS(pxm)
);

/* A tenancy begins: a frontend acquired the clean region. */
DEFINE_EVENT(egm_region_event, egm_tenant_acquire,
	     TP_PROTO(u32 pxm),
	     TP_ARGS(pxm)
);

/* A tenancy ends: its last holder (file, mapping, DMA mapping) is gone. */
DEFINE_EVENT(egm_region_event, egm_tenant_release,
	     TP_PROTO(u32 pxm),
	     TP_ARGS(pxm)
);

#endif /* _TRACE_EGM_H */

#include <trace/define_trace.h>
