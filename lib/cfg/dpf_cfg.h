/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_CFG_H
#define DPF_CFG_H
#endif
