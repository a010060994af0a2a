/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_FT_H
#define DPF_FT_H
#endif
