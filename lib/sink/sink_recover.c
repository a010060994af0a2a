/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dpf_sink_recover(): finish or clean what an earlier run left under
 * dir/AWSLogs (a SIGKILL, a crash, a power cut), keeping whole windows only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dpf_util.h"
#include "sink_file.h"
#include "sink_private.h"
#include "sink_recover.h"

/* AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>: deeper is not ours. */
#define SINK_RECOVER_DEPTH 8

/* One dpf_sink_recover() call: where the walk is, below dir/AWSLogs. */
struct recover_walk {
	struct dpf_sink *s;
	struct dpf_sink_recovery *r;
	char rel[PATH_MAX]; /* "" or "/<account>/...": the directory being read */
};

/*
 * A leftover finished under its final name is a published file like any
 * other: the sink's on_publish hears of it, so that what follows the files
 * (the S3 spool) takes it too, not only the files the new run writes.
 */
static void
recovered(const struct recover_walk *w, const char *final_name)
{
	char path[PATH_MAX];

	if (w->s->on_publish != NULL && snprintf(path, sizeof(path), "%s/AWSLogs%s/%s", w->s->dir,
						 w->rel, final_name) < (int)sizeof(path))
		w->s->on_publish(w->s->on_publish_arg, path);
}

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

/* One complete line, l[len] being its '\n'. */
static void
check_line(struct sink_lines *lc, const char *l, size_t len)
{
	unsigned int n;

	if (lc->stopped || lc->rc != 0)
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
	lc->rc = lc->keep_line(lc->arg, l, len + 1);
}

bool
sink_lines_feed(struct sink_lines *lc, const char *p, size_t len)
{
	while (len > 0 && !lc->stopped && lc->rc == 0) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - p) : len;

		if (lc->part_len + take >= SINK_RECOVER_LINE_MAX) {
			lc->stopped = true;
			break;
		}
		if (nl == NULL || lc->part_len > 0) {
			memcpy(lc->part + lc->part_len, p, take);
			lc->part_len += take;
		}
		if (nl == NULL)
			break;
		if (lc->part_len > 0) {
			lc->part[lc->part_len] = '\n';
			check_line(lc, lc->part, lc->part_len);
			lc->part_len = 0;
		} else {
			check_line(lc, p, take);
		}
		p += take + 1;
		len -= take + 1;
	}
	return !lc->stopped && lc->rc == 0;
}

bool
sink_leftover_name(const char *name, size_t suffix_len, char *stem, char *final, uint64_t *keep)
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
		if (dpf_parse_u64(stem + len - digits, UINT64_MAX, keep) != 0)
			return false;
		len -= digits + 1;
	}
	snprintf(final, NAME_MAX + 1, "%.*s", (int)len, stem);
	return true;
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

/* Recovery output: one file written straight through (no hold). */
struct recover_out {
	struct dpf_sink *s;
	struct sink_file f;
};

static int
keep_line(void *arg, const char *line, size_t len)
{
	struct recover_out *o = arg;
	int rc = sink_file_append(o->s, &o->f, line, len);

	if (rc == 0 && sink_buf_pending(&o->f.buf) >= SINK_BUF_SIZE)
		rc = sink_file_output(o->s, &o->f);
	return rc;
}

static int
feed_lines(void *arg, const char *data, size_t len)
{
	return sink_lines_feed(arg, data, len) ? 0 : 1;
}

/*
 * Decode the leftover src into the recovering file o->f: the lines lc keeps,
 * the stream finished, written and fsynced (when there is a line to keep).
 * @return 0, or the -errno that leaves the leftover for the next start
 */
static int
recover_copy(struct recover_out *o, struct sink_lines *lc, int src, enum dpf_compress c)
{
	int rc = sink_codec_start(&o->f.codec);

	if (rc == 0)
		rc = sink_codec_decode_fd(src, c, feed_lines, lc);
	if (rc == 0)
		rc = lc->rc;
	if (rc != 0 || lc->lines == 0)
		return rc;
	rc = sink_file_finish(o->s, &o->f);
	if (rc == 0)
		rc = sink_file_output(o->s, &o->f);
	if (rc == 0 && fsync(o->f.fd) != 0)
		rc = -errno;
	return rc;
}

/* What the copy of a leftover leads to: kept (true: published), removed, or
 * left for next time. */
static bool
recover_outcome(int dir_fd, const char *name, const char *rec_name, const char *final_name, int rc,
		const struct sink_lines *lc, struct dpf_sink_recovery *r)
{
	if (rc != 0) {
		/* Leave the leftover as it was; the next start tries again. */
		unlinkat(dir_fd, rec_name, 0);
		r->errors++;
	} else if (lc->lines == 0) {
		unlinkat(dir_fd, rec_name, 0);
		unlinkat(dir_fd, name, 0);
		r->files_removed++;
		r->lines_dropped += lc->dropped;
	} else if (unlinkat(dir_fd, name, 0) != 0 ||
		   publish_noreplace(dir_fd, rec_name, final_name) != 0) {
		r->errors++;
	} else {
		(void)fsync(dir_fd);
		r->files_finished++;
		r->lines_recovered += lc->lines;
		r->lines_dropped += lc->dropped;
		return true;
	}
	return false;
}

/*
 * .<final>.<lines>.tmp: write its good lines, the first <lines> of them, to
 * .<final>.<lines>.recovering.tmp, fsync, remove the leftover, rename to
 * <final>. A crash in between leaves either both (the recovering file is
 * redone) or only the recovering file (complete: renamed).
 */
static void
recover_one(const struct recover_walk *w, int dir_fd, const char *name)
{
	struct dpf_sink *s = w->s;
	struct dpf_sink_recovery *r = w->r;
	char final_name[NAME_MAX + 1];
	char stem[NAME_MAX + 1];
	char rec_name[NAME_MAX + 1];
	struct sink_lines lc = {0};
	struct recover_out o;
	struct stat st;
	enum dpf_compress c;
	int src, old;

	if (!sink_leftover_name(name, strlen(SINK_TMP_SUFFIX), stem, final_name, &lc.keep) ||
	    !sink_codec_of_name(final_name, &c) ||
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
	o.s = s;
	sink_file_init(&o.f);
	o.f.codec.compress = c;
	o.f.codec.level =
		c == DPF_COMPRESS_ZSTD ? DPF_SINK_ZSTD_LEVEL_DEFAULT : DPF_SINK_GZIP_LEVEL_DEFAULT;
	o.f.fd = openat(dir_fd, rec_name, SINK_TMP_FLAGS, SINK_FILE_MODE);
	lc.part = malloc(SINK_RECOVER_LINE_MAX + 1);
	lc.keep_line = keep_line;
	lc.arg = &o;
	if (o.f.fd < 0 || lc.part == NULL) {
		r->errors++;
	} else {
		(void)flock(o.f.fd, LOCK_EX | LOCK_NB);
		if (recover_outcome(dir_fd, name, rec_name, final_name,
				    recover_copy(&o, &lc, src, c), &lc, r))
			recovered(w, final_name);
		sink_file_discard(s, &o.f);
	}
	free(lc.part);
	if (o.f.fd >= 0)
		close(o.f.fd);
	o.f.fd = -1;
	sink_file_release(&o.f);
	close(src);
}

/* .<stem>.recovering.tmp without its leftover: complete, only the rename is left. */
static void
recover_finish_rename(const struct recover_walk *w, int dir_fd, const char *name)
{
	struct dpf_sink_recovery *r = w->r;
	size_t cut = strlen(SINK_RECOVERING_SUFFIX) + strlen(SINK_TMP_SUFFIX);
	char final_name[NAME_MAX + 1];
	char stem[NAME_MAX + 1];
	char leftover[NAME_MAX + 1];
	struct stat st;
	uint64_t keep;
	int fd;

	if (!sink_leftover_name(name, cut, stem, final_name, &keep) ||
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
		recovered(w, final_name);
	} else {
		r->errors++;
	}
	close(fd);
}

/*
 * The names in a directory, read before anything in it changes. On failure
 * *out and *count hold what was read (to free), or are left alone.
 */
static int
dir_names(int dir_fd, char ***out, size_t *count)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
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
	*out = names;
	*count = n;
	return rc;
}

static int
recover_dir(struct recover_walk *w, int dir_fd, unsigned int depth)
{
	size_t rel_len = strlen(w->rel);
	char **names = NULL;
	size_t n = 0, i;
	int rc = dir_names(dir_fd, &names, &n);

	for (i = 0; i < n && rc == 0; i++) {
		const char *name = names[i];
		struct stat st;

		if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth + 1 >= SINK_RECOVER_DEPTH ||
			    snprintf(w->rel + rel_len, sizeof(w->rel) - rel_len, "/%s", name) >=
				    (int)(sizeof(w->rel) - rel_len))
				continue;
			sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				rc = recover_dir(w, sub, depth + 1);
				close(sub);
			}
			w->rel[rel_len] = '\0';
		} else if (S_ISREG(st.st_mode) && name[0] == '.' &&
			   dpf_has_suffix(name, SINK_TMP_SUFFIX) &&
			   strlen(name) > 1 + strlen(SINK_TMP_SUFFIX)) {
			if (dpf_has_suffix(name, SINK_RECOVERING_SUFFIX SINK_TMP_SUFFIX))
				recover_finish_rename(w, dir_fd, name);
			else
				recover_one(w, dir_fd, name);
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
	struct recover_walk w = {.s = s, .r = r, .rel = ""};
	int fd;
	int rc;

	if (s == NULL || r == NULL || s->stream != NULL)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	fd = sink_open_dir_nofollow(s->root_fd, "AWSLogs");
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	rc = recover_dir(&w, fd, 1);
	close(fd);
	/* What recovery wrote went straight to disk: nothing is held. */
	s->stats.held_bytes = 0;
	s->stats.held_bytes_max = 0;
	return rc;
}
