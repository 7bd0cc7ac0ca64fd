// SPDX-License-Identifier: GPL-2.0
/*
 * egm_faultinject: every registration and open path of egm-core under
 * injected allocation failures, run as root inside the QEMU guest that
 * scripts/egm/qemu-chaos-test.sh boots with egm_suite=faultinject (its
 * /init, tools/testing/egm/chaos/init, loads no module: we do).
 *
 *   gcc -static -O2 -Wall -Wextra -I include/uapi -o egm_faultinject egm_faultinject.c
 *   egm_faultinject [PATH...]   (no argument: every path, in order)
 *
 * Injection: failslab and fail_page_alloc (CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC), driven through /proc/thread-self/fail-nth: the
 * Nth allocation this thread makes fails.  For N = 1, 2, ... a path runs
 * once with its Nth allocation failing, until a run makes fewer than N
 * allocations.  Two scopes:
 *
 *   egm   only allocations with module code on the stack count (the
 *         stacktrace filter, CONFIG_FAULT_INJECTION_STACKTRACE_FILTER,
 *         set to the module area): what egm_core and egm_parent ask for,
 *         directly or through the kernel's APIs
 *   all   every allocation of the system call counts: the kernel's own
 *         steps around egm-core's callbacks (mmap, fork) fail too
 *
 * For each failure: the call returns an errno the path allows (ENOMEM),
 * nothing is left behind (no device, class entry, debugfs directory,
 * /proc/iomem claim, tenancy hold, region state change, module), and
 * the path then succeeds without injection.  Failures the code absorbs
 * (a debugfs file that could not be made, kmemleak's own metadata) are
 * counted as such.  kmemleak scans after each path.
 *
 * Paths: egm_core load, egm_parent load (platform devices, probe: region,
 * poison bitmap, sink page, backing inode and file, chardev, debugfs),
 * bind of a region's first parent (egm0, egm1) and of a joining parent
 * (egm1), open of /dev/egmN, EGM_GET_RETIRED_PAGES, mmap and fork of a
 * mapping (scope all), and the scrub: a background scrub whose worker
 * array cannot be allocated (probability mode, in the scrub's own code),
 * then an opener that scrubs itself and fails the same way.
 *
 * The VFIO frontend's paths run only when named (fi_vfio_bind,
 * fi_vfio_open, fi_vfio_region), in the VFIO suite's boot
 * (tools/testing/egm/vfio/init, phase faultinject): nvgrace-gpu's probe
 * of a GPU that creates its region and of one that joins it, the open of
 * a GPU's vfio device (VFIO_GROUP_GET_DEVICE_FD, scope egm; container,
 * group and device, scope all), VFIO_DEVICE_GET_REGION_INFO with the EGM
 * capability, and the first mmap() and pread() of the region (scope all),
 * which take it.  EGM_FI_SUMMARY names the summary line's prefix there.
 *
 * Output: one line per path, "egm-faultinject: PATH (SCOPE): N points,
 * F failed (ENOMEM xF), A absorbed", "ok PATH" or "FAIL PATH: ...", and
 * "egm-faultinject: N passed, N failed" counting checks.
 *
 * The configuration matches tools/testing/egm/chaos/init and the QEMU
 * command line (as for egm_chaos.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* egm_parent with its first instance only: egm0 and its retired block. */
#define PARENT0_PARAMS	"base=0x60000000 size=0x10000000 pxm=0 retired=0x60110000"
#define EGM0_PARENT	"egm_parent.0"
#define EGM1_PARENT_A	"egm_parent.1"
#define EGM1_PARENT_B	"egm_parent.2"

#define PARENT_DRIVER	"/sys/bus/platform/drivers/egm_parent"
#define DEBUGFS_PARENT	"/sys/kernel/debug/egm_parent"
#define DEBUGFS_EGM	"/sys/kernel/debug/egm"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define MODULE_DIR	"/lib/modules"
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"

#define MAX_POINTS	400		/* per path: beyond, say so and stop */
#define SETTLE_MS	(10 * 1000)	/* a freed region releases its range */
#define OPEN_MS		(60 * 1000)
#define MODULES_END	0xffffffffff000000ULL	/* x86_64 */

enum scope { SCOPE_EGM, SCOPE_ALL };
static const char *const scope_names[] = { "egm", "all" };

static int checks_passed, checks_failed;
static uint64_t module_area_start;
static const char *parent_params = "";
static int nth_fd = -1;
/* The summary line's prefix; the VFIO suite's boot names its phase. */
static const char *summary_prefix = "egm-faultinject";

static void harness_summary(int passed, int failed)
{
	(void)passed;
	say("%s: %d passed, %d failed", summary_prefix, checks_passed,
	    checks_failed + failed);
}

/* A counted check; the first failure of a path becomes its FAIL reason. */
static bool check(bool ok, const char *fmt, ...) __printf(2, 3);
static bool check(bool ok, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (ok) {
		checks_passed++;
		return true;
	}
	checks_failed++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail("%s", msg);
	say("egm-faultinject: not so: %s", msg);
	return false;
}

/* ---- the kernel's fault-injection knobs ---- */

static int knob(const char *dir, const char *name, const char *val)
{
	char path[128];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = write_text(path, val);
	if (err)
		say("egm-faultinject: write %s to %s: %s", val, path, errstr(err));
	return err;
}

static int knobs(const char *name, const char *val)
{
	return knob(FAILSLAB, name, val) | knob(FAIL_PAGE, name, val);
}

/* Fail on request only (fail-nth), quietly, whatever the gfp flags. */
static int fi_setup(void)
{
	int err;

	err = knobs("probability", "0") | knobs("interval", "1") |
	      knobs("times", "-1") | knobs("space", "0") |
	      knobs("verbose", "0") | knobs("task-filter", "N") |
	      knobs("ignore-gfp-wait", "N") |
	      knob(FAIL_PAGE, "ignore-gfp-highmem", "N") |
	      knob(FAIL_PAGE, "min-order", "0") |
	      knobs("stacktrace-depth", "32");
	return err ? -EIO : 0;
}

static void fi_scope(enum scope scope)
{
	char start[32], end[32];

	if (scope == SCOPE_ALL) {
		snprintf(start, sizeof(start), "0");
		snprintf(end, sizeof(end), "%llu", (unsigned long long)~0ULL);
	} else {
		snprintf(start, sizeof(start), "%llu", (unsigned long long)module_area_start);
		snprintf(end, sizeof(end), "%llu", MODULES_END);
	}
	/* Widen first: require-start may not pass require-end on the way. */
	knobs("require-end", end);
	knobs("require-start", start);
}

/* Where module code lives: past the end of the kernel image. */
static int find_module_area(void)
{
	char line[256];
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[200];

		if (sscanf(line, "%llx %c %199s", &addr, &type, name) == 3 &&
		    !strcmp(name, "_end")) {
			module_area_start = addr;
			break;
		}
	}
	fclose(f);
	return module_area_start ? 0 : -ENOENT;
}

/*
 * The code of one function, as the stacktrace filter takes it: from its
 * symbol to the next symbol above it in /proc/kallsyms.
 */
static int symbol_range(const char *want, uint64_t *start, uint64_t *end)
{
	unsigned long long addr;
	char line[256], type, name[200];
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return -errno;
	*start = 0;
	*end = ~0ULL;
	while (!*start && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %199s", &addr, &type, name) == 3 &&
		    (type == 't' || type == 'T') && !strcmp(name, want))
			*start = addr;
	rewind(f);
	while (*start && fgets(line, sizeof(line), f)) {
		char *hex_end;

		addr = strtoull(line, &hex_end, 16);
		if (hex_end != line && addr > *start && addr < *end)
			*end = addr;
	}
	fclose(f);
	return *start && *end != ~0ULL ? 0 : -ENOENT;
}

static void nth_set(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(nth_fd, buf, len, 0) != len)
		say("egm-faultinject: write fail-nth: %s", errstr(errno));
}

static unsigned int nth_get(void)
{
	char buf[16] = "";

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) < 0)
		return ~0U;
	return strtoul(buf, NULL, 10);
}

/* ---- state of the system ---- */

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/initstate", name);
	return exists(path);
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

/* rmmod, waiting out references that deferred frees still hold. */
static int rmmod(const char *name)
{
	long long end = now_ms() + SETTLE_MS;
	int err;

	for (;;) {
		err = syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
		if (err != -EWOULDBLOCK || now_ms() > end)
			return err == -ENOENT ? 0 : err;
		sleep_ms(100);
	}
}

static bool iomem_claims(const char *what)
{
	char buf[16384];

	return read_text("/proc/iomem", buf, sizeof(buf)) > 0 &&
	       strstr(buf, what);
}

/* Wait (bounded) until /proc/iomem no longer claims @what. */
static bool claim_released(const char *what)
{
	long long end = now_ms() + SETTLE_MS;

	while (iomem_claims(what)) {
		if (now_ms() > end)
			return false;
		sleep_ms(50);
	}
	return true;
}

static bool bound(const char *inst)
{
	char path[128];

	snprintf(path, sizeof(path), PARENT_DRIVER "/%s", inst);
	return exists(path);
}

static int bind_inst_to(const char *inst, bool on)
{
	return write_text(on ? PARENT_DRIVER "/bind" : PARENT_DRIVER "/unbind",
			  inst);
}

/* Kernel log lines since the last call that contain @what; first in @out. */
static int kmsg_grep(int fd, const char *what, char *out, size_t size)
{
	char rec[2048];
	int found = 0;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n < 0)
			continue;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (strstr(msg, what) && !found++ && out)
			snprintf(out, size, "%.*s", (int)size - 1, msg);
	}
	return found;
}

static int kmsg_fd = -1;

static void kmsg_skip(void)
{
	kmsg_grep(kmsg_fd, "\x01", NULL, 0);
}

/* The errno of the last failed probe, from the driver core's message. */
static int probe_errno(void)
{
	char line[512] = "";
	const char *p;

	if (!kmsg_grep(kmsg_fd, "failed with error -", line, sizeof(line)))
		return 0;
	p = strstr(line, "failed with error -");
	return p ? atoi(p + strlen("failed with error -")) : 0;
}

/* ---- one path under injection ---- */

struct path {
	const char *name;
	enum scope scope;
	int (*op)(void);	/* 0 or -errno */
	int (*residue)(int err);	/* after a failure: 0 when nothing is left */
	int (*undo)(void);	/* after a success: back to the start */
	bool retry_clean;	/* after each failure, a clean run must succeed */
	bool driver_core;	/* the driver core's own errnos are allowed */
};

#define MAX_ERRNO 134

struct tally_path {
	int points, failed, absorbed, by_errno[MAX_ERRNO + 1];
};

static void print_path(const struct path *p, const struct tally_path *t)
{
	char errs[256] = "";
	int n = 0;

	for (int e = 1; e <= MAX_ERRNO; e++)
		if (t->by_errno[e])
			n += snprintf(errs + n, sizeof(errs) - n, "%s%s x%d",
				      n ? ", " : " (", strerrorname_np(e) ?: "?",
				      t->by_errno[e]);
	if (n)
		snprintf(errs + n, sizeof(errs) - n, ")");
	say("egm-faultinject: %s (%s): %d points, %d failed%s, %d absorbed",
	    p->name, scope_names[p->scope], t->points, t->failed, errs,
	    t->absorbed);
}

/* @prepare (or NULL) runs before each run of @p's op, without injection. */
static int run_path_prepared(const struct path *p, int (*prepare)(void))
{
	struct tally_path t = { 0 };
	unsigned int left;
	int err, ret = 0;

	fi_scope(p->scope);
	for (unsigned int n = 1; ; n++) {
		if (n > MAX_POINTS) {
			check(false, "%s: more than %d points", p->name, MAX_POINTS);
			break;
		}
		if (prepare &&
		    !check(!prepare(), "%s: cannot prepare run %u", p->name, n))
			break;
		nth_set(n);
		err = p->op();
		left = nth_get();
		nth_set(0);
		if (left) {
			/* Fewer than n allocations: nothing was injected. */
			check(!err, "%s without injection: %s", p->name,
			      errstr(err));
			if (!err && p->undo)
				check(!p->undo(), "%s: undo failed", p->name);
			break;
		}
		t.points++;
		if (!err) {
			t.absorbed++;
			if (p->undo &&
			    !check(!p->undo(), "%s: undo after absorbed failure %u",
				   p->name, n))
				break;
			continue;
		}
		t.failed++;
		if (-err <= MAX_ERRNO)
			t.by_errno[-err]++;
		/*
		 * Registering a device or driver, the driver core has two
		 * answers of its own to a failed allocation: EINVAL
		 * (platform_device_add() ignores a failed dev_set_name(),
		 * then device_add() finds no name) and a probe that fails
		 * without an errno (really_probe(): driver_sysfs_add()
		 * failed), which parent_load() reports as EIO.
		 */
		check(err == -ENOMEM || (p->driver_core &&
					 (err == -EINVAL || err == -EIO)),
		      "%s, allocation %u failing: %s, want ENOMEM", p->name, n,
		      errstr(err));
		if (p->residue && !check(!p->residue(err),
					 "%s, allocation %u failing, leaves something behind",
					 p->name, n))
			break;
		if (p->retry_clean) {
			if (prepare &&
			    !check(!prepare(), "%s: cannot prepare the retry", p->name))
				break;
			err = p->op();
			if (!check(!err, "%s after allocation %u failed: %s",
				   p->name, n, errstr(err)))
				break;
			if (p->undo)
				check(!p->undo(), "%s: undo failed", p->name);
		}
	}
	print_path(p, &t);
	if (!t.points)
		say("egm-faultinject: %s (%s): no allocation on this path",
		    p->name, scope_names[p->scope]);
	return ret;
}

static int run_path(const struct path *p)
{
	return run_path_prepared(p, NULL);
}

/* kmemleak: what the last paths left (objects older than 5 s). */
static void leak_scan(const char *after, bool wait)
{
	char *buf;
	int n, lines = 0;

	if (!exists(KMEMLEAK))
		return;
	buf = malloc(1 << 16);
	if (!buf)
		return;
	if (wait)
		sleep_ms(5500);
	write_text(KMEMLEAK, "scan");
	n = read_text(KMEMLEAK, buf, 1 << 16);
	for (char *l = buf; n > 0 && *l; lines++) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = 0;
		if (lines < 40)
			say("egm-faultinject: leak after %s: %s", after, l);
		if (!nl)
			break;
		l = nl + 1;
	}
	check(n == 0, "after %s: the leak scan reports %d lines", after, lines);
	/* Reported once: the next scan shows only new ones. */
	write_text(KMEMLEAK, "clear");
	free(buf);
}

/* ---- the paths ---- */

static int fd0 = -1;		/* /dev/egm0, for the open-file paths */
static char *map0;		/* 2 MiB of it */
#define MAP_LEN		(2UL << 20)

static int core_load(void)
{
	return insmod("egm_core.ko", "");
}

static int core_residue(int err)
{
	char buf[4096];

	(void)err;
	return module_loaded("egm_core") || exists("/sys/class/egm") ||
	       exists(DEBUGFS_EGM) ||
	       (read_text("/proc/devices", buf, sizeof(buf)) > 0 &&
		strstr(buf, " egm\n")) ? -1 : 0;
}

static int core_unload(void)
{
	return rmmod("egm_core");
}

/* A region with no parent left: nothing of it may remain. */
static int region_gone(const char *name, const char *claim)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/%s", name);
	if (exists(path))
		return fail("%s is there", path);
	snprintf(path, sizeof(path), "/sys/class/egm/%s", name);
	if (exists(path))
		return fail("%s is there", path);
	snprintf(path, sizeof(path), DEBUGFS_EGM "/%s", name);
	if (exists(path))
		return fail("%s is there", path);
	if (!claim_released(claim))
		return fail("/proc/iomem still claims %s after %d s", claim,
			    SETTLE_MS / 1000);
	return 0;
}

/* Load egm_parent with @params; an unbound instance is a failure too. */
static int parent_load_with(const char *params, int nr_inst)
{
	static const char *const inst[] = { EGM0_PARENT, EGM1_PARENT_A,
					    EGM1_PARENT_B };
	int err, e;

	kmsg_skip();
	err = insmod("egm_parent.ko", params);
	if (err)
		return err;
	/* A failed probe leaves the module loaded and the instance unbound. */
	for (int i = 0; i < nr_inst; i++)
		if (!bound(inst[i])) {
			e = probe_errno();
			return e ? -e : -EIO;
		}
	return 0;
}

static int parent_load(void)
{
	return parent_load_with(PARENT0_PARAMS, 1);
}

static int parent_residue(int err)
{
	(void)err;
	if (!bound(EGM0_PARENT) && region_gone("egm0", "egm-pxm0"))
		return -1;
	if (!bound(EGM0_PARENT) &&
	    exists(DEBUGFS_PARENT "/" EGM0_PARENT))
		return fail("%s/%s is there", DEBUGFS_PARENT, EGM0_PARENT);
	if (module_loaded("egm_parent") && rmmod("egm_parent"))
		return fail("rmmod egm_parent");
	if (region_gone("egm0", "egm-pxm0"))
		return -1;
	return exists(DEBUGFS_PARENT) ? fail("%s is there", DEBUGFS_PARENT) : 0;
}

static int parent_unload(void)
{
	if (rmmod("egm_parent"))
		return -1;
	return region_gone("egm0", "egm-pxm0") || region_gone("egm1", "egm-pxm1");
}

/* Bind paths: the instance and the region it creates or joins. */
static const char *bind_inst, *bind_region, *bind_claim;
static bool bind_joins;

static int bind_op(void)
{
	return bind_inst_to(bind_inst, true);
}

static int bind_residue(int err)
{
	char path[160];

	(void)err;
	if (bound(bind_inst))
		return fail("%s is bound after a failed bind", bind_inst);
	snprintf(path, sizeof(path), DEBUGFS_PARENT "/%s", bind_inst);
	if (exists(path))
		return fail("%s is there", path);
	if (!bind_joins)
		return region_gone(bind_region, bind_claim);
	snprintf(path, sizeof(path), "/sys/class/egm/%s/parents/%s",
		 bind_region, bind_inst);
	if (exists(path))
		return fail("%s is there", path);
	return 0;
}

static int bind_undo(void)
{
	if (bind_inst_to(bind_inst, false))
		return -1;
	return bind_joins ? 0 : region_gone(bind_region, bind_claim);
}

static int region_state(const char *name, char *state, size_t size)
{
	char path[128];
	int n;

	snprintf(path, sizeof(path), DEBUGFS_EGM "/%s/state", name);
	n = read_text(path, state, size);
	if (n < 0)
		return n;
	state[strcspn(state, "\n")] = 0;
	return 0;
}

static int wait_state(const char *name, const char *want)
{
	long long end = now_ms() + OPEN_MS;
	char state[32] = "";

	while (!region_state(name, state, sizeof(state)) && strcmp(state, want)) {
		if (now_ms() > end)
			break;
		sleep_ms(50);
	}
	return strcmp(state, want) ?
	       fail("%s is \"%s\", want \"%s\"", name, state, want) : 0;
}

static int open_op(void)
{
	fd0 = open("/dev/egm0", O_RDWR | O_CLOEXEC);
	if (fd0 < 0)
		return -errno;
	track_fd(fd0);
	return 0;
}

static int open_residue(int err)
{
	char state[32] = "";

	(void)err;
	region_state("egm0", state, sizeof(state));
	if (strcmp(state, "clean"))
		return fail("egm0 is \"%s\" after a failed open, want \"clean\"",
			    state);
	return tenancy_holders("egm0") ?
	       fail("egm0: %ld tenancy holders after a failed open",
		    tenancy_holders("egm0")) : 0;
}

static int open_undo(void)
{
	close_fd(&fd0);
	return wait_state("egm0", "clean");
}

static int retired_op(void)
{
	static char buf[sizeof(struct egm_retired_pages) + 64 * 8];
	struct egm_retired_pages *rp = (void *)buf;

	memset(buf, 0, sizeof(buf));
	rp->argsz = sizeof(buf);
	return ioctl(fd0, EGM_GET_RETIRED_PAGES, rp) ? -errno : 0;
}

static int mmap_op(void)
{
	void *p = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0);

	if (p == MAP_FAILED)
		return -errno;
	map0 = p;
	return 0;
}

/* The file alone holds the tenancy. */
static int mmap_residue(int err)
{
	(void)err;
	return tenancy_holders("egm0") != 1 ?
	       fail("egm0: %ld tenancy holders after a failed mmap, want 1",
		    tenancy_holders("egm0")) : 0;
}

static int mmap_undo(void)
{
	uint64_t *q = (void *)map0;

	WRITE_ONCE(*q, 0x5a5a);
	if (READ_ONCE(*q) != 0x5a5a)
		return fail("mapping reads %#llx", (unsigned long long)READ_ONCE(*q));
	WRITE_ONCE(*q, 0);
	munmap(map0, MAP_LEN);
	map0 = NULL;
	return mmap_residue(0);
}

static int fork_op(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid) {
		uint64_t *q = (void *)map0;

		WRITE_ONCE(*q, 0x6b6b);
		_exit(READ_ONCE(*q) == 0x6b6b ? 0 : 1);
	}
	if (wait_child(pid, CHILD_TIMEOUT_MS, &status))
		return -ETIMEDOUT;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/* The file and our mapping hold the tenancy; the child's went with it. */
static int fork_residue(int err)
{
	(void)err;
	return tenancy_holders("egm0") != 2 ?
	       fail("egm0: %ld tenancy holders after a failed fork, want 2",
		    tenancy_holders("egm0")) : 0;
}

/* ---- the tests ---- */

static int test_core_load(void)
{
	static const struct path p = { "load egm_core", SCOPE_EGM, core_load,
				       core_residue, core_unload, false, true };

	run_path(&p);
	check(!core_load(), "load egm_core at the end");
	return failmsg[0] ? -1 : 0;
}

static int test_parent_load(void)
{
	static const struct path p = { "load egm_parent (egm0 only)", SCOPE_EGM,
				       parent_load, parent_residue,
				       parent_unload, false, true };
	int err;

	run_path(&p);
	/* Every instance, for the paths that follow. */
	err = parent_load_with(parent_params, 3);
	check(!err, "load egm_parent %s at the end: %s", parent_params,
	      errstr(err));
	return failmsg[0] ? -1 : 0;
}

static int bind_path(const char *inst, const char *region, const char *claim,
		     bool joins, bool retry)
{
	static struct path p = { NULL, SCOPE_EGM, bind_op, bind_residue,
				 bind_undo, false, false };
	char name[64];

	bind_inst = inst;
	bind_region = region;
	bind_claim = claim;
	bind_joins = joins;
	snprintf(name, sizeof(name), "bind %s (%s %s)", inst, region,
		 joins ? "joined" : "created");
	p.name = name;
	p.retry_clean = retry;
	if ((bound(inst) && !check(!bind_inst_to(inst, false), "unbind %s", inst)) ||
	    (!joins && region_gone(region, claim)))
		return -1;
	run_path(&p);
	return check(!bind_inst_to(inst, true) || bound(inst), "bind %s at the end",
		     inst) ? 0 : -1;
}

static int test_bind_egm0(void)
{
	bind_path(EGM0_PARENT, "egm0", "egm-pxm0", false, true);
	return failmsg[0] ? -1 : 0;
}

static int test_bind_egm1(void)
{
	/* B leaves, then A: A creates egm1 alone, then B joins it. */
	if (bound(EGM1_PARENT_B) &&
	    !check(!bind_inst_to(EGM1_PARENT_B, false), "unbind %s", EGM1_PARENT_B))
		return -1;
	bind_path(EGM1_PARENT_A, "egm1", "egm-pxm1", false, false);
	bind_path(EGM1_PARENT_B, "egm1", "egm-pxm1", true, true);
	return failmsg[0] ? -1 : 0;
}

static int test_open(void)
{
	static const struct path egm = { "open /dev/egm0", SCOPE_EGM, open_op,
					 open_residue, open_undo, true, false };
	static const struct path all = { "open /dev/egm0", SCOPE_ALL, open_op,
					 open_residue, open_undo, true, false };

	if (wait_state("egm0", "clean"))
		return -1;
	run_path(&egm);
	run_path(&all);
	return failmsg[0] ? -1 : 0;
}

static int test_open_file(void)
{
	static const struct path retired = { "EGM_GET_RETIRED_PAGES", SCOPE_EGM,
					     retired_op, NULL, NULL, true, false };
	static const struct path map = { "mmap /dev/egm0", SCOPE_ALL, mmap_op,
					 mmap_residue, mmap_undo, true, false };
	static const struct path frk = { "fork with a mapping", SCOPE_ALL,
					 fork_op, fork_residue, NULL, true, false };
	int ret = 0;

	if (!check(!wait_state("egm0", "clean") && !open_op(),
		   "open /dev/egm0: %s", errstr(errno)))
		return -1;
	run_path(&retired);
	run_path(&map);
	if (!check(!mmap_op(), "mmap /dev/egm0: %s", errstr(errno))) {
		ret = -1;
		goto out;
	}
	run_path(&frk);
	check(!mmap_undo(), "munmap");
out:
	open_undo();
	return ret || failmsg[0] ? -1 : 0;
}

/*
 * The scrub's worker array: a background scrub that cannot allocate it
 * leaves the region dirty; the next open takes it all the same (opening
 * never scrubs nor waits), and the scrub it kicks zeroes it after.
 *
 * Only allocations with egm_scrub_run() on the stack count: the scrub's
 * own code.  The background scrub runs
 * in a kworker, which fail-nth cannot reach, so its allocation fails in
 * probability mode, once.  With all module code in scope, an allocation
 * around the scrub took that one failure instead and the scrub succeeded:
 * the state uevent the scrub worker sends, the closer's path, or this
 * program's own debugfs reads (single_open() under egm_core's ->open)
 * when the kworker was slow to run.
 */
static int test_scrub(void)
{
	char start[32], stop[32], state[32] = "";
	uint64_t fn_start = 0, fn_end = 0;
	long long end;
	int err;

	if (!check(!symbol_range("egm_scrub_run", &fn_start, &fn_end),
		   "egm_scrub_run is not in /proc/kallsyms"))
		return -1;
	if (!check(!wait_state("egm0", "clean") && !open_op(),
		   "open /dev/egm0: %s", errstr(errno)))
		return -1;
	snprintf(start, sizeof(start), "%llu", (unsigned long long)fn_start);
	snprintf(stop, sizeof(stop), "%llu", (unsigned long long)fn_end);
	fi_scope(SCOPE_ALL);	/* widest first, then narrow from below */
	knobs("require-start", start);
	knobs("require-end", stop);
	knob(FAILSLAB, "times", "1");
	knob(FAILSLAB, "probability", "100");
	close_fd(&fd0);	/* the tenancy ends: a background scrub starts */
	end = now_ms() + OPEN_MS;
	do {
		sleep_ms(50);
		region_state("egm0", state, sizeof(state));
	} while (strcmp(state, "dirty") && strcmp(state, "clean") && now_ms() < end);
	knob(FAILSLAB, "probability", "0");
	knob(FAILSLAB, "times", "-1");
	if (!check(!strcmp(state, "dirty"),
		   "egm0 is \"%s\" after its background scrub failed, want \"dirty\"",
		   state))
		goto out;

	err = open_op();
	check(!err, "open of egm0 left dirty by its failed scrub: %s, want success",
	      errstr(err));
	if (!err)
		check(!open_undo(), "egm0 scrubbed after its tenancy");
	say("egm-faultinject: scrub (egm): the background scrub failed (ENOMEM), %s",
	    "the region stayed dirty, the next open took it at once");
out:
	fi_scope(SCOPE_EGM);
	return failmsg[0] ? -1 : 0;
}

static int test_unload(void)
{
	check(!rmmod("egm_parent"), "rmmod egm_parent");
	check(!rmmod("egm_core"), "rmmod egm_core");
	check(!iomem_claims("egm-pxm"), "/proc/iomem still claims an EGM range");
	leak_scan("every path", true);
	return failmsg[0] ? -1 : 0;
}

/*
 * ---- The VFIO frontend (run by name only, in the VFIO suite's boot) ----
 *
 * tools/testing/egm/vfio/init loads nvgrace-gpu-vfio-pci (egm_frontend=vfio)
 * with no GPU bound, and runs us with fi_vfio_bind fi_vfio_open
 * fi_vfio_region.  The GPUs are those of egm_vfio_e2e.c (the SSDT):
 * GPU C alone on PXM 0 (256 MiB at 0x20000000, no retired-page table),
 * GPUs A and B on PXM 1 (1 GiB at 0x30000000, the firmware's table).
 */
#define NVGRACE		"nvgrace_gpu_vfio_pci"
#define NVGRACE_DIR	"/sys/bus/pci/drivers/" NVGRACE
#define VGPU_A		"0000:01:00.0"
#define VGPU_B		"0000:02:00.0"
#define VGPU_C		"0000:03:00.0"
#define IOMMU_GROUPS	"/sys/kernel/iommu_groups"
#define VMAP_LEN	(2UL << 20)

static bool pci_attr(const char *bdf, const char *attr)
{
	char path[128];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	return exists(path);
}

/* Entries of a directory (the iommu groups: one per bound GPU). */
static int dir_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int nvgrace_bind(const char *bdf, bool on)
{
	return write_text(on ? NVGRACE_DIR "/bind" : NVGRACE_DIR "/unbind", bdf);
}

/* Bind paths: the GPU, its region (created or joined), the groups before. */
static const char *vbind_bdf, *vbind_region, *vbind_claim;
static bool vbind_joins;
static int vbind_groups;

static int vbind_op(void)
{
	kmsg_skip();
	return nvgrace_bind(vbind_bdf, true);
}

/* Groups with no device in them: what vfio-pci's core leaves (below). */
static int empty_groups(void)
{
	char path[300];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(IOMMU_GROUPS);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), IOMMU_GROUPS "/%s/devices", de->d_name);
		n += dir_entries(path) == 0;
	}
	closedir(d);
	return n;
}

static int vbind_orphans;	/* of the current path */

/*
 * The GPU's vfio-noiommu group is gone.  One exception, counted on the
 * path's line and not egm-core's: when vfio_create_group() fails (the
 * probe logs "Removing from iommu group" with no "Adding kernel taint"
 * before it), the 6.12 vfio core leaves the iommu group it made for the
 * device, empty, in /sys/kernel/iommu_groups; the device has no link to
 * it and a later bind makes a new one.
 */
static int vgroup_gone(void)
{
	long long end = now_ms() + SETTLE_MS;
	int groups, orphans;

	for (;;) {
		groups = dir_entries(IOMMU_GROUPS);
		orphans = empty_groups();
		if (groups == vbind_groups && !pci_attr(vbind_bdf, "iommu_group"))
			return 0;
		/* The vfio core's orphan: taken as the new baseline. */
		if (groups == vbind_groups + 1 && orphans == vbind_orphans + 1 &&
		    !pci_attr(vbind_bdf, "iommu_group")) {
			vbind_groups = groups;
			vbind_orphans = orphans;
			return 0;
		}
		if (now_ms() > end)
			break;
		sleep_ms(50);
	}
	return fail("%s: its group is left after %d s (%d groups, %d before, link %s)",
		    vbind_bdf, SETTLE_MS / 1000, groups, vbind_groups,
		    pci_attr(vbind_bdf, "iommu_group") ? "there" : "gone");
}

/* A failed probe leaves no driver, attribute, vfio group or region. */
static int vbind_residue(int err)
{
	char path[128];

	(void)err;
	if (pci_attr(vbind_bdf, "driver"))
		return fail("%s is bound after a failed bind", vbind_bdf);
	if (pci_attr(vbind_bdf, "egm_size"))
		return fail("%s has egm_size after a failed bind", vbind_bdf);
	if (vgroup_gone())
		return -1;
	if (!vbind_joins)
		return region_gone(vbind_region, vbind_claim);
	snprintf(path, sizeof(path), DEBUGFS_EGM "/%s", vbind_region);
	if (!exists(path) || !iomem_claims(vbind_claim))
		return fail("%s went with a joining parent's failed bind",
			    vbind_region);
	return 0;
}

/*
 * Bound, under injection or not: with its region, never without, and never
 * without the firmware's retired pages.
 */
static int vbind_undo(void)
{
	char line[256];

	if (!pci_attr(vbind_bdf, "egm_size"))
		return fail("%s bound without its EGM region", vbind_bdf);
	if (kmsg_grep(kmsg_fd, "cannot map the retired-page table", line,
		      sizeof(line)))
		return fail("%s bound without its retired-page table: %s",
			    vbind_bdf, line);
	if (nvgrace_bind(vbind_bdf, false))
		return fail("unbind %s", vbind_bdf);
	return vbind_joins ? 0 : region_gone(vbind_region, vbind_claim);
}

static int vbind_path(const char *bdf, const char *region, const char *claim,
		      bool joins, bool retry)
{
	static struct path p = { NULL, SCOPE_EGM, vbind_op, vbind_residue,
				 vbind_undo, false, false };
	char name[64];
	int orphans;

	vbind_bdf = bdf;
	vbind_region = region;
	vbind_claim = claim;
	vbind_joins = joins;
	snprintf(name, sizeof(name), "bind %s to " NVGRACE " (%s %s)", bdf,
		 region, joins ? "joined" : "created");
	p.name = name;
	p.retry_clean = retry;
	if (!check(!write_text(PCI_DEVICES "/" VGPU_A "/driver_override", NVGRACE) &&
		   !write_text(PCI_DEVICES "/" VGPU_B "/driver_override", NVGRACE) &&
		   !write_text(PCI_DEVICES "/" VGPU_C "/driver_override", NVGRACE),
		   "driver_override"))
		return -1;
	if (pci_attr(bdf, "driver") &&
	    !check(!nvgrace_bind(bdf, false), "unbind %s", bdf))
		return -1;
	if (!joins && region_gone(region, claim))
		return -1;
	vbind_groups = dir_entries(IOMMU_GROUPS);
	vbind_orphans = empty_groups();
	orphans = vbind_orphans;
	run_path(&p);
	if (vbind_orphans > orphans)
		say("egm-faultinject: %s: %d empty iommu groups left by the vfio core",
		    name, vbind_orphans - orphans);
	return check(!nvgrace_bind(bdf, true) && pci_attr(bdf, "egm_size"),
		     "bind %s at the end", bdf) ? 0 : -1;
}

/*
 * Probe of nvgrace-gpu: egm-core's registration (region, claim, poison
 * bitmap, sink, retired table, debugfs), egm_size, the vfio device and its
 * no-IOMMU group.  A failed bind through sysfs returns the probe's errno.
 */
static int test_vfio_bind(void)
{
	if (pci_attr(VGPU_B, "driver") &&
	    !check(!nvgrace_bind(VGPU_B, false), "unbind %s", VGPU_B))
		return -1;
	vbind_path(VGPU_C, "egm0", "egm-pxm0", false, true);
	/* GPU A creates egm1 as GPU C created egm0 (only its table differs). */
	if (!check(!write_text(PCI_DEVICES "/" VGPU_A "/driver_override", NVGRACE) &&
		   (pci_attr(VGPU_A, "driver") || !nvgrace_bind(VGPU_A, true)),
		   "bind %s", VGPU_A))
		return -1;
	vbind_path(VGPU_B, "egm1", "egm-pxm1", true, true);
	return failmsg[0] ? -1 : 0;
}

/* The device of GPU C, its EGM region and a mapping of it. */
static struct vfio_dev vdev = VFIO_DEV_INIT;
static struct egm_vregion vreg;
static char *vmap;

/* No tenancy is left once the device is closed. */
static int vfio_no_tenant(const char *what)
{
	long n = tenancy_holders("egm0");

	return n ? fail("egm0: %ld tenancy holders after %s", n, what) : 0;
}

/* Nothing, or the region with its capability: never the device without. */
static int vexposes(int fd)
{
	struct egm_vregion r;
	int n = find_egm_region(fd, &r);

	if (n == 1 && (r.size != 256ULL << 20 || !r.cap || r.cap->pxm != 0))
		n = fail("GPU C: an EGM region of %#llx bytes, PXM %u",
			 (unsigned long long)r.size, r.cap ? r.cap->pxm : ~0U);
	else if (!n)
		n = fail("GPU C opened without its EGM region");
	egm_vregion_free(&r);
	return n == 1 ? 0 : -1;
}

/* Scope egm: VFIO_GROUP_GET_DEVICE_FD alone, the group kept, region clean. */
static int vopen_prepare(void)
{
	if (vdev.group < 0) {
		if (vfio_open(VGPU_C, &vdev))
			return fail("open GPU C's vfio device: %s", vfio_step);
		close_fd(&vdev.fd);
	}
	return wait_state("egm0", "clean");
}

static int vopen_op(void)
{
	vdev.fd = ioctl(vdev.group, VFIO_GROUP_GET_DEVICE_FD, VGPU_C);
	if (vdev.fd < 0)
		return -errno;
	track_fd(vdev.fd);
	return 0;
}

static int vopen_residue(int err)
{
	(void)err;
	return vfio_no_tenant("a failed open");
}

static int vopen_undo(void)
{
	int err = vexposes(vdev.fd);

	close_fd(&vdev.fd);
	return err ?: vfio_no_tenant("close");
}

/* Scope all: the container, the group and the device, one after another. */
static int vopen_all_op(void)
{
	return vfio_open(VGPU_C, &vdev);
}

static int vopen_all_undo(void)
{
	int err = vexposes(vdev.fd);

	vfio_close(&vdev);
	return err ?: vfio_no_tenant("close");
}

/* Unbinding GPU C frees its region: no reference was left behind. */
static int vregion_freed(void)
{
	vfio_close(&vdev);
	if (!check(!wait_state("egm0", "clean"), "egm0 is not scrubbed") ||
	    !check(!nvgrace_bind(VGPU_C, false), "unbind %s", VGPU_C) ||
	    !check(!region_gone("egm0", "egm-pxm0"),
		   "egm0 outlives its only parent: a reference was left"))
		return -1;
	return check(!nvgrace_bind(VGPU_C, true) && pci_attr(VGPU_C, "egm_size"),
		     "bind %s again", VGPU_C) ? 0 : -1;
}

/*
 * Open of GPU C's device: open_device adds the region (the exposure, the
 * region entry of vfio-pci) and takes it at once when clean.
 */
static int test_vfio_open(void)
{
	static const struct path egm = { "open GPU C's vfio device", SCOPE_EGM,
					 vopen_op, vopen_residue, vopen_undo,
					 true, false };
	static const struct path all = { "open GPU C's vfio device", SCOPE_ALL,
					 vopen_all_op, vopen_residue,
					 vopen_all_undo, true, false };

	run_path_prepared(&egm, vopen_prepare);
	vfio_close(&vdev);
	run_path(&all);
	vregion_freed();
	return failmsg[0] ? -1 : 0;
}

/* VFIO_DEVICE_GET_REGION_INFO of GPU A's region: capability and list. */
static int vinfo_op(void)
{
	struct vfio_region_info_cap_nvidia_egm *cap;
	struct vfio_region_info *info = calloc(1, vreg.argsz);
	int err = 0;

	if (!info)
		return -ENOMEM;
	info->argsz = vreg.argsz;
	info->index = vreg.index;
	if (ioctl(vdev.fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
		err = -errno;
		goto out;
	}
	cap = (void *)find_cap(info, VFIO_REGION_INFO_CAP_NVIDIA_EGM, sizeof(*cap));
	/* Success is the whole capability, or the check fails (EBADMSG). */
	if (!cap || cap->nr_listed != vreg.cap->nr_listed ||
	    cap->nr_retired != vreg.cap->nr_retired ||
	    memcmp(cap->retired, vreg.cap->retired, cap->nr_listed * 8)) {
		fail("GET_REGION_INFO succeeded with %s", cap ?
		     "another capability" : "no EGM capability");
		err = -EBADMSG;
	}
out:
	free(info);
	return err;
}

/* The first mmap() or pread() of a device just opened takes the region. */
static int vfirst_prepare(void)
{
	if (vdev.fd >= 0)
		return 0;
	if (vfio_open(VGPU_C, &vdev))
		return fail("open GPU C's vfio device: %s", vfio_step);
	return 0;
}

static int vmmap_op(void)
{
	void *p = mmap(NULL, VMAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vdev.fd, vreg.offset);

	if (p == MAP_FAILED)
		return -errno;
	vmap = p;
	return 0;
}

static int vpread_op(void)
{
	uint64_t word;
	ssize_t n = pread(vdev.fd, &word, sizeof(word), vreg.offset + 4096);

	if (n < 0)
		return -errno;
	return n == sizeof(word) ? 0 : -EIO;
}

/*
 * The device holds the region or not (the failure came before or after
 * egm_region_acquire()), but no mapping does; closing it ends the tenancy.
 */
static int vfirst_residue(int err)
{
	long n = tenancy_holders("egm0");

	(void)err;
	if (n != 0 && n != 1)
		return fail("egm0: %ld tenancy holders after a failed first access, want 0 or 1",
			    n);
	vfio_close(&vdev);
	return vfio_no_tenant("a failed first access and close");
}

static int vfirst_undo(void)
{
	int err = 0;

	if (vmap) {
		uint64_t *q = (void *)vmap;

		WRITE_ONCE(*q, 0x7c7c);
		if (READ_ONCE(*q) != 0x7c7c)
			err = fail("the mapping reads %#llx",
				   (unsigned long long)READ_ONCE(*q));
		WRITE_ONCE(*q, 0);
		munmap(vmap, VMAP_LEN);
		vmap = NULL;
	}
	if (tenancy_holders("egm0") != 1)
		err = err ?: fail("egm0: %ld tenancy holders, want the device's 1",
				  tenancy_holders("egm0"));
	vfio_close(&vdev);
	return err ?: vfio_no_tenant("close");
}

static int vregion_setup(const char *bdf, uint64_t size)
{
	vfio_close(&vdev);
	egm_vregion_free(&vreg);
	if (vfio_open(bdf, &vdev))
		return fail("open %s's vfio device: %s", bdf, vfio_step);
	if (find_egm_region(vdev.fd, &vreg) != 1 || vreg.size != size)
		return fail("%s: no EGM region of %#llx bytes", bdf,
			    (unsigned long long)size);
	return 0;
}

static int test_vfio_region(void)
{
	static const struct path info_egm = {
		"VFIO_DEVICE_GET_REGION_INFO of GPU A's EGM region", SCOPE_EGM,
		vinfo_op, NULL, NULL, true, false };
	static const struct path info_all = {
		"VFIO_DEVICE_GET_REGION_INFO of GPU A's EGM region", SCOPE_ALL,
		vinfo_op, NULL, NULL, true, false };
	static const struct path map = {
		"first mmap of GPU C's EGM region", SCOPE_ALL, vmmap_op,
		vfirst_residue, vfirst_undo, true, false };
	static const struct path rd = {
		"first pread of GPU C's EGM region", SCOPE_ALL, vpread_op,
		vfirst_residue, vfirst_undo, true, false };

	if (vregion_setup(VGPU_A, 1ULL << 30))
		goto out;
	if (!check(vreg.cap->nr_listed > 0, "GPU A's capability lists no page"))
		goto out;
	run_path(&info_egm);
	run_path(&info_all);
	if (vregion_setup(VGPU_C, 256ULL << 20))
		goto out;
	vfio_close(&vdev);
	run_path_prepared(&map, vfirst_prepare);
	run_path_prepared(&rd, vfirst_prepare);
	vregion_freed();
out:
	vfio_close(&vdev);
	egm_vregion_free(&vreg);
	return failmsg[0] ? -1 : 0;
}

struct test {
	const char *name;
	int (*fn)(void);
};

static const struct test tests[] = {
	{ "fi_load_core", test_core_load },
	{ "fi_load_parent", test_parent_load },
	{ "fi_bind_egm0", test_bind_egm0 },
	{ "fi_bind_egm1", test_bind_egm1 },
	{ "fi_open", test_open },
	{ "fi_open_file", test_open_file },
	{ "fi_scrub", test_scrub },
	{ "fi_unload", test_unload },
	/* The VFIO suite's boot: run only when named (named_only()). */
	{ "fi_vfio_bind", test_vfio_bind },
	{ "fi_vfio_open", test_vfio_open },
	{ "fi_vfio_region", test_vfio_region },
};

#define NR_TESTS ((int)ARRAY_SIZE(tests))

/* The VFIO paths need the VFIO suite's machine: not in the default set. */
static bool named_only(const struct test *t)
{
	return !strncmp(t->name, "fi_vfio_", strlen("fi_vfio_"));
}

/* After each test but the last, what it left (older than 5 s) shows. */
static void leak_cleanup(void)
{
	leak_scan("the last tests", false);
}

int main(int argc, char **argv)
{
	bool run[NR_TESTS];
	int i, j, err;

	if (harness_setup())
		return 1;
	if (getenv("EGM_FI_SUMMARY"))
		summary_prefix = getenv("EGM_FI_SUMMARY");
	if (getenv("EGM_PARENT_PARAMS"))
		parent_params = getenv("EGM_PARENT_PARAMS");
	for (i = 0; i < NR_TESTS; i++)
		run[i] = argc < 2 && !named_only(&tests[i]);
	for (j = 1; j < argc; j++) {
		for (i = 0; i < NR_TESTS && strcmp(argv[j], tests[i].name); i++)
			;
		if (i == NR_TESTS) {
			say("unknown test %s", argv[j]);
			return 2;
		}
		run[i] = true;
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	err = find_module_area();
	if (nth_fd < 0 || kmsg_fd < 0 || err || fi_setup()) {
		say("FAIL setup: fail-nth %s, kmsg %s, _end in kallsyms %s, knobs of %s and %s",
		    nth_fd < 0 ? "missing" : "ok", kmsg_fd < 0 ? "missing" : "ok",
		    err ? "missing" : "found", FAILSLAB, FAIL_PAGE);
		harness_summary(0, 1);
		return 1;
	}
	say("egm-faultinject: module code from %#llx to %#llx",
	    (unsigned long long)module_area_start, MODULES_END);
	if (exists(KMEMLEAK))
		write_text(KMEMLEAK, "clear");
	for (i = 0; i < NR_TESTS; i++)
		tally->remaining += run[i];
	for (i = 0; i < NR_TESTS; i++)
		if (run[i])
			harness_run(tests[i].name, tests[i].fn,
				    tests[i].fn != test_unload ? leak_cleanup : NULL);
	harness_summary(tally->passed, tally->failed);
	return checks_failed || tally->failed ? 1 : 0;
}
