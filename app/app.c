/* SPDX-License-Identifier: BSD-3-Clause */
/* The running program's state, outside main.c so tests can link the app. */
#include "dpflow.h"

struct dpf_app dpf_app;
