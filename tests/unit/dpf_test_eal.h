/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_TEST_EAL_H
#define DPF_TEST_EAL_H

/*
 * One EAL per test binary, without hugepages, PCI or shared config, so test
 * binaries run in parallel. Returns 0, or -1 when EAL cannot start here.
 */

#include <stdio.h>

#include <rte_eal.h>
#include <rte_log.h>

static inline int
dpf_test_eal_init(const char *prog)
{
	char *argv[] = {
		(char *)prog, (char *)"--no-huge", (char *)"-m", (char *)"256",
		(char *)"--no-pci", (char *)"--no-shconf", (char *)"--log-level=lib.eal:error",
		(char *)"-l", (char *)"0", NULL,
	};

	if (rte_eal_init(9, argv) < 0) {
		fprintf(stderr, "%s: EAL init failed\n", prog);
		return -1;
	}
	return 0;
}

#endif /* DPF_TEST_EAL_H */
