/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sink: lines to the file of their slot, the hold while the disk
 * refuses output, retries, rotation, stream mode and the counters. A file's
 * own life is sink_file.c, its bytes sink_buf.c and sink_codec.c, the
 * leftovers of earlier runs sink_recover.c (sink_private.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "dpf_sink.h"
#include "dpf_util.h"
#include "sink_file.h"
#include "sink_private.h"

/* Past this many times max_file_bytes a file is rotated before the next flush. */
#define SINK_HARD_ROTATE_FACTOR 4

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

/* Remember what blocks the output; the first failure since writable names it. */
void
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
	(void)sink_file_publish(s, oldest);
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
		rc = sink_file_start(s, f, slot_start);
		if (rc != 0)
			return line_lost(s, rc);
	}
	rc = sink_file_append(s, f, line, len);
	if (rc != 0) {
		/* A compressor that failed mid-line leaves the stream unusable. */
		s->stats.write_errors++;
		sink_file_abandon(s, f);
		return line_lost(s, rc);
	}
	f->lines++;
	s->stats.records++;
	s->stats.bytes += len;
	/* Size rotation waits for the window end (dpf_sink_flush), so that no
	 * window is split between a published file and a temporary that a kill
	 * could cut; only a window far too big for one file is split. */
	if (f->bytes_out >= SINK_HARD_ROTATE_FACTOR * s->max_file_bytes)
		return sink_file_publish(s, f);
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
		rc = sink_file_publish(s, f);
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
			rc = sink_file_publish(s, f);
			if (rc != 0 && first_rc == 0)
				first_rc = rc;
			continue;
		}
		rc = sink_file_flush(s, f);
		if (rc != 0) {
			s->stats.write_errors++;
			sink_file_abandon(s, f);
			if (first_rc == 0)
				first_rc = rc;
			continue;
		}
		/* A failure blocks the sink; the bytes stay for the retry. */
		if (s->blocked == 0 && sink_buf_pending(&f->buf) > 0)
			(void)sink_file_output(s, f);
		if (s->blocked == 0)
			sink_file_mark(s, f);
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
			(void)sink_file_output(s, f);
		else
			(void)sink_file_complete(s, f);
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
		sink_file_abandon(s, f);
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
	if (sink_codec_level(p->compress, level) != 0)
		return -EINVAL;
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
		sink_file_release(&s->files[i]);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
}

static int
sink_files_init(struct dpf_sink *s)
{
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
	int rc;

	/* Fail now, not at the first record, when the components cannot fit a name
	 * (the recovery temporary is the longest). */
	rc = sink_file_name(s, "20190827T1910Z", 0, 0, name, sizeof(name));
	if (rc == 0 && snprintf(tmp, sizeof(tmp), ".%s" SINK_RECOVERING_SUFFIX SINK_TMP_SUFFIX,
				name) >= (int)sizeof(tmp))
		rc = -ENAMETOOLONG;
	if (rc != 0)
		return rc;
	rc = dpf_mkdir_p(s->dir, SINK_DIR_MODE);
	if (rc != 0)
		return rc;
	s->root_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0)
		return -errno;
	return 0;
}

/*
 * What each mode needs before its first record: stream mode writes the
 * header now, so that a run without records still prints it; file mode
 * checks its names and opens its directory. @return 0 or -errno
 */
static int
sink_start(struct dpf_sink *s)
{
	if (s->stream == NULL)
		return sink_files_init(s);
	errno = 0;
	if (fwrite(s->header, 1, s->header_len, s->stream) != s->header_len)
		return -errno_or(EIO);
	s->stats.bytes = s->header_len;
	return 0;
}

struct dpf_sink *
dpf_sink_create(const struct dpf_sink_params *p)
{
	size_t size = sizeof(struct dpf_sink), files_off = 0, order_off = 0, strings;
	size_t header_len, account_len = 0, region_len = 0, log_id_len = 0, dir_len = 0;
	uint32_t max_open = 0, i;
	struct dpf_sink *s;
	char *tail;
	int level;
	int rc;

	rc = params_check(p, &level);
	if (rc != 0)
		return dpf_null_errno(-rc);
	/* One allocation: the sink, its files and their order, then its strings. */
	header_len = strlen(p->header);
	strings = header_len + 1;
	if (p->stream == NULL) {
		max_open = p->max_open_files != 0 ? p->max_open_files
						  : DPF_SINK_MAX_OPEN_FILES_DEFAULT;
		files_off = dpf_layout_place(&size, max_open * sizeof(struct sink_file));
		order_off = dpf_layout_place(&size, max_open * sizeof(struct sink_file *));
		account_len = strlen(p->account_id);
		region_len = strlen(p->region);
		log_id_len = strlen(p->flow_log_id);
		dir_len = strlen(p->dir);
		strings += account_len + 1 + region_len + 1 + log_id_len + 1 + dir_len + 1;
	}
	size = RTE_ALIGN_CEIL(size + strings, RTE_CACHE_LINE_SIZE);
	s = aligned_alloc(RTE_CACHE_LINE_SIZE, size);
	if (s == NULL)
		return dpf_null_errno(ENOMEM);
	memset(s, 0, size);
	tail = RTE_PTR_ADD(s, size - strings);
	s->header = dpf_layout_str(&tail, p->header, header_len);
	s->header_len = header_len;
	if (p->stream == NULL) {
		s->max_open = max_open;
		s->files = RTE_PTR_ADD(s, files_off);
		s->order = RTE_PTR_ADD(s, order_off);
		for (i = 0; i < max_open; i++)
			sink_file_init(&s->files[i]);
		s->account_id = dpf_layout_str(&tail, p->account_id, account_len);
		s->region = dpf_layout_str(&tail, p->region, region_len);
		s->flow_log_id = dpf_layout_str(&tail, p->flow_log_id, log_id_len);
		s->dir = dpf_layout_str(&tail, p->dir, dir_len);
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
	rc = sink_start(s);
	if (rc != 0) {
		sink_release(s);
		return dpf_null_errno(-rc);
	}
	return s;
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
