/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver profiles: the application's handle (drivers.h). It owns the
 * profile set, each port's selected profile and plan, and the --vdev notes,
 * gathers from EAL what the pure planner needs, and prints the start-up
 * lines and show output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "dpf_util.h"
#include "drivers.h"
#include "drv_program.h"
#include "drv_vdev.h"

struct dpf_drivers {
	/* The profile set: opened by dpf_drivers_vdev_defaults() before EAL and
	 * kept, so dpf_drivers_select() reads no file a second time; NULL when
	 * not opened yet or the directory did not load. */
	struct dpf_drv_profiles *profiles;
	bool profiles_dir_given;	     /* opened for a --drivers-cfg ... */
	char profiles_dir[DPF_DRV_PATH_LEN]; /* ... this one */
	/* By port id: what dpf_drivers_select() and dpf_drivers_configure()
	 * settled; forgotten together (a new selection, a close). */
	struct {
		const struct dpf_drv_profile *profile;
		struct dpf_drv_port plan;
	} port[RTE_MAX_ETHPORTS];
	struct dpf_drv_vdevs *vdevs; /* NULL: no --vdev */
};

struct dpf_drivers *
dpf_drivers_create(void)
{
	struct dpf_drivers *d = calloc(1, sizeof(*d));

	return d != NULL ? d : dpf_null_errno(ENOMEM);
}

void
dpf_drivers_close(struct dpf_drivers *d)
{
	if (d == NULL)
		return;
	dpf_drv_profiles_free(d->profiles);
	d->profiles = NULL;
	memset(d->port, 0, sizeof(d->port));
}

/* Open the profile set for dir, or keep the one open for the same dir.
 * @return 0, or -rte_errno with err set */
static int
profiles_open(struct dpf_drivers *d, const char *dir, char *err, size_t err_len)
{
	bool given = dir != NULL;

	if (d->profiles != NULL && given == d->profiles_dir_given &&
	    (!given || strcmp(dir, d->profiles_dir) == 0))
		return 0;
	dpf_drv_profiles_free(d->profiles);
	d->profiles = dpf_drv_profiles_open(dir, err, err_len);
	if (d->profiles == NULL)
		return -rte_errno;
	/* A name too long to keep is cut, so never matches: opened afresh. */
	d->profiles_dir_given = given;
	snprintf(d->profiles_dir, sizeof(d->profiles_dir), "%s", given ? dir : "");
	return 0;
}

void
dpf_drivers_free(struct dpf_drivers *d)
{
	if (d == NULL)
		return;
	dpf_drivers_close(d);
	dpf_drv_vdevs_free(d->vdevs);
	free(d);
}

int
dpf_drivers_vdev_defaults(struct dpf_drivers *d, const char *dir, int argc, char **argv,
			  char ***eal_argv)
{
	char err[512];

	dpf_drivers_close(d); /* a new run: every file read afresh, once */
	dpf_drv_vdevs_free(d->vdevs);
	d->vdevs = NULL;
	/* A directory that does not load adds nothing: dpf_drivers_select()
	 * tries again and names the problem. */
	profiles_open(d, dir, err, sizeof(err));
	return dpf_drv_vdevs_apply(d->profiles, argc, argv, eal_argv, &d->vdevs);
}

static const struct dpf_drv_vdev_note *
vdev_note_of(const struct dpf_drivers *d, uint16_t port)
{
	char name[RTE_ETH_NAME_MAX_LEN];

	if (d->vdevs == NULL || rte_eth_dev_get_name_by_port(port, name) != 0)
		return NULL;
	return dpf_drv_vdevs_find(d->vdevs, name);
}

/* The devargs dpf_drivers_vdev_defaults() added to the port's --vdev. */
static void
print_vdev_note(const struct dpf_drivers *d, uint16_t port, const char *driver)
{
	const struct dpf_drv_vdev_note *n = vdev_note_of(d, port);

	if (n == NULL)
		return;
	if (n->added[0] != '\0')
		fprintf(stderr,
			"dpflow: port %u (%s): devargs: added %s (default_devargs of %s)%s%s%s\n",
			port, driver, n->added, n->profile, n->given[0] ? "; --vdev gave " : "",
			n->given, n->given[0] ? " itself" : "");
	else
		fprintf(stderr,
			"dpflow: port %u (%s): devargs: none added (--vdev gave %s itself)\n", port,
			driver, n->given);
}

/* The start-up lines of a port's profile. */
static void
print_selected(const struct dpf_drivers *d, uint16_t port, const char *driver,
	       const struct dpf_drv_profile *p)
{
	const char *dir = dpf_drv_profiles_loaded(d->profiles)->dir;

	if (p->own_file)
		fprintf(stderr, "dpflow: port %u (%s): driver profile %s\n", port, driver, p->path);
	else
		fprintf(stderr, "dpflow: port %u (%s): driver profile %s (no %s%s%s.ini)\n", port,
			driver, p->path[0] ? p->path : "built-in defaults", dir, dir[0] ? "/" : "",
			p->name);
	print_vdev_note(d, port, driver);
	if (p->s.quirks & (1ull << DPF_DRV_QUIRK_RX_DROPS_UNREPORTED))
		fprintf(stderr, "dpflow: port %u (%s): warning: rx-drops-unreported: %s\n", port,
			driver, dpf_drivers_quirk_help(DPF_DRV_QUIRK_RX_DROPS_UNREPORTED));
}

int
dpf_drivers_select(struct dpf_drivers *d, const char *dir, const uint16_t *ports, uint16_t n_ports)
{
	char err[512];
	uint16_t i;
	int rc;

	memset(d->port, 0, sizeof(d->port));
	rc = profiles_open(d, dir, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "dpflow: %s\n", err);
		return rc;
	}
	for (i = 0; i < n_ports; i++) {
		struct rte_eth_dev_info info;
		const struct dpf_drv_profile *p;

		rc = rte_eth_dev_info_get(ports[i], &info);
		if (rc != 0) {
			fprintf(stderr, "dpflow: port %u: cannot get device info: %s\n", ports[i],
				rte_strerror(-rc));
			return rc;
		}
		p = dpf_drv_profiles_get(d->profiles, info.driver_name, err, sizeof(err));
		if (p == NULL) {
			fprintf(stderr, "dpflow: port %u (%s): driver profile: %s\n", ports[i],
				info.driver_name, err);
			return -EINVAL;
		}
		if (ports[i] < RTE_MAX_ETHPORTS)
			d->port[ports[i]].profile = p;
		print_selected(d, ports[i], info.driver_name, p);
	}
	return 0;
}

struct dpf_drv_port *
dpf_drivers_port_plan(struct dpf_drivers *d, uint16_t port, const struct rte_eth_dev_info *info,
		      const struct dpf_drv_request *req)
{
	const struct rte_devargs *da = info->device != NULL ? rte_dev_devargs(info->device) : NULL;
	const struct dpf_drv_vdev_note *note;
	struct dpf_drv_request full = *req;
	struct dpf_drv_port *dp;

	if (port >= RTE_MAX_ETHPORTS || d->port[port].profile == NULL)
		return NULL;
	note = vdev_note_of(d, port);
	full.devargs = da != NULL ? da->args : NULL;
	full.devargs_added = note != NULL ? note->added : NULL;
	full.devargs_given = note != NULL ? note->given : NULL;
	dp = &d->port[port].plan;
	dp->port = port;
	dpf_drivers_plan(dp, d->port[port].profile, info, &full);
	return dp;
}

int
dpf_drivers_port_configured(struct dpf_drv_port *dp)
{
	int rc = dpf_drv_program_configured(dp);

	if (rc != 0)
		fprintf(stderr, "dpflow: port %u (%s): descriptors: %s\n", dp->port, dp->driver,
			rte_strerror(-rc));
	return rc;
}

void
dpf_drivers_port_started(struct dpf_drv_port *dp)
{
	dpf_drv_program_started(dp);
}

void
dpf_drivers_print_notes(FILE *f, struct dpf_drv_port *dp)
{
	char want[DPF_DRV_REASON_LEN], got[DPF_DRV_REASON_LEN];
	int k;

	if (dp->rx_queues_reason[0] != '\0' && !dp->rx_queues_logged) {
		fprintf(f, "dpflow: port %u (%s): rx_queues: requested %u, configured %u (%s)\n",
			dp->port, dp->driver, dp->rx_queues_requested, dp->rx_queues,
			dp->rx_queues_reason);
		dp->rx_queues_logged = true;
	}
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		if (dp->reason[k][0] == '\0' || dp->quiet[k] || dp->logged[k])
			continue;
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->requested, want, sizeof(want));
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->configured, got, sizeof(got));
		fprintf(f, "dpflow: port %u (%s): %s: requested %s, configured %s (%s)\n", dp->port,
			dp->driver, dpf_drivers_key_name(k), want, got, dp->reason[k]);
		dp->logged[k] = true;
	}
}

const struct dpf_drv_port *
dpf_drivers_port(const struct dpf_drivers *d, uint16_t port)
{
	if (d == NULL || port >= RTE_MAX_ETHPORTS || !d->port[port].plan.planned)
		return NULL;
	return &d->port[port].plan;
}

bool
dpf_drivers_port_has_quirk(const struct dpf_drivers *d, uint16_t port, enum dpf_drv_quirk q)
{
	if (d == NULL || port >= RTE_MAX_ETHPORTS || d->port[port].profile == NULL ||
	    (unsigned int)q >= DPF_DRV_N_QUIRKS)
		return false;
	return (d->port[port].profile->s.quirks & (1ull << q)) != 0;
}

void
dpf_drivers_show_record(FILE *f, const struct dpf_drv_port *dp)
{
	char want[DPF_DRV_REASON_LEN], got[DPF_DRV_REASON_LEN];
	int k;

	fprintf(f, "driver: %s\n", dp->driver);
	if (dp->profile == NULL)
		fprintf(f, "profile: -\n");
	else if (dp->profile->own_file)
		fprintf(f, "profile: %s\n", dp->profile->path);
	else
		fprintf(f, "profile: %s (no %s.ini)\n",
			dp->profile->path[0] ? dp->profile->path : "built-in defaults",
			dp->profile->name);
	fprintf(f, "rx_queues: %u -> %u%s%s%s\n", dp->rx_queues_requested, dp->rx_queues,
		dp->rx_queues_reason[0] ? " (" : "", dp->rx_queues_reason,
		dp->rx_queues_reason[0] ? ")" : "");
	for (k = 0; k < DPF_DRV_N_KEYS; k++) {
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->requested, want, sizeof(want));
		dpf_drivers_key_format((enum dpf_drv_key)k, &dp->configured, got, sizeof(got));
		fprintf(f, "%s: %s -> %s%s%s%s\n", dpf_drivers_key_name(k), want, got,
			dp->reason[k][0] ? " (" : "", dp->reason[k], dp->reason[k][0] ? ")" : "");
	}
	dpf_drivers_format_rss_hash(dp->rss_hash_capa, want, sizeof(want));
	fprintf(f, "device rss_hash: %s (0x%" PRIx64 ")\n", want, dp->rss_hash_capa);
	dpf_drivers_format_rx_offloads(dp->rx_offload_capa, want, sizeof(want));
	fprintf(f, "device rx_offloads: %s (0x%" PRIx64 ")\n", want, dp->rx_offload_capa);
	fprintf(f, "reta entries programmed: %u\n", dp->reta_size);
	fprintf(f, "mbuf data room: %u\n", dp->mbuf_data_room);
}

void
dpf_drivers_show(FILE *f, const struct dpf_drivers *d, uint16_t port)
{
	const struct dpf_drv_port *dp = dpf_drivers_port(d, port);

	if (dp == NULL) {
		fprintf(f, "port %u: not configured\n", port);
		return;
	}
	dpf_drivers_show_record(f, dp);
}

void
dpf_drivers_show_config(FILE *f, const struct dpf_drivers *d)
{
	if (d == NULL || d->profiles == NULL) {
		fprintf(f, "drivers-cfg: - (not opened)\n");
		return;
	}
	dpf_drv_profiles_show(f, d->profiles);
}
