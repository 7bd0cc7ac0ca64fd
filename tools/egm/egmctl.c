// SPDX-License-Identifier: GPL-2.0
/*
 * egmctl: look at the Extended GPU Memory (EGM) regions of a host.
 *
 * It reads /sys/class/egm only (Documentation/ABI/testing/sysfs-class-egm),
 * so it never opens, dirties or scrubs a region and works while VMs run.
 *
 *   egmctl list                              every region, one line each
 *   egmctl info REGION                       everything about one region,
 *                                            its partitions included
 *   egmctl retired REGION                    its retired pages, a line each
 *   egmctl wait-clean [-t SECONDS] REGION    until it is clean
 *
 * REGION is egm<pxm>, the PXM alone, or /dev/egm<pxm>.  Exit status: 0,
 * 1 when the region is not there or wait-clean timed out, 2 for a usage
 * error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EGM_CLASS	"/sys/class/egm"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *prog = "egmctl";

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s list\n"
		"       %s info REGION\n"
		"       %s retired REGION\n"
		"       %s wait-clean [-t SECONDS] REGION\n"
		"REGION: egm<pxm>, <pxm> or /dev/egm<pxm>; read from " EGM_CLASS "\n",
		prog, prog, prog, prog);
}

/* One attribute, without its trailing newline; -errno when unreadable. */
static int attr(const char *region, const char *name, char *buf, size_t size)
{
	char path[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), EGM_CLASS "/%s/%s", region, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	/* The trailing newline only: a list keeps one item per line. */
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = 0;
	return 0;
}

static unsigned long long attr_ull(const char *region, const char *name)
{
	char buf[64];

	return attr(region, name, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 0);
}

static const char *human(unsigned long long bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

/* "egm4", "4" or "/dev/egm4" to "egm4", if that region is there. */
static int region_name(const char *arg, char *name, size_t size)
{
	char path[1024];
	struct stat st;

	if (!strncmp(arg, "/dev/", 5))
		arg += 5;
	if (arg[0] >= '0' && arg[0] <= '9')
		snprintf(name, size, "egm%s", arg);
	else
		snprintf(name, size, "%s", arg);
	snprintf(path, sizeof(path), EGM_CLASS "/%s/pxm", name);
	if (stat(path, &st)) {
		fprintf(stderr, "%s: no EGM region %s (%s: %s)\n", prog, name,
			path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The entries of a directory, sorted, joined by @sep; "-" when none. */
static void dir_list(const char *dir, char sep, char *buf, size_t size)
{
	struct dirent **ents;
	size_t len = 0;
	int n, i;

	buf[0] = 0;
	n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && len + 1 < size)
			len += snprintf(buf + len, size - len, "%s%c",
					ents[i]->d_name, sep);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	if (len && len < size)
		buf[len - 1] = 0;
	if (!buf[0])
		snprintf(buf, size, "-");
}

static int is_partition(const struct dirent *de)
{
	return !strncmp(de->d_name, "partition", 9);
}

/* By index, numerically. */
static int by_index(const struct dirent **a, const struct dirent **b)
{
	return atoi((*a)->d_name + 9) - atoi((*b)->d_name + 9);
}

/* The region's partitions, partition<index> by index; their count or -1. */
static int partitions(const char *region, struct dirent ***ents)
{
	char dir[1024];

	snprintf(dir, sizeof(dir), EGM_CLASS "/%s", region);
	return scandir(dir, ents, is_partition, by_index);
}

/* Has the chardev frontend given partition @name its node /dev/<name>? */
static bool has_node(const char *region, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), EGM_CLASS "/%s/%s/dev", region, name);
	return !stat(path, &st);
}

/*
 * The device nodes the chardev frontend gives the region's partitions,
 * /dev/egm<pxm> for an undivided region, space-separated; "-" when none.
 */
static const char *dev_node(const char *region, char *buf, size_t size)
{
	char path[300], name[64];
	struct dirent **ents;
	size_t len = 0;
	int n, i;

	buf[0] = 0;
	n = partitions(region, &ents);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/name", ents[i]->d_name);
		if (!attr(region, path, name, sizeof(name)) &&
		    has_node(region, name) && len < size)
			len += snprintf(buf + len, size - len, "%s/dev/%s",
					len ? " " : "", name);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	return buf[0] ? buf : "-";
}

/* One line per partition: where it is, how large, its state, its node. */
static void print_partitions(const char *region)
{
	char key[300], path[300], name[64], state[32], hs[32], hd[32];
	unsigned long long off, size, dirty;
	struct dirent **ents;
	int n, i;

	n = partitions(region, &ents);
	for (i = 0; i < n; i++) {
		const char *p = ents[i]->d_name;

		snprintf(path, sizeof(path), "%s/name", p);
		if (attr(region, path, name, sizeof(name)))
			snprintf(name, sizeof(name), "?");
		snprintf(path, sizeof(path), "%s/state", p);
		if (attr(region, path, state, sizeof(state)))
			snprintf(state, sizeof(state), "?");
		snprintf(path, sizeof(path), "%s/offset", p);
		off = attr_ull(region, path);
		snprintf(path, sizeof(path), "%s/size", p);
		size = attr_ull(region, path);
		snprintf(path, sizeof(path), "%s/dirty_bytes", p);
		dirty = attr_ull(region, path);
		snprintf(key, sizeof(key), "%s:", p);
		printf("%-16s %s at %#llx, %s, %s, %s dirty, %s%s\n", key, name,
		       off, human(size, hs, sizeof(hs)), state,
		       human(dirty, hd, sizeof(hd)),
		       has_node(region, name) ? "/dev/" : "",
		       has_node(region, name) ? name : "no device");
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static int is_region(const struct dirent *de)
{
	return !strncmp(de->d_name, "egm", 3);
}

/* By PXM, numerically. */
static int by_pxm(const struct dirent **a, const struct dirent **b)
{
	return atoi((*a)->d_name + 3) - atoi((*b)->d_name + 3);
}

static int cmd_list(void)
{
	char size[32], state[32], parents[1024], dir[1024], node[32], dev[300];
	struct dirent **ents;
	int n, i;

	n = scandir(EGM_CLASS, &ents, is_region, by_pxm);
	if (n < 0) {
		if (errno == ENOENT) {
			printf("no EGM regions (%s does not exist: is egm_core loaded?)\n",
			       EGM_CLASS);
			return 0;
		}
		fprintf(stderr, "%s: %s: %s\n", prog, EGM_CLASS, strerror(errno));
		return 1;
	}
	printf("%-8s %4s %4s %10s %-9s %7s %-10s %s\n", "REGION", "PXM", "NODE",
	       "SIZE", "STATE", "RETIRED", "DEVICE", "PARENTS");
	for (i = 0; i < n; i++) {
		const char *r = ents[i]->d_name;

		if (attr(r, "state", state, sizeof(state)))
			snprintf(state, sizeof(state), "?");
		if (attr(r, "numa_node", node, sizeof(node)))
			snprintf(node, sizeof(node), "?");
		snprintf(dir, sizeof(dir), EGM_CLASS "/%s/parents", r);
		dir_list(dir, ',', parents, sizeof(parents));
		printf("%-8s %4llu %4s %10s %-9s %7llu %-10s %s\n", r,
		       attr_ull(r, "pxm"), node,
		       human(attr_ull(r, "size"), size, sizeof(size)), state,
		       attr_ull(r, "retired_count"),
		       dev_node(r, dev, sizeof(dev)), parents);
		free(ents[i]);
	}
	free(ents);
	if (!n)
		printf("no EGM regions\n");
	return 0;
}

static int cmd_info(const char *region)
{
	char buf[1024], hs[32], dir[1024], dev[300];
	unsigned long long size = attr_ull(region, "size");
	unsigned long long done = 0, total = 0;
	char *p;

	printf("%-16s %s\n", "region:", region);
	printf("%-16s %llu\n", "pxm:", attr_ull(region, "pxm"));
	if (!attr(region, "numa_node", buf, sizeof(buf)))
		printf("%-16s %s\n", "numa_node:", buf);
	printf("%-16s %llu (%s)\n", "size:", size, human(size, hs, sizeof(hs)));
	if (!attr(region, "state", buf, sizeof(buf)))
		printf("%-16s %s\n", "state:", buf);
	if (!attr(region, "scrub_progress", buf, sizeof(buf)) &&
	    sscanf(buf, "%llu %llu", &done, &total) == 2 && total)
		printf("%-16s %llu of %llu bytes (%llu%%)\n", "scrub_progress:",
		       done, total, done * 100 / total);
	printf("%-16s %llu pages of %llu bytes\n", "retired:",
	       attr_ull(region, "retired_count"),
	       attr_ull(region, "retired_granularity"));
	if (!attr(region, "gpu_devices", buf, sizeof(buf))) {
		/* One per line in sysfs: one line here. */
		for (p = buf; (p = strchr(p, '\n')); )
			*p = ' ';
		printf("%-16s %s\n", "gpu_devices:", buf[0] ? buf : "-");
	}
	if (!attr(region, "frontends", buf, sizeof(buf))) {
		for (p = buf; (p = strchr(p, '\n')); )
			*p = ',';
		printf("%-16s %s\n", "frontends:", buf[0] ? buf : "-");
	}
	snprintf(dir, sizeof(dir), EGM_CLASS "/%s/parents", region);
	dir_list(dir, ' ', buf, sizeof(buf));
	printf("%-16s %s\n", "parents:", buf);
	printf("%-16s %s\n", "device:", dev_node(region, dev, sizeof(dev)));
	if (!attr(region, "layout", buf, sizeof(buf)))
		printf("%-16s %s\n", "layout:", buf);
	print_partitions(region);
	return 0;
}

static int cmd_retired(const char *region)
{
	char path[1024], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), EGM_CLASS "/%s/retired_pages", region);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	if (n < 0)
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
	close(fd);
	return n < 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A bar on a terminal, redrawn in place; elsewhere a line when the state
 * changes or the scrub passes another tenth.
 */
static int cmd_wait_clean(const char *region, long timeout_s)
{
	long long end = timeout_s >= 0 ? now_ms() + timeout_s * 1000 : -1;
	bool tty = isatty(STDOUT_FILENO);
	char state[32], last[32] = "", buf[64];
	unsigned long long done, total;
	int pct, last_pct = -1;

	for (;;) {
		if (attr(region, "state", state, sizeof(state))) {
			fprintf(stderr, "%s%s: %s is gone\n", tty ? "\n" : "", prog,
				region);
			return 1;
		}
		done = 0;
		total = 0;
		if (!attr(region, "scrub_progress", buf, sizeof(buf)) &&
		    sscanf(buf, "%llu %llu", &done, &total) != 2)
			total = 0;
		pct = !strcmp(state, "clean") ? 100 :
		      strcmp(state, "scrubbing") || !total ? 0 :
		      (int)(done * 100 / total);
		if (tty) {
			int bar = pct * 40 / 100;

			printf("\r%s [%.*s%*s] %3d%% %-9s", region, bar,
			       "########################################",
			       40 - bar, "", pct, state);
			fflush(stdout);
		} else if (strcmp(state, last) || pct / 10 != last_pct / 10) {
			printf("%s: %s %d%%\n", region, state, pct);
			fflush(stdout);
		}
		snprintf(last, sizeof(last), "%s", state);
		last_pct = pct;
		if (!strcmp(state, "clean")) {
			if (tty)
				printf("\n");
			return 0;
		}
		if (end >= 0 && now_ms() >= end) {
			fprintf(stderr, "%s%s: %s is %s after %ld s\n", tty ? "\n" : "",
				prog, region, state, timeout_s);
			return 1;
		}
		usleep(100 * 1000);
	}
}

int main(int argc, char **argv)
{
	char region[64];
	long timeout_s = -1;
	const char *cmd;
	char *end;
	int arg = 2;

	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "list")) {
		if (argc != 2) {
			print_usage(stderr);
			return 2;
		}
		return cmd_list();
	}
	if (!strcmp(cmd, "wait-clean") && argc > 3 && !strcmp(argv[2], "-t")) {
		errno = 0;
		timeout_s = strtol(argv[3], &end, 10);
		if (errno || *end || end == argv[3] || timeout_s < 0) {
			fprintf(stderr, "%s: bad timeout \"%s\": want whole seconds\n",
				prog, argv[3]);
			return 2;
		}
		arg = 4;
	}
	if (argc != arg + 1 || (strcmp(cmd, "info") && strcmp(cmd, "retired") &&
				strcmp(cmd, "wait-clean"))) {
		print_usage(stderr);
		return 2;
	}
	if (region_name(argv[arg], region, sizeof(region)))
		return 1;
	if (!strcmp(cmd, "info"))
		return cmd_info(region);
	if (!strcmp(cmd, "retired"))
		return cmd_retired(region);
	return cmd_wait_clean(region, timeout_s);
}
