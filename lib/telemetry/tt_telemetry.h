/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TELEMETRY_H
#define TT_TELEMETRY_H

/*
 * The operator console: the /teiten/... commands on the DPDK telemetry
 * socket (DESIGN.md section 6).
 *
 * One console a process: DPDK 22.11 keeps one command table a process,
 * registers a command for good and calls it with no argument of ours, so
 * the console's state is one context inside telemetry.c, guarded by one lock
 * (see there). Threads: the callbacks run on DPDK's telemetry threads (one
 * per connected client, possibly at once); tt_telemetry_open(),
 * tt_telemetry_close() and tt_telemetry_alert() on the control thread.
 * A callback reads worker figures with relaxed loads, ethdev stats, the
 * publisher's stats under its lock, and copies out of the live view
 * (tt_live.h); nothing here touches a worker's shard or waits on a worker.
 *
 * Backed module (rte_telemetry, ethdev); its pure half (parameters, reply
 * budgets, the alert ring) is telemetry_reply.c.
 */

#include <stdbool.h>
#include <stdint.h>

struct tt_alert;
struct tt_config;
struct tt_live;
struct tt_port_info;
struct tt_publisher;
struct tt_worker;

/* What the commands answer from; everything must outlive tt_telemetry_close(). */
struct tt_telemetry_conf {
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

/**
 * Keep an alert for /teiten/alerts (the latest 128). Control thread, any
 * time, also before tt_telemetry_open() and after tt_telemetry_close().
 */
void tt_telemetry_alert(const struct tt_alert *al);

/**
 * Register the commands; they answer from @p conf (copied) until
 * tt_telemetry_close(). Control thread, after EAL init, once a process.
 * @return 0 or a negative errno (rte_telemetry_register_cmd()'s).
 */
int tt_telemetry_open(const struct tt_telemetry_conf *conf);

/**
 * A reload: the sensors' names and the appliance's settings from @p cfg
 * (which must outlive the console), the config's @p generation in
 * /teiten/info, from the next command on; a command being answered
 * finishes first. Control thread.
 */
void tt_telemetry_set_config(const struct tt_config *cfg, uint32_t generation);

/**
 * Stop answering (replies say "teiten is stopping"; /teiten/alerts goes on):
 * from here on what the conf names may be freed. Waits for the callbacks in
 * progress. Control thread.
 */
void tt_telemetry_close(void);

#endif /* TT_TELEMETRY_H */
