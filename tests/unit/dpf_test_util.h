/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_TEST_UTIL_H
#define DPF_TEST_UTIL_H

/*
 * Helpers several unit test binaries share: a directory tree removed after
 * a test, and addresses from text.
 */

#include <arpa/inet.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static inline int
dpf_test_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Remove path and everything below it, links not followed. @return 0 or -1 */
static inline int
dpf_test_rmtree(const char *path)
{
	return nftw(path, dpf_test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* An IPv4 (dotted) or IPv6 address into 16 bytes, the rest zero; -1 when neither. */
static inline int
dpf_test_addr(const char *text, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (strchr(text, ':') != NULL)
		return inet_pton(AF_INET6, text, addr) == 1 ? 0 : -1;
	return inet_pton(AF_INET, text, addr) == 1 ? 0 : -1;
}

#endif /* DPF_TEST_UTIL_H */
