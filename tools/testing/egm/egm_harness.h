/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test harness shared by the QEMU suites' guest programs (egm_e2e.c,
 * egm_vfio_e2e.c, ...): "ok NAME" / "FAIL NAME: REASON" lines, what a test
 * holds (files, mappings, children) released by the harness when the test
 * dies, a SIGALRM per test and a watchdog for a test stuck in the kernel;
 * and opening a GPU's vfio device in no-IOMMU mode with its EGM region.
 *
 * Header-only, included once by each program, which defines
 * harness_summary() (its summary line), then calls harness_setup() and
 * harness_run() for each test.
 */
#ifndef EGM_HARNESS_H
#define EGM_HARNESS_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The kernel's names for these, as tools/include spells them. */
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define __maybe_unused		__attribute__((unused))
#define noinline		__attribute__((noinline))
#define __noreturn		__attribute__((noreturn))
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
/* One access the compiler may neither drop, merge nor tear. */
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* The 64-bit word at byte @off of a mapping, loaded or stored once. */
static __maybe_unused uint64_t get_word(void *base, uint64_t off)
{
	return READ_ONCE(*(uint64_t *)((char *)base + off));
}

static __maybe_unused void put_word(void *base, uint64_t off, uint64_t val)
{
	WRITE_ONCE(*(uint64_t *)((char *)base + off), val);
}

#define TEST_TIMEOUT_MS		(240 * 1000)	/* per test, then SIGALRM */
#define STUCK_GRACE_MS		(30 * 1000)	/* then the watchdog gives up */

/* The program's summary line, "NAME: N passed, N failed". */
static void harness_summary(int passed, int failed);

/* ---- output and failure messages ---- */

static void say(const char *fmt, ...) __printf(1, 2);
static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, so kernel messages do not split our lines. */
	if (write(STDOUT_FILENO, line, n) < 0)
		_exit(2);
}

static char failmsg[768];

/* Record the first failure of a test; returns -1 for "ret = fail(...)". */
static int fail(const char *fmt, ...) __printf(1, 2);
static int fail(const char *fmt, ...)
{
	va_list ap;

	if (failmsg[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(failmsg, sizeof(failmsg), fmt, ap);
	va_end(ap);
	if (!failmsg[0])
		snprintf(failmsg, sizeof(failmsg), "failed");
	return -1;
}

/* "EBUSY (Device or resource busy)"; a few buffers for one message. */
static const char *errstr(int e)
{
	static char buf[4][96];
	static int next;
	char *b = buf[next++ % 4];
	const char *name;

	if (e < 0)
		e = -e;
	name = strerrorname_np(e);
	snprintf(b, sizeof(buf[0]), "%s (%s)", name ? name : "errno",
		 strerror(e));
	return b;
}

#define CHECK(cond, ...) do {				\
	if (!(cond)) {					\
		ret = fail(__VA_ARGS__);		\
		goto out;				\
	}						\
} while (0)

/* ---- time ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- what a test holds, released by the harness if the test dies ---- */

#define MAX_TRACK 64

static int tracked_fd[MAX_TRACK];
static struct { void *addr; size_t len; } tracked_map[MAX_TRACK];
static pid_t tracked_pid[MAX_TRACK];
static pid_t harness_pid;
static long page_size;

static __maybe_unused void track_fd(int fd)
{
	for (int i = 0; i < MAX_TRACK; i++)
		if (tracked_fd[i] < 0) {
			tracked_fd[i] = fd;
			return;
		}
}

static __maybe_unused void close_fd(int *fd)
{
	if (*fd < 0)
		return;
	for (int i = 0; i < MAX_TRACK; i++)
		if (tracked_fd[i] == *fd)
			tracked_fd[i] = -1;
	close(*fd);
	*fd = -1;
}

/* mmap() of an EGM fd; MAP_FAILED with errno on failure. */
static __maybe_unused void *map_fd(int fd, uint64_t off, size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);

	if (p == MAP_FAILED)
		return p;
	for (int i = 0; i < MAX_TRACK; i++)
		if (!tracked_map[i].addr) {
			tracked_map[i].addr = p;
			tracked_map[i].len = len;
			break;
		}
	return p;
}

static __maybe_unused void unmap(void *p, size_t len)
{
	if (!p || p == MAP_FAILED)
		return;
	for (int i = 0; i < MAX_TRACK; i++)
		if (tracked_map[i].addr == p) {
			tracked_map[i].addr = NULL;
			break;
		}
	munmap(p, len);
}

/*
 * A child for something that may die or block.  It must never return into
 * the harness: children end with _exit().
 */
static __maybe_unused pid_t spawn(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		return 0;
	}
	if (pid > 0)
		for (int i = 0; i < MAX_TRACK; i++)
			if (!tracked_pid[i]) {
				tracked_pid[i] = pid;
				break;
			}
	return pid;
}

/* Wait up to @ms for @pid; 0 and *status when it ended, -ETIMEDOUT if not. */
static int wait_child(pid_t pid, long ms, int *status)
{
	long long end = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid) {
			for (int i = 0; i < MAX_TRACK; i++)
				if (tracked_pid[i] == pid)
					tracked_pid[i] = 0;
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
}

static void kill_child(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	wait_child(pid, CHILD_TIMEOUT_MS, &status);
}

static void release_tracked(void)
{
	for (int i = 0; i < MAX_TRACK; i++) {
		if (tracked_pid[i])
			kill_child(tracked_pid[i]);
		tracked_pid[i] = 0;
	}
	for (int i = 0; i < MAX_TRACK; i++) {
		if (tracked_map[i].addr)
			munmap(tracked_map[i].addr, tracked_map[i].len);
		tracked_map[i].addr = NULL;
	}
	for (int i = 0; i < MAX_TRACK; i++) {
		if (tracked_fd[i] >= 0)
			close(tracked_fd[i]);
		tracked_fd[i] = -1;
	}
}

/* ---- files ---- */

/* Read a small file into buf (NUL terminated); length or -errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		total += n;
	}
	close(fd);
	buf[total] = 0;
	return total;
}

/* Write a string to a sysfs or debugfs file; 0 or -errno. */
static __maybe_unused int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(text))
		err = -EIO;
	close(fd);
	return err;
}

static __maybe_unused bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The kernel log (malloc'ed, NUL terminated), or NULL after fail(). */
static __maybe_unused char *kernel_log(void)
{
	int size = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	char *buf;
	int n;

	if (size <= 0)
		size = 1 << 20;
	buf = malloc(size + 1);
	if (!buf) {
		fail("out of memory");
		return NULL;
	}
	n = klogctl(3, buf, size);		/* SYSLOG_ACTION_READ_ALL */
	if (n < 0) {
		fail("klogctl(READ_ALL): %s", errstr(errno));
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* ---- a region's sysfs view and debugfs ---- */

/* /sys/class/egm/<region>/<a>, without its newline; -errno. */
static __maybe_unused int view_attr(const char *region, const char *a,
				    char *buf, size_t size)
{
	char path[128];
	int n;

	snprintf(path, sizeof(path), "/sys/class/egm/%s/%s", region, a);
	n = read_text(path, buf, size);
	if (n >= 0)
		buf[strcspn(buf, "\n")] = 0;
	return n;
}

/* Wait up to @ms for the region's state to be "clean"; 0, or fail(). */
static __maybe_unused int view_wait_clean(const char *region, long ms)
{
	long long end = now_ms() + ms;
	char state[32] = "";

	while (now_ms() < end) {
		if (view_attr(region, "state", state, sizeof(state)) >= 0 &&
		    !strcmp(state, "clean"))
			return 0;
		sleep_ms(50);
	}
	return fail("%s is \"%s\" after %ld s, want \"clean\"", region, state,
		    ms / 1000);
}

/*
 * A counter of the region's debugfs file @file: the number after "@key "
 * (e.g. "access_zeroed" in "scrub"); 0, or fail().
 */
static __maybe_unused int debugfs_count(const char *region, const char *file,
					const char *key, long long *val)
{
	char path[256], buf[512], *at;
	int n;

	snprintf(path, sizeof(path), "/sys/kernel/debug/egm/%s/%s", region, file);
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return fail("read %s: %s", path, errstr(n));
	at = strstr(buf, key);
	if (!at || sscanf(at + strlen(key), " %lld", val) != 1)
		return fail("%s: no \"%s N\" in \"%s\"", path, key, buf);
	return 0;
}

/* Faults a partition has served, by leaf size (debugfs "faults"). */
struct faults { long long pte, pmd, pud; };

/* /sys/kernel/debug/egm/<name>/faults, for partition <name>; 0, or fail(). */
static __maybe_unused int read_faults(const char *name, struct faults *f)
{
	char path[256], buf[256];
	int n;

	snprintf(path, sizeof(path), "/sys/kernel/debug/egm/%s/faults", name);
	n = read_text(path, buf, sizeof(buf));
	if (n < 0)
		return fail("read %s: %s", path, errstr(n));
	if (sscanf(buf, "pte %lld\npmd %lld\npud %lld\n",
		   &f->pte, &f->pmd, &f->pud) != 3)
		return fail("%s: cannot parse \"%s\"", path, buf);
	return 0;
}

static __maybe_unused long long fault_sum(const struct faults *f)
{
	return f->pte + f->pmd + f->pud;
}

/* References to the region's current tenancy (debugfs), or -1. */
static __maybe_unused long tenancy_holders(const char *region)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), "/sys/kernel/debug/egm/%s/tenancy", region);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf + strcspn(buf, "0123456789"), NULL, 10);
}

/*
 * /sys/class/egm/<name>/parents holds exactly links to the devices @want,
 * each bound to @driver.
 */
static __maybe_unused int check_parents(const char *name,
					const char *const *want, int nwant,
					const char *driver)
{
	char dir[256], path[PATH_MAX + 16], target[PATH_MAX], drv[PATH_MAX];
	struct dirent *de;
	int found = 0, ret = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/class/egm/%s/parents", name);
	d = opendir(dir);
	if (!d)
		return fail("opendir %s: %s", dir, errstr(errno));
	while ((de = readdir(d))) {
		bool known = false;

		if (de->d_name[0] == '.')
			continue;
		for (int i = 0; i < nwant; i++)
			known |= !strcmp(de->d_name, want[i]);
		CHECK(known, "%s: unexpected entry %s", dir, de->d_name);
		found++;
	}
	CHECK(found == nwant, "%s: %d entries, want %d", dir, found, nwant);
	for (int i = 0; i < nwant; i++) {
		struct stat st;
		const char *base;

		snprintf(path, sizeof(path), "%s/%s", dir, want[i]);
		CHECK(!lstat(path, &st) && S_ISLNK(st.st_mode),
		      "%s is not a symlink: %s", path, errstr(errno));
		CHECK(realpath(path, target), "realpath %s: %s", path,
		      errstr(errno));
		base = strrchr(target, '/');
		CHECK(base && !strcmp(base + 1, want[i]) &&
		      strstr(target, "/devices/"),
		      "%s points to %s", path, target);
		snprintf(path, sizeof(path), "%s/driver", target);
		CHECK(realpath(path, drv), "%s: %s", path, errstr(errno));
		base = strrchr(drv, '/');
		CHECK(base && !strcmp(base + 1, driver),
		      "%s is %s, want %s", path, drv, driver);
	}
out:
	closedir(d);
	return ret;
}

/*
 * ---- VFIO, the legacy way in no-IOMMU mode (egm_vfio_e2e.c,
 * egm_faultinject.c): a container, the group /dev/vfio/noiommu-<N>,
 * VFIO_NOIOMMU_IOMMU and VFIO_GROUP_GET_DEVICE_FD; the EGM region found by
 * type and subtype, with its capability; for the programs that include
 * <linux/egm.h> (which includes <linux/vfio.h>) before this file ----
 */
#ifdef VFIO_REGION_SUBTYPE_NVIDIA_EGM

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define EGM_VFIO_TYPE	((__u32)VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x10de)
/* vfio-pci's layout of the device fd: region N at N << 40. */
#define VFIO_INDEX_TO_OFFSET(i)	((uint64_t)(i) << 40)

struct vfio_dev {
	int container, group, fd;
};

#define VFIO_DEV_INIT { .container = -1, .group = -1, .fd = -1 }

/* Which step of vfio_open() failed, for messages. */
static const char *vfio_step;

static __maybe_unused int step_err(const char *step)
{
	int e = errno;

	vfio_step = step;
	return e ? -e : -EIO;
}

static __maybe_unused void vfio_close(struct vfio_dev *v)
{
	/* The device first: closing it releases the region. */
	close_fd(&v->fd);
	close_fd(&v->group);
	close_fd(&v->container);
}

/*
 * Open @bdf's vfio device through a container of its own and its no-IOMMU
 * group.  Returns 0, or -errno with vfio_step naming the step that failed
 * (opening a device that exposes the region waits for a scrub).
 */
static __maybe_unused int vfio_open(const char *bdf, struct vfio_dev *v)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[256];
	const char *group;
	ssize_t n;
	int err;

	*v = (struct vfio_dev)VFIO_DEV_INIT;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return step_err("readlink iommu_group");
	link[n] = 0;
	group = strrchr(link, '/');
	group = group ? group + 1 : link;

	v->container = open("/dev/vfio/vfio", O_RDWR);
	if (v->container < 0) {
		err = step_err("open /dev/vfio/vfio");
		goto out;
	}
	track_fd(v->container);
	errno = 0;
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		err = step_err("VFIO_GET_API_VERSION");
		goto out;
	}
	errno = 0;
	if (ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU) != 1) {
		err = step_err("VFIO_CHECK_EXTENSION(VFIO_NOIOMMU_IOMMU)");
		goto out;
	}
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", group);
	v->group = open(path, O_RDWR);
	if (v->group < 0) {
		err = step_err("open /dev/vfio/noiommu-N");
		goto out;
	}
	track_fd(v->group);
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status)) {
		err = step_err("VFIO_GROUP_GET_STATUS");
		goto out;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = EINVAL;
		err = step_err("group not viable");
		goto out;
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container)) {
		err = step_err("VFIO_GROUP_SET_CONTAINER");
		goto out;
	}
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU)) {
		err = step_err("VFIO_SET_IOMMU(VFIO_NOIOMMU_IOMMU)");
		goto out;
	}
	v->fd = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->fd < 0) {
		err = step_err("VFIO_GROUP_GET_DEVICE_FD");
		goto out;
	}
	track_fd(v->fd);
	return 0;
out:
	vfio_close(v);
	return err;
}

/* vfio_open() that records the failure. */
static __maybe_unused int vfio_open_ok(const char *bdf, struct vfio_dev *v)
{
	int err = vfio_open(bdf, v);

	if (err)
		return fail("open %s's vfio device: %s: %s", bdf, vfio_step,
			    errstr(err));
	return 0;
}

/* The EGM region of a vfio device, as VFIO_DEVICE_GET_REGION_INFO says. */
struct egm_vregion {
	unsigned int index;
	uint32_t flags;
	uint64_t size, offset;
	uint32_t argsz;		/* what the info with its capabilities takes */
	struct vfio_region_info_cap_nvidia_egm *cap;	/* malloc'ed copy */
};

static __maybe_unused void egm_vregion_free(struct egm_vregion *r)
{
	free(r->cap);
	r->cap = NULL;
}

/*
 * Region @index's info with its capability chain (malloc'ed), asking first
 * with the bare structure for the size the chain needs.
 */
static __maybe_unused struct vfio_region_info *region_info(int fd, unsigned int index)
{
	struct vfio_region_info hdr = { .argsz = sizeof(hdr), .index = index };
	struct vfio_region_info *info;

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &hdr)) {
		fail("VFIO_DEVICE_GET_REGION_INFO(index %u): %s", index,
		     errstr(errno));
		return NULL;
	}
	if (hdr.argsz < sizeof(hdr)) {
		fail("region %u: argsz %u after the call", index, hdr.argsz);
		return NULL;
	}
	info = calloc(1, hdr.argsz);
	if (!info) {
		fail("out of memory");
		return NULL;
	}
	info->argsz = hdr.argsz;
	info->index = index;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
		fail("VFIO_DEVICE_GET_REGION_INFO(index %u, argsz %u): %s",
		     index, hdr.argsz, errstr(errno));
		free(info);
		return NULL;
	}
	if (info->argsz != hdr.argsz) {
		fail("region %u: argsz %u on the second call, %u on the first",
		     index, info->argsz, hdr.argsz);
		free(info);
		return NULL;
	}
	return info;
}

/* Capability @id in @info's chain, checked to lie inside it; or NULL. */
static __maybe_unused struct vfio_info_cap_header *
find_cap(struct vfio_region_info *info, uint16_t id, size_t minsz)
{
	uint32_t off = info->cap_offset;

	for (int hops = 0; off && hops < 16; hops++) {
		struct vfio_info_cap_header *h;

		if (off < sizeof(*info) || off % 4 ||
		    off + sizeof(*h) > info->argsz)
			return NULL;
		h = (struct vfio_info_cap_header *)((char *)info + off);
		if (h->id == id)
			return off + minsz <= info->argsz ? h : NULL;
		off = h->next;
	}
	return NULL;
}

/*
 * Walk the device-specific regions (indexes from VFIO_PCI_NUM_REGIONS on)
 * for the one of type PCI_VENDOR_TYPE | NVIDIA, subtype NVIDIA_EGM.
 * Returns 1 and fills @r when there is exactly one, 0 when there is none,
 * -1 after fail().
 */
static __maybe_unused int find_egm_region(int fd, struct egm_vregion *r)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	int found = 0;

	memset(r, 0, sizeof(*r));
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &dinfo))
		return fail("VFIO_DEVICE_GET_INFO: %s", errstr(errno));
	if (!(dinfo.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    dinfo.num_regions < VFIO_PCI_NUM_REGIONS)
		return fail("VFIO_DEVICE_GET_INFO: flags %#x, %u regions; not a PCI device",
			    dinfo.flags, dinfo.num_regions);
	for (unsigned int i = VFIO_PCI_NUM_REGIONS; i < dinfo.num_regions; i++) {
		struct vfio_region_info *info = region_info(fd, i);
		struct vfio_region_info_cap_type *type;
		struct vfio_region_info_cap_nvidia_egm *cap;
		size_t len;

		if (!info)
			goto err;
		type = (void *)find_cap(info, VFIO_REGION_INFO_CAP_TYPE,
					sizeof(*type));
		if (!type || type->type != EGM_VFIO_TYPE ||
		    type->subtype != VFIO_REGION_SUBTYPE_NVIDIA_EGM) {
			free(info);
			continue;
		}
		if (found++) {
			free(info);
			fail("two EGM regions, at indexes %u and %u", r->index, i);
			goto err;
		}
		r->index = i;
		r->flags = info->flags;
		r->size = info->size;
		r->offset = info->offset;
		r->argsz = info->argsz;
		cap = (void *)find_cap(info, VFIO_REGION_INFO_CAP_NVIDIA_EGM,
				       sizeof(*cap));
		if (!cap) {
			free(info);
			fail("EGM region %u has no VFIO_REGION_INFO_CAP_NVIDIA_EGM", i);
			goto err;
		}
		len = sizeof(*cap) + (size_t)cap->nr_listed * sizeof(__u64);
		if ((char *)cap - (char *)info + len > info->argsz) {
			free(info);
			fail("EGM capability: %u entries run past argsz %u",
			     cap->nr_listed, r->argsz);
			goto err;
		}
		r->cap = malloc(len);
		if (!r->cap) {
			free(info);
			fail("out of memory");
			goto err;
		}
		memcpy(r->cap, cap, len);
		free(info);
	}
	return found;
err:
	egm_vregion_free(r);
	return -1;
}
#endif /* VFIO_REGION_SUBTYPE_NVIDIA_EGM */

/* ---- the runner ---- */

/* Shared with the watchdog, which may have to print the summary. */
struct tally { int passed, failed, remaining; };
static struct tally *tally;

static sigjmp_buf test_jmp;
/* Written by the handler, read after its siglongjmp(): with *_ONCE(). */
static sig_atomic_t in_test, caught_sig, caught_code;
static void *caught_addr;

static void harness_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (getpid() != harness_pid) {
		/* A child: die of the signal (a fault refaults and kills). */
		signal(sig, SIG_DFL);
		if (sig == SIGALRM || si->si_code <= 0)
			raise(sig);
		return;
	}
	if (!READ_ONCE(in_test))
		return;
	WRITE_ONCE(in_test, 0);
	WRITE_ONCE(caught_sig, sig);
	WRITE_ONCE(caught_code, si->si_code);
	WRITE_ONCE(caught_addr, si->si_addr);
	siglongjmp(test_jmp, 1);
}

/*
 * SIGALRM to the harness after TEST_TIMEOUT_MS; if the harness does not
 * come back (stuck in the kernel), report for it and kill it.
 */
static pid_t start_watchdog(const char *name)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sleep_ms(TEST_TIMEOUT_MS);
	kill(harness_pid, SIGALRM);
	sleep_ms(STUCK_GRACE_MS);
	say("FAIL %s: stuck for %d s, the harness is killed", name,
	    (TEST_TIMEOUT_MS + STUCK_GRACE_MS) / 1000);
	/* remaining still counts this test */
	harness_summary(tally->passed, tally->failed + tally->remaining);
	kill(harness_pid, SIGKILL);
	_exit(0);
}

/* Run one test: "ok NAME" or "FAIL NAME: REASON", counted in the tally. */
static void harness_run(const char *name, int (*fn)(void),
			void (*cleanup)(void))
{
	struct sigaction sa = { .sa_sigaction = harness_signal,
				.sa_flags = SA_SIGINFO };
	int status, ret;
	pid_t wd;

	failmsg[0] = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	wd = start_watchdog(name);

	if (!sigsetjmp(test_jmp, 1)) {
		WRITE_ONCE(in_test, 1);
		ret = fn();
		WRITE_ONCE(in_test, 0);
	} else {
		if (READ_ONCE(caught_sig) == SIGALRM)
			snprintf(failmsg, sizeof(failmsg), "timed out after %d s",
				 TEST_TIMEOUT_MS / 1000);
		else
			snprintf(failmsg, sizeof(failmsg),
				 "unexpected SIG%s (si_code %d) at %p",
				 sigabbrev_np(READ_ONCE(caught_sig)) ?: "?",
				 (int)READ_ONCE(caught_code), READ_ONCE(caught_addr));
		ret = -1;
	}
	if (wd > 0) {
		kill(wd, SIGKILL);
		waitpid(wd, &status, 0);
	}
	release_tracked();
	if (cleanup)
		cleanup();

	tally->remaining--;
	if (ret) {
		tally->failed++;
		say("FAIL %s: %s", name, failmsg[0] ? failmsg : "failed");
	} else {
		tally->passed++;
		say("ok %s", name);
	}
}

/* Call first in main(); 0, or 1 after printing why it cannot run. */
static int harness_setup(void)
{
	int i;

	setvbuf(stdout, NULL, _IONBF, 0);
	harness_pid = getpid();
	page_size = sysconf(_SC_PAGESIZE);
	for (i = 0; i < MAX_TRACK; i++)
		tracked_fd[i] = -1;
	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED) {
		say("FAIL setup: mmap: %s", errstr(errno));
		tally = NULL;
		harness_summary(0, 1);
		return 1;
	}
	memset(tally, 0, sizeof(*tally));
	return 0;
}

/* A test of a program's table, for harness_main(). */
struct harness_test {
	const char *name;
	int (*fn)(void);
	void (*cleanup)(void);	/* also after the test died; may be NULL */
};

/*
 * The whole of a main(): set up, run the tests named on the command line
 * (every test, in order, when none is), print the summary.  Returns the
 * exit status: 0 when nothing failed.
 */
static __maybe_unused int harness_main(int argc, char **argv,
				       const struct harness_test *tests,
				       unsigned int nr)
{
	unsigned int i;
	int j;

	if (harness_setup())
		return 1;
	for (i = 0; i < nr; i++) {
		bool run = argc < 2;

		for (j = 1; j < argc; j++)
			run |= !strcmp(argv[j], tests[i].name);
		tally->remaining += run;
	}
	for (i = 0; i < nr; i++) {
		bool run = argc < 2;

		for (j = 1; j < argc; j++)
			run |= !strcmp(argv[j], tests[i].name);
		if (run)
			harness_run(tests[i].name, tests[i].fn, tests[i].cleanup);
	}
	harness_summary(tally->passed, tally->failed);
	return tally->failed ? 1 : 0;
}

#endif /* EGM_HARNESS_H */
