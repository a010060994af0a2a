/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_DRV_VDEV_H
#define DPF_DRV_VDEV_H

/*
 * Driver profiles before EAL: the default_devargs a profile adds to the
 * --vdev arguments of its driver (doc/drivers-cfg.md "Devargs a profile adds
 * to --vdev"). The devargs must be in argv when rte_eal_init probes the
 * vdev, so this runs first; what it did is kept for the port's start-up
 * lines and its plan (struct dpf_drv_request).
 *
 * Threads: main(), before rte_eal_init; afterwards read-only.
 */

#include <stddef.h>

#include "drv_profile.h"

/* What was done to one --vdev argument whose profile has default_devargs. */
struct dpf_drv_vdev_note {
	char name[DPF_DRV_NAME_LEN];	 /* "net_af_packet0" */
	char profile[DPF_DRV_PATH_LEN];	 /* the file the defaults came from */
	char added[DPF_DRV_DEVARGS_LEN]; /* "" when none */
	char given[DPF_DRV_DEVARGS_LEN]; /* default keys the --vdev set itself */
};

struct dpf_drv_vdevs;

/**
 * Add the default_devargs of each --vdev's driver profile to the --vdev
 * arguments that lack those keys (devargs given on the command line win).
 * A vdev's profile is dpf_drv_profiles_match_vdev()'s, read from ps (and
 * kept there for the ports' start-up). A profile that does not load adds
 * nothing: the port's start-up names the problem.
 * @param ps        the profile set; NULL (the directory did not load): nothing added
 * @param argc      arguments of main() (EAL's end at "--")
 * @param eal_argv  the arguments to give rte_eal_init: argv itself when
 *                  nothing was added, else a copy owned by *out
 * @param out       the notes and the copy (NULL when there is no --vdev);
 *                  free with dpf_drv_vdevs_free() after rte_eal_cleanup
 * @return 0, or -ENOMEM
 */
int dpf_drv_vdevs_apply(struct dpf_drv_profiles *ps, int argc, char **argv, char ***eal_argv,
			struct dpf_drv_vdevs **out);

/** The note of a device by its name (rte_eth_dev_get_name_by_port); NULL: none. */
const struct dpf_drv_vdev_note *dpf_drv_vdevs_find(const struct dpf_drv_vdevs *v,
						   const char *dev_name);

/** NULL-safe. */
void dpf_drv_vdevs_free(struct dpf_drv_vdevs *v);

/**
 * Split default_devargs ("framecnt=16384,blocksz=4096") against the devargs
 * a --vdev gave ("iface=eth0,blocksz=8192", or NULL): the items whose key it
 * lacks go to added ("framecnt=16384"), the keys it set itself to given
 * ("blocksz"). Pure.
 */
void dpf_drv_devargs_split(const char *defaults, const char *vdev_args, char *added,
			   size_t added_len, char *given, size_t given_len);

#endif /* DPF_DRV_VDEV_H */
