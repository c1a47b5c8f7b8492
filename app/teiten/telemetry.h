/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TELEMETRY_H
#define TT_TELEMETRY_H

/*
 * The /teiten/... commands on the DPDK telemetry socket (DESIGN.md section 6).
 *
 * Callbacks run on DPDK's telemetry threads (one per connected client). They
 * read: the live view under its lock (tt_live.h), worker figures with
 * relaxed loads, ethdev stats, and the publisher's stats under its lock.
 * Nothing here touches a worker's shard or waits on a worker.
 */

#include <stdbool.h>
#include <stdint.h>

struct tt_config;
struct tt_live;
struct tt_port_info;
struct tt_publisher;
struct tt_worker;

struct tt_telemetry_src {
	const struct tt_config *cfg;
	struct tt_worker *const *workers;
	unsigned int n_workers;
	const struct tt_port_info *ports;
	uint16_t n_ports;
	struct tt_publisher *pub;      /* NULL with [redis] enabled = no */
	struct tt_live *live;
	bool packet_clock;
	uint64_t started_tsc;
	uint64_t started_sec;          /* UTC */
};

struct tt_alert;

/**
 * Keep an alert for /teiten/alerts (the latest TT_TELEMETRY_ALERTS). Control
 * thread, any time, also before tt_telemetry_open().
 */
void tt_telemetry_alert(const struct tt_alert *al);

/**
 * Register the commands; they answer from @p src until tt_telemetry_close().
 * Control thread, after EAL init. @return 0 or a negative errno.
 */
int tt_telemetry_open(const struct tt_telemetry_src *src);

/**
 * Stop answering (replies say so): from here on the sources may be freed.
 * Waits for a callback in progress. Control thread.
 */
void tt_telemetry_close(void);

#endif /* TT_TELEMETRY_H */
