// SPDX-License-Identifier: GPL-2.0
/*
 * egm_demo: the checks of the egm-core demo, run inside the QEMU "host".
 *
 *   egm_demo records FILE [BASE]   the nested guest's records, read from
 *                                  FILE at offset = BASE + guest physical
 *                                  address (the sample parent's debugfs
 *                                  "mem" view of the EGM region while the
 *                                  VM runs; BASE the offset of the VM's
 *                                  partition in the region, default 0)
 *   egm_demo zeroed DEVICE         after the VM is gone: open /dev/egmN as
 *                                  the next tenant, map it, and check that
 *                                  nothing of the records is left
 *
 * The records are what tools/testing/egm/payload/payload.S writes: at each
 * MiB from 2 to 63 of guest RAM, "EGM-DEMO", the u32 index, the u32 index
 * ^ 0xE6E6E6E6, then 0xA5 up to 64 bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB		(1024UL * 1024UL)
#define FIRST_MIB	2
#define LAST_MIB	63
#define RECORD		64

static int record_ok(const unsigned char *r, uint32_t idx)
{
	uint32_t got_idx, got_sum;
	int i;

	if (memcmp(r, "EGM-DEMO", 8))
		return 0;
	memcpy(&got_idx, r + 8, 4);
	memcpy(&got_sum, r + 12, 4);
	if (got_idx != idx || got_sum != (idx ^ 0xE6E6E6E6u))
		return 0;
	for (i = 16; i < RECORD; i++)
		if (r[i] != 0xA5)
			return 0;
	return 1;
}

static int cmd_records(const char *path, unsigned long base)
{
	unsigned char r[RECORD];
	int fd, found = 0;
	uint32_t idx;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "egm_demo: %s: %s\n", path, strerror(errno));
		return 2;
	}
	for (idx = FIRST_MIB; idx <= LAST_MIB; idx++) {
		if (pread(fd, r, RECORD, base + idx * MIB) != RECORD)
			break;
		found += record_ok(r, idx);
	}
	close(fd);
	printf("records: %d/%d found in %s at +%lu MiB\n", found,
	       LAST_MIB - FIRST_MIB + 1, path, base / MIB);
	return found == LAST_MIB - FIRST_MIB + 1 ? 0 : 1;
}

static int cmd_zeroed(const char *path)
{
	unsigned long left = 0;
	unsigned char *map;
	off_t size;
	uint32_t idx;
	int fd, i;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "egm_demo: open %s: %s\n", path, strerror(errno));
		return 2;
	}
	size = lseek(fd, 0, SEEK_END);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "egm_demo: mmap %s: %s\n", path, strerror(errno));
		return 2;
	}
	for (idx = FIRST_MIB; idx <= LAST_MIB && (off_t)(idx * MIB) < size; idx++)
		for (i = 0; i < RECORD; i++)
			left += map[idx * MIB + i] != 0;
	munmap(map, size);
	close(fd);
	printf("next tenant: %lu non-zero bytes where the records were\n", left);
	return left ? 1 : 0;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "records"))
		return cmd_records(argv[2],
				   argc == 4 ? strtoul(argv[3], NULL, 0) : 0);
	if (argc == 3 && !strcmp(argv[1], "zeroed"))
		return cmd_zeroed(argv[2]);
	fprintf(stderr, "usage: egm_demo records FILE [BASE] | zeroed DEVICE\n");
	return 2;
}
