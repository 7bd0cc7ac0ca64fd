// SPDX-License-Identifier: GPL-2.0
/*
 * egm_partitions: several tenants on one socket's region, run as root in
 * the qemu-test guest after egm_egmctl, with the regions of
 * tools/testing/egm/init: egm1 is 1 GiB with two parents, egm_parent.1 and
 * egm_parent.2, and the chardev frontend.
 *
 *   gcc -static -O2 -Wall -Wextra -I include/uapi -o egm_partitions egm_partitions.c
 *   egm_partitions [TEST...]   (no argument: every test, in order)
 *
 * The region is split per parent (/dev/egm1.1 is egm_parent.1's, 512 MiB
 * from offset 0; /dev/egm1.2 egm_parent.2's, the next 512 MiB), two
 * tenants use it at once, one restarts while the other runs, one parent
 * is reset 100 times while the other partition's tenant keeps touching its
 * memory (and, as its control, the same with the reset's zap widened to the
 * whole region); then the operator's own partitions, the bad requests,
 * and 20 s of layout changes while tenants come and go and parents reset.
 * Every test leaves the region as it found it: one whole-region
 * partition, no tenant.  Prints "ok TEST", "FAIL TEST: ..." and
 * "egm-partitions: N passed, N failed".
 */
#define CHILD_TIMEOUT_MS	(10 * 1000)	/* the harness's wait for a child */

#include "egm_harness.h"

#define REGION		"egm1"
#define VIEW		"/sys/class/egm/" REGION
#define PARENT_A	"egm_parent.1"
#define PARENT_B	"egm_parent.2"
#define PARENT_DEBUGFS	"/sys/kernel/debug/egm_parent"
#define REGION_SIZE	0x40000000ULL
#define HALF		(REGION_SIZE / 2)
#define RESETS		100
#define CLEAN_MS	(120 * 1000)
#define RESET_SCOPED	"/sys/kernel/debug/egm/reset_scoped"
#define CONTROL_RESETS	10

/* A tenant of one partition: its file and its mapping of all of it. */
struct tenant {
	int fd;
	uint8_t *map;
	uint64_t size;
};

#define TENANT_INIT { .fd = -1, .map = NULL }

/* Write @text to the region's attribute @attr; 0 or -errno. */
static int view_write(const char *attr, const char *text)
{
	char path[128];

	snprintf(path, sizeof(path), VIEW "/%s", attr);
	return write_text(path, text);
}

static int parent_reset(const char *parent, bool begin)
{
	char path[128];

	snprintf(path, sizeof(path), PARENT_DEBUGFS "/%s/reset", parent);
	return write_text(path, begin ? "1" : "0");
}

/* Open /dev/@name and map all of it; 0, or fail(). */
static int tenant_open(const char *name, struct tenant *t)
{
	char dev[64];
	off_t end;

	snprintf(dev, sizeof(dev), "/dev/%s", name);
	t->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (t->fd < 0)
		return fail("open %s: %s", dev, errstr(errno));
	track_fd(t->fd);
	end = lseek(t->fd, 0, SEEK_END);
	if (end <= 0)
		return fail("lseek(%s, 0, SEEK_END): %s", dev, errstr(errno));
	t->size = end;
	t->map = map_fd(t->fd, 0, t->size, MAP_SHARED);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		return fail("mmap %s: %s", dev, errstr(errno));
	}
	return 0;
}

static void tenant_close(struct tenant *t)
{
	unmap(t->map, t->size);
	t->map = NULL;
	close_fd(&t->fd);
}

/* Every word of the tenant's memory: its offset, tagged. */
static void fill(struct tenant *t, uint64_t tag)
{
	for (uint64_t off = 0; off < t->size; off += 8)
		put_word(t->map, off, tag ^ off);
}

/* The first word that is not @tag ^ offset (or zero, for tag 0); -1 if none. */
static long long first_bad(struct tenant *t, uint64_t tag)
{
	for (uint64_t off = 0; off < t->size; off += 8) {
		uint64_t want = tag ? tag ^ off : 0;

		if (get_word(t->map, off) != want)
			return (long long)off;
	}
	return -1;
}

static int wait_clean(void)
{
	return view_wait_clean(REGION, CLEAN_MS);
}

/* Back to one whole-region partition, once nobody holds any. */
static void whole_cleanup(void)
{
	int err = view_write("layout", "whole");

	if (err)
		say("cleanup: layout whole: %s", errstr(err));
}

static int split(void)
{
	char buf[32];
	int err;

	err = view_write("layout", "per_parent");
	if (err)
		return fail("echo per_parent > " VIEW "/layout: %s", errstr(err));
	if (view_attr(REGION, "layout", buf, sizeof(buf)) < 0 ||
	    strcmp(buf, "per_parent"))
		return fail(VIEW "/layout is \"%s\" after per_parent", buf);
	return 0;
}

/* Split per parent, then a tenant on each half: 0, or fail(). */
static int open_halves(struct tenant *a, struct tenant *b)
{
	int ret = split();

	if (!ret)
		ret = tenant_open("egm1.1", a);
	if (!ret)
		ret = tenant_open("egm1.2", b);
	return ret;
}

/* Both tenants leave; when the test passed, wait for the scrub. */
static int close_halves(struct tenant *a, struct tenant *b, int ret)
{
	tenant_close(a);
	tenant_close(b);
	return ret ?: wait_clean();
}

/* Without configuration: one partition, the whole region, /dev/egm1. */
static int test_whole_by_default(void)
{
	char buf[64];
	int ret = 0;

	CHECK(view_attr(REGION, "layout", buf, sizeof(buf)) >= 0 &&
	      !strcmp(buf, "whole"), VIEW "/layout is \"%s\", want whole", buf);
	CHECK(view_attr(REGION, "partition0/offset", buf, sizeof(buf)) >= 0 &&
	      !strcmp(buf, "0"), "partition0/offset is \"%s\"", buf);
	CHECK(view_attr(REGION, "partition0/size", buf, sizeof(buf)) >= 0 &&
	      strtoull(buf, NULL, 0) == REGION_SIZE,
	      "partition0/size is \"%s\"", buf);
	CHECK(view_attr(REGION, "partition0/name", buf, sizeof(buf)) >= 0 &&
	      !strcmp(buf, REGION), "partition0/name is \"%s\"", buf);
	CHECK(exists("/dev/" REGION), "/dev/" REGION " is missing");
	CHECK(!exists(VIEW "/partition1"), VIEW "/partition1 exists");
out:
	return ret;
}

/* Each parent its half; the device nodes follow the partitions. */
static int test_split_per_parent(void)
{
	char buf[64];
	int ret = split();

	if (ret)
		return ret;
	CHECK(!exists("/dev/" REGION), "/dev/" REGION " is still there");
	CHECK(exists("/dev/egm1.1") && exists("/dev/egm1.2"),
	      "/dev/egm1.1 or /dev/egm1.2 is missing");
	CHECK(view_attr(REGION, "partition1/size", buf, sizeof(buf)) >= 0 &&
	      strtoull(buf, NULL, 0) == HALF, "partition1/size is \"%s\"", buf);
	CHECK(view_attr(REGION, "partition2/offset", buf, sizeof(buf)) >= 0 &&
	      strtoull(buf, NULL, 0) == HALF,
	      "partition2/offset is \"%s\"", buf);
	CHECK(view_attr(REGION, "partition2/name", buf, sizeof(buf)) >= 0 &&
	      !strcmp(buf, "egm1.2"), "partition2/name is \"%s\"", buf);
	CHECK(!wait_clean(), "%s", failmsg);
	CHECK(!view_write("layout", "whole"), "layout whole: %s", errstr(errno));
	CHECK(exists("/dev/" REGION) && !exists("/dev/egm1.1"),
	      "/dev/" REGION " not back, or /dev/egm1.1 left, after layout whole");
out:
	return ret;
}

/*
 * Two tenants at once, each sees only its own memory; one restarts while
 * the other runs and finds nothing of its previous tenant in any word.
 */
static int test_two_tenants(void)
{
	struct tenant a = TENANT_INIT, b = TENANT_INIT;
	const uint64_t ta = 0xa1a1a1a100000000ULL, tb = 0xb2b2b2b200000000ULL;
	long long bad;
	int ret = 0;

	CHECK(!open_halves(&a, &b), "%s", failmsg);
	CHECK(a.size == HALF && b.size == HALF,
	      "sizes %#llx and %#llx, want %#llx each", (unsigned long long)a.size,
	      (unsigned long long)b.size, HALF);
	/* Each partition is exclusive, not the region. */
	CHECK(open("/dev/egm1.1", O_RDWR | O_CLOEXEC) < 0 && errno == EBUSY,
	      "a second open of /dev/egm1.1 did not fail with EBUSY");

	fill(&a, ta);
	fill(&b, tb);
	bad = first_bad(&a, ta);
	CHECK(bad < 0, "egm1.1 +%#llx does not hold its own pattern", bad);
	bad = first_bad(&b, tb);
	CHECK(bad < 0, "egm1.2 +%#llx does not hold its own pattern", bad);

	/* egm1.1 restarts at once; egm1.2 runs on. */
	tenant_close(&a);
	CHECK(!tenant_open("egm1.1", &a), "%s", failmsg);
	bad = first_bad(&a, 0);
	CHECK(bad < 0, "restarted egm1.1 sees its last tenant's data at +%#llx",
	      bad);
	bad = first_bad(&b, tb);
	CHECK(bad < 0, "egm1.2 lost its data at +%#llx when egm1.1 restarted",
	      bad);
	fill(&a, ta);
	bad = first_bad(&b, tb);
	CHECK(bad < 0, "egm1.1's new tenant wrote into egm1.2 at +%#llx", bad);
	say("egm-partitions: two tenants, one restarted: %llu MiB each, every word checked",
	    (unsigned long long)(HALF >> 20));
out:
	return close_halves(&a, &b, ret);
}

/*
 * @n resets of egm_parent.1's GPU, tenants on both halves: egm1.2's memory
 * is touched every 2 MiB inside each reset, egm1.1's first word after it.
 * The faults each partition took go to @da and @db, the slowest pass over
 * egm1.2 inside a reset to @worst (ms).  0, or fail().
 */
static int resets_of_a(int n, struct tenant *a, struct tenant *b,
		       long long *da, long long *db, long long *worst)
{
	struct faults fa0, fa1, fb0, fb1;
	bool in_reset = false;
	int i, err, ret = 0;

	*worst = 0;
	CHECK(!read_faults("egm1.1", &fa0) && !read_faults("egm1.2", &fb0),
	      "%s", failmsg);
	for (i = 0; i < n; i++) {
		long long t0;

		err = parent_reset(PARENT_A, true);
		CHECK(!err, "reset %s begin: %s", PARENT_A, errstr(err));
		in_reset = true;
		t0 = now_ms();
		for (uint64_t off = 0; off < b->size; off += 1 << 21)
			put_word(b->map, off, get_word(b->map, off));
		if (now_ms() - t0 > *worst)
			*worst = now_ms() - t0;
		err = parent_reset(PARENT_A, false);
		CHECK(!err, "reset %s end: %s", PARENT_A, errstr(err));
		in_reset = false;
		put_word(a->map, 0, get_word(a->map, 0) + 1);
	}
	CHECK(!read_faults("egm1.1", &fa1) && !read_faults("egm1.2", &fb1),
	      "%s", failmsg);
	*da = fault_sum(&fa1) - fault_sum(&fa0);
	*db = fault_sum(&fb1) - fault_sum(&fb0);
out:
	if (in_reset)
		parent_reset(PARENT_A, false);
	return ret;
}

/*
 * egm_parent.1's GPU is reset 100 times while egm1.2's tenant keeps
 * touching its memory: egm1.2 takes no fault and loses nothing; egm1.1's
 * mappings were zapped each time (they fault back in).
 */
static int test_reset_scoped(void)
{
	struct tenant a = TENANT_INIT, b = TENANT_INIT;
	const uint64_t tb = 0xb3b3b3b300000000ULL;
	long long bad, da, db, worst;
	int ret = 0;

	CHECK(!open_halves(&a, &b), "%s", failmsg);
	fill(&b, tb);
	put_word(a.map, 0, 1);
	CHECK(!resets_of_a(RESETS, &a, &b, &da, &db, &worst), "%s", failmsg);
	CHECK(db == 0, "egm1.2 took %lld faults during %d resets of %s's GPU",
	      db, RESETS, PARENT_A);
	CHECK(da >= RESETS,
	      "egm1.1 faulted %lld times across %d resets of its GPU: it was not zapped",
	      da, RESETS);
	CHECK(get_word(a.map, 0) == 1 + RESETS, "egm1.1's counter is %llu",
	      (unsigned long long)get_word(a.map, 0));
	bad = first_bad(&b, tb);
	CHECK(bad < 0, "egm1.2 changed at +%#llx during the resets", bad);
	say("egm-partitions: %d resets of %s: faults of egm1.1 %lld, of egm1.2 %lld",
	    RESETS, PARENT_A, da, db);
	say("egm-partitions: slowest pass over egm1.2 inside a reset: %lld ms",
	    worst);
out:
	return close_halves(&a, &b, ret);
}

/*
 * The control of reset_scoped: with the zap of a reset widened to the whole
 * region (debugfs reset_scoped=N, as before partitions), the same resets
 * make egm1.2 fault again, so reset_scoped's zero is the scoping's doing.
 */
static int test_reset_scoped_control(void)
{
	struct tenant a = TENANT_INIT, b = TENANT_INIT;
	long long da, db, worst;
	int err, ret = 0;

	err = write_text(RESET_SCOPED, "N");
	CHECK(!err, "write N to " RESET_SCOPED ": %s", errstr(err));
	CHECK(!open_halves(&a, &b), "%s", failmsg);
	CHECK(!resets_of_a(CONTROL_RESETS, &a, &b, &da, &db, &worst), "%s",
	      failmsg);
	CHECK(db >= CONTROL_RESETS,
	      "with the zap unscoped, egm1.2 faulted %lld times in %d resets: the suite cannot tell",
	      db, CONTROL_RESETS);
	say("egm-partitions: control: reset_scoped=N, %d resets of %s: faults of egm1.2 %lld",
	    CONTROL_RESETS, PARENT_A, db);
out:
	write_text(RESET_SCOPED, "Y");
	return close_halves(&a, &b, ret);
}

static void scoped_cleanup(void)
{
	write_text(RESET_SCOPED, "Y");
	whole_cleanup();
}

/*
 * An operator's own partitions: made and deleted through sysfs, named
 * /dev/egm1.<index>; no GPU's reset reaches them.
 */
static int test_operator_partitions(void)
{
	struct tenant a = TENANT_INIT;
	struct faults f0, f1;
	char buf[32];
	int err, ret = 0;

	err = view_write("partition_delete", "0");
	CHECK(!err, "partition_delete 0: %s", errstr(err));
	CHECK(!exists("/dev/" REGION), "/dev/" REGION " is still there");
	err = view_write("partition_create", "0 0x4000000");
	CHECK(!err, "partition_create 0 64M: %s", errstr(err));
	err = view_write("partition_create", "0x4000000 0x4000000");
	CHECK(!err, "partition_create 64M 64M: %s", errstr(err));
	CHECK(view_attr(REGION, "layout", buf, sizeof(buf)) >= 0 &&
	      !strcmp(buf, "custom"), VIEW "/layout is \"%s\", want custom", buf);
	CHECK(!tenant_open("egm1.2", &a), "%s", failmsg);
	CHECK(a.size == 0x4000000, "egm1.2 is %#llx bytes",
	      (unsigned long long)a.size);
	put_word(a.map, 0, 7);
	CHECK(!read_faults("egm1.2", &f0), "%s", failmsg);
	for (int i = 0; i < 10; i++) {
		err = parent_reset(i & 1 ? PARENT_B : PARENT_A, true);
		CHECK(!err, "reset begin: %s", errstr(err));
		put_word(a.map, 0, get_word(a.map, 0));
		err = parent_reset(i & 1 ? PARENT_B : PARENT_A, false);
		CHECK(!err, "reset end: %s", errstr(err));
	}
	CHECK(!read_faults("egm1.2", &f1), "%s", failmsg);
	CHECK(fault_sum(&f1) == fault_sum(&f0),
	      "a GPU reset reached an operator's partition: %lld faults",
	      fault_sum(&f1) - fault_sum(&f0));
	/* In use: neither deleted nor re-laid out. */
	err = view_write("partition_delete", "2");
	CHECK(err == -EBUSY, "partition_delete of a partition in use: %s, want EBUSY",
	      errstr(err));
	err = view_write("layout", "whole");
	CHECK(err == -EBUSY, "layout whole with a tenant: %s, want EBUSY",
	      errstr(err));
out:
	tenant_close(&a);
	if (!ret) {
		err = view_write("layout", "whole");
		if (err)
			ret = fail("layout whole: %s", errstr(err));
	}
	if (!ret)
		ret = wait_clean();
	return ret;
}

/* Bad requests: a clear errno each, and the layout unchanged. */
static int test_bad_requests(void)
{
	static const struct { const char *attr, *text; int err; } bad[] = {
		{ "partition_create", "0 0x200000", EEXIST },	/* the whole one */
		{ "partition_create", "0x100000 0x200000", EINVAL },
		{ "partition_create", "0 0x100000", EINVAL },
		{ "partition_create", "0x3fe00000 0x400000", ERANGE },
		{ "partition_create", "0 0", EINVAL },
		{ "partition_create", "banana", EINVAL },
		{ "partition_create", "0x200000 0xffffffffffffffff", EOVERFLOW },
		{ "partition_delete", "9", ENOENT },
		{ "partition_delete", "x", EINVAL },
		{ "layout", "halves", EINVAL },
	};
	struct tenant t = TENANT_INIT;
	char buf[32];
	int err, ret = 0;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		err = view_write(bad[i].attr, bad[i].text);
		CHECK(err == -bad[i].err, "\"%s\" > %s: %s, want %s", bad[i].text,
		      bad[i].attr, errstr(err), errstr(bad[i].err));
	}
	CHECK(!tenant_open(REGION, &t), "%s", failmsg);
	err = view_write("partition_delete", "0");
	CHECK(err == -EBUSY, "partition_delete 0 in use: %s, want EBUSY",
	      errstr(err));
	err = view_write("layout", "per_parent");
	CHECK(err == -EBUSY, "layout per_parent in use: %s, want EBUSY",
	      errstr(err));
	CHECK(view_attr(REGION, "layout", buf, sizeof(buf)) >= 0 &&
	      !strcmp(buf, "whole"), "layout is \"%s\" after refusals", buf);
out:
	tenant_close(&t);
	if (!ret)
		ret = wait_clean();
	return ret;
}

#define CHURN_MS	(20 * 1000)
#define CHURN_TENANTS	3

/* xorshift64: each churning child's own sequence of choices. */
static uint64_t churn_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * A churning tenant: opens any of egm1's possible nodes, and on success
 * checks that a fresh tenancy reads zeros where it looks, writes, reads
 * back, and leaves.  Exits 0, or 1 after printing what went wrong.
 */
static __noreturn void churn_tenant(uint64_t seed, long long end)
{
	static const char *const nodes[] = {
		"/dev/egm1", "/dev/egm1.1", "/dev/egm1.2", "/dev/egm1.3",
	};
	unsigned long opened = 0, refused = 0;
	uint64_t x = seed | 1;

	while (now_ms() < end) {
		const char *node = nodes[churn_next(&x) % ARRAY_SIZE(nodes)];
		int fd = open(node, O_RDWR | O_CLOEXEC);
		off_t size;
		void *p;

		if (fd < 0) {
			if (errno != ENOENT && errno != EBUSY && errno != ENODEV) {
				say("churn: open %s: %s", node, errstr(errno));
				_exit(1);
			}
			refused++;
			sleep_ms(2);
			continue;
		}
		size = lseek(fd, 0, SEEK_END);
		p = size > 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE,
				    MAP_SHARED, fd, 0) : MAP_FAILED;
		if (p == MAP_FAILED) {
			say("churn: mmap %s (%lld bytes): %s", node,
			    (long long)size, errstr(errno));
			_exit(1);
		}
		for (int i = 0; i < 4; i++) {
			uint64_t off = (churn_next(&x) % (size / 8)) * 8;

			if (get_word(p, off)) {
				say("churn: %s +%#llx holds %#llx, an earlier tenant's",
				    node, (unsigned long long)off,
				    (unsigned long long)get_word(p, off));
				_exit(1);
			}
			put_word(p, off, x | 1);
			if (get_word(p, off) != (x | 1)) {
				say("churn: %s +%#llx lost a write", node,
				    (unsigned long long)off);
				_exit(1);
			}
		}
		munmap(p, size);
		close(fd);
		opened++;
		/* Leave the writer of the layout a moment with no tenant. */
		sleep_ms(5);
	}
	say("churn: tenant %llu: %lu tenancies, %lu opens refused",
	    (unsigned long long)seed, opened, refused);
	_exit(0);
}

/* Resets of both parents, as long as the churn lasts. */
static __noreturn void churn_resetter(long long end)
{
	unsigned long n = 0;

	while (now_ms() < end) {
		const char *parent = n & 1 ? PARENT_B : PARENT_A;

		if (parent_reset(parent, true) || parent_reset(parent, false)) {
			say("churn: reset %s failed", parent);
			_exit(1);
		}
		n++;
	}
	say("churn: %lu resets", n);
	_exit(0);
}

/*
 * The layout changes while tenants come and go and parents reset: each
 * change succeeds, or is refused with EBUSY because a tenant holds a
 * partition; no tenant ever sees another's data, every open succeeds or
 * is refused as the moment explains, and the kernel reports nothing.
 */
static int test_churn(void)
{
	static const char *const custom[] = { "0 0x8000000",
		"0x8000000 0x8000000", "0x30000000 0x10000000" };
	unsigned long changes = 0, busy = 0;
	long long end = now_ms() + CHURN_MS;
	pid_t kids[CHURN_TENANTS + 1];
	int i, err, status, ret = 0;

	for (i = 0; i <= CHURN_TENANTS; i++) {
		kids[i] = spawn();
		CHECK(kids[i] >= 0, "fork: %s", errstr(errno));
		if (!kids[i]) {
			if (i == CHURN_TENANTS)
				churn_resetter(end);
			churn_tenant(0x9e3779b97f4a7c15ULL * (i + 1), end);
		}
	}
	for (unsigned long n = 0; now_ms() < end; n++) {
		switch (n % 3) {
		case 0:
			err = view_write("layout", "per_parent");
			break;
		case 1:
			err = view_write("layout", "whole");
			if (!err)
				err = view_write("partition_delete", "0");
			for (unsigned int j = 0; !err && j < ARRAY_SIZE(custom); j++)
				err = view_write("partition_create", custom[j]);
			break;
		default:
			err = view_write("layout", "whole");
			break;
		}
		if (err == -EBUSY) {
			busy++;
			continue;
		}
		CHECK(!err, "layout change %lu: %s", n % 3, errstr(err));
		changes++;
	}
	for (i = 0; i <= CHURN_TENANTS; i++) {
		err = wait_child(kids[i], CHURN_MS, &status);
		CHECK(!err, "churning child %d did not end: %s", i, errstr(err));
		CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		      "churning child %d failed (status %#x)", i, status);
	}
	say("egm-partitions: churn: %lu layout changes, %lu refused busy", changes,
	    busy);
	CHECK(changes > 0, "no layout change got through in %d s", CHURN_MS / 1000);
out:
	if (!ret) {
		err = view_write("layout", "whole");
		if (err)
			ret = fail("layout whole: %s", errstr(err));
	}
	if (!ret)
		ret = wait_clean();
	return ret;
}

static const struct harness_test tests[] = {
	{ "whole_by_default", test_whole_by_default, NULL },
	{ "split_per_parent", test_split_per_parent, whole_cleanup },
	{ "two_tenants", test_two_tenants, whole_cleanup },
	{ "reset_scoped", test_reset_scoped, whole_cleanup },
	{ "reset_scoped_control", test_reset_scoped_control, scoped_cleanup },
	{ "operator_partitions", test_operator_partitions, whole_cleanup },
	{ "bad_requests", test_bad_requests, whole_cleanup },
	{ "churn", test_churn, whole_cleanup },
};

static void harness_summary(int passed, int failed)
{
	say("egm-partitions: %d passed, %d failed", passed, failed);
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, tests, ARRAY_SIZE(tests));
}
