/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_RSS_H
#define DPF_RSS_H
#endif
