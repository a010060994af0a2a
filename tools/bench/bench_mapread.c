/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What reading a page-cached capture costs the replay thread, by way of
 * reading (doc/performance.md, "Side by side: dpflow and nfpcapd"): one byte
 * of every cache line of the file, front to back, as the replay's prefetch
 * touches it.
 *
 *   bench_mapread FILE MODE [--reps N]
 *
 * MODE:
 *   map        mmap (private), MADV_SEQUENTIAL, pages given back 64 MiB behind
 *              the reader in 16 MiB steps (MADV_DONTNEED): what replay.c does
 *   map-keep   the same without giving pages back (munmap() at the end)
 *   map-huge   map, plus MADV_HUGEPAGE on a 2 MiB-aligned mapping
 *   map-pop    map, plus MADV_POPULATE_READ of each 16 MiB before reading it
 *   read       pread() of 1 MiB into one buffer
 *
 * Prints one SAMPLE line per repetition (wall and CPU seconds, minor faults)
 * and a RESULT line with the medians. No EAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define LINE 64
#define RELEASE_LAG (64ul << 20)
#define STEP (16ul << 20)
#define HUGE_ALIGN (2ul << 20)
#define READ_BLOCK (1ul << 20)
#define MAX_REPS 64

struct cost {
	double wall, cpu, sys;
	long minflt;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
usage_of(struct cost *c)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	c->sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	c->cpu = c->sys + (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	c->minflt = ru.ru_minflt;
}

/* One byte of every line: the sum keeps the loads. */
static uint64_t
touch(const volatile uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < len; i += LINE)
		sum += p[i];
	return sum;
}

static int
read_blocks(int fd, size_t len, uint64_t *sum)
{
	uint8_t *buf = aligned_alloc(4096, READ_BLOCK);
	size_t off = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (off < len) {
		ssize_t n = pread(fd, buf, READ_BLOCK, (off_t)off);

		if (n <= 0) {
			free(buf);
			return n == 0 ? -EIO : -errno;
		}
		*sum += touch(buf, (size_t)n);
		off += (size_t)n;
	}
	free(buf);
	return 0;
}

/* A mapping at a 2 MiB boundary, so that huge pages could back it. */
static uint8_t *
map_aligned(int fd, size_t len)
{
	uint8_t *area = mmap(NULL, len + HUGE_ALIGN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *at;

	if (area == MAP_FAILED)
		return NULL;
	at = (uint8_t *)(((uintptr_t)area + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1));
	if (mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
		return NULL;
	return at;
}

static int
read_mapped(int fd, size_t len, const char *mode, uint64_t *sum)
{
	bool release = strcmp(mode, "map-keep") != 0;
	bool populate = strcmp(mode, "map-pop") == 0;
	uint8_t *map = map_aligned(fd, len);
	size_t off, released = 0;

	if (map == NULL)
		return -errno;
	(void)madvise(map, len, MADV_SEQUENTIAL);
	if (strcmp(mode, "map-huge") == 0 && madvise(map, len, MADV_HUGEPAGE) != 0)
		fprintf(stderr, "MADV_HUGEPAGE: %s\n", strerror(errno));
	for (off = 0; off < len; off += STEP) {
		size_t n = len - off < STEP ? len - off : STEP;

		if (populate && madvise(map + off, n, MADV_POPULATE_READ) != 0)
			fprintf(stderr, "MADV_POPULATE_READ: %s\n", strerror(errno));
		*sum += touch(map + off, n);
		if (release && off + n >= RELEASE_LAG && off + n - RELEASE_LAG > released) {
			size_t upto = off + n - RELEASE_LAG;

			(void)madvise(map + released, upto - released, MADV_DONTNEED);
			released = upto;
		}
	}
	return munmap(map, len) == 0 ? 0 : -errno;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	double wall[MAX_REPS], cpu[MAX_REPS], sys[MAX_REPS];
	int reps = 3, r, fd;
	uint64_t sum = 0;
	struct stat st;

	if (argc >= 5 && strcmp(argv[3], "--reps") == 0)
		reps = atoi(argv[4]);
	if (argc < 3 || reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "usage: %s FILE map|map-keep|map-huge|map-pop|read [--reps N]\n",
			argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
		fprintf(stderr, "%s: %s\n", argv[1],
			fd < 0 ? strerror(errno) : "empty or unreadable");
		return 1;
	}
	for (r = 0; r < reps; r++) {
		struct cost a, b;
		int rc;

		usage_of(&a);
		a.wall = now_s();
		rc = strcmp(argv[2], "read") == 0
			     ? read_blocks(fd, (size_t)st.st_size, &sum)
			     : read_mapped(fd, (size_t)st.st_size, argv[2], &sum);
		b.wall = now_s();
		usage_of(&b);
		if (rc != 0) {
			fprintf(stderr, "%s %s: %s\n", argv[1], argv[2], strerror(-rc));
			return 1;
		}
		wall[r] = b.wall - a.wall;
		cpu[r] = b.cpu - a.cpu;
		sys[r] = b.sys - a.sys;
		printf("SAMPLE mode=%s rep=%d wall_s=%.3f cpu_s=%.3f sys_s=%.3f minflt=%ld\n",
		       argv[2], r, wall[r], cpu[r], sys[r], b.minflt - a.minflt);
	}
	printf("RESULT bench=mapread mode=%s bytes=%lld reps=%d wall_s_med=%.3f cpu_s_med=%.3f "
	       "sys_s_med=%.3f check=%llu\n",
	       argv[2], (long long)st.st_size, reps, median(wall, reps), median(cpu, reps),
	       median(sys, reps), (unsigned long long)(sum & 0xff));
	close(fd);
	return 0;
}
