/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_DRV_PROGRAM_H
#define DPF_DRV_PROGRAM_H

/*
 * Driver profiles, part 3: programming a port as planned (drv_plan.h), the
 * part that talks to the device. The plan's eth_conf is what the caller
 * gives rte_eth_dev_configure; these steps follow it and write what the
 * device did into the plan (configured values, reasons). They print
 * nothing: the caller prints the notes (dpf_drivers_print_notes()).
 *
 * Threads: the main lcore, during start-up, with the port not polled yet.
 */

#include "drv_plan.h"

/**
 * After rte_eth_dev_configure: the descriptor counts the driver will use
 * (rte_eth_dev_adjust_nb_rx_tx_desc), with a reason where they changed.
 * @return 0, or the -errno of rte_eth_dev_adjust_nb_rx_tx_desc
 */
int dpf_drv_program_configured(struct dpf_drv_port *dp);

/**
 * After rte_eth_dev_start: the descriptors the queues report, promiscuous
 * mode, the round-robin RETA, the device's symmetric Toeplitz function
 * (rte_flow rules, else the symmetric key instead), and a remark when the
 * key in use is not symmetric. What the device refuses becomes a reason in
 * the plan, never an error.
 */
void dpf_drv_program_started(struct dpf_drv_port *dp);

#endif /* DPF_DRV_PROGRAM_H */
