/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port setup. Control thread only.
 */
#include "tt_port.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>

#include "tt_pcapfile.h"

RTE_LOG_REGISTER(tt_logtype_port, tt.port, NOTICE);
#define PORT_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_port, "port: " fmt "\n", ##__VA_ARGS__)

/* The idle tx queue that rte_pdump needs (tt_port_start()). */
enum { TX_DESC = 64 };

/* Steer by source address only, so one source's state lives on one core. */
#define RSS_WANTED (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP | \
	RTE_ETH_RSS_L3_SRC_ONLY)

/*
 * Each rx_pcap file of a net_pcap port, checked before it is replayed:
 * net_pcap ends a file quietly at the first record libpcap refuses, so a
 * corrupt record mid-file would lose the rest of it without a word.
 * @return 0, or -EBADMSG when a file has a corrupt record (logged).
 */
static int
check_pcap_files(uint16_t port_id, const char *driver, const char *args)
{
	char *copy = strdup(args), *save = NULL, *kv;
	int rc = 0;

	if (copy == NULL)
		return 0;       /* the check is a courtesy; the replay works without it */
	for (kv = strtok_r(copy, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		struct tt_pcapfile_check c;
		const char *path;
		char err[512];
		int r;

		if (strncmp(kv, "rx_pcap=", 8) != 0)
			continue;
		path = kv + 8;
		r = tt_pcapfile_check(path, &c, err, sizeof(err));
		if (r != 0) {
			PORT_LOG(INFO, "port %u (%s): %s: not checked: %s", port_id, driver, path,
				r == -EPROTONOSUPPORT ? "not a classic pcap file" : strerror(-r));
			continue;
		}
		if (c.state == TT_PCAPFILE_CORRUPT) {
			PORT_LOG(ERR, "port %u (%s): %s: %s (repair it, e.g. with editcap or "
				"pcapfix, or cut it before that record)", port_id, driver, path, err);
			rc = -EBADMSG;
		} else if (c.state == TT_PCAPFILE_TRUNCATED || c.over_snaplen != 0) {
			PORT_LOG(WARNING, "port %u (%s): %s: %s", port_id, driver, path, err);
		} else {
			PORT_LOG(INFO, "port %u (%s): %s: %llu records, each whole", port_id,
				driver, path, (unsigned long long)c.records);
		}
	}
	free(copy);
	return rc;
}

int
tt_port_probe(uint16_t port_id, uint16_t n_workers, struct tt_port_info *info)
{
	struct rte_eth_dev_info dev;
	const struct rte_devargs *da;
	const char *args = "";
	int rc;

	memset(info, 0, sizeof(*info));
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	rc = rte_eth_dev_info_get(port_id, &dev);
	if (rc != 0)
		return rc;
	info->port_id = port_id;
	snprintf(info->driver, sizeof(info->driver), "%s", dev.driver_name);
	rte_eth_dev_get_name_by_port(port_id, info->name);
	da = dev.device != NULL ? rte_dev_devargs(dev.device) : NULL;
	if (da != NULL && da->args != NULL)
		args = da->args;
	if (strcmp(dev.driver_name, "net_pcap") == 0 && strstr(args, "rx_pcap=") != NULL) {
		info->looping = strstr(args, "infinite_rx=1") != NULL;
		info->replay = !info->looping;
		rc = check_pcap_files(port_id, info->driver, args);
		if (rc != 0)
			return rc;
	}
	/* A pcap port has one queue per file: all must be read. */
	if (strcmp(dev.driver_name, "net_pcap") == 0)
		info->n_rxq = dev.max_rx_queues;
	else
		info->n_rxq = RTE_MIN(n_workers, dev.max_rx_queues);
	if (info->n_rxq == 0)
		return -ENODEV;
	return 0;
}

/*
 * dpdk-dumpcap's timestamps. In DPDK 22.11 the capture is stamped here, in
 * the primary: rte_pdump reads the burst's TSC, then rte_pcapng_copy()
 * turns it into wall time from a base (TSC, CLOCK_REALTIME) that
 * pcapng_tsc_to_ns() takes on its first call, after the TSC was read. That
 * first delta is negative; it wraps to ~2^64 cycles, and the base is moved
 * on by as many whole seconds, for good: every packet captured while the
 * process lives is stamped 2^64 / tsc_hz seconds ahead (the year 2251 at
 * 2.6 GHz, 2305 at 2.07 GHz). One copy at start takes the base with a TSC
 * half a second ahead of it, so its delta is positive and below a second and
 * the base stays as taken. Costs two mbufs for a moment, once per process.
 * (dumpcap's own closing statistics block has the same flaw, in dumpcap.)
 * DPDK moves the base on once a second without a lock; with several
 * workers capturing at once, a burst whose TSC predates another worker's
 * move can still wrap it. That is rare (the move must land within the
 * bursts' skew of a whole second) and DPDK's to fix.
 */
static void
pcapng_clock_init(uint16_t port, struct rte_mempool *pool)
{
	static bool done;
	struct rte_mbuf *m, *c;

	if (done)
		return;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL || rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN) == NULL) {
		PORT_LOG(WARNING, "port %u: no mbuf to set dpdk-dumpcap's clock; captures may "
			"carry wrong timestamps", port);
		rte_pktmbuf_free(m);
		return;
	}
	memset(rte_pktmbuf_mtod(m, void *), 0, RTE_ETHER_MIN_LEN);
	c = rte_pcapng_copy(port, 0, m, pool, RTE_ETHER_MIN_LEN,
		rte_get_tsc_cycles() + rte_get_tsc_hz() / 2, RTE_PCAPNG_DIRECTION_IN);
	rte_pktmbuf_free(c);
	rte_pktmbuf_free(m);
	done = c != NULL;
}

int
tt_port_start(struct tt_port_info *info, struct rte_mempool *pool, uint16_t nb_rxd)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info dev;
	uint16_t port = info->port_id, nb_txd = TX_DESC, n_txq, q;
	int socket = rte_eth_dev_socket_id(port);
	unsigned int queue_socket = socket < 0 ? (unsigned int)SOCKET_ID_ANY : (unsigned int)socket;
	int rc;

	rc = rte_eth_dev_info_get(port, &dev);
	if (rc != 0)
		return rc;
	pcapng_clock_init(port, pool);
	if (info->n_rxq > 1 && dev.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RSS_WANTED & dev.flow_type_rss_offloads;
		info->source_rss = (conf.rx_adv_conf.rss_conf.rss_hf &
			RTE_ETH_RSS_L3_SRC_ONLY) != 0;
		if (!info->source_rss)
			PORT_LOG(WARNING, "port %u (%s): RSS cannot hash on the source "
				"address alone; one source may reach several workers "
				"(their counts are merged)", port, info->driver);
	} else if (info->n_rxq > 1) {
		PORT_LOG(NOTICE, "port %u (%s): no RSS; %u queues are read as they are",
			port, info->driver, info->n_rxq);
	}
	/*
	 * teiten never transmits, but rte_pdump (dpdk-dumpcap) refuses a port
	 * without a tx queue, so each port gets one small idle queue.
	 */
	n_txq = dev.max_tx_queues > 0 ? 1 : 0;
	rc = rte_eth_dev_configure(port, info->n_rxq, n_txq, &conf);
	if (rc != 0) {
		PORT_LOG(ERR, "port %u (%s): configure %u rx queues: %s", port,
			info->driver, info->n_rxq, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0) {
		PORT_LOG(ERR, "port %u: rx descriptors %u: %s", port, nb_rxd,
			rte_strerror(-rc));
		return rc;
	}
	for (q = 0; q < info->n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, nb_rxd, queue_socket, NULL, pool);
		if (rc != 0) {
			PORT_LOG(ERR, "port %u: rx queue %u setup: %s", port, q,
				rte_strerror(-rc));
			return rc;
		}
	}
	if (n_txq != 0) {
		rc = rte_eth_tx_queue_setup(port, 0, nb_txd, queue_socket, NULL);
		if (rc != 0) {
			PORT_LOG(ERR, "port %u: tx queue setup: %s", port, rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		PORT_LOG(ERR, "port %u (%s): start: %s", port, info->driver, rte_strerror(-rc));
		return rc;
	}
	/* A telescope takes every frame routed to it, whatever its MAC. */
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0 && rc != -ENOTSUP)
		PORT_LOG(WARNING, "port %u: promiscuous mode: %s", port, rte_strerror(-rc));
	PORT_LOG(NOTICE, "port %u (%s, %s): %u rx queues%s%s", port, info->driver,
		info->name, info->n_rxq, info->source_rss ? ", RSS on source" : "",
		info->replay ? ", pcap replay" : info->looping ? ", pcap loop" : "");
	return 0;
}

void
tt_port_stop(const struct tt_port_info *info)
{
	int rc = rte_eth_dev_stop(info->port_id);

	if (rc != 0)
		PORT_LOG(WARNING, "port %u: stop: %s", info->port_id, rte_strerror(-rc));
	rte_eth_dev_close(info->port_id);
}
