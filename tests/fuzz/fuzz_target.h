/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_FUZZ_TARGET_H
#define DPF_FUZZ_TARGET_H

/* What every fuzz target shares: the libFuzzer entry point, and a check that
 * aborts (libFuzzer and the replay runner both report an abort). */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define require(c)                                                                                 \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#endif /* DPF_FUZZ_TARGET_H */
