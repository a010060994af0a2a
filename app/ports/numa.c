/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA report at start-up (doc/operations.md, "Lcores and NUMA"): the
 * machine's nodes as libnuma sees them, the node of every port, and a
 * warning for each RX lcore that polls a port attached to another node.
 * Such a core reads every descriptor and packet across the interconnect and
 * its flow tables live on its own node, far from the port's mbufs: it works,
 * but slower, and the operator should know why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numa.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "log.h"
#include "ports.h"

/* "0-3,8,10-11": the kernel's cpulist format, so it reads like lscpu. */
static void
cpu_ranges(char *buf, size_t len, const int *node_of_cpu, int n_cpus, int node)
{
	const char *sep = "";
	size_t o = 0;
	int cpu = 0;

	buf[0] = '\0';

	while (cpu < n_cpus) {
		int last;

		if (node_of_cpu[cpu] != node) {
			cpu++;
			continue;
		}
		for (last = cpu; last + 1 < n_cpus && node_of_cpu[last + 1] == node; last++)
			;
		if (o < len) {
			if (last == cpu)
				o += (size_t)snprintf(buf + o, len - o, "%s%d", sep, cpu);
			else
				o += (size_t)snprintf(buf + o, len - o, "%s%d-%d", sep, cpu, last);
		}
		sep = ",";
		cpu = last + 1;
	}
	if (sep[0] == '\0')
		snprintf(buf, len, "none");
}

static void
print_machine_nodes(void)
{
	int n_cpus, max_node, cpu, node;
	int *node_of_cpu;

	if (numa_available() < 0) {
		DPF_LOG(INFO, ports, "numa: not available (kernel without NUMA support); "
				     "one node assumed\n");
		return;
	}
	n_cpus = numa_num_configured_cpus();
	max_node = numa_max_node();
	node_of_cpu = calloc((size_t)(n_cpus > 0 ? n_cpus : 1), sizeof(*node_of_cpu));
	if (node_of_cpu == NULL)
		return;
	for (cpu = 0; cpu < n_cpus; cpu++)
		node_of_cpu[cpu] = numa_node_of_cpu(cpu); /* -1: offline or absent */
	DPF_LOG(INFO, ports, "numa: %d node%s\n", numa_num_configured_nodes(),
		numa_num_configured_nodes() == 1 ? "" : "s");
	for (node = 0; node <= max_node; node++) {
		char cpus[512], mem[64];
		long long free_bytes = 0;
		long long size = numa_node_size64(node, &free_bytes);
		bool has_cpu = false;

		for (cpu = 0; cpu < n_cpus; cpu++)
			has_cpu |= node_of_cpu[cpu] == node;
		if (size <= 0 && !has_cpu)
			continue; /* a hole in the node numbering */
		cpu_ranges(cpus, sizeof(cpus), node_of_cpu, n_cpus, node);
		mem[0] = '\0';
		if (size > 0)
			snprintf(mem, sizeof(mem), ", memory %lld MiB (%lld MiB free)", size >> 20,
				 free_bytes >> 20);
		DPF_LOG(INFO, ports, "numa: node %d: cpus %s%s\n", node, cpus, mem);
	}
	free(node_of_cpu);
}

void
dpf_ports_numa_report(const struct dpf_ports *ps, const struct dpf_numa_poll *polls,
		      unsigned int n_polls)
{
	const uint16_t *ports = dpf_ports_settled(ps)->ids;
	char name[RTE_ETH_NAME_MAX_LEN];
	unsigned int i;
	uint16_t p;

	print_machine_nodes();
	for (p = 0; p < dpf_ports_settled(ps)->n_ports; p++) {
		int socket = rte_eth_dev_socket_id(ports[p]);

		if (rte_eth_dev_get_name_by_port(ports[p], name) != 0)
			snprintf(name, sizeof(name), "?");
		if (socket < 0)
			DPF_LOG(INFO, ports, "numa: port %u (%s): node unknown\n", ports[p], name);
		else
			DPF_LOG(INFO, ports, "numa: port %u (%s): node %d\n", ports[p], name,
				socket);
	}
	for (i = 0; i < n_polls; i++) {
		unsigned int lcore = polls[i].lcore;
		int lcore_socket = (int)rte_lcore_to_socket_id(lcore);
		int port_socket = rte_eth_dev_socket_id(polls[i].port);

		/* A port of unknown node (vdev, SOCKET_ID_ANY) is nobody's remote. */
		if (port_socket < 0 || port_socket == lcore_socket)
			continue;
		DPF_LOG(WARNING, ports,
			"warning: RX lcore %u (cpu %u, node %d) polls port %u "
			"(node %d): packets cross NUMA nodes; give -l/--lcores cpus "
			"of node %d (see doc/operations.md)\n",
			lcore, rte_lcore_to_cpu_id((int)lcore), lcore_socket, polls[i].port,
			port_socket, port_socket);
	}
}
