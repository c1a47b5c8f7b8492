/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_PORT_H
#define TT_PORT_H

/*
 * Ethdev setup for a receive-only appliance: rx queues, RSS on the source
 * address where the PMD offers it, no tx queue, promiscuous mode.
 * Backed module; control thread only.
 */

#include <stdbool.h>
#include <stdint.h>

struct rte_mempool;

struct tt_port_info {
	uint16_t port_id;
	uint16_t n_rxq;
	bool replay;                   /* net_pcap reading files, not looping */
	bool looping;                  /* net_pcap with infinite_rx */
	bool source_rss;               /* RSS hashes on the source address only */
	char driver[32];
	char name[64];
};

/**
 * How many rx queues a port gets for @p n_workers workers: one per worker up
 * to what the device has; every queue of a pcap replay port (each is a file).
 * Each rx_pcap file is checked record by record first (tt_pcapfile.h): a
 * capture cut off in its last record is a warning, a corrupt record an error.
 * @return 0, -ENODEV (no such port), or -EBADMSG (a pcap file it would
 *   replay has a corrupt record; the log names file, record and byte offset).
 */
int tt_port_probe(uint16_t port_id, uint16_t n_workers, struct tt_port_info *info);

/**
 * Configure and start the port with info->n_rxq queues from @p pool.
 * @return 0 or a negative errno (the log names the port and the step).
 */
int tt_port_start(struct tt_port_info *info, struct rte_mempool *pool, uint16_t nb_rxd);

/** Stop and close the port. */
void tt_port_stop(const struct tt_port_info *info);

#endif /* TT_PORT_H */
