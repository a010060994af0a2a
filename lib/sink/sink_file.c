/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink_file.h"

/* Sequence numbers tried for one file before giving up with EEXIST. */
#define SINK_NAME_TRIES 1024

/*
 * Open a directory without following a symbolic link. Linux says ENOTDIR or
 * ELOOP for a link; a link is always reported as ELOOP, so that the message
 * says what is there.
 */
int
sink_open_dir_nofollow(int dir_fd, const char *name)
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
		next = sink_open_dir_nofollow(fd, comp);
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

/*
 * ".<final>.<lines>.tmp": the record lines written before the last
 * dpf_sink_flush() (a window end). Recovery keeps those and no more, so a
 * window cut by a kill is never published as if it were whole.
 */
int
sink_tmp_name(const char *final_name, uint64_t lines, char *out, size_t cap)
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

int
sink_file_name(const struct dpf_sink *s, const char *ts, uint64_t slot_start, uint64_t seq,
	       char *out, size_t cap)
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

		rc = sink_file_name(s, f->ts, f->slot_start, s->next_seq++, f->final_name,
				    sizeof(f->final_name));
		if (rc == 0)
			rc = sink_tmp_name(f->final_name, 0, f->tmp_name, sizeof(f->tmp_name));
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

int
sink_file_output(struct dpf_sink *s, struct sink_file *f)
{
	uint64_t written = 0;
	int rc;

	if (f->fd < 0) {
		rc = file_create(s, f);
		if (rc != 0)
			return rc;
	}
	rc = sink_buf_write(&f->buf, f->fd, &written);
	s->stats.held_bytes -= written;
	if (rc != 0)
		sink_block(s, rc, f->rel_dir, f->tmp_name);
	return rc;
}

/* After a compressor call: write once a buffer's worth is pending, unless blocked. */
static void
file_pump(struct dpf_sink *s, struct sink_file *f)
{
	if (s->blocked == 0 && sink_buf_pending(&f->buf) >= SINK_BUF_SIZE)
		(void)sink_file_output(s, f); /* a failure blocks the sink; the bytes stay */
}

/* What the compressor produced for f: written plus pending, and held until written. */
static void
file_produced(struct dpf_sink *s, struct sink_file *f, size_t n)
{
	f->bytes_out += n;
	s->stats.held_bytes += n;
	if (s->stats.held_bytes > s->stats.held_bytes_max)
		s->stats.held_bytes_max = s->stats.held_bytes;
}

/* The codec's view of a file: its buffer, and the sink's accounting. */
struct file_out {
	struct dpf_sink *s;
	struct sink_file *f;
};

static void
out_produced(void *arg, size_t n)
{
	struct file_out *x = arg;

	file_produced(x->s, x->f, n);
}

static void
out_pump(void *arg)
{
	struct file_out *x = arg;

	file_pump(x->s, x->f);
}

enum codec_op { CODEC_APPEND, CODEC_FLUSH, CODEC_FINISH };

static int
file_code(struct dpf_sink *s, struct sink_file *f, enum codec_op op, const void *data, size_t len)
{
	struct file_out x = {s, f};
	const struct sink_codec_out o = {&f->buf, out_produced, out_pump, &x};

	switch (op) {
	case CODEC_APPEND:
		return sink_codec_append(&f->codec, &o, data, len);
	case CODEC_FLUSH:
		return sink_codec_flush(&f->codec, &o);
	case CODEC_FINISH:
		return sink_codec_finish(&f->codec, &o);
	}
	return -EINVAL;
}

int
sink_file_append(struct dpf_sink *s, struct sink_file *f, const void *data, size_t len)
{
	return file_code(s, f, CODEC_APPEND, data, len);
}

int
sink_file_flush(struct dpf_sink *s, struct sink_file *f)
{
	return file_code(s, f, CODEC_FLUSH, NULL, 0);
}

int
sink_file_finish(struct dpf_sink *s, struct sink_file *f)
{
	return file_code(s, f, CODEC_FINISH, NULL, 0);
}

void
sink_file_discard(struct dpf_sink *s, struct sink_file *f)
{
	s->stats.held_bytes -= sink_buf_discard(&f->buf);
}

void
sink_file_init(struct sink_file *f)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->dir_fd = -1;
}

void
sink_file_release(struct sink_file *f)
{
	sink_buf_free(&f->buf);
	sink_codec_release(&f->codec);
	sink_file_init(f);
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
	f->synced = false;
	f->state = FILE_FREE;
}

/*
 * Give a file up: what it holds cannot be trusted or cannot be kept. Its
 * temporary goes (nothing half-written stays behind), its lines are lost.
 */
void
sink_file_abandon(struct dpf_sink *s, struct sink_file *f)
{
	if (f->fd >= 0 && f->dir_fd >= 0)
		unlinkat(f->dir_fd, f->tmp_name, 0);
	sink_file_discard(s, f);
	s->stats.lines_lost += f->lines;
	s->stats.files_abandoned++;
	file_close_fds(f);
}

int
sink_file_start(struct dpf_sink *s, struct sink_file *f, uint64_t slot_start)
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
	f->codec.compress = s->compress;
	f->codec.level = s->level;
	rc = sink_codec_start(&f->codec);
	if (rc != 0)
		return rc;
	f->slot_start = slot_start;
	f->fd = -1;
	f->dir_fd = -1;
	f->synced = false;
	f->bytes_out = 0;
	f->lines = 0;
	f->marked_lines = 0;
	f->buf.len = 0;
	f->buf.off = 0;
	f->state = FILE_OPEN;
	rc = sink_file_append(s, f, s->header, s->header_len);
	if (rc != 0) {
		sink_file_discard(s, f);
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
			rc = sink_file_name(s, f->ts, f->slot_start, s->next_seq++, f->final_name,
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
int
sink_file_complete(struct dpf_sink *s, struct sink_file *f)
{
	bool published;
	int rc;

	if (!f->synced) {
		if (sink_file_output(s, f) != 0)
			return 0;
		/* The kernel may have dropped pages it could not write: start over is
		 * impossible, so the file is given up rather than published. */
		if (fsync(f->fd) != 0) {
			rc = -errno;
			s->stats.write_errors++;
			sink_file_abandon(s, f);
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
			sink_file_abandon(s, f);
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
int
sink_file_publish(struct dpf_sink *s, struct sink_file *f)
{
	int rc;

	if (f->state == FILE_OPEN) {
		rc = sink_file_finish(s, f);
		if (rc != 0) {
			s->stats.write_errors++;
			sink_file_abandon(s, f);
			return rc;
		}
		f->state = FILE_CLOSING;
	}
	if (s->blocked != 0)
		return 0;
	return sink_file_complete(s, f);
}

/*
 * Everything up to here is written: say so in the temporary's name. A rename
 * that fails leaves the older count, which recovery trusts just as well (it
 * then keeps fewer lines, never a cut window).
 */
void
sink_file_mark(struct dpf_sink *s, struct sink_file *f)
{
	char name[NAME_MAX + 1];

	if (f->fd < 0 || f->dir_fd < 0 || f->lines == f->marked_lines ||
	    sink_buf_pending(&f->buf) != 0 ||
	    sink_tmp_name(f->final_name, f->lines, name, sizeof(name)) != 0)
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
