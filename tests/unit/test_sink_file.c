/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/sink's file life on its own (sink_file.h): names, directories that
 * are never followed through a link, the temporary renamed at window ends,
 * and the publish. The sink's public behaviour is in test_sink.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpf_test_util.h"
#include "sink_file.h"

#define HEADER "version account-id interface-id action\n"
/* 2019-08-27 19:10:00 UTC. */
#define SLOT_1910 1566933000ULL

struct tdir {
	char root[64];
};

static int
setup_dir(void **state)
{
	struct tdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	strcpy(t->root, "/tmp/test_sink_file.XXXXXX");
	if (mkdtemp(t->root) == NULL)
		return -1;
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

static struct dpf_sink *
files_sink(const char *dir, uint64_t nonce)
{
	struct dpf_sink_params p;
	struct dpf_sink *s;

	memset(&p, 0, sizeof(p));
	p.dir = dir;
	p.header = HEADER;
	p.compress = DPF_COMPRESS_ZSTD;
	p.account_id = "123456789012";
	p.region = "us-east-1";
	p.flow_log_id = "fl-0123456789abcdef0";
	p.nonce = nonce;
	s = dpf_sink_create(&p);
	assert_non_null(s);
	return s;
}

static void
test_sink_file_name_follows_the_aws_layout_and_depends_on_each_input(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink *a = files_sink(t->root, 1);
	struct dpf_sink *b = files_sink(t->root, 2);
	char n1[NAME_MAX + 1], n2[NAME_MAX + 1], n3[NAME_MAX + 1], n4[NAME_MAX + 1];
	char n5[NAME_MAX + 1], small[40];
	regex_t re;

	/* formats.md, "Files": <account>_vpcflowlogs_<region>_<flow-log-id>_<ts>_<hash>.log.zst */
	assert_int_equal(regcomp(&re,
				 "^123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_"
				 "20190827T1910Z_[0-9a-f]{8}\\.log\\.zst$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(sink_file_name(a, "20190827T1910Z", SLOT_1910, 0, n1, sizeof(n1)), 0);
	assert_int_equal(regexec(&re, n1, 0, NULL, 0), 0);
	regfree(&re);
	/* The same inputs give the same name; each input changes the hash. */
	assert_int_equal(sink_file_name(a, "20190827T1910Z", SLOT_1910, 0, n2, sizeof(n2)), 0);
	assert_string_equal(n1, n2);
	assert_int_equal(sink_file_name(a, "20190827T1910Z", SLOT_1910, 1, n3, sizeof(n3)), 0);
	assert_string_not_equal(n1, n3);
	assert_int_equal(sink_file_name(a, "20190827T1910Z", SLOT_1910 + 300, 0, n4, sizeof(n4)),
			 0);
	assert_string_not_equal(n1 + strlen(n1) - 16, n4 + strlen(n4) - 16);
	assert_int_equal(sink_file_name(b, "20190827T1910Z", SLOT_1910, 0, n5, sizeof(n5)), 0);
	assert_string_not_equal(n1, n5);
	assert_int_equal(sink_file_name(a, "20190827T1910Z", SLOT_1910, 0, small, sizeof(small)),
			 -ENAMETOOLONG);
	dpf_sink_free(a);
	dpf_sink_free(b);
}

static void
test_sink_open_dir_nofollow_names_links_files_and_missing_entries(void **state)
{
	struct tdir *t = *state;
	char path[PATH_MAX];
	int root, fd;

	snprintf(path, sizeof(path), "%s/dir", t->root);
	assert_int_equal(mkdir(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/link", t->root);
	assert_int_equal(symlink("dir", path), 0);
	snprintf(path, sizeof(path), "%s/file", t->root);
	fd = open(path, O_CREAT | O_WRONLY, 0640);
	assert_true(fd >= 0);
	close(fd);
	root = open(t->root, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);

	fd = sink_open_dir_nofollow(root, "dir");
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sink_open_dir_nofollow(root, "link"), -ELOOP);
	assert_int_equal(sink_open_dir_nofollow(root, "file"), -ENOTDIR);
	assert_int_equal(sink_open_dir_nofollow(root, "none"), -ENOENT);
	close(root);
}

static bool
exists_in(const char *dir, const char *name)
{
	char path[PATH_MAX * 2 + NAME_MAX + 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void
test_sink_file_temporary_carries_the_line_count_until_publish(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink *s = files_sink(t->root, 3);
	struct sink_file f;
	char dir[PATH_MAX * 2], want[NAME_MAX + 1], final[NAME_MAX + 1];
	static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
	unsigned char magic[4];
	FILE *pf;
	int i;

	sink_file_init(&f);
	assert_int_equal(sink_file_start(s, &f, SLOT_1910), 0);
	assert_int_equal(f.state, FILE_OPEN);
	snprintf(dir, sizeof(dir), "%s/%s", t->root, f.rel_dir);
	assert_string_equal(f.rel_dir, "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/08/27");
	/* Created at once (the sink is writable), with no line yet. */
	assert_int_equal(sink_tmp_name(f.final_name, 0, want, sizeof(want)), 0);
	assert_string_equal(f.tmp_name, want);
	assert_true(exists_in(dir, f.tmp_name));
	for (i = 0; i < 3; i++) {
		assert_int_equal(sink_file_append(s, &f, "2 1 a ACCEPT\n", 13), 0);
		f.lines++;
	}
	/* Flushed but not yet written: the name keeps its count. */
	assert_int_equal(sink_file_flush(s, &f), 0);
	assert_true(sink_buf_pending(&f.buf) > 0);
	sink_file_mark(s, &f);
	assert_string_equal(f.tmp_name, want);
	assert_int_equal(sink_file_output(s, &f), 0);
	sink_file_mark(s, &f);
	assert_int_equal(sink_tmp_name(f.final_name, 3, want, sizeof(want)), 0);
	assert_string_equal(f.tmp_name, want);
	assert_true(exists_in(dir, want));
	assert_int_equal(f.marked_lines, 3);

	snprintf(final, sizeof(final), "%s", f.final_name);
	assert_int_equal(sink_file_publish(s, &f), 0);
	assert_int_equal(f.state, FILE_FREE);
	assert_false(exists_in(dir, want));
	assert_true(exists_in(dir, final));
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s", final);
	assert_string_equal(dpf_sink_last_path(s), dir);
	pf = fopen(dir, "rb");
	assert_non_null(pf);
	assert_int_equal(fread(magic, 1, sizeof(magic), pf), sizeof(magic));
	assert_memory_equal(magic, zstd_magic, sizeof(magic));
	fclose(pf);
	sink_file_release(&f);
	dpf_sink_free(s);
}

static void
test_sink_file_abandon_removes_the_temporary_and_counts_its_lines(void **state)
{
	struct tdir *t = *state;
	struct dpf_sink *s = files_sink(t->root, 4);
	struct dpf_sink_stats st;
	struct sink_file f;
	char dir[PATH_MAX * 2], tmp[NAME_MAX + 1];

	sink_file_init(&f);
	assert_int_equal(sink_file_start(s, &f, SLOT_1910), 0);
	assert_int_equal(sink_file_append(s, &f, "2 1 a ACCEPT\n", 13), 0);
	f.lines++;
	snprintf(dir, sizeof(dir), "%s/%s", t->root, f.rel_dir);
	snprintf(tmp, sizeof(tmp), "%s", f.tmp_name);
	assert_true(exists_in(dir, tmp));
	sink_file_abandon(s, &f);
	assert_int_equal(f.state, FILE_FREE);
	assert_false(exists_in(dir, tmp));
	dpf_sink_get_stats(s, &st);
	assert_int_equal(st.lines_lost, 1);
	assert_int_equal(st.files_abandoned, 1);
	assert_int_equal(st.held_bytes, 0);
	sink_file_release(&f);
	dpf_sink_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_sink_file_name_follows_the_aws_layout_and_depends_on_each_input,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_sink_open_dir_nofollow_names_links_files_and_missing_entries,
			setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_sink_file_temporary_carries_the_line_count_until_publish, setup_dir,
			teardown_dir),
		cmocka_unit_test_setup_teardown(
			test_sink_file_abandon_removes_the_temporary_and_counts_its_lines,
			setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
