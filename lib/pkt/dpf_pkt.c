/* SPDX-License-Identifier: BSD-3-Clause */
/* being written */
#include "dpf_pkt.h"
