// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core's tracepoints (include/trace/events/egm.h) are defined here,
 * once; the other files include the header and call trace_egm_*().
 */
#define CREATE_TRACE_POINTS
#include <trace/events/egm.h>
