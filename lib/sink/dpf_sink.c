/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_sink.h"
#include "dpf_util.h"

/* Pending output is written once a file's buffer holds this much. */
#define SINK_OUTBUF_SIZE (128 * 1024)
/* Free room made before each compressor call; the buffer grows while blocked. */
#define SINK_OUT_ROOM (64 * 1024)
#define SINK_DIR_MODE 0750
#define SINK_FILE_MODE 0640
/* Never reuse or follow an existing entry under the temporary name. */
#define SINK_TMP_FLAGS (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)
/* Sequence numbers tried for one file before giving up with EEXIST. */
#define SINK_NAME_TRIES 1024
/* "yyyymmddTHHmmZ" plus room for a five-digit year. */
#define SINK_TS_SIZE 24
#define SINK_TMP_SUFFIX ".tmp"
#define SINK_RECOVERING_SUFFIX ".recovering"
/* AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>: deeper is not ours. */
#define SINK_RECOVER_DEPTH 8
/* Longest line recovery accepts; formatted lines are far shorter. */
#define SINK_RECOVER_LINE_MAX 65536
/* Past this many times max_file_bytes a file is rotated before the next flush. */
#define SINK_HARD_ROTATE_FACTOR 4

enum file_state {
	FILE_FREE = 0,
	FILE_OPEN,    /* accepting lines */
	FILE_CLOSING, /* stream finished; waiting to be written, fsynced, renamed */
};

struct sink_file {
	enum file_state state;
	enum dpf_compress compress;
	int level;
	uint64_t slot_start;
	int fd; /* -1 until the temporary exists: creation may wait for a retry */
	int dir_fd;
	bool synced; /* CLOSING: everything written and fsynced; only the rename is left */
	/* Bytes that left the compressor for this file (written plus pending). */
	uint64_t bytes_out;
	uint64_t lines;
	/* Lines the temporary's name says are whole (written at the last flush). */
	uint64_t marked_lines;
	/* outbuf[out_off, out_len) is pending: produced, not yet written. */
	unsigned char *outbuf;
	size_t out_cap;
	size_t out_len;
	size_t out_off;
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
	uint64_t hold_bytes;
	struct sink_file *files;  /* never reallocated: a z_stream must not move */
	struct sink_file **order; /* scratch: files in slot order */
	struct dpf_sink_stats stats;
	int blocked;   /* errno that blocks output, 0 when writable */
	bool retrying; /* a failure now continues the outage, not a new one */
	char err_path[2 * PATH_MAX];
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

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s);
	size_t k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Remember what blocks the output; the first failure since writable names it. */
static void
sink_block(struct dpf_sink *s, int rc, const char *rel_dir, const char *name)
{
	s->stats.write_errors++;
	if (s->blocked == 0 && !s->retrying)
		s->stats.blocked_count++;
	s->blocked = -rc;
	if (name != NULL)
		snprintf(s->err_path, sizeof(s->err_path), "%s/%s/%s", s->dir, rel_dir, name);
	else
		snprintf(s->err_path, sizeof(s->err_path), "%s/%s", s->dir, rel_dir);
}

/*
 * Open a directory without following a symbolic link. Linux says ENOTDIR or
 * ELOOP for a link; a link is always reported as ELOOP, so that the message
 * says what is there.
 */
static int
open_dir_nofollow(int dir_fd, const char *name)
{
	struct stat st;
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int err = errno;

	if (fd >= 0)
		return fd;
	if ((err == ENOTDIR || err == ELOOP) &&
	    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return -err;
}

/*
 * Open rel (relative to root_fd), creating missing components, never
 * following a symbolic link (ELOOP or ENOTDIR when one is there). A new
 * directory's parent is fsynced so the entry survives a crash along with the
 * files published into it. On failure *failed_len is the length of the
 * prefix of rel that failed.
 */
static int
dir_open_rel(int root_fd, const char *rel, size_t *failed_len)
{
	char buf[PATH_MAX];
	char *save = NULL;
	char *comp;
	int fd = root_fd;
	int rc;

	*failed_len = 0;
	if (strlen(rel) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, rel);
	for (comp = strtok_r(buf, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		bool created = false;
		int next;

		*failed_len = (size_t)(comp - buf) + strlen(comp);
		if (mkdirat(fd, comp, SINK_DIR_MODE) == 0)
			created = true;
		else if (errno != EEXIST)
			goto fail_errno;
		next = open_dir_nofollow(fd, comp);
		if (next < 0) {
			rc = next;
			goto close_parent;
		}
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

/* ------------------------------------------------------------ output buffer */

static void
file_produced(struct dpf_sink *s, struct sink_file *f, size_t n)
{
	f->out_len += n;
	f->bytes_out += n;
	s->stats.held_bytes += n;
	if (s->stats.held_bytes > s->stats.held_bytes_max)
		s->stats.held_bytes_max = s->stats.held_bytes;
}

/* Room for the next compressor call: compact, then grow (the buffer is a hold). */
static int
out_room(struct sink_file *f)
{
	size_t cap;
	unsigned char *nb;

	if (f->out_cap - f->out_len >= SINK_OUT_ROOM)
		return 0;
	if (f->out_off > 0) {
		memmove(f->outbuf, f->outbuf + f->out_off, f->out_len - f->out_off);
		f->out_len -= f->out_off;
		f->out_off = 0;
		if (f->out_cap - f->out_len >= SINK_OUT_ROOM)
			return 0;
	}
	cap = f->out_cap != 0 ? f->out_cap * 2 : SINK_OUTBUF_SIZE + SINK_OUT_ROOM;
	while (cap - f->out_len < SINK_OUT_ROOM)
		cap *= 2;
	nb = realloc(f->outbuf, cap);
	if (nb == NULL)
		return -ENOMEM;
	f->outbuf = nb;
	f->out_cap = cap;
	return 0;
}

static void
out_discard(struct dpf_sink *s, struct sink_file *f)
{
	s->stats.held_bytes -= f->out_len - f->out_off;
	f->out_len = 0;
	f->out_off = 0;
}

/*
 * ".<final>.<lines>.tmp": the record lines written before the last
 * dpf_sink_flush() (a window end). Recovery keeps those and no more, so a
 * window cut by a kill is never published as if it were whole.
 */
static int
tmp_name(const char *final_name, uint64_t lines, char *out, size_t cap)
{
	int n = snprintf(out, cap, ".%s.%" PRIu64 SINK_TMP_SUFFIX, final_name, lines);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
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

/*
 * Create the file's directory and temporary. The temporary is locked for as
 * long as this writer holds it, so another process's recovery leaves it alone.
 */
static int
file_create(struct dpf_sink *s, struct sink_file *f)
{
	unsigned int tries;
	size_t failed_len;
	int rc;

	if (f->dir_fd < 0) {
		f->dir_fd = dir_open_rel(s->root_fd, f->rel_dir, &failed_len);
		if (f->dir_fd < 0) {
			char prefix[PATH_MAX];

			rc = f->dir_fd;
			f->dir_fd = -1;
			snprintf(prefix, sizeof(prefix), "%.*s", (int)failed_len, f->rel_dir);
			sink_block(s, rc, prefix, NULL);
			return rc;
		}
	}
	for (tries = 0; tries < SINK_NAME_TRIES; tries++) {
		struct stat st;

		rc = file_name(s, f->ts, f->slot_start, s->next_seq++, f->final_name,
			       sizeof(f->final_name));
		if (rc == 0)
			rc = tmp_name(f->final_name, 0, f->tmp_name, sizeof(f->tmp_name));
		if (rc != 0)
			return rc;
		if (fstatat(f->dir_fd, f->final_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (errno != ENOENT) {
			rc = -errno;
			sink_block(s, rc, f->rel_dir, f->final_name);
			return rc;
		}
		f->fd = openat(f->dir_fd, f->tmp_name, SINK_TMP_FLAGS, SINK_FILE_MODE);
		if (f->fd >= 0) {
			f->marked_lines = 0;
			break;
		}
		if (errno != EEXIST) {
			rc = -errno;
			sink_block(s, rc, f->rel_dir, f->tmp_name);
			return rc;
		}
	}
	if (f->fd < 0)
		return -EEXIST;
	/* Best effort: file systems without flock still get correct files. */
	(void)flock(f->fd, LOCK_EX | LOCK_NB);
	return 0;
}

/* Write what is pending, creating the temporary first when needed. */
static int
file_output(struct dpf_sink *s, struct sink_file *f)
{
	int rc;

	if (f->fd < 0) {
		rc = file_create(s, f);
		if (rc != 0)
			return rc;
	}
	while (f->out_off < f->out_len) {
		ssize_t n = write(f->fd, f->outbuf + f->out_off, f->out_len - f->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			sink_block(s, rc, f->rel_dir, f->tmp_name);
			return rc;
		}
		f->out_off += (size_t)n;
		s->stats.held_bytes -= (uint64_t)n;
	}
	f->out_off = 0;
	f->out_len = 0;
	/* Back to the usual size after an outage grew the buffer. */
	if (f->out_cap > SINK_OUTBUF_SIZE + SINK_OUT_ROOM) {
		unsigned char *nb = realloc(f->outbuf, SINK_OUTBUF_SIZE + SINK_OUT_ROOM);

		if (nb != NULL) {
			f->outbuf = nb;
			f->out_cap = SINK_OUTBUF_SIZE + SINK_OUT_ROOM;
		}
	}
	return 0;
}

/* After a compressor call: write once a buffer's worth is pending, unless blocked. */
static void
file_pump(struct dpf_sink *s, struct sink_file *f)
{
	if (s->blocked == 0 && f->out_len - f->out_off >= SINK_OUTBUF_SIZE)
		(void)file_output(s, f); /* a failure blocks the sink; the bytes stay */
}

/* ------------------------------------------------------------ compressors */

static int
zstd_errno(size_t r)
{
	return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM : -EIO;
}

/* Feed data (NULL, 0 with ZSTD_e_end to finish) until consumed and flushed as asked. */
static int
zstd_run(struct dpf_sink *s, struct sink_file *f, const void *data, size_t len,
	 ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = {data, len, 0};

	for (;;) {
		ZSTD_outBuffer out;
		size_t r;
		int rc = out_room(f);

		if (rc != 0)
			return rc;
		out.dst = f->outbuf + f->out_len;
		out.size = f->out_cap - f->out_len;
		out.pos = 0;
		r = ZSTD_compressStream2(f->zstd, &out, &in, mode);
		file_produced(s, f, out.pos);
		if (ZSTD_isError(r))
			return zstd_errno(r);
		file_pump(s, f);
		if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0)
			return 0;
	}
}

static int
gzip_run(struct dpf_sink *s, struct sink_file *f, const void *data, size_t len, int flush)
{
	f->gz.next_in = data;
	f->gz.avail_in = (uInt)len;
	for (;;) {
		size_t room;
		uInt in_before = f->gz.avail_in;
		int rc = out_room(f);
		int zr;

		if (rc != 0)
			return rc;
		room = f->out_cap - f->out_len;
		if (room > UINT_MAX)
			room = UINT_MAX;
		f->gz.next_out = f->outbuf + f->out_len;
		f->gz.avail_out = (uInt)room;
		zr = deflate(&f->gz, flush);
		file_produced(s, f, room - f->gz.avail_out);
		if (zr == Z_MEM_ERROR)
			return -ENOMEM;
		if (zr != Z_OK && zr != Z_BUF_ERROR && zr != Z_STREAM_END)
			return -EIO;
		if (zr == Z_BUF_ERROR && f->gz.avail_in == in_before && f->gz.avail_out == room) {
			/* A flush with nothing new since the last one: nothing to do. */
			if (flush == Z_SYNC_FLUSH && f->gz.avail_in == 0)
				return 0;
			return -EIO;
		}
		file_pump(s, f);
		if (flush == Z_FINISH
			    ? zr == Z_STREAM_END
			    : f->gz.avail_in == 0 && (flush == Z_NO_FLUSH || f->gz.avail_out != 0))
			return 0;
	}
}

static int
file_append(struct dpf_sink *s, struct sink_file *f, const void *data, size_t len)
{
	const unsigned char *p = data;

	switch (f->compress) {
	case DPF_COMPRESS_ZSTD:
		return zstd_run(s, f, data, len, ZSTD_e_continue);
	case DPF_COMPRESS_GZIP:
		while (len > 0) {
			size_t chunk = len > UINT_MAX ? UINT_MAX : len;
			int rc = gzip_run(s, f, p, chunk, Z_NO_FLUSH);

			if (rc != 0)
				return rc;
			p += chunk;
			len -= chunk;
		}
		return 0;
	case DPF_COMPRESS_NONE:
		while (len > 0) {
			size_t n;
			int rc = out_room(f);

			if (rc != 0)
				return rc;
			n = RTE_MIN(len, f->out_cap - f->out_len);
			memcpy(f->outbuf + f->out_len, p, n);
			file_produced(s, f, n);
			file_pump(s, f);
			p += n;
			len -= n;
		}
		return 0;
	}
	return -EINVAL;
}

/* Make everything accepted so far decodable from what is written (no fsync). */
static int
file_sync_flush(struct dpf_sink *s, struct sink_file *f)
{
	if (f->compress == DPF_COMPRESS_ZSTD)
		return zstd_run(s, f, NULL, 0, ZSTD_e_flush);
	if (f->compress == DPF_COMPRESS_GZIP)
		return gzip_run(s, f, NULL, 0, Z_SYNC_FLUSH);
	return 0;
}

/* End the compressed stream, in memory. */
static int
file_finish(struct dpf_sink *s, struct sink_file *f)
{
	if (f->compress == DPF_COMPRESS_ZSTD)
		return zstd_run(s, f, NULL, 0, ZSTD_e_end);
	if (f->compress == DPF_COMPRESS_GZIP)
		return gzip_run(s, f, NULL, 0, Z_FINISH);
	return 0;
}

/* Prepare the entry's compressor for a new file: create once, reset after. */
static int
compressor_start(struct sink_file *f)
{
	size_t r;
	int zr;

	switch (f->compress) {
	case DPF_COMPRESS_ZSTD:
		if (f->zstd != NULL) {
			r = ZSTD_CCtx_reset(f->zstd, ZSTD_reset_session_only);
			return ZSTD_isError(r) ? -EIO : 0;
		}
		f->zstd = ZSTD_createCCtx();
		if (f->zstd == NULL)
			return -ENOMEM;
		r = ZSTD_CCtx_setParameter(f->zstd, ZSTD_c_compressionLevel, f->level);
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
		zr = deflateInit2(&f->gz, f->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
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

static void
file_release(struct sink_file *f)
{
	free(f->outbuf);
	ZSTD_freeCCtx(f->zstd);
	if (f->gz_ready)
		deflateEnd(&f->gz);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dir_fd = -1;
}

/* ------------------------------------------------------------ file life */

static void
file_close_fds(struct sink_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dir_fd >= 0)
		close(f->dir_fd);
	f->fd = -1;
	f->dir_fd = -1;
	f->synced = false;
	f->state = FILE_FREE;
}

/*
 * Give a file up: what it holds cannot be trusted or cannot be kept. Its
 * temporary goes (nothing half-written stays behind), its lines are lost.
 */
static void
file_abandon(struct dpf_sink *s, struct sink_file *f)
{
	if (f->fd >= 0 && f->dir_fd >= 0)
		unlinkat(f->dir_fd, f->tmp_name, 0);
	out_discard(s, f);
	s->stats.lines_lost += f->lines;
	s->stats.files_abandoned++;
	file_close_fds(f);
}

static int
file_start(struct dpf_sink *s, struct sink_file *f, uint64_t slot_start)
{
	struct tm tm;
	time_t t;
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
	f->compress = s->compress;
	f->level = s->level;
	rc = compressor_start(f);
	if (rc != 0)
		return rc;
	f->slot_start = slot_start;
	f->fd = -1;
	f->dir_fd = -1;
	f->synced = false;
	f->bytes_out = 0;
	f->lines = 0;
	f->marked_lines = 0;
	f->out_len = 0;
	f->out_off = 0;
	f->state = FILE_OPEN;
	rc = file_append(s, f, s->header, s->header_len);
	if (rc != 0) {
		out_discard(s, f);
		f->state = FILE_FREE;
		return rc;
	}
	s->stats.bytes += s->header_len;
	/* Created now when the disk lets us; otherwise held until a retry does. */
	if (s->blocked == 0)
		(void)file_create(s, f);
	return 0;
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

/*
 * Write, fsync, rename, close, fsync the directory. A failed write or rename
 * blocks the sink (the file waits for a retry); a failed fsync abandons it.
 * @return 0 (published or waiting), or -errno when the file was abandoned
 */
static int
file_complete(struct dpf_sink *s, struct sink_file *f)
{
	bool published;
	int rc;

	if (!f->synced) {
		if (file_output(s, f) != 0)
			return 0;
		/* The kernel may have dropped pages it could not write: start over is
		 * impossible, so the file is given up rather than published. */
		if (fsync(f->fd) != 0) {
			rc = -errno;
			s->stats.write_errors++;
			file_abandon(s, f);
			return rc;
		}
		f->synced = true;
	}
	/* The descriptor (and its lock) is kept until the name is final. */
	rc = file_rename(s, f, &published);
	if (!published) {
		/* No free name, or the temporary is gone (removed under us): give up. */
		if (rc == -EEXIST || rc == -ENAMETOOLONG || rc == -ENOENT) {
			s->stats.write_errors++;
			file_abandon(s, f);
			return rc;
		}
		sink_block(s, rc, f->rel_dir, f->tmp_name);
		return 0;
	}
	s->stats.files_published++;
	snprintf(s->last_path, sizeof(s->last_path), "%s/%s/%s", s->dir, f->rel_dir, f->final_name);
	/* The data was fsynced and the name is final: these only count. */
	if (rc != 0)
		s->stats.write_errors++;
	if (fsync(f->dir_fd) != 0)
		s->stats.write_errors++;
	if (close(f->fd) != 0 && errno != EINTR)
		s->stats.write_errors++;
	f->fd = -1;
	file_close_fds(f);
	if (s->on_publish != NULL)
		s->on_publish(s->on_publish_arg, s->last_path);
	return 0;
}

/* Finish the stream and publish, or leave it waiting when blocked. */
static int
file_publish(struct dpf_sink *s, struct sink_file *f)
{
	int rc;

	if (f->state == FILE_OPEN) {
		rc = file_finish(s, f);
		if (rc != 0) {
			s->stats.write_errors++;
			file_abandon(s, f);
			return rc;
		}
		f->state = FILE_CLOSING;
	}
	if (s->blocked != 0)
		return 0;
	return file_complete(s, f);
}

static struct sink_file *
file_find(struct dpf_sink *s, uint64_t slot_start)
{
	uint32_t i;

	for (i = 0; i < s->max_open; i++)
		if (s->files[i].state == FILE_OPEN && s->files[i].slot_start == slot_start)
			return &s->files[i];
	return NULL;
}

/*
 * A free entry, publishing the file of the oldest slot when all are in use.
 * NULL when that file has to wait (blocked): the caller loses the line.
 */
static struct sink_file *
file_free_entry(struct dpf_sink *s)
{
	struct sink_file *oldest = NULL;
	uint32_t i;

	for (i = 0; i < s->max_open; i++) {
		struct sink_file *f = &s->files[i];

		if (f->state == FILE_FREE)
			return f;
		if (oldest == NULL || f->slot_start < oldest->slot_start)
			oldest = f;
	}
	/* Its error is counted; the new line does not depend on it. */
	(void)file_publish(s, oldest);
	return oldest->state == FILE_FREE ? oldest : NULL;
}

static int
write_stream(struct dpf_sink *s, const char *line, size_t len)
{
	errno = 0;
	if (fwrite(line, 1, len, s->stream) != len) {
		s->stats.write_errors++;
		s->stats.lines_lost++;
		return -errno_or(EIO);
	}
	s->stats.records++;
	s->stats.bytes += len;
	return 0;
}

static int
line_lost(struct dpf_sink *s, int rc)
{
	s->stats.lines_lost++;
	return rc;
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

	/* The hold is full: what cannot be kept is counted, never silently dropped. */
	if (s->blocked != 0 && s->stats.held_bytes + len > s->hold_bytes)
		return line_lost(s, -s->blocked);
	slot_start = end_sec - end_sec % s->slot_sec;
	f = file_find(s, slot_start);
	if (f == NULL) {
		f = file_free_entry(s);
		if (f == NULL)
			return line_lost(s, -s->blocked);
		rc = file_start(s, f, slot_start);
		if (rc != 0)
			return line_lost(s, rc);
	}
	rc = file_append(s, f, line, len);
	if (rc != 0) {
		/* A compressor that failed mid-line leaves the stream unusable. */
		s->stats.write_errors++;
		file_abandon(s, f);
		return line_lost(s, rc);
	}
	f->lines++;
	s->stats.records++;
	s->stats.bytes += len;
	/* Size rotation waits for the window end (dpf_sink_flush), so that no
	 * window is split between a published file and a temporary that a kill
	 * could cut; only a window far too big for one file is split. */
	if (f->bytes_out >= SINK_HARD_ROTATE_FACTOR * s->max_file_bytes)
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

static int
cmp_slot(const void *a, const void *b)
{
	const struct sink_file *fa = *(struct sink_file *const *)a;
	const struct sink_file *fb = *(struct sink_file *const *)b;

	return fa->slot_start < fb->slot_start ? -1 : fa->slot_start > fb->slot_start;
}

/* The files in use, oldest slot first; returns how many. */
static uint32_t
files_by_slot(struct dpf_sink *s, struct sink_file **out)
{
	uint32_t i;
	uint32_t n = 0;

	for (i = 0; i < s->max_open; i++)
		if (s->files[i].state != FILE_FREE)
			out[n++] = &s->files[i];
	qsort(out, n, sizeof(out[0]), cmp_slot);
	return n;
}

/* Publish files whose slot ends at or before sec (all when all is set), oldest first. */
static int
publish_until(struct dpf_sink *s, uint64_t sec, bool all)
{
	struct sink_file **order = s->order;
	uint32_t i;
	uint32_t n;
	int first_rc = 0;

	if (s->stream != NULL)
		return flush_stream(s);
	n = files_by_slot(s, order);
	for (i = 0; i < n; i++) {
		struct sink_file *f = order[i];
		int rc;

		/* slot_start + slot_sec <= sec, without overflow. */
		if (!all && (sec < s->slot_sec || f->slot_start > sec - s->slot_sec))
			continue;
		rc = file_publish(s, f);
		if (rc != 0 && first_rc == 0)
			first_rc = rc;
	}
	return first_rc;
}

int
dpf_sink_close_before(struct dpf_sink *s, uint64_t sec)
{
	if (s == NULL)
		return -EINVAL;
	return publish_until(s, sec, false);
}

/*
 * Everything up to here is written: say so in the temporary's name. A rename
 * that fails leaves the older count, which recovery trusts just as well (it
 * then keeps fewer lines, never a cut window).
 */
static void
file_mark(struct dpf_sink *s, struct sink_file *f)
{
	char name[NAME_MAX + 1];

	if (f->fd < 0 || f->dir_fd < 0 || f->lines == f->marked_lines || f->out_len != f->out_off ||
	    tmp_name(f->final_name, f->lines, name, sizeof(name)) != 0)
		return;
	if (renameat2(f->dir_fd, f->tmp_name, f->dir_fd, name, RENAME_NOREPLACE) != 0 &&
	    ((errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) ||
	     renameat(f->dir_fd, f->tmp_name, f->dir_fd, name) != 0)) {
		s->stats.write_errors++;
		return;
	}
	memcpy(f->tmp_name, name, sizeof(name));
	f->marked_lines = f->lines;
}

int
dpf_sink_flush(struct dpf_sink *s)
{
	int first_rc = 0;
	uint32_t i;

	if (s == NULL)
		return -EINVAL;
	if (s->stream != NULL)
		return flush_stream(s);
	for (i = 0; i < s->max_open; i++) {
		struct sink_file *f = &s->files[i];
		int rc;

		if (f->state != FILE_OPEN)
			continue;
		/* Big enough: published now, between two windows. */
		if (f->bytes_out >= s->max_file_bytes) {
			rc = file_publish(s, f);
			if (rc != 0 && first_rc == 0)
				first_rc = rc;
			continue;
		}
		rc = file_sync_flush(s, f);
		if (rc != 0) {
			s->stats.write_errors++;
			file_abandon(s, f);
			if (first_rc == 0)
				first_rc = rc;
			continue;
		}
		/* A failure blocks the sink; the bytes stay for the retry. */
		if (s->blocked == 0 && f->out_len > f->out_off)
			(void)file_output(s, f);
		if (s->blocked == 0)
			file_mark(s, f);
	}
	return first_rc;
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

/* The root directory was removed under us: make it again, as at creation. */
static void
root_reopen_if_gone(struct dpf_sink *s)
{
	struct stat st;
	int fd;

	if (fstat(s->root_fd, &st) != 0 || st.st_nlink != 0)
		return;
	if (dpf_mkdir_p(s->dir, SINK_DIR_MODE) != 0)
		return;
	fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	close(s->root_fd);
	s->root_fd = fd;
}

int
dpf_sink_retry(struct dpf_sink *s)
{
	struct sink_file **order;
	uint32_t i;
	uint32_t n;

	if (s == NULL)
		return -EINVAL;
	if (s->stream != NULL || s->blocked == 0)
		return 0;
	order = s->order;
	s->stats.retries++;
	root_reopen_if_gone(s);
	s->blocked = 0;
	s->retrying = true;
	n = files_by_slot(s, order);
	for (i = 0; i < n && s->blocked == 0; i++) {
		struct sink_file *f = order[i];

		/* Directories opened before the outage may have been replaced. */
		if (f->fd < 0 && f->dir_fd >= 0) {
			close(f->dir_fd);
			f->dir_fd = -1;
		}
		if (f->state == FILE_OPEN)
			(void)file_output(s, f);
		else
			(void)file_complete(s, f);
	}
	s->retrying = false;
	return -s->blocked;
}

int
dpf_sink_blocked(const struct dpf_sink *s, const char **path)
{
	if (path != NULL)
		*path = s != NULL ? s->err_path : "";
	return s != NULL ? s->blocked : 0;
}

uint64_t
dpf_sink_discard(struct dpf_sink *s)
{
	uint64_t before;
	uint32_t i;

	if (s == NULL || s->stream != NULL)
		return 0;
	before = s->stats.lines_lost;
	for (i = 0; i < s->max_open; i++) {
		struct sink_file *f = &s->files[i];

		if (f->state == FILE_FREE)
			continue;
		file_abandon(s, f);
	}
	s->blocked = 0;
	return s->stats.lines_lost - before;
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
		n += s->files[i].state != FILE_FREE;
	return n;
}

const char *
dpf_sink_last_path(const struct dpf_sink *s)
{
	return s != NULL ? s->last_path : "";
}

/* ------------------------------------------------------------ recovery */

/*
 * Lines of a leftover, checked one by one: the header (field names: lowercase
 * letters, digits, '-', single spaces), then lines with as many fields,
 * printable ASCII. The first line that fails ends what is kept.
 */
struct line_check {
	unsigned int fields; /* 0 until the header was seen */
	bool stopped;
	char *part; /* incomplete line carried over between chunks */
	size_t part_len;
	uint64_t lines;	  /* record lines kept */
	uint64_t keep;	  /* record lines the name says are whole */
	uint64_t dropped; /* well-formed record lines after those: a cut window */
};

static unsigned int
count_fields(const char *l, size_t len, bool header)
{
	unsigned int n = 1;
	size_t i;

	if (len == 0 || l[0] == ' ' || l[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)l[i];

		if (c == ' ') {
			if (l[i - 1] == ' ')
				return 0;
			n++;
		} else if (header ? !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
				  : (c < 0x21 || c > 0x7e)) {
			return 0;
		}
	}
	return n;
}

/* Recovery output: one file written straight through (no hold). */
struct recover_out {
	struct dpf_sink *s;
	struct sink_file f;
	int rc;
};

static void
recover_line(struct recover_out *o, struct line_check *lc, const char *l, size_t len)
{
	unsigned int n;

	if (lc->stopped)
		return;
	n = count_fields(l, len, lc->fields == 0);
	if (n == 0 || (lc->fields != 0 && n != lc->fields)) {
		lc->stopped = true;
		return;
	}
	if (lc->fields == 0) {
		lc->fields = n;
	} else if (lc->lines == lc->keep) {
		lc->dropped++;
		return;
	} else {
		lc->lines++;
	}
	if (o->rc == 0)
		o->rc = file_append(o->s, &o->f, l, len + 1);
	if (o->rc == 0 && o->f.out_len - o->f.out_off >= SINK_OUTBUF_SIZE)
		o->rc = file_output(o->s, &o->f);
}

/* Split decompressed bytes into lines; only complete lines count. */
static void
recover_feed(struct recover_out *o, struct line_check *lc, const char *p, size_t len)
{
	while (len > 0 && !lc->stopped) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - p) : len;

		if (lc->part_len + take >= SINK_RECOVER_LINE_MAX) {
			lc->stopped = true;
			return;
		}
		if (nl == NULL || lc->part_len > 0) {
			memcpy(lc->part + lc->part_len, p, take);
			lc->part_len += take;
		}
		if (nl == NULL)
			return;
		if (lc->part_len > 0) {
			lc->part[lc->part_len] = '\n';
			recover_line(o, lc, lc->part, lc->part_len);
			lc->part_len = 0;
		} else {
			recover_line(o, lc, p, take);
		}
		p += take + 1;
		len -= take + 1;
	}
}

/* Decompress what can be read of src_fd and keep its valid lines. */
static int
recover_copy(struct recover_out *o, struct line_check *lc, int src_fd, enum dpf_compress c)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *in = malloc(CHUNK);
	char *out = malloc(CHUNK);
	ZSTD_DCtx *dz = NULL;
	z_stream zs;
	bool gz_ready = false;
	bool done = false;
	int rc = 0;

	memset(&zs, 0, sizeof(zs));
	if (in == NULL || out == NULL)
		goto nomem;
	if (c == DPF_COMPRESS_ZSTD) {
		dz = ZSTD_createDCtx();
		if (dz == NULL)
			goto nomem;
	} else if (c == DPF_COMPRESS_GZIP) {
		if (inflateInit2(&zs, 15 + 16) != Z_OK)
			goto nomem;
		gz_ready = true;
	}
	while (!done && !lc->stopped && o->rc == 0) {
		ssize_t got = read(src_fd, in, CHUNK);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			break;
		}
		if (got == 0)
			break;
		if (c == DPF_COMPRESS_NONE) {
			recover_feed(o, lc, (const char *)in, (size_t)got);
		} else if (c == DPF_COMPRESS_ZSTD) {
			ZSTD_inBuffer ib = {in, (size_t)got, 0};
			bool full = false;

			/* A full output buffer may leave decoded bytes inside the
			 * decoder although the input is used up: drain them too. */
			while ((ib.pos < ib.size || full) && !done) {
				ZSTD_outBuffer ob = {out, CHUNK, 0};
				size_t r = ZSTD_decompressStream(dz, &ob, &ib);

				/* Corrupt data ends the recovery; what came before stays. */
				done = ZSTD_isError(r) || (r == 0 && ib.pos < ib.size);
				if (!ZSTD_isError(r))
					recover_feed(o, lc, out, ob.pos);
				full = ob.pos == ob.size;
			}
		} else {
			zs.next_in = in;
			zs.avail_in = (uInt)got;
			zs.avail_out = 1;
			while ((zs.avail_in > 0 || zs.avail_out == 0) && !done) {
				int zr;

				zs.next_out = (Bytef *)out;
				zs.avail_out = CHUNK;
				zr = inflate(&zs, Z_NO_FLUSH);
				recover_feed(o, lc, out, CHUNK - zs.avail_out);
				done = zr != Z_OK && zr != Z_BUF_ERROR;
			}
		}
	}
	goto out;

nomem:
	rc = -ENOMEM;
out:
	if (gz_ready)
		inflateEnd(&zs);
	ZSTD_freeDCtx(dz);
	free(in);
	free(out);
	return rc;
}

static bool
compress_of_name(const char *final_name, enum dpf_compress *c)
{
	static const enum dpf_compress all[] = {DPF_COMPRESS_ZSTD, DPF_COMPRESS_GZIP,
						DPF_COMPRESS_NONE};
	unsigned int i;

	for (i = 0; i < RTE_DIM(all); i++) {
		if (has_suffix(final_name, dpf_sink_compress_ext(all[i]))) {
			*c = all[i];
			return true;
		}
	}
	return false;
}

/*
 * Open a leftover only if it is a regular file of ours with one link that no
 * running writer holds: never a symlink, a hard link planted next to our
 * files, or a file in use. @return fd, or -1 (skip)
 */
static int
leftover_open(int dir_fd, const char *name, struct stat *st)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_uid != geteuid() ||
	    st->st_nlink != 1 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
publish_noreplace(int dir_fd, const char *from, const char *to)
{
	if (renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	if (linkat(dir_fd, from, dir_fd, to, 0) != 0)
		return -errno;
	return unlinkat(dir_fd, from, 0) == 0 ? 0 : -errno;
}

/*
 * The part of a leftover's name between '.' and `suffix_len` bytes of suffix,
 * "<final>.<lines>" (a temporary of this version: the lines written before
 * its last window end) or "<final>" (of an older version, which had no such
 * count: every well-formed line is kept). Fills stem, final and keep.
 */
static bool
leftover_name(const char *name, size_t suffix_len, char *stem, char *final, uint64_t *keep)
{
	size_t len = strlen(name), digits = 0;

	if (len < 2 + suffix_len || len - 1 - suffix_len > NAME_MAX)
		return false;
	snprintf(stem, NAME_MAX + 1, "%.*s", (int)(len - 1 - suffix_len), name + 1);
	len = strlen(stem);
	while (digits < len && digits < 20 && stem[len - 1 - digits] >= '0' &&
	       stem[len - 1 - digits] <= '9')
		digits++;
	*keep = UINT64_MAX;
	if (digits > 0 && digits < len && stem[len - 1 - digits] == '.') {
		errno = 0;
		*keep = strtoull(stem + len - digits, NULL, 10);
		if (errno != 0)
			return false;
		len -= digits + 1;
	}
	snprintf(final, NAME_MAX + 1, "%.*s", (int)len, stem);
	return true;
}

/*
 * .<final>.<lines>.tmp: write its good lines, the first <lines> of them, to
 * .<final>.<lines>.recovering.tmp, fsync, remove the leftover, rename to
 * <final>. A crash in between leaves either both (the recovering file is
 * redone) or only the recovering file (complete: renamed).
 */
static void
recover_one(struct dpf_sink *s, int dir_fd, const char *name, struct dpf_sink_recovery *r)
{
	char final_name[NAME_MAX + 1];
	char stem[NAME_MAX + 1];
	char rec_name[NAME_MAX + 1];
	struct line_check lc = {0};
	struct recover_out o;
	struct stat st;
	enum dpf_compress c;
	int src, old;
	int rc;

	if (!leftover_name(name, strlen(SINK_TMP_SUFFIX), stem, final_name, &lc.keep) ||
	    !compress_of_name(final_name, &c) ||
	    fstatat(dir_fd, final_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r->files_skipped++;
		return;
	}
	if (snprintf(rec_name, sizeof(rec_name), ".%s" SINK_RECOVERING_SUFFIX SINK_TMP_SUFFIX,
		     stem) >= (int)sizeof(rec_name)) {
		r->errors++;
		return;
	}
	src = leftover_open(dir_fd, name, &st);
	if (src < 0) {
		r->files_skipped++;
		return;
	}
	/* An interrupted earlier recovery of the same file: redo it. */
	old = leftover_open(dir_fd, rec_name, &st);
	if (old >= 0) {
		unlinkat(dir_fd, rec_name, 0);
		close(old);
	}
	memset(&o, 0, sizeof(o));
	o.s = s;
	o.f.compress = c;
	o.f.level =
		c == DPF_COMPRESS_ZSTD ? DPF_SINK_ZSTD_LEVEL_DEFAULT : DPF_SINK_GZIP_LEVEL_DEFAULT;
	o.f.dir_fd = -1;
	o.f.fd = openat(dir_fd, rec_name, SINK_TMP_FLAGS, SINK_FILE_MODE);
	lc.part = malloc(SINK_RECOVER_LINE_MAX + 1);
	if (o.f.fd < 0 || lc.part == NULL) {
		r->errors++;
		goto close_src;
	}
	(void)flock(o.f.fd, LOCK_EX | LOCK_NB);
	o.rc = compressor_start(&o.f);
	rc = recover_copy(&o, &lc, src, c);
	if (rc == 0 && o.rc == 0 && lc.lines > 0)
		rc = file_finish(s, &o.f);
	if (rc == 0 && o.rc == 0 && lc.lines > 0)
		rc = file_output(s, &o.f);
	if (rc == 0 && o.rc == 0 && lc.lines > 0 && fsync(o.f.fd) != 0)
		rc = -errno;
	if (rc != 0 || o.rc != 0) {
		/* Leave the leftover as it was; the next start tries again. */
		unlinkat(dir_fd, rec_name, 0);
		r->errors++;
	} else if (lc.lines == 0) {
		unlinkat(dir_fd, rec_name, 0);
		unlinkat(dir_fd, name, 0);
		r->files_removed++;
		r->lines_dropped += lc.dropped;
	} else if (unlinkat(dir_fd, name, 0) != 0 ||
		   publish_noreplace(dir_fd, rec_name, final_name) != 0) {
		r->errors++;
	} else {
		(void)fsync(dir_fd);
		r->files_finished++;
		r->lines_recovered += lc.lines;
		r->lines_dropped += lc.dropped;
	}
	out_discard(s, &o.f);
close_src:
	free(lc.part);
	if (o.f.fd >= 0)
		close(o.f.fd);
	o.f.fd = -1;
	file_release(&o.f);
	close(src);
}

/* .<stem>.recovering.tmp without its leftover: complete, only the rename is left. */
static void
recover_finish_rename(int dir_fd, const char *name, struct dpf_sink_recovery *r)
{
	size_t cut = strlen(SINK_RECOVERING_SUFFIX) + strlen(SINK_TMP_SUFFIX);
	char final_name[NAME_MAX + 1];
	char stem[NAME_MAX + 1];
	char leftover[NAME_MAX + 1];
	struct stat st;
	uint64_t keep;
	int fd;

	if (!leftover_name(name, cut, stem, final_name, &keep) ||
	    snprintf(leftover, sizeof(leftover), ".%s" SINK_TMP_SUFFIX, stem) >=
		    (int)sizeof(leftover))
		return;
	if (fstatat(dir_fd, leftover, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return; /* redone from the leftover, in its own turn */
	fd = leftover_open(dir_fd, name, &st);
	if (fd < 0) {
		r->files_skipped++;
		return;
	}
	if (publish_noreplace(dir_fd, name, final_name) == 0) {
		(void)fsync(dir_fd);
		r->files_finished++;
	} else {
		r->errors++;
	}
	close(fd);
}

static int
recover_dir(struct dpf_sink *s, int dir_fd, unsigned int depth, struct dpf_sink_recovery *r)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	/* fdopendir takes the descriptor; the caller's stays open. */
	int fd = dup(dir_fd);

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	/* Names first, then changes: the directory is not modified while read. */
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nn));

			if (nn == NULL) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	for (i = 0; i < n && rc == 0; i++) {
		const char *name = names[i];
		struct stat st;

		if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth + 1 >= SINK_RECOVER_DEPTH)
				continue;
			sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			rc = recover_dir(s, sub, depth + 1, r);
			close(sub);
		} else if (S_ISREG(st.st_mode) && name[0] == '.' &&
			   has_suffix(name, SINK_TMP_SUFFIX) &&
			   strlen(name) > 1 + strlen(SINK_TMP_SUFFIX)) {
			if (has_suffix(name, SINK_RECOVERING_SUFFIX SINK_TMP_SUFFIX))
				recover_finish_rename(dir_fd, name, r);
			else
				recover_one(s, dir_fd, name, r);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
dpf_sink_recover(struct dpf_sink *s, struct dpf_sink_recovery *r)
{
	int fd;
	int rc;

	if (s == NULL || r == NULL || s->stream != NULL)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	fd = open_dir_nofollow(s->root_fd, "AWSLogs");
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	rc = recover_dir(s, fd, 1, r);
	close(fd);
	/* What recovery wrote went straight to disk: nothing is held. */
	s->stats.held_bytes = 0;
	s->stats.held_bytes_max = 0;
	return rc;
}

/* ------------------------------------------------------------ create, free */

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

	for (i = 0; s->files != NULL && i < s->max_open; i++)
		file_release(&s->files[i]);
	free(s->files);
	free(s->order);
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
	/* Fail now, not at the first record, when the components cannot fit a name
	 * (the recovery temporary is the longest). */
	rc = file_name(s, "20190827T1910Z", 0, 0, name, sizeof(name));
	if (rc == 0 && snprintf(tmp, sizeof(tmp), ".%s" SINK_RECOVERING_SUFFIX SINK_TMP_SUFFIX,
				name) >= (int)sizeof(tmp))
		rc = -ENAMETOOLONG;
	if (rc != 0)
		return rc;

	s->max_open = p->max_open_files;
	if (s->max_open == 0)
		s->max_open = DPF_SINK_MAX_OPEN_FILES_DEFAULT;
	s->files = calloc(s->max_open, sizeof(*s->files));
	s->order = calloc(s->max_open, sizeof(*s->order));
	if (s->files == NULL || s->order == NULL)
		return -ENOMEM;
	for (i = 0; i < s->max_open; i++) {
		s->files[i].fd = -1;
		s->files[i].dir_fd = -1;
	}
	rc = dpf_mkdir_p(s->dir, SINK_DIR_MODE);
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
	s->hold_bytes = p->hold_bytes != 0 ? p->hold_bytes : DPF_SINK_HOLD_BYTES_DEFAULT;
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
	dpf_sink_retry(s);
	dpf_sink_discard(s);
	sink_release(s);
}
