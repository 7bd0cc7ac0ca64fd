// SPDX-License-Identifier: GPL-2.0
/*
 * egm_chaos: a bounded, seeded chaos test of egm-core, run as root inside
 * the QEMU guest that scripts/egm/qemu-chaos-test.sh boots (its /init,
 * tools/testing/egm/chaos/init, loads egm_core.ko and egm_parent.ko first).
 *
 *   gcc -static -O2 -Wall -Wextra -I include/uapi -o egm_chaos egm_chaos.c
 *   egm_chaos [SEED]
 *
 * For EGM_CHAOS_SECONDS (default 90) several processes work at once:
 *
 *   tenants    open /dev/egm0 and /dev/egm1 (blocking or O_NONBLOCK),
 *              mmap windows of all sizes, write and check tags, madvise
 *              (MADV_DONTNEED), mprotect, munmap whole or in part, fork a
 *              reader, close the file early, read the retired-page list
 *   resetter   GPU resets of a parent (both parents of egm1 at times)
 *   poisoner   runtime memory errors (the parents' debugfs "poison")
 *   lifecycle  unbind and rebind of one parent, of every parent of a
 *              region, revoke, rmmod egm_core (must be refused), rmmod and
 *              reload of egm_parent
 *
 * and the main process watches the kernel log and every actor.  Then the
 * regions are brought back, opened fresh, the modules are unloaded and
 * kmemleak scans.  Invariants, each a counted check:
 *
 *   isolation  a tenant reads zero wherever it has not written: never a
 *              byte of an earlier tenancy (every tenancy writes tags that
 *              name it, so a stale word says whose it is)
 *   retention  what a tenant wrote stays, across resets, zaps, madvise,
 *              munmap/mmap, fork, parents leaving and joining, until its
 *              tenancy ends (a poisoned page or a revoked region excepted)
 *   sigbus     every SIGBUS is explained: BUS_MCEERR_AR on a page reported
 *              poisoned, BUS_ADRERR on a region revoked or left by its
 *              last parent
 *   open       every open() returns within OPEN_BOUND_MS, with an errno
 *              the state explains
 *   mmap, reset, poison, bind, ioctl  calls succeed, or fail as the state
 *              explains
 *   rmmod      egm_core never unloads while a region exists
 *   bounded    no actor stays in one operation longer than OP_BOUND_MS
 *   kernel-log no kernel report (WARNING, BUG, KASAN, UBSAN, lockdep,
 *              hung task, ...) in the kernel log, checked every few seconds
 *   fresh, retired, unload, leaks  at the end: each region opens and reads
 *              zero, the retired list is consistent, the modules unload,
 *              and a kmemleak scan finds nothing
 *
 * Output: the seed, the operations per kind, "ok NAME"/"FAIL NAME: ..."
 * per phase, "FAIL chaos-CHECK: ..." for each failed check (the first
 * few of each kind), and "egm-chaos: N passed, N failed" counting checks.
 * The seed fixes each actor's sequence of choices; the interleaving is
 * the scheduler's, so a failure may need a few runs with its seed.
 *
 * The configuration matches tools/testing/egm/chaos/init and the QEMU
 * command line (as for egm_e2e.c): memmap=256M$0x60000000
 * memmap=1G$0x140000000, egm_parent with base=0x60000000,0x140000000,
 * 0x140000000 size=0x10000000,0x40000000,0x40000000 pxm=0,1,1
 * retired=0x60110000.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/egm.h>

#define CHILD_TIMEOUT_MS	(10 * 1000)

#include "egm_harness.h"

/* ---- configuration: must match the QEMU command line and chaos/init ---- */

#define NR_DEVS		2
#define NR_INST		3
#define NR_ZONES	5
#define ZONE_LEN	0x10000ULL	/* 64 KiB of slots */
#define NR_SLOTS	64		/* one u64 per KiB of a zone */
#define FW_RETIRE_SIZE	0x10000ULL
#define MAX_POISON	12		/* runtime reports per region, all runs */

struct egm_dev {
	const char *name, *path;
	uint64_t base, size;
	int inst[2], nr_inst;		/* its egm_parent instances */
	uint64_t fw_retired;		/* offset of a firmware block, or ~0 */
	uint64_t zones[NR_ZONES];	/* offsets of the slot zones */
};

/*
 * Zones sit at the ends of the regions, across 2 MiB boundaries and in
 * the middle, clear of egm0's firmware-retired block (+0x110000).
 */
static const struct egm_dev devs[NR_DEVS] = {
	{ "egm0", "/dev/egm0", 0x60000000ULL, 0x10000000ULL, { 0 }, 1,
	  0x110000ULL,
	  { 0x0, 0x1f8000, 0x3ff8000, 0x8000000, 0xfff0000 } },
	{ "egm1", "/dev/egm1", 0x140000000ULL, 0x40000000ULL, { 1, 2 }, 2,
	  ~0ULL,
	  { 0x0, 0x1f8000, 0x10000000, 0x1fff8000, 0x3fff0000 } },
};

#define PARENT_DRIVER	"/sys/bus/platform/drivers/egm_parent"
#define DEBUGFS_PARENT	"/sys/kernel/debug/egm_parent"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define MODULE_DIR	"/lib/modules"

#define OPEN_BOUND_MS	(60 * 1000)	/* an open() returns within this */
#define OP_BOUND_MS	(90 * 1000)	/* any operation of an actor */
#define REBIND_MS	(45 * 1000)	/* a freed range can be bound again */
#define SETTLE_MS	(60 * 1000)
#define MAX_WIN		3
#define NR_TENANTS	4
#define FAIL_LINES	8		/* FAIL lines printed per check */

/* ---- what the processes share ---- */

/* Operations, counted per kind and printed at the end. */
enum op {
	OP_open,
	OP_open_blocking,
	OP_open_busy,
	OP_open_again,
	OP_open_gone,
	OP_open_intr,
	OP_tenancy,
	OP_close_early,
	OP_mmap,
	OP_mmap_refused,
	OP_munmap,
	OP_munmap_part,
	OP_touch,
	OP_madvise,
	OP_madvise_refused,
	OP_mprotect,
	OP_fork,
	OP_ioctl,
	OP_sigbus_poison,
	OP_sigbus_revoked,
	OP_reset,
	OP_reset_pair,
	OP_poison,
	OP_revoke,
	OP_unbind_one,
	OP_unbind_all,
	OP_bind,
	OP_bind_busy,
	OP_rmmod_core_refused,
	OP_rmmod_parent,
	OP_rmmod_parent_busy,
	OP_insmod_parent,
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	[OP_open] = "open",
	[OP_open_blocking] = "open_blocking",
	[OP_open_busy] = "open_busy",
	[OP_open_again] = "open_again",
	[OP_open_gone] = "open_gone",
	[OP_open_intr] = "open_intr",
	[OP_tenancy] = "tenancy",
	[OP_close_early] = "close_early",
	[OP_mmap] = "mmap",
	[OP_mmap_refused] = "mmap_refused",
	[OP_munmap] = "munmap",
	[OP_munmap_part] = "munmap_part",
	[OP_touch] = "touch",
	[OP_madvise] = "madvise",
	[OP_madvise_refused] = "madvise_refused",
	[OP_mprotect] = "mprotect",
	[OP_fork] = "fork",
	[OP_ioctl] = "ioctl",
	[OP_sigbus_poison] = "sigbus_poison",
	[OP_sigbus_revoked] = "sigbus_revoked",
	[OP_reset] = "reset",
	[OP_reset_pair] = "reset_pair",
	[OP_poison] = "poison",
	[OP_revoke] = "revoke",
	[OP_unbind_one] = "unbind_one",
	[OP_unbind_all] = "unbind_all",
	[OP_bind] = "bind",
	[OP_bind_busy] = "bind_busy",
	[OP_rmmod_core_refused] = "rmmod_core_refused",
	[OP_rmmod_parent] = "rmmod_parent",
	[OP_rmmod_parent_busy] = "rmmod_parent_busy",
	[OP_insmod_parent] = "insmod_parent",
};

/* Invariants: each verification is a counted check. */
enum chk {
	CHK_isolation,
	CHK_retention,
	CHK_sigbus,
	CHK_open,
	CHK_mmap,
	CHK_reset,
	CHK_poison,
	CHK_bind,
	CHK_ioctl,
	CHK_rmmod,
	CHK_bounded,
	CHK_kernel_log,
	CHK_fresh,
	CHK_retired,
	CHK_unload,
	CHK_leaks,
	NR_CHKS
};

static const char *const chk_names[NR_CHKS] = {
	[CHK_isolation] = "isolation",
	[CHK_retention] = "retention",
	[CHK_sigbus] = "sigbus",
	[CHK_open] = "open",
	[CHK_mmap] = "mmap",
	[CHK_reset] = "reset",
	[CHK_poison] = "poison",
	[CHK_bind] = "bind",
	[CHK_ioctl] = "ioctl",
	[CHK_rmmod] = "rmmod",
	[CHK_bounded] = "bounded",
	[CHK_kernel_log] = "kernel_log",
	[CHK_fresh] = "fresh",
	[CHK_retired] = "retired",
	[CHK_unload] = "unload",
	[CHK_leaks] = "leaks",
};

struct actor {
	char name[16];
	pid_t pid;
	char op[48];			/* what it does now */
	long long since;		/* ms, when it began that */
};

#define NR_ACTORS	(NR_TENANTS + 3)

struct shared {
	int stop;
	uint32_t next_tenancy;
	long long ops[NR_OPS];
	int passed[NR_CHKS], failed[NR_CHKS];
	/*
	 * Lifecycle of each region: begin is bumped before an operation that
	 * may revoke it (unbinding its last parent, revoke, rmmod
	 * egm_parent), end after it returned.  A tenancy that began with
	 * end == E and sees end != E, or begin != end, may have been revoked.
	 */
	uint32_t life_begin[NR_DEVS], life_end[NR_DEVS];
	int revoked[NR_DEVS];
	/* Bumped before and after every bind, unbind, rmmod and insmod. */
	uint32_t life_ops;
	/* Pages ever reported poisoned, recorded before the report. */
	int nr_poison[NR_DEVS];
	uint64_t poison[NR_DEVS][MAX_POISON];
	long long open_max_ms, open_total_ms, opens_timed;
	struct actor actors[NR_ACTORS];
};

static struct shared *sh;
static uint64_t seed;
static const char *parent_params;

static void count_op(enum op op)
{
	__atomic_add_fetch(&sh->ops[op], 1, __ATOMIC_RELAXED);
}

/* One counted check; the first FAIL_LINES failures of a kind are printed. */
static bool check(enum chk c, bool ok, const char *fmt, ...) __printf(3, 4);
static bool check(enum chk c, bool ok, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	int n;

	if (ok) {
		__atomic_add_fetch(&sh->passed[c], 1, __ATOMIC_RELAXED);
		return true;
	}
	n = __atomic_add_fetch(&sh->failed[c], 1, __ATOMIC_RELAXED);
	if (n > FAIL_LINES)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("FAIL chaos-%s: %s%s", chk_names[c], msg,
	    n == FAIL_LINES ? " (further failures of this kind not shown)" : "");
	return false;
}

static void pass(enum chk c)
{
	__atomic_add_fetch(&sh->passed[c], 1, __ATOMIC_RELAXED);
}

static int total(const int *v)
{
	int t = 0;

	for (int i = 0; i < NR_CHKS; i++)
		t += v[i];
	return t;
}

static void harness_summary(int passed, int failed)
{
	(void)passed;
	/* Phases that could not run count once each, on top of the checks. */
	say("egm-chaos: %d passed, %d failed", total(sh->passed),
	    total(sh->failed) + failed);
}

static struct actor *me;
static long long t_start;

/* A lifecycle event, timestamped, for reproducing what went wrong. */
static void event(const char *fmt, ...) __printf(1, 2);
static void event(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("egm-chaos: %6.2f s: %s", (now_ms() - t_start) / 1000.0, msg);
}

static void doing(const char *fmt, ...) __printf(1, 2);
static void doing(const char *fmt, ...)
{
	va_list ap;

	if (!me)
		return;
	va_start(ap, fmt);
	vsnprintf(me->op, sizeof(me->op), fmt, ap);
	va_end(ap);
	__atomic_store_n(&me->since, now_ms(), __ATOMIC_RELEASE);
}

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE);
}

/* ---- random numbers: xorshift64*, one stream per actor ---- */

static uint64_t rng;

static void rng_seed(uint64_t s)
{
	rng = s * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	if (!rng)
		rng = 1;
}

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n). */
static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(int percent)
{
	return (int)below(100) < percent;
}

static void nap(long lo_ms, long hi_ms)
{
	sleep_ms(lo_ms + (long)below(hi_ms - lo_ms + 1));
}

/* ---- the parents and the modules ---- */

static void inst_name(int i, char *buf, size_t size)
{
	snprintf(buf, size, "egm_parent.%d", i);
}

static bool inst_bound(int i)
{
	char path[128];

	snprintf(path, sizeof(path), PARENT_DRIVER "/egm_parent.%d", i);
	return exists(path);
}

/* Is any parent of region @d bound (so that it exists)? */
static bool has_parent(int d)
{
	for (int k = 0; k < devs[d].nr_inst; k++)
		if (inst_bound(devs[d].inst[k]))
			return true;
	return false;
}

static int inst_write(int i, const char *file, const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), DEBUGFS_PARENT "/egm_parent.%d/%s", i, file);
	return write_text(path, text);
}

static int inst_bind(int i, bool bind)
{
	char name[32];

	inst_name(i, name, sizeof(name));
	return write_text(bind ? PARENT_DRIVER "/bind" : PARENT_DRIVER "/unbind",
			  name);
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return exists(path);
}

static int rmmod(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static int insmod(const char *file, const char *params)
{
	char path[160];
	int fd, err = 0;

	snprintf(path, sizeof(path), MODULE_DIR "/%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params ?: "", 0))
		err = -errno;
	close(fd);
	return err;
}

/* Does /proc/iomem show a claim of an EGM region ("egm-pxmN")? */
static bool claims_left(void)
{
	char buf[16384];

	if (read_text("/proc/iomem", buf, sizeof(buf)) < 0)
		return false;
	return !!strstr(buf, "egm-pxm");
}

static void life_begin(int d)
{
	__atomic_add_fetch(&sh->life_begin[d], 1, __ATOMIC_ACQ_REL);
}

static void life_end(int d)
{
	__atomic_add_fetch(&sh->life_end[d], 1, __ATOMIC_ACQ_REL);
}

/* Has the region changed hands (or is it changing) since end was @e? */
static bool life_changed(int d, uint32_t e)
{
	return __atomic_load_n(&sh->life_end[d], __ATOMIC_ACQUIRE) != e ||
	       __atomic_load_n(&sh->life_begin[d], __ATOMIC_ACQUIRE) != e ||
	       __atomic_load_n(&sh->revoked[d], __ATOMIC_ACQUIRE);
}

static bool page_poisoned(int d, uint64_t off)
{
	uint64_t page = off & ~(uint64_t)(page_size - 1);
	int n = __atomic_load_n(&sh->nr_poison[d], __ATOMIC_ACQUIRE);

	if (devs[d].fw_retired != ~0ULL &&
	    (off & ~(FW_RETIRE_SIZE - 1)) == devs[d].fw_retired)
		return true;
	for (int i = 0; i < n; i++)
		if (sh->poison[d][i] == page)
			return true;
	return false;
}

/* ---- tenants ---- */

struct window {
	char *p;
	uint64_t off, len;
	bool ro;
};

struct tenancy {
	int d, fd;
	uint32_t id, life;
	struct window win[MAX_WIN];
	int nwin;
	uint64_t written[NR_ZONES];	/* slot bitmaps */
	bool dead;			/* revoke seen: end at once */
};

static uint64_t slot_off(int d, int z, int s)
{
	return devs[d].zones[z] + s * 1024 + (s * 8) % 1024;
}

/* A word that names its tenancy, region, zone and slot. */
static uint64_t tag(const struct tenancy *t, int z, int s)
{
	return 0xe6c5ULL << 48 | (uint64_t)(t->id & 0xffffff) << 24 |
	       (uint64_t)t->d << 16 | (uint64_t)z << 8 | (uint64_t)s;
}

static const char *describe(uint64_t v)
{
	static char buf[96];

	if (v >> 48 == 0xe6c5)
		snprintf(buf, sizeof(buf),
			 "0x%016" PRIx64 " (tenancy %" PRIu64 ", egm%" PRIu64
			 " zone %" PRIu64 " slot %" PRIu64 ")",
			 v, (v >> 24) & 0xffffff, (v >> 16) & 0xff,
			 (v >> 8) & 0xff, v & 0xff);
	else
		snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	return buf;
}

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;
static volatile sig_atomic_t bus_code;
static void *volatile bus_addr;

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!bus_armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	bus_armed = 0;
	bus_code = si->si_code;
	bus_addr = si->si_addr;
	siglongjmp(bus_jmp, 1);
}

static void bus_setup(void)
{
	struct sigaction sa = { .sa_sigaction = bus_handler,
				.sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* The window and region offset of a faulting address, or NULL. */
static struct window *window_of(struct tenancy *t, const void *addr,
				uint64_t *off)
{
	for (int i = 0; i < t->nwin; i++) {
		struct window *w = &t->win[i];

		if ((const char *)addr >= w->p && (const char *)addr < w->p + w->len) {
			*off = w->off + ((const char *)addr - w->p);
			return w;
		}
	}
	return NULL;
}

/* Judge a SIGBUS taken at bus_addr; true when the tenancy may go on. */
static bool judge_sigbus(struct tenancy *t, const char *what)
{
	uint64_t off = 0;
	bool poisoned, revoked;

	if (!window_of(t, bus_addr, &off)) {
		check(CHK_sigbus, false, "%s: SIGBUS at %p outside every window",
		      what, bus_addr);
		t->dead = true;
		return false;
	}
	poisoned = page_poisoned(t->d, off);
	revoked = life_changed(t->d, t->life);
	if (bus_code == BUS_MCEERR_AR && poisoned) {
		pass(CHK_sigbus);
		count_op(OP_sigbus_poison);
		return true;
	}
	if (bus_code == BUS_ADRERR && revoked) {
		pass(CHK_sigbus);
		count_op(OP_sigbus_revoked);
		t->dead = true;
		return false;
	}
	check(CHK_sigbus, false,
	      "%s: %s tenancy %u: SIGBUS si_code %d at +0x%" PRIx64 " (page %s, region %s)",
	      what, devs[t->d].name, t->id, (int)bus_code, off,
	      poisoned ? "reported poisoned" : "never reported poisoned",
	      revoked ? "revoked or left" : "live");
	t->dead = true;
	return false;
}

static bool slot_usable(const struct tenancy *t, const struct window *w,
			int z, int s, uint64_t *off)
{
	*off = slot_off(t->d, z, s);
	return *off >= w->off && *off + 8 <= w->off + w->len &&
	       !page_poisoned(t->d, *off);
}

struct scan {
	int bad_iso, bad_ret, seen;
	uint64_t value, off, want;	/* the first mismatch */
};

/* Read (after tagging a few, with @write) every usable slot of a window. */
static void scan_slots(struct tenancy *t, struct window *w, bool write,
		       struct scan *r)
{
	volatile uint64_t *q;
	uint64_t off, v;

	for (int z = 0; z < NR_ZONES; z++)
		for (int s = 0; s < NR_SLOTS; s++) {
			bool mine;

			if (!slot_usable(t, w, z, s, &off))
				continue;
			q = (volatile uint64_t *)(w->p + (off - w->off));
			if (write && !w->ro && chance(20)) {
				*q = tag(t, z, s);
				t->written[z] |= 1ULL << s;
			}
			v = *q;
			r->seen++;
			mine = t->written[z] >> s & 1;
			if (v == (mine ? tag(t, z, s) : 0))
				continue;
			if (!r->bad_iso && !r->bad_ret) {
				r->value = v;
				r->off = off;
				r->want = mine ? tag(t, z, s) : 0;
			}
			if (mine)
				r->bad_ret++;
			else
				r->bad_iso++;
		}
}

/*
 * Read a page reported poisoned, if the window shows one: SIGBUS with
 * BUS_MCEERR_AR (judge_sigbus()), or zero when the report went to an
 * earlier region of the PXM (nobody writes those pages).
 */
static void probe_poison(struct tenancy *t, struct window *w, struct scan *r)
{
	int n = __atomic_load_n(&sh->nr_poison[t->d], __ATOMIC_ACQUIRE);
	uint64_t fw = devs[t->d].fw_retired, v;

	for (int i = -1; i < n; i++) {
		uint64_t off = i < 0 ? fw : sh->poison[t->d][i];

		if (off == ~0ULL || off < w->off || off >= w->off + w->len)
			continue;
		v = *(volatile uint64_t *)(w->p + (off - w->off));
		r->seen++;
		if (v && !r->bad_iso++ && !r->bad_ret) {
			r->value = v;
			r->off = off;
			r->want = 0;
		}
		return;
	}
}

/*
 * Check every usable slot a window shows: zero where this tenancy has not
 * written, its tag where it has.  With @write, first tag a few more slots.
 */
static void touch(struct tenancy *t, struct window *w, bool write,
		  const char *what)
{
	struct scan r = { 0 };

	if (sigsetjmp(bus_jmp, 1)) {
		judge_sigbus(t, what);
		return;
	}
	bus_armed = 1;
	scan_slots(t, w, write, &r);
	if (!write && chance(30))
		probe_poison(t, w, &r);
	bus_armed = 0;
	if (!r.seen)
		return;
	check(CHK_isolation, !r.bad_iso,
	      "%s: %s tenancy %u reads %s at +0x%" PRIx64 " where it never wrote (%d slots)",
	      what, devs[t->d].name, t->id, describe(r.value), r.off,
	      r.bad_iso);
	check(CHK_retention, !r.bad_ret,
	      "%s: %s tenancy %u lost its data: +0x%" PRIx64
	      " holds %s, want 0x%016" PRIx64 " (%d slots)",
	      what, devs[t->d].name, t->id, r.off, describe(r.value),
	      r.want, r.bad_ret);
}

static int t_open(struct tenancy *t, int d)
{
	bool blocking = chance(40);
	long long t0 = now_ms(), dt;
	int fd, e;

	memset(t, 0, sizeof(*t));
	t->d = d;
	t->fd = -1;
	t->life = __atomic_load_n(&sh->life_end[d], __ATOMIC_ACQUIRE);
	doing("open %s%s", devs[d].path, blocking ? "" : " O_NONBLOCK");
	for (;;) {
		fd = open(devs[d].path, O_RDWR | O_CLOEXEC |
			  (blocking ? 0 : O_NONBLOCK));
		e = errno;
		if (fd >= 0 || e != EAGAIN || now_ms() - t0 > OPEN_BOUND_MS ||
		    stopping())
			break;
		count_op(OP_open_again);
		sleep_ms(20 + below(60));
	}
	dt = now_ms() - t0;
	check(CHK_open, dt <= OPEN_BOUND_MS, "open %s took %lld ms",
	      devs[d].path, dt);
	if (fd >= 0) {
		__atomic_add_fetch(&sh->open_total_ms, dt, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->opens_timed, 1, __ATOMIC_RELAXED);
		if (dt > __atomic_load_n(&sh->open_max_ms, __ATOMIC_RELAXED))
			__atomic_store_n(&sh->open_max_ms, dt, __ATOMIC_RELAXED);
		count_op(blocking ? OP_open_blocking : OP_open);
		count_op(OP_tenancy);
		t->fd = fd;
		t->id = __atomic_add_fetch(&sh->next_tenancy, 1, __ATOMIC_RELAXED);
		pass(CHK_open);
		return 0;
	}
	switch (e) {
	case EBUSY:
		count_op(OP_open_busy);
		pass(CHK_open);
		break;
	case EAGAIN:
		check(CHK_open, stopping(), "open %s: still EAGAIN after %lld ms",
		      devs[d].path, dt);
		break;
	case ENOENT:
	case ENXIO:
	case ENODEV:
	case EINTR:
		/* The device went, or the region was revoked under us. */
		count_op(e == EINTR ? OP_open_intr : OP_open_gone);
		check(CHK_open, life_changed(d, t->life) || !has_parent(d),
		      "open %s: %s with its region live", devs[d].path,
		      errstr(e));
		break;
	default:
		check(CHK_open, false, "open %s: %s", devs[d].path, errstr(e));
	}
	return -1;
}

static void t_end(struct tenancy *t)
{
	doing("end %s tenancy", devs[t->d].name);
	for (int i = 0; i < t->nwin; i++)
		munmap(t->win[i].p, t->win[i].len);
	t->nwin = 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

static void t_drop_window(struct tenancy *t, int i)
{
	t->win[i] = t->win[--t->nwin];
}

static void t_mmap(struct tenancy *t)
{
	const struct egm_dev *dv = &devs[t->d];
	uint64_t z = dv->zones[below(NR_ZONES)], off, len, a;
	struct window *w;
	void *p;

	if (t->fd < 0 || t->nwin == MAX_WIN)
		return;
	switch (below(4)) {
	case 0:		/* just the zone */
		off = z;
		len = ZONE_LEN;
		break;
	case 1:		/* the 2 MiB blocks around it */
	case 2:		/* ... or 8 MiB */
		a = below(2) ? 2ULL << 20 : 8ULL << 20;
		off = z & ~(a - 1);
		len = ((z + ZONE_LEN + a - 1) & ~(a - 1)) - off;
		break;
	default:	/* the whole region: PUD leaves on egm1 */
		off = 0;
		len = dv->size;
	}
	doing("mmap %s +0x%" PRIx64 " len 0x%" PRIx64, dv->name, off, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, off);
	if (p == MAP_FAILED) {
		int e = errno;

		count_op(OP_mmap_refused);
		check(CHK_mmap, e == ENODEV && life_changed(t->d, t->life),
		      "mmap %s +0x%" PRIx64 " len 0x%" PRIx64 ": %s",
		      dv->name, off, len, errstr(e));
		if (e == ENODEV)
			t->dead = true;
		return;
	}
	pass(CHK_mmap);
	count_op(OP_mmap);
	w = &t->win[t->nwin++];
	*w = (struct window){ .p = p, .off = off, .len = len };
	touch(t, w, true, "first touch");
	count_op(OP_touch);
}

static void t_munmap(struct tenancy *t)
{
	int i = below(t->nwin);
	struct window *w = &t->win[i];
	uint64_t keep;

	if (!t->nwin)
		return;
	doing("munmap %s +0x%" PRIx64, devs[t->d].name, w->off);
	keep = (w->len / 2) & ~(uint64_t)(page_size - 1);
	if (keep && chance(50)) {
		/* The tail goes: a split, through any huge leaf. */
		munmap(w->p + keep, w->len - keep);
		w->len = keep;
		count_op(OP_munmap_part);
		touch(t, w, false, "after a partial munmap");
		return;
	}
	munmap(w->p, w->len);
	t_drop_window(t, i);
	count_op(OP_munmap);
}

static void t_madvise(struct tenancy *t)
{
	struct window *w = &t->win[below(t->nwin)];

	if (!t->nwin)
		return;
	doing("madvise %s +0x%" PRIx64, devs[t->d].name, w->off);
	/* VM_PFNMAP: 6.12 refuses MADV_DONTNEED with EINVAL; either way, keep. */
	if (madvise(w->p, w->len, MADV_DONTNEED)) {
		count_op(OP_madvise_refused);
		check(CHK_mmap, errno == EINVAL, "madvise(MADV_DONTNEED): %s",
		      errstr(errno));
	} else {
		count_op(OP_madvise);
	}
	touch(t, w, true, "after madvise");
}

static void t_mprotect(struct tenancy *t)
{
	struct window *w = &t->win[below(t->nwin)];

	if (!t->nwin)
		return;
	doing("mprotect %s +0x%" PRIx64, devs[t->d].name, w->off);
	w->ro = !w->ro;
	if (mprotect(w->p, w->len, w->ro ? PROT_READ : PROT_READ | PROT_WRITE)) {
		check(CHK_mmap, false, "mprotect: %s", errstr(errno));
		w->ro = !w->ro;
		return;
	}
	count_op(OP_mprotect);
	touch(t, w, true, "after mprotect");
}

/* A child reads what the tenancy wrote through the inherited mappings. */
static void t_fork(struct tenancy *t)
{
	int status, err;
	pid_t pid;

	if (!t->nwin)
		return;
	doing("fork a reader of %s", devs[t->d].name);
	pid = fork();
	if (pid < 0) {
		check(CHK_mmap, false, "fork: %s", errstr(errno));
		return;
	}
	if (!pid) {
		for (int i = 0; i < t->nwin && !t->dead; i++)
			touch(t, &t->win[i], false, "forked child");
		_exit(0);
	}
	count_op(OP_fork);
	err = wait_child(pid, OP_BOUND_MS / 2, &status);
	if (err) {
		check(CHK_bounded, false, "forked reader of %s stuck", devs[t->d].name);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

static void t_ioctl(struct tenancy *t)
{
	struct egm_retired_pages *rp;
	struct egm_info info = { .argsz = sizeof(info) };
	size_t room = 64;
	bool ok = true;

	if (t->fd < 0)
		return;
	doing("ioctl %s", devs[t->d].name);
	count_op(OP_ioctl);
	if (ioctl(t->fd, EGM_GET_INFO, &info)) {
		check(CHK_ioctl, false, "EGM_GET_INFO: %s", errstr(errno));
		return;
	}
	rp = malloc(sizeof(*rp) + room * 8);
	if (!rp)
		return;
	/* Entries the kernel does not write keep this pattern. */
	memset(rp, 0xa5, sizeof(*rp) + room * 8);
	rp->argsz = sizeof(*rp) + room * 8;
	rp->flags = 0;
	if (ioctl(t->fd, EGM_GET_RETIRED_PAGES, rp)) {
		check(CHK_ioctl, errno == ENOSPC, "EGM_GET_RETIRED_PAGES: %s",
		      errstr(errno));
		free(rp);
		return;
	}
	for (uint32_t i = 0; i < rp->count && ok; i++)
		ok = !(rp->offsets[i] % page_size) &&
		     rp->offsets[i] < devs[t->d].size &&
		     (!i || rp->offsets[i] > rp->offsets[i - 1]);
	check(CHK_ioctl, rp->count <= room && ok,
	      "EGM_GET_RETIRED_PAGES on %s: count %u, entries not all valid offsets (filled fewer than counted?)",
	      devs[t->d].name, rp->count);
	free(rp);
}

static void tenant(int idx)
{
	struct tenancy t;

	bus_setup();
	while (!stopping()) {
		int d = below(NR_DEVS);

		nap(0, 150);
		if (t_open(&t, d))
			continue;
		for (int n = 3 + below(20); n > 0 && !t.dead && !stopping() &&
		     !life_changed(d, t.life); n--) {
			int r = below(100);

			if (r < 25) {
				t_mmap(&t);
			} else if (r < 55 && t.nwin) {
				struct window *w = &t.win[below(t.nwin)];

				doing("touch %s +0x%" PRIx64, devs[d].name, w->off);
				touch(&t, w, true, "touch");
				count_op(OP_touch);
			} else if (r < 63) {
				t_madvise(&t);
			} else if (r < 70) {
				t_mprotect(&t);
			} else if (r < 78) {
				t_munmap(&t);
			} else if (r < 86) {
				t_fork(&t);
			} else if (r < 90 && t.fd >= 0 && t.nwin) {
				/* The mappings carry the tenancy on. */
				close(t.fd);
				t.fd = -1;
				count_op(OP_close_early);
			} else if (r < 95) {
				t_ioctl(&t);
			} else {
				nap(10, 100);
			}
		}
		/*
		 * A last look at everything, then the tenancy ends; after a
		 * revoke, often on purpose: SIGBUS (BUS_ADRERR), or the data.
		 */
		for (int i = 0; i < t.nwin && !t.dead &&
		     (!life_changed(d, t.life) || chance(50)); i++)
			touch(&t, &t.win[i], false, "before the end");
		t_end(&t);
	}
	(void)idx;
}

/* ---- disruptors ---- */

static int bound_inst_of(int d)
{
	int n = devs[d].nr_inst, first = below(n);

	for (int k = 0; k < n; k++) {
		int i = devs[d].inst[(first + k) % n];

		if (inst_bound(i))
			return i;
	}
	return -1;
}

static uint32_t life_ops(void)
{
	return __atomic_load_n(&sh->life_ops, __ATOMIC_ACQUIRE);
}

static void life_op(void)
{
	__atomic_add_fetch(&sh->life_ops, 1, __ATOMIC_ACQ_REL);
}

/*
 * A write to a parent's debugfs fails only when the lifecycle took the
 * parent away meanwhile: ENOENT, or ENODEV, ENXIO or EIO from a file
 * being removed under the writer.
 */
static void parent_write(enum chk c, uint32_t ops, int i, const char *file,
			 const char *text)
{
	int err = inst_write(i, file, text);

	check(c, !err || ((err == -ENOENT || err == -ENODEV || err == -ENXIO ||
			   err == -EIO) && (life_ops() != ops || ops & 1)),
	      "write %s to egm_parent.%d/%s: %s", text, i, file, errstr(err));
}

/* The lifecycle's calls: other actors see that something is changing. */
static int lc_bind(int i, bool bind)
{
	int err;

	life_op();
	err = inst_bind(i, bind);
	life_op();
	return err;
}

static int lc_rmmod(const char *name)
{
	int err;

	life_op();
	err = rmmod(name);
	life_op();
	return err;
}

static int lc_insmod(const char *file, const char *params)
{
	int err;

	life_op();
	err = insmod(file, params);
	life_op();
	return err;
}

static void reset_one(uint32_t ops, int i, bool begin)
{
	parent_write(CHK_reset, ops, i, "reset", begin ? "1" : "0");
}

static void resetter(void)
{
	while (!stopping()) {
		uint32_t ops = life_ops();
		int d = below(NR_DEVS), i = bound_inst_of(d), j = -1;

		nap(50, 400);
		if (i < 0)
			continue;
		doing("reset egm_parent.%d", i);
		if (devs[d].nr_inst == 2 && chance(25)) {
			j = devs[d].inst[0] == i ? devs[d].inst[1] : devs[d].inst[0];
			if (!inst_bound(j))
				j = -1;
		}
		reset_one(ops, i, true);
		if (j >= 0)
			reset_one(ops, j, true);
		count_op(j >= 0 ? OP_reset_pair : OP_reset);
		nap(10, 300);
		if (j >= 0 && chance(50)) {
			reset_one(ops, j, false);
			j = -1;
		}
		reset_one(ops, i, false);
		if (j >= 0)
			reset_one(ops, j, false);
	}
}

static void poisoner(void)
{
	while (!stopping()) {
		int d = below(NR_DEVS), i, n, z, s;
		uint32_t ops;
		uint64_t off;
		char pa[32];

		nap(300, 2000);
		ops = life_ops();
		n = __atomic_load_n(&sh->nr_poison[d], __ATOMIC_ACQUIRE);
		i = bound_inst_of(d);
		if (i < 0 || n >= MAX_POISON)
			continue;
		if (chance(30)) {
			z = below(NR_ZONES);
			s = below(NR_SLOTS);
			off = slot_off(d, z, s);
		} else {
			off = below(devs[d].size);
		}
		off &= ~(uint64_t)(page_size - 1);
		sh->poison[d][n] = off;
		__atomic_store_n(&sh->nr_poison[d], n + 1, __ATOMIC_RELEASE);
		snprintf(pa, sizeof(pa), "0x%" PRIx64, devs[d].base + off);
		doing("poison %s +0x%" PRIx64, devs[d].name, off);
		parent_write(CHK_poison, ops, i, "poison", pa);
		count_op(OP_poison);
	}
}

/* Who maps or holds open an EGM file or device, and what /proc/iomem says. */
static void dump_holders(void)
{
	char path[600], buf[16384], link[256];
	struct dirent *de, *fe;
	DIR *proc, *fds;

	if (read_text("/proc/iomem", buf, sizeof(buf)) > 0)
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			if (strstr(l, "egm"))
				say("egm-chaos: holders: /proc/iomem: %s", l);
	proc = opendir("/proc");
	while (proc && (de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/maps", de->d_name);
		if (read_text(path, buf, sizeof(buf)) > 0)
			for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
				if (strstr(l, "egm"))
					say("egm-chaos: holders: pid %s maps %s",
					    de->d_name, l);
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		fds = opendir(path);
		while (fds && (fe = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", de->d_name,
				 fe->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (strstr(link, "egm"))
				say("egm-chaos: holders: pid %s fd %s -> %s",
				    de->d_name, fe->d_name, link);
		}
		if (fds)
			closedir(fds);
	}
	if (proc)
		closedir(proc);
	say("egm-chaos: holders: (end; no line above = no process holds one)");
}

/* Bind instance @i, retrying while its range is still claimed. */
static void bind_back(int i)
{
	long long end = now_ms() + REBIND_MS;
	int err = 0;

	doing("bind egm_parent.%d", i);
	while (!inst_bound(i)) {
		err = lc_bind(i, true);
		if (!err || inst_bound(i))
			break;
		count_op(OP_bind_busy);
		if (now_ms() > end)
			break;
		sleep_ms(200);
	}
	count_op(OP_bind);
	if (!check(CHK_bind, inst_bound(i),
		   "egm_parent.%d does not bind within %d s: %s", i,
		   REBIND_MS / 1000, errstr(err)))
		dump_holders();
}

/* Every parent of region @d leaves, then each comes back. */
static void recycle(int d, bool revoke)
{
	int i;

	life_begin(d);
	if (revoke) {
		i = bound_inst_of(d);
		__atomic_store_n(&sh->revoked[d], 1, __ATOMIC_RELEASE);
		if (i >= 0) {
			event("revoke %s via egm_parent.%d", devs[d].name, i);
			doing("revoke via egm_parent.%d", i);
			parent_write(CHK_bind, life_ops(), i, "revoke", "1");
			count_op(OP_revoke);
			nap(200, 1500);
		}
	}
	event("unbind every parent of %s", devs[d].name);
	for (int k = 0; k < devs[d].nr_inst; k++) {
		i = devs[d].inst[k];
		if (!inst_bound(i))
			continue;
		doing("unbind egm_parent.%d", i);
		check(CHK_bind, !lc_bind(i, false), "unbind egm_parent.%d failed", i);
	}
	count_op(OP_unbind_all);
	__atomic_store_n(&sh->revoked[d], 0, __ATOMIC_RELEASE);
	nap(0, 500);
	for (int k = 0; k < devs[d].nr_inst; k++)
		bind_back(devs[d].inst[k]);
	life_end(d);
}

/* egm_core must never go while egm_parent, or a region, holds it. */
static void try_rmmod_core(const char *why)
{
	int err;

	doing("rmmod egm_core");
	err = lc_rmmod("egm_core");
	if (!err) {
		check(CHK_rmmod, false, "egm_core unloaded while %s", why);
		lc_insmod("egm_core.ko", "");
		return;
	}
	count_op(OP_rmmod_core_refused);
	check(CHK_rmmod, err == -EWOULDBLOCK || err == -EBUSY,
	      "rmmod egm_core while %s: %s", why, errstr(err));
}

static void reload_parent(void)
{
	int d = below(NR_DEVS), fd, err;

	/* A region a gone parent leaves behind: ours, held by this file. */
	fd = open(devs[d].path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	event("rmmod egm_parent%s%s", fd >= 0 ? ", holding " : "",
	      fd >= 0 ? devs[d].path : "");
	for (int k = 0; k < NR_DEVS; k++)
		life_begin(k);
	doing("rmmod egm_parent");
	err = lc_rmmod("egm_parent");
	if (err) {
		count_op(OP_rmmod_parent_busy);
		check(CHK_rmmod, err == -EWOULDBLOCK || err == -EBUSY,
		      "rmmod egm_parent: %s", errstr(err));
	} else {
		count_op(OP_rmmod_parent);
		if (fd >= 0)
			try_rmmod_core("an open file holds a region of a gone parent");
	}
	if (fd >= 0)
		close(fd);
	if (!module_loaded("egm_parent")) {
		event("insmod egm_parent");
		doing("insmod egm_parent");
		err = lc_insmod("egm_parent.ko", parent_params);
		count_op(OP_insmod_parent);
		check(CHK_bind, !err, "insmod egm_parent %s: %s", parent_params,
		      errstr(err));
	}
	/* Instances whose range was still claimed did not bind: now. */
	for (int i = 0; i < NR_INST; i++)
		bind_back(i);
	for (int k = 0; k < NR_DEVS; k++)
		life_end(k);
}

static void lifecycle(void)
{
	while (!stopping()) {
		int r = below(100), d = below(NR_DEVS), i;

		nap(1000, 3500);
		if (stopping())
			break;
		if (!module_loaded("egm_parent")) {
			reload_parent();
			continue;
		}
		if (r < 30) {
			/* One parent of egm1 leaves: the region stays if one is left. */
			i = devs[1].inst[below(2)];
			if (!inst_bound(i))
				continue;
			if (!inst_bound(devs[1].inst[0]) ||
			    !inst_bound(devs[1].inst[1])) {
				recycle(1, false);
				continue;
			}
			event("unbind egm_parent.%d, the other parent of egm1 stays", i);
			doing("unbind egm_parent.%d", i);
			check(CHK_bind, !lc_bind(i, false),
			      "unbind egm_parent.%d failed", i);
			count_op(OP_unbind_one);
			nap(100, 1500);
			bind_back(i);
		} else if (r < 50) {
			recycle(d, false);
		} else if (r < 65) {
			recycle(d, true);
		} else if (r < 85) {
			try_rmmod_core("egm_parent is loaded");
		} else {
			reload_parent();
		}
	}
}

/* ---- the run ---- */

static int kmsg_fd = -1;

/* Lines the kernel prints when something went wrong (EGM_KERNEL_REPORTS). */
static const char *const report_words[] = {
	"WARNING:", "BUG:", "Oops", "Call Trace:", "KASAN", "UBSAN",
	"kmemleak", "possible circular locking", "possible recursive locking",
	"inconsistent lock state", "lock held when returning",
	"sleeping function called from invalid context", "INFO: task",
	"blocked for more than", "RCU stall", "rcu_sched self-detected",
	"Kernel panic", "general protection fault", "list_add corruption",
	"list_del corruption",
};

/* Read the new kernel log; count the reports, print the first few. */
static int kmsg_reports(void)
{
	static int shown;
	char rec[4096];
	int found = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		char *msg;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		for (size_t k = 0; k < ARRAY_SIZE(report_words); k++)
			if (strstr(msg, report_words[k])) {
				if (shown++ < 20)
					say("egm-chaos: kernel report: %s", msg);
				found++;
				break;
			}
	}
	return found;
}

static void start_actor(int k, const char *name, void (*fn)(void), int idx)
{
	struct actor *a = &sh->actors[k];
	pid_t pid;

	snprintf(a->name, sizeof(a->name), "%s", name);
	a->since = now_ms();
	pid = spawn();
	if (pid < 0) {
		check(CHK_bounded, false, "fork %s: %s", name, errstr(errno));
		return;
	}
	if (!pid) {
		me = a;
		rng_seed(seed + 7919ULL * (k + 1));
		if (fn)
			fn();
		else
			tenant(idx);
		_exit(0);
	}
	a->pid = pid;
}

static void print_ops(void)
{
	char line[1024];
	int n = 0;

	for (int i = 0; i < NR_OPS; i++) {
		n += snprintf(line + n, sizeof(line) - n, "%s%s %lld",
			      n ? ", " : "", op_names[i], sh->ops[i]);
		if (n > 200 || i == NR_OPS - 1) {
			say("egm-chaos: ops: %s", line);
			n = 0;
		}
	}
	if (sh->opens_timed)
		say("egm-chaos: opens took %lld ms on average, %lld ms at most",
		    sh->open_total_ms / sh->opens_timed, sh->open_max_ms);
}

static int run_seconds(void)
{
	const char *s = getenv("EGM_CHAOS_SECONDS");
	int v = s ? atoi(s) : 0;

	return v > 0 ? v : 90;
}

static int phase_chaos(void)
{
	long long end = now_ms() + run_seconds() * 1000LL, next_log = 0;
	int status, stuck = 0;

	sh->stop = 0;
	for (int k = 0; k < NR_TENANTS; k++) {
		char name[16];

		snprintf(name, sizeof(name), "tenant%d", k);
		start_actor(k, name, NULL, k);
	}
	start_actor(NR_TENANTS, "resetter", resetter, 0);
	start_actor(NR_TENANTS + 1, "poisoner", poisoner, 0);
	start_actor(NR_TENANTS + 2, "lifecycle", lifecycle, 0);

	while (now_ms() < end) {
		sleep_ms(250);
		for (int k = 0; k < NR_ACTORS; k++) {
			struct actor *a = &sh->actors[k];
			long long since = __atomic_load_n(&a->since, __ATOMIC_ACQUIRE);

			if (a->pid > 0 && now_ms() - since > OP_BOUND_MS &&
			    !(stuck & 1 << k)) {
				stuck |= 1 << k;
				check(CHK_bounded, false, "%s: '%s' for %lld s",
				      a->name, a->op, (now_ms() - since) / 1000);
			}
		}
		if (now_ms() >= next_log) {
			int n = kmsg_reports();

			check(CHK_kernel_log, !n, "%d kernel reports", n);
			next_log = now_ms() + 5000;
		}
	}

	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (int k = 0; k < NR_ACTORS; k++) {
		struct actor *a = &sh->actors[k];

		if (a->pid <= 0)
			continue;
		if (wait_child(a->pid, OP_BOUND_MS, &status)) {
			check(CHK_bounded, false, "%s does not stop: '%s' for %lld s",
			      a->name, a->op, (now_ms() - a->since) / 1000);
			kill_child(a->pid);
		} else {
			check(CHK_bounded, WIFEXITED(status) && !WEXITSTATUS(status),
			      "%s ended with status 0x%x", a->name, status);
		}
		a->pid = 0;
	}
	print_ops();
	return 0;
}

static void check_retired(struct tenancy *t);

static void check_retired(struct tenancy *t);

/* Random words of a fresh tenancy's whole-region window read zero. */
static void read_zero(struct tenancy *t, struct window *w)
{
	struct scan r = { 0 };

	if (sigsetjmp(bus_jmp, 1)) {
		judge_sigbus(t, "fresh tenancy");
		return;
	}
	bus_armed = 1;
	for (int k = 0; k < 512; k++) {
		uint64_t off = below(w->len / 8) * 8;
		uint64_t v;

		if (page_poisoned(t->d, off))
			continue;
		v = *(volatile uint64_t *)(w->p + off);
		if (v && !r.bad_iso++) {
			r.value = v;
			r.off = off;
		}
	}
	bus_armed = 0;
	check(CHK_fresh, !r.bad_iso,
	      "%s +0x%" PRIx64 " holds %s in a fresh tenancy (%d words)",
	      devs[t->d].name, r.off, describe(r.value), r.bad_iso);
}

static void settle_dev(int d)
{
	struct window w = { .off = 0, .len = devs[d].size };
	long long end = now_ms() + SETTLE_MS;
	struct tenancy t;
	int fd;

	for (;;) {
		fd = open(devs[d].path, O_RDWR | O_NONBLOCK);
		if (fd >= 0 || (errno != EAGAIN && errno != EBUSY) ||
		    now_ms() > end)
			break;
		sleep_ms(50);
	}
	if (!check(CHK_fresh, fd >= 0, "open %s at the end: %s",
		   devs[d].path, errstr(errno)))
		return;
	track_fd(fd);
	memset(&t, 0, sizeof(t));
	t.d = d;
	t.fd = fd;
	t.life = sh->life_end[d];
	w.p = map_fd(fd, 0, w.len, MAP_SHARED);
	if (check(CHK_fresh, w.p != MAP_FAILED, "mmap %s: %s", devs[d].name,
		  errstr(errno))) {
		t.win[t.nwin++] = w;
		bus_setup();
		touch(&t, &t.win[0], false, "fresh tenancy at the end");
		if (!t.dead)
			read_zero(&t, &t.win[0]);
		unmap(w.p, w.len);
	}
	t_ioctl(&t);
	check_retired(&t);
	close_fd(&fd);
}

/* Bring every parent back; each region opens fresh and reads zero. */
static int phase_settle(void)
{
	if (!module_loaded("egm_parent"))
		check(CHK_bind, !insmod("egm_parent.ko", parent_params),
		      "insmod egm_parent at the end");
	for (int i = 0; i < NR_INST; i++)
		bind_back(i);
	for (int d = 0; d < NR_DEVS; d++)
		settle_dev(d);
	return 0;
}

/* The retired list agrees with EGM_GET_INFO and with what was reported. */
static void check_retired(struct tenancy *t)
{
	size_t room = MAX_POISON * 16 + 64;
	struct egm_info info = { .argsz = sizeof(info) };
	struct egm_retired_pages *rp;
	uint32_t fw = 0;
	bool known = true;

	if (t->fd < 0 || ioctl(t->fd, EGM_GET_INFO, &info))
		return;
	rp = calloc(1, sizeof(*rp) + room * 8);
	if (!rp)
		return;
	rp->argsz = sizeof(*rp) + room * 8;
	if (!check(CHK_retired, !ioctl(t->fd, EGM_GET_RETIRED_PAGES, rp),
		   "EGM_GET_RETIRED_PAGES on %s: %s", devs[t->d].name,
		   errstr(errno))) {
		free(rp);
		return;
	}
	for (uint32_t i = 0; i < rp->count; i++) {
		uint64_t off = rp->offsets[i];

		if (devs[t->d].fw_retired != ~0ULL &&
		    (off & ~(FW_RETIRE_SIZE - 1)) == devs[t->d].fw_retired)
			fw++;
		else
			known &= page_poisoned(t->d, off);
	}
	check(CHK_retired, rp->count == info.nr_retired,
	      "%s: EGM_GET_INFO says %u retired, the list holds %u",
	      devs[t->d].name, info.nr_retired, rp->count);
	check(CHK_retired, known,
	      "%s: a retired page that neither firmware nor a report retired",
	      devs[t->d].name);
	if (devs[t->d].fw_retired != ~0ULL)
		check(CHK_retired, fw == (page_size >= (long)FW_RETIRE_SIZE ? 1 :
					  FW_RETIRE_SIZE / page_size),
		      "%s: %u pages of the firmware-retired block listed",
		      devs[t->d].name, fw);
	free(rp);
}

/* Both modules unload; nothing of theirs is left. */
static int phase_unload(void)
{
	static const char *const mods[] = { "egm_parent", "egm_core" };
	char path[64];

	for (size_t m = 0; m < ARRAY_SIZE(mods); m++) {
		long long end = now_ms() + 30000;
		int err;

		/* Deferred frees drop their module reference after a grace period. */
		while ((err = rmmod(mods[m])) == -EWOULDBLOCK && now_ms() < end)
			sleep_ms(200);
		check(CHK_unload, !err || err == -ENOENT, "rmmod %s: %s",
		      mods[m], errstr(err));
	}
	if (!check(CHK_unload, !claims_left(),
		   "/proc/iomem still claims an EGM range"))
		dump_holders();
	for (int d = 0; d < NR_DEVS; d++) {
		check(CHK_unload, !exists(devs[d].path), "%s still there",
		      devs[d].path);
		snprintf(path, sizeof(path), "/sys/class/egm/%s", devs[d].name);
		check(CHK_unload, !exists(path), "%s still there", path);
	}
	return 0;
}

/* Nothing in the kernel log; kmemleak finds nothing. */
static int phase_leaks(void)
{
	char *buf = malloc(1 << 16);
	int n, lines = 0;

	n = kmsg_reports();
	check(CHK_kernel_log, !n, "%d kernel reports", n);
	if (!buf || !exists(KMEMLEAK)) {
		say("egm-chaos: no %s: leaks not checked", KMEMLEAK);
		free(buf);
		return 0;
	}
	/* An object is reported once it is 5 s old and unreferenced. */
	write_text(KMEMLEAK, "scan");
	sleep_ms(6000);
	check(CHK_leaks, !write_text(KMEMLEAK, "scan"), "scan failed");
	n = read_text(KMEMLEAK, buf, 1 << 16);
	for (char *l = buf; n > 0 && *l; lines++) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = 0;
		if (lines < 60)
			say("egm-chaos: leak: %s", l);
		if (!nl)
			break;
		l = nl + 1;
	}
	check(CHK_leaks, n == 0, "the scan reports %d lines", lines);
	n = kmsg_reports();
	check(CHK_kernel_log, !n, "%d kernel reports", n);
	free(buf);
	return 0;
}

static int phase_check(int (*fn)(void))
{
	int before = total(sh->failed), ret = fn();

	if (!ret && total(sh->failed) > before)
		ret = fail("%d checks failed", total(sh->failed) - before);
	return ret;
}

static int test_run(void)
{
	return phase_check(phase_chaos);
}

static int test_settle(void)
{
	return phase_check(phase_settle);
}

static int test_unload(void)
{
	return phase_check(phase_unload);
}

static int test_leaks(void)
{
	return phase_check(phase_leaks);
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : getenv("EGM_CHAOS_SEED");

	if (harness_setup())
		return 1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		say("FAIL setup: mmap: %s", errstr(errno));
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ getpid();
	rng_seed(seed);
	parent_params = getenv("EGM_PARENT_PARAMS");
	if (!parent_params)
		parent_params = "";
	t_start = now_ms();
	say("egm-chaos: seed %" PRIu64 " (EGM_CHAOS_SEED=%" PRIu64
	    " repeats every actor's choices), %d s, %d tenants",
	    seed, seed, run_seconds(), NR_TENANTS);
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);

	tally->remaining = 4;
	harness_run("chaos_run", test_run, NULL);
	harness_run("chaos_settle", test_settle, NULL);
	harness_run("chaos_unload", test_unload, NULL);
	harness_run("chaos_leaks", test_leaks, NULL);
	for (int c = 0; c < NR_CHKS; c++)
		say("egm-chaos: check %s: %d passed, %d failed", chk_names[c],
		    sh->passed[c], sh->failed[c]);
	harness_summary(tally->passed, tally->failed);
	return total(sh->failed) || tally->failed ? 1 : 0;
}
