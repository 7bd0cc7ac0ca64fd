// SPDX-License-Identifier: GPL-2.0
/*
 * egm_egmctl: tools/egm/egmctl against the kernel's real sysfs, run as root
 * in the qemu-test guest after egm_sysfs_view, with the regions of
 * tools/testing/egm/init (egm0: one parent, a firmware-retired block; egm1:
 * two parents), both with the chardev frontend.  /bin/egmctl is the tool.
 *
 *   gcc -static -O2 -Wall -Wextra -I include/uapi -o egm_egmctl egm_egmctl.c
 *   egm_egmctl [TEST...]   (no argument: every test, in order)
 *
 * Each command's output must be what sysfs says, in the documented shape;
 * wait-clean must follow a real scrub to "clean" and give up on a region
 * in use after its timeout; bad usage gets exit status 2 and a message;
 * info lists the partitions, whole and split per parent.
 * Prints "ok TEST", "FAIL TEST: ..." and "egmctl: N passed, N failed".
 */
#define CHILD_TIMEOUT_MS	(10 * 1000)	/* the harness's wait for a child */

#include "egm_harness.h"

#define EGMCTL		"/bin/egmctl"
#define VIEW		"/sys/class/egm"
#define CLEAN_MS	(60 * 1000)
#define CMD_MS		(90 * 1000)

static char out[1 << 16], err[4096];

/* Run egmctl with @args (NULL-terminated); its exit status, -1 if none. */
static int egmctl(const char *const *args)
{
	const char *argv[8] = { EGMCTL };
	int po[2], pe[2], status, i;
	size_t no = 0, ne = 0;
	long long end = now_ms() + CMD_MS;
	pid_t pid;

	for (i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(EGMCTL, (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t a = read(po[0], out + no, sizeof(out) - 1 - no);
		ssize_t b = read(pe[0], err + ne, sizeof(err) - 1 - ne);

		if (a > 0)
			no += a;
		if (b > 0)
			ne += b;
		if (a == 0 && b == 0)
			break;
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			break;
		}
		if (a <= 0 && b <= 0)
			sleep_ms(20);
	}
	out[no] = 0;
	err[ne] = 0;
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int wait_clean(const char *region)
{
	return view_wait_clean(region, CLEAN_MS);
}

/* The line of @out that starts with @word and a space, or NULL. */
static const char *line_of(const char *word)
{
	size_t len = strlen(word);
	const char *p;

	for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, word, len) && p[len] == ' ')
			return p;
	return NULL;
}

/* The fields of @out's line for @word, split on blanks; their number. */
static int fields(const char *word, char f[][64], int max)
{
	const char *l = line_of(word);
	char line[512];
	char *save, *tok;
	int n = 0;

	if (!l)
		return 0;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(l, "\n"), l);
	for (tok = strtok_r(line, " ", &save); tok && n < max;
	     tok = strtok_r(NULL, " ", &save))
		snprintf(f[n++], 64, "%s", tok);
	return n;
}

static int test_list(void)
{
	static const char *const args[] = { "list", NULL };
	static const struct {
		const char *name, *pxm, *size, *parents;
	} want[] = {
		{ "egm0", "0", "256.0 MiB", "egm_parent.0" },
		{ "egm1", "1", "1.0 GiB", "egm_parent.1,egm_parent.2" },
	};
	char f[10][64], retired[32], node[32], size[32];
	unsigned int i;
	int rc, n, ret = 0;

	if (wait_clean("egm0") || wait_clean("egm1"))
		return -1;
	rc = egmctl(args);
	CHECK(rc == 0, "egmctl list: exit %d, stderr \"%s\"", rc, err);
	CHECK(!strncmp(out, "REGION ", 7), "egmctl list: no header: \"%.80s\"", out);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		n = fields(want[i].name, f, 10);
		view_attr(want[i].name, "retired_count", retired, sizeof(retired));
		view_attr(want[i].name, "numa_node", node, sizeof(node));
		snprintf(size, sizeof(size), "%s", want[i].size);
		/* REGION PXM NODE SIZE(2 words) STATE RETIRED DEVICE PARENTS */
		CHECK(n == 9, "egmctl list: %d fields for %s: \"%s\"", n,
		      want[i].name, line_of(want[i].name) ?: "(no line)");
		CHECK(!strcmp(f[1], want[i].pxm) && !strcmp(f[2], node),
		      "%s: pxm %s node %s, want %s %s", want[i].name, f[1], f[2],
		      want[i].pxm, node);
		CHECK(!strncmp(size, f[3], strlen(f[3])) && strstr(size, f[4]),
		      "%s: size \"%s %s\", want \"%s\"", want[i].name, f[3], f[4],
		      want[i].size);
		CHECK(!strcmp(f[5], "clean") && !strcmp(f[6], retired),
		      "%s: state %s retired %s, want clean %s", want[i].name, f[5],
		      f[6], retired);
		CHECK(!strncmp(f[7], "/dev/", 5) && !strcmp(f[7] + 5, want[i].name),
		      "%s: device %s, want /dev/%s", want[i].name, f[7], want[i].name);
		CHECK(!strcmp(f[8], want[i].parents), "%s: parents %s, want %s",
		      want[i].name, f[8], want[i].parents);
	}
	say("egmctl: egmctl list printed:");
	for (char *p = out, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		say("egmctl: | %.*s", (int)(nl - p), p);
	}
out:
	return ret;
}

/* The three spellings of a region; every field as sysfs has it. */
static int test_info(void)
{
	static const char *const spellings[] = { "egm1", "1", "/dev/egm1" };
	char first[sizeof(out)], buf[256], want[300];
	unsigned int i;
	int rc, ret = 0;

	for (i = 0; i < ARRAY_SIZE(spellings); i++) {
		const char *args[3];

		args[0] = "info";
		args[1] = spellings[i];
		args[2] = NULL;
		rc = egmctl(args);
		CHECK(rc == 0, "egmctl info %s: exit %d, stderr \"%s\"",
		      spellings[i], rc, err);
		if (!i)
			memcpy(first, out, sizeof(first));
		CHECK(!strcmp(out, first), "egmctl info %s differs from egmctl info egm1",
		      spellings[i]);
	}
	view_attr("egm1", "size", buf, sizeof(buf));
	snprintf(want, sizeof(want), "size:            %s (1.0 GiB)\n", buf);
	CHECK(strstr(out, want), "egmctl info: no \"%.*s\" in \"%s\"",
	      (int)strlen(want) - 1, want, out);
	view_attr("egm1", "state", buf, sizeof(buf));
	snprintf(want, sizeof(want), "state:           %s\n", buf);
	CHECK(strstr(out, want), "egmctl info: no \"%s\"", want);
	CHECK(strstr(out, "parents:         egm_parent.1 egm_parent.2\n"),
	      "egmctl info: parents wrong in \"%s\"", out);
	CHECK(strstr(out, "device:          /dev/egm1\n"),
	      "egmctl info: device wrong in \"%s\"", out);
	CHECK(strstr(out, "gpu_devices:     -\n"),
	      "egmctl info: gpu_devices should be - for the sample: \"%s\"", out);
	CHECK(strstr(out, "frontends:       chardev egm1\n"),
	      "egmctl info: frontends wrong in \"%s\"", out);
out:
	return ret;
}

/* The retired list, byte for byte. */
static int test_retired(void)
{
	static const char *const args[] = { "retired", "egm0", NULL };
	static char want[1 << 16];
	int rc, n, ret = 0;

	n = read_text(VIEW "/egm0/retired_pages", want, sizeof(want));
	CHECK(n > 0, "read retired_pages: %s", errstr(n));
	rc = egmctl(args);
	CHECK(rc == 0, "egmctl retired egm0: exit %d, stderr \"%s\"", rc, err);
	CHECK(!strcmp(out, want), "egmctl retired egm0: \"%.60s...\", sysfs \"%.60s...\"",
	      out, want);
out:
	return ret;
}

/* A tenant leaves egm1 (1 GiB): wait-clean follows its scrub to the end. */
static int test_wait_clean(void)
{
	static const char *const args[] = { "wait-clean", "egm1", NULL };
	char state[32];
	int fd, rc, lines = 0, ret = 0;
	const char *p;

	if (wait_clean("egm1"))
		return -1;
	fd = open("/dev/egm1", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open /dev/egm1: %s", errstr(errno));
	close(fd);
	rc = egmctl(args);
	CHECK(rc == 0, "egmctl wait-clean egm1: exit %d, stderr \"%s\"", rc, err);
	view_attr("egm1", "state", state, sizeof(state));
	CHECK(!strcmp(state, "clean"), "egm1 is \"%s\" after wait-clean returned",
	      state);
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	/* Not a terminal: plain lines, the state before "clean" among them. */
	CHECK(lines >= 2 && !strchr(out, '\r'),
	      "egmctl wait-clean printed %d lines: \"%s\"", lines, out);
	CHECK(strstr(out, "egm1: clean 100%\n") &&
	      (strstr(out, "egm1: dirty") || strstr(out, "egm1: scrubbing")),
	      "egmctl wait-clean egm1: \"%s\"", out);
	say("egmctl: wait-clean printed %d lines, the first \"%.*s\"", lines,
	    (int)strcspn(out, "\n"), out);
out:
	return ret;
}

/* A region in use never gets clean by itself: the timeout ends the wait. */
static int test_wait_clean_timeout(void)
{
	static const char *const args[] = { "wait-clean", "-t", "1", "egm0", NULL };
	long long t0;
	int fd = -1, rc, ret = 0;

	if (wait_clean("egm0"))
		return -1;
	fd = open("/dev/egm0", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open /dev/egm0: %s", errstr(errno));
	t0 = now_ms();
	rc = egmctl(args);
	CHECK(rc == 1, "egmctl wait-clean -t 1 egm0 while in use: exit %d", rc);
	CHECK(now_ms() - t0 < 10000, "egmctl wait-clean -t 1 took %lld ms",
	      now_ms() - t0);
	CHECK(strstr(err, "egm0 is in_use after 1 s"), "stderr \"%s\"", err);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int test_bad_usage(void)
{
	static const struct {
		const char *args[5];
		int rc;
		const char *msg;
	} cases[] = {
		{ { NULL }, 2, "usage:" },
		{ { "info", NULL }, 2, "usage:" },
		{ { "list", "egm0", NULL }, 2, "usage:" },
		{ { "frobnicate", "egm0", NULL }, 2, "usage:" },
		{ { "info", "egm9", NULL }, 1, "no EGM region egm9" },
		{ { "retired", "/dev/egm77", NULL }, 1, "no EGM region egm77" },
		{ { "wait-clean", "-t", "soon", "egm0", NULL }, 2, "bad timeout \"soon\"" },
		{ { "wait-clean", "-t", "-5", "egm0", NULL }, 2, "bad timeout \"-5\"" },
	};
	unsigned int i;
	int rc, ret = 0;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *a0 = cases[i].args[0] ?: "";
		const char *a1 = cases[i].args[0] ? cases[i].args[1] ?: "" : "";

		rc = egmctl(cases[i].args);
		CHECK(rc == cases[i].rc && strstr(err, cases[i].msg),
		      "egmctl %s %s: exit %d, stderr \"%s\"; want %d and \"%s\"",
		      a0, a1, rc, err, cases[i].rc, cases[i].msg);
	}
out:
	return ret;
}

/* "egmctl info" lists the partitions, whole and split per parent. */
static int test_partitions(void)
{
	static const char *const args[] = { "info", "egm1", NULL };
	static const char *const whole[] = {
		"layout:          whole\n",
		"partition0:      egm1 at 0, 1.0 GiB, ",
		"device:          /dev/egm1\n",
	};
	static const char *const split[] = {
		"layout:          per_parent\n",
		"partition1:      egm1.1 at 0, 512.0 MiB, ",
		"partition2:      egm1.2 at 0x20000000, 512.0 MiB, ",
		"device:          /dev/egm1.1 /dev/egm1.2\n",
	};
	unsigned int i;
	int rc, e, ret = 0;

	rc = egmctl(args);
	CHECK(rc == 0, "egmctl info egm1: exit %d, stderr \"%s\"", rc, err);
	for (i = 0; i < ARRAY_SIZE(whole); i++)
		CHECK(strstr(out, whole[i]), "egmctl info: no \"%s\" in \"%s\"",
		      whole[i], out);
	e = write_text(VIEW "/egm1/layout", "per_parent");
	CHECK(!e, "layout per_parent: %s", errstr(e));
	rc = egmctl(args);
	CHECK(rc == 0, "egmctl info egm1, split: exit %d", rc);
	for (i = 0; i < ARRAY_SIZE(split); i++)
		CHECK(strstr(out, split[i]), "egmctl info: no \"%s\" in \"%s\"",
		      split[i], out);
	CHECK(!strstr(out, "partition0:"), "egmctl info: partition0 after the split");
out:
	e = write_text(VIEW "/egm1/layout", "whole");
	if (e && !ret)
		ret = fail("layout whole: %s", errstr(e));
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "ctl_list", test_list },
	{ "ctl_info", test_info },
	{ "ctl_retired", test_retired },
	{ "ctl_wait_clean", test_wait_clean },
	{ "ctl_wait_clean_timeout", test_wait_clean_timeout },
	{ "ctl_bad_usage", test_bad_usage },
	{ "ctl_partitions", test_partitions },
};

static void harness_summary(int passed, int failed)
{
	say("egmctl: %d passed, %d failed", passed, failed);
}

int main(int argc, char **argv)
{
	bool run[ARRAY_SIZE(tests)];
	unsigned int i;
	int j;

	if (harness_setup())
		return 1;
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		run[i] = argc < 2;
		for (j = 1; j < argc; j++)
			run[i] |= !strcmp(argv[j], tests[i].name);
		tally->remaining += run[i];
	}
	for (i = 0; i < ARRAY_SIZE(tests); i++)
		if (run[i])
			harness_run(tests[i].name, tests[i].fn, NULL);
	harness_summary(tally->passed, tally->failed);
	return tally->failed ? 1 : 0;
}
