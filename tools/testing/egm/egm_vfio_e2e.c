// SPDX-License-Identifier: GPL-2.0
/*
 * egm_vfio_e2e: end-to-end tests of egm-core's VFIO frontend, run as root
 * inside the QEMU guest that scripts/egm/qemu-vfio-test.sh boots.  Its
 * /init (tools/testing/egm/vfio/init) runs us once per phase:
 *
 *   egm_vfio_e2e vfio      nvgrace-gpu, egm_frontend=vfio (the default)
 *   egm_vfio_e2e chardev   nvgrace-gpu reloaded with egm_frontend=chardev
 *   egm_vfio_e2e sample    GPU A bound to the sample's egm_parent_vfio
 *   egm_vfio_e2e mce       the same, in a boot of its own where the host
 *                          injects a machine check (scripts/egm/mce-inject.py)
 *   egm_vfio_e2e PHASE TEST...   only those tests of the phase
 *
 *   gcc -static -O2 -Wall -Wextra -Werror -I include/uapi \
 *       -o egm_vfio_e2e egm_vfio_e2e.c
 *
 * The "GPUs" are QEMU pci-testdev devices behind their own PCI bridges; an SSDT
 * (tools/testing/egm/vfio/egm-ssdt.asl) gives them the EGM properties of
 * Grace firmware:
 *
 *   GPU A 0000:01:00.0  PXM 1, 1 GiB at 0x30000000, retired-page table
 *   GPU B 0000:02:00.0  the same socket as A
 *   GPU C 0000:03:00.0  PXM 0, 256 MiB at 0x20000000, no table
 *   GPU D 0000:04:00.0  no EGM properties
 *   GPU E 0000:05:00.0  an unaligned base: refused, the GPU works without
 *
 * The firmware's retired-page table (at 0x1fff0000, loaded by QEMU) lists
 * 0x30200000 and 0x40010000; each retires the 64 KiB block holding it.
 *
 * VFIO is used the legacy way, in no-IOMMU mode (the guest has no IOMMU):
 * a container, the group /dev/vfio/noiommu-<N>, VFIO_NOIOMMU_IOMMU and
 * VFIO_GROUP_GET_DEVICE_FD.
 *
 * Each test prints "ok NAME" or "FAIL NAME: REASON"; a phase ends with
 * "egm-vfio: phase PHASE: N passed, N failed" and exits 0 only when
 * nothing failed.  The harness is egm_e2e.c's: a test that faults
 * unexpectedly or runs out of time fails alone, and a watchdog reports a
 * test stuck in the kernel.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/egm.h>

/* ---- test configuration: must match qemu-vfio-test.sh, the SSDT, /init ---- */

#define GPU_A		"0000:01:00.0"	/* PXM 1, lowest BDF: exposes it */
#define GPU_B		"0000:02:00.0"	/* PXM 1 */
#define GPU_C		"0000:03:00.0"	/* PXM 0 */
#define GPU_D		"0000:04:00.0"	/* no EGM */
#define GPU_E		"0000:05:00.0"	/* invalid EGM description */

#define EGM1_BASE	0x30000000ULL	/* below 4 GiB: see egm-ssdt.asl */
#define EGM1_SIZE	0x40000000ULL	/* 1 GiB */
#define EGM1_PXM	1
#define EGM0_SIZE	0x10000000ULL	/* 256 MiB */
#define EGM0_PXM	0

/* The firmware table's entries; each retires a 64 KiB block. */
static const uint64_t fw_retired_pa[] = { 0x30200000ULL, 0x40010000ULL };
#define FW_RETIRE_SIZE	0x10000ULL

#define NVGRACE_DRIVER	"nvgrace_gpu_vfio_pci"
#define SAMPLE_DRIVER	"egm_parent_vfio"
#define PCI_DRIVERS	"/sys/bus/pci/drivers"
#define FRONTEND_PARAM	"/sys/module/nvgrace_gpu_vfio_pci/parameters/egm_frontend"
#define SYSFS_CLASS	"/sys/class/egm"
#define DEBUGFS_EGM	"/sys/kernel/debug/egm"
/* egm-core's scrub workers: an unbound workqueue with sysfs attributes. */
#define SCRUB_WQ	"/sys/bus/workqueue/devices/egm_scrub"
/* What /init saw of "insmod nvgrace-gpu-vfio-pci.ko egm_frontend=bogus". */
#define BOGUS_RC	"/tmp/insmod-bogus.rc"
#define BOGUS_OUT	"/tmp/insmod-bogus.out"

#define CLEAN_TIMEOUT_MS	(60 * 1000)	/* an unthrottled scrub */
/* The region's availability bits of the capability's flags. */
#define CAP_STATE	(VFIO_EGM_CAP_BUSY | VFIO_EGM_CAP_REVOKED)
#define CHILD_TIMEOUT_MS	(10 * 1000)

#include "egm_harness.h"

/* ---- sysfs, debugfs and the kernel log ---- */

/* The region's state (debugfs: dirty, scrubbing, clean, in_use). */
static int read_state(unsigned int pxm, char *buf, size_t size)
{
	char path[256];
	int n;

	snprintf(path, sizeof(path), DEBUGFS_EGM "/egm%u/state", pxm);
	n = read_text(path, buf, size);
	if (n < 0)
		return fail("read %s: %s", path, errstr(n));
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Wait until nobody holds the region of PXM @pxm and it is scrubbed. */
static int wait_clean(unsigned int pxm)
{
	long long end = now_ms() + CLEAN_TIMEOUT_MS;
	char state[32];

	for (;;) {
		if (read_state(pxm, state, sizeof(state)))
			return -1;
		if (!strcmp(state, "clean"))
			return 0;
		if (now_ms() >= end)
			return fail("region of PXM %u still %s after %d s", pxm,
				    state, CLEAN_TIMEOUT_MS / 1000);
		sleep_ms(20);
	}
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu < 0) {
		CPU_SET(0, &set);
		CPU_SET(1, &set);
	} else {
		CPU_SET(cpu, &set);
	}
	sched_setaffinity(0, sizeof(set), &set);
}

/* What throttle_scrub() changed, for unthrottle_scrub(). */
static char scrub_wq_nice[16], scrub_wq_cpumask[64];
static pid_t scrub_hog;

/*
 * Make a scrub of the region of PXM 1 (on CPU 1, the CPU of node 1) last
 * long, from userspace: the scrub workers get nice 15 and CPU 1 only,
 * where a busy child at nice 0 leaves them about 3% of the CPU.  The
 * harness moves to CPU 0, which stays as it was.  The child is forked
 * before the test opens or maps anything, so that it holds nothing of the
 * region.
 */
static int throttle_scrub(void)
{
	int n, err;

	n = read_text(SCRUB_WQ "/nice", scrub_wq_nice, sizeof(scrub_wq_nice));
	if (n <= 0)
		return fail("read " SCRUB_WQ "/nice: %s", errstr(n));
	n = read_text(SCRUB_WQ "/cpumask", scrub_wq_cpumask,
		      sizeof(scrub_wq_cpumask));
	if (n <= 0) {
		scrub_wq_nice[0] = 0;
		return fail("read " SCRUB_WQ "/cpumask: %s", errstr(n));
	}
	scrub_hog = spawn();
	if (scrub_hog < 0)
		return fail("fork: %s", errstr(errno));
	if (!scrub_hog) {
		pin_to_cpu(1);
		setpriority(PRIO_PROCESS, 0, 0);
		for (;;)
			;
	}
	pin_to_cpu(0);
	err = write_text(SCRUB_WQ "/cpumask", "2");
	if (!err)
		err = write_text(SCRUB_WQ "/nice", "15");
	if (err)
		return fail("set the egm_scrub workqueue's CPU and nice: %s",
			    errstr(err));
	return 0;
}

static void unthrottle_scrub(void)
{
	kill_child(scrub_hog);
	scrub_hog = 0;
	if (scrub_wq_nice[0])
		write_text(SCRUB_WQ "/nice", scrub_wq_nice);
	if (scrub_wq_cpumask[0])
		write_text(SCRUB_WQ "/cpumask", scrub_wq_cpumask);
	scrub_wq_nice[0] = 0;
	scrub_wq_cpumask[0] = 0;
	pin_to_cpu(-1);
}

/* Name of the driver @bdf is bound to, "" when none. */
static void pci_driver(const char *bdf, char *name, size_t size)
{
	char path[256], target[PATH_MAX];
	const char *base;
	size_t len;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	name[0] = 0;
	if (n < 0)
		return;
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	len = strnlen(base, size - 1);
	memcpy(name, base, len);
	name[len] = 0;
}

static int check_driver(const char *bdf, const char *want)
{
	char drv[128];

	pci_driver(bdf, drv, sizeof(drv));
	if (strcmp(drv, want))
		return fail("%s is bound to \"%s\", want %s", bdf, drv, want);
	return 0;
}

/*
 * egm_size of @bdf: its decimal value, or with @want 0 that there is no
 * such attribute.
 */
static int check_egm_size(const char *bdf, unsigned long long want)
{
	char path[256], buf[64], *end;
	unsigned long long v;
	int n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/egm_size", bdf);
	n = read_text(path, buf, sizeof(buf));
	if (!want) {
		if (n != -ENOENT)
			return fail("%s: %s, want no such file", path,
				    n < 0 ? errstr(n) : buf);
		return 0;
	}
	if (n < 0)
		return fail("read %s: %s", path, errstr(n));
	if (n < 2 || buf[n - 1] != '\n')
		return fail("%s: \"%s\" does not end in one newline", path, buf);
	buf[n - 1] = 0;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end || end == buf || buf[0] < '0' || buf[0] > '9')
		return fail("%s: \"%s\" is not a decimal number", path, buf);
	if (v != want)
		return fail("%s: %llu, want %llu", path, v, want);
	return 0;
}

/* Bind @bdf to the driver its driver_override names. */
static int pci_probe(const char *bdf)
{
	return write_text("/sys/bus/pci/drivers_probe", bdf);
}

static int pci_unbind(const char *bdf, const char *driver)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_DRIVERS "/%s/unbind", driver);
	return write_text(path, bdf);
}

/* Whether a line of @log holds both @a and @b. */
static bool log_has(const char *log, const char *a, const char *b)
{
	const char *line = log;

	while (*line) {
		const char *eol = strchrnul(line, '\n');
		const char *pa = memmem(line, eol - line, a, strlen(a));

		if (pa && memmem(line, eol - line, b, strlen(b)))
			return true;
		line = *eol ? eol + 1 : eol;
	}
	return false;
}

/* find_egm_region() that wants the region, of @size bytes. */
static int need_egm_region(const char *bdf, int fd, uint64_t size,
			   struct egm_vregion *r)
{
	int n = find_egm_region(fd, r);

	if (n < 0)
		return -1;
	if (!n)
		return fail("%s exposes no EGM region", bdf);
	if (r->size != size)
		return fail("%s: EGM region of %#llx bytes, want %#llx", bdf,
			    (unsigned long long)r->size,
			    (unsigned long long)size);
	if (r->offset != VFIO_INDEX_TO_OFFSET(r->index))
		return fail("%s: region %u at offset %#llx, want index << 40",
			    bdf, r->index, (unsigned long long)r->offset);
	return 0;
}

/* The retired pages the firmware table stands for, ascending. */
static unsigned int expected_retired(uint64_t *out, unsigned int max)
{
	uint64_t blk = (uint64_t)page_size > FW_RETIRE_SIZE ? (uint64_t)page_size :
		       FW_RETIRE_SIZE;
	unsigned int n = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(fw_retired_pa); i++) {
		uint64_t first = (fw_retired_pa[i] - EGM1_BASE) & ~(blk - 1);

		for (uint64_t o = first; o < first + blk && n < max; o += page_size)
			out[n++] = o;
	}
	return n;
}

static bool is_retired(const struct egm_vregion *r, uint64_t off)
{
	off &= ~(uint64_t)(page_size - 1);
	for (uint32_t i = 0; r->cap && i < r->cap->nr_listed; i++)
		if (r->cap->retired[i] == off)
			return true;
	return false;
}

static uint64_t tag(uint64_t off, unsigned int gen)
{
	return 0xe6e6000000000000ULL ^ ((uint64_t)gen << 40) ^ off;
}

/* First offset of a non-retired page of @p that is not all zeros, or -1. */
static int64_t first_nonzero(const struct egm_vregion *r, const char *p)
{
	for (uint64_t off = 0; off < r->size; off += page_size) {
		const uint64_t *w = (const uint64_t *)(p + off);
		uint64_t acc = 0;

		if (is_retired(r, off))
			continue;
		for (long i = 0; i < page_size / 8; i++)
			acc |= w[i];
		if (acc)
			return off;
	}
	return -1;
}

/* A tag in the first and the last word of every non-retired page. */
static void write_tags(const struct egm_vregion *r, char *p, unsigned int gen)
{
	for (uint64_t off = 0; off < r->size; off += page_size) {
		if (is_retired(r, off))
			continue;
		put_word(p, off, tag(off, gen));
		put_word(p, off + page_size - 8, ~tag(off, gen));
	}
}

/* Offset of the first page write_tags() tags are missing from, or -1. */
static int64_t check_tags(const struct egm_vregion *r, const char *p,
			  unsigned int gen)
{
	for (uint64_t off = 0; off < r->size; off += page_size) {
		if (is_retired(r, off))
			continue;
		if (get_word((void *)p, off) != tag(off, gen) ||
		    get_word((void *)p, off + page_size - 8) != ~tag(off, gen))
			return off;
	}
	return -1;
}

/*
 * ---- The tests of phase "vfio": nvgrace-gpu, egm_frontend=vfio ----
 */

/* The SSDT reached each GPU as its ACPI companion. */
static int check_firmware_node(const char *bdf, const char *want)
{
	char path[256], buf[128], got[128], exp[128];
	int n, i, j;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/firmware_node/path", bdf);
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return fail("read %s: %s (no ACPI companion)", path, errstr(n));
	buf[strcspn(buf, "\n")] = 0;
	/* ACPI pads name segments with '_': \_SB_.PCI0.S28_.S00_ */
	for (i = j = 0; buf[i] && j < (int)sizeof(got) - 1; i++)
		if (buf[i] != '_')
			got[j++] = buf[i];
	got[j] = 0;
	for (i = j = 0; want[i] && j < (int)sizeof(exp) - 1; i++)
		if (want[i] != '_')
			exp[j++] = want[i];
	exp[j] = 0;
	if (strcmp(got, exp))
		return fail("%s's firmware node is %s, want %s", bdf, buf, want);
	return 0;
}

static int test_acpi_probe(void)
{
	static const struct {
		const char *bdf, *node, *msg;
		unsigned long long size;
	} gpus[] = {
		{ GPU_A, "\\_SB.PCI0.S28.S00", "EGM PXM 1: 1024 MiB, vfio frontend", EGM1_SIZE },
		{ GPU_B, "\\_SB.PCI0.S30.S00", "EGM PXM 1: 1024 MiB, vfio frontend", EGM1_SIZE },
		{ GPU_C, "\\_SB.PCI0.S38.S00", "EGM PXM 0: 256 MiB, vfio frontend", EGM0_SIZE },
		{ GPU_D, "\\_SB.PCI0.S40.S00", NULL, 0 },
		{ GPU_E, "\\_SB.PCI0.S48.S00", "not aligned", 0 },
	};
	char *log = NULL;
	int ret = 0;

	log = kernel_log();
	if (!log)
		return -1;
	for (unsigned int i = 0; i < ARRAY_SIZE(gpus); i++) {
		if (check_driver(gpus[i].bdf, NVGRACE_DRIVER) ||
		    check_firmware_node(gpus[i].bdf, gpus[i].node) ||
		    check_egm_size(gpus[i].bdf, gpus[i].size))
			goto fail;
		if (gpus[i].msg)
			CHECK(log_has(log, gpus[i].bdf, gpus[i].msg),
			      "no \"%s: ...%s\" in the kernel log", gpus[i].bdf,
			      gpus[i].msg);
		else
			CHECK(!log_has(log, gpus[i].bdf, "EGM"),
			      "%s has no EGM properties, but the kernel logged EGM for it",
			      gpus[i].bdf);
	}
out:
	free(log);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * The read-only view is there with the VFIO frontend too: the regions'
 * sizes in NVIDIA's format (egm_size), their GPUs (gpu_devices, parents/),
 * the firmware's retired pages, and no /dev node.
 */
static int test_sysfs_view(void)
{
	static const char *const p1[] = { GPU_A, GPU_B };
	static const char *const p0[] = { GPU_C };
	static const struct {
		const char *name, *egm_size, *gpus, *frontends;
		const char *const *parents;
		int nr_parents;
		bool retired;
	} views[] = {
		{ "egm1", "0x40000000", GPU_A "\n" GPU_B "\n", "vfio " GPU_A "\n",
		  p1, 2, true },
		{ "egm0", "0x10000000", GPU_C "\n", "vfio " GPU_C "\n",
		  p0, 1, false },
	};
	uint64_t want[64];
	unsigned int nwant = expected_retired(want, ARRAY_SIZE(want));
	char path[256], buf[4096];
	int ret = 0, n;

	for (unsigned int i = 0; i < ARRAY_SIZE(views); i++) {
		snprintf(path, sizeof(path), SYSFS_CLASS "/%s/egm_size", views[i].name);
		n = read_text(path, buf, sizeof(buf));
		buf[strcspn(buf, "\n")] = 0;
		CHECK(n >= 0 && !strcmp(buf, views[i].egm_size), "%s: \"%s\", want %s",
		      path, n >= 0 ? buf : errstr(n), views[i].egm_size);
		snprintf(path, sizeof(path), SYSFS_CLASS "/%s/gpu_devices", views[i].name);
		n = read_text(path, buf, sizeof(buf));
		CHECK(n >= 0 && !strcmp(buf, views[i].gpus), "%s: \"%s\", want \"%s\"",
		      path, n >= 0 ? buf : errstr(n), views[i].gpus);
		/* No device is open: the lowest BDF would expose it. */
		snprintf(path, sizeof(path), SYSFS_CLASS "/%s/frontends", views[i].name);
		n = read_text(path, buf, sizeof(buf));
		CHECK(n >= 0 && !strcmp(buf, views[i].frontends),
		      "%s: \"%s\", want \"%s\"", path, n >= 0 ? buf : errstr(n),
		      views[i].frontends);
		snprintf(path, sizeof(path), SYSFS_CLASS "/%s/retired_count", views[i].name);
		n = read_text(path, buf, sizeof(buf));
		CHECK(n >= 0 && strtoul(buf, NULL, 10) == (views[i].retired ? nwant : 0),
		      "%s: %s, want %u", path, n >= 0 ? buf : errstr(n),
		      views[i].retired ? nwant : 0);
		if (check_parents(views[i].name, views[i].parents,
				  views[i].nr_parents, NVGRACE_DRIVER))
			return -1;
		snprintf(path, sizeof(path), "/dev/%s", views[i].name);
		CHECK(!exists(path), "%s exists with the VFIO frontend", path);
	}
out:
	return ret;
}

/*
 * The first open finds the region zeroed; a tenant's data is gone for the
 * next one: writes everywhere, closes, reopens, reads zeros everywhere.
 */
static int test_scrub_between_tenants(void)
{
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	int64_t bad;
	char *p = MAP_FAILED;
	int ret = 0;

	for (int round = 0; round < 2; round++) {
		if (vfio_open_ok(GPU_A, &v) ||
		    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
			goto fail;
		p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
		CHECK(p != MAP_FAILED, "mmap the 1 GiB region: %s", errstr(errno));
		bad = first_nonzero(&r, p);
		CHECK(bad < 0, "%s open: page at offset %#llx is not zero",
		      round ? "after the previous tenant" : "first",
		      (unsigned long long)bad);
		if (!round) {
			write_tags(&r, p, 1);
			memset(p + (4 << 20), 0x5a, 4 << 20);
			bad = check_tags(&r, p, 1);
			CHECK(bad < 0 || (uint64_t)bad >= (4 << 20),
			      "tag at %#llx did not stick", (unsigned long long)bad);
		}
		unmap(p, r.size);
		p = MAP_FAILED;
		vfio_close(&v);
		egm_vregion_free(&r);
	}
out:
	unmap(p, r.size);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

static int test_region_info(void)
{
	uint64_t want[64];
	unsigned int nwant = expected_retired(want, ARRAY_SIZE(want));
	const uint32_t flags = VFIO_REGION_INFO_FLAG_READ |
			       VFIO_REGION_INFO_FLAG_WRITE |
			       VFIO_REGION_INFO_FLAG_MMAP |
			       VFIO_REGION_INFO_FLAG_CAPS;
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	CHECK(r.flags == flags, "region flags %#x, want READ|WRITE|MMAP|CAPS (%#x)",
	      r.flags, flags);
	CHECK(r.cap->header.version == 1, "capability version %u, want 1",
	      r.cap->header.version);
	CHECK(r.cap->pxm == EGM1_PXM, "pxm %u, want %u", r.cap->pxm, EGM1_PXM);
	CHECK(r.cap->granularity == (uint64_t)page_size,
	      "granularity %llu, page size %ld",
	      (unsigned long long)r.cap->granularity, page_size);
	/* Taken at open, whatever the last tenant left: no flag. */
	CHECK(!r.cap->flags, "capability flags %#x, want 0", r.cap->flags);
	/* 4 KiB pages: 2 firmware blocks of 64 KiB are 32 pages. */
	CHECK(page_size != 4096 || nwant == 32, "expected %u retired pages", nwant);
	CHECK(r.cap->nr_retired == nwant && r.cap->nr_listed == nwant,
	      "nr_retired %u nr_listed %u, want %u", r.cap->nr_retired,
	      r.cap->nr_listed, nwant);
	for (unsigned int i = 0; i < nwant; i++)
		CHECK(r.cap->retired[i] == want[i],
		      "retired[%u] = %#llx, want %#llx", i,
		      (unsigned long long)r.cap->retired[i],
		      (unsigned long long)want[i]);
out:
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/* VFIO's convention when the capability chain does not fit in argsz. */
static int test_region_info_argsz(void)
{
	/* offsetofend(struct vfio_region_info, offset): what VFIO reads */
	const uint32_t minsz = offsetof(struct vfio_region_info, offset) +
			       sizeof(__u64);
	struct egm_vregion r = { 0 };
	struct vfio_region_info *info = NULL;
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	CHECK(r.argsz > sizeof(*info), "the region info needs only %u bytes",
	      r.argsz);
	info = calloc(1, r.argsz + 64);
	CHECK(info, "out of memory");

	/* No room for the chain: 0, argsz raised, cap_offset 0. */
	for (int k = 0; k < 2; k++) {
		uint32_t given = k ? r.argsz - 8 : sizeof(*info);

		memset(info, 0xff, r.argsz + 64);
		info->argsz = given;
		info->index = r.index;
		info->cap_offset = 0xdead;
		CHECK(!ioctl(v.fd, VFIO_DEVICE_GET_REGION_INFO, info),
		      "argsz %u: %s, want success", given, errstr(errno));
		CHECK(info->argsz == r.argsz, "argsz %u: raised to %u, want %u",
		      given, info->argsz, r.argsz);
		CHECK(info->cap_offset == 0, "argsz %u: cap_offset %u, want 0",
		      given, info->cap_offset);
		CHECK(info->flags & VFIO_REGION_INFO_FLAG_CAPS,
		      "argsz %u: flags %#x without CAPS", given, info->flags);
		CHECK(info->size == EGM1_SIZE && info->offset == r.offset,
		      "argsz %u: size %#llx offset %#llx", given,
		      (unsigned long long)info->size,
		      (unsigned long long)info->offset);
		CHECK(*((unsigned char *)info + given) == 0xff,
		      "argsz %u: the kernel wrote past argsz", given);
	}

	/* Shorter than the structure VFIO reads: EINVAL. */
	memset(info, 0, r.argsz);
	info->argsz = minsz - 1;
	info->index = r.index;
	CHECK(ioctl(v.fd, VFIO_DEVICE_GET_REGION_INFO, info) == -1 &&
	      errno == EINVAL, "argsz %u: %s, want EINVAL", minsz - 1,
	      errno ? errstr(errno) : "success");

	/* More than enough: the chain at sizeof(*info). */
	memset(info, 0, r.argsz + 64);
	info->argsz = r.argsz + 64;
	info->index = r.index;
	CHECK(!ioctl(v.fd, VFIO_DEVICE_GET_REGION_INFO, info),
	      "argsz %u: %s", r.argsz + 64, errstr(errno));
	CHECK(info->cap_offset == sizeof(*info), "cap_offset %u, want %zu",
	      info->cap_offset, sizeof(*info));
	CHECK(find_cap(info, VFIO_REGION_INFO_CAP_NVIDIA_EGM,
		       sizeof(struct vfio_region_info_cap_nvidia_egm)),
	      "no EGM capability with argsz %u", r.argsz + 64);
out:
	free(info);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

static int test_rw_through_the_fd(void)
{
	const uint64_t pg = page_size;
	const uint64_t ret0 = (fw_retired_pa[0] - EGM1_BASE) & ~(FW_RETIRE_SIZE - 1);
	struct egm_vregion r = { 0 };
	char buf[3 * 4096], *p = MAP_FAILED;
	uint64_t val, off;
	struct vfio_dev v = VFIO_DEV_INIT;
	ssize_t n;
	int ret = 0;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	CHECK(is_retired(&r, ret0), "offset %#llx is not retired",
	      (unsigned long long)ret0);
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));

	/* mmap -> pread, at a few places, one of them the last word. */
	for (off = 0x1000; off < r.size; off = off * 7 + 0x4008) {
		off &= r.size - 8;
		if (is_retired(&r, off))
			continue;
		put_word(p, off, tag(off, 10));
		n = pread(v.fd, &val, 8, r.offset + off);
		CHECK(n == 8 && val == tag(off, 10),
		      "pread at %#llx: %zd, %#llx, want 8, %#llx",
		      (unsigned long long)off, n, (unsigned long long)val,
		      (unsigned long long)tag(off, 10));
		if (off > r.size / 2)
			break;
	}
	put_word(p, r.size - 8, tag(r.size - 8, 11));
	n = pread(v.fd, &val, 8, r.offset + r.size - 8);
	CHECK(n == 8 && val == tag(r.size - 8, 11), "pread of the last word: %zd",
	      n);

	/* pwrite -> mmap, crossing two page boundaries. */
	off = (32 << 20) + pg - 100;
	for (unsigned int i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13 + 7);
	n = pwrite(v.fd, buf, sizeof(buf), r.offset + off);
	CHECK(n == (ssize_t)sizeof(buf), "pwrite %zu bytes at %#llx: %zd (%s)",
	      sizeof(buf), (unsigned long long)off, n, errstr(errno));
	CHECK(!memcmp(p + off, buf, sizeof(buf)),
	      "pwrite's data not seen through the mapping");
	memset(buf, 0, sizeof(buf));
	n = pread(v.fd, buf, sizeof(buf), r.offset + off);
	CHECK(n == (ssize_t)sizeof(buf) && !memcmp(p + off, buf, sizeof(buf)),
	      "pread back: %zd", n);

	/* A retired page. */
	errno = 0;
	n = pread(v.fd, buf, 8, r.offset + ret0 + 64);
	CHECK(n == -1 && errno == EIO, "pread of a retired page: %zd (%s), want EIO",
	      n, errstr(errno));
	errno = 0;
	n = pwrite(v.fd, buf, 8, r.offset + ret0 + 64);
	CHECK(n == -1 && errno == EIO, "pwrite of a retired page: %zd (%s), want EIO",
	      n, errstr(errno));
	/* Up to a retired page: short. */
	n = pread(v.fd, buf, 16, r.offset + ret0 - 8);
	CHECK(n == 8, "pread of 16 bytes, 8 before a retired page: %zd, want 8", n);

	/* The end. */
	errno = 0;
	n = pread(v.fd, buf, 8, r.offset + r.size);
	CHECK(n == -1 && errno == EINVAL, "pread at the end: %zd (%s), want EINVAL",
	      n, errstr(errno));
	errno = 0;
	n = pread(v.fd, buf, 8, r.offset + r.size + pg);
	CHECK(n == -1 && errno == EINVAL,
	      "pread after the end: %zd (%s), want EINVAL", n, errstr(errno));
	n = pread(v.fd, buf, 16, r.offset + r.size - 8);
	CHECK(n == 8, "pread of 16 bytes 8 before the end: %zd, want 8", n);
out:
	unmap(p, r.size);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/* What the SIGBUS child saw, sent through a pipe. */
struct sigbus_report {
	int signo;	/* 0: no signal */
	int code;
	uintptr_t addr;
};

static sigjmp_buf child_jmp;
/* Written by the handler, read after its siglongjmp(). */
static int child_signo, child_code;
static void *child_addr;

static void child_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	WRITE_ONCE(child_signo, sig);
	WRITE_ONCE(child_code, si->si_code);
	WRITE_ONCE(child_addr, si->si_addr);
	siglongjmp(child_jmp, 1);
}

/* In a child: read @addr once, report any SIGBUS to @wfd, exit. */
static noinline __noreturn void
sigbus_child(char *addr, int wfd)
{
	struct sigaction sa = { .sa_sigaction = child_sigbus,
				.sa_flags = SA_SIGINFO };
	struct sigbus_report rep = { 0 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(child_jmp, 1)) {
		(void)READ_ONCE(*(uint64_t *)addr);
	} else {
		rep.signo = READ_ONCE(child_signo);
		rep.code = READ_ONCE(child_code);
		rep.addr = (uintptr_t)READ_ONCE(child_addr);
	}
	_exit(write(wfd, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 1);
}

/* Touch @addr in a child; it must get SIGBUS BUS_MCEERR_AR in that page. */
static int expect_sigbus(char *addr)
{
	struct sigbus_report rep = { 0 };
	struct pollfd pf;
	int pfd[2], status, ret = 0;
	pid_t pid;

	if (pipe(pfd))
		return fail("pipe: %s", errstr(errno));
	pid = spawn();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fail("fork: %s", errstr(errno));
	}
	if (!pid) {
		close(pfd[0]);
		sigbus_child(addr, pfd[1]);
	}
	close(pfd[1]);
	pf = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	CHECK(poll(&pf, 1, CHILD_TIMEOUT_MS) == 1, "the child sent no report");
	CHECK(read(pfd[0], &rep, sizeof(rep)) == sizeof(rep),
	      "short report from the child");
	CHECK(!wait_child(pid, CHILD_TIMEOUT_MS, &status), "the child did not exit");
	pid = 0;
	CHECK(rep.signo == SIGBUS, "touching retired page %p: no SIGBUS",
	      (void *)addr);
	CHECK(rep.code == BUS_MCEERR_AR, "SIGBUS si_code %d, want BUS_MCEERR_AR (%d)",
	      rep.code, BUS_MCEERR_AR);
	CHECK(rep.addr / page_size == (uintptr_t)addr / page_size,
	      "SIGBUS si_addr %#lx, touched %p", (unsigned long)rep.addr,
	      (void *)addr);
out:
	if (pid > 0)
		kill_child(pid);
	close(pfd[0]);
	return ret;
}

static int test_mmap_retired_and_bad(void)
{
	const uint64_t pg = page_size;
	struct egm_vregion r = { 0 };
	char *p = MAP_FAILED, *q;
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));
	/* The first and the last retired page; their neighbours work. */
	for (unsigned int i = 0; i < r.cap->nr_listed; i += r.cap->nr_listed - 1) {
		uint64_t off = r.cap->retired[i];

		if (expect_sigbus(p + off + 64))
			goto fail;
		if (!is_retired(&r, off + pg)) {
			put_word(p, off + pg, tag(off + pg, 20));
			CHECK(get_word(p, off + pg) == tag(off + pg, 20),
			      "page after retired %#llx", (unsigned long long)off);
		}
		if (!is_retired(&r, off - pg)) {
			put_word(p, off - pg, tag(off - pg, 20));
			CHECK(get_word(p, off - pg) == tag(off - pg, 20),
			      "page before retired %#llx", (unsigned long long)off);
		}
		if (r.cap->nr_listed < 2)
			break;
	}

	{
		const struct {
			const char *what;
			uint64_t off;
			size_t len;
			int flags;
		} bad[] = {
			{ "MAP_PRIVATE", 0, pg, MAP_PRIVATE },
			{ "at the end", r.size, pg, MAP_SHARED },
			{ "past the end", r.size + (2 << 20), pg, MAP_SHARED },
			{ "straddling the end", r.size - pg, 2 * pg, MAP_SHARED },
			{ "longer than the region", 0, r.size + pg, MAP_SHARED },
			{ "at an unaligned offset", pg / 2, pg, MAP_SHARED },
		};

		for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
			errno = 0;
			q = map_fd(v.fd, r.offset + bad[i].off, bad[i].len,
				   bad[i].flags);
			if (q != MAP_FAILED)
				unmap(q, bad[i].len);
			CHECK(q == MAP_FAILED, "mmap %s succeeded", bad[i].what);
			CHECK(errno == EINVAL, "mmap %s: %s, want EINVAL",
			      bad[i].what, errstr(errno));
		}
	}
	/* The last page alone is fine. */
	q = map_fd(v.fd, r.offset + r.size - pg, pg, MAP_SHARED);
	CHECK(q != MAP_FAILED, "mmap of the last page: %s", errstr(errno));
	put_word(q, 0, tag(r.size - pg, 21));
	CHECK(get_word(p, r.size - pg) == tag(r.size - pg, 21),
	      "the last page mapped alone is not the region's last page");
	unmap(q, pg);
out:
	unmap(p, r.size);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * A reset zaps the region's mappings: the next touch faults again, and the
 * data is still there (a GPU reset does not touch system memory).
 */
static int check_reset_zaps(const char *how, int (*reset)(int fd))
{
	const uint64_t off = 0x12345000 + 0x40;
	struct egm_vregion r = { 0 };
	struct faults f0, f1, f2;
	char *p = MAP_FAILED;
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0, err;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));
	put_word(p, off, tag(off, 30));
	if (read_faults("egm1", &f0))
		goto fail;
	CHECK(get_word(p, off) == tag(off, 30), "data read back wrong");
	put_word(p, off + 8, 1);
	if (read_faults("egm1", &f1))
		goto fail;
	CHECK(fault_sum(&f1) == fault_sum(&f0),
	      "touching a mapped page again faulted (%lld -> %lld)",
	      fault_sum(&f0), fault_sum(&f1));
	err = reset(v.fd);
	CHECK(!err, "%s: %s", how, errstr(err));
	CHECK(get_word(p, off) == tag(off, 30), "data changed across %s", how);
	if (read_faults("egm1", &f2))
		goto fail;
	CHECK(fault_sum(&f2) > fault_sum(&f1),
	      "no fault after %s (%lld faults before and after): the mapping was not zapped",
	      how, fault_sum(&f1));
out:
	unmap(p, r.size);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

static int vfio_reset(int fd)
{
	return ioctl(fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

static int sysfs_reset(int fd)
{
	(void)fd;
	return write_text(PCI_DEVICES "/" GPU_A "/reset", "1");
}

static int test_reset_zaps(void)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0;

	if (vfio_open_ok(GPU_A, &v))
		return -1;
	CHECK(!ioctl(v.fd, VFIO_DEVICE_GET_INFO, &dinfo),
	      "VFIO_DEVICE_GET_INFO: %s", errstr(errno));
	CHECK(dinfo.flags & VFIO_DEVICE_FLAGS_RESET,
	      "%s cannot be reset (flags %#x)", GPU_A, dinfo.flags);
	vfio_close(&v);
	if (check_reset_zaps("VFIO_DEVICE_RESET", vfio_reset) ||
	    check_reset_zaps("echo 1 > " PCI_DEVICES "/" GPU_A "/reset",
			     sysfs_reset))
		return -1;
out:
	vfio_close(&v);
	return ret;
}

/* Only the lowest-BDF GPU of a socket exposes its region. */
static int test_dedup(void)
{
	struct egm_vregion r = { 0 }, rb = { 0 };
	struct vfio_dev a = VFIO_DEV_INIT, b = VFIO_DEV_INIT;
	int ret = 0, n;

	if (vfio_open_ok(GPU_A, &a) ||
	    need_egm_region(GPU_A, a.fd, EGM1_SIZE, &r))
		goto fail;
	if (vfio_open_ok(GPU_B, &b))
		goto fail;
	n = find_egm_region(b.fd, &rb);
	CHECK(n == 0, "%s exposes an EGM region too (A is open)", GPU_B);
	vfio_close(&b);
	vfio_close(&a);
	egm_vregion_free(&r);

	if (vfio_open_ok(GPU_C, &a) ||
	    need_egm_region(GPU_C, a.fd, EGM0_SIZE, &r))
		goto fail;
	CHECK(r.cap->pxm == EGM0_PXM && r.cap->nr_retired == 0 &&
	      r.cap->nr_listed == 0 &&
	      !r.cap->flags,
	      "%s: pxm %u nr_retired %u nr_listed %u flags %#x, want %u 0 0 0",
	      GPU_C, r.cap->pxm, r.cap->nr_retired, r.cap->nr_listed,
	      r.cap->flags, EGM0_PXM);
	vfio_close(&a);
	egm_vregion_free(&r);

	for (int i = 0; i < 2; i++) {
		const char *bdf = i ? GPU_E : GPU_D;

		if (vfio_open_ok(bdf, &a))
			goto fail;
		n = find_egm_region(a.fd, &r);
		CHECK(n == 0, "%s exposes an EGM region", bdf);
		vfio_close(&a);
	}
	if (check_egm_size(GPU_A, EGM1_SIZE) || check_egm_size(GPU_B, EGM1_SIZE) ||
	    check_egm_size(GPU_C, EGM0_SIZE) || check_egm_size(GPU_D, 0) ||
	    check_egm_size(GPU_E, 0))
		goto fail;
out:
	vfio_close(&a);
	vfio_close(&b);
	egm_vregion_free(&r);
	egm_vregion_free(&rb);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * Opening the exposing GPU's vfio device right after the last tenant left
 * takes the region at once, scrubbed or not (open_device runs under the
 * vfio device set's lock, and nothing waits for zeroing any more): the
 * capability says it is ready, the region is in_use with dirty chunks
 * left, and yet pread() and the mapping find zeros everywhere the last
 * tenant wrote.  throttle_scrub() makes the background scrub last far
 * longer than the test, so the tenant's own accesses zero the chunks.
 */
static int test_open_while_scrubbing(void)
{
	long long dirty = 0, zeroed0 = 0, zeroed1 = 0;
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	char *p = MAP_FAILED, state[32], path[96], buf[32];
	uint64_t val = ~0ULL, last;
	uint32_t flags;
	int64_t bad;
	int ret = 0;

	if (wait_clean(EGM1_PXM) || throttle_scrub())
		goto fail;
	/* A tenant fills the region and goes: every chunk turns dirty. */
	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));
	write_tags(&r, p, 60);
	unmap(p, r.size);
	p = MAP_FAILED;
	vfio_close(&v);
	egm_vregion_free(&r);

	if (vfio_open_ok(GPU_A, &v) ||
	    read_state(EGM1_PXM, state, sizeof(state)) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	flags = r.cap->flags;
	snprintf(path, sizeof(path), "/sys/class/egm/egm%u/dirty_bytes", EGM1_PXM);
	CHECK(read_text(path, buf, sizeof(buf)) > 0, "read %s", path);
	dirty = atoll(buf);
	if (debugfs_count("egm1", "scrub", "access_zeroed", &zeroed0))
		goto fail;
	CHECK(!strcmp(state, "in_use\n") || !strcmp(state, "in_use"),
	      "state \"%s\" right after the open, want in_use", state);
	CHECK((flags & CAP_STATE) == 0,
	      "capability flags %#x right after the open, want none (taken)", flags);
	CHECK(dirty > 0, "dirty_bytes %lld right after the open: the scrub was not throttled",
	      dirty);

	/* read() zeroes what it reaches first, too: the last page. */
	last = r.size - page_size;
	while (last && is_retired(&r, last))
		last -= page_size;
	CHECK(pread(v.fd, &val, sizeof(val), r.offset + last) == sizeof(val),
	      "pread at %#llx: %s", (unsigned long long)last, errstr(errno));
	CHECK(val == 0, "pread at %#llx: %#llx, the last tenant's tag",
	      (unsigned long long)last, (unsigned long long)val);
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap after the open: %s", errstr(errno));
	bad = first_nonzero(&r, p);
	CHECK(bad < 0, "page at offset %#llx holds the last tenant's data",
	      (unsigned long long)bad);
	if (debugfs_count("egm1", "scrub", "access_zeroed", &zeroed1))
		goto fail;
	CHECK(zeroed1 > zeroed0, "access_zeroed %lld -> %lld: no access zeroed a chunk",
	      zeroed0, zeroed1);
	say("egm-vfio: open right after the last tenant: %lld MiB dirty, %s %lld chunks",
	    dirty >> 20, "the tenant's accesses zeroed", zeroed1 - zeroed0);
out:
	unthrottle_scrub();
	unmap(p, r.size);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * The exposing device's region while another tenant holds it: the region
 * says BUSY, mmap(), pread() and pwrite() fail with EBUSY, and the
 * tenant's mapping keeps its data.
 */
static int check_busy(const char *bdf, int fd, const struct egm_vregion *r,
		      const char *holder)
{
	uint64_t val = 0;
	ssize_t n;
	void *q;

	if ((r->cap->flags & CAP_STATE) != VFIO_EGM_CAP_BUSY)
		return fail("%s: capability flags %#x while %s holds the region, want BUSY",
			    bdf, r->cap->flags, holder);
	errno = 0;
	q = map_fd(fd, r->offset, 2 << 20, MAP_SHARED);
	if (q != MAP_FAILED) {
		unmap(q, 2 << 20);
		return fail("%s: mmap while %s holds the region succeeded, want EBUSY",
			    bdf, holder);
	}
	if (errno != EBUSY)
		return fail("%s: mmap while %s holds the region: %s, want EBUSY",
			    bdf, holder, errstr(errno));
	errno = 0;
	n = pread(fd, &val, 8, r->offset);
	if (n != -1 || errno != EBUSY)
		return fail("%s: pread while %s holds the region: %zd (%s), want EBUSY",
			    bdf, holder, n, errstr(errno));
	errno = 0;
	n = pwrite(fd, &val, 8, r->offset);
	if (n != -1 || errno != EBUSY)
		return fail("%s: pwrite while %s holds the region: %zd (%s), want EBUSY",
			    bdf, holder, n, errstr(errno));
	return 0;
}

/*
 * After the holder let go: the open device's first mmap() takes the
 * region, zeroed, and the region no longer says BUSY.  @p is set to the
 * mapping, for the caller to unmap.
 */
static int check_taken_later(const char *bdf, int fd, struct egm_vregion *r,
			     char **p)
{
	int64_t bad;

	*p = map_fd(fd, r->offset, r->size, MAP_SHARED);
	if (*p == MAP_FAILED)
		return fail("%s: mmap once the holder let go: %s", bdf,
			    errstr(errno));
	bad = first_nonzero(r, *p);
	if (bad >= 0)
		return fail("%s: page at offset %#llx is not zero after the holder let go",
			    bdf, (unsigned long long)bad);
	egm_vregion_free(r);
	if (need_egm_region(bdf, fd, EGM1_SIZE, r))
		return -1;
	if (r->cap->flags & CAP_STATE)
		return fail("%s: capability flags %#x once the device holds the region, %s",
			    bdf, r->cap->flags,
			    "want neither BUSY nor REVOKED");
	return 0;
}

/*
 * A mapping left from an earlier open holds the region: the exposing
 * device opens anyway, its region busy (check_busy()), until that mapping
 * goes; then the same open device takes the region, zeroed.
 */
static int test_open_while_held(void)
{
	const size_t len = 64 << 20;
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	char *old = MAP_FAILED, *p = MAP_FAILED;
	int ret = 0, err;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	old = map_fd(v.fd, r.offset, len, MAP_SHARED);
	CHECK(old != MAP_FAILED, "mmap: %s", errstr(errno));
	for (uint64_t off = 0; off < len; off += page_size)
		if (!is_retired(&r, off))
			put_word(old, off, tag(off, 70));
	vfio_close(&v);
	egm_vregion_free(&r);

	err = vfio_open(GPU_A, &v);
	CHECK(!err, "open %s with the region held by an earlier mapping: %s%s%s, want success",
	      GPU_A, err ? vfio_step : "", err ? ": " : "", errstr(err));
	if (need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r) ||
	    check_busy(GPU_A, v.fd, &r, "an earlier mapping"))
		goto fail;
	for (uint64_t off = 0; off < len; off += page_size)
		CHECK(is_retired(&r, off) || get_word(old, off) == tag(off, 70),
		      "the earlier mapping lost its data at %#llx",
		      (unsigned long long)off);

	unmap(old, len);
	old = MAP_FAILED;
	if (check_taken_later(GPU_A, v.fd, &r, &p))
		goto fail;
out:
	unmap(p, r.size);
	unmap(old, len);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * The exposer rule when a lower-BDF GPU is bound while another GPU's open
 * device exposes the region: that device keeps it, and the lower-BDF GPU
 * opens at once without it, the kernel saying why.  Once no device
 * exposes the region, the lowest BDF exposes it again.
 */
static int test_lower_bdf_bound_later(void)
{
	const uint64_t off = (8 << 20) + 0x80;
	struct egm_vregion r = { 0 }, ra = { 0 };
	struct vfio_dev a = VFIO_DEV_INIT, b = VFIO_DEV_INIT;
	char *p = MAP_FAILED, *log = NULL, buf[128];
	int ret = 0, err, n;

	err = pci_unbind(GPU_A, NVGRACE_DRIVER);
	CHECK(!err, "unbind %s: %s", GPU_A, errstr(err));
	if (vfio_open_ok(GPU_B, &b) ||
	    need_egm_region(GPU_B, b.fd, EGM1_SIZE, &r))
		goto fail;
	p = map_fd(b.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap through %s: %s", GPU_B, errstr(errno));
	put_word(p, off, tag(off, 80));

	err = pci_probe(GPU_A);
	CHECK(!err, "bind %s again: %s", GPU_A, errstr(err));
	if (check_driver(GPU_A, NVGRACE_DRIVER))
		goto fail;
	err = vfio_open(GPU_A, &a);
	CHECK(!err, "open %s, bound while %s exposes the region: %s%s%s, want success",
	      GPU_A, GPU_B, err ? vfio_step : "", err ? ": " : "", errstr(err));
	n = find_egm_region(a.fd, &ra);
	if (n < 0)
		goto fail;
	CHECK(n == 0, "%s exposes the region too, while %s's open device exposes it",
	      GPU_A, GPU_B);
	log = kernel_log();
	if (!log)
		goto fail;
	CHECK(log_has(log, GPU_A, "exposed by " GPU_B ", whose vfio device is open"),
	      "no \"%s: ...exposed by %s, whose vfio device is open\" in the kernel log",
	      GPU_A, GPU_B);
	CHECK(get_word(p, off) == tag(off, 80),
	      "%s's mapping lost its data when %s opened", GPU_B, GPU_A);
	/* The view names the GPU that exposes the region: still GPU_B. */
	n = view_attr("egm1", "frontends", buf, sizeof(buf));
	CHECK(n >= 0 && !strcmp(buf, "vfio " GPU_B),
	      "egm1 frontends \"%s\" while %s's device exposes it, want \"vfio %s\"",
	      n >= 0 ? buf : errstr(n), GPU_B, GPU_B);
	vfio_close(&a);
	unmap(p, r.size);
	p = MAP_FAILED;
	vfio_close(&b);
	egm_vregion_free(&r);

	/* No device exposes the region: the lowest BDF does, at its next open. */
	if (vfio_open_ok(GPU_A, &a) ||
	    need_egm_region(GPU_A, a.fd, EGM1_SIZE, &r) ||
	    vfio_open_ok(GPU_B, &b))
		goto fail;
	n = find_egm_region(b.fd, &ra);
	if (n < 0)
		goto fail;
	CHECK(n == 0, "%s exposes the region while %s exposes it", GPU_B, GPU_A);
out:
	free(log);
	unmap(p, r.size);
	vfio_close(&a);
	vfio_close(&b);
	egm_vregion_free(&r);
	egm_vregion_free(&ra);
	return ret;
fail:
	ret = -1;
	goto out;
}

static void unbind_cleanup(void)
{
	char drv[128];

	pci_driver(GPU_A, drv, sizeof(drv));
	if (!drv[0])
		pci_probe(GPU_A);
}

/*
 * The rule of lib/egm/vfio.c: mappings made through a closed device keep
 * working after its GPU is unbound; the next lowest-BDF GPU opens and
 * exposes the region, busy until they go (check_busy()); then its first
 * mmap() takes the region, scrubbed.
 */
static int test_unbind_rule(void)
{
	const size_t len = 64 << 20;
	struct egm_vregion r = { 0 };
	char *p = MAP_FAILED;
	size_t plen = len;
	struct vfio_dev a = VFIO_DEV_INIT, b = VFIO_DEV_INIT;
	int ret = 0, err;

	if (vfio_open_ok(GPU_A, &a) ||
	    need_egm_region(GPU_A, a.fd, EGM1_SIZE, &r))
		goto fail;
	p = map_fd(a.fd, r.offset, len, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));
	for (uint64_t off = 0; off < len; off += page_size)
		if (!is_retired(&r, off))
			put_word(p, off, tag(off, 40));
	vfio_close(&a);

	err = pci_unbind(GPU_A, NVGRACE_DRIVER);
	CHECK(!err, "unbind %s: %s", GPU_A, errstr(err));
	CHECK(!exists(PCI_DEVICES "/" GPU_A "/driver"), "%s still bound", GPU_A);
	for (uint64_t off = 0; off < len; off += page_size)
		CHECK(is_retired(&r, off) || get_word(p, off) == tag(off, 40),
		      "after unbinding %s the mapping lost its data at %#llx",
		      GPU_A, (unsigned long long)off);

	err = vfio_open(GPU_B, &b);
	CHECK(!err, "open %s with the region still mapped: %s%s%s, want success",
	      GPU_B, err ? vfio_step : "", err ? ": " : "", errstr(err));
	egm_vregion_free(&r);
	if (need_egm_region(GPU_B, b.fd, EGM1_SIZE, &r) ||
	    check_busy(GPU_B, b.fd, &r, "a mapping made through " GPU_A))
		goto fail;

	unmap(p, len);
	p = MAP_FAILED;
	plen = r.size;
	if (check_taken_later(GPU_B, b.fd, &r, &p))
		goto fail;
	unmap(p, plen);
	p = MAP_FAILED;
	vfio_close(&b);

	err = pci_probe(GPU_A);
	CHECK(!err, "rebind %s: %s", GPU_A, errstr(err));
	if (check_driver(GPU_A, NVGRACE_DRIVER) ||
	    check_egm_size(GPU_A, EGM1_SIZE))
		goto fail;
out:
	unmap(p, plen);
	vfio_close(&a);
	vfio_close(&b);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * ---- Phase "chardev": nvgrace-gpu reloaded with egm_frontend=chardev ----
 */

/* The module refused a bad egm_frontend at load and refuses it at run time. */
static int test_frontend_param(void)
{
	char buf[512];
	int n, ret = 0, err;

	n = read_text(BOGUS_RC, buf, sizeof(buf));
	CHECK(n > 0, "read %s: %s (did /init try egm_frontend=bogus?)", BOGUS_RC,
	      errstr(n));
	CHECK(atoi(buf) != 0, "insmod nvgrace-gpu-vfio-pci.ko egm_frontend=bogus succeeded");
	n = read_text(BOGUS_OUT, buf, sizeof(buf));
	CHECK(n >= 0 && strstr(buf, "Invalid argument"),
	      "insmod egm_frontend=bogus said \"%s\", want EINVAL (Invalid argument)",
	      n >= 0 ? buf : errstr(n));

	n = read_text(FRONTEND_PARAM, buf, sizeof(buf));
	CHECK(n >= 0 && !strcmp(buf, "chardev\n"), "%s: \"%s\", want chardev",
	      FRONTEND_PARAM, n >= 0 ? buf : errstr(n));
	err = write_text(FRONTEND_PARAM, "bogus");
	CHECK(err == -EINVAL, "writing bogus to %s: %s, want EINVAL",
	      FRONTEND_PARAM, err ? errstr(err) : "success");
	n = read_text(FRONTEND_PARAM, buf, sizeof(buf));
	CHECK(n >= 0 && !strcmp(buf, "chardev\n"),
	      "%s after a refused write: \"%s\"", FRONTEND_PARAM,
	      n >= 0 ? buf : errstr(n));
out:
	return ret;
}

/* Open /dev/egm<pxm> (it never waits); fd or -errno. */
static int egm_open(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	track_fd(fd);
	return fd;
}

static int test_chardev_nodes(void)
{
	static const struct {
		const char *dev;
		uint64_t size;
		unsigned int pxm;
		int retired;
	} nodes[] = {
		{ "/dev/egm1", EGM1_SIZE, EGM1_PXM, 1 },
		{ "/dev/egm0", EGM0_SIZE, EGM0_PXM, 0 },
	};
	uint64_t want[64];
	unsigned int nwant = expected_retired(want, ARRAY_SIZE(want));
	struct egm_info info;
	int fd = -1, ret = 0;
	char *log = NULL;
	off_t end;

	for (unsigned int i = 0; i < ARRAY_SIZE(nodes); i++) {
		fd = egm_open(nodes[i].dev);
		CHECK(fd >= 0, "open %s: %s", nodes[i].dev, errstr(fd));
		end = lseek(fd, 0, SEEK_END);
		CHECK(end >= 0 && (uint64_t)end == nodes[i].size,
		      "%s: SEEK_END %lld (%s), want %#llx", nodes[i].dev,
		      (long long)end, errstr(errno),
		      (unsigned long long)nodes[i].size);
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		CHECK(!ioctl(fd, EGM_GET_INFO, &info), "%s: EGM_GET_INFO: %s",
		      nodes[i].dev, errstr(errno));
		/* The firmware table reached the region through this frontend too. */
		CHECK(info.pxm == nodes[i].pxm &&
		      info.nr_retired == (nodes[i].retired ? nwant : 0),
		      "%s: pxm %u nr_retired %u, want %u %u", nodes[i].dev,
		      info.pxm, info.nr_retired, nodes[i].pxm,
		      nodes[i].retired ? nwant : 0);
		close_fd(&fd);
	}
	log = kernel_log();
	if (!log)
		goto fail;
	CHECK(log_has(log, GPU_A, "EGM PXM 1: 1024 MiB, chardev frontend"),
	      "no \"%s: EGM PXM 1: 1024 MiB, chardev frontend\" in the kernel log",
	      GPU_A);
out:
	free(log);
	close_fd(&fd);
	return ret;
fail:
	ret = -1;
	goto out;
}

static int test_chardev_parents(void)
{
	static const char *const p1[] = { GPU_A, GPU_B };
	static const char *const p0[] = { GPU_C };

	if (check_parents("egm1", p1, 2, NVGRACE_DRIVER) ||
	    check_parents("egm0", p0, 1, NVGRACE_DRIVER))
		return -1;
	return 0;
}

/* With the chardev frontend, no vfio device carries the region. */
static int test_chardev_no_vfio_region(void)
{
	const char *const bdfs[] = { GPU_A, GPU_B, GPU_C };
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0, n;

	for (unsigned int i = 0; i < ARRAY_SIZE(bdfs); i++) {
		if (check_driver(bdfs[i], NVGRACE_DRIVER) ||
		    vfio_open_ok(bdfs[i], &v))
			goto fail;
		n = find_egm_region(v.fd, &r);
		CHECK(n == 0, "%s exposes an EGM region with egm_frontend=chardev",
		      bdfs[i]);
		vfio_close(&v);
	}
	if (check_egm_size(GPU_A, EGM1_SIZE) || check_egm_size(GPU_B, EGM1_SIZE) ||
	    check_egm_size(GPU_C, EGM0_SIZE) || check_egm_size(GPU_D, 0) ||
	    check_egm_size(GPU_E, 0))
		goto fail;
out:
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * ---- Phase "sample": GPU A bound to egm_parent_vfio ----
 */

static int test_sample_vfio_region(void)
{
	const uint64_t off = (100 << 20) + 0x88;
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	char *p = MAP_FAILED;
	uint64_t val;
	ssize_t n;
	int ret = 0;

	if (check_driver(GPU_A, SAMPLE_DRIVER) ||
	    check_egm_size(GPU_A, EGM1_SIZE) ||
	    vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	CHECK(r.cap->pxm == EGM1_PXM && r.cap->granularity == (uint64_t)page_size &&
	      r.cap->nr_retired == 0 && !r.cap->flags,
	      "capability: pxm %u granularity %llu nr_retired %u flags %#x",
	      r.cap->pxm, (unsigned long long)r.cap->granularity,
	      r.cap->nr_retired, r.cap->flags);
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));
	put_word(p, off, tag(off, 50));
	n = pread(v.fd, &val, 8, r.offset + off);
	CHECK(n == 8 && val == tag(off, 50), "pread after a write through mmap: %zd, %#llx",
	      n, (unsigned long long)val);
	val = tag(off + 8, 51);
	n = pwrite(v.fd, &val, 8, r.offset + off + 8);
	CHECK(n == 8 && get_word(p, off + 8) == tag(off + 8, 51),
	      "pwrite not seen through mmap: %zd", n);
out:
	unmap(p, r.size);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * /dev/egm1 of the sample's platform parent holds the region that GPU A's
 * egm_parent_vfio device exposes: the device opens anyway, its region busy
 * (check_busy()); once the chardev's tenant is gone, the device's first
 * mmap() takes the region, zeroed.
 */
static int test_sample_chardev_holds(void)
{
	const uint64_t off = (100 << 20) + 0x40;
	const size_t len = 128 << 20;
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	char *c = MAP_FAILED, *p = MAP_FAILED;
	int fd = -1, ret = 0, err;

	fd = egm_open("/dev/egm1");
	CHECK(fd >= 0, "open /dev/egm1: %s", errstr(fd));
	c = map_fd(fd, 0, len, MAP_SHARED);
	CHECK(c != MAP_FAILED, "mmap /dev/egm1: %s", errstr(errno));
	put_word(c, off, tag(off, 90));

	err = vfio_open(GPU_A, &v);
	CHECK(!err, "open %s while /dev/egm1 holds the region: %s%s%s, want success",
	      GPU_A, err ? vfio_step : "", err ? ": " : "", errstr(err));
	if (need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r) ||
	    check_busy(GPU_A, v.fd, &r, "/dev/egm1"))
		goto fail;
	CHECK(get_word(c, off) == tag(off, 90), "/dev/egm1's mapping lost its data");

	unmap(c, len);
	c = MAP_FAILED;
	close_fd(&fd);
	if (check_taken_later(GPU_A, v.fd, &r, &p))
		goto fail;
out:
	unmap(p, r.size);
	unmap(c, len);
	close_fd(&fd);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * ---- Phase "sample": the retired list and region info under pressure ----
 */

#define PARENT_DEBUGFS	"/sys/kernel/debug/egm_parent/egm_parent.0"
/* test_cap_truncated's runtime poison: a page in each 64 KiB block from here. */
#define TRUNC_FIRST	(768ULL << 20)
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"

/* A memory error at region offset @off, reported by the sample's "GPU". */
static int poison_at(uint64_t off)
{
	char pa[32];

	snprintf(pa, sizeof(pa), "%#llx", (unsigned long long)(EGM1_BASE + off));
	return write_text(PARENT_DEBUGFS "/poison", pa);
}

/* What include/uapi/linux/egm.h promises the list holds at least. */
static uint32_t min_listed(void)
{
	return page_size >= 65536 ? 8000 : 500;
}

/*
 * More retired pages than a page of offsets holds: the capability lists
 * the first ones, says TRUNCATED and counts them all, and the whole chain
 * stays within a page (the kernel builds it in one allocation at every
 * GET_REGION_INFO, which must not need a high order).
 */
static int test_cap_truncated(void)
{
	const unsigned int n = page_size / 8 + 64;
	const uint64_t per_block = (uint64_t)page_size < FW_RETIRE_SIZE ?
				   FW_RETIRE_SIZE / page_size : 1;
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	uint32_t before, added;
	int ret = 0, err;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	before = r.cap->nr_retired;
	egm_vregion_free(&r);
	for (unsigned int i = 0; i < n; i++) {
		err = poison_at(TRUNC_FIRST + i * FW_RETIRE_SIZE);
		CHECK(!err, "poison at %#llx: %s",
		      (unsigned long long)(TRUNC_FIRST + i * FW_RETIRE_SIZE),
		      errstr(-err));
	}
	if (need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	added = r.cap->nr_retired - before;
	/* A runtime report retires its page, or its whole 64 KiB block. */
	CHECK(added == n || added == n * per_block,
	      "nr_retired %u after %u reports on top of %u, want %u or %llu",
	      r.cap->nr_retired, n, before, before + n,
	      (unsigned long long)(before + n * per_block));
	CHECK(r.argsz - sizeof(struct vfio_region_info) <= (uint64_t)page_size,
	      "capability chain of %zu bytes for %u retired pages (%u listed), more than a page",
	      r.argsz - sizeof(struct vfio_region_info), r.cap->nr_retired,
	      r.cap->nr_listed);
	CHECK(r.cap->flags & VFIO_EGM_CAP_RETIRED_TRUNCATED,
	      "flags %#x without TRUNCATED: %u of %u listed", r.cap->flags,
	      r.cap->nr_listed, r.cap->nr_retired);
	CHECK(r.cap->nr_listed < r.cap->nr_retired &&
	      r.cap->nr_listed >= min_listed(),
	      "%u of %u listed, want fewer, and at least %u", r.cap->nr_listed,
	      r.cap->nr_retired, min_listed());
	for (uint32_t i = 0; i < r.cap->nr_listed; i++) {
		uint64_t o = r.cap->retired[i];

		CHECK(!i || o > r.cap->retired[i - 1],
		      "entry %u (%#llx) not above the one before", i,
		      (unsigned long long)o);
		CHECK(o < EGM1_SIZE && !(o % page_size),
		      "entry %u: %#llx", i, (unsigned long long)o);
		CHECK(o < TRUNC_FIRST ||
		      (o - TRUNC_FIRST) / FW_RETIRE_SIZE < n,
		      "entry %u: %#llx was never reported", i,
		      (unsigned long long)o);
	}
	CHECK(before || r.cap->retired[0] == TRUNC_FIRST,
	      "first entry %#llx, want %#llx",
	      (unsigned long long)r.cap->retired[0],
	      (unsigned long long)TRUNC_FIRST);
	say("  %u retired, %u listed, chain of %zu bytes", r.cap->nr_retired,
	    r.cap->nr_listed, r.argsz - sizeof(struct vfio_region_info));
out:
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

static char failslab_wait[8], failslab_verbose[8];

/* Put failslab's knobs back as they were before the test. */
static void failslab_restore(void)
{
	if (failslab_wait[0])
		write_text(FAILSLAB "/ignore-gfp-wait", failslab_wait);
	if (failslab_verbose[0])
		write_text(FAILSLAB "/verbose", failslab_verbose);
	failslab_wait[0] = 0;
	failslab_verbose[0] = 0;
}

/*
 * Whether the kmemleak report holds an object allocated through @fn.  Two
 * scans: the first to see a new object's checksum, which kmemleak wants
 * unchanged since a scan before it reports the object.
 */
static int kmemleak_has(const char *fn)
{
	static char buf[1 << 20];
	int n;

	if (write_text(KMEMLEAK, "scan") || write_text(KMEMLEAK, "scan"))
		return -1;
	n = read_text(KMEMLEAK, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return !!strstr(buf, fn);
}

/* What the child of test_cap_alloc_failure() found. */
struct cap_sweep {
	int ret;
	unsigned int injected, nomem;
	char msg[768];	/* failmsg */
};

/*
 * Fail every slab allocation of one VFIO_DEVICE_GET_REGION_INFO in turn,
 * through this task's fail-nth: each call must fail with ENOMEM or succeed
 * with a whole EGM capability.
 */
static int cap_sweep(int fd, const struct egm_vregion *r, struct cap_sweep *sw)
{
	struct vfio_region_info *info = calloc(1, r->argsz + page_size);
	int ret = 0, nth_fd = -1;
	unsigned int nth;
	char buf[16];

	CHECK(info, "out of memory");
	nth_fd = open(FAIL_NTH, O_RDWR);
	CHECK(nth_fd >= 0, "open %s: %s", FAIL_NTH, errstr(errno));
	for (nth = 1; nth < 200; nth++) {
		struct vfio_region_info_cap_nvidia_egm *cap;
		int len, rc, e;

		memset(info, 0, r->argsz + page_size);
		info->argsz = r->argsz + page_size;
		info->index = r->index;
		len = snprintf(buf, sizeof(buf), "%u", nth);
		CHECK(pwrite(nth_fd, buf, len, 0) == len, "write %s: %s",
		      FAIL_NTH, errstr(errno));
		rc = ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info);
		e = errno;
		len = pread(nth_fd, buf, sizeof(buf) - 1, 0);
		CHECK(len > 0, "read %s: %s", FAIL_NTH, errstr(errno));
		buf[len] = 0;
		CHECK(pwrite(nth_fd, "0", 1, 0) == 1, "reset %s: %s", FAIL_NTH,
		      errstr(errno));
		if (atoi(buf))
			break;		/* fewer than nth allocations: done */
		sw->injected++;
		if (rc) {
			CHECK(e == ENOMEM, "allocation %u failed: %s, want ENOMEM",
			      nth, errstr(e));
			sw->nomem++;
			continue;
		}
		cap = (void *)find_cap(info, VFIO_REGION_INFO_CAP_NVIDIA_EGM,
				       sizeof(*cap));
		CHECK(cap && cap->nr_retired == r->cap->nr_retired &&
		      cap->pxm == EGM1_PXM,
		      "allocation %u failed, the call succeeded with %s", nth,
		      cap ? "a wrong capability" : "no EGM capability");
	}
	CHECK(sw->injected, "no allocation failed: is failslab working?");
	CHECK(nth < 200, "more than 200 allocations in one GET_REGION_INFO");
out:
	if (nth_fd >= 0)
		close(nth_fd);
	free(info);
	return ret;
}

/*
 * Every slab allocation VFIO_DEVICE_GET_REGION_INFO makes fails once in
 * turn (failslab through /proc/thread-self/fail-nth, for one task only).
 * Each call either fails with ENOMEM or succeeds with a whole capability,
 * and nothing leaks: the vfio core does not free its capability chain when
 * a region's add_capability fails, so that must not fail once the chain
 * was allocated.  Needs CONFIG_FAILSLAB and CONFIG_DEBUG_KMEMLEAK.
 *
 * The calls run in a child that then exits, and a few short-lived
 * processes follow: a new task zeroes the cached kernel stack it takes, so
 * no stale pointer to a leaked chain survives there to hide it from
 * kmemleak, which scans the stacks.
 */
static int test_cap_alloc_failure(void)
{
	struct cap_sweep sw = { 0 };
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	int ret = 0, leak, status, pfd[2] = { -1, -1 };
	pid_t pid = 0;

	CHECK(exists(FAILSLAB) && exists(FAIL_NTH) && exists(KMEMLEAK),
	      "the kernel lacks failslab, fail-nth or kmemleak");
	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	CHECK(read_text(FAILSLAB "/ignore-gfp-wait", failslab_wait,
			sizeof(failslab_wait)) > 0 &&
	      read_text(FAILSLAB "/verbose", failslab_verbose,
			sizeof(failslab_verbose)) > 0,
	      "cannot read %s", FAILSLAB);
	CHECK(!write_text(FAILSLAB "/ignore-gfp-wait", "N") &&
	      !write_text(FAILSLAB "/verbose", "0"),
	      "cannot set up %s", FAILSLAB);
	CHECK(!pipe(pfd), "pipe: %s", errstr(errno));
	pid = spawn();
	CHECK(pid >= 0, "fork: %s", errstr(errno));
	if (!pid) {
		sw.ret = cap_sweep(v.fd, &r, &sw);
		memcpy(sw.msg, failmsg, sizeof(sw.msg));
		_exit(write(pfd[1], &sw, sizeof(sw)) == sizeof(sw) ? 0 : 1);
	}
	CHECK(!wait_child(pid, 120 * 1000, &status), "the child did not exit");
	pid = 0;
	CHECK(read(pfd[0], &sw, sizeof(sw)) == sizeof(sw), "no report from the child");
	CHECK(!sw.ret, "%s", sw.msg);
	failslab_restore();
	say("  %u allocations failed in turn, %u calls failed with ENOMEM",
	    sw.injected, sw.nomem);

	for (int i = 0; i < 16; i++) {
		pid = spawn();
		if (!pid)
			_exit(0);
		CHECK(pid > 0 && !wait_child(pid, CHILD_TIMEOUT_MS, &status),
		      "short-lived child: %s", errstr(errno));
		pid = 0;
	}
	/* kmemleak reports what nothing has pointed to for 5 s. */
	sleep_ms(6000);
	leak = kmemleak_has("vfio_info_cap_add");
	CHECK(leak >= 0, "cannot scan with %s", KMEMLEAK);
	CHECK(!leak, "kmemleak: the capability chain of GET_REGION_INFO leaked");
out:
	if (pid > 0)
		kill_child(pid);
	failslab_restore();
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * ---- Phase "mce": a machine check while read() copies out of the region ----
 *
 * A boot of its own (qemu-vfio-test.sh): an Intel CPU model with MCA
 * recovery (mce=recovery makes the kernel's copy_mc_*() machine-check
 * safe under TCG), GPU A bound to egm_parent_vfio, and on the host
 * scripts/egm/mce-inject.py, which waits for our request line, plants a
 * breakpoint on the load of copy_mc_fragile() and raises a data-load
 * machine check for our page when the copy into our buffer reaches it.
 */

/* A page of the region no other test of the boot retires. */
#define MCE_OFF		(900ULL << 20)
#define MCE_WAIT_MS	(180 * 1000)

/*
 * Latent poison found by read(): the call fails with EIO instead of the
 * kernel dying, and the page is retired as if the platform had reported
 * it: EIO again, listed in the capability, SIGBUS through a mapping.
 */
static int test_mce_pread(void)
{
	struct egm_vregion r = { 0 };
	struct vfio_dev v = VFIO_DEV_INIT;
	long long deadline = now_ms() + MCE_WAIT_MS;
	char *buf = NULL, *p = MAP_FAILED, *log = NULL;
	unsigned long reads = 0;
	uint32_t before;
	ssize_t n;
	int ret = 0, e = 0;

	if (vfio_open_ok(GPU_A, &v) ||
	    need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	before = r.cap->nr_retired;
	CHECK(!is_retired(&r, MCE_OFF), "page %#llx retired already",
	      (unsigned long long)MCE_OFF);
	CHECK(r.flags & VFIO_REGION_INFO_FLAG_READ, "region flags %#x without READ",
	      r.flags);
	buf = aligned_alloc(page_size, page_size);
	CHECK(buf, "out of memory");
	memset(buf, 0, page_size);
	n = pread(v.fd, buf, page_size, r.offset + MCE_OFF);
	CHECK(n == page_size, "pread before the machine check: %zd (%s)", n,
	      errstr(errno));

	say("egm-mce: inject pa=%#llx buf=%p n=2",
	    (unsigned long long)(EGM1_BASE + MCE_OFF), (void *)buf);
	do {
		n = pread(v.fd, buf, page_size, r.offset + MCE_OFF);
		e = errno;
		reads++;
	} while (n == page_size && now_ms() < deadline);
	CHECK(n != page_size, "%lu preads in %d s, none failed: no machine check came",
	      reads, MCE_WAIT_MS / 1000);
	CHECK(n == -1 && e == EIO, "pread hit by the machine check: %zd (%s), want EIO",
	      n, errstr(e));
	say("  pread %lu failed with EIO", reads);

	n = pread(v.fd, buf, 8, r.offset + MCE_OFF + 64);
	CHECK(n == -1 && errno == EIO, "pread of the page again: %zd (%s), want EIO",
	      n, errstr(errno));
	n = pread(v.fd, buf, 8, r.offset + MCE_OFF + page_size);
	CHECK(n == 8, "pread of the next page: %zd (%s)", n, errstr(errno));
	egm_vregion_free(&r);
	if (need_egm_region(GPU_A, v.fd, EGM1_SIZE, &r))
		goto fail;
	CHECK(r.cap->nr_retired > before && is_retired(&r, MCE_OFF),
	      "capability: %u retired (%u before), page %#llx %s",
	      r.cap->nr_retired, before, (unsigned long long)MCE_OFF,
	      is_retired(&r, MCE_OFF) ? "listed" : "not listed");
	log = kernel_log();
	CHECK(log, "no kernel log");
	CHECK(log_has(log, "memory error at", "page poisoned"),
	      "the kernel log does not say the page was poisoned");
	p = map_fd(v.fd, r.offset, r.size, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap: %s", errstr(errno));
	if (expect_sigbus(p + MCE_OFF + 128))
		goto fail;
out:
	unmap(p, r.size);
	free(log);
	free(buf);
	vfio_close(&v);
	egm_vregion_free(&r);
	return ret;
fail:
	ret = -1;
	goto out;
}

/* Back to one whole-region partition on PXM 1. */
static void layout_whole_cleanup(void)
{
	int err = write_text(SYSFS_CLASS "/egm1/layout", "whole");

	if (err)
		say("cleanup: layout whole: %s", errstr(err));
}

/*
 * Split per GPU: each GPU of PXM 1 exposes its own half, both open at
 * once; what one writes the other never sees, and one GPU's resets never
 * reach the other's partition.
 */
static int test_per_gpu_partitions(void)
{
	const uint64_t half = EGM1_SIZE / 2, off = (16 << 20) + 0x40;
	struct egm_vregion ra = { 0 }, rb = { 0 };
	struct vfio_dev a = VFIO_DEV_INIT, b = VFIO_DEV_INIT;
	char *pa = MAP_FAILED, *pb = MAP_FAILED;
	struct faults fa0, fa1, fb0, fb1;
	int ret = 0, err, i;

	err = write_text(SYSFS_CLASS "/egm1/layout", "per_parent");
	CHECK(!err, "echo per_parent > egm1/layout: %s", errstr(err));
	if (vfio_open_ok(GPU_A, &a) || need_egm_region(GPU_A, a.fd, half, &ra) ||
	    vfio_open_ok(GPU_B, &b) || need_egm_region(GPU_B, b.fd, half, &rb))
		goto fail;
	pa = map_fd(a.fd, ra.offset, ra.size, MAP_SHARED);
	pb = map_fd(b.fd, rb.offset, rb.size, MAP_SHARED);
	CHECK(pa != MAP_FAILED && pb != MAP_FAILED, "mmap: %s", errstr(errno));
	CHECK(get_word(pa, off) == 0 && get_word(pb, off) == 0,
	      "a new partition is not zero at %#llx", (unsigned long long)off);
	put_word(pa, off, tag(off, 91));
	put_word(pb, off, tag(off, 92));
	CHECK(get_word(pa, off) == tag(off, 91) && get_word(pb, off) == tag(off, 92),
	      "%s and %s see each other's memory", GPU_A, GPU_B);

	CHECK(!read_faults("egm1.1", &fa0) && !read_faults("egm1.2", &fb0),
	      "%s", failmsg);
	for (i = 0; i < 10; i++) {
		err = vfio_reset(a.fd);
		CHECK(!err, "VFIO_DEVICE_RESET of %s: %s", GPU_A, errstr(err));
		CHECK(get_word(pb, off) == tag(off, 92), "%s's data changed", GPU_B);
		CHECK(get_word(pa, off) == tag(off, 91), "%s's data changed", GPU_A);
	}
	CHECK(!read_faults("egm1.1", &fa1) && !read_faults("egm1.2", &fb1),
	      "%s", failmsg);
	CHECK(fault_sum(&fb1) == fault_sum(&fb0),
	      "%s's partition took %lld faults during %s's resets", GPU_B,
	      fault_sum(&fb1) - fault_sum(&fb0), GPU_A);
	CHECK(fault_sum(&fa1) >= fault_sum(&fa0) + 10,
	      "%s's partition was not zapped by its resets (%lld faults)", GPU_A,
	      fault_sum(&fa1) - fault_sum(&fa0));
out:
	unmap(pa, ra.size);
	unmap(pb, rb.size);
	vfio_close(&a);
	vfio_close(&b);
	egm_vregion_free(&ra);
	egm_vregion_free(&rb);
	return ret;
fail:
	ret = -1;
	goto out;
}

/*
 * ---- The harness ----
 */

struct test {
	const char *phase;
	const char *name;
	int (*fn)(void);
	void (*cleanup)(void);	/* also after a test died or timed out */
};

static const struct test tests[] = {
	{ "vfio", "acpi_probe", test_acpi_probe, NULL },
	{ "vfio", "sysfs_view", test_sysfs_view, NULL },
	{ "vfio", "scrub_between_tenants", test_scrub_between_tenants, NULL },
	{ "vfio", "region_info", test_region_info, NULL },
	{ "vfio", "region_info_argsz", test_region_info_argsz, NULL },
	{ "vfio", "rw_through_the_fd", test_rw_through_the_fd, NULL },
	{ "vfio", "mmap_retired_and_bad", test_mmap_retired_and_bad, NULL },
	{ "vfio", "reset_zaps", test_reset_zaps, NULL },
	{ "vfio", "dedup", test_dedup, NULL },
	{ "vfio", "open_while_scrubbing", test_open_while_scrubbing,
	  unthrottle_scrub },
	{ "vfio", "open_while_held", test_open_while_held, NULL },
	{ "vfio", "lower_bdf_bound_later", test_lower_bdf_bound_later,
	  unbind_cleanup },
	{ "vfio", "unbind_rule", test_unbind_rule, unbind_cleanup },
	{ "vfio", "per_gpu_partitions", test_per_gpu_partitions,
	  layout_whole_cleanup },
	{ "chardev", "frontend_param", test_frontend_param, NULL },
	{ "chardev", "chardev_nodes", test_chardev_nodes, NULL },
	{ "chardev", "chardev_parents", test_chardev_parents, NULL },
	{ "chardev", "chardev_no_vfio_region", test_chardev_no_vfio_region, NULL },
	{ "sample", "sample_vfio_region", test_sample_vfio_region, NULL },
	{ "sample", "sample_chardev_holds", test_sample_chardev_holds, NULL },
	/* Before cap_truncated: a short list takes kmalloc() alone. */
	{ "sample", "cap_alloc_failure", test_cap_alloc_failure,
	  failslab_restore },
	{ "sample", "cap_truncated", test_cap_truncated, NULL },
	{ "mce", "mce_pread", test_mce_pread, NULL },
};

#define NR_TESTS ((int)ARRAY_SIZE(tests))

static const char *phase;

static void harness_summary(int passed, int failed)
{
	say("egm-vfio: phase %s: %d passed, %d failed", phase, passed, failed);
}

static void list_tests(void)
{
	say("usage: egm_vfio_e2e PHASE [TEST...]; tests by phase:");
	for (int i = 0; i < NR_TESTS; i++)
		say("  %s %s", tests[i].phase, tests[i].name);
}

int main(int argc, char **argv)
{
	bool run[NR_TESTS];
	int i, j, known = 0;

	if (argc < 2) {
		list_tests();
		return 2;
	}
	phase = argv[1];
	for (i = 0; i < NR_TESTS; i++) {
		known += !strcmp(tests[i].phase, phase);
		run[i] = argc < 3 && !strcmp(tests[i].phase, phase);
	}
	if (!known) {
		list_tests();
		return 2;
	}
	for (j = 2; j < argc; j++) {
		for (i = 0; i < NR_TESTS; i++)
			if (!strcmp(tests[i].phase, phase) &&
			    !strcmp(argv[j], tests[i].name))
				break;
		if (i == NR_TESTS) {
			list_tests();
			return 2;
		}
		run[i] = true;
	}

	if (harness_setup())
		return 1;
	for (i = 0; i < NR_TESTS; i++)
		tally->remaining += run[i];
	for (i = 0; i < NR_TESTS; i++)
		if (run[i])
			harness_run(tests[i].name, tests[i].fn,
				    tests[i].cleanup);

	harness_summary(tally->passed, tally->failed);
	return tally->failed ? 1 : 0;
}
