/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daily Trustgrid export: tg-flow-logs-YYYY-MM-DD.csv.gz (tg_day.h).
 *
 * The day is the UTC day of the window's start (record time, not the wall
 * clock): a replay writes the same files whenever it runs. A day's rows can
 * be many more than memory should hold, so they are compressed window by
 * window (one gzip member each, gzip.h: libdeflate at every level) and appended
 * to a hidden temporary file; the rename at the day's end is what publishes
 * it, so nothing half-written ever carries the final name.
 *
 * The header line is a gzip member of its own, so that rows can be joined
 * onto a day's file member by member without decompressing it:
 * - a run that starts on a day whose file an earlier run published copies
 *   that file into its temporary and appends (a copy, not the file itself:
 *   the S3 spool may hold a link to the published inode), so the day's file
 *   is published again whole, earlier rows first, and S3 carries the whole day;
 * - a run killed during a day left its temporary: the first window finishes
 *   it (its complete members kept, the one a kill cut dropped) as the AWS
 *   sink finishes its leftovers, joined after the day's published file when
 *   there is one, and publishes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <zlib.h>

#include "dpf_util.h"
#include "gzip.h"
#include "log.h"
#include "output.h"
#include "tg_day.h"

#define SEC_PER_DAY 86400ull
#define NO_DAY UINT64_MAX

struct dpf_tg_day {
	char dir[PATH_MAX];
	struct dpf_writer *writer; /* told of each file published (S3 uploads it) */
	const struct dpf_iface_meta *ifaces;
	uint16_t n_ifaces;
	struct dpf_gzip gz; /* libdeflate at every level */
	uint64_t day;	    /* the open file's day (days since the epoch), NO_DAY: none */
	char tmp[PATH_MAX + 64];
	char path[PATH_MAX + 64];
	int fd;
	bool failed;	/* the open day's file lost rows: not published */
	bool recovered; /* leftovers of a killed run looked for (first window) */
	char *header;	/* the CSV header line, as its member holds it */
	size_t header_len;
	uint64_t rows; /* rows in the open day's file */
	/* The open window's CSV. */
	FILE *mem;
	char *text;
	size_t text_len;
	uint64_t window_rows;
	struct dpf_tg_day_counters c; /* relaxed atomics */
};

static void
day_error(struct dpf_tg_day *d, const char *what, int err)
{
	if (!d->failed)
		DPF_LOG(ERR, output, "tg-flow-logs: %s: %s: %s; this day's file is lost\n", d->tmp,
			what, strerror(err));
	d->failed = true;
}

/* Compress text as one gzip member and append it to the day's file. */
static bool
append_member(struct dpf_tg_day *d, const char *text, size_t len)
{
	const uint8_t *z;
	ssize_t n = dpf_gzip_member(&d->gz, text, len, &z);
	int rc;

	if (n < 0) {
		day_error(d, n == -ENOMEM ? "gzip buffer" : "gzip", (int)-n);
		return false;
	}
	rc = dpf_write_all(d->fd, z, (size_t)n, NULL);
	if (rc < 0) {
		day_error(d, "write", -rc);
		return false;
	}
	return true;
}

/* The window's text as one gzip member of the day's file. */
static void
flush_window(struct dpf_tg_day *d)
{
	if (d->mem == NULL)
		return;
	if (fflush(d->mem) != 0 || ferror(d->mem))
		day_error(d, "formatting", ENOMEM);
	if (!d->failed && d->text_len != 0 && d->fd >= 0 && append_member(d, d->text, d->text_len))
		d->rows += d->window_rows;
	fclose(d->mem);
	free(d->text);
	d->mem = NULL;
	d->text = NULL;
	d->text_len = 0;
	d->window_rows = 0;
}

/* Bytes [from, to) of in (to 0: up to its end) appended to out. @return 0 or -errno */
static int
copy_range(int in, int out, off_t from, off_t to)
{
	char buf[65536];
	off_t pos = from;

	if (lseek(in, from, SEEK_SET) < 0)
		return -errno;
	while (to == 0 || pos < to) {
		size_t want =
			to != 0 && to - pos < (off_t)sizeof(buf) ? (size_t)(to - pos) : sizeof(buf);
		ssize_t n = dpf_read(in, buf, want);
		int rc;

		if (n <= 0)
			return n < 0 ? (int)n : to == 0 ? 0 : -EIO;
		rc = dpf_write_all(out, buf, (size_t)n, NULL);
		if (rc < 0)
			return rc;
		pos += n;
	}
	return 0;
}

static FILE *
window_stream(struct dpf_tg_day *d)
{
	if (d->mem == NULL) {
		d->mem = open_memstream(&d->text, &d->text_len);
		if (d->mem == NULL)
			day_error(d, "memory stream", errno);
	}
	return d->mem;
}

/* Close the day's file: renamed and published, or removed when it lost rows. */
static void
close_day(struct dpf_tg_day *d)
{
	int err = 0;

	if (d->day == NO_DAY)
		return;
	flush_window(d);
	if (d->fd >= 0 && close(d->fd) < 0)
		day_error(d, "close", errno);
	d->fd = -1;
	if (!d->failed && rename(d->tmp, d->path) < 0) {
		err = errno;
		day_error(d, "rename", err);
	}
	if (d->failed) {
		unlink(d->tmp);
		__atomic_fetch_add(&d->c.files_failed, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_fetch_add(&d->c.files, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&d->c.rows, d->rows, __ATOMIC_RELAXED);
		dpf_writer_published(d->writer, d->path);
	}
	d->day = NO_DAY;
}

/*
 * A new day's file: the temporary name, opened, with the header line; or,
 * when an earlier run published this day's file, a copy of it (its rows
 * stay first and keep their header).
 */
static void
open_day(struct dpf_tg_day *d, uint64_t day)
{
	time_t t = (time_t)(day * SEC_PER_DAY);
	char date[16];
	struct tm tm;
	int in, rc;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(d->path, sizeof(d->path), "%s/tg-flow-logs-%s.csv.gz", d->dir, date);
	snprintf(d->tmp, sizeof(d->tmp), "%s/.tg-flow-logs-%s.csv.gz.tmp", d->dir, date);
	d->day = day;
	d->failed = false;
	d->rows = 0;
	d->fd = open(d->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (d->fd < 0) {
		day_error(d, "open", errno);
		return;
	}
	in = open(d->path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		if (errno != ENOENT)
			day_error(d, "reading the day's published file", errno);
		else
			append_member(d, d->header, d->header_len);
		return;
	}
	rc = copy_range(in, d->fd, 0, 0);
	close(in);
	if (rc < 0)
		day_error(d, "copying the day's published file", -rc);
	else
		__atomic_fetch_add(&d->c.resumed, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------- leftovers of a killed run */

/* Where the whole gzip members at the start of a file end. */
struct members {
	off_t end;	  /* the last whole member's end (0: none) */
	off_t header_end; /* the first member's end when it holds the header line only, else 0 */
};

/* Feed one read's bytes (at file offset pos) to the member scan. @return false: damaged */
static bool
scan_chunk(const struct dpf_tg_day *d, z_stream *z, unsigned char *in, ssize_t n, off_t pos,
	   struct members *m, size_t *first_len, unsigned int *member)
{
	unsigned char out[16384];

	z->next_in = in;
	z->avail_in = (uInt)n;
	while (z->avail_in > 0) {
		int rc;
		size_t got;

		z->next_out = out;
		z->avail_out = sizeof(out);
		rc = inflate(z, Z_NO_FLUSH);
		got = sizeof(out) - z->avail_out;
		if (*member == 0) {
			/* Compared as it comes: SIZE_MAX once it is not the header. */
			if (*first_len != SIZE_MAX &&
			    (*first_len + got > d->header_len ||
			     memcmp(out, d->header + *first_len, got) != 0))
				*first_len = SIZE_MAX;
			else if (*first_len != SIZE_MAX)
				*first_len += got;
		}
		if (rc == Z_STREAM_END) {
			m->end = pos + (n - (ssize_t)z->avail_in);
			if (*member == 0 && *first_len == d->header_len)
				m->header_end = m->end;
			(*member)++;
			inflateReset(z);
		} else if (rc != Z_OK) {
			return false; /* not gzip, or the member a kill cut: nothing after counts */
		}
	}
	return true;
}

static int
scan_members(const struct dpf_tg_day *d, int fd, struct members *m)
{
	unsigned char in[65536];
	unsigned int member = 0;
	size_t first_len = 0;
	off_t pos = 0;
	z_stream z;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) /* gzip only */
		return -ENOMEM;
	while ((n = dpf_read(fd, in, sizeof(in))) > 0 &&
	       scan_chunk(d, &z, in, n, pos, m, &first_len, &member))
		pos += n;
	inflateEnd(&z);
	return n < 0 ? (int)n : 0;
}

/*
 * How the day's published file (a) and a leftover's whole members (b, its
 * first b_len bytes) relate. A run that continued a published day copied
 * it into its temporary first, so its leftover starts with that file.
 * @return 1: a is a prefix of b (b is the day, a kill cut it short);
 *         -1: b is a prefix of a (a kill cut the copy: a is the day);
 *         0: neither (b began a day its own run found without a file)
 */
static int
prefix_of(int a, int b, off_t b_len)
{
	unsigned char x[16384], y[sizeof(x)];
	off_t pos = 0;

	for (;;) {
		size_t want = b_len - pos < (off_t)sizeof(x) ? (size_t)(b_len - pos) : sizeof(x);
		ssize_t n = pread(a, x, sizeof(x), pos), k;

		if (n < 0)
			return 0;
		if (n == 0)
			return 1;
		if (want == 0)
			return -1;
		n = RTE_MIN(n, (ssize_t)want);
		k = pread(b, y, (size_t)n, pos);
		if (k != n || memcmp(x, y, (size_t)n) != 0)
			return 0;
		pos += n;
	}
}

/*
 * The whole members of a leftover become the day's file: the leftover
 * itself, cut after its last whole member (also when it continued the
 * day's published file), or a copy of the published file followed by the
 * leftover's rows.
 * @return 0 (published), 1 (nothing new: removed), -errno
 */
static int
finish_leftover(struct dpf_tg_day *d, int fd, const char *tmp, const char *final)
{
	char join[PATH_MAX + 80];
	struct members m;
	int out, in, rc = scan_members(d, fd, &m), rel;

	if (rc < 0)
		return rc;
	in = open(final, O_RDONLY | O_CLOEXEC);
	if (in < 0 && errno != ENOENT)
		return -errno;
	rel = in >= 0 ? prefix_of(in, fd, m.end) : 1;
	if (m.end == 0 || rel < 0 || (in >= 0 && rel == 0 && m.end == m.header_end)) {
		if (in >= 0)
			close(in);
		return unlink(tmp) < 0 ? -errno : 1;
	}
	if (rel > 0) {
		if (in >= 0)
			close(in);
		return ftruncate(fd, m.end) < 0 || rename(tmp, final) < 0 ? -errno : 0;
	}
	snprintf(join, sizeof(join), "%s.join", tmp);
	out = open(join, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rc = out < 0 ? -errno : copy_range(in, out, 0, 0);
	if (rc == 0)
		rc = copy_range(fd, out, m.header_end, m.end);
	close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(join, final) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(join);
		return rc;
	}
	return unlink(tmp) < 0 ? -errno : 0;
}

/* A leftover's name: .tg-flow-logs-YYYY-MM-DD.csv.gz.tmp; final: the name it finishes as. */
static bool
leftover_name(const char *name, char *final, size_t cap)
{
	static const char pre[] = ".tg-flow-logs-", suf[] = ".csv.gz.tmp";
	size_t len = strlen(name), i;

	if (len != sizeof(pre) - 1 + 10 + sizeof(suf) - 1 || strncmp(name, pre, sizeof(pre) - 1) ||
	    strcmp(name + len - (sizeof(suf) - 1), suf))
		return false;
	for (i = sizeof(pre) - 1; i < sizeof(pre) - 1 + 10; i++)
		if (!(name[i] >= '0' && name[i] <= '9') && name[i] != '-')
			return false;
	snprintf(final, cap, "%.*s", (int)(len - 5), name + 1); /* no '.', no ".tmp" */
	return true;
}

/* One directory entry: a leftover (a regular file) finished and published. */
static void
recover_one(struct dpf_tg_day *d, int dir_fd, const char *name)
{
	char fin[NAME_MAX + 1], tmp[PATH_MAX + 64], final[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	int fd, rc;

	if (!leftover_name(name, fin, sizeof(fin)) ||
	    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return; /* not ours: left alone */
	snprintf(tmp, sizeof(tmp), "%s/%s", d->dir, name);
	snprintf(final, sizeof(final), "%s/%s", d->dir, fin);
	fd = open(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	rc = fd < 0 ? -errno : finish_leftover(d, fd, tmp, final);
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		DPF_LOG(WARNING, output,
			"tg-flow-logs: %s, left by an earlier run: %s; left there\n", tmp,
			strerror(-rc));
		__atomic_fetch_add(&d->c.leftovers_failed, 1, __ATOMIC_RELAXED);
		return;
	}
	if (rc == 0) {
		DPF_LOG(NOTICE, output,
			"tg-flow-logs: %s finished from what a killed run left (its whole "
			"windows)\n",
			final);
		__atomic_fetch_add(&d->c.leftovers, 1, __ATOMIC_RELAXED);
		dpf_writer_published(d->writer, final);
	}
}

/*
 * Finish the temporaries a killed run left. At the first window, not at
 * create: the S3 exporter, added after this one, then hears of the files.
 */
static void
recover_leftovers(struct dpf_tg_day *d)
{
	DIR *dir;
	struct dirent *de;

	d->recovered = true;
	dir = opendir(d->dir);
	if (dir == NULL) {
		DPF_LOG(WARNING, output, "tg-flow-logs: %s: %s; leftovers not looked for\n", d->dir,
			strerror(errno));
		return;
	}
	/* A renamed leftover's new name is not a leftover's: seeing it again is harmless. */
	while ((de = readdir(dir)) != NULL)
		recover_one(d, dirfd(dir), de->d_name);
	closedir(dir);
}

void
dpf_tg_day_window(struct dpf_tg_day *d, uint64_t window_start)
{
	uint64_t day = window_start / SEC_PER_DAY;

	if (!d->recovered)
		recover_leftovers(d);
	if (day == d->day)
		return;
	close_day(d);
	open_day(d, day);
}

void
dpf_tg_day_add(struct dpf_tg_day *d, const struct dpf_connstore_rec *r)
{
	FILE *f;

	if (d->failed || (f = window_stream(d)) == NULL)
		return;
	if (dpf_connstore_write_rows(f, r, 1, d->ifaces, d->n_ifaces, NULL) < 0)
		day_error(d, "formatting", EIO);
	d->window_rows++;
}

void
dpf_tg_day_window_end(struct dpf_tg_day *d)
{
	flush_window(d);
}

void
dpf_tg_day_finish(struct dpf_tg_day *d)
{
	if (!d->recovered)
		recover_leftovers(d);
	close_day(d);
}

void
dpf_tg_day_counters_get(const struct dpf_tg_day *d, struct dpf_tg_day_counters *c)
{
#define READ(field, name, what) c->field = dpf_counter_read(&d->c.field);
	DPF_TG_DAY_COUNTERS(READ)
#undef READ
}

/* The header line, once: its own member in every new day file, and what
 * tells a leftover's header member from its rows. */
static int
make_header(struct dpf_tg_day *d)
{
	FILE *f = open_memstream(&d->header, &d->header_len);
	int rc;

	if (f == NULL)
		return -ENOMEM;
	rc = dpf_connstore_write(f, NULL, 0, d->ifaces, d->n_ifaces, NULL);
	if (fclose(f) != 0 || rc < 0)
		return -ENOMEM;
	return 0;
}

struct dpf_tg_day *
dpf_tg_day_create(const char *dir, struct dpf_writer *w, const struct dpf_iface_meta *ifaces,
		  uint16_t n_ifaces, int level)
{
	struct dpf_tg_day *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	if (snprintf(d->dir, sizeof(d->dir), "%s", dir) >= (int)sizeof(d->dir)) {
		free(d);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (dpf_gzip_init(&d->gz, level, false) < 0) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	d->writer = w;
	d->ifaces = ifaces;
	d->n_ifaces = n_ifaces;
	d->day = NO_DAY;
	d->fd = -1;
	if (make_header(d) < 0) {
		dpf_tg_day_free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void
dpf_tg_day_free(struct dpf_tg_day *d)
{
	if (d == NULL)
		return;
	if (d->mem != NULL)
		fclose(d->mem);
	free(d->text);
	if (d->fd >= 0) {
		close(d->fd);
		unlink(d->tmp);
	}
	dpf_gzip_release(&d->gz);
	free(d->header);
	free(d);
}
