/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_errno.h>

#include "dpf_spool.h"
#include "dpf_util.h"

#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0640
#define SPOOL_SCAN_DEPTH 32
#define COPY_BUF (128 * 1024)

struct entry {
	char *name;
	uint64_t bytes;
	struct timespec mtime;
};

struct dpf_spool {
	int root_fd;
	uint64_t max_bytes;
	uint32_t max_files;
	struct entry *e; /* oldest first */
	uint32_t n;
	uint32_t cap;
	uint64_t bytes;
	char dir[]; /* dpf_spool_params.dir, copied */
};

bool
dpf_spool_name_valid(const char *name)
{
	const char *p;
	size_t comp = 0;

	if (name == NULL || name[0] == '\0' || strlen(name) >= PATH_MAX)
		return false;
	for (p = name;; p++) {
		if (*p == '/' || *p == '\0') {
			const char *start = p - comp;

			if (comp == 0 || start[0] == '.')
				return false;
			if (*p == '\0')
				return true;
			comp = 0;
			continue;
		}
		comp++;
	}
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
entry_push(struct dpf_spool *s, const char *name, uint64_t bytes, struct timespec mtime)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap != 0 ? s->cap * 2 : 64;
		struct entry *ne = realloc(s->e, cap * sizeof(*ne));

		if (ne == NULL)
			return -ENOMEM;
		s->e = ne;
		s->cap = cap;
	}
	s->e[s->n].name = strdup(name);
	if (s->e[s->n].name == NULL)
		return -ENOMEM;
	s->e[s->n].bytes = bytes;
	s->e[s->n].mtime = mtime;
	s->n++;
	s->bytes += bytes;
	return 0;
}

static bool
is_tmp(const char *base)
{
	size_t l = strlen(base);

	return base[0] == '.' && l > 4 && strcmp(base + l - 4, ".tmp") == 0;
}

/* Walk dir_fd (at relative path rel) for entries; remove stale temporaries. */
static int
scan(struct dpf_spool *s, int dir_fd, const char *rel, unsigned int depth)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (depth > SPOOL_SCAN_DEPTH)
		return -ELOOP;
	fd = dup(dir_fd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		int n;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -errno;
			break;
		}
		if (S_ISREG(st.st_mode) && is_tmp(de->d_name)) {
			/* A copy a crash interrupted: its source is still where it was. */
			unlinkat(dir_fd, de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.')
			continue;
		n = snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dir_fd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				rc = -errno;
				break;
			}
			rc = scan(s, sub, path, depth + 1);
			close(sub);
		} else if (S_ISREG(st.st_mode)) {
			rc = entry_push(s, path, (uint64_t)st.st_size, st.st_mtim);
		}
	}
	if (rc == 0 && errno != 0 && de == NULL)
		rc = -errno;
	closedir(d);
	return rc;
}

struct dpf_spool *
dpf_spool_open(const struct dpf_spool_params *p)
{
	struct dpf_spool *s;
	int rc;

	if (p == NULL || p->dir == NULL || p->dir[0] == '\0')
		return dpf_null_errno(EINVAL);
	s = calloc(1, sizeof(*s) + strlen(p->dir) + 1);
	if (s == NULL)
		return dpf_null_errno(ENOMEM);
	s->root_fd = -1;
	s->max_bytes = p->max_bytes;
	s->max_files = p->max_files;
	strcpy(s->dir, p->dir);
	rc = dpf_mkdir_p(s->dir, SPOOL_DIR_MODE);
	if (rc != 0)
		goto close_spool;
	s->root_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		rc = -errno;
		goto close_spool;
	}
	rc = scan(s, s->root_fd, "", 0);
	if (rc != 0)
		goto close_spool;
	if (s->n > 1)
		qsort(s->e, s->n, sizeof(s->e[0]), entry_cmp);
	return s;

close_spool:
	dpf_spool_close(s);
	return dpf_null_errno(-rc);
}

void
dpf_spool_close(struct dpf_spool *s)
{
	uint32_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->e[i].name);
	free(s->e);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
}

static int
entry_find(const struct dpf_spool *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * Open the parent directory of name, creating missing components (each new
 * one's parent fsynced, so the entry survives a crash with its directory).
 * *base points at the last component of name.
 */
static int
parent_open(struct dpf_spool *s, const char *name, const char **base)
{
	char buf[PATH_MAX];
	char *comp, *slash;
	int fd, rc;

	strcpy(buf, name);
	slash = strrchr(buf, '/');
	*base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
	fd = dup(s->root_fd);
	if (fd < 0)
		return -errno;
	if (slash == NULL)
		return fd;
	*slash = '\0';
	for (comp = buf; comp != NULL;) {
		char *next = strchr(comp, '/');
		bool created = false;
		int sub;

		if (next != NULL)
			*next++ = '\0';
		if (mkdirat(fd, comp, SPOOL_DIR_MODE) == 0)
			created = true;
		else if (errno != EEXIST)
			goto fail_errno;
		sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			goto fail_errno;
		if (created && fsync(fd) != 0) {
			rc = -errno;
			close(sub);
			close(fd);
			return rc;
		}
		close(fd);
		fd = sub;
		comp = next;
	}
	return fd;

fail_errno:
	rc = -errno;
	close(fd);
	return rc;
}

static int
copy_fd(int in, int out)
{
	char *buf = malloc(COPY_BUF);
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n = dpf_read(in, buf, COPY_BUF);

		if (n <= 0) {
			rc = (int)n;
			break;
		}
		rc = dpf_write_all(out, buf, (size_t)n, NULL);
		if (rc != 0)
			break;
	}
	free(buf);
	return rc;
}

/* Another file system: copy to a temporary, fsync, rename without replacing. */
static int
copy_in(int parent, const char *base, const char *src, const struct stat *st)
{
	char tmp[NAME_MAX + 1];
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	int in, out, rc;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(parent, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     SPOOL_FILE_MODE);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	rc = copy_fd(in, out);
	/* Keep the source's age so the entry keeps its place in the queue. */
	if (rc == 0 && futimens(out, times) != 0)
		rc = -errno;
	if (rc == 0 && fsync(out) != 0)
		rc = -errno;
	if (close(out) != 0 && rc == 0 && errno != EINTR)
		rc = -errno;
	close(in);
	if (rc == 0 && renameat2(parent, tmp, parent, base, RENAME_NOREPLACE) != 0)
		rc = -errno;
	if (rc != 0)
		unlinkat(parent, tmp, 0);
	return rc;
}

int
dpf_spool_add(struct dpf_spool *s, const char *src, const char *name)
{
	struct stat st;
	const char *base;
	int parent, rc;

	if (s == NULL || src == NULL || !dpf_spool_name_valid(name))
		return -EINVAL;
	if (entry_find(s, name) >= 0)
		return -EEXIST;
	if (stat(src, &st) != 0)
		return -errno;
	if ((s->max_files != 0 && s->n + 1 > s->max_files) ||
	    (s->max_bytes != 0 && s->bytes + (uint64_t)st.st_size > s->max_bytes))
		return -ENOSPC;
	parent = parent_open(s, name, &base);
	if (parent < 0)
		return parent;
	if (linkat(AT_FDCWD, src, parent, base, 0) == 0)
		rc = 0;
	else if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP)
		rc = copy_in(parent, base, src, &st);
	else
		rc = -errno;
	if (rc == 0 && fsync(parent) != 0) {
		rc = -errno;
		unlinkat(parent, base, 0);
	}
	close(parent);
	if (rc != 0)
		return rc;
	rc = entry_push(s, name, (uint64_t)st.st_size, st.st_mtim);
	if (rc != 0) {
		/* Not listed means never delivered: take it back out. */
		char path[PATH_MAX];

		if (dpf_spool_path(s, name, path, sizeof(path)) == 0)
			unlink(path);
	}
	return rc;
}

int
dpf_spool_oldest(const struct dpf_spool *s, const char **name)
{
	if (s == NULL || name == NULL)
		return -EINVAL;
	if (s->n == 0)
		return -ENOENT;
	*name = s->e[0].name;
	return 0;
}

int
dpf_spool_path(const struct dpf_spool *s, const char *name, char *out, size_t cap)
{
	int n;

	if (s == NULL || name == NULL || out == NULL)
		return -EINVAL;
	n = snprintf(out, cap, "%s/%s", s->dir, name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int
dpf_spool_remove(struct dpf_spool *s, const char *name)
{
	char buf[PATH_MAX];
	char *slash;
	int i;

	if (s == NULL || name == NULL)
		return -EINVAL;
	i = entry_find(s, name);
	if (i < 0)
		return -ENOENT;
	if (unlinkat(s->root_fd, name, 0) != 0 && errno != ENOENT)
		return -errno;
	/* Empty folders go too; one still in use refuses with ENOTEMPTY. */
	strcpy(buf, name);
	while ((slash = strrchr(buf, '/')) != NULL) {
		*slash = '\0';
		if (unlinkat(s->root_fd, buf, AT_REMOVEDIR) != 0)
			break;
	}
	s->bytes -= s->e[i].bytes;
	free(s->e[i].name);
	memmove(&s->e[i], &s->e[i + 1], (s->n - (uint32_t)i - 1) * sizeof(s->e[0]));
	s->n--;
	return 0;
}

uint32_t
dpf_spool_count(const struct dpf_spool *s)
{
	return s != NULL ? s->n : 0;
}

uint64_t
dpf_spool_bytes(const struct dpf_spool *s)
{
	return s != NULL ? s->bytes : 0;
}
