/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_WINDOW_H
#define DPF_WINDOW_H
#endif
