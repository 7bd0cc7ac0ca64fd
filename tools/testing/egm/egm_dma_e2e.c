// SPDX-License-Identifier: GPL-2.0
/*
 * egm-core DMA suite, run by tools/testing/egm/dma/init inside the x86_64
 * "host" that scripts/egm/qemu-dma-test.sh boots: QEMU q35 with an
 * emulated Intel IOMMU (intel-iommu,caching-mode=on) and QEMU's "edu" PCI
 * device, whose DMA engine goes through that IOMMU.  The host binds edu to
 * vfio-pci (type1, a real IOMMU domain) and the sample parent registers
 * 256 MiB of hidden memory as PXM 1 with two firmware-retired 64 KiB blocks.
 *
 * The nested VM: QEMU 7.2 with its 128 MiB of RAM from /dev/egm1 and edu
 * assigned (-device vfio-pci), so QEMU maps all guest RAM, retired blocks
 * included, with VFIO_IOMMU_MAP_DMA.  Its payload (dma/payload.S) makes
 * edu copy a pattern from one part of its RAM to another, and into a
 * retired page.  The host checks where the bytes landed, its CPU page
 * tables (/proc/PID/pagemap) and the IOMMU's (debugfs).
 *
 * The "VMM" tests: this program plays a VMM with the same VFIO calls to
 * show what a hand-off does while a device still has the memory mapped,
 * with and without VFIO type1 holding the mapping's file (patches/0008,
 * switched by vfio_iommu_type1.hold_pfnmap_files), what unbinding the
 * parent does then, and runtime poison of a DMA-mapped page.
 *
 * Output: "ok NAME" / "FAIL NAME: REASON", then "egm-dma: N passed, N failed".
 */
#define CHILD_TIMEOUT_MS	(10 * 1000)
#include "egm_harness.h"

#include <inttypes.h>

#include <linux/vfio.h>
#include <sys/ioctl.h>

/* Must match scripts/egm/qemu-dma-test.sh and tools/testing/egm/dma/init. */
#define EGM_BASE	0x140000000ULL
#define EGM_SIZE	(256ULL << 20)
#define EGM_DEV		"/dev/egm1"
#define EGM_DBG		"/sys/kernel/debug/egm/egm1"
#define PARENT		"egm_parent.0"
#define PARENT_DBG	"/sys/kernel/debug/egm_parent/" PARENT
#define PARENT_DRV	"/sys/bus/platform/drivers/egm_parent"
#define BLOCK		0x10000ULL	/* firmware retires 64 KiB blocks */
static const uint64_t retired_off[] = { 40ULL << 20, (72ULL << 20) + BLOCK };

/* The nested VM and what its payload is told to do (GPAs = offsets). */
#define VM_RAM		(128ULL << 20)
#define VM_SRC		(8ULL << 20)
#define VM_DST		(12ULL << 20)
#define VM_LEN		2048	/* edu: the transfer must end below 0x41000 */
#define VM_PARAMS	0xf00000
#define VM_LOG		"/tmp/vm-serial.log"
#define VM_QEMU_LOG	"/tmp/vm-qemu.log"
#define VM_TIMEOUT_MS	(200 * 1000)

/* QEMU's edu device: registers in BAR0, a 4 KiB buffer at 0x40000. */
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000

static char edu_bdf[32];
static int edu_group = -1;

static void harness_summary(int passed, int failed)
{
	say("egm-dma: %d passed, %d failed", passed, failed);
}

/* ---- small helpers ---- */

static uint32_t pattern(uint32_t seed, unsigned int i)
{
	return seed ^ (i * 0x9E3779B1u);
}

static bool is_retired(uint64_t off)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(retired_off); i++)
		if (off >= retired_off[i] && off < retired_off[i] + BLOCK)
			return true;
	return false;
}

static long long debugfs_value(const char *file, const char *key)
{
	char buf[256], *p;

	if (read_text(file, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, key);
	if (!p)
		return -1;
	return strtoll(p + strlen(key), NULL, 0);
}

/* The region's state ("clean", "in_use", ...); 0 or -errno. */
/* The region's sink page; a region registered anew has a new one. */
static uint64_t sink_pfn(void)
{
	long long pfn = debugfs_value(EGM_DBG "/sink", "pfn ");

	return pfn > 0 ? pfn : 0;
}

static int region_state(char *buf, size_t size)
{
	int n = read_text(EGM_DBG "/state", buf, size);

	if (n < 0)
		return n;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Who still maps the region: processes whose maps name it. */
static void say_mappers(void)
{
	char path[64], line[512];
	struct dirent *de;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/maps", de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "egm-pxm"))
				say("egm-dma: pid %s maps %.*s", de->d_name,
				    (int)strcspn(line, "\n"), line);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
}

/* Wait (bounded) for the region to be clean; say why not. */
static int wait_clean(long ms)
{
	long long end = now_ms() + ms;
	char st[32] = "";

	do {
		if (region_state(st, sizeof(st)) == 0 && !strcmp(st, "clean"))
			return 0;
		sleep_ms(50);
	} while (now_ms() < end);
	say("egm-dma: region still %s after %ld ms, tenancy holders %lld", st, ms,
	    debugfs_value(EGM_DBG "/tenancy", "holders "));
	say_mappers();
	return -1;
}

/* Everything the kernel logged from now on, for kmsg_has(). */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0) {
		lseek(fd, 0, SEEK_END);
		track_fd(fd);
	}
	return fd;
}

static bool kmsg_has(int fd, const char *text)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return false;
		rec[n] = 0;
		if (strstr(rec, text))
			return true;
	}
}

/* Read @len bytes of the region at @off through the parent's "mem" view. */
static int read_mem(uint64_t off, void *buf, size_t len)
{
	int fd = open(PARENT_DBG "/mem", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* ---- VFIO: the edu device as a VMM holds it ---- */

struct vdev {
	int container, group, device;
	volatile uint8_t *bar0;
	size_t bar0_size;
};

static int find_edu(void)
{
	char path[512], buf[64], link[256];
	struct dirent *de;
	DIR *d;
	ssize_t n;

	d = opendir("/sys/bus/pci/devices");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_text(path, buf, sizeof(buf)) < 0 ||
		    strtol(buf, NULL, 0) != EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_text(path, buf, sizeof(buf)) < 0 ||
		    strtol(buf, NULL, 0) != EDU_DEVICE)
			continue;
		if (strlen(de->d_name) >= sizeof(edu_bdf))
			continue;
		memcpy(edu_bdf, de->d_name, strlen(de->d_name) + 1);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
			 de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			edu_group = atoi(strrchr(link, '/') + 1);
		}
	}
	closedir(d);
	return edu_bdf[0] && edu_group >= 0 ? 0 : -ENODEV;
}

static void vdev_close(struct vdev *v)
{
	if (v->bar0)
		munmap((void *)v->bar0, v->bar0_size);
	v->bar0 = NULL;
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->device = -1;
	v->group = -1;
	v->container = -1;
}

/* Container (type1), group, device, BAR0 mapped, bus mastering on. */
static int vdev_open(struct vdev *v)
{
	struct vfio_region_info bar = { .argsz = sizeof(bar),
					.index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	char path[64];
	uint16_t cmd;
	void *p;

	v->group = -1;
	v->device = -1;
	v->bar0 = NULL;
	v->container = open("/dev/vfio/vfio", O_RDWR);
	if (v->container < 0)
		return fail("open /dev/vfio/vfio: %s", errstr(errno));
	snprintf(path, sizeof(path), "/dev/vfio/%d", edu_group);
	v->group = open(path, O_RDWR);
	if (v->group < 0)
		return fail("open %s: %s", path, errstr(errno));
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		return fail("VFIO_GROUP_SET_CONTAINER: %s", errstr(errno));
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("VFIO_SET_IOMMU type1v2: %s", errstr(errno));
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, edu_bdf);
	if (v->device < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD %s: %s", edu_bdf, errstr(errno));
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return fail("VFIO_DEVICE_GET_REGION_INFO: %s", errstr(errno));
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device,
		 bar.offset);
	if (p == MAP_FAILED)
		return fail("mmap of edu BAR0: %s", errstr(errno));
	v->bar0 = p;
	v->bar0_size = bar.size;
	if (pread(v->device, &cmd, 2, cfg.offset + 4) != 2)
		return fail("read PCI_COMMAND: %s", errstr(errno));
	cmd |= 0x6;	/* memory space, bus master */
	if (pwrite(v->device, &cmd, 2, cfg.offset + 4) != 2)
		return fail("write PCI_COMMAND: %s", errstr(errno));
	return 0;
}

static int vdev_map(struct vdev *v, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};

	return ioctl(v->container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

static void edu_write64(struct vdev *v, unsigned int reg, uint64_t val)
{
	*(volatile uint64_t *)(v->bar0 + reg) = val;
}

/* One edu DMA: RAM (IOVA) -> buffer, or buffer -> RAM; 0 once done. */
static int edu_dma(struct vdev *v, uint64_t iova, uint32_t len, bool to_ram)
{
	long long end = now_ms() + 20000;

	edu_write64(v, EDU_DMA_SRC, to_ram ? EDU_BUF : iova);
	edu_write64(v, EDU_DMA_DST, to_ram ? iova : EDU_BUF);
	edu_write64(v, EDU_DMA_CNT, len);
	edu_write64(v, EDU_DMA_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
	while (*(volatile uint64_t *)(v->bar0 + EDU_DMA_CMD) & EDU_CMD_RUN) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
	return 0;
}

/* A tenant of /dev/egm1: the file and a mapping of @len bytes. */
struct tenant {
	int fd;
	uint8_t *mem;
	size_t len;
};

static int tenant_open(struct tenant *t, size_t len, bool nonblock)
{
	t->mem = NULL;
	t->len = len;
	t->fd = open(EGM_DEV, O_RDWR | (nonblock ? O_NONBLOCK : 0));
	if (t->fd < 0)
		return -errno;
	t->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	if (t->mem == MAP_FAILED) {
		int e = -errno;

		close(t->fd);
		t->fd = -1;
		t->mem = NULL;
		return e;
	}
	return 0;
}

static void tenant_close(struct tenant *t)
{
	if (t->mem)
		munmap(t->mem, t->len);
	if (t->fd >= 0)
		close(t->fd);
	t->mem = NULL;
	t->fd = -1;
}

static void fill(void *p, uint32_t seed, size_t len)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = pattern(seed, i);
}

static bool matches(const void *p, uint32_t seed, size_t len)
{
	const uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != pattern(seed, i))
			return false;
	return true;
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* ---- the IOMMU's page table for edu, from intel-iommu's debugfs ---- */

struct iommu_scan {
	unsigned long leaves;		/* leaf entries */
	unsigned long in_region;	/* leaves in the EGM region */
	unsigned long retired;		/* leaves that reach a retired page */
	unsigned long sink;		/* leaves at the sink */
	uint64_t probe_iova;		/* in: an IOVA to translate */
	uint64_t probe_phys;		/* out: what it translates to, or 0 */
	uint64_t sink_iova_lo, sink_iova_hi;
};

/*
 * Lines are "0x<IOVA PFN> |\t<PML5E>\t<PML4E>\t<PDPE>[\t<PDE>[\t<PTE>]]":
 * the last entry is the leaf (a PDPE or PDE leaf is a 1 GiB or 2 MiB page).
 */
static int iommu_scan(struct iommu_scan *s, uint64_t probe_iova)
{
	uint64_t sink = sink_pfn();
	char path[128], line[512];
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->sink_iova_lo = UINT64_MAX;
	s->probe_iova = probe_iova;
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/iommu/intel/%s/domain_translation_struct",
		 edu_bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t e[6], iova, leaf, size, phys, off;
		int n;

		n = sscanf(line, "0x%" SCNx64 " |\t0x%" SCNx64 "\t0x%" SCNx64
			   "\t0x%" SCNx64 "\t0x%" SCNx64 "\t0x%" SCNx64,
			   &iova, &e[0], &e[1], &e[2], &e[3], &e[4]);
		if (n < 4)
			continue;
		iova <<= 12;
		leaf = e[n - 2];
		size = n == 4 ? 1ULL << 30 : n == 5 ? 2ULL << 20 : 4096;
		phys = leaf & 0x000ffffffffff000ULL & ~(size - 1);
		s->leaves++;
		if (s->probe_iova >= iova && s->probe_iova < iova + size)
			s->probe_phys = phys + (s->probe_iova - iova);
		if (sink && phys >> 12 == sink && size == 4096) {
			s->sink++;
			if (iova < s->sink_iova_lo)
				s->sink_iova_lo = iova;
			if (iova > s->sink_iova_hi)
				s->sink_iova_hi = iova;
			continue;
		}
		if (phys + size <= EGM_BASE || phys >= EGM_BASE + EGM_SIZE)
			continue;
		s->in_region++;
		for (off = 0; off < size; off += 4096)
			if (phys + off >= EGM_BASE && phys + off < EGM_BASE + EGM_SIZE &&
			    is_retired(phys + off - EGM_BASE))
				s->retired++;
	}
	fclose(f);
	return 0;
}

/* ---- the nested VM ---- */

static pid_t vm_pid;
static uint32_t vm_seed;

static bool vm_log_has(const char *text)
{
	static char buf[65536];

	if (read_text(VM_LOG, buf, sizeof(buf)) < 0)
		return false;
	return strstr(buf, text);
}

static void vm_stop(void)
{
	int status;

	if (vm_pid <= 0)
		return;
	kill(vm_pid, SIGTERM);
	if (wait_child(vm_pid, 30000, &status)) {
		kill(vm_pid, SIGKILL);
		waitpid(vm_pid, &status, 0);
	}
	vm_pid = 0;
}

/*
 * QEMU with 128 MiB of RAM from /dev/egm1 (both retired blocks inside it)
 * and edu assigned; the payload's parameters through loader devices.
 */
static int test_vm_starts_with_retired_pages(void)
{
	char vfio[64], arg[8][96];
	uint32_t params[6] = { 0x444d4745, VM_SRC, VM_DST, VM_LEN, 0,
			       retired_off[0] + 0x1000 };
	long long end;
	unsigned int i;
	int ret = 0, fd;

	CHECK(wait_clean(120000) == 0, "region not clean before the VM");
	vm_seed = (uint32_t)(now_ms() * 2654435761u) | 1;
	params[4] = vm_seed;
	for (i = 0; i < ARRAY_SIZE(params); i++)
		snprintf(arg[i], sizeof(arg[i]),
			 "loader,addr=%#x,data=%#x,data-len=4",
			 VM_PARAMS + 4 * i, params[i]);
	snprintf(vfio, sizeof(vfio), "vfio-pci,host=%s", edu_bdf);
	unlink(VM_LOG);

	vm_pid = fork();
	if (!vm_pid) {
		fd = open(VM_QEMU_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("qemu-system-x86_64", "qemu-system-x86_64",
		       "-nodefaults", "-no-reboot", "-display", "none",
		       "-monitor", "none", "-machine", "pc",
		       "-accel", "tcg,tb-size=64", "-m", "128M",
		       "-object", "memory-backend-file,id=egm,mem-path=" EGM_DEV
		       ",share=on,size=128M",
		       "-numa", "node,memdev=egm",
		       "-kernel", "/dma-payload.elf", "-device", vfio,
		       "-device", arg[0], "-device", arg[1], "-device", arg[2],
		       "-device", arg[3], "-device", arg[4], "-device", arg[5],
		       "-serial", "file:" VM_LOG, (char *)NULL);
		_exit(127);
	}
	CHECK(vm_pid > 0, "fork: %s", errstr(errno));

	end = now_ms() + VM_TIMEOUT_MS;
	while (!vm_log_has("payload: done") && now_ms() < end) {
		if (waitpid(vm_pid, NULL, WNOHANG) == vm_pid) {
			char q[512] = "";

			vm_pid = 0;
			read_text(VM_QEMU_LOG, q, sizeof(q));
			CHECK(0, "QEMU exited: %s", q);
		}
		sleep_ms(200);
	}
	CHECK(vm_log_has("payload: done"), "no 'payload: done' from the VM in %d s",
	      VM_TIMEOUT_MS / 1000);
out:
	return ret;
}

static int test_dma_round_trip_in_egm(void)
{
	static uint8_t buf[VM_LEN];
	int ret = 0;

	CHECK(vm_pid > 0, "no VM");
	CHECK(vm_log_has("payload: dma round trip ok"),
	      "the payload did not report its round trip");
	CHECK(read_mem(VM_DST, buf, sizeof(buf)) == 0, "read of the region failed");
	CHECK(matches(buf, vm_seed, sizeof(buf)),
	      "region offset %#llx does not hold the DMA-written pattern",
	      (unsigned long long)VM_DST);
	CHECK(read_mem(VM_SRC, buf, sizeof(buf)) == 0, "read of the region failed");
	CHECK(matches(buf, vm_seed, sizeof(buf)),
	      "region offset %#llx does not hold the guest's pattern",
	      (unsigned long long)VM_SRC);
	say("egm-dma: DMA round trip: pattern %08x at EGM %#llx (GPA %#llx), edu read GPA %#llx",
	    vm_seed, EGM_BASE + VM_DST, (unsigned long long)VM_DST,
	    (unsigned long long)VM_SRC);
out:
	return ret;
}

/* A line of debugfs "mappings", after "PID COMM". */
#define MAPPINGS_FMT \
	": vmas %lu pages %lu region %lu sink %lu retired %lu foreign %lu"

/*
 * QEMU's CPU page tables over the region, from egm-core's walk of them
 * (debugfs "mappings": /proc/PID/pagemap does not look into VM_PFNMAP).
 */
static int test_retired_absent_from_cpu_page_tables(void)
{
	unsigned long vmas, pages, region, sink, retired, foreign;
	static char buf[8192];
	char want[32], *line;
	int ret = 0;

	CHECK(vm_pid > 0, "no VM");
	CHECK(read_text(EGM_DBG "/mappings", buf, sizeof(buf)) >= 0,
	      "cannot read " EGM_DBG "/mappings");
	snprintf(want, sizeof(want), "%d ", vm_pid);
	for (line = buf; line && strncmp(line, want, strlen(want));
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		;
	CHECK(line && *line, "QEMU (pid %d) not in mappings: %s", vm_pid, buf);
	line = strchr(line, ':');
	CHECK(line && sscanf(line, MAPPINGS_FMT,
			     &vmas, &pages, &region, &sink, &retired, &foreign) == 6,
	      "cannot parse mappings: %s", buf);
	CHECK(pages > 0 && region > 0, "nothing of the VM's RAM is mapped");
	CHECK(!retired, "%lu retired pages mapped for the CPU", retired);
	CHECK(!foreign, "%lu pages map memory that is neither the region nor the sink",
	      foreign);
	CHECK(sink == ARRAY_SIZE(retired_off) * BLOCK / 4096,
	      "%lu pages at the sink, want %llu", sink,
	      (unsigned long long)(ARRAY_SIZE(retired_off) * BLOCK / 4096));
	say("egm-dma: CPU page tables of QEMU: %lu pages, %lu of EGM, 0 retired, %lu at the sink",
	    pages, region, sink);
out:
	return ret;
}

static int test_retired_absent_from_iommu(void)
{
	unsigned long want = ARRAY_SIZE(retired_off) * BLOCK / 4096;
	struct iommu_scan s;
	int ret = 0;

	CHECK(vm_pid > 0, "no VM");
	CHECK(iommu_scan(&s, VM_DST) == 0, "no IOMMU debugfs for %s", edu_bdf);
	CHECK(s.leaves > 0, "the IOMMU maps nothing for %s", edu_bdf);
	CHECK(s.in_region > 0, "the IOMMU maps nothing of the EGM region");
	CHECK(!s.retired, "%lu retired pages mapped in the IOMMU", s.retired);
	CHECK(s.sink == want, "%lu IOVAs at the sink, want %lu", s.sink, want);
	CHECK(is_retired(s.sink_iova_lo) && is_retired(s.sink_iova_hi),
	      "sink at IOVAs %#llx..%#llx, not the retired ones",
	      (unsigned long long)s.sink_iova_lo,
	      (unsigned long long)s.sink_iova_hi);
	CHECK(s.probe_phys == EGM_BASE + VM_DST, "IOVA %#llx -> %#llx, want %#llx",
	      (unsigned long long)VM_DST, (unsigned long long)s.probe_phys,
	      EGM_BASE + VM_DST);
	say("egm-dma: IOMMU page table of %s: %lu leaves, %lu in EGM, 0 retired, %lu at the sink",
	    edu_bdf, s.leaves, s.in_region, s.sink);
out:
	return ret;
}

/* The payload made edu write into a retired page: the sink took it. */
static int test_dma_to_retired_page_hits_sink(void)
{
	long long faults, writes;
	int ret = 0, kmsg;

	CHECK(vm_pid > 0, "no VM");
	CHECK(vm_log_has("payload: dma to extra done"),
	      "the payload did not DMA into the retired page");
	faults = debugfs_value(EGM_DBG "/sink", "faults ");
	CHECK(faults >= 32, "sink faults %lld, want >= 32", faults);
	writes = debugfs_value(EGM_DBG "/sink", "writes ");
	kmsg = kmsg_open();
	vm_stop();
	CHECK(wait_clean(120000) == 0, "region not clean after the VM");
	CHECK(debugfs_value(EGM_DBG "/sink", "writes ") == writes + 1,
	      "sink writes %lld, want %lld",
	      debugfs_value(EGM_DBG "/sink", "writes "), writes + 1);
	CHECK(kmsg >= 0 && kmsg_has(kmsg, "wrote to retired pages"),
	      "no kernel message about writes to retired pages");
out:
	vm_stop();
	return ret;
}

/* ---- the "VMM" tests ---- */

#define T_LEN		(16ULL << 20)
#define T_A		(1ULL << 20)	/* IOVA = offset of pattern A */
#define T_B		(2ULL << 20)	/* where the device writes */

static int set_hold(bool on)
{
	return write_text("/sys/module/vfio_iommu_type1/parameters/hold_pfnmap_files",
			  on ? "Y" : "N");
}

/*
 * Old tenant: map DMA, let the device copy A to T_B, close /dev/egm1
 * while the container still maps it.
 */
static int old_tenant_leaves_dma_mapped(struct vdev *v, uint32_t seed)
{
	struct tenant t;
	int e;

	if (vdev_open(v))
		return -1;
	e = tenant_open(&t, T_LEN, false);
	if (e)
		return fail("open/mmap %s: %s", EGM_DEV, errstr(e));
	e = vdev_map(v, t.mem, 0, T_LEN);
	if (e) {
		tenant_close(&t);
		return fail("VFIO_IOMMU_MAP_DMA: %s", errstr(e));
	}
	fill(t.mem + T_A, seed, VM_LEN);
	if (edu_dma(v, T_A, VM_LEN, false) || edu_dma(v, T_B, VM_LEN, true) ||
	    !matches(t.mem + T_B, seed, VM_LEN)) {
		tenant_close(&t);
		return fail("the device's DMA round trip did not work");
	}
	tenant_close(&t);
	return 0;
}

static int test_handoff_waits_for_iommu(void)
{
	struct vdev v = { .container = -1, .group = -1, .device = -1 };
	uint32_t seed = 0xa11ce000;
	struct tenant next = { .fd = -1 };
	char st[32] = "";
	int ret = 0, e;

	CHECK(set_hold(true) == 0, "cannot set hold_pfnmap_files");
	CHECK(wait_clean(120000) == 0, "region not clean");
	if (old_tenant_leaves_dma_mapped(&v, seed))
		goto out_fail;

	/* The VMM closed /dev/egm1, its container still maps the memory. */
	sleep_ms(100);
	region_state(st, sizeof(st));
	CHECK(!strcmp(st, "in_use"), "region %s while the IOMMU maps it", st);
	e = tenant_open(&next, T_LEN, true);
	CHECK(e == -EBUSY, "a new tenant's open got %s, want EBUSY",
	      e ? errstr(e) : "success");
	/* The old device still writes, into the old tenant's memory only. */
	CHECK(edu_dma(&v, T_B, VM_LEN, true) == 0, "late DMA timed out");

	vdev_close(&v);
	CHECK(wait_clean(120000) == 0, "region not clean once the VMM closed VFIO");
	CHECK(tenant_open(&next, T_LEN, false) == 0, "next tenant cannot open");
	CHECK(all_zero(next.mem + T_B, VM_LEN) && all_zero(next.mem + T_A, VM_LEN),
	      "the next tenant sees the old tenant's data");
	say("egm-dma: hand-off while DMA-mapped: EBUSY until the container closed, then zeros");
out:
	tenant_close(&next);
	vdev_close(&v);
	return ret;
out_fail:
	ret = -1;
	goto out;
}

/* Control: without type1's hold the old device reaches the next tenant. */
static int test_control_handoff_without_hold(void)
{
	struct vdev v = { .container = -1, .group = -1, .device = -1 };
	uint32_t seed = 0xb0b0b000, next_seed = 0xc0ffee00;
	struct tenant next = { .fd = -1 };
	int ret = 0;

	CHECK(set_hold(false) == 0, "cannot clear hold_pfnmap_files");
	CHECK(wait_clean(120000) == 0, "region not clean");
	if (old_tenant_leaves_dma_mapped(&v, seed))
		goto out_fail;

	/* Nothing held the tenancy: the region was scrubbed and handed on. */
	CHECK(wait_clean(120000) == 0, "the control did not hand the region on");
	CHECK(tenant_open(&next, T_LEN, false) == 0, "next tenant cannot open");
	fill(next.mem + T_B, next_seed, VM_LEN);
	CHECK(edu_dma(&v, T_B, VM_LEN, true) == 0, "late DMA timed out");
	CHECK(matches(next.mem + T_B, seed, VM_LEN),
	      "the old device's DMA did not reach the next tenant: the control shows nothing");
	say("egm-dma: control (hold_pfnmap_files=N): old device overwrote the next tenant");
out:
	tenant_close(&next);
	vdev_close(&v);
	set_hold(true);
	return ret;
out_fail:
	ret = -1;
	goto out;
}

static bool iomem_claimed(void)
{
	static char buf[65536];

	return read_text("/proc/iomem", buf, sizeof(buf)) >= 0 &&
	       strstr(buf, "egm-pxm1");
}

static int test_unbind_keeps_claim_while_dma_mapped(void)
{
	struct vdev v = { .container = -1, .group = -1, .device = -1 };
	int ret = 0;

	CHECK(wait_clean(120000) == 0, "region not clean");
	if (old_tenant_leaves_dma_mapped(&v, 0xdead0000))
		goto out_fail;
	CHECK(write_text(PARENT_DRV "/unbind", PARENT) == 0, "unbind: %s",
	      errstr(errno));
	CHECK(!exists(EGM_DEV), "%s still there after unbind", EGM_DEV);
	CHECK(iomem_claimed(), "the range was released while the IOMMU maps it");
	CHECK(write_text(PARENT_DRV "/bind", PARENT) != 0,
	      "the parent re-registered the range while the IOMMU maps it");
	CHECK(edu_dma(&v, T_B, VM_LEN, true) == 0, "late DMA timed out");

	vdev_close(&v);
	sleep_ms(200);
	CHECK(!iomem_claimed(), "the range is still claimed once VFIO closed");
	CHECK(write_text(PARENT_DRV "/bind", PARENT) == 0, "bind: %s",
	      errstr(errno));
	CHECK(wait_clean(120000) == 0, "region not clean after re-binding");
out:
	vdev_close(&v);
	if (!exists(EGM_DEV))
		write_text(PARENT_DRV "/bind", PARENT);
	return ret;
out_fail:
	ret = -1;
	goto out;
}

/*
 * A page poisoned while the device has it mapped: CPU accesses get SIGBUS
 * (BUS_MCEERR_AR); the IOMMU keeps its entry until the VMM unmaps (type1
 * has no revoke for PFNMAP); the next tenant's DMA mapping gets the sink.
 */
static int test_runtime_poison_under_dma(void)
{
	uint64_t bad = T_B + 0x3000;
	struct vdev v = { .container = -1, .group = -1, .device = -1 };
	struct tenant t = { .fd = -1 };
	struct iommu_scan s;
	char pa[32];
	long long faults;
	int ret = 0, e, status;
	pid_t pid;

	CHECK(wait_clean(120000) == 0, "region not clean");
	CHECK(vdev_open(&v) == 0, "%s", failmsg);
	CHECK(tenant_open(&t, T_LEN, false) == 0, "open/mmap %s", EGM_DEV);
	e = vdev_map(&v, t.mem, 0, T_LEN);
	CHECK(!e, "VFIO_IOMMU_MAP_DMA: %s", errstr(e));
	t.mem[bad] = 1;

	snprintf(pa, sizeof(pa), "%#llx", EGM_BASE + bad);
	CHECK(write_text(PARENT_DBG "/poison", pa) == 0, "poison: %s", errstr(errno));
	sleep_ms(100);
	pid = fork();
	if (!pid) {
		signal(SIGBUS, SIG_DFL);
		*(volatile uint8_t *)(t.mem + bad);
		_exit(0);
	}
	CHECK(pid > 0 && !wait_child(pid, 10000, &status), "child");
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
	      "a CPU read of the poisoned page did not get SIGBUS (status %#x)",
	      status);
	/* Documented: the IOMMU entry stays until the VMM unmaps. */
	CHECK(iommu_scan(&s, bad) == 0 && s.probe_phys == EGM_BASE + bad,
	      "IOVA %#llx -> %#llx after the poison, want %#llx (the entry stays)",
	      (unsigned long long)bad, (unsigned long long)s.probe_phys,
	      EGM_BASE + bad);
	CHECK(edu_dma(&v, T_B, VM_LEN, true) == 0, "DMA timed out");
	tenant_close(&t);
	vdev_close(&v);

	/* Control: without the sink the next VMM's DMA mapping fails. */
	CHECK(wait_clean(120000) == 0, "region not clean after the tenant");
	CHECK(write_text("/sys/kernel/debug/egm/retired_sink", "N") == 0,
	      "cannot switch the sink off");
	CHECK(vdev_open(&v) == 0, "%s", failmsg);
	CHECK(tenant_open(&t, T_LEN, false) == 0, "open/mmap %s", EGM_DEV);
	e = vdev_map(&v, t.mem, 0, T_LEN);
	write_text("/sys/kernel/debug/egm/retired_sink", "Y");
	CHECK(e, "control: VFIO_IOMMU_MAP_DMA over a retired page worked without the sink");
	say("egm-dma: control (retired_sink=N): MAP_DMA over a retired page fails: %s",
	    errstr(e));
	tenant_close(&t);
	vdev_close(&v);

	/* The next tenant's DMA mapping has the sink there. */
	CHECK(wait_clean(120000) == 0, "region not clean after the control");
	faults = debugfs_value(EGM_DBG "/sink", "faults ");
	CHECK(vdev_open(&v) == 0, "%s", failmsg);
	CHECK(tenant_open(&t, T_LEN, false) == 0, "open/mmap %s", EGM_DEV);
	e = vdev_map(&v, t.mem, 0, T_LEN);
	CHECK(!e, "VFIO_IOMMU_MAP_DMA with a poisoned page: %s", errstr(e));
	CHECK(debugfs_value(EGM_DBG "/sink", "faults ") == faults + 1,
	      "sink faults %lld, want %lld",
	      debugfs_value(EGM_DBG "/sink", "faults "), faults + 1);
	CHECK(iommu_scan(&s, bad) == 0 && s.sink == 1 && s.sink_iova_lo == bad,
	      "IOMMU: %lu sink entries at %#llx, want 1 at %#llx", s.sink,
	      (unsigned long long)s.sink_iova_lo, (unsigned long long)bad);
	say("egm-dma: runtime poison under DMA: CPU SIGBUS, IOMMU entry kept, then the sink");
out:
	tenant_close(&t);
	vdev_close(&v);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "vm_starts_with_retired_pages_and_device", test_vm_starts_with_retired_pages },
	{ "dma_round_trip_lands_in_egm", test_dma_round_trip_in_egm },
	{ "retired_absent_from_cpu_page_tables", test_retired_absent_from_cpu_page_tables },
	{ "retired_absent_from_iommu", test_retired_absent_from_iommu },
	{ "dma_to_retired_page_hits_sink", test_dma_to_retired_page_hits_sink },
	{ "handoff_waits_for_iommu_unmap", test_handoff_waits_for_iommu },
	{ "control_handoff_without_hold_leaks", test_control_handoff_without_hold },
	{ "unbind_keeps_claim_while_dma_mapped", test_unbind_keeps_claim_while_dma_mapped },
	{ "runtime_poison_under_dma", test_runtime_poison_under_dma },
};

int main(void)
{
	unsigned int i;

	if (harness_setup())
		return 1;
	if (find_edu()) {
		say("FAIL setup: no edu device with an IOMMU group");
		harness_summary(0, 1);
		return 1;
	}
	if (!sink_pfn()) {
		say("FAIL setup: no sink PFN in " EGM_DBG "/sink");
		harness_summary(0, 1);
		return 1;
	}
	say("egm-dma: edu %s in IOMMU group %d, sink PFN %#llx", edu_bdf,
	    edu_group, (unsigned long long)sink_pfn());
	tally->remaining = ARRAY_SIZE(tests);
	for (i = 0; i < ARRAY_SIZE(tests); i++)
		harness_run(tests[i].name, tests[i].fn,
			    i < 4 ? NULL : vm_stop);
	vm_stop();
	harness_summary(tally->passed, tally->failed);
	return tally->failed ? 1 : 0;
}
