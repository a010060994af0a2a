/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writer benchmark (doc/performance.md, "Writer").
 *
 * Records per second through what the writer thread does with each row
 * (app/output/writer.c write_batch): dpf_fmt_record() then dpf_sink_write() into
 * files in the AWS layout, compressed with zstd at each --levels value (and
 * gzip / none for reference), publish included. --records rows shaped like
 * gencap.py flows. One core: the benchmark is single-threaded.
 *
 * "format" is dpf_fmt_record() alone, the ceiling the compressor leaves.
 */
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>

#include "dpf_fmt.h"
#include "dpf_sink.h"

#include "bench_flows.h"
#include "bench_util.h"

#define MAX_CASES 16

static struct {
	uint32_t n_records;
	unsigned int reps;
	const char *dir;
	const char *format;
	char cases[MAX_CASES][16];
	unsigned int n_cases;
	struct dpf_record *recs;
	struct dpf_fmt *fmt;
	struct dpf_fmt_ctx ctx;
	uint64_t out_bytes;
} b;

static const struct dpf_iface_meta meta = {
	.account_id = "123456789010",
	.interface_id = "eni-1235b8ca123456789",
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
make_records(void)
{
	uint32_t i;

	for (i = 0; i < b.n_records; i++) {
		struct dpf_record *r = &b.recs[i];
		uint32_t h;

		memset(r, 0, sizeof(*r));
		bench_make_flow(i, 0.2, &r->key, &h);
		memcpy(r->post.src_addr, r->key.src_addr, 16);
		memcpy(r->post.dst_addr, r->key.dst_addr, 16);
		r->post.src_port = r->key.src_port;
		r->post.dst_port = r->key.dst_port;
		r->packets = 1 + h % 40;
		r->bytes = r->packets * (40 + h % 1400);
		r->start = 1700000000 + h % 60;
		r->end = r->start + h % 30;
		r->log_status = DPF_LOG_OK;
	}
}

static uint64_t tree_total;

static int
add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		tree_total += (uint64_t)st->st_size;
	return 0;
}

/* Sum of the sizes of the files under dir. */
static uint64_t
tree_bytes(const char *dir)
{
	tree_total = 0;
	nftw(dir, add_size, 16, FTW_PHYS);
	return tree_total;
}

/*
 * One run of case c ("format", "none", "gzip<level>" or "zstd<level>").
 * @return seconds, or a negative value on error
 */
static double
run_case(const char *c, double *cpu_s)
{
	char line[DPF_FMT_LINE_MAX], header[DPF_FMT_LINE_MAX], dir[512];
	struct dpf_sink_params sp;
	struct dpf_sink *sink = NULL;
	uint64_t t0, t;
	uint32_t i;

	b.out_bytes = 0;
	if (dpf_fmt_header(b.fmt, header, sizeof(header)) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/run", b.dir);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (strcmp(c, "format") != 0) {
		memset(&sp, 0, sizeof(sp));
		sp.dir = dir;
		sp.header = header;
		sp.account_id = meta.account_id;
		sp.region = "eu-west-1";
		sp.flow_log_id = "fl-bench";
		sp.nonce = 1;
		if (strcmp(c, "none") == 0) {
			sp.compress = DPF_COMPRESS_NONE;
		} else if (strncmp(c, "gzip", 4) == 0) {
			sp.compress = DPF_COMPRESS_GZIP;
			sp.level = atoi(c + 4);
		} else {
			sp.compress = DPF_COMPRESS_ZSTD;
			sp.level = atoi(c + 4);
		}
		sink = dpf_sink_create(&sp);
		if (sink == NULL)
			return -1;
	}
	*cpu_s = bench_thread_cpu_s();
	t0 = rte_rdtsc_precise();
	for (i = 0; i < b.n_records; i++) {
		const struct dpf_record *r = &b.recs[i];
		int n = dpf_fmt_record(b.fmt, &b.ctx, r, line, sizeof(line));

		if (n < 0)
			return -1;
		if (sink == NULL)
			b.out_bytes += (uint64_t)n;
		else if (dpf_sink_write(sink, r->end, line, (size_t)n) < 0)
			return -1;
	}
	if (sink != NULL && dpf_sink_close_all(sink) < 0)
		return -1;
	t = rte_rdtsc_precise() - t0;
	*cpu_s = bench_thread_cpu_s() - *cpu_s;
	if (sink != NULL) {
		struct dpf_sink_stats st;

		dpf_sink_get_stats(sink, &st);
		dpf_sink_free(sink);
		b.out_bytes = tree_bytes(dir);
		(void)st;
	}
	return (double)t / rte_get_tsc_hz();
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- [--records N] [--reps N] [--dir DIR]\n"
		"          [--cases format,none,zstd1,zstd3,...,gzip6] [--format FMT]\n",
		prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"records", required_argument, NULL, 'n'}, {"reps", required_argument, NULL, 'r'},
		{"dir", required_argument, NULL, 'd'},	   {"cases", required_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'f'},  {NULL, 0, NULL, 0},
	};
	char err[256], tmpl[64];
	bool own_dir = false;
	const char *cases = "format,none,zstd1,zstd3,zstd6,zstd9,gzip6";
	unsigned int ci, rep;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "bench: EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	b.n_records = 1000000;
	b.reps = 5;
	b.format = DPF_FMT_DEFAULT;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			b.n_records = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'r':
			b.reps = (unsigned int)atoi(optarg);
			break;
		case 'd':
			b.dir = optarg;
			break;
		case 'c':
			cases = optarg;
			break;
		case 'f':
			b.format = optarg;
			break;
		default:
			usage(argv[0]);
			return 1;
		}
	}
	if (b.n_records == 0 || b.reps == 0 || b.reps > BENCH_MAX_SAMPLES) {
		usage(argv[0]);
		return 1;
	}
	for (const char *p = cases; *p != '\0' && b.n_cases < MAX_CASES;) {
		size_t len = strcspn(p, ",");

		snprintf(b.cases[b.n_cases++], sizeof(b.cases[0]), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
	if (b.dir == NULL) {
		/* tmpfs: the benchmark is about the CPU, not the disk. */
		snprintf(tmpl, sizeof(tmpl), "%s/dpf_bench_writerXXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		b.dir = mkdtemp(tmpl);
		if (b.dir == NULL) {
			perror("bench: mkdtemp");
			return 1;
		}
		own_dir = true;
	}
	b.fmt = dpf_fmt_parse(b.format, err, sizeof(err));
	if (b.fmt == NULL) {
		fprintf(stderr, "bench: --format: %s\n", err);
		return 1;
	}
	b.ctx.ifaces = &meta;
	b.ctx.n_ifaces = 1;
	b.recs = malloc((size_t)b.n_records * sizeof(b.recs[0]));
	if (b.recs == NULL)
		return 1;
	make_records();

	bench_print_machine(stdout);
	{
		struct bench_samples s[MAX_CASES], cs[MAX_CASES];
		uint64_t bytes[MAX_CASES] = {0};

		memset(s, 0, sizeof(s));
		memset(cs, 0, sizeof(cs));
		/* Cases alternate inside each repetition. */
		for (rep = 0; rep < b.reps; rep++) {
			for (ci = 0; ci < b.n_cases; ci++) {
				double cpu_s;
				double sec = run_case(b.cases[ci], &cpu_s);

				if (sec < 0) {
					fprintf(stderr, "bench: case %s failed\n", b.cases[ci]);
					return 1;
				}
				bench_add(&s[ci], b.n_records / sec);
				bench_add(&cs[ci], b.n_records / cpu_s);
				bytes[ci] = b.out_bytes;
				printf("SAMPLE case=%s rep=%u records_per_s=%.0f records_per_cpu_s=%.0f\n",
				       b.cases[ci], rep, b.n_records / sec, b.n_records / cpu_s);
				fflush(stdout);
			}
		}
		for (ci = 0; ci < b.n_cases; ci++) {
			double med, min, max, cmed, cmin, cmax;

			bench_summary(&s[ci], &med, &min, &max);
			bench_summary(&cs[ci], &cmed, &cmin, &cmax);
			printf("RESULT bench=writer case=%s records=%u reps=%u mrec_per_s_med=%.3f "
			       "mrec_per_s_min=%.3f mrec_per_s_max=%.3f mrec_per_cpu_s_med=%.3f "
			       "mrec_per_cpu_s_min=%.3f mrec_per_cpu_s_max=%.3f out_bytes=%" PRIu64
			       " bytes_per_record=%.1f\n",
			       b.cases[ci], b.n_records, b.reps, med / 1e6, min / 1e6, max / 1e6,
			       cmed / 1e6, cmin / 1e6, cmax / 1e6, bytes[ci],
			       (double)bytes[ci] / b.n_records);
		}
	}
	{
		char dir[512];

		snprintf(dir, sizeof(dir), "%s/run", b.dir);
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (own_dir)
			rmdir(b.dir);
	}
	dpf_fmt_free(b.fmt);
	free(b.recs);
	return 0;
}
