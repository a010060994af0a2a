/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sink under faults: a disk that refuses writes (ENOSPC, EDQUOT, EIO,
 * EACCES), fsyncs and renames that fail, the hold bound, symbolic links an
 * attacker placed in the output tree, file modes, the lock on temporaries,
 * and the recovery of the temporaries a killed run left.
 *
 * The system calls the sink makes are wrapped at link time
 * (-Wl,--wrap=write,...): each wrapper fails with the errno a test set, so
 * every error path runs without a broken disk. Only the sink's own calls are
 * wrapped; libc and cmocka use their internal entry points.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "dpf_sink.h"
#include "dpf_test_util.h"

#define HEADER "version account-id interface-id start end action\n"
#define ACCOUNT "123456789012"
#define REGION "us-east-1"
#define FLOW_LOG_ID "fl-0123456789abcdef0"
/* 2019-08-27 19:13:13 UTC, in the 19:10 slot. */
#define END_SEC 1566933193ULL
#define SLOT_1910 1566933000ULL
#define MAX_FILES 64

/* ------------------------------------------------------------ fault injection */

struct fault {
	int err;	  /* errno to fail with; 0: pass through */
	int after;	  /* calls that still succeed before failing */
	size_t short_len; /* write: first write a part this long, then fail */
	unsigned int hits;
};

static struct fault f_write, f_fsync, f_rename, f_open_tmp, f_mkdir;

static bool
fault_fires(struct fault *f)
{
	if (f->err == 0)
		return false;
	if (f->after > 0) {
		f->after--;
		return false;
	}
	f->hits++;
	return true;
}

static void
faults_clear(void)
{
	memset(&f_write, 0, sizeof(f_write));
	memset(&f_fsync, 0, sizeof(f_fsync));
	memset(&f_rename, 0, sizeof(f_rename));
	memset(&f_open_tmp, 0, sizeof(f_open_tmp));
	memset(&f_mkdir, 0, sizeof(f_mkdir));
}

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_renameat2(int ofd, const char *o, int nfd, const char *n, unsigned int flags);
int __wrap_renameat2(int ofd, const char *o, int nfd, const char *n, unsigned int flags);
int __real_openat(int dfd, const char *path, int flags, ...);
int __wrap_openat(int dfd, const char *path, int flags, ...);
int __real_openat64(int dfd, const char *path, int flags, ...);
int __wrap_openat64(int dfd, const char *path, int flags, ...);
int __real_mkdirat(int dfd, const char *path, mode_t mode);
int __wrap_mkdirat(int dfd, const char *path, mode_t mode);

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	if (f_write.err != 0 && f_write.short_len > 0 && f_write.short_len < n &&
	    f_write.after == 0) {
		/* A disk that fills up mid-buffer: part goes in, the rest fails. */
		size_t part = f_write.short_len;

		f_write.short_len = 0;
		return __real_write(fd, buf, part);
	}
	if (fault_fires(&f_write)) {
		errno = f_write.err;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int
__wrap_fsync(int fd)
{
	if (fault_fires(&f_fsync)) {
		errno = f_fsync.err;
		return -1;
	}
	return __real_fsync(fd);
}

int
__wrap_renameat2(int ofd, const char *o, int nfd, const char *n, unsigned int flags)
{
	if (fault_fires(&f_rename)) {
		errno = f_rename.err;
		return -1;
	}
	return __real_renameat2(ofd, o, nfd, n, flags);
}

static int
open_common(int dfd, const char *path, int flags, mode_t mode, bool is64)
{
	if ((flags & O_CREAT) && fault_fires(&f_open_tmp)) {
		errno = f_open_tmp.err;
		return -1;
	}
	return is64 ? __real_openat64(dfd, path, flags, mode)
		    : __real_openat(dfd, path, flags, mode);
}

int
__wrap_openat(int dfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(dfd, path, flags, mode, false);
}

int
__wrap_openat64(int dfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(dfd, path, flags, mode, true);
}

int
__wrap_mkdirat(int dfd, const char *path, mode_t mode)
{
	if (fault_fires(&f_mkdir)) {
		errno = f_mkdir.err;
		return -1;
	}
	return __real_mkdirat(dfd, path, mode);
}

/* ------------------------------------------------------------ helpers */

struct tdir {
	char root[64];
	char out[96];
};

struct file_list {
	unsigned int n;
	char *path[MAX_FILES];
};

static struct file_list *walk_list;
static const char *walk_under;

static int
walk_collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((type == FTW_F || type == FTW_SL) && walk_list->n < MAX_FILES &&
	    strncmp(path, walk_under, strlen(walk_under)) == 0)
		walk_list->path[walk_list->n++] = strdup(path);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files (and symlinks) under dir, sorted. */
static void
list_files(const char *dir, struct file_list *l)
{
	l->n = 0;
	walk_list = l;
	walk_under = dir;
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
	strcpy(t->root, "/tmp/test_sink_faults.XXXXXX");
	if (mkdtemp(t->root) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->out, sizeof(t->out), "%s/out", t->root);
	faults_clear();
	*state = t;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct tdir *t = *state;

	faults_clear();
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
	p.nonce = 42;
	return p;
}

/* Six fields, like the header; the index is in the third. */
static size_t
make_line(char *buf, size_t cap, unsigned int i)
{
	uint32_t x = i * 2654435761u;
	int n = snprintf(buf, cap, "2 " ACCOUNT " eni-%08u %u %u ACCEPT\n", i, x % 100000u,
			 (x >> 7) % 65536u);

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

#define DECOMP_CAP (64u * 1024 * 1024)

/* Strict: the whole file must decompress (a published file is complete). */
static char *
read_decompressed(const char *path, size_t *len)
{
	size_t src_len;
	unsigned char *src = read_all(path, &src_len);
	size_t plen = strlen(path);
	char *dst;

	if (plen > 4 && strcmp(path + plen - 4, ".log") == 0) {
		*len = src_len;
		return (char *)src;
	}
	dst = malloc(DECOMP_CAP + 1);
	assert_non_null(dst);
	if (strcmp(path + plen - 4, ".zst") == 0) {
		size_t r = ZSTD_decompress(dst, DECOMP_CAP, src, src_len);

		assert_false(ZSTD_isError(r));
		*len = r;
	} else {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
		zs.next_in = src;
		zs.avail_in = (uInt)src_len;
		zs.next_out = (Bytef *)dst;
		zs.avail_out = DECOMP_CAP;
		assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
		*len = zs.total_out;
		inflateEnd(&zs);
	}
	dst[*len] = '\0';
	free(src);
	return dst;
}

/*
 * Published files under dir hold exactly lines [0, n) once each, after the
 * header; no temporary is left. @return the number of files
 */
static unsigned int
check_lines_exactly(const char *dir, unsigned int n)
{
	struct file_list l;
	unsigned char *seen = calloc(n + 1, 1);
	unsigned int files;
	unsigned int i;

	assert_non_null(seen);
	list_files(dir, &l);
	assert_int_equal(count_tmp(&l), 0);
	for (i = 0; i < l.n; i++) {
		size_t len;
		char *text = read_decompressed(l.path[i], &len);
		char *p;

		assert_int_equal(strncmp(text, HEADER, strlen(HEADER)), 0);
		for (p = text + strlen(HEADER); *p != '\0';) {
			char *nl = strchr(p, '\n');
			/* Within the line: ASan's strstr would measure the whole text each time. */
			char *idx = nl != NULL ? memmem(p, (size_t)(nl - p), " eni-", 5) : NULL;
			char want[128];
			unsigned int k;

			assert_non_null(nl);
			assert_non_null(idx);
			k = (unsigned int)strtoul(idx + 5, NULL, 10);
			assert_true(k < n);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			/* Byte for byte: partial writes neither lose nor repeat anything. */
			assert_int_equal((size_t)(nl + 1 - p), make_line(want, sizeof(want), k));
			assert_memory_equal(p, want, (size_t)(nl + 1 - p));
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
write_lines(struct dpf_sink *s, unsigned int from, unsigned int to)
{
	char line[128];
	unsigned int i;

	for (i = from; i < to; i++)
		assert_int_equal(dpf_sink_write(s, END_SEC, line, make_line(line, sizeof(line), i)),
				 0);
}

/* ------------------------------------------------------------ disk errors */

static void
check_write_error_holds_then_recovers(struct tdir *t, enum dpf_compress c, int err,
				      size_t short_len)
{
	struct dpf_sink_params p = files_params(t, c);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	const char *path;
	const unsigned int n = 30000;

	assert_non_null(s);
	f_write.err = err;
	f_write.short_len = short_len;
	write_lines(s, 0, n);
	assert_int_equal(dpf_sink_blocked(s, &path), err);
	assert_non_null(strstr(path, "/AWSLogs/" ACCOUNT "/vpcflowlogs/"));
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(dpf_sink_retry(s), -err);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(st.lines_lost, 0);
	assert_true(st.held_bytes > 0);

	faults_clear();
	assert_int_equal(dpf_sink_retry(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(st.lines_lost, 0);
	assert_int_equal(st.files_abandoned, 0);
	assert_int_equal(check_lines_exactly(t->out, n), 1);
	dpf_sink_free(s);
}

static void
test_sink_enospc_mid_buffer_holds_every_line_and_writes_each_once_after_retry(void **state)
{
	check_write_error_holds_then_recovers(*state, DPF_COMPRESS_NONE, ENOSPC, 1000);
	faults_clear();
	dpf_test_rmtree(((struct tdir *)*state)->out);
	check_write_error_holds_then_recovers(*state, DPF_COMPRESS_ZSTD, ENOSPC, 777);
}

static void
test_sink_edquot_and_eio_on_write_hold_then_recover(void **state)
{
	check_write_error_holds_then_recovers(*state, DPF_COMPRESS_GZIP, EDQUOT, 0);
	faults_clear();
	dpf_test_rmtree(((struct tdir *)*state)->out);
	check_write_error_holds_then_recovers(*state, DPF_COMPRESS_NONE, EIO, 0);
}

static void
test_sink_eacces_creating_temporary_holds_then_recovers(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	const char *path;

	assert_non_null(s);
	f_open_tmp.err = EACCES;
	write_lines(s, 0, 100);
	assert_int_equal(dpf_sink_blocked(s, &path), EACCES);
	assert_non_null(strstr(path, "/." ACCOUNT "_vpcflowlogs_"));
	assert_int_equal(dpf_sink_retry(s), -EACCES);
	faults_clear();
	f_mkdir.err = EACCES;
	/* Closing while blocked finishes the file in memory; nothing is touched. */
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(dpf_sink_open_files(s), 1);
	faults_clear();
	assert_int_equal(dpf_sink_retry(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(st.blocked_count, 1);
	assert_int_equal(st.retries, 2);
	assert_int_equal(check_lines_exactly(t->out, 100), 1);
	dpf_sink_free(s);
}

static void
test_sink_eacces_on_mkdir_holds_then_recovers(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_GZIP);
	struct dpf_sink *s = dpf_sink_create(&p);
	const char *path;

	assert_non_null(s);
	f_mkdir.err = EACCES;
	write_lines(s, 0, 50);
	assert_int_equal(dpf_sink_blocked(s, &path), EACCES);
	/* The path names the first directory that could not be made. */
	assert_non_null(strstr(path, "/out/AWSLogs"));
	assert_null(strstr(path, "vpcflowlogs"));
	faults_clear();
	write_lines(s, 50, 60); /* still blocked until a retry: held, no syscall */
	assert_int_equal(dpf_sink_blocked(s, NULL), EACCES);
	assert_int_equal(dpf_sink_retry(s), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(check_lines_exactly(t->out, 60), 1);
	dpf_sink_free(s);
}

static void
test_sink_rename_failure_keeps_complete_temporary_until_retry(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct file_list l;

	assert_non_null(s);
	write_lines(s, 0, 500);
	f_rename.err = EIO;
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(dpf_sink_blocked(s, NULL), EIO);
	list_files(t->out, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(count_tmp(&l), 1);
	list_free(&l);
	faults_clear();
	assert_int_equal(dpf_sink_retry(s), 0);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_published, 1);
	assert_int_equal(st.lines_lost, 0);
	assert_int_equal(check_lines_exactly(t->out, 500), 1);
	dpf_sink_free(s);
}

static void
test_sink_fsync_failure_abandons_file_counts_its_lines_and_removes_it(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct file_list l;
	char line[128];

	assert_non_null(s);
	write_lines(s, 0, 300);
	f_fsync.err = EIO;
	assert_int_equal(dpf_sink_close_all(s), -EIO);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.files_abandoned, 1);
	assert_int_equal(st.lines_lost, 300);
	assert_int_equal(st.files_published, 0);
	assert_int_equal(st.held_bytes, 0);
	/* Not blocked: the disk took the writes, only this file is suspect. */
	assert_int_equal(dpf_sink_blocked(s, NULL), 0);
	list_files(t->out, &l);
	assert_int_equal(l.n, 0);
	list_free(&l);

	/* The next line starts a new, complete file. */
	faults_clear();
	assert_int_equal(dpf_sink_write(s, END_SEC, line, make_line(line, sizeof(line), 0)), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(check_lines_exactly(t->out, 1), 1);
	dpf_sink_free(s);
}

static void
test_sink_hold_bound_refuses_and_counts_lines_then_keeps_the_accepted_ones(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char line[128];
	unsigned int i;
	unsigned int accepted = 0;
	unsigned int refused = 0;

	p.hold_bytes = 256 * 1024;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	f_write.err = ENOSPC;
	for (i = 0; i < 20000; i++) {
		int rc = dpf_sink_write(s, END_SEC, line, make_line(line, sizeof(line), i));

		if (rc == 0) {
			/* Once the hold is full, nothing more gets in. */
			assert_int_equal(refused, 0);
			accepted++;
		} else {
			assert_int_equal(rc, -ENOSPC);
			refused++;
		}
	}
	assert_true(accepted > 1000);
	assert_true(refused > 1000);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.lines_lost, refused);
	assert_int_equal(st.records, accepted);
	assert_true(st.held_bytes <= p.hold_bytes);
	assert_true(st.held_bytes_max <= p.hold_bytes);

	/* Space is back: the accepted lines are all there, once. */
	faults_clear();
	assert_int_equal(dpf_sink_retry(s), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(check_lines_exactly(t->out, accepted), 1);
	/* And new lines are accepted again. */
	assert_int_equal(dpf_sink_write(s, END_SEC, line, make_line(line, sizeof(line), 0)), 0);
	dpf_sink_free(s);
}

static void
test_sink_outage_longer_than_open_files_counts_lines_of_new_slots(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s;
	struct dpf_sink_stats st;
	char line[128];
	size_t len = make_line(line, sizeof(line), 0);

	p.max_open_files = 2;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	f_open_tmp.err = ENOSPC;
	assert_int_equal(dpf_sink_write(s, SLOT_1910, line, len), 0);
	assert_int_equal(dpf_sink_write(s, SLOT_1910 + 300, line, len), 0);
	/* A third slot needs an entry; both wait for the disk. */
	assert_int_equal(dpf_sink_write(s, SLOT_1910 + 600, line, len), -ENOSPC);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.lines_lost, 1);
	faults_clear();
	assert_int_equal(dpf_sink_retry(s), 0);
	dpf_sink_get_stats(s, &st);
	/* The oldest was finished to make room: it is published now. */
	assert_int_equal(st.files_published, 1);
	assert_int_equal(dpf_sink_write(s, SLOT_1910 + 600, line, len), 0);
	dpf_sink_free(s);
}

static void
test_sink_discard_at_stop_counts_held_lines_and_leaves_no_temporary(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_stats st;
	struct file_list l;

	assert_non_null(s);
	write_lines(s, 0, 5000);
	f_write.err = ENOSPC;
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(dpf_sink_blocked(s, NULL), ENOSPC);
	assert_int_equal(dpf_sink_discard(s), 5000);
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.lines_lost, 5000);
	assert_int_equal(st.held_bytes, 0);
	assert_int_equal(dpf_sink_open_files(s), 0);
	list_files(t->out, &l);
	assert_int_equal(l.n, 0);
	list_free(&l);
	dpf_sink_free(s);
}

static void
test_sink_removed_output_directory_is_made_again_on_retry(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);

	assert_non_null(s);
	assert_int_equal(rmdir(t->out), 0);
	write_lines(s, 0, 10);
	assert_int_equal(dpf_sink_blocked(s, NULL), ENOENT);
	assert_int_equal(dpf_sink_retry(s), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(check_lines_exactly(t->out, 10), 1);
	dpf_sink_free(s);
}

/* ------------------------------------------------------------ security */

static void
test_sink_symlink_in_layout_is_never_followed(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct file_list l;
	char victim[128];
	char link_path[256];
	const char *path;
	int err;

	assert_non_null(s);
	snprintf(victim, sizeof(victim), "%s/victim", t->root);
	assert_int_equal(mkdir(victim, 0700), 0);
	/* An attacker who can write the output tree points a directory elsewhere. */
	snprintf(link_path, sizeof(link_path), "%s/AWSLogs", t->out);
	assert_int_equal(symlink(victim, link_path), 0);
	write_lines(s, 0, 10);
	err = dpf_sink_blocked(s, &path);
	assert_int_equal(err, ELOOP);
	assert_string_equal(path, link_path);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(dpf_sink_retry(s), -err);
	list_files(victim, &l);
	assert_int_equal(l.n, 0);
	list_free(&l);

	/* Deeper in the tree too. */
	assert_int_equal(unlink(link_path), 0);
	{
		char awslogs[160];

		snprintf(awslogs, sizeof(awslogs), "%s/AWSLogs", t->out);
		assert_int_equal(mkdir(awslogs, 0750), 0);
	}
	snprintf(link_path, sizeof(link_path), "%s/AWSLogs/" ACCOUNT, t->out);
	assert_int_equal(symlink(victim, link_path), 0);
	assert_int_equal(dpf_sink_retry(s), -err);
	assert_int_equal(dpf_sink_blocked(s, &path), err);
	assert_string_equal(path, link_path);
	list_files(victim, &l);
	assert_int_equal(l.n, 0);
	list_free(&l);

	/* Link gone: everything held is published where it belongs. */
	assert_int_equal(unlink(link_path), 0);
	assert_int_equal(dpf_sink_retry(s), 0);
	assert_int_equal(check_lines_exactly(t->out, 10), 1);
	dpf_sink_free(s);
}

static void
test_sink_symlink_at_temporary_or_final_name_is_never_followed(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink *s = dpf_sink_create(&p);
	char first[PATH_MAX];
	char victim[128];
	char tmp_link[PATH_MAX + 8];
	char *slash;
	size_t vlen;
	unsigned char *v;

	/* Learn the first name a sink with this nonce uses, then start over. */
	assert_non_null(s);
	write_lines(s, 0, 1);
	assert_int_equal(dpf_sink_close_all(s), 0);
	snprintf(first, sizeof(first), "%s", dpf_sink_last_path(s));
	dpf_sink_free(s);
	assert_int_equal(unlink(first), 0);

	snprintf(victim, sizeof(victim), "%s/victim", t->root);
	{
		FILE *f = fopen(victim, "w");

		assert_non_null(f);
		fputs("precious\n", f);
		fclose(f);
	}
	/* Links at the temporary name and at the final name of that same file. */
	slash = strrchr(first, '/');
	snprintf(tmp_link, sizeof(tmp_link), "%.*s/.%s.0.tmp", (int)(slash - first), first,
		 slash + 1);
	assert_int_equal(symlink(victim, tmp_link), 0);
	s = dpf_sink_create(&p);
	assert_non_null(s);
	write_lines(s, 0, 5);
	assert_int_equal(dpf_sink_blocked(s, NULL), 0);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_string_not_equal(dpf_sink_last_path(s), first);
	dpf_sink_free(s);
	assert_int_equal(unlink(tmp_link), 0);
	assert_int_equal(symlink(victim, first), 0);
	s = dpf_sink_create(&p);
	assert_non_null(s);
	write_lines(s, 0, 5);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_string_not_equal(dpf_sink_last_path(s), first);
	dpf_sink_free(s);
	v = read_all(victim, &vlen);
	assert_string_equal((char *)v, "precious\n");
	free(v);
}

static void
test_sink_files_are_0640_and_directories_0750(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *s;
	struct stat st;
	char dir[PATH_MAX];
	char *slash;
	mode_t old = umask(022);

	s = dpf_sink_create(&p);
	assert_non_null(s);
	write_lines(s, 0, 3);
	assert_int_equal(dpf_sink_close_all(s), 0);
	assert_int_equal(stat(dpf_sink_last_path(s), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(dir, sizeof(dir), "%s", dpf_sink_last_path(s));
	while ((slash = strrchr(dir, '/')) != NULL && strcmp(dir, t->out) != 0) {
		*slash = '\0';
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0750);
	}
	dpf_sink_free(s);
	umask(old);
}

static void
test_sink_temporary_in_use_is_locked_and_skipped_by_recovery(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_ZSTD);
	struct dpf_sink *a = dpf_sink_create(&p);
	struct dpf_sink *b;
	struct dpf_sink_recovery r;
	struct file_list l;
	int fd;

	assert_non_null(a);
	write_lines(a, 0, 10);
	list_files(t->out, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(count_tmp(&l), 1);
	fd = open(l.path[0], O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	close(fd);
	list_free(&l);

	/* Another writer starting on the same directory leaves it alone. */
	p.nonce = 7;
	b = dpf_sink_create(&p);
	assert_non_null(b);
	assert_int_equal(dpf_sink_recover(b, &r), 0);
	assert_int_equal(r.files_skipped, 1);
	assert_int_equal(r.files_finished + r.files_removed + r.errors, 0);
	dpf_sink_free(b);
	assert_int_equal(dpf_sink_close_all(a), 0);
	assert_int_equal(check_lines_exactly(t->out, 10), 1);
	dpf_sink_free(a);
}

/* ------------------------------------------------------------ recovery */

#define LEFT_DIR "AWSLogs/" ACCOUNT "/vpcflowlogs/" REGION "/2019/08/27"
#define LEFT_FINAL ACCOUNT "_vpcflowlogs_" REGION "_fl-old_20190827T1910Z_0badc0de"

/* Header and n lines, compressed as c; *len is the whole stream's size. */
static unsigned char *
make_stream(enum dpf_compress c, unsigned int n, size_t *len)
{
	size_t cap = strlen(HEADER) + (size_t)n * 64 + 1;
	char *text = malloc(cap);
	size_t tl = strlen(HEADER);
	unsigned char *out;
	unsigned int i;

	assert_non_null(text);
	strcpy(text, HEADER);
	for (i = 0; i < n; i++)
		tl += make_line(text + tl, cap - tl, i);
	if (c == DPF_COMPRESS_NONE) {
		*len = tl;
		return (unsigned char *)text;
	}
	out = malloc(tl + 1024);
	assert_non_null(out);
	if (c == DPF_COMPRESS_ZSTD) {
		*len = ZSTD_compress(out, tl + 1024, text, tl, 3);
		assert_false(ZSTD_isError(*len));
	} else {
		z_stream zs;

		memset(&zs, 0, sizeof(zs));
		assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
				 Z_OK);
		zs.next_in = (Bytef *)text;
		zs.avail_in = (uInt)tl;
		zs.next_out = out;
		zs.avail_out = (uInt)(tl + 1024);
		assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
		*len = zs.total_out;
		deflateEnd(&zs);
	}
	free(text);
	return out;
}

static void
put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
left_path(const struct tdir *t, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/" LEFT_DIR "/%s", t->out, name);
}

static void
make_left_dir(const struct tdir *t)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/" LEFT_DIR, t->out);
	assert_int_equal(system(cmd), 0);
}

/* Published lines of a recovered file: header then lines [0, k), k returned. */
static unsigned int
check_prefix(const char *path)
{
	size_t len;
	char *text = read_decompressed(path, &len);
	char *p;
	unsigned int k = 0;

	assert_int_equal(strncmp(text, HEADER, strlen(HEADER)), 0);
	for (p = text + strlen(HEADER); *p != '\0'; k++) {
		char want[128];
		size_t wl = make_line(want, sizeof(want), k);

		assert_memory_equal(p, want, wl);
		p += wl;
	}
	free(text);
	return k;
}

static void
check_recover_truncated(struct tdir *t, enum dpf_compress c)
{
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink_recovery r;
	struct dpf_sink *s;
	char tmp[PATH_MAX];
	char final[PATH_MAX];
	const char *ext = dpf_sink_compress_ext(c);
	const unsigned int n = 30000;
	size_t len;
	unsigned char *stream = make_stream(c, n, &len);
	unsigned int k;
	struct stat st;

	make_left_dir(t);
	snprintf(final, sizeof(final), "%s/" LEFT_DIR "/" LEFT_FINAL "%s", t->out, ext);
	snprintf(tmp, sizeof(tmp), "%s/" LEFT_DIR "/." LEFT_FINAL "%s.tmp", t->out, ext);
	/* What a SIGKILL leaves: the stream cut somewhere in the middle. */
	put_file(tmp, stream, len * 6 / 10);
	free(stream);
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_recover(s, &r), 0);
	assert_int_equal(r.files_finished, 1);
	assert_int_equal(r.files_removed + r.files_skipped + r.errors, 0);
	assert_int_equal(stat(tmp, &st), -1);
	k = check_prefix(final);
	assert_int_equal(k, r.lines_recovered);
	assert_true(k > 0 && k < n);
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	dpf_sink_free(s);
	assert_int_equal(unlink(final), 0);
}

static void
test_sink_recover_finishes_truncated_leftover_of_each_compression(void **state)
{
	check_recover_truncated(*state, DPF_COMPRESS_NONE);
	check_recover_truncated(*state, DPF_COMPRESS_ZSTD);
	check_recover_truncated(*state, DPF_COMPRESS_GZIP);
}

static void
test_sink_recover_removes_leftovers_without_records_and_keeps_valid_prefix(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink_recovery r;
	struct dpf_sink *s;
	struct file_list l;
	char path[PATH_MAX];
	char text[4096];
	size_t tl;
	unsigned int i;

	make_left_dir(t);
	left_path(t, ".a_1.log.zst.tmp", path, sizeof(path));
	put_file(path, "", 0);
	left_path(t, ".a_2.log.tmp", path, sizeof(path));
	put_file(path, HEADER, strlen(HEADER));
	left_path(t, ".a_3.log.zst.tmp", path, sizeof(path));
	put_file(path, "\x28\xb5\x2f\xfd garbage that is not a zstd frame", 36);
	left_path(t, ".a_4.log.gz.tmp", path, sizeof(path));
	put_file(path, HEADER "2 x y 1 2 ACCEPT\n", strlen(HEADER) + 17); /* not gzip */
	/* Good lines, then one with a field missing, then good again: kept up to it. */
	tl = (size_t)snprintf(text, sizeof(text), "%s", HEADER);
	for (i = 0; i < 3; i++)
		tl += make_line(text + tl, sizeof(text) - tl, i);
	tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "2 " ACCOUNT " eni-x 1 ACCEPT\n");
	tl += make_line(text + tl, sizeof(text) - tl, 3);
	left_path(t, ".a_5.log.tmp", path, sizeof(path));
	put_file(path, text, tl);
	/* A control character ends it too. */
	tl = (size_t)snprintf(text, sizeof(text), "%s", HEADER);
	tl += make_line(text + tl, sizeof(text) - tl, 0);
	tl += (size_t)snprintf(text + tl, sizeof(text) - tl,
			       "2 " ACCOUNT " eni-\x1b[2J 1 2 ACCEPT\n");
	left_path(t, ".a_6.log.tmp", path, sizeof(path));
	put_file(path, text, tl);
	/* Not ours by name: left alone. */
	left_path(t, ".notes.txt.tmp", path, sizeof(path));
	put_file(path, "x\n", 2);

	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_recover(s, &r), 0);
	assert_int_equal(r.files_removed, 4);
	assert_int_equal(r.files_finished, 2);
	assert_int_equal(r.lines_recovered, 4);
	assert_int_equal(r.files_skipped, 1);
	assert_int_equal(r.errors, 0);
	left_path(t, "a_5.log", path, sizeof(path));
	assert_int_equal(check_prefix(path), 3);
	left_path(t, "a_6.log", path, sizeof(path));
	assert_int_equal(check_prefix(path), 1);
	list_files(t->out, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(count_tmp(&l), 1); /* .notes.txt.tmp */
	list_free(&l);
	dpf_sink_free(s);
}

static void
test_sink_recover_never_follows_links_nor_touches_others_files(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink_recovery r;
	struct dpf_sink *s;
	char victim[128];
	char path[PATH_MAX];
	char link2[PATH_MAX];
	char text[256];
	size_t vlen;
	unsigned char *v;
	size_t tl = (size_t)snprintf(text, sizeof(text), "%s", HEADER);

	tl += make_line(text + tl, sizeof(text) - tl, 0);
	make_left_dir(t);
	snprintf(victim, sizeof(victim), "%s/victim", t->root);
	put_file(victim, text, tl);
	/* A symlink and a hard link dressed as leftovers, and a file of another user. */
	left_path(t, ".b_1.log.tmp", path, sizeof(path));
	assert_int_equal(symlink(victim, path), 0);
	left_path(t, ".b_2.log.tmp", path, sizeof(path));
	assert_int_equal(link(victim, path), 0);
	left_path(t, ".b_3.log.tmp", path, sizeof(path));
	put_file(path, text, tl);
	assert_int_equal(chown(path, 65534, 65534), 0);
	/* A symlinked directory on the way is not entered. */
	snprintf(link2, sizeof(link2), "%s/AWSLogs/elsewhere", t->out);
	assert_int_equal(symlink(t->root, link2), 0);

	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_recover(s, &r), 0);
	assert_int_equal(r.files_finished + r.files_removed + r.errors, 0);
	assert_int_equal(r.files_skipped, 2);
	v = read_all(victim, &vlen);
	assert_int_equal(vlen, tl);
	free(v);
	left_path(t, ".b_2.log.tmp", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	left_path(t, ".b_3.log.tmp", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);
	left_path(t, "b_2.log", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	dpf_sink_free(s);
}

/* The paths on_publish heard of, in order. */
struct heard {
	unsigned int n;
	char path[4][PATH_MAX];
};

static void
hear_publish(void *arg, const char *path)
{
	struct heard *h = arg;

	if (h->n < 4)
		snprintf(h->path[h->n], sizeof(h->path[0]), "%s", path);
	h->n++;
}

/* Was path heard (once)? */
static bool
heard_once(const struct heard *h, const char *path)
{
	unsigned int i, k = 0;

	for (i = 0; i < h->n && i < 4; i++)
		k += strcmp(h->path[i], path) == 0;
	return k == 1;
}

static void
test_sink_recover_after_interrupted_recovery_is_exact(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct heard heard = {0};
	struct dpf_sink_recovery r;
	struct dpf_sink *s;
	char path[PATH_MAX];
	size_t len;
	unsigned char *stream = make_stream(DPF_COMPRESS_ZSTD, 100, &len);
	unsigned char *plain;
	size_t plen;

	make_left_dir(t);
	/* Crashed while writing the recovery: leftover and a partial recovering file. */
	left_path(t, ".c_1.log.zst.tmp", path, sizeof(path));
	put_file(path, stream, len);
	left_path(t, ".c_1.log.zst.recovering.tmp", path, sizeof(path));
	put_file(path, stream, len / 3);
	/* Crashed after removing the leftover: the recovering file is complete. */
	left_path(t, ".c_2.log.zst.recovering.tmp", path, sizeof(path));
	put_file(path, stream, len);
	/* A leftover whose final name exists already is left for an operator. */
	plain = make_stream(DPF_COMPRESS_NONE, 2, &plen);
	left_path(t, "c_3.log", path, sizeof(path));
	put_file(path, plain, plen);
	left_path(t, ".c_3.log.tmp", path, sizeof(path));
	put_file(path, plain, plen);
	free(plain);
	free(stream);

	/* Each file recovery publishes is heard of, as written files are (the
	 * S3 spool follows on_publish): both ways of finishing one. */
	p.on_publish = hear_publish;
	p.on_publish_arg = &heard;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_recover(s, &r), 0);
	assert_int_equal(r.files_finished, 2);
	assert_int_equal(r.lines_recovered, 100);
	assert_int_equal(r.files_skipped, 1);
	assert_int_equal(r.errors, 0);
	assert_int_equal(heard.n, 2);
	left_path(t, "c_1.log.zst", path, sizeof(path));
	assert_int_equal(check_prefix(path), 100);
	assert_true(heard_once(&heard, path));
	left_path(t, "c_2.log.zst", path, sizeof(path));
	assert_int_equal(check_prefix(path), 100);
	assert_true(heard_once(&heard, path));
	left_path(t, ".c_1.log.zst.recovering.tmp", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	left_path(t, ".c_1.log.zst.tmp", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	dpf_sink_free(s);
}

/*
 * What a SIGKILL leaves after a window end (dpf_sink_flush) and part of the
 * next window: recovery keeps exactly the lines written before the flush,
 * never the cut window's, and counts those it drops.
 */
static void check_flush_then_kill_n(struct tdir *t, enum dpf_compress c, unsigned int whole,
				    unsigned int cut);

static void
check_flush_then_kill(struct tdir *t, enum dpf_compress c)
{
	check_flush_then_kill_n(t, c, 7777, 30000);
	/*
	 * Killed right after the window end: nothing after it on disk. 2000
	 * lines make a last compressed block that decodes to more than the
	 * recovery's 64 KiB output buffer: what the decoder holds past it is
	 * read too.
	 */
	check_flush_then_kill_n(t, c, 2000, 2000);
}

static void
check_flush_then_kill_n(struct tdir *t, enum dpf_compress c, unsigned int whole,
			unsigned int cut)
{
	struct dpf_sink_params p = files_params(t, c);
	struct dpf_sink *s = dpf_sink_create(&p);
	struct dpf_sink_recovery r;
	struct dpf_sink *b;
	struct file_list l;
	char other[128];
	char path[PATH_MAX];
	char final[PATH_MAX];
	const char *base;
	char mark[32];
	unsigned char *data;
	size_t len;

	assert_non_null(s);
	write_lines(s, 0, whole);
	assert_int_equal(dpf_sink_flush(s), 0);
	/* The cut window: with enough lines some reach the disk. */
	write_lines(s, whole, cut);
	list_files(t->out, &l);
	assert_int_equal(l.n, 1);
	/* The name says how many lines were whole at the last window end. */
	base = strrchr(l.path[0], '/') + 1;
	snprintf(mark, sizeof(mark), ".%u.tmp", whole);
	assert_true(strlen(base) > strlen(mark));
	assert_string_equal(base + strlen(base) - strlen(mark), mark);
	data = read_all(l.path[0], &len);
	list_free(&l);
	/* The copy is the file as the killed process left it. */
	snprintf(other, sizeof(other), "%s/other", t->root);
	p.dir = other;
	b = dpf_sink_create(&p);
	assert_non_null(b);
	snprintf(path, sizeof(path), "mkdir -p %s/" LEFT_DIR, other);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/" LEFT_DIR "/." LEFT_FINAL "%s%s", other,
		 dpf_sink_compress_ext(c), mark);
	snprintf(final, sizeof(final), "%s/" LEFT_DIR "/" LEFT_FINAL "%s", other,
		 dpf_sink_compress_ext(c));
	put_file(path, data, len);
	free(data);
	assert_int_equal(dpf_sink_recover(b, &r), 0);
	assert_int_equal(r.files_finished, 1);
	assert_int_equal(r.lines_recovered, whole);
	/* Whole lines of a big cut window are on disk: dropped. */
	if (cut - whole > 20000)
		assert_true(r.lines_dropped > 0);
	assert_true(r.lines_dropped <= cut - whole);
	assert_int_equal(check_prefix(final), whole);
	dpf_sink_free(b);
	dpf_sink_free(s);
	dpf_test_rmtree(t->root);
	assert_int_equal(mkdir(t->root, 0700), 0);
}

/* Killed before its first window end: nothing of the file is whole. */
static void
test_sink_leftover_without_a_window_end_is_removed_and_counted(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink_params p = files_params(t, DPF_COMPRESS_NONE);
	struct dpf_sink_recovery r;
	struct dpf_sink *s;
	struct file_list l;
	char path[PATH_MAX];
	size_t len;
	unsigned char *plain = make_stream(DPF_COMPRESS_NONE, 50, &len);

	make_left_dir(t);
	left_path(t, ".d_1.log.0.tmp", path, sizeof(path));
	put_file(path, plain, len);
	/* A count past what the file holds (a power cut): what is there is kept. */
	left_path(t, ".d_2.log.80.tmp", path, sizeof(path));
	put_file(path, plain, len);
	left_path(t, ".d_3.log.20.recovering.tmp", path, sizeof(path));
	put_file(path, plain, len / 2);
	left_path(t, ".d_3.log.20.tmp", path, sizeof(path));
	put_file(path, plain, len);
	free(plain);
	s = dpf_sink_create(&p);
	assert_non_null(s);
	assert_int_equal(dpf_sink_recover(s, &r), 0);
	assert_int_equal(r.files_removed, 1);
	assert_int_equal(r.files_finished, 2);
	assert_int_equal(r.lines_recovered, 50 + 20);
	assert_int_equal(r.lines_dropped, 50 + 30);
	assert_int_equal(r.errors, 0);
	left_path(t, "d_2.log", path, sizeof(path));
	assert_int_equal(check_prefix(path), 50);
	left_path(t, "d_3.log", path, sizeof(path));
	assert_int_equal(check_prefix(path), 20);
	list_files(t->out, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(count_tmp(&l), 0);
	list_free(&l);
	dpf_sink_free(s);
}

static void
test_sink_flush_with_nothing_new_is_harmless_for_every_compression(void **state)
{
	static const enum dpf_compress all[] = {DPF_COMPRESS_ZSTD, DPF_COMPRESS_GZIP,
						DPF_COMPRESS_NONE};
	struct tdir *t = *state;
	struct dpf_sink_stats st;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		struct dpf_sink_params p = files_params(t, all[i]);
		struct dpf_sink *s = dpf_sink_create(&p);

		assert_non_null(s);
		write_lines(s, 0, 10);
		/* Idle windows: flushes with no line in between. */
		assert_int_equal(dpf_sink_flush(s), 0);
		assert_int_equal(dpf_sink_flush(s), 0);
		assert_int_equal(dpf_sink_flush(s), 0);
		write_lines(s, 10, 20);
		assert_int_equal(dpf_sink_flush(s), 0);
		assert_int_equal(dpf_sink_close_all(s), 0);
		dpf_sink_get_stats(s, &st);
		assert_int_equal(st.files_abandoned, 0);
		assert_int_equal(st.lines_lost, 0);
		assert_int_equal(check_lines_exactly(t->out, 20), 1);
		dpf_sink_free(s);
		dpf_test_rmtree(t->out);
	}
}

static void
test_sink_kill_after_a_window_end_recovers_exactly_the_whole_windows(void **state)
{
	check_flush_then_kill(*state, DPF_COMPRESS_ZSTD);
	check_flush_then_kill(*state, DPF_COMPRESS_GZIP);
	check_flush_then_kill(*state, DPF_COMPRESS_NONE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sink_enospc_mid_buffer_holds_every_line_and_writes_each_once_after_retry),
		T(test_sink_edquot_and_eio_on_write_hold_then_recover),
		T(test_sink_eacces_creating_temporary_holds_then_recovers),
		T(test_sink_eacces_on_mkdir_holds_then_recovers),
		T(test_sink_rename_failure_keeps_complete_temporary_until_retry),
		T(test_sink_fsync_failure_abandons_file_counts_its_lines_and_removes_it),
		T(test_sink_hold_bound_refuses_and_counts_lines_then_keeps_the_accepted_ones),
		T(test_sink_outage_longer_than_open_files_counts_lines_of_new_slots),
		T(test_sink_discard_at_stop_counts_held_lines_and_leaves_no_temporary),
		T(test_sink_removed_output_directory_is_made_again_on_retry),
		T(test_sink_symlink_in_layout_is_never_followed),
		T(test_sink_symlink_at_temporary_or_final_name_is_never_followed),
		T(test_sink_files_are_0640_and_directories_0750),
		T(test_sink_temporary_in_use_is_locked_and_skipped_by_recovery),
		T(test_sink_recover_finishes_truncated_leftover_of_each_compression),
		T(test_sink_recover_removes_leftovers_without_records_and_keeps_valid_prefix),
		T(test_sink_recover_never_follows_links_nor_touches_others_files),
		T(test_sink_recover_after_interrupted_recovery_is_exact),
		T(test_sink_kill_after_a_window_end_recovers_exactly_the_whole_windows),
		T(test_sink_leftover_without_a_window_end_is_removed_and_counted),
		T(test_sink_flush_with_nothing_new_is_harmless_for_every_compression),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
