// SPDX-License-Identifier: GPL-2.0
/*
 * egm_sysfs_view: the read-only view /sys/class/egm/egm<pxm>
 * (Documentation/ABI/testing/sysfs-class-egm), run as root in the
 * qemu-test guest after egm_e2e, with the regions of tools/testing/egm/init
 * (egm0: one parent, a firmware-retired block; egm1: two parents).
 *
 *   gcc -static -O2 -Wall -Wextra -I include/uapi -o egm_sysfs_view egm_sysfs_view.c
 *   egm_sysfs_view [TEST...]   (no argument: every test, in order)
 *
 * The values must be those of the uAPI (EGM_GET_INFO, the retired list of
 * EGM_GET_RETIRED_PAGES) and of the formats tools in the field read
 * (egm_size in hex, gpu_devices); reading all of it, while idle or while
 * a tenant maps the region, must change nothing: no state change, no
 * scrub, no tenancy hold, the tenant's data intact; and each change of
 * state must come as a uevent.  Prints "ok TEST", "FAIL TEST: ..." and
 * "sysfs-view: N passed, N failed".
 */
#define CHILD_TIMEOUT_MS	(10 * 1000)	/* the harness's wait for a child */

#include "egm_harness.h"

#include <linux/egm.h>
#include <sys/param.h>

#define VIEW		"/sys/class/egm"
#define CLEAN_MS	(60 * 1000)
#define RETIRED_LINE	19	/* "0x%016llx\n" */

static const char *const regions[] = { "egm0", "egm1" };
static const char *const attrs[] = {
	"size", "egm_size", "pxm", "numa_node", "state", "scrub_progress",
	"retired_count", "retired_granularity", "gpu_devices", "frontends",
	"retired_pages",
};

static unsigned long long attr_ull(const char *name, const char *a)
{
	char buf[64] = "";

	view_attr(name, a, buf, sizeof(buf));
	return strtoull(buf, NULL, 0);
}

static int wait_clean(const char *name)
{
	return view_wait_clean(name, CLEAN_MS);
}

/* Every attribute, whole: what a monitoring tool reads. */
static int read_everything(const char *name)
{
	static char buf[1 << 16];
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(path, sizeof(path), VIEW "/%s/%s", name, attrs[i]);
		if (read_text(path, buf, sizeof(buf)) < 0)
			return fail("read %s: %s", path, errstr(errno));
	}
	return 0;
}

static int open_region(const char *name, int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		track_fd(fd);
	return fd < 0 ? -errno : fd;
}

/* The values are the uAPI's, in the documented formats. */
static int test_values(void)
{
	char buf[256], want[64];
	struct egm_info info = { .argsz = sizeof(info) };
	unsigned int i;
	int fd, ret = 0;

	for (i = 0; i < ARRAY_SIZE(regions); i++) {
		const char *name = regions[i];

		if (wait_clean(name))
			return -1;
		fd = open_region(name, O_RDWR);
		if (fd < 0)
			return fail("open /dev/%s: %s", name, errstr(-fd));
		if (ioctl(fd, EGM_GET_INFO, &info))
			return fail("EGM_GET_INFO on %s: %s", name, errstr(errno));
		CHECK(attr_ull(name, "size") == info.size, "%s size %llu, want %llu",
		      name, attr_ull(name, "size"), (unsigned long long)info.size);
		snprintf(want, sizeof(want), "0x%llx", (unsigned long long)info.size);
		view_attr(name, "egm_size", buf, sizeof(buf));
		CHECK(!strcmp(buf, want), "%s egm_size \"%s\", want \"%s\"", name,
		      buf, want);
		CHECK(attr_ull(name, "pxm") == info.pxm, "%s pxm %llu, want %u",
		      name, attr_ull(name, "pxm"), info.pxm);
		view_attr(name, "numa_node", buf, sizeof(buf));
		CHECK(atoi(buf) == info.numa_node, "%s numa_node %s, want %d", name,
		      buf, info.numa_node);
		CHECK(attr_ull(name, "retired_count") == info.nr_retired,
		      "%s retired_count %llu, want %u", name,
		      attr_ull(name, "retired_count"), info.nr_retired);
		CHECK(attr_ull(name, "retired_granularity") == info.poison_granularity,
		      "%s retired_granularity %llu, want %u", name,
		      attr_ull(name, "retired_granularity"),
		      info.poison_granularity);
		view_attr(name, "state", buf, sizeof(buf));
		CHECK(!strcmp(buf, "in_use"), "%s state \"%s\" while open, want in_use",
		      name, buf);
		/* The sample parents are platform devices: no GPU to list. */
		CHECK(view_attr(name, "gpu_devices", buf, sizeof(buf)) == 0,
		      "%s gpu_devices \"%s\", want empty", name, buf);
		snprintf(want, sizeof(want), "chardev %s", name);
		view_attr(name, "frontends", buf, sizeof(buf));
		CHECK(!strcmp(buf, want), "%s frontends \"%s\", want \"%s\"",
		      name, buf, want);
		close_fd(&fd);
		if (wait_clean(name))
			return -1;
		view_attr(name, "scrub_progress", buf, sizeof(buf));
		snprintf(want, sizeof(want), "%llu %llu",
			 (unsigned long long)info.size, (unsigned long long)info.size);
		CHECK(!strcmp(buf, want), "%s scrub_progress \"%s\" when clean, want \"%s\"",
		      name, buf, want);
	}
out:
	return ret;
}

/* retired_pages lists what EGM_GET_RETIRED_PAGES lists, read at any offset. */
static int test_retired_list(void)
{
	static char text[1 << 16], part[1 << 16];
	struct egm_retired_pages *rp;
	size_t size = sizeof(*rp) + 4096 * sizeof(__u64);
	char path[128], line[32];
	int fd, n, ret = -1;
	unsigned int i;
	ssize_t got;

	snprintf(path, sizeof(path), VIEW "/egm0/retired_pages");
	if (wait_clean("egm0"))
		return -1;
	fd = open_region("egm0", O_RDWR);
	if (fd < 0)
		return fail("open /dev/egm0: %s", errstr(-fd));
	rp = calloc(1, size);
	if (!rp)
		return fail("out of memory");
	rp->argsz = size;
	if (ioctl(fd, EGM_GET_RETIRED_PAGES, rp)) {
		fail("EGM_GET_RETIRED_PAGES: %s", errstr(errno));
		goto out;
	}
	close_fd(&fd);
	n = read_text(path, text, sizeof(text));
	if (n < 0) {
		fail("read %s: %s", path, errstr(n));
		goto out;
	}
	if (!rp->count || n != (int)(rp->count * RETIRED_LINE)) {
		fail("%s: %d bytes for %u retired pages, want %u lines of %d", path,
		     n, rp->count, rp->count, RETIRED_LINE);
		goto out;
	}
	for (i = 0; i < rp->count; i++) {
		snprintf(line, sizeof(line), "0x%016llx\n",
			 (unsigned long long)rp->offsets[i]);
		if (memcmp(text + i * RETIRED_LINE, line, RETIRED_LINE)) {
			fail("%s line %u: \"%.18s\", want \"%.18s\"", path, i,
			     text + i * RETIRED_LINE, line);
			goto out;
		}
	}
	/* Reads that start and end inside lines see the same bytes. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("open %s: %s", path, errstr(errno));
		goto out;
	}
	track_fd(fd);
	for (i = 0; i < 3; i++) {
		const off_t offs[] = { 7, RETIRED_LINE * 5 + 3, n - 4 };
		const size_t lens[] = { 30, 100, 10 };
		off_t off = offs[i];
		size_t len = lens[i];

		got = pread(fd, part, len, off);
		if (got != (ssize_t)MIN(len, (size_t)(n - off)) ||
		    memcmp(part, text + off, got)) {
			fail("pread(%zu at %lld) of %s: %zd bytes, not the list's",
			     len, (long long)off, path, got);
			goto out;
		}
	}
	got = pread(fd, part, 16, n);
	CHECK(got == 0, "pread at the end of %s: %zd, want 0", path, got);
	say("sysfs-view: egm0 retired_pages: %u lines, first %.18s", rp->count,
	    text);
	ret = 0;
out:
	free(rp);
	return ret;
}

/* Reading everything while idle leaves a clean region clean: no scrub. */
static int test_idle_undisturbed(void)
{
	char progress[64], now[64], state[32];
	unsigned int i, r;
	int fd, ret = 0;

	for (r = 0; r < ARRAY_SIZE(regions); r++) {
		if (wait_clean(regions[r]))
			return -1;
		view_attr(regions[r], "scrub_progress", progress, sizeof(progress));
		for (i = 0; i < 20; i++)
			if (read_everything(regions[r]))
				return -1;
		view_attr(regions[r], "state", state, sizeof(state));
		CHECK(!strcmp(state, "clean"), "%s is \"%s\" after reading, want clean",
		      regions[r], state);
		view_attr(regions[r], "scrub_progress", now, sizeof(now));
		CHECK(!strcmp(now, progress), "%s scrub_progress went from \"%s\" to \"%s\"",
		      regions[r], progress, now);
		CHECK(tenancy_holders(regions[r]) == 0, "%s: %ld tenancy holders after reading",
		      regions[r], tenancy_holders(regions[r]));
		/* Still clean: a non-blocking open takes it at once. */
		fd = open_region(regions[r], O_RDWR | O_NONBLOCK);
		CHECK(fd >= 0, "O_NONBLOCK open of %s after reading: %s", regions[r],
		      errstr(-fd));
		close_fd(&fd);
	}
out:
	return ret;
}

/* Reading everything while a tenant maps the region changes nothing. */
static int test_in_use_undisturbed(void)
{
	const size_t len = 4 << 20;
	char state[32];
	long before;
	uint64_t *p;
	size_t i;
	int fd, ret = 0;

	if (wait_clean("egm1"))
		return -1;
	fd = open_region("egm1", O_RDWR);
	if (fd < 0)
		return fail("open /dev/egm1: %s", errstr(-fd));
	p = map_fd(fd, 0, len, PROT_READ | PROT_WRITE);
	if (!p)
		return -1;
	for (i = 0; i < len / 8; i++)
		p[i] = 0x5157e5a11ULL ^ i;
	before = tenancy_holders("egm1");
	for (i = 0; i < 20; i++)
		if (read_everything("egm1"))
			return -1;
	view_attr("egm1", "state", state, sizeof(state));
	CHECK(!strcmp(state, "in_use"), "egm1 is \"%s\" while mapped, want in_use",
	      state);
	CHECK(tenancy_holders("egm1") == before, "egm1 tenancy holders %ld after reading, were %ld",
	      tenancy_holders("egm1"), before);
	for (i = 0; i < len / 8; i++)
		CHECK(p[i] == (0x5157e5a11ULL ^ i), "egm1 word %zu changed under the reader", i);
out:
	return ret;
}

#define PARENT_DRIVER	"/sys/bus/platform/drivers/egm_parent"

static int parent_bind(const char *parent, bool bind)
{
	return write_text(bind ? PARENT_DRIVER "/bind" : PARENT_DRIVER "/unbind",
			  parent);
}

static void rebind_cleanup(void)
{
	parent_bind("egm_parent.1", true);
	parent_bind("egm_parent.2", true);
}

/*
 * Readers of every attribute while the region's parents leave (it is
 * retired: its view goes) and come back: no reader may hold up the
 * retirement, which waits for readers to leave (a reader that waited for
 * the registry's lock would wait forever), and the view comes back whole.
 */
static int test_read_during_unbind(void)
{
	const char *const parents[] = { "egm_parent.2", "egm_parent.1" };
	long long end;
	int status, err, i, ret = 0;
	char buf[256];
	pid_t pid;

	if (wait_clean("egm1"))
		return -1;
	pid = spawn();
	if (pid < 0)
		return fail("fork: %s", errstr(errno));
	if (!pid) {
		static char big[1 << 16];
		unsigned int a;

		/* Until killed: the parent decides when the churn is over. */
		for (;;)
			for (a = 0; a < ARRAY_SIZE(attrs); a++) {
				char path[128];

				snprintf(path, sizeof(path), VIEW "/egm1/%s", attrs[a]);
				read_text(path, big, sizeof(big));
			}
	}
	for (int round = 0; round < 5; round++) {
		for (i = 0; i < 2; i++) {
			err = parent_bind(parents[i], false);
			CHECK(!err, "unbind %s: %s", parents[i], errstr(err));
		}
		CHECK(!exists(VIEW "/egm1"), "%s/egm1 still there with no parent", VIEW);
		for (i = 1; i >= 0; i--) {
			err = parent_bind(parents[i], true);
			CHECK(!err, "bind %s: %s", parents[i], errstr(err));
		}
	}
	kill(pid, SIGKILL);
	CHECK(!wait_child(pid, CHILD_TIMEOUT_MS, &status), "the reader did not die");
	end = now_ms() + CLEAN_MS;
	while (view_attr("egm1", "state", buf, sizeof(buf)) < 0 && now_ms() < end)
		sleep_ms(50);
	CHECK(attr_ull("egm1", "size") == 1ULL << 30, "egm1 size %llu after rebinding",
	      attr_ull("egm1", "size"));
	if (wait_clean("egm1"))
		return -1;
out:
	return ret;
}

/*
 * One uevent per change of state, in order, from an open and a close.  The
 * test kernel has no networking, so no netlink: the kernel's uevent helper
 * (CONFIG_UEVENT_HELPER) sees the same events with the same environment.
 * Helpers run concurrently, so their lines are put in order by SEQNUM.
 */
#define UEVENT_HELPER	"/sys/kernel/uevent_helper"
#define UEVENT_SCRIPT	"/tmp/egm-uevent-helper"
#define UEVENT_LOG	"/tmp/egm-uevents"

struct uevent { unsigned long long seq; char state[16]; };

static int cmp_uevent(const void *a, const void *b)
{
	const struct uevent *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The egm0 state changes the helper logged, in order; their number. */
static int egm0_uevents(struct uevent *ev, int max)
{
	char line[256], action[32], devpath[128], state[16];
	unsigned long long seq;
	FILE *f = fopen(UEVENT_LOG, "r");
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		state[0] = 0;
		if (sscanf(line, "%llu %31s %127s %15s", &seq, action, devpath,
			   state) == 4 && !strcmp(action, "change") &&
		    !strcmp(devpath, "/devices/virtual/egm/egm0")) {
			ev[n].seq = seq;
			snprintf(ev[n].state, sizeof(ev[n].state), "%s", state);
			n++;
		}
	}
	fclose(f);
	qsort(ev, n, sizeof(*ev), cmp_uevent);
	return n;
}

static void uevent_cleanup(void)
{
	write_text(UEVENT_HELPER, "\n");
}

static int test_uevents(void)
{
	static const char *const want[] = { "in_use", "dirty", "scrubbing", "clean" };
	struct uevent ev[32];
	char seen[256] = "";
	long long end;
	int fd, n = 0, i, ret = 0;
	FILE *f;

	if (!exists(UEVENT_HELPER))
		return fail("no %s: the kernel has no CONFIG_UEVENT_HELPER", UEVENT_HELPER);
	if (wait_clean("egm0"))
		return -1;
	unlink(UEVENT_LOG);
	f = fopen(UEVENT_SCRIPT, "w");
	if (!f)
		return fail("create %s: %s", UEVENT_SCRIPT, errstr(errno));
	fprintf(f, "#!/bin/sh\necho \"$SEQNUM $ACTION $DEVPATH ${EGM_STATE:--}\" >> %s\n",
		UEVENT_LOG);
	fclose(f);
	chmod(UEVENT_SCRIPT, 0755);
	if (write_text(UEVENT_HELPER, UEVENT_SCRIPT))
		return fail("write %s: %s", UEVENT_HELPER, errstr(errno));

	fd = open_region("egm0", O_RDWR);
	if (fd < 0)
		return fail("open /dev/egm0: %s", errstr(-fd));
	close_fd(&fd);
	end = now_ms() + CLEAN_MS;
	while (now_ms() < end) {
		n = egm0_uevents(ev, ARRAY_SIZE(ev));
		if (n && !strcmp(ev[n - 1].state, "clean"))
			break;
		sleep_ms(100);
	}
	sleep_ms(300);	/* a straggler would be a change too many */
	uevent_cleanup();
	n = egm0_uevents(ev, ARRAY_SIZE(ev));
	for (i = 0; i < n; i++)
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s",
			 i ? " " : "", ev[i].state);
	CHECK(n == (int)ARRAY_SIZE(want), "egm0 uevents \"%s\", want in_use dirty scrubbing clean",
	      seen);
	for (i = 0; i < n; i++)
		CHECK(!strcmp(ev[i].state, want[i]),
		      "egm0 uevents \"%s\", want in_use dirty scrubbing clean", seen);
	say("sysfs-view: egm0 uevents: %s", seen);
out:
	return ret;
}

static const struct harness_test tests[] = {
	{ "view_values", test_values, NULL },
	{ "view_retired_list", test_retired_list, NULL },
	{ "view_idle_undisturbed", test_idle_undisturbed, NULL },
	{ "view_in_use_undisturbed", test_in_use_undisturbed, NULL },
	{ "view_read_during_unbind", test_read_during_unbind, rebind_cleanup },
	{ "view_uevents", test_uevents, uevent_cleanup },
};

static void harness_summary(int passed, int failed)
{
	say("sysfs-view: %d passed, %d failed", passed, failed);
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, tests, ARRAY_SIZE(tests));
}
