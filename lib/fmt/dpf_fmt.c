/* SPDX-License-Identifier: BSD-3-Clause */
/* being written */
#include "dpf_fmt.h"
