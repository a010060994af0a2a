/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <rte_errno.h>

#include "dpf_sink.h"

#define SINK_OUTBUF_SIZE (128 * 1024)
#define SINK_DIR_MODE 0750
#define SINK_FILE_MODE 0640
/* Never reuse or follow an existing entry under the temporary name. */
#define SINK_TMP_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
/* Sequence numbers tried for one file before giving up with EEXIST. */
#define SINK_NAME_TRIES 1024
/* "yyyymmddTHHmmZ" plus room for a five-digit year. */
#define SINK_TS_SIZE 24

struct sink_file {
	bool in_use;
	uint64_t slot_start;
	int fd;
	int dir_fd;
	/* Bytes that left the compressor: written to fd plus pending in outbuf. */
	uint64_t bytes_out;
	unsigned char *outbuf;
	size_t out_len;
	/* Compressor state is kept across the files this entry holds, reset per file. */
	ZSTD_CCtx *zstd;
	z_stream gz;
	bool gz_ready;
	char ts[SINK_TS_SIZE];
	char rel_dir[PATH_MAX];
	char tmp_name[NAME_MAX + 1];
	char final_name[NAME_MAX + 1];
};

struct dpf_sink {
	FILE *stream;
	int root_fd;
	char *dir;
	char *header;
	size_t header_len;
	char *account_id;
	char *region;
	char *flow_log_id;
	enum dpf_compress compress;
	int level;
	uint64_t max_file_bytes;
	uint32_t slot_sec;
	uint64_t nonce;
	uint64_t next_seq;
	uint32_t max_open;
	struct sink_file *files;
	struct dpf_sink_stats stats;
	void (*on_publish)(void *arg, const char *path);
	void *on_publish_arg;
	char last_path[2 * PATH_MAX];
};

int
dpf_sink_compress_parse(const char *s, enum dpf_compress *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	if (strcmp(s, "zstd") == 0)
		*out = DPF_COMPRESS_ZSTD;
	else if (strcmp(s, "gzip") == 0)
		*out = DPF_COMPRESS_GZIP;
	else if (strcmp(s, "none") == 0)
		*out = DPF_COMPRESS_NONE;
	else
		return -EINVAL;
	return 0;
}

const char *
dpf_sink_compress_ext(enum dpf_compress c)
{
	switch (c) {
	case DPF_COMPRESS_ZSTD:
		return ".log.zst";
	case DPF_COMPRESS_GZIP:
		return ".log.gz";
	case DPF_COMPRESS_NONE:
		return ".log";
	}
	return NULL;
}

static int
errno_or(int fallback)
{
	return errno != 0 ? errno : fallback;
}

static bool
component_ok(const char *c)
{
	return c != NULL && c[0] != '\0' && strchr(c, '/') == NULL && strcmp(c, ".") != 0 &&
	       strcmp(c, "..") != 0;
}

/* mkdir -p for the root directory given as a path string. */
static int
mkdir_path(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	size_t i;

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, SINK_DIR_MODE) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = path[i];
	}
	return 0;
}

/*
 * Open rel (relative to root_fd), creating missing components. A new
 * directory's parent is fsynced so the entry survives a crash along with the
 * files published into it.
 */
static int
dir_open_rel(int root_fd, const char *rel)
{
	char buf[PATH_MAX];
	char *save = NULL;
	char *comp;
	int fd = root_fd;
	int rc;

	if (strlen(rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, rel);
	for (comp = strtok_r(buf, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		bool created = false;
		int next;

		if (mkdirat(fd, comp, SINK_DIR_MODE) == 0)
			created = true;
		else if (errno != EEXIST)
			goto fail_errno;
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			goto fail_errno;
		if (created && fsync(fd) != 0) {
			rc = -errno;
			close(next);
			goto close_parent;
		}
		if (fd != root_fd)
			close(fd);
		fd = next;
	}
	if (fd == root_fd)
		return -EINVAL;
	return fd;

fail_errno:
	rc = -errno;
close_parent:
	if (fd != root_fd)
		close(fd);
	return rc;
}

static int
write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
file_flush(struct sink_file *f)
{
	int rc = write_all(f->fd, f->outbuf, f->out_len);

	if (rc == 0)
		f->out_len = 0;
	return rc;
}

static void
file_produced(struct sink_file *f, size_t n)
{
	f->out_len += n;
	f->bytes_out += n;
}

static int
zstd_errno(size_t r)
{
	return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
}

static int
append_zstd(struct sink_file *f, const void *data, size_t len)
{
	ZSTD_inBuffer in = {data, len, 0};

	while (in.pos < in.size) {
		ZSTD_outBuffer out;
		size_t r;
		int rc;

		if (f->out_len == SINK_OUTBUF_SIZE) {
			rc = file_flush(f);
			if (rc != 0)
				return rc;
		}
		out.dst = f->outbuf + f->out_len;
		out.size = SINK_OUTBUF_SIZE - f->out_len;
		out.pos = 0;
		r = ZSTD_compressStream2(f->zstd, &out, &in, ZSTD_e_continue);
		file_produced(f, out.pos);
		if (ZSTD_isError(r))
			return zstd_errno(r);
		/* Input left means the output was full: empty it even if not quite. */
		if (in.pos < in.size) {
			rc = file_flush(f);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static int
finish_zstd(struct sink_file *f)
{
	for (;;) {
		ZSTD_inBuffer in = {NULL, 0, 0};
		ZSTD_outBuffer out;
		size_t r;
		int rc;

		if (f->out_len == SINK_OUTBUF_SIZE) {
			rc = file_flush(f);
			if (rc != 0)
				return rc;
		}
		out.dst = f->outbuf + f->out_len;
		out.size = SINK_OUTBUF_SIZE - f->out_len;
		out.pos = 0;
		r = ZSTD_compressStream2(f->zstd, &out, &in, ZSTD_e_end);
		file_produced(f, out.pos);
		if (ZSTD_isError(r))
			return zstd_errno(r);
		if (r == 0)
			return 0;
		rc = file_flush(f);
		if (rc != 0)
			return rc;
	}
}

/* One deflate call into the free part of outbuf; -EIO when it cannot progress. */
static int
deflate_step(struct sink_file *f, int flush, int *zr)
{
	uInt in_before = f->gz.avail_in;
	size_t room;
	int rc;

	if (f->out_len == SINK_OUTBUF_SIZE) {
		rc = file_flush(f);
		if (rc != 0)
			return rc;
	}
	room = SINK_OUTBUF_SIZE - f->out_len;
	f->gz.next_out = f->outbuf + f->out_len;
	f->gz.avail_out = (uInt)room;
	*zr = deflate(&f->gz, flush);
	file_produced(f, room - f->gz.avail_out);
	if (*zr == Z_MEM_ERROR)
		return -ENOMEM;
	if (*zr != Z_OK && *zr != Z_BUF_ERROR && *zr != Z_STREAM_END)
		return -EIO;
	if (*zr == Z_BUF_ERROR && f->gz.avail_in == in_before && f->gz.avail_out == room)
		return -EIO;
	return 0;
}

static int
append_gzip(struct sink_file *f, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;

		f->gz.next_in = p;
		f->gz.avail_in = chunk;
		while (f->gz.avail_in > 0) {
			int zr;
			int rc = deflate_step(f, Z_NO_FLUSH, &zr);

			if (rc != 0)
				return rc;
			if (f->gz.avail_in > 0) {
				rc = file_flush(f);
				if (rc != 0)
					return rc;
			}
		}
		p += chunk;
		len -= chunk;
	}
	return 0;
}

static int
finish_gzip(struct sink_file *f)
{
	f->gz.next_in = NULL;
	f->gz.avail_in = 0;
	for (;;) {
		int zr;
		int rc = deflate_step(f, Z_FINISH, &zr);

		if (rc != 0)
			return rc;
		if (zr == Z_STREAM_END)
			return 0;
		rc = file_flush(f);
		if (rc != 0)
			return rc;
	}
}

static int
append_plain(struct sink_file *f, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t n;

		if (f->out_len == SINK_OUTBUF_SIZE) {
			int rc = file_flush(f);

			if (rc != 0)
				return rc;
		}
		n = SINK_OUTBUF_SIZE - f->out_len;
		if (n > len)
			n = len;
		memcpy(f->outbuf + f->out_len, p, n);
		file_produced(f, n);
		p += n;
		len -= n;
	}
	return 0;
}

static int
file_append(const struct dpf_sink *s, struct sink_file *f, const void *data, size_t len)
{
	switch (s->compress) {
	case DPF_COMPRESS_ZSTD:
		return append_zstd(f, data, len);
	case DPF_COMPRESS_GZIP:
		return append_gzip(f, data, len);
	case DPF_COMPRESS_NONE:
		return append_plain(f, data, len);
	}
	return -EINVAL;
}

static int
file_finish(const struct dpf_sink *s, struct sink_file *f)
{
	int rc = 0;

	if (s->compress == DPF_COMPRESS_ZSTD)
		rc = finish_zstd(f);
	else if (s->compress == DPF_COMPRESS_GZIP)
		rc = finish_gzip(f);
	if (rc != 0)
		return rc;
	return file_flush(f);
}

/* Prepare the entry's compressor for a new file: create once, reset after. */
static int
compressor_start(const struct dpf_sink *s, struct sink_file *f)
{
	size_t r;
	int zr;

	switch (s->compress) {
	case DPF_COMPRESS_ZSTD:
		if (f->zstd != NULL) {
			r = ZSTD_CCtx_reset(f->zstd, ZSTD_reset_session_only);
			return ZSTD_isError(r) ? -EIO : 0;
		}
		f->zstd = ZSTD_createCCtx();
		if (f->zstd == NULL)
			return -ENOMEM;
		r = ZSTD_CCtx_setParameter(f->zstd, ZSTD_c_compressionLevel, s->level);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(f->zstd, ZSTD_c_checksumFlag, 1);
		if (ZSTD_isError(r)) {
			ZSTD_freeCCtx(f->zstd);
			f->zstd = NULL;
			return -EINVAL;
		}
		return 0;
	case DPF_COMPRESS_GZIP:
		if (f->gz_ready)
			return deflateReset(&f->gz) == Z_OK ? 0 : -EIO;
		memset(&f->gz, 0, sizeof(f->gz));
		/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
		zr = deflateInit2(&f->gz, s->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		if (zr == Z_MEM_ERROR)
			return -ENOMEM;
		if (zr != Z_OK)
			return -EINVAL;
		f->gz_ready = true;
		return 0;
	case DPF_COMPRESS_NONE:
		return 0;
	}
	return -EINVAL;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint32_t
name_hash(const struct dpf_sink *s, uint64_t slot_start, uint64_t seq)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over flow_log_id */
	const unsigned char *c;

	for (c = (const unsigned char *)s->flow_log_id; *c != '\0'; c++) {
		h ^= *c;
		h *= 0x100000001b3ULL;
	}
	h = mix64(h ^ slot_start);
	h = mix64(h ^ seq);
	h = mix64(h ^ s->nonce);
	return (uint32_t)(h >> 32);
}

static int
file_name(const struct dpf_sink *s, const char *ts, uint64_t slot_start, uint64_t seq, char *out,
	  size_t cap)
{
	int n = snprintf(out, cap, "%s_vpcflowlogs_%s_%s_%s_%08" PRIx32 "%s", s->account_id,
			 s->region, s->flow_log_id, ts, name_hash(s, slot_start, seq),
			 dpf_sink_compress_ext(s->compress));

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int
tmp_name(const char *final_name, char *out, size_t cap)
{
	int n = snprintf(out, cap, ".%s.tmp", final_name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static void
file_close_fds(struct sink_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	f->fd = -1;
	f->dir_fd = -1;
	f->in_use = false;
}

/* After an error: the temporary stays for inspection, the slot is free again. */
static void
file_abandon(struct dpf_sink *s, struct sink_file *f)
{
	file_close_fds(f);
	s->stats.files_abandoned++;
}

static int
file_open(struct dpf_sink *s, struct sink_file *f, uint64_t slot_start)
{
	struct tm tm;
	time_t t;
	unsigned int tries;
	int n;
	int rc;

	if (slot_start > (uint64_t)INT64_MAX)
		return -EOVERFLOW;
	t = (time_t)slot_start;
	if (gmtime_r(&t, &tm) == NULL)
		return -EOVERFLOW;
	if (strftime(f->ts, sizeof(f->ts), "%Y%m%dT%H%MZ", &tm) == 0)
		return -EOVERFLOW;
	n = snprintf(f->rel_dir, sizeof(f->rel_dir), "AWSLogs/%s/vpcflowlogs/%s/%04d/%02d/%02d",
		     s->account_id, s->region, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (n < 0 || (size_t)n >= sizeof(f->rel_dir))
		return -ENAMETOOLONG;
	if (f->outbuf == NULL) {
		f->outbuf = malloc(SINK_OUTBUF_SIZE);
		if (f->outbuf == NULL)
			return -ENOMEM;
	}
	f->dir_fd = dir_open_rel(s->root_fd, f->rel_dir);
	if (f->dir_fd < 0) {
		rc = f->dir_fd;
		f->dir_fd = -1;
		return rc;
	}

	f->fd = -1;
	for (tries = 0; tries < SINK_NAME_TRIES; tries++) {
		struct stat st;

		rc = file_name(s, f->ts, slot_start, s->next_seq++, f->final_name,
			       sizeof(f->final_name));
		if (rc == 0)
			rc = tmp_name(f->final_name, f->tmp_name, sizeof(f->tmp_name));
		if (rc != 0)
			goto close_dir;
		if (fstatat(f->dir_fd, f->final_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (errno != ENOENT) {
			rc = -errno;
			goto close_dir;
		}
		f->fd = openat(f->dir_fd, f->tmp_name, SINK_TMP_FLAGS, SINK_FILE_MODE);
		if (f->fd >= 0)
			break;
		if (errno != EEXIST) {
			rc = -errno;
			goto close_dir;
		}
	}
	if (f->fd < 0) {
		rc = -EEXIST;
		goto close_dir;
	}

	rc = compressor_start(s, f);
	if (rc != 0)
		goto unlink_tmp;
	f->out_len = 0;
	f->bytes_out = 0;
	rc = file_append(s, f, s->header, s->header_len);
	if (rc != 0)
		goto unlink_tmp;
	s->stats.bytes += s->header_len;
	f->slot_start = slot_start;
	f->in_use = true;
	return 0;

unlink_tmp:
	/* Nothing but (part of) a header went in: the temporary is worthless. */
	close(f->fd);
	f->fd = -1;
	unlinkat(f->dir_fd, f->tmp_name, 0);
close_dir:
	close(f->dir_fd);
	f->dir_fd = -1;
	return rc;
}

/*
 * Move the temporary to a final name that does not exist yet, moving to the
 * next sequence number when it does. *published tells whether the final name
 * now holds the file, even when an error is returned (failed unlink of the
 * temporary after link).
 */
static int
file_rename(struct dpf_sink *s, struct sink_file *f, bool *published)
{
	bool use_link = false;
	unsigned int tries;

	*published = false;
	for (tries = 0; tries < SINK_NAME_TRIES; tries++) {
		int rc;

		if (tries > 0) {
			rc = file_name(s, f->ts, f->slot_start, s->next_seq++, f->final_name,
				       sizeof(f->final_name));
			if (rc != 0)
				return rc;
		}
		if (!use_link) {
			if (renameat2(f->dir_fd, f->tmp_name, f->dir_fd, f->final_name,
				      RENAME_NOREPLACE) == 0) {
				*published = true;
				return 0;
			}
			if (errno == EEXIST)
				continue;
			if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
				return -errno;
			/* No RENAME_NOREPLACE here: link() fails on an existing name too. */
			use_link = true;
		}
		if (linkat(f->dir_fd, f->tmp_name, f->dir_fd, f->final_name, 0) != 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		*published = true;
		if (unlinkat(f->dir_fd, f->tmp_name, 0) != 0)
			return -errno;
		return 0;
	}
	return -EEXIST;
}

/* Finish, fsync, close, rename, fsync the directory. Counts its own error. */
static int
file_publish(struct dpf_sink *s, struct sink_file *f)
{
	bool published;
	int rc;

	rc = file_finish(s, f);
	if (rc != 0)
		goto abandon;
	if (fsync(f->fd) != 0) {
		rc = -errno;
		goto abandon;
	}
	rc = close(f->fd);
	f->fd = -1;
	/* Linux releases the descriptor even on EINTR; the data was fsynced. */
	if (rc != 0 && errno != EINTR) {
		rc = -errno;
		goto abandon;
	}
	rc = file_rename(s, f, &published);
	if (!published)
		goto abandon;
	s->stats.files_published++;
	snprintf(s->last_path, sizeof(s->last_path), "%s/%s/%s", s->dir, f->rel_dir,
		 f->final_name);
	if (rc == 0 && fsync(f->dir_fd) != 0)
		rc = -errno;
	if (rc != 0)
		s->stats.write_errors++;
	file_close_fds(f);
	if (s->on_publish != NULL)
		s->on_publish(s->on_publish_arg, s->last_path);
	return rc;

abandon:
	s->stats.write_errors++;
	file_abandon(s, f);
	return rc;
}

static struct sink_file *
file_find(struct dpf_sink *s, uint64_t slot_start)
{
	uint32_t i;

	for (i = 0; i < s->max_open; i++)
		if (s->files[i].in_use && s->files[i].slot_start == slot_start)
			return &s->files[i];
	return NULL;
}

/* A free entry, publishing the file of the oldest slot when all are in use. */
static struct sink_file *
file_free_entry(struct dpf_sink *s)
{
	struct sink_file *oldest = NULL;
	uint32_t i;

	for (i = 0; i < s->max_open; i++) {
		struct sink_file *f = &s->files[i];

		if (!f->in_use)
			return f;
		if (oldest == NULL || f->slot_start < oldest->slot_start)
			oldest = f;
	}
	/* Its error is counted; the new line does not depend on it. */
	file_publish(s, oldest);
	return oldest;
}

static int
write_stream(struct dpf_sink *s, const char *line, size_t len)
{
	errno = 0;
	if (fwrite(line, 1, len, s->stream) != len) {
		s->stats.write_errors++;
		return -errno_or(EIO);
	}
	s->stats.records++;
	s->stats.bytes += len;
	return 0;
}

int
dpf_sink_write(struct dpf_sink *s, uint64_t end_sec, const char *line, size_t len)
{
	struct sink_file *f;
	uint64_t slot_start;
	int rc;

	if (s == NULL || line == NULL || len == 0 || line[len - 1] != '\n')
		return -EINVAL;
	if (s->stream != NULL)
		return write_stream(s, line, len);

	slot_start = end_sec - end_sec % s->slot_sec;
	f = file_find(s, slot_start);
	if (f == NULL) {
		f = file_free_entry(s);
		rc = file_open(s, f, slot_start);
		if (rc != 0) {
			s->stats.write_errors++;
			return rc;
		}
	}
	rc = file_append(s, f, line, len);
	if (rc != 0) {
		s->stats.write_errors++;
		file_abandon(s, f);
		return rc;
	}
	s->stats.records++;
	s->stats.bytes += len;
	if (f->bytes_out >= s->max_file_bytes)
		return file_publish(s, f);
	return 0;
}

static int
flush_stream(struct dpf_sink *s)
{
	if (fflush(s->stream) != 0) {
		s->stats.write_errors++;
		return -errno_or(EIO);
	}
	return 0;
}

/* Publish files whose slot ends at or before sec (all when all is set), oldest first. */
static int
publish_until(struct dpf_sink *s, uint64_t sec, bool all)
{
	int first_rc = 0;

	if (s->stream != NULL)
		return flush_stream(s);
	for (;;) {
		struct sink_file *oldest = NULL;
		uint32_t i;
		int rc;

		for (i = 0; i < s->max_open; i++) {
			struct sink_file *f = &s->files[i];

			if (!f->in_use)
				continue;
			/* slot_start + slot_sec <= sec, without overflow. */
			if (!all && (sec < s->slot_sec || f->slot_start > sec - s->slot_sec))
				continue;
			if (oldest == NULL || f->slot_start < oldest->slot_start)
				oldest = f;
		}
		if (oldest == NULL)
			return first_rc;
		rc = file_publish(s, oldest);
		if (rc != 0 && first_rc == 0)
			first_rc = rc;
	}
}

int
dpf_sink_close_before(struct dpf_sink *s, uint64_t sec)
{
	if (s == NULL)
		return -EINVAL;
	return publish_until(s, sec, false);
}

int
dpf_sink_close_all(struct dpf_sink *s)
{
	if (s == NULL)
		return -EINVAL;
	return publish_until(s, 0, true);
}

/*
 * The same work as close_all; a function of its own so that rotation keeps
 * its contract (the sink stays usable) whatever close_all becomes.
 */
int
dpf_sink_rotate(struct dpf_sink *s)
{
	if (s == NULL)
		return -EINVAL;
	return publish_until(s, 0, true);
}

void
dpf_sink_get_stats(const struct dpf_sink *s, struct dpf_sink_stats *st)
{
	if (s == NULL || st == NULL)
		return;
	*st = s->stats;
}

unsigned int
dpf_sink_open_files(const struct dpf_sink *s)
{
	unsigned int n = 0;
	uint32_t i;

	if (s == NULL || s->stream != NULL)
		return 0;
	for (i = 0; i < s->max_open; i++)
		n += s->files[i].in_use;
	return n;
}

const char *
dpf_sink_last_path(const struct dpf_sink *s)
{
	return s != NULL ? s->last_path : "";
}

static int
params_check(const struct dpf_sink_params *p, int *level)
{
	size_t hlen;

	if (p == NULL || p->header == NULL)
		return -EINVAL;
	hlen = strlen(p->header);
	if (hlen == 0 || p->header[hlen - 1] != '\n')
		return -EINVAL;
	if (p->slot_sec % 60 != 0)
		return -EINVAL;
	*level = p->level;
	switch (p->compress) {
	case DPF_COMPRESS_ZSTD:
		if (*level == 0)
			*level = DPF_SINK_ZSTD_LEVEL_DEFAULT;
		if (*level < ZSTD_minCLevel() || *level > ZSTD_maxCLevel())
			return -EINVAL;
		break;
	case DPF_COMPRESS_GZIP:
		if (*level == 0)
			*level = DPF_SINK_GZIP_LEVEL_DEFAULT;
		if (*level < 1 || *level > 9)
			return -EINVAL;
		break;
	case DPF_COMPRESS_NONE:
		break;
	default:
		return -EINVAL;
	}
	if (p->stream != NULL)
		return 0;
	if (p->dir == NULL || p->dir[0] == '\0' || !component_ok(p->account_id) ||
	    !component_ok(p->region) || !component_ok(p->flow_log_id))
		return -EINVAL;
	return 0;
}

static void
sink_release(struct dpf_sink *s)
{
	uint32_t i;

	for (i = 0; s->files != NULL && i < s->max_open; i++) {
		struct sink_file *f = &s->files[i];

		free(f->outbuf);
		ZSTD_freeCCtx(f->zstd);
		if (f->gz_ready)
			deflateEnd(&f->gz);
	}
	free(s->files);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->dir);
	free(s->header);
	free(s->account_id);
	free(s->region);
	free(s->flow_log_id);
	free(s);
}

static int
sink_files_init(struct dpf_sink *s, const struct dpf_sink_params *p)
{
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
	uint32_t i;
	int rc;

	s->account_id = strdup(p->account_id);
	s->region = strdup(p->region);
	s->flow_log_id = strdup(p->flow_log_id);
	s->dir = strdup(p->dir);
	if (s->account_id == NULL || s->region == NULL || s->flow_log_id == NULL || s->dir == NULL)
		return -ENOMEM;
	/* Fail now, not at the first record, when the components cannot fit a name. */
	rc = file_name(s, "20190827T1910Z", 0, 0, name, sizeof(name));
	if (rc == 0)
		rc = tmp_name(name, tmp, sizeof(tmp));
	if (rc != 0)
		return rc;

	s->max_open = p->max_open_files;
	if (s->max_open == 0)
		s->max_open = DPF_SINK_MAX_OPEN_FILES_DEFAULT;
	s->files = calloc(s->max_open, sizeof(*s->files));
	if (s->files == NULL)
		return -ENOMEM;
	for (i = 0; i < s->max_open; i++) {
		s->files[i].fd = -1;
		s->files[i].dir_fd = -1;
	}
	rc = mkdir_path(s->dir);
	if (rc != 0)
		return rc;
	s->root_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0)
		return -errno;
	return 0;
}

struct dpf_sink *
dpf_sink_create(const struct dpf_sink_params *p)
{
	struct dpf_sink *s;
	int level;
	int rc;

	rc = params_check(p, &level);
	if (rc != 0)
		goto fail;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	s->root_fd = -1;
	s->stream = p->stream;
	s->compress = p->compress;
	s->level = level;
	s->max_file_bytes =
		p->max_file_bytes != 0 ? p->max_file_bytes : DPF_SINK_MAX_FILE_BYTES_DEFAULT;
	s->slot_sec = p->slot_sec != 0 ? p->slot_sec : DPF_SINK_SLOT_SEC_DEFAULT;
	s->nonce = p->nonce;
	s->on_publish = p->on_publish;
	s->on_publish_arg = p->on_publish_arg;
	s->header = strdup(p->header);
	if (s->header == NULL) {
		rc = -ENOMEM;
		goto release_sink;
	}
	s->header_len = strlen(s->header);

	if (s->stream != NULL) {
		/* Header now, so that a run without records still prints it. */
		errno = 0;
		if (fwrite(s->header, 1, s->header_len, s->stream) != s->header_len) {
			rc = -errno_or(EIO);
			goto release_sink;
		}
		s->stats.bytes = s->header_len;
		return s;
	}
	rc = sink_files_init(s, p);
	if (rc != 0)
		goto release_sink;
	return s;

release_sink:
	sink_release(s);
fail:
	rte_errno = -rc;
	return NULL;
}

void
dpf_sink_free(struct dpf_sink *s)
{
	if (s == NULL)
		return;
	dpf_sink_close_all(s);
	sink_release(s);
}
