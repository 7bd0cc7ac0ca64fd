// SPDX-License-Identifier: GPL-2.0
/*
 * egm_bench: the egm-core benchmark, run as root inside the QEMU guest that
 * scripts/egm/bench.sh boots (its /init, tools/testing/egm/bench/init,
 * loads the modules, makes /dev/dax0.0 and mounts hugetlbfs first).
 *
 *   egm_bench full     every target, timings, table, ratios and goals
 *   egm_bench check    egm-core's structural results only, asserted
 *
 * Targets, 1 GiB each: anonymous shared memory, hugetlbfs (1 GiB pages),
 * the two baselines of egm_bench_base.ko (remap_pfn_range() at mmap time;
 * one 4 KiB vmf_insert_pfn() per fault), device-dax (/dev/dax0.0,
 * align=1G) and egm-core (/dev/egm1).  For each: mmap() alone, a write to
 * every base page (first touch), munmap(), the growth of our page tables
 * (VmPTE, exact; the assertions use it) and of "PageTables:" in
 * /proc/meminfo, page faults (ru_minflt) and, where a counter exists, the
 * faults by leaf size.  Medians of REPS repetitions.  Then, for egm-core:
 * open() latency of a clean region and right after the previous tenant
 * released it, the scrub's throughput (close() of the last user until
 * dirty_bytes reads 0), and the first touch of the whole region right
 * after a release (the faults zero the chunks the scrub has not reached)
 * against the same on a clean region.
 *
 * The structural assertions (both modes) print "ok NAME" or
 * "FAIL NAME: REASON" and do not depend on timing.  Controls run the same
 * assertions on the baselines, which must fail them: an assertion that
 * cannot fail proves nothing.  The run ends with
 * "egm-bench: N passed, N failed".
 *
 * The configuration below matches bench.sh and the init script:
 * memmap=2G$0x100000000 (egm_parent instance 0, PXM 1, /dev/egm1; also the
 * baselines' range), memmap=256M$0x20000000 (instance 1, PXM 0, /dev/egm0,
 * full mode only), memmap=2G!0x180000000 (legacy pmem: /dev/dax0.0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/*
 * A store to and a load from a mapping of the memory under test, which the
 * compiler must neither drop nor merge: the access (its fault) is the
 * point.  Relaxed atomics say so without volatile.
 */
#define put_byte(p, v)		__atomic_store_n((char *)(p), (v), __ATOMIC_RELAXED)
#define get_word(p)		__atomic_load_n((const uint64_t *)(p), __ATOMIC_RELAXED)

#define KIB			1024ULL
#define MIB			(1024 * KIB)
#define GIB			(1024 * MIB)
#define TIB			(1024 * GIB)
#define BASE_PAGE		4096ULL
#define PMD_BYTES		(2 * MIB)
#define PUD_BYTES		GIB

#define EGM1_DEV		"/dev/egm1"
#define EGM1_BASE		0x100000000ULL
#define EGM1_SIZE		(2 * GIB)
#define EGM1_PARENT		"egm_parent.0"
#define EGM0_DEV		"/dev/egm0"
#define EGM0_SIZE		(256 * MIB)
#define DAX_DEV			"/dev/dax0.0"
#define HUGETLB_FILE		"/mnt/huge1g/bench"
#define DEBUGFS			"/sys/kernel/debug"
#define PAT_LIST		DEBUGFS "/x86/pat_memtype_list"
#define BENCH_FAULTS		DEBUGFS "/egm_bench/faults"
#define BENCH_SCALE		DEBUGFS "/egm_bench/scale"

/* The poisoned page of the poison case: in the second GiB of egm1. */
#define POISON_MAP_OFF		GIB
#define POISON_PAGE_OFF		(300 * MIB + 5 * BASE_PAGE)

/* The scale simulation: 1 TiB at 1 TiB, no memory behind it. */
#define SCALE_BASE		TIB
#define SCALE_SIZE		TIB

#define MAX_REPS		32
#define DASHES			"----------------"

static bool full;
static int reps;
static int passed, failed;

static __printf(2, 3) void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf(ok ? "ok " : "FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static __printf(1, 2) void out(const char *fmt, ...)
{
	va_list ap;

	printf("bench: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	double s[MAX_REPS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* A "Key:   N kB" line of /proc/meminfo, in KiB, or -1. */
static long meminfo_kb(const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * This process's page tables in KiB ("VmPTE:" of /proc/self/status): the
 * mm's own count of its PTE, PMD and PUD tables, exact and at once.
 * "PageTables:" of /proc/meminfo is system-wide and folded from per-CPU
 * counters only past a threshold or once a second, so a growth of one
 * or two 4 KiB tables may not show in it yet.
 */
static long vmpte_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPTE:", 6)) {
			v = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_file(const char *path, const char *s)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

struct leaves {
	long long pte, pmd, pud;
};

/* Fault counters by leaf size ("pte N", "pmd N", "pud N"); absent ones 0. */
static int read_leaves(const char *path, struct leaves *l)
{
	char buf[256], *p;

	memset(l, 0, sizeof(*l));
	if (!path || read_file(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "pte ");
	if (p)
		l->pte = strtoll(p + 4, NULL, 10);
	p = strstr(buf, "pmd ");
	if (p)
		l->pmd = strtoll(p + 4, NULL, 10);
	p = strstr(buf, "pud ");
	if (p)
		l->pud = strtoll(p + 4, NULL, 10);
	return 0;
}

static struct leaves leaves_sub(struct leaves a, struct leaves b)
{
	return (struct leaves){ a.pte - b.pte, a.pmd - b.pmd, a.pud - b.pud };
}

/*
 * The memory types PAT recorded for [base, base + len): "write-back" when
 * every overlapping entry says so, "none" when there is no entry, else the
 * first other type found.
 */
static const char *memtype(uint64_t base, uint64_t len, char *buf, size_t n)
{
	unsigned long long lo, hi;
	char line[256], type[64];
	bool any = false;
	FILE *f;

	snprintf(buf, n, "unreadable");
	f = fopen(PAT_LIST, "r");
	if (!f)
		return buf;
	snprintf(buf, n, "none");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %63s", &lo, &hi, type) != 3)
			continue;
		if (hi <= base || lo >= base + len)
			continue;
		if (!any || strcmp(type, "write-back"))
			snprintf(buf, n, "%s", type);
		any = true;
		if (strcmp(type, "write-back"))
			break;
	}
	fclose(f);
	return buf;
}

/* A file holding one decimal number, or -1. */
static long long read_ll(const char *path)
{
	char buf[64];

	if (read_file(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * /sys/class/egm/egm<pxm>/dirty_bytes: bytes that may still hold an
 * earlier tenant's data (whole 2 MiB chunks), or -1.
 */
static long long read_dirty_bytes(int pxm)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/egm/egm%d/dirty_bytes", pxm);
	return read_ll(path);
}

/*
 * "access_zeroed N" of /sys/kernel/debug/egm/egm<pxm>/scrub: chunks a
 * fault or a read()/write() had to zero itself, or -1.
 */
static long long read_access_zeroed(int pxm)
{
	char path[128], buf[256], *p;

	snprintf(path, sizeof(path), DEBUGFS "/egm/egm%d/scrub", pxm);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "access_zeroed ");
	return p ? strtoll(p + 14, NULL, 10) : -1;
}

/*
 * Poll dirty_bytes every 200 us (up to 300 s) until it reads 0: the
 * now_ns() of the read that saw 0, or 0 on an error or a timeout.
 */
static uint64_t wait_dirty_zero(int pxm)
{
	uint64_t t0 = now_ns(), t;
	long long d;

	for (;;) {
		d = read_dirty_bytes(pxm);
		t = now_ns();
		if (!d)
			return t;
		if (d < 0 || t - t0 > 300 * 1000000000ULL)
			return 0;
		usleep(200);
	}
}

/* Wait (up to 300 s) until /sys/kernel/debug/egm/egm<pxm>/state is clean. */
static bool wait_clean(int pxm)
{
	char path[128], buf[64];
	int i;

	snprintf(path, sizeof(path), DEBUGFS "/egm/egm%d/state", pxm);
	for (i = 0; i < 300000; i++) {
		if (!read_file(path, buf, sizeof(buf)) && !strcmp(buf, "clean\n"))
			return true;
		usleep(1000);
	}
	return false;
}

/* ---- one target --------------------------------------------------------- */

enum kind { ANON, HUGETLB, DEV };

struct target {
	const char *name;
	enum kind kind;
	const char *path;
	const char *leaves;	/* fault counters by leaf size, or NULL */
};

struct result {
	bool ok;
	double mmap_ms, touch_ms, munmap_ms;
	long pt_kb;		/* VmPTE growth, mapped and touched */
	long pt_mmap_kb;	/* VmPTE growth by mmap() alone */
	long meminfo_kb;	/* PageTables growth, mapped and touched */
	long faults;		/* ru_minflt during the touch */
	bool has_leaves;
	struct leaves lv;	/* faults by leaf size during the touch */
	bool leaves_at_mmap;	/* a leaf counter moved at mmap() time */
	bool aligned;		/* the address is aligned to 1 GiB */
	int sigbus;		/* the skipped page: 1 SIGBUS, 0 not, -1 untested */
};

static const struct target t_anon = {
	.name = "anon-shared", .kind = ANON,
};

static const struct target t_hugetlb = {
	.name = "hugetlbfs-1G", .kind = HUGETLB, .path = HUGETLB_FILE,
};

static const struct target t_remap = {
	.name = "remap_pfn_range", .kind = DEV, .path = "/dev/egm_bench_remap",
};

static const struct target t_fault = {
	.name = "4k-faults", .kind = DEV, .path = "/dev/egm_bench_fault",
	.leaves = BENCH_FAULTS,
};

static const struct target t_dax = {
	.name = "device-dax", .kind = DEV, .path = DAX_DEV,
};

static const struct target t_egm = {
	.name = "egm-core", .kind = DEV, .path = EGM1_DEV,
	.leaves = DEBUGFS "/egm/egm1/faults",
};

static int target_open(const struct target *t, size_t len)
{
	int fd;

	switch (t->kind) {
	case ANON:
		return -1;
	case HUGETLB:
		fd = open(t->path, O_RDWR | O_CREAT, 0600);
		if (fd >= 0 && ftruncate(fd, len)) {
			close(fd);
			return -2;
		}
		return fd < 0 ? -2 : fd;
	case DEV:
		fd = open(t->path, O_RDWR);
		return fd < 0 ? -2 : fd;
	}
	return -2;
}

/*
 * Closing the last user of egm1 starts a scrub of it: wait for its end,
 * so that no measurement runs next to it.
 */
static void target_close(const struct target *t, int fd)
{
	if (fd >= 0)
		close(fd);
	if (t->kind == HUGETLB)
		unlink(t->path);
	if (t == &t_egm && fd >= 0)
		wait_clean(1);
}

static void *target_mmap(const struct target *t, int fd, size_t len, off_t off)
{
	int flags = MAP_SHARED | (t->kind == ANON ? MAP_ANONYMOUS : 0);

	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);
}

/* Does touching @p get SIGBUS?  In a child, which shares the mapping. */
static int touch_sigbus(char *p)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		signal(SIGBUS, SIG_DFL);
		put_byte(p, 1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}

/*
 * One tenancy of @dev: open, map @size, write one byte per 2 MiB (so that
 * the tenancy is real), unmap, close.  On return the tenancy has ended:
 * every chunk is dirty and the background scrub is queued.  0, or -1.
 */
static int tenancy(const char *dev, size_t size)
{
	char *p;
	size_t o;
	int fd;

	fd = open(dev, O_RDWR);
	if (fd < 0)
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	for (o = 0; o < size; o += PMD_BYTES)
		put_byte(p + o, 1);
	munmap(p, size);
	close(fd);
	return 0;
}

/* A write to every base page of [@p, @p + @len): ns. */
static uint64_t touch_pages(char *p, size_t len)
{
	uint64_t t0 = now_ns();
	size_t o;

	for (o = 0; o < len; o += BASE_PAGE)
		put_byte(p + o, 1);
	return now_ns() - t0;
}

/*
 * mmap(), touch every base page but the one at @skip (or none with
 * @skip == -1), munmap(), @n times.  Medians of the times, the largest
 * page-table growth of any repetition, the fault counts of the last one.
 */
static void run(const struct target *t, size_t len, off_t off, long long skip,
		int n, struct result *r)
{
	double tm[MAX_REPS], tt[MAX_REPS], tu[MAX_REPS];
	struct leaves l0, l1, l2;
	uint64_t t0, t1, t2, t3;
	long pt0, pt1, pt2, m0, m2, f0;
	char *p;
	size_t o;
	int i, fd;

	memset(r, 0, sizeof(*r));
	r->sigbus = -1;
	fd = target_open(t, len);
	if (fd == -2) {
		out("%s: cannot open %s: %s", t->name, t->path, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		r->has_leaves = !read_leaves(t->leaves, &l0);
		m0 = meminfo_kb("PageTables");
		pt0 = vmpte_kb();
		t0 = now_ns();
		p = target_mmap(t, fd, len, off);
		t1 = now_ns();
		if (p == MAP_FAILED) {
			out("%s: mmap of %zu bytes failed: %s", t->name, len,
			    strerror(errno));
			target_close(t, fd);
			return;
		}
		pt1 = vmpte_kb();
		read_leaves(t->leaves, &l1);
		f0 = minflt();
		for (o = 0; o < len; o += BASE_PAGE)
			if ((long long)o != skip)
				put_byte(p + o, 1);
		t2 = now_ns();
		r->faults = minflt() - f0;
		pt2 = vmpte_kb();
		m2 = meminfo_kb("PageTables");
		read_leaves(t->leaves, &l2);
		if (skip >= 0 && i == n - 1)
			r->sigbus = touch_sigbus(p + skip);
		r->aligned = !((uintptr_t)p & (PUD_BYTES - 1));
		t3 = now_ns();
		munmap(p, len);
		t3 = now_ns() - t3;

		tm[i] = ms(t1 - t0);
		tt[i] = ms(t2 - t1);
		tu[i] = ms(t3);
		/* The most of any repetition: a later one may reuse tables. */
		if (!i || pt1 - pt0 > r->pt_mmap_kb)
			r->pt_mmap_kb = pt1 - pt0;
		if (!i || pt2 - pt0 > r->pt_kb)
			r->pt_kb = pt2 - pt0;
		if (!i || m2 - m0 > r->meminfo_kb)
			r->meminfo_kb = m2 - m0;
		r->lv = leaves_sub(l2, l1);
		l1 = leaves_sub(l1, l0);
		r->leaves_at_mmap = l1.pte || l1.pmd || l1.pud;
	}
	target_close(t, fd);
	r->mmap_ms = median(tm, n);
	r->touch_ms = median(tt, n);
	r->munmap_ms = median(tu, n);
	r->ok = true;
}

/*
 * run() of every target in turn, one repetition each, @n rounds: noise
 * of the host (TCG swings with whatever else runs) then hits every target
 * alike, which ratios within the run need.  Medians of the times, the
 * largest growth, the counts of the last round.
 */
static void run_interleaved(const struct target *const *t, int nt, int n,
			    struct result *res)
{
	double tm[8][MAX_REPS], tt[8][MAX_REPS], tu[8][MAX_REPS];
	long pt[8] = { 0 }, ptm[8] = { 0 }, mi[8] = { 0 };
	struct result one;
	int i, k;

	for (k = 0; k < nt; k++)
		res[k].ok = true;
	for (i = 0; i < n; i++)
		for (k = 0; k < nt; k++) {
			run(t[k], GIB, 0, -1, 1, &one);
			if (!one.ok || !res[k].ok) {
				res[k].ok = false;
				continue;
			}
			tm[k][i] = one.mmap_ms;
			tt[k][i] = one.touch_ms;
			tu[k][i] = one.munmap_ms;
			if (!i || one.pt_kb > pt[k])
				pt[k] = one.pt_kb;
			if (!i || one.pt_mmap_kb > ptm[k])
				ptm[k] = one.pt_mmap_kb;
			if (!i || one.meminfo_kb > mi[k])
				mi[k] = one.meminfo_kb;
			res[k] = one;
		}
	for (k = 0; k < nt; k++) {
		if (!res[k].ok)
			continue;
		res[k].mmap_ms = median(tm[k], n);
		res[k].touch_ms = median(tt[k], n);
		res[k].munmap_ms = median(tu[k], n);
		res[k].pt_kb = pt[k];
		res[k].pt_mmap_kb = ptm[k];
		res[k].meminfo_kb = mi[k];
	}
}

/* mmap() alone of @len, @n times: median ms; growth and leaf moves. */
static double mmap_only(const struct target *t, size_t len, int n,
			long *pt_kb, bool *leaves_moved)
{
	struct leaves l0, l1;
	double tm[MAX_REPS];
	uint64_t t0, t1;
	long pt0, pt1;
	void *p;
	int i, fd;

	*pt_kb = 0;
	*leaves_moved = false;
	fd = target_open(t, len);
	if (fd == -2)
		return -1;
	for (i = 0; i < n; i++) {
		read_leaves(t->leaves, &l0);
		pt0 = vmpte_kb();
		t0 = now_ns();
		p = target_mmap(t, fd, len, 0);
		t1 = now_ns();
		if (p == MAP_FAILED) {
			target_close(t, fd);
			return -1;
		}
		pt1 = vmpte_kb();
		read_leaves(t->leaves, &l1);
		munmap(p, len);
		tm[i] = ms(t1 - t0);
		if (pt1 - pt0 > *pt_kb)
			*pt_kb = pt1 - pt0;
		l1 = leaves_sub(l1, l0);
		*leaves_moved |= l1.pte || l1.pmd || l1.pud;
	}
	target_close(t, fd);
	return median(tm, n);
}

/* ---- the structural assertions ------------------------------------------ */

/* Nothing at mmap() time: no page-table growth, no leaf inserted. */
static bool nothing_at_mmap(long pt_kb, bool leaves_moved)
{
	return pt_kb <= 0 && !leaves_moved;
}

/* An aligned 1 GiB mapping, touched: one PUD leaf, no page table grown. */
static bool one_pud_leaf(const struct result *r)
{
	return r->ok && r->aligned && r->has_leaves && r->lv.pud == 1 &&
	       !r->lv.pmd && !r->lv.pte && r->pt_kb <= 0;
}

/*
 * 1 GiB with one poisoned base page, touched but for it: only the 2 MiB
 * block around it falls back to PTEs, all the rest is PMD leaves, and the
 * poisoned page itself gets SIGBUS.
 */
static bool falls_back_around(const struct result *r)
{
	return r->ok && r->has_leaves && !r->lv.pud &&
	       r->lv.pmd == (long long)(GIB / PMD_BYTES - 1) &&
	       r->lv.pte == (long long)(PMD_BYTES / BASE_PAGE - 1) &&
	       r->sigbus == 1;
}

static void assert_memtype(void)
{
	char mt[64];

	memtype(EGM1_BASE, EGM1_SIZE, mt, sizeof(mt));
	check(!strcmp(mt, "write-back"),
	      "memtype: egm1 [%#llx, +%#llx) is %s in %s (want write-back)",
	      EGM1_BASE, EGM1_SIZE, mt, PAT_LIST);
}

static const size_t mmap_sizes[] = {
	BASE_PAGE, PMD_BYTES + BASE_PAGE, 256 * MIB, GIB, 2 * GIB
};

static void assert_nothing_at_mmap(void)
{
	bool moved;
	double t;
	long pt;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mmap_sizes); i++) {
		t = mmap_only(&t_egm, mmap_sizes[i], 3, &pt, &moved);
		check(t >= 0 && nothing_at_mmap(pt, moved),
		      "egm-nothing-at-mmap-%zuk: mmap %s, PT %+ld KiB, leaves %s",
		      (size_t)(mmap_sizes[i] / KIB), t >= 0 ? "done" : "FAILED", pt,
		      moved ? "moved" : "unchanged");
	}
}

static void describe(const char *what, const struct result *r)
{
	out("%s: %s1G-aligned, PT %+ld KiB (%+ld at mmap), %ld faults, leaves %lld/%lld/%lld%s",
	    what, r->aligned ? "" : "not ", r->pt_kb, r->pt_mmap_kb, r->faults,
	    r->lv.pte, r->lv.pmd, r->lv.pud,
	    r->sigbus < 0 ? "" : r->sigbus ? ", SIGBUS on the poisoned page" :
	    ", no SIGBUS on the poisoned page");
}

/* The aligned 1 GiB egm mapping: PUD leaves, no page table. */
static void check_pud(struct result *r)
{
	describe("egm-core 1 GiB", r);
	check(one_pud_leaf(r),
	      "egm-pud-leaf: leaves %lld/%lld/%lld, PT %+ld KiB (want 0/0/1, <= 0)",
	      r->lv.pte, r->lv.pmd, r->lv.pud, r->pt_kb);
}

/*
 * Where a tenant leaves its pattern: page offsets spread over egm1, the
 * last 2 MiB too, none on the page the poison case poisons.
 */
static const size_t pattern_offs[] = {
	0, PMD_BYTES - BASE_PAGE, PMD_BYTES, 511 * MIB + 3 * BASE_PAGE,
	GIB - BASE_PAGE, GIB, GIB + 777 * MIB + 9 * BASE_PAGE,
	EGM1_SIZE - PMD_BYTES, EGM1_SIZE - MIB + 5 * BASE_PAGE,
	EGM1_SIZE - BASE_PAGE,
};

#define PATTERN			0xa5a5a5a5a5a5a5a5ULL

/*
 * A tenant of egm1 that leaves data: map it whole, fill the pages at
 * pattern_offs[] with 0xa5, read one word of each back, unmap, close.
 * 0, or -1 (also when the pattern did not read back).
 */
static int leave_pattern(void)
{
	const char *w;
	int fd, ret = 0;
	char *p;
	size_t i;

	fd = open(EGM1_DEV, O_RDWR);
	if (fd < 0)
		return -1;
	p = mmap(NULL, EGM1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(pattern_offs); i++) {
		memset(p + pattern_offs[i], 0xa5, BASE_PAGE);
		w = (p + pattern_offs[i] + BASE_PAGE - 8);
		if (get_word(w) != PATTERN)
			ret = -1;
	}
	munmap(p, EGM1_SIZE);
	close(fd);
	return ret;
}

/*
 * open() after a release does not wait for the zeroing, and the new tenant
 * reads zeros only.  A tenant leaves a pattern and closes; the next open()
 * must return while dirty_bytes is still > 0, read right after it returns
 * and before anything is mapped (the scrub of 2 GiB takes a second and
 * more; up to 3 attempts in case it was done already).  Then, in that
 * same open, every 64-bit word of the pattern's pages and one word per
 * base page (at an offset in the page that moves from page to page) must
 * read 0.
 */
static void assert_after_release(void)
{
	unsigned long long words = 0, bad = 0, bad_off = 0, bad_val = 0, v;
	long long dirty = -1, z0, zeroed = -1;
	const char *err = NULL;
	const char *w;
	int attempt, fd = -1;
	size_t i, o;
	char *p;

	for (attempt = 1; ; attempt++) {
		if (!wait_clean(1)) {
			err = "egm1 never became clean";
			break;
		}
		if (leave_pattern()) {
			err = "the tenant could not leave its pattern";
			break;
		}
		fd = open(EGM1_DEV, O_RDWR);
		if (fd < 0) {
			err = strerror(errno);
			break;
		}
		dirty = read_dirty_bytes(1);
		if (dirty || attempt == 3)
			break;
		close(fd);
		fd = -1;
	}
	if (err)
		check(false, "open_after_release_no_wait: %s", err);
	else if (dirty < 0)
		check(false,
		      "open_after_release_no_wait: cannot read /sys/class/egm/egm1/dirty_bytes");
	else
		check(dirty > 0,
		      "open_after_release_no_wait: open() returned with %lld of %llu bytes dirty, attempt %d of 3 (want > 0)",
		      dirty, EGM1_SIZE, attempt);
	if (fd < 0) {
		check(false, "first_touch_after_release_zero: no open of egm1 (%s)",
		      err);
		wait_clean(1);
		return;
	}

	z0 = read_access_zeroed(1);
	p = mmap(NULL, EGM1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		check(false, "first_touch_after_release_zero: mmap of egm1 failed: %s",
		      strerror(errno));
		close(fd);
		wait_clean(1);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(pattern_offs); i++)
		for (o = pattern_offs[i]; o < pattern_offs[i] + BASE_PAGE; o += 8) {
			w = (p + o);
			v = get_word(w);
			words++;
			if (v && !bad++) {
				bad_off = o;
				bad_val = v;
			}
		}
	for (o = 0; o < EGM1_SIZE; o += BASE_PAGE) {
		w = (p + o + (o / BASE_PAGE * 8) % BASE_PAGE);
		v = get_word(w);
		words++;
		if (v && !bad++) {
			bad_off = w - p;
			bad_val = v;
		}
	}
	if (z0 >= 0)
		zeroed = read_access_zeroed(1) - z0;
	munmap(p, EGM1_SIZE);
	close(fd);
	wait_clean(1);
	if (bad)
		check(false,
		      "first_touch_after_release_zero: %llu of %llu words not zero, the first %#llx at offset %#llx",
		      bad, words, bad_val, bad_off);
	else
		check(true,
		      "first_touch_after_release_zero: %llu words read, all zero; the faults zeroed %lld of %llu chunks themselves",
		      words, zeroed, EGM1_SIZE / PMD_BYTES);
}

/* Must come last: poison is never cleared. */
static void assert_poison(struct result *r)
{
	char pa[32];
	double share;

	snprintf(pa, sizeof(pa), "%#llx",
		 EGM1_BASE + POISON_MAP_OFF + POISON_PAGE_OFF);
	if (write_file(DEBUGFS "/egm_parent/" EGM1_PARENT "/poison", pa)) {
		check(false, "egm-poison-fallback: cannot inject poison at %s", pa);
		return;
	}
	/*
	 * The report zaps the block around the page from a work item, after
	 * an SRCU grace period: let it pass, or it may zap a leaf the touch
	 * below just made, which then faults twice.
	 */
	sleep(1);
	run(&t_egm, GIB, POISON_MAP_OFF, POISON_PAGE_OFF, 1, r);
	describe("egm-core 1 GiB, one poisoned page", r);
	share = 100.0 * (r->lv.pud * PUD_BYTES + r->lv.pmd * PMD_BYTES) / GIB;
	check(falls_back_around(r),
	      "egm-poison-fallback: pud %lld pmd %lld pte %lld, %.3f%% huge (want 0/511/511, SIGBUS)",
	      r->lv.pud, r->lv.pmd, r->lv.pte, share);
}

/*
 * The scale simulation: register 1 TiB (no memory behind it) through the
 * bench module, which is a parent without a frontend, and measure what the
 * kernel spent.  The poison bitmap is the only large allocation and the
 * only vmalloc() one: one bit per base page is 32 MiB for 1 TiB.
 */
static void run_scale(void)
{
	long free0, free1, vm0, vm1, slab0, slab1, vm2;
	unsigned long long reg_ns = 0, unreg_ns = 0;
	char buf[256], *p;
	double bits;

	free0 = meminfo_kb("MemFree");
	vm0 = meminfo_kb("VmallocUsed");
	slab0 = meminfo_kb("Slab");
	snprintf(buf, sizeof(buf), "%#llx %#llx", SCALE_BASE, SCALE_SIZE);
	if (write_file(BENCH_SCALE, buf)) {
		check(false, "scale-bitmap: registering 1 TiB at %#llx failed: %s",
		      SCALE_BASE, strerror(errno));
		return;
	}
	free1 = meminfo_kb("MemFree");
	vm1 = meminfo_kb("VmallocUsed");
	slab1 = meminfo_kb("Slab");
	write_file(BENCH_SCALE, "0");
	if (!read_file(BENCH_SCALE, buf, sizeof(buf))) {
		p = strstr(buf, "register_ns ");
		if (p)
			reg_ns = strtoull(p + 12, NULL, 10);
		p = strstr(buf, "unregister_ns ");
		if (p)
			unreg_ns = strtoull(p + 14, NULL, 10);
	}
	sleep(1);	/* the region is freed after an RCU grace period */
	vm2 = meminfo_kb("VmallocUsed");

	bits = (vm1 - vm0) * KIB * 8.0 / (SCALE_SIZE / BASE_PAGE);
	out("1 TiB: register %.3f ms, unregister %.3f ms", reg_ns / 1e6,
	    unreg_ns / 1e6);
	out("1 TiB: %ld KiB (vmalloc %ld, slab %+ld); vmalloc %ld KiB back after unregister",
	    free0 - free1, vm1 - vm0, slab1 - slab0, vm1 - vm2);
	out("1 TiB: poison bitmap %.4f bits per 4 KiB page (%ld KiB for %llu pages)",
	    bits, vm1 - vm0, SCALE_SIZE / BASE_PAGE);
	check(bits >= 1.0 && bits < 1.01,
	      "scale-bitmap: 1 TiB costs %ld KiB of vmalloc, %.4f bits per base page (want 1)",
	      vm1 - vm0, bits);
}

/* Controls: the same assertions must fail on the baselines. */
static void controls(void)
{
	struct result r;
	bool moved;
	double t;
	long pt;

	t = mmap_only(&t_remap, GIB, 1, &pt, &moved);
	check(t >= 0 && !nothing_at_mmap(pt, moved),
	      "control-remap: nothing-at-mmap rejects remap_pfn_range (PT %+ld KiB at mmap)",
	      pt);
	run(&t_fault, GIB, 0, -1, 1, &r);
	describe("control 4 KiB faults", &r);
	check(r.ok && !one_pud_leaf(&r),
	      "control-4k: pud-leaf rejects 4 KiB faults (pte %lld, PT %+ld KiB)",
	      r.lv.pte, r.pt_kb);
	check(r.ok && !falls_back_around(&r),
	      "control-4k-poison: the fallback assertion rejects 4 KiB faults");
}

/* ---- timings (full mode) ------------------------------------------------ */

struct memset_arg {
	char *p;
	size_t len;
	pthread_barrier_t *start;
};

static void *memset_thread(void *arg)
{
	struct memset_arg *a = arg;

	pthread_barrier_wait(a->start);
	memset(a->p, 0, a->len);
	return NULL;
}

/* Multi-threaded memset() of a prefaulted @len buffer: median GiB/s. */
static double memset_gibs(size_t len, int nthreads, int n)
{
	struct memset_arg args[16];
	pthread_t th[16];
	pthread_barrier_t start;
	double v[MAX_REPS];
	uint64_t t0;
	char *p;
	int i, k;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, len);
	for (i = 0; i < n; i++) {
		pthread_barrier_init(&start, NULL, nthreads + 1);
		for (k = 0; k < nthreads; k++) {
			args[k].p = p + len / nthreads * k;
			args[k].len = len / nthreads;
			args[k].start = &start;
			pthread_create(&th[k], NULL, memset_thread, &args[k]);
		}
		t0 = now_ns();
		pthread_barrier_wait(&start);
		for (k = 0; k < nthreads; k++)
			pthread_join(th[k], NULL);
		v[i] = (double)len / GIB / ((now_ns() - t0) / 1e9);
		pthread_barrier_destroy(&start);
	}
	munmap(p, len);
	return median(v, n);
}

/*
 * Scrub of a whole region: from the close() of the last user (every chunk
 * turns dirty and the background scrub starts) until dirty_bytes reads 0,
 * polled every 200 us.  (open() does not wait for the scrub: it cannot
 * time it.)  Median GiB/s.
 */
static double scrub_gibs(const char *dev, int pxm, size_t size, int n)
{
	double v[MAX_REPS];
	uint64_t t0, t1;
	int i, fd;

	for (i = 0; i < n; i++) {
		if (!wait_clean(pxm))
			return -1;
		fd = open(dev, O_RDWR);
		if (fd < 0)
			return -1;
		t0 = now_ns();
		close(fd);
		t1 = wait_dirty_zero(pxm);
		if (!t1)
			return -1;
		v[i] = (double)size / GIB / ((t1 - t0) / 1e9);
	}
	wait_clean(pxm);
	return median(v, n);
}

/*
 * open() right after the previous tenant released the region (tenancy()),
 * while its chunks are dirty; clean again before each repetition, so that
 * they are independent.  Median ms; *@dirty: the repetitions whose open()
 * returned with dirty_bytes > 0.
 */
static double open_after_release_ms(const char *dev, int pxm, size_t size,
				    int n, int *dirty)
{
	double v[MAX_REPS];
	uint64_t t0;
	int i, fd;

	*dirty = 0;
	for (i = 0; i < n; i++) {
		if (!wait_clean(pxm) || tenancy(dev, size))
			return -1;
		t0 = now_ns();
		fd = open(dev, O_RDWR);
		v[i] = ms(now_ns() - t0);
		if (fd < 0)
			return -1;
		if (read_dirty_bytes(pxm) > 0)
			(*dirty)++;
		close(fd);
	}
	wait_clean(pxm);
	return median(v, n);
}

/*
 * First touch (a write to every base page) of a whole region mapped right
 * after the previous tenant released it (tenancy()), whose faults zero the
 * chunks the background scrub has not reached, against the same on a clean
 * region; one of each per round, @n rounds.  Medians in ms; @zeroed[i]:
 * the growth of access_zeroed in round i's touch after the release, -1
 * when unreadable.  0, or -1.
 */
static int first_touch_after_release(const char *dev, int pxm, size_t size,
				     int n, double *dirty_ms, double *clean_ms,
				     long long *zeroed)
{
	double td[MAX_REPS], tc[MAX_REPS];
	char *p;
	long long z0;
	int i, k, fd;
	uint64_t t;

	for (i = 0; i < n; i++)
		for (k = 0; k < 2; k++) {
			/* k == 1: right after a release. */
			if (!wait_clean(pxm) || (k && tenancy(dev, size)))
				return -1;
			fd = open(dev, O_RDWR);
			if (fd < 0)
				return -1;
			p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 fd, 0);
			if (p == MAP_FAILED) {
				close(fd);
				return -1;
			}
			z0 = read_access_zeroed(pxm);
			t = touch_pages(p, size);
			if (k) {
				td[i] = ms(t);
				zeroed[i] = z0 < 0 ? -1 : read_access_zeroed(pxm) - z0;
			} else {
				tc[i] = ms(t);
			}
			munmap(p, size);
			close(fd);
		}
	wait_clean(pxm);
	*dirty_ms = median(td, n);
	*clean_ms = median(tc, n);
	return 0;
}

/* open() of a clean region: median ms. */
static double open_ms(const char *dev, int pxm, int n)
{
	double v[MAX_REPS];
	uint64_t t0;
	int i, fd;

	for (i = 0; i < n; i++) {
		if (!wait_clean(pxm))
			return -1;
		t0 = now_ns();
		fd = open(dev, O_RDWR);
		v[i] = ms(now_ns() - t0);
		if (fd < 0)
			return -1;
		close(fd);
	}
	/* The last close started a scrub. */
	wait_clean(pxm);
	return median(v, n);
}

static const char *verdict(bool met)
{
	return met ? "met" : "MISSED";
}

static void row(const char *name, const struct result *r, const char *mt)
{
	char lv[64] = "-";

	if (!r->ok) {
		out("| %-16s | failed, see above |", name);
		return;
	}
	if (r->has_leaves)
		snprintf(lv, sizeof(lv), "%lld/%lld/%lld", r->lv.pte, r->lv.pmd,
			 r->lv.pud);
	out("| %-16s | %9.3f | %11.3f | %9.3f | %8ld | %8ld | %7ld | %-13s | %-10s |",
	    name, r->mmap_ms, r->touch_ms, r->munmap_ms, r->pt_kb,
	    r->meminfo_kb, r->faults, lv, mt);
}

static void print_ratio(const char *name, const struct result *r,
			const struct result *egm)
{
	if (!r->ok || !egm->ok)
		return;
	out("%-16s / egm-core: mmap %7.2fx  touch %6.2fx  munmap %7.2fx",
	    name, r->mmap_ms / egm->mmap_ms, r->touch_ms / egm->touch_ms,
	    r->munmap_ms / egm->munmap_ms);
}

static void full_run(void)
{
	static const size_t sizes[] = { 256 * MIB, GIB, 2 * GIB };
	const struct target *lat[] = { &t_egm, &t_remap, &t_fault, &t_dax };
	const struct target *const dev_targets[] = {
		&t_remap, &t_fault, &t_dax, &t_egm
	};
	struct result dev[ARRAY_SIZE(dev_targets)];
	struct result anon, huge, remap, fault, dax, egm, poison;
	double lat_ms[ARRAY_SIZE(lat)][ARRAY_SIZE(sizes)];
	double o_small, o_big, o_rel, scrub, mset, share, flat, ft_rel, ft_clean;
	long long zeroed[3];
	char mt_egm[64], mt_dax[64], buf[64], list[96];
	int rel_dirty, ft_ok;
	unsigned long long dax_base = 0;
	bool moved;
	size_t i, k, n;
	long pt;

	if (!read_file("/sys/bus/dax/devices/dax0.0/resource", buf, sizeof(buf)))
		dax_base = strtoull(buf, NULL, 0);

	out("reps %d, 1 GiB per target, medians in ms; remap, 4k, dax and egm interleaved",
	    reps);
	run(&t_anon, GIB, 0, -1, reps, &anon);
	run(&t_hugetlb, GIB, 0, -1, reps, &huge);
	/* The targets the goals compare, in turn. */
	run_interleaved(dev_targets, ARRAY_SIZE(dev_targets), reps, dev);
	remap = dev[0];
	fault = dev[1];
	dax = dev[2];
	egm = dev[3];
	check_pud(&egm);

	memtype(EGM1_BASE, GIB, mt_egm, sizeof(mt_egm));
	if (dax_base)
		memtype(dax_base, GIB, mt_dax, sizeof(mt_dax));
	else
		snprintf(mt_dax, sizeof(mt_dax), "unknown");

	out("| %-16s | %9s | %11s | %9s | %8s | %8s | %7s | %-13s | %-10s |",
	    "target", "mmap ms", "touch ms", "munmap ms", "VmPTE", "PgTables",
	    "faults", "pte/pmd/pud", "memtype");
	out("| %.16s | %.9s | %.11s | %.9s | %.8s | %.8s | %.7s | %.13s | %.10s |",
	    DASHES, DASHES, DASHES, DASHES, DASHES, DASHES, DASHES, DASHES,
	    DASHES);
	row(t_anon.name, &anon, "RAM");
	row(t_hugetlb.name, &huge, "RAM");
	row(t_remap.name, &remap, mt_egm);
	row(t_fault.name, &fault, mt_egm);
	row(t_dax.name, &dax, mt_dax);
	row(t_egm.name, &egm, mt_egm);
	print_ratio(t_anon.name, &anon, &egm);
	print_ratio(t_hugetlb.name, &huge, &egm);
	print_ratio(t_remap.name, &remap, &egm);
	print_ratio(t_fault.name, &fault, &egm);
	print_ratio(t_dax.name, &dax, &egm);

	for (k = 0; k < ARRAY_SIZE(lat); k++)
		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			lat_ms[k][i] = lat[k] == &t_dax && sizes[i] > GIB ? -1 :
				mmap_only(lat[k], sizes[i], 11, &pt, &moved);
	/* device-dax maps only multiples of its 1 GiB alignment, up to 1 GiB. */
	out("mmap() alone, median of 11, ms:   256 MiB     1 GiB     2 GiB");
	for (k = 0; k < ARRAY_SIZE(lat); k++) {
		char col[ARRAY_SIZE(sizes)][16];

		for (i = 0; i < ARRAY_SIZE(sizes); i++)
			if (lat_ms[k][i] < 0)
				snprintf(col[i], sizeof(col[i]), "refused");
			else
				snprintf(col[i], sizeof(col[i]), "%.3f", lat_ms[k][i]);
		out("  %-30s %9s %9s %9s", lat[k]->name, col[0], col[1], col[2]);
	}

	o_small = open_ms(EGM0_DEV, 0, 7);
	o_big = open_ms(EGM1_DEV, 1, 7);
	out("open() of a clean region, median of 7: 256 MiB %.3f ms, 2 GiB %.3f ms",
	    o_small, o_big);
	o_rel = open_after_release_ms(EGM1_DEV, 1, EGM1_SIZE, 7, &rel_dirty);
	out("open() of 2 GiB right after release, median of 7: %.3f ms, dirty in %d of 7",
	    o_rel, rel_dirty);
	scrub = scrub_gibs(EGM1_DEV, 1, EGM1_SIZE, 3);
	mset = memset_gibs(EGM1_SIZE, sysconf(_SC_NPROCESSORS_ONLN), 3);
	out("scrub of 2 GiB: %.2f GiB/s; userspace memset of 2 GiB on %ld threads: %.2f GiB/s",
	    scrub, sysconf(_SC_NPROCESSORS_ONLN), mset);
	ft_ok = !first_touch_after_release(EGM1_DEV, 1, EGM1_SIZE,
					   ARRAY_SIZE(zeroed), &ft_rel,
					   &ft_clean, zeroed);
	if (ft_ok) {
		out("first touch of 2 GiB after release vs clean: %.3f ms vs %.3f ms: %.2fx",
		    ft_rel, ft_clean, ft_rel / ft_clean);
		for (i = 0, n = 0; i < ARRAY_SIZE(zeroed); i++)
			n += snprintf(list + n, sizeof(list) - n, "%s%+lld",
				      i ? ", " : "", zeroed[i]);
		out("first touch after release, by round: access_zeroed %s of %llu chunks",
		    list, EGM1_SIZE / PMD_BYTES);
	} else {
		out("first touch of 2 GiB after release vs clean: failed");
	}

	assert_memtype();
	assert_nothing_at_mmap();
	assert_after_release();
	run_scale();
	assert_poison(&poison);
	share = 100.0 * (poison.lv.pud * PUD_BYTES + poison.lv.pmd * PMD_BYTES) / GIB;

	flat = lat_ms[0][2] / lat_ms[0][0];
	out("goal mmap <= 1/20 of remap: egm %.3f ms, remap %.3f ms: 1/%.0f, %s",
	    egm.mmap_ms, remap.mmap_ms, remap.mmap_ms / egm.mmap_ms,
	    verdict(egm.mmap_ms * 20 <= remap.mmap_ms));
	out("goal mmap flat: egm 256M %.3f, 1G %.3f, 2G %.3f ms: %.2fx (remap %.2fx), %s",
	    lat_ms[0][0], lat_ms[0][1], lat_ms[0][2], flat,
	    lat_ms[1][2] / lat_ms[1][0], verdict(flat <= 2));
	out("goal first touch <= 1.1x device-dax: egm %.3f ms, dax %.3f ms: %.2fx, %s",
	    egm.touch_ms, dax.touch_ms, egm.touch_ms / dax.touch_ms,
	    verdict(dax.ok && egm.touch_ms <= 1.1 * dax.touch_ms));
	out("goal munmap <= 1/5 of remap: egm %.3f ms, remap %.3f ms: 1/%.1f, %s",
	    egm.munmap_ms, remap.munmap_ms, remap.munmap_ms / egm.munmap_ms,
	    verdict(egm.munmap_ms * 5 <= remap.munmap_ms));
	out("goal 0 KiB page tables: egm %+ld KiB (remap %+ld, 4k %+ld, dax %+ld), %s",
	    egm.pt_kb, remap.pt_kb, fault.pt_kb, dax.pt_kb,
	    verdict(egm.ok && egm.pt_kb <= 0));
	out("goal scrub >= 0.8x userspace memset: %.2f vs %.2f GiB/s: %.2fx, %s",
	    scrub, mset, scrub / mset, verdict(scrub >= 0.8 * mset));
	out("goal clean open() <= 1 ms: 256 MiB %.3f ms, 2 GiB %.3f ms, %s",
	    o_small, o_big,
	    verdict(o_small >= 0 && o_big >= 0 && o_small <= 1 && o_big <= 1));
	out("goal open after release <= 1 ms: %.3f ms (clean open %.3f ms), %s",
	    o_rel, o_big, verdict(o_rel >= 0 && o_rel <= 1));
	out("goal >= 99.8%% of poisoned 1 GiB on huge leaves: %.3f%%, %s",
	    share, verdict(share >= 99.8));
}

int main(int argc, char **argv)
{
	struct result r;

	if (argc != 2 || (strcmp(argv[1], "full") && strcmp(argv[1], "check"))) {
		fprintf(stderr, "usage: %s full|check\n", argv[0]);
		return 2;
	}
	full = !strcmp(argv[1], "full");
	reps = full ? 5 : 2;
	setvbuf(stdout, NULL, _IOLBF, 0);

	out("mode %s, page tables before: %ld KiB (ours %ld KiB)", argv[1],
	    meminfo_kb("PageTables"), vmpte_kb());
	if (!wait_clean(1)) {
		check(false, "setup: /dev/egm1 never became clean");
		goto done;
	}
	if (full) {
		full_run();
	} else {
		assert_memtype();
		assert_nothing_at_mmap();
		run(&t_egm, GIB, 0, -1, reps, &r);
		check_pud(&r);
		controls();
		assert_after_release();
		run_scale();
		assert_poison(&r);
	}
done:
	printf("egm-bench: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
