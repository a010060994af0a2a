/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_DRIVERS_H
#define DPF_DRIVERS_H

/*
 * Driver profiles (drivers-cfg/, doc/drivers-cfg.md): what dpflow asks of a
 * port, one INI file per PMD, and what each port actually got once the
 * device's reported capabilities were applied. The application's steps,
 * over one handle that owns every piece of driver state:
 *
 *   main():        dpf_drivers_create(), dpf_drivers_vdev_defaults() before
 *                  rte_eal_init, dpf_drivers_free() after rte_eal_cleanup
 *   ports init:    dpf_drivers_select() (profile directory, each port's
 *                  profile), then per port dpf_drivers_port_plan(),
 *                  rte_eth_dev_configure(eth_conf), dpf_drivers_port_configured(),
 *                  queue setup and start, dpf_drivers_port_started(),
 *                  dpf_drivers_print_notes()
 *   anyone after:  dpf_drivers_port(), dpf_drivers_port_has_quirk(),
 *                  dpf_drivers_show(), dpf_drivers_show_config()
 *
 * The parts: drv_profile.h (schema and loading), drv_plan.h (the pure
 * planner), drv_program.h (programming the device), drv_vdev.h (devargs
 * before EAL). This file prints the start-up lines; they do not.
 *
 * Threads: create, vdev_defaults, select, port_* steps, close and free run
 * on the main lcore at start-up or exit. Afterwards the handle is read-only
 * and any thread may call the query functions. Every query takes a NULL
 * handle (no profiles: no quirk, "not configured").
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include "drv_plan.h"
#include "drv_profile.h"

struct dpf_drivers;

/**
 * An empty handle: no profile directory read yet, no port.
 * @return the handle, or NULL with rte_errno = ENOMEM
 */
struct dpf_drivers *dpf_drivers_create(void);

/**
 * Free the handle: the profiles, the port records, and the argv copy of
 * dpf_drivers_vdev_defaults() (so after rte_eal_cleanup). NULL-safe.
 */
void dpf_drivers_free(struct dpf_drivers *d);

/**
 * Before rte_eal_init: open the profile directory, add the default_devargs
 * of each --vdev's driver profile to the --vdev arguments that lack those
 * keys (drv_vdev.h), and keep both the profiles read and what was done for
 * the ports' start-up, so dpf_drivers_select() reads no file again. Forgets
 * what an earlier call or dpf_drivers_select() read. A directory that does
 * not load adds nothing (dpf_drivers_select() names the problem).
 * @param dir       --drivers-cfg, or NULL (the usual search)
 * @param eal_argv  the arguments to give rte_eal_init (argv, or a copy
 *                  valid until dpf_drivers_free())
 * @return 0, or -ENOMEM
 */
int dpf_drivers_vdev_defaults(struct dpf_drivers *d, const char *dir, int argc, char **argv,
			      char ***eal_argv);

/**
 * Select each port's profile from the profile directory (the profiles
 * dpf_drivers_vdev_defaults() read when dir is the same, else read now);
 * print which file each port uses, the devargs added to its --vdev, and the
 * warning of rx-drops-unreported. Prints errors.
 * @param dir  --drivers-cfg, or NULL (the installed, then the source tree's)
 * @return 0 or -errno
 */
int dpf_drivers_select(struct dpf_drivers *d, const char *dir, const uint16_t *ports,
		       uint16_t n_ports);

/**
 * Plan a port from its selected profile (before rte_eth_dev_configure): the
 * request completed with the device's devargs and what dpflow added to its
 * --vdev, then dpf_drivers_plan().
 * @return the port's record, or NULL when no profile was selected for it
 */
struct dpf_drv_port *dpf_drivers_port_plan(struct dpf_drivers *d, uint16_t port,
					   const struct rte_eth_dev_info *info,
					   const struct dpf_drv_request *req);

/**
 * After rte_eth_dev_configure: the driver's final descriptor counts.
 * @return 0 or -errno (printed)
 */
int dpf_drivers_port_configured(struct dpf_drv_port *dp);

/**
 * After rte_eth_dev_start: descriptors in use, promiscuous mode, the RETA,
 * the symmetric hash function (rte_flow). Failures become notes, not errors.
 */
void dpf_drivers_port_started(struct dpf_drv_port *dp);

/** Print the notes not printed yet: "dpflow: port P (drv): key: requested X, configured Y (why)".
 */
void dpf_drivers_print_notes(FILE *f, struct dpf_drv_port *dp);

/** `key: requested -> configured (reason)` lines of a port record. */
void dpf_drivers_show_record(FILE *f, const struct dpf_drv_port *dp);

/** A port's record, or NULL before it was planned. */
const struct dpf_drv_port *dpf_drivers_port(const struct dpf_drivers *d, uint16_t port);

/** Whether the profile selected for a port lists a quirk. */
bool dpf_drivers_port_has_quirk(const struct dpf_drivers *d, uint16_t port, enum dpf_drv_quirk q);

/**
 * show port info: for a port, `driver:`, `profile:` and one
 * `key: requested -> configured` line per setting (a reason in parentheses
 * when they differ). Prints "port N: not configured" for an unknown port.
 */
void dpf_drivers_show(FILE *f, const struct dpf_drivers *d, uint16_t port);

/**
 * show config: the profile directory and, for each profile in use, every
 * key as `drivers-cfg.<profile>.<key>: <value> (<file:line>|built-in)`.
 * Prints "drivers-cfg: - (not opened)" before the directory was opened.
 */
void dpf_drivers_show_config(FILE *f, const struct dpf_drivers *d);

/**
 * Forget every profile and port record (at port close); what
 * dpf_drivers_vdev_defaults() made stays until dpf_drivers_free().
 * NULL-safe; the handle may be selected again.
 */
void dpf_drivers_close(struct dpf_drivers *d);

#endif /* DPF_DRIVERS_H */
