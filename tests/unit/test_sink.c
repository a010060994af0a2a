/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include <rte_errno.h>

#include "dpf_sink.h"
#include "dpf_test_util.h"

#define HEADER "version account-id interface-id start end action\n"
#define ACCOUNT "123456789012"
#define REGION "us-east-1"
#define FLOW_LOG_ID "fl-0123456789abcdef0"
/* 2019-08-27 19:13:13 UTC: slot 19:10, which ends at 19:15:00. */
#define END_SEC 1566933193ULL
#define SLOT_1910 1566933000ULL
#define SLOT_1915 (SLOT_1910 + 300)
#define MAX_FILES 512
#define DECOMP_CAP (16u * 1024 * 1024)

/* Short, so that paths built from them fit PATH_MAX without truncation checks. */
struct tdir {
	char root[64];
	char out[96];
};

struct file_list {
	unsigned int n;
	char *path[MAX_FILES];
};

/* nftw has no user argument. */
static struct file_list *walk_list;

static int
walk_collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F && walk_list->n < MAX_FILES)
		walk_list->path[walk_list->n++] = strdup(path);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files under dir, sorted by path. */
static void
list_files(const char *dir, struct file_list *l)
{
	l->n = 0;
	walk_list = l;
	nftw(dir, walk_collect, 16, FTW_PHYS);
	qsort(l->path, l->n, sizeof(l->path[0]), cmp_str);
}

static void
list_free(struct file_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		free(l->path[i]);
	l->n = 0;
}

static bool
is_tmp(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len = strlen(path);

	base = base != NULL ? base + 1 : path;
	return base[0] == '.' && len > 4 && strcmp(path + len - 4, ".tmp") == 0;
}

static unsigned int
count_tmp(const struct file_list *l)
{
	unsigned int i;
	unsigned int n = 0;

	for (i = 0; i < l->n; i++)
		n += is_tmp(l->path[i]);
	return n;
}

static int
setup_dir(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->root, "/tmp/test_sink.XXXXXX");
	if (mkdtemp(t->root) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->out, sizeof(t->out), "%s/out", t->root);
	*state = t;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct tdir *t = *state;

	chmod(t->root, 0700);
	dpf_test_rmtree(t->root);
	free(t);
	return 0;
}

static struct dpf_sink_params
files_params(const struct tdir *t, enum dpf_compress c)
{
	struct dpf_sink_params p;

	memset(&p, 0, sizeof(p));
	p.dir = t->out;
	p.header = HEADER;
	p.compress = c;
	p.account_id = ACCOUNT;
	p.region = REGION;
	p.flow_log_id = FLOW_LOG_ID;
	return p;
}

static size_t
make_line(char *buf, size_t cap, unsigned int i)
{
	/* Varied digits keep zstd from squeezing the lines to nothing. */
	uint32_t x = i * 2654435761u;
	int n = snprintf(buf, cap, "2 " ACCOUNT " eni-%08x i=%06u %u %u ACCEPT\n", x, i,
			 x % 100000u, (x >> 7) % 65536u);

	return (size_t)n;
}

static unsigned char *
read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The file's content after decompression, NUL-terminated. */
static char *
read_decompressed(const char *path, enum dpf_compress c, size_t *len)
{
	size_t src_len;
	unsigned char *src = read_all(path, &src_len);
	char *dst;
	size_t r;
	z_stream zs;

	if (c == DPF_COMPRESS_NONE) {
		*len = src_len;
		return (char *)src;
	}
	dst = malloc(DECOMP_CAP + 1);
	assert_non_null(dst);
	if (c == DPF_COMPRESS_ZSTD) {
		r = ZSTD_decompress(dst, DECOMP_CAP, src, src_len);
		assert_false(ZSTD_isError(r));
		*len = r;
	} else {
		memset(&zs, 0, sizeof(zs));
		assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
		zs.next_in = src;
		zs.avail_in = (uInt)src_len;
		zs.next_out = (Bytef *)dst;
		zs.avail_out = DECOMP_CAP;
		assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
		assert_int_equal(zs.avail_in, 0);
		*len = zs.total_out;
		inflateEnd(&zs);
	}
	dst[*len] = '\0';
	free(src);
	return dst;
}

static void
test_sink_compress_parse_accepts_three_names_and_ext_matches(void **state)
{
	enum dpf_compress c = DPF_COMPRESS_NONE;

	(void)state;
	assert_int_equal(dpf_sink_compress_parse("zstd", &c), 0);
	assert_int_equal(c, DPF_COMPRESS_ZSTD);
	assert_int_equal(dpf_sink_compress_parse("gzip", &c), 0);
	assert_int_equal(c, DPF_COMPRESS_GZIP);
	assert_int_equal(dpf_sink_compress_parse("none", &c), 0);
	assert_int_equal(c, DPF_COMPRESS_NONE);
	assert_int_equal(dpf_sink_compress_parse("lz4", &c), -EINVAL);
	assert_int_equal(dpf_sink_compress_parse("", &c), -EINVAL);
	assert_int_equal(dpf_sink_compress_parse(NULL, &c), -EINVAL);
	assert_string_equal(dpf_sink_compress_ext(DPF_COMPRESS_ZSTD), ".log.zst");
	assert_string_equal(dpf_sink_compress_ext(DPF_COMPRESS_GZIP), ".log.gz");
	assert_string_equal(dpf_sink_compress_ext(DPF_COMPRESS_NONE), ".log");
	assert_null(dpf_sink_compress_ext((enum dpf_compress)42));
}

static void
expect_einval(const struct dpf_sink_params *p)
{
	rte_errno = 0;
	assert_null(dpf_sink_create(p));
	assert_int_equal(rte_errno, EINVAL);
}

static void
test_sink_create_with_bad_params_fails_einval(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p;
	struct stat st;

	expect_einval(NULL);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.header = NULL;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.header = "no newline";
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.account_id = NULL;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.region = NULL;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.flow_log_id = NULL;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.dir = NULL;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.region = "../etc";
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.account_id = "..";
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.flow_log_id = "";
	expect_einval(&p);
	p = files_params(t, (enum dpf_compress)7);
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_GZIP);
	p.level = 10;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.level = ZSTD_maxCLevel() + 1;
	expect_einval(&p);
	p = files_params(t, DPF_COMPRESS_ZSTD);
	p.slot_sec = 90;
	expect_einval(&p);
	/* Stream mode needs no components but still a header. */
	memset(&p, 0, sizeof(p));
	p.stream = stderr;
	expect_einval(&p);
	/* A rejected create leaves no directory behind. */
	assert_int_equal(stat(t->out, &st), -1);
}

static void
test_sink_create_with_oversized_components_fails_enametoolong(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	char long_id[200];

	memset(long_id, 'f', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	p.flow_log_id = long_id;
	rte_errno = 0;
	assert_null(dpf_sink_create(&p));
	assert_int_equal(rte_errno, ENAMETOOLONG);
}

static bool
is_hash8(const char *h)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

/* Publishes one line ending at END_SEC and checks the exact path. */
static void
check_layout(const struct tdir *t, enum dpf_compress c, const char *ext)
{
	struct dpf_sink_params p = files_params(t, c);
	struct dpf_sink *s = dpf_sink_create(&p);
	char line[128];
	char prefix[PATH_MAX];
	const char *path;
	size_t plen;
	size_t len = make_line(line, sizeof(line), 1);
	struct stat st;

	assert_non_null(s);
	assert_string_equal(dpf_sink_last_path(s), "");
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	snprintf(prefix, sizeof(prefix),
		 "%s/AWSLogs/" ACCOUNT "/vpcflowlogs/" REGION "/2019/08/27/" ACCOUNT
		 "_vpcflowlogs_" REGION "_" FLOW_LOG_ID "_20190827T1910Z_",
		 t->out);
	path = dpf_sink_last_path(s);
	plen = strlen(prefix);
	assert_int_equal(strncmp(path, prefix, plen), 0);
	assert_true(is_hash8(path + plen));
	assert_string_equal(path + plen + 8, ext);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	snprintf(prefix, sizeof(prefix), "%s/AWSLogs/" ACCOUNT "/vpcflowlogs/" REGION "/2019/08/27",
		 t->out);
	assert_int_equal(stat(prefix, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0750);
	dpf_sink_free(s);
}

static void
test_sink_published_path_follows_aws_layout_per_compression(void **state)
{
	struct tdir *t = *state;

	check_layout(t, DPF_COMPRESS_ZSTD, ".log.zst");
	check_layout(t, DPF_COMPRESS_GZIP, ".log.gz");
	check_layout(t, DPF_COMPRESS_NONE, ".log");
}

static void
test_sink_path_uses_utc_when_local_zone_is_ahead(void **state)
{
	struct tdir *t = *state;
	char *old = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;

	/* UTC+14: local time of END_SEC is already 2019-08-28 09:13. */
	setenv("TZ", "XYZ-14", 1);
	tzset();
	check_layout(t, DPF_COMPRESS_NONE, ".log");
	if (old != NULL) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

/* Writes n lines in one slot, publishes, returns the single file's content. */
static void
check_roundtrip(const struct tdir *t, enum dpf_compress c, int level)
{
	struct dpf_sink_params p = files_params(t, c);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char *expect;
	char *got;
	size_t expect_len = strlen(HEADER);
	size_t got_len;
	unsigned int i;

	p.level = level;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	expect = malloc(1 << 20);
	assert_non_null(expect);
	strcpy(expect, HEADER);
	for (i = 0; i < 1000; i++) {
		size_t len = make_line(expect + expect_len, 200, i);

		assert_int_equal(dpf_sink_write(s, END_SEC + i % 100, expect + expect_len, len), 0);
		expect_len += len;
	}
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.records, 1000);
	assert_int_equal(st.bytes, expect_len);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(st.files_abandoned, 0);
	got = read_decompressed(dpf_sink_last_path(s), c, &got_len);
	assert_int_equal(got_len, expect_len);
	assert_memory_equal(got, expect, expect_len);
	free(got);
	free(expect);
	dpf_sink_free(s);
}

static void
test_sink_plain_file_is_header_then_lines(void **state)
{
	check_roundtrip(*state, DPF_COMPRESS_NONE, 0);
}

static void
test_sink_zstd_file_decompresses_to_header_and_lines(void **state)
{
	check_roundtrip(*state, DPF_COMPRESS_ZSTD, 0);
	check_roundtrip(*state, DPF_COMPRESS_ZSTD, 19);
}

static void
test_sink_gzip_file_inflates_to_header_and_lines(void **state)
{
	check_roundtrip(*state, DPF_COMPRESS_GZIP, 0);
	check_roundtrip(*state, DPF_COMPRESS_GZIP, 1);
}

static void
test_sink_nothing_under_final_name_before_publish(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct file_list l;
	char line[128];
	char expect_tmp[PATH_MAX];
	const char *slash;
	size_t len = make_line(line, sizeof(line), 7);

	assert_non_null(s);
	list_files(t->root, &l);
	assert_int_equal(l.n, 0);
	list_free(&l);

	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_open_files(s), 1);
	list_files(t->root, &l);
	assert_int_equal(l.n, 1);
	assert_true(is_tmp(l.path[0]));
	strcpy(expect_tmp, l.path[0]);
	list_free(&l);

	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	list_files(t->root, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(count_tmp(&l), 0);
	assert_string_equal(l.path[0], dpf_sink_last_path(s));
	/* The temporary was ".<final name>.0.tmp" in the final directory: no
	 * window had ended (dpf_sink_flush) while it was written. */
	slash = strrchr(l.path[0], '/');
	assert_non_null(slash);
	{
		char want[PATH_MAX];

		snprintf(want, sizeof(want), "%.*s/.%s.0.tmp", (int)(slash - l.path[0]), l.path[0],
			 slash + 1);
		assert_string_equal(expect_tmp, want);
	}
	list_free(&l);
	dpf_sink_free(s);
}

static void
test_sink_two_slots_close_before_publishes_only_older(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_GZIP);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct file_list l;
	char line[128];
	size_t len = make_line(line, sizeof(line), 1);

	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_write(s, SLOT_1915 + 10, line, len), 0);
	assert_int_equal(dpf_sink_write(s, SLOT_1910, line, len), 0);
	assert_int_equal(dpf_sink_open_files(s), 2);

	/* The 19:10 slot ends at 19:15:00; one second earlier nothing is due. */
	assert_int_equal(dpf_sink_close_before(s, SLOT_1915 - 1), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(dpf_sink_close_before(s, SLOT_1915), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_non_null(strstr(dpf_sink_last_path(s), "_20190827T1910Z_"));
	assert_int_equal(dpf_sink_open_files(s), 1);
	list_files(t->root, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(count_tmp(&l), 1);
	list_free(&l);

	assert_int_equal(dpf_sink_close_before(s, SLOT_1915 + 299), 0);
	assert_int_equal(dpf_sink_open_files(s), 1);
	assert_int_equal(dpf_sink_close_before(s, SLOT_1915 + 300), 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	assert_non_null(strstr(dpf_sink_last_path(s), "_20190827T1915Z_"));
	list_files(t->root, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(count_tmp(&l), 0);
	list_free(&l);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.records, 3);
	assert_int_equal(st.files_published, 2);
	dpf_sink_free(s);
}

/*
 * Checks that the published files each start with the header and together
 * hold lines 0..n-1 exactly once; returns the number of files.
 */
static unsigned int
check_all_lines_once(const struct tdir *t, enum dpf_compress c, unsigned int n)
{
	struct file_list l;
	unsigned char *seen = calloc(n, 1);
	unsigned int files;
	unsigned int i;

	assert_non_null(seen);
	list_files(t->root, &l);
	assert_int_equal(count_tmp(&l), 0);
	for (i = 0; i < l.n; i++) {
		size_t len;
		char *text = read_decompressed(l.path[i], c, &len);
		char *p;

		assert_int_equal(strncmp(text, HEADER, strlen(HEADER)), 0);
		for (p = text + strlen(HEADER); *p != '\0';) {
			char *nl = strchr(p, '\n');
			/* Within the line: ASan's strstr would measure the whole text each time. */
			char *idx = nl != NULL ? memmem(p, (size_t)(nl - p), " i=", 3) : NULL;
			unsigned int k;

			assert_non_null(nl);
			assert_non_null(idx);
			assert_true(idx < nl);
			k = (unsigned int)strtoul(idx + 3, NULL, 10);
			assert_true(k < n);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			p = nl + 1;
		}
		free(text);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	files = l.n;
	list_free(&l);
	free(seen);
	return files;
}

static void
test_sink_rotation_at_max_bytes_keeps_every_line_once(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	struct file_list l;
	char line[128];
	unsigned int i;
	unsigned int files;

	p.max_file_bytes = 1000;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	for (i = 0; i < 200; i++) {
		size_t len = make_line(line, sizeof(line), i);

		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
		/* A window end after each line. */
		assert_int_equal(dpf_sink_flush(s), 0);
	}
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	files = check_all_lines_once(t, DPF_COMPRESS_NONE, 200);
	assert_true(files > 5);
	assert_int_equal(st.files_published, files);
	/* Every file but the last is published at the first window end after it
	 * reached the limit. */
	list_files(t->root, &l);
	for (i = 0; i < l.n; i++) {
		struct stat sb;

		assert_int_equal(stat(l.path[i], &sb), 0);
		assert_true((uint64_t)sb.st_size < 1000 + sizeof(line));
	}
	list_free(&l);
	dpf_sink_free(s);
}

static void
test_sink_rotation_waits_for_the_window_end(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char line[128];
	unsigned int i;

	p.max_file_bytes = 1000;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	/* A window of 3000 bytes: one file, though past the limit, until its end. */
	for (i = 0; i < 40; i++) {
		size_t len = make_line(line, sizeof(line), i);

		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	}
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(dpf_sink_open_files(s), 1);
	assert_int_equal(dpf_sink_flush(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(dpf_sink_open_files(s), 0);
	/* Only a window past 4 times the limit is split. */
	for (i = 40; i < 200; i++) {
		size_t len = make_line(line, sizeof(line), i);

		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	}
	dpf_sink_get_stats(s, &st);
	assert_true(st.files_published >= 2);
	assert_int_equal(dpf_sink_close_all(s), 0);
	check_all_lines_once(t, DPF_COMPRESS_NONE, 200);
	dpf_sink_free(s);
}

static void
test_sink_rotation_of_zstd_files_gives_whole_frames(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char line[128];
	unsigned int i;
	unsigned int files;
	const unsigned int n = 40000;

	p.max_file_bytes = 64 * 1024;
	p.level = 1;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	for (i = 0; i < n; i++) {
		size_t len = make_line(line, sizeof(line), i);

		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	}
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	files = check_all_lines_once(t, DPF_COMPRESS_ZSTD, n);
	assert_true(files >= 2);
	assert_int_equal(st.files_published, files);
	assert_int_equal(st.records, n);
	dpf_sink_free(s);
}

static void
test_sink_names_differ_across_sinks_with_different_nonce(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *a;
	struct dpf_sink *b;
	struct file_list l;
	char line[128];
	size_t len = make_line(line, sizeof(line), 3);

	p.nonce = 1;
	a = dpf_sink_create(&p);
	p.nonce = 2;
	b = dpf_sink_create(&p);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(dpf_sink_write(a, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_write(b, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_close_all(a), 0);
	assert_int_equal(dpf_sink_close_all(b), 0);
	assert_string_not_equal(dpf_sink_last_path(a), dpf_sink_last_path(b));
	list_files(t->root, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(count_tmp(&l), 0);
	list_free(&l);
	dpf_sink_free(a);
	dpf_sink_free(b);
}

static void
test_sink_same_nonce_moves_to_next_sequence_when_name_exists(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *a;
	struct dpf_sink *b;
	struct file_list l;
	char line[128];
	char first[2 * PATH_MAX];
	size_t len = make_line(line, sizeof(line), 3);
	unsigned int i;

	p.nonce = 42;
	a = dpf_sink_create(&p);
	b = dpf_sink_create(&p);
	assert_non_null(a);
	assert_non_null(b);

	/* One after the other: b finds a's published name. */
	assert_int_equal(dpf_sink_write(a, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_close_all(a), 0);
	strcpy(first, dpf_sink_last_path(a));
	assert_int_equal(dpf_sink_write(b, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_close_all(b), 0);
	assert_string_not_equal(first, dpf_sink_last_path(b));

	/* Interleaved: both open the slot before either publishes. */
	assert_int_equal(dpf_sink_write(a, SLOT_1915, line, len), 0);
	assert_int_equal(dpf_sink_write(b, SLOT_1915, line, len), 0);
	assert_int_equal(dpf_sink_close_all(b), 0);
	assert_int_equal(dpf_sink_close_all(a), 0);
	assert_string_not_equal(dpf_sink_last_path(a), dpf_sink_last_path(b));

	list_files(t->root, &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(count_tmp(&l), 0);
	for (i = 0; i < l.n; i++) {
		size_t flen;
		char *text = read_decompressed(l.path[i], DPF_COMPRESS_NONE, &flen);

		assert_int_equal(flen, strlen(HEADER) + len);
		free(text);
	}
	list_free(&l);
	dpf_sink_free(a);
	dpf_sink_free(b);
}

static void
test_sink_rename_never_replaces_a_file_under_the_next_name(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s;
	struct file_list l;
	char line[128];
	char final[2 * PATH_MAX];
	size_t len = make_line(line, sizeof(line), 5);
	FILE *f;

	/* A first run learns the name its first file gets... */
	p.nonce = 9;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	strcpy(final, dpf_sink_last_path(s));
	dpf_sink_free(s);
	assert_int_equal(unlink(final), 0);

	/* ...a second run opens its temporary, then someone takes that name. */
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	f = fopen(final, "wx");
	assert_non_null(f);
	fputs("not ours\n", f);
	fclose(f);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_string_not_equal(dpf_sink_last_path(s), final);
	{
		size_t flen;
		char *text = read_decompressed(final, DPF_COMPRESS_NONE, &flen);

		assert_string_equal(text, "not ours\n");
		free(text);
	}
	list_files(t->root, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(count_tmp(&l), 0);
	list_free(&l);
	dpf_sink_free(s);
}

static void
test_sink_stream_writes_header_once_even_without_records(void **state)
{
	struct dpf_sink_params p;
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &size);
	assert_non_null(f);
	memset(&p, 0, sizeof(p));
	p.stream = f;
	p.header = HEADER;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_close_before(s, END_SEC), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.bytes, strlen(HEADER));
	assert_int_equal(st.records, 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	assert_string_equal(dpf_sink_last_path(s), "");
	dpf_sink_free(s);
	fclose(f);
	assert_string_equal(buf, HEADER);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &size);
	assert_non_null(f);
	p.stream = f;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, "a b\n", 4), 0);
	assert_int_equal(dpf_sink_write(s, END_SEC + 600, "c d\n", 4), 0);
	assert_int_equal(dpf_sink_close_before(s, END_SEC + 300), 0);
	assert_string_equal(buf, HEADER "a b\nc d\n");
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.bytes, strlen(HEADER) + 8);
	dpf_sink_free(s);
	fclose(f);
	assert_string_equal(buf, HEADER "a b\nc d\n");
	free(buf);
}

static void
test_sink_create_under_regular_file_fails_enotdir(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	char afile[128];
	char dir[PATH_MAX];
	FILE *f;

	snprintf(afile, sizeof(afile), "%s/afile", t->root);
	f = fopen(afile, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/sub", afile);
	p.dir = dir;
	rte_errno = 0;
	assert_null(dpf_sink_create(&p));
	assert_int_equal(rte_errno, ENOTDIR);
}

static void
test_sink_write_when_layout_dir_is_a_file_holds_then_publishes_after_retry(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	char blocker[PATH_MAX];
	char line[128];
	const char *path;
	size_t len = make_line(line, sizeof(line), 0);
	FILE *f;

	assert_non_null(s);
	snprintf(blocker, sizeof(blocker), "%s/AWSLogs", t->out);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	/* Held, not lost: the sink is blocked and says by what. */
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	len = make_line(line, sizeof(line), 1);
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	assert_int_equal(dpf_sink_blocked(s, &path), ENOTDIR);
	assert_string_equal(path, blocker);
	assert_int_equal(dpf_sink_retry(s), -ENOTDIR);
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.lines_lost, 0);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(st.blocked_count, 1);
	assert_int_equal(st.retries, 1);
	assert_true(st.write_errors >= 2);
	assert_int_equal(dpf_sink_open_files(s), 1);
	assert_string_equal(dpf_sink_last_path(s), "");

	/* The way is clear again: the retry publishes everything held. */
	assert_int_equal(unlink(blocker), 0);
	assert_int_equal(dpf_sink_retry(s), 0);
	assert_int_equal(dpf_sink_blocked(s, NULL), 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(check_all_lines_once(t, DPF_COMPRESS_ZSTD, 2), 1);
	dpf_sink_free(s);
}

static void
test_sink_write_past_file_size_limit_holds_lines_until_retry_succeeds(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct rlimit old;
	struct rlimit lim;
	struct file_list l;
	char line[128];
	unsigned int i;
	void (*old_handler)(int);

	assert_non_null(s);
	/* Files may not grow past 200 kB: the second 128 KiB write fails (EFBIG). */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 200 * 1000;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 20000; i++) {
		size_t len = make_line(line, sizeof(line), i);

		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	}
	assert_int_equal(dpf_sink_blocked(s, NULL), EFBIG);
	assert_int_equal(dpf_sink_retry(s), -EFBIG);
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(st.lines_lost, 0);
	assert_true(st.held_bytes > 500 * 1000);
	list_files(t->root, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(count_tmp(&l), 1);
	list_free(&l);

	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(dpf_sink_retry(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(st.files_abandoned, 0);
	assert_int_equal(check_all_lines_once(t, DPF_COMPRESS_NONE, 20000), 1);
	dpf_sink_free(s);
}

static void
test_sink_write_rejects_line_without_newline(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;

	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, "abc", 3), -EINVAL);
	assert_int_equal(dpf_sink_write(s, END_SEC, "abc\n", 0), -EINVAL);
	assert_int_equal(dpf_sink_write(s, END_SEC, NULL, 4), -EINVAL);
	assert_int_equal(dpf_sink_write(NULL, END_SEC, "abc\n", 4), -EINVAL);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	dpf_sink_free(s);
}

static void
test_sink_full_open_file_table_publishes_oldest_slot(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char line[128];
	size_t len = make_line(line, sizeof(line), 1);

	p.max_open_files = 2;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, SLOT_1915, line, len), 0);
	assert_int_equal(dpf_sink_write(s, SLOT_1910, line, len), 0);
	assert_int_equal(dpf_sink_write(s, SLOT_1915 + 300, line, len), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_non_null(strstr(dpf_sink_last_path(s), "_20190827T1910Z_"));
	assert_int_equal(dpf_sink_open_files(s), 2);
	dpf_sink_free(s);
}

static void
test_sink_default_slots_cover_an_hour_window(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_GZIP);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	char line[128];
	unsigned int i;

	assert_non_null(s);
	for (i = 0; i < 3600; i += 10) {
		size_t len = make_line(line, sizeof(line), i / 10);

		assert_int_equal(dpf_sink_write(s, SLOT_1910 + i, line, len), 0);
	}
	assert_int_equal(dpf_sink_open_files(s), 12);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 12);
	/* Oldest first: the last published is the 20:05 slot. */
	assert_non_null(strstr(dpf_sink_last_path(s), "_20190827T2005Z_"));
	assert_int_equal(check_all_lines_once(t, DPF_COMPRESS_GZIP, 360), 12);
	dpf_sink_free(s);
}

static void
test_sink_free_publishes_open_files(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	char line[128];
	size_t len = make_line(line, sizeof(line), 0);

	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	dpf_sink_free(s);
	dpf_sink_free(NULL);
	assert_int_equal(check_all_lines_once(t, DPF_COMPRESS_ZSTD, 1), 1);
}

struct published {
	unsigned int n;
	char path[4][4096];
};

static void
record_publish(void *arg, const char *path)
{
	struct published *pub = arg;
	struct stat st;

	/* Called once the file is under its final name, complete. */
	assert_int_equal(stat(path, &st), 0);
	assert_false(is_tmp(path));
	if (pub->n < 4)
		snprintf(pub->path[pub->n], sizeof(pub->path[0]), "%s", path);
	pub->n++;
}

static void
test_sink_on_publish_called_once_per_published_file_with_its_path(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct published pub = {0};
	struct dpf_sink *s;
	char line[128];
	size_t len = make_line(line, sizeof(line), 1);

	p.on_publish = record_publish;
	p.on_publish_arg = &pub;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, SLOT_1910, line, len), 0);
	assert_int_equal(dpf_sink_write(s, SLOT_1915 + 10, line, len), 0);
	assert_int_equal(pub.n, 0);
	assert_int_equal(dpf_sink_close_before(s, SLOT_1915), 0);
	assert_int_equal(pub.n, 1);
	assert_string_equal(pub.path[0], dpf_sink_last_path(s));
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(pub.n, 2);
	assert_non_null(strstr(pub.path[1], "_20190827T1915Z_"));
	dpf_sink_free(s);
	assert_int_equal(pub.n, 2);
}

/* Log rotation (SIGHUP): every open file is published now, the sink goes on. */
static void
test_sink_rotate_publishes_open_files_and_next_line_opens_new_file(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct file_list l;
	char line[128], first_1910[4096];
	unsigned char *before, *after;
	size_t len, before_len, after_len;
	unsigned int i, n_1910 = 0;

	assert_non_null(s);
	for (i = 0; i < 10; i++) {
		len = make_line(line, sizeof(line), i);
		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	}
	len = make_line(line, sizeof(line), 10);
	assert_int_equal(dpf_sink_write(s, SLOT_1915 + 10, line, len), 0);
	assert_int_equal(dpf_sink_open_files(s), 2);

	/* Neither slot has ended: only rotation publishes them. */
	assert_int_equal(dpf_sink_rotate(s), 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 2);
	list_files(t->root, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(count_tmp(&l), 0);
	for (i = 0; i < l.n; i++)
		if (strstr(l.path[i], "_20190827T1910Z_") != NULL)
			snprintf(first_1910, sizeof(first_1910), "%s", l.path[i]);
	list_free(&l);
	before = read_all(first_1910, &before_len);

	/* The same slot again: a new file under a new name. */
	for (i = 11; i < 20; i++) {
		len = make_line(line, sizeof(line), i);
		assert_int_equal(dpf_sink_write(s, END_SEC, line, len), 0);
	}
	assert_int_equal(dpf_sink_open_files(s), 1);
	assert_int_equal(dpf_sink_close_all(s), 0);
	list_files(t->root, &l);
	for (i = 0; i < l.n; i++)
		n_1910 += strstr(l.path[i], "_20190827T1910Z_") != NULL;
	list_free(&l);
	assert_int_equal(n_1910, 2);
	assert_int_equal(check_all_lines_once(t, DPF_COMPRESS_ZSTD, 20), 3);

	/* A published file is never touched again. */
	after = read_all(first_1910, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(before);
	free(after);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.records, 20);
	assert_int_equal(st.write_errors, 0);
	dpf_sink_free(s);
}

static void
test_sink_rotate_without_open_files_publishes_nothing(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct file_list l;

	assert_non_null(s);
	assert_int_equal(dpf_sink_rotate(s), 0);
	assert_int_equal(dpf_sink_rotate(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 0);
	list_files(t->root, &l);
	assert_int_equal(l.n, 0);
	list_free(&l);
	assert_int_equal(dpf_sink_rotate(NULL), -EINVAL);
	dpf_sink_free(s);
}

static void
test_sink_rotate_in_stream_mode_flushes_and_goes_on(void **state)
{
	struct dpf_sink_params p;
	struct dpf_sink *s;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&buf, &size);
	assert_non_null(f);
	memset(&p, 0, sizeof(p));
	p.stream = f;
	p.header = HEADER;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_write(s, END_SEC, "a b\n", 4), 0);
	assert_int_equal(dpf_sink_rotate(s), 0);
	/* A memstream's buffer is only brought up to date by a flush. */
	assert_int_equal(size, strlen(HEADER) + 4);
	assert_string_equal(buf, HEADER "a b\n");
	assert_int_equal(dpf_sink_write(s, END_SEC, "c d\n", 4), 0);
	dpf_sink_free(s);
	fclose(f);
	/* No second header: a stream is one output. */
	assert_string_equal(buf, HEADER "a b\nc d\n");
	free(buf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_compress_parse_accepts_three_names_and_ext_matches),
		T(test_sink_create_with_bad_params_fails_einval),
		T(test_sink_create_with_oversized_components_fails_enametoolong),
		T(test_sink_published_path_follows_aws_layout_per_compression),
		T(test_sink_path_uses_utc_when_local_zone_is_ahead),
		T(test_sink_plain_file_is_header_then_lines),
		T(test_sink_zstd_file_decompresses_to_header_and_lines),
		T(test_sink_gzip_file_inflates_to_header_and_lines),
		T(test_sink_nothing_under_final_name_before_publish),
		T(test_sink_two_slots_close_before_publishes_only_older),
		T(test_sink_rotation_at_max_bytes_keeps_every_line_once),
		T(test_sink_rotation_waits_for_the_window_end),
		T(test_sink_rotation_of_zstd_files_gives_whole_frames),
		T(test_sink_names_differ_across_sinks_with_different_nonce),
		T(test_sink_same_nonce_moves_to_next_sequence_when_name_exists),
		T(test_sink_rename_never_replaces_a_file_under_the_next_name),
		cmocka_unit_test(test_sink_stream_writes_header_once_even_without_records),
		T(test_sink_create_under_regular_file_fails_enotdir),
		T(test_sink_write_when_layout_dir_is_a_file_holds_then_publishes_after_retry),
		T(test_sink_write_past_file_size_limit_holds_lines_until_retry_succeeds),
		T(test_sink_write_rejects_line_without_newline),
		T(test_sink_full_open_file_table_publishes_oldest_slot),
		T(test_sink_default_slots_cover_an_hour_window),
		T(test_sink_free_publishes_open_files),
		T(test_sink_on_publish_called_once_per_published_file_with_its_path),
		T(test_sink_rotate_publishes_open_files_and_next_line_opens_new_file),
		T(test_sink_rotate_without_open_files_publishes_nothing),
		cmocka_unit_test(test_sink_rotate_in_stream_mode_flushes_and_goes_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
