/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gzip implementations side by side on an IBM flow log object
 * (doc/performance.md, "Connection records"): zlib, libdeflate and ISA-L's
 * igzip at their levels, each compressing the whole object in one call as
 * app/output/export_ibm.c does. The input is an object's JSON (gunzip one
 * that dpflow wrote); flow logs are counted in it ("start_time" keys), so
 * the rate is given in flow logs per second of the thread's CPU time. Every
 * output is decompressed with zlib and compared with the input (untimed).
 *
 *   bench_gzip [--reps N] [--cases zlib1,deflate1,isal1,...] OBJECT.json
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <zlib.h>

#define MAX_REPS 64

static double
thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* @return the compressed length, 0 on failure */
static size_t
gz_zlib(int level, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream s = {0};
	size_t n;

	/* windowBits 15 + 16: a gzip wrapper, as `gzip` writes. */
	if (deflateInit2(&s, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	s.next_in = (Bytef *)(uintptr_t)in;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	n = deflate(&s, Z_FINISH) == Z_STREAM_END ? s.total_out : 0;
	deflateEnd(&s);
	return n;
}

static size_t
gz_deflate(int level, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	size_t n;

	if (c == NULL)
		return 0;
	n = libdeflate_gzip_compress(c, in, len, out, cap);
	libdeflate_free_compressor(c);
	return n;
}

static size_t
gz_isal(int level, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	static const uint32_t level_buf[] = {0, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
					     ISAL_DEF_LVL3_DEFAULT};
	struct isal_zstream s;
	uint8_t *lb = NULL;
	size_t n;

	if (level < 0 || level > 3)
		return 0;
	isal_deflate_stateless_init(&s);
	s.level = (uint32_t)level;
	if (level_buf[level] != 0) {
		lb = malloc(level_buf[level]);
		if (lb == NULL)
			return 0;
		s.level_buf = lb;
		s.level_buf_size = level_buf[level];
	}
	s.gzip_flag = IGZIP_GZIP;
	s.end_of_stream = 1;
	s.flush = NO_FLUSH;
	s.next_in = (uint8_t *)(uintptr_t)in;
	s.avail_in = (uint32_t)len;
	s.next_out = out;
	s.avail_out = (uint32_t)cap;
	n = isal_deflate_stateless(&s) == COMP_OK ? s.total_out : 0;
	free(lb);
	return n;
}

static bool
check(const uint8_t *z, size_t zlen, const uint8_t *in, size_t len, uint8_t *back)
{
	z_stream s = {0};
	bool ok;

	if (inflateInit2(&s, 15 + 16) != Z_OK)
		return false;
	s.next_in = (Bytef *)(uintptr_t)z;
	s.avail_in = (uInt)zlen;
	s.next_out = back;
	s.avail_out = (uInt)len + 1;
	ok = inflate(&s, Z_FINISH) == Z_STREAM_END && s.total_out == len &&
	     memcmp(back, in, len) == 0;
	inflateEnd(&s);
	return ok;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static uint64_t
count_logs(const uint8_t *in, size_t len)
{
	static const char key[] = "\"start_time\"";
	const uint8_t *p = in, *end = in + len;
	uint64_t n = 0;

	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1)) != NULL) {
		n++;
		p += sizeof(key) - 1;
	}
	return n;
}

static int
run_case(const char *name, const uint8_t *in, size_t len, uint64_t logs, unsigned int reps,
	 uint8_t *out, size_t cap, uint8_t *back)
{
	size_t (*fn)(int, const uint8_t *, size_t, uint8_t *, size_t);
	double t[MAX_REPS];
	size_t zlen = 0;
	unsigned int r;
	int level;

	if (sscanf(name, "zlib%d", &level) == 1)
		fn = gz_zlib;
	else if (sscanf(name, "deflate%d", &level) == 1)
		fn = gz_deflate;
	else if (sscanf(name, "isal%d", &level) == 1)
		fn = gz_isal;
	else
		return -1;
	for (r = 0; r < reps; r++) {
		double c0 = thread_cpu_s();

		zlen = fn(level, in, len, out, cap);
		t[r] = thread_cpu_s() - c0;
		if (zlen == 0)
			return -1;
	}
	if (!check(out, zlen, in, len, back))
		return -1;
	qsort(t, reps, sizeof(t[0]), cmp_double);
	printf("RESULT bench=gzip case=%s bytes=%zu logs=%" PRIu64 " gz_bytes=%zu "
	       "gz_bytes_per_log=%.1f mb_s_med=%.0f mb_s_min=%.0f mb_s_max=%.0f "
	       "klogs_s_med=%.0f klogs_s_min=%.0f klogs_s_max=%.0f\n",
	       name, len, logs, zlen, (double)zlen / (double)logs, len / t[reps / 2] / 1e6,
	       len / t[reps - 1] / 1e6, len / t[0] / 1e6, logs / t[reps / 2] / 1e3,
	       logs / t[reps - 1] / 1e3, logs / t[0] / 1e3);
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"reps", required_argument, NULL, 'r'},
		{"cases", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	char cases[512] = "zlib1,zlib3,zlib6,deflate1,deflate3,deflate6,isal0,isal1,isal2,isal3";
	unsigned int reps = 5;
	uint8_t *in, *out, *back;
	size_t len, cap;
	uint64_t logs;
	char *c, *save = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'r')
			reps = (unsigned int)strtoul(optarg, NULL, 10);
		else if (opt == 'c')
			snprintf(cases, sizeof(cases), "%s", optarg);
		else
			return 2;
	}
	if (optind != argc - 1 || reps == 0 || reps > MAX_REPS) {
		fprintf(stderr, "usage: %s [--reps N] [--cases LIST] OBJECT.json\n", argv[0]);
		return 2;
	}
	in = read_file(argv[optind], &len);
	if (in == NULL) {
		fprintf(stderr, "bench_gzip: cannot read %s\n", argv[optind]);
		return 1;
	}
	logs = count_logs(in, len);
	cap = len + len / 8 + 4096;
	out = malloc(cap);
	back = malloc(len + 1);
	if (out == NULL || back == NULL || logs == 0)
		return 1;
	for (c = strtok_r(cases, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save))
		if (run_case(c, in, len, logs, reps, out, cap, back) < 0) {
			fprintf(stderr, "bench_gzip: case %s failed\n", c);
			return 1;
		}
	free(in);
	free(out);
	free(back);
	return 0;
}
