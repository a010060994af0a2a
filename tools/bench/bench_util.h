/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_BENCH_UTIL_H
#define DPF_BENCH_UTIL_H

/*
 * Helpers shared by the benchmarks in tools/bench: samples and their median
 * and spread, a fast deterministic RNG, and the machine line every result
 * file starts with. Benchmarks print one `RESULT key=value ...` line per
 * measured cell so tools/bench/run.sh can build the tables without guessing.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#define BENCH_MAX_SAMPLES 64

struct bench_samples {
	double v[BENCH_MAX_SAMPLES];
	unsigned int n;
};

static inline void
bench_add(struct bench_samples *s, double v)
{
	if (s->n < BENCH_MAX_SAMPLES)
		s->v[s->n++] = v;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median, minimum and maximum of the samples (0 when there are none). */
static inline void
bench_summary(const struct bench_samples *s, double *med, double *min, double *max)
{
	double tmp[BENCH_MAX_SAMPLES];

	*med = *min = *max = 0;
	if (s->n == 0)
		return;
	memcpy(tmp, s->v, s->n * sizeof(tmp[0]));
	qsort(tmp, s->n, sizeof(tmp[0]), bench_cmp_double);
	*min = tmp[0];
	*max = tmp[s->n - 1];
	*med = s->n % 2 ? tmp[s->n / 2] : (tmp[s->n / 2 - 1] + tmp[s->n / 2]) / 2;
}

/*
 * CPU time of the calling thread, in seconds. On a shared machine the wall
 * time of a run includes other processes' time slices; this does not.
 */
static inline double
bench_thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: fast, deterministic, good enough to pick flows. */
static inline uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n). */
static inline uint32_t
bench_rand_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)(((bench_rand(state) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double
bench_rand01(uint64_t *state)
{
	return (double)(bench_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

static inline void
bench_print_machine(FILE *f)
{
	char line[256], model[256] = "unknown", mhz[64] = "unknown";
	FILE *c = fopen("/proc/cpuinfo", "r");

	if (c != NULL) {
		while (fgets(line, sizeof(line), c) != NULL) {
			char *v = strchr(line, ':');

			if (v == NULL)
				continue;
			v += 2;
			v[strcspn(v, "\n")] = '\0';
			if (strncmp(line, "model name", 10) == 0 && strcmp(model, "unknown") == 0)
				snprintf(model, sizeof(model), "%s", v);
			if (strncmp(line, "cpu MHz", 7) == 0 && strcmp(mhz, "unknown") == 0)
				snprintf(mhz, sizeof(mhz), "%s", v);
		}
		fclose(c);
	}
	fprintf(f, "MACHINE cpu=\"%s\" cpu_mhz=%s tsc_hz=%" PRIu64 "\n", model, mhz,
		rte_get_tsc_hz());
}

#endif /* DPF_BENCH_UTIL_H */
