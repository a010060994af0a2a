/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "dpf_spool.h"
#include "dpf_test_util.h"

#define NAME_A "AWSLogs/1/vpcflowlogs/r/2024/01/02/a_20240102T0300Z_00000001.log.zst"
#define NAME_B "AWSLogs/1/vpcflowlogs/r/2024/01/02/b_20240102T0305Z_00000002.log.zst"
#define NAME_C "AWSLogs/1/vpcflowlogs/r/2024/01/03/c_20240103T0000Z_00000003.log.zst"

struct tdir {
	char root[64];
	char spool[96];
	char src[96];
};

static int
setup_dir(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->root, "/tmp/test_spool.XXXXXX");
	if (mkdtemp(t->root) == NULL) {
		free(t);
		return -1;
	}
	snprintf(t->spool, sizeof(t->spool), "%s/spool", t->root);
	snprintf(t->src, sizeof(t->src), "%s/src", t->root);
	mkdir(t->src, 0700);
	*state = t;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct tdir *t = *state;

	dpf_test_rmtree(t->root);
	free(t);
	return 0;
}

/* A source file of `size` bytes with mtime `sec`; returns its path in buf. */
static const char *
make_src(const char *dir, const char *base, size_t size, time_t sec, char *buf, size_t cap)
{
	struct timespec ts[2] = {{sec, 0}, {sec, 0}};
	FILE *f;
	size_t i;

	snprintf(buf, cap, "%s/%s", dir, base);
	f = fopen(buf, "w");
	assert_non_null(f);
	for (i = 0; i < size; i++)
		fputc('a' + (int)(i % 26), f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(utimensat(AT_FDCWD, buf, ts, 0), 0);
	return buf;
}

static struct dpf_spool *
open_spool(const struct tdir *t, uint64_t max_bytes, uint32_t max_files)
{
	struct dpf_spool_params p = {
		.dir = t->spool, .max_bytes = max_bytes, .max_files = max_files};
	struct dpf_spool *s = dpf_spool_open(&p);

	assert_non_null(s);
	return s;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void
test_spool_name_rules(void **state)
{
	(void)state;
	assert_true(dpf_spool_name_valid("a"));
	assert_true(dpf_spool_name_valid(NAME_A));
	assert_true(dpf_spool_name_valid("p/year=2024/x.log"));
	assert_false(dpf_spool_name_valid(NULL));
	assert_false(dpf_spool_name_valid(""));
	assert_false(dpf_spool_name_valid("/abs"));
	assert_false(dpf_spool_name_valid("a//b"));
	assert_false(dpf_spool_name_valid("a/"));
	assert_false(dpf_spool_name_valid("a/../b"));
	assert_false(dpf_spool_name_valid("./a"));
	assert_false(dpf_spool_name_valid("a/.hidden"));
}

static void
test_spool_add_links_and_remove_prunes_empty_folders(void **state)
{
	struct tdir *t = *state;
	struct dpf_spool *s = open_spool(t, 0, 0);
	char src[256], path[PATH_MAX], dir[PATH_MAX];
	const char *name;
	struct stat a, b;

	make_src(t->src, "f1", 100, 1000, src, sizeof(src));
	assert_int_equal(dpf_spool_count(s), 0);
	assert_int_equal(dpf_spool_oldest(s, &name), -ENOENT);
	assert_int_equal(dpf_spool_add(s, src, NAME_A), 0);
	assert_int_equal(dpf_spool_count(s), 1);
	assert_int_equal(dpf_spool_bytes(s), 100);
	assert_int_equal(dpf_spool_oldest(s, &name), 0);
	assert_string_equal(name, NAME_A);
	assert_int_equal(dpf_spool_path(s, NAME_A, path, sizeof(path)), 0);
	/* Same file system: a hard link, no copy. */
	assert_int_equal(stat(src, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(dpf_spool_add(s, src, NAME_A), -EEXIST);
	assert_int_equal(dpf_spool_add(s, src, "../escape"), -EINVAL);

	assert_int_equal(dpf_spool_remove(s, NAME_A), 0);
	assert_int_equal(dpf_spool_remove(s, NAME_A), -ENOENT);
	assert_false(exists(path));
	assert_true(exists(src));
	snprintf(dir, sizeof(dir), "%s/AWSLogs", t->spool);
	assert_false(exists(dir));
	assert_true(exists(t->spool));
	assert_int_equal(dpf_spool_count(s), 0);
	assert_int_equal(dpf_spool_bytes(s), 0);
	dpf_spool_close(s);
}

static void
test_spool_bounds_refuse_with_enospc_and_leave_source(void **state)
{
	struct tdir *t = *state;
	struct dpf_spool *s = open_spool(t, 250, 2);
	char s1[256], s2[256], s3[256], path[PATH_MAX];

	make_src(t->src, "f1", 100, 1000, s1, sizeof(s1));
	make_src(t->src, "f2", 200, 1001, s2, sizeof(s2));
	make_src(t->src, "f3", 10, 1002, s3, sizeof(s3));
	assert_int_equal(dpf_spool_add(s, s1, NAME_A), 0);
	/* 100 + 200 > 250 bytes */
	assert_int_equal(dpf_spool_add(s, s2, NAME_B), -ENOSPC);
	assert_int_equal(dpf_spool_path(s, NAME_B, path, sizeof(path)), 0);
	assert_false(exists(path));
	assert_true(exists(s2));
	assert_int_equal(dpf_spool_add(s, s3, NAME_B), 0);
	/* a third file is over max_files */
	assert_int_equal(dpf_spool_add(s, s3, NAME_C), -ENOSPC);
	assert_int_equal(dpf_spool_count(s), 2);
	assert_int_equal(dpf_spool_bytes(s), 110);
	assert_int_equal(dpf_spool_remove(s, NAME_A), 0);
	assert_int_equal(dpf_spool_add(s, s3, NAME_C), 0);
	dpf_spool_close(s);
}

static void
test_spool_reopen_finds_entries_oldest_first_and_drops_temporaries(void **state)
{
	struct tdir *t = *state;
	struct dpf_spool *s = open_spool(t, 0, 0);
	char s1[256], s2[256], s3[256], tmp[PATH_MAX];
	const char *name;
	FILE *f;

	/* Added out of age order: C is the oldest file, then A, then B. */
	make_src(t->src, "f1", 10, 2000, s1, sizeof(s1));
	make_src(t->src, "f2", 20, 3000, s2, sizeof(s2));
	make_src(t->src, "f3", 30, 1000, s3, sizeof(s3));
	assert_int_equal(dpf_spool_add(s, s1, NAME_A), 0);
	assert_int_equal(dpf_spool_add(s, s2, NAME_B), 0);
	assert_int_equal(dpf_spool_add(s, s3, NAME_C), 0);
	dpf_spool_close(s);
	/* What a crash in the middle of a copy leaves. */
	snprintf(tmp, sizeof(tmp), "%s/AWSLogs/.x.log.tmp", t->spool);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fclose(f);

	s = open_spool(t, 0, 0);
	assert_int_equal(dpf_spool_count(s), 3);
	assert_int_equal(dpf_spool_bytes(s), 60);
	assert_false(exists(tmp));
	assert_int_equal(dpf_spool_oldest(s, &name), 0);
	assert_string_equal(name, NAME_C);
	assert_int_equal(dpf_spool_remove(s, NAME_C), 0);
	assert_int_equal(dpf_spool_oldest(s, &name), 0);
	assert_string_equal(name, NAME_A);
	assert_int_equal(dpf_spool_remove(s, NAME_A), 0);
	assert_int_equal(dpf_spool_oldest(s, &name), 0);
	assert_string_equal(name, NAME_B);
	dpf_spool_close(s);
}

static void
test_spool_other_file_system_copies_and_keeps_age(void **state)
{
	struct tdir *t = *state;
	struct dpf_spool *s;
	char shm[64], src[256], path[PATH_MAX];
	struct stat a, b, root;
	FILE *f;
	char buf[64];
	size_t n;

	strcpy(shm, "/dev/shm/test_spool.XXXXXX");
	if (mkdtemp(shm) == NULL)
		skip();
	if (stat(shm, &a) != 0 || stat(t->root, &root) != 0 || a.st_dev == root.st_dev) {
		rmdir(shm);
		skip(); /* no second file system here */
	}
	s = open_spool(t, 0, 0);
	make_src(shm, "f1", 26, 4242, src, sizeof(src));
	assert_int_equal(dpf_spool_add(s, src, NAME_A), 0);
	assert_int_equal(dpf_spool_path(s, NAME_A, path, sizeof(path)), 0);
	assert_int_equal(stat(src, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_true(a.st_dev != b.st_dev);
	assert_int_equal(b.st_mtim.tv_sec, 4242);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, 26);
	assert_memory_equal(buf, "abcdefghijklmnopqrstuvwxyz", 26);
	dpf_spool_close(s);
	unlink(src);
	rmdir(shm);
}

static void
test_spool_open_rejects_missing_dir_param(void **state)
{
	struct dpf_spool_params p = {.dir = ""};

	(void)state;
	assert_null(dpf_spool_open(NULL));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(dpf_spool_open(&p));
	assert_int_equal(rte_errno, EINVAL);
	dpf_spool_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_name_rules),
		cmocka_unit_test_setup_teardown(
			test_spool_add_links_and_remove_prunes_empty_folders, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_spool_bounds_refuse_with_enospc_and_leave_source, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_spool_reopen_finds_entries_oldest_first_and_drops_temporaries,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_spool_other_file_system_copies_and_keeps_age,
						setup_dir, teardown_dir),
		cmocka_unit_test(test_spool_open_rejects_missing_dir_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
