/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_TEST_DRV_H
#define DPF_TEST_DRV_H

/*
 * Hand-built devices and profiles, and a temporary profile directory, for
 * the driver profile tests (test_drivers.c, test_drv_plan.c). Include after
 * <cmocka.h>.
 */

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "drv_profile.h"

/* A NIC that can do everything dpflow asks: 16 queues, a 40-byte key,
 * every hash type, no descriptor or MTU limit worth the name. */
static inline void
dpf_test_nic_info(struct rte_eth_dev_info *info, const char *driver)
{
	memset(info, 0, sizeof(*info));
	info->driver_name = driver;
	info->max_rx_queues = 16;
	info->max_tx_queues = 16;
	info->min_mtu = 68;
	info->max_mtu = UINT16_MAX;
	info->max_rx_pktlen = UINT32_MAX;
	info->hash_key_size = 40;
	info->reta_size = 128;
	info->flow_type_rss_offloads =
		RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_SCTP;
	info->rx_desc_lim.nb_max = UINT16_MAX;
	info->tx_desc_lim.nb_max = UINT16_MAX;
}

/* The built-in profile, with key = value when key is not NULL. */
static inline void
dpf_test_builtin_with(struct dpf_drv_profile *p, const char *key, const char *value)
{
	char err[256];
	int k;

	dpf_drivers_builtin(p);
	if (key == NULL)
		return;
	k = dpf_drivers_key_find(key);
	assert_true(k >= 0);
	if (dpf_drivers_key_parse((enum dpf_drv_key)k, value, &p->s, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* ---- a temporary profile directory, made and removed by the group ---- */

static char tmp_dir[64];

static inline void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static inline void
remove_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	unlink(path);
}

static inline int
make_tmp_dir(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/dpf_drivers_XXXXXX");
	return mkdtemp(tmp_dir) != NULL ? 0 : -1;
}

static inline int
remove_tmp_dir(void **state)
{
	char path[512];
	DIR *d = opendir(tmp_dir);
	struct dirent *de;

	(void)state;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, de->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	return rmdir(tmp_dir);
}

#endif /* DPF_TEST_DRV_H */
