/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_APPLIANCE_H
#define TT_APPLIANCE_H

/*
 * What app/teiten's two files share: the appliance's parts (main.c wires
 * them), and the live reload that swaps some of them (reload.c). Control
 * thread, but where a comment says otherwise.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "tt_config.h"
#include "tt_port.h"
#include "tt_worker.h"

extern int tt_logtype_main;
#define MAIN_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_main, "teiten: " fmt "\n", ##__VA_ARGS__)

enum {
	MAX_WORKERS = RTE_MAX_LCORE,
};

struct options {
	const char *config;
	const char *summary;
	uint64_t duration_s;           /* 0: until a signal or the replay ends */
	bool check_config;
};

/*
 * What the workers look things up with, and the config it came from: the
 * start's is generation 1, each applied reload the next. The current one
 * and, while the workers take a new one, the one before (tt_control_switch()).
 */
struct generation {
	uint32_t number;               /* 0: none */
	struct tt_config *cfg;         /* a reload's, or &appliance.cfg */
	struct tt_sensor_table *sensors;
	struct tt_geo *geo;            /* NULL without geoip_db */
	struct tt_worker_tables tables;
};

/*
 * A reload's build, on a thread of its own so that the control loop keeps
 * collecting meanwhile: the country database alone takes about 0.6 s to
 * read into its tables, and the workers' shards are sized for a flush
 * interval, not for a control plane that stops. The thread reads what the
 * control thread does not change while a job runs (the current config, the
 * ports) and writes only the job; `done` (release) hands the job back, and
 * the control thread joins it, then applies it or frees it.
 */
struct reload_job {
	pthread_t thread;
	const struct appliance *a;
	const struct tt_config *cur;   /* the running config, read-only */
	uint32_t slots;
	int socket_id;
	uint32_t done;                 /* job: wo (release); ctl: ro (acquire) */
	/* the result, the control thread's once done */
	bool ok;
	struct tt_config *cfg;
	struct tt_config_changes ch;
	struct tt_sensor_table *sensors;
	struct tt_geo *geo;
	uint64_t build_ms;
};

struct appliance {
	struct tt_config cfg;          /* the start's; what only a restart changes */
	struct options opt;
	struct tt_port_info ports[RTE_MAX_ETHPORTS];
	uint16_t n_ports;
	struct rte_mempool *pool;
	struct tt_sensor_table *sensors;   /* the start's, until they are generation 1's */
	struct tt_geo *geo;            /* likewise; NULL without geoip_db */
	uint32_t sensor_slots;         /* sensor indexes sized for (tt_config_sensor_slots()) */
	struct generation gen[2];      /* gen[cur]: the current; gen[!cur]: the one before */
	unsigned int cur;
	/*
	 * Every reloaded config, kept until exit without its prefixes: the
	 * publisher, the alerts and telemetry named sensors from each in turn
	 * (a few hundred bytes a sensor).
	 */
	struct tt_config **configs;
	uint32_t n_configs;
	bool reload_deferred;          /* said once: a switch is still being taken */
	struct reload_job *job;        /* a reload's tables being built, or NULL */
	struct tt_worker *workers[MAX_WORKERS];
	unsigned int n_workers;
	struct tt_live *live;          /* run, hour and day views; rates */
	struct tt_publisher *pub;      /* NULL with [redis] enabled = no */
	struct tt_alerts *alerts;      /* NULL with [alerts] enabled = no */
	struct tt_alerts_feed *feed;   /* complete buckets into the detectors */
	const char **alert_sensor_names;
	struct tt_control *control;    /* the loop's steps, the end of the run */
	bool packet_clock;
	bool all_replay;
	uint64_t started_tsc;
	uint64_t started_sec;          /* UTC */
	bool pdump;                    /* rte_pdump serves dpdk-dumpcap */
};

/* print_problem() prints a config problem as --check-config does. */
void print_problem(void *ctx, const char *line);
/* log_config() says what a config sets up, at INFO. */
void log_config(const struct tt_config *cfg);

/* What a burst looks things up with, from a config and its tables. */
void fill_tables(const struct tt_config *cfg, const struct tt_sensor_table *sensors,
		const struct tt_geo *geo, struct tt_worker_tables *t);

/* The detectors' conf for @p cfg, with @p names (sensor_slots of them). */
int alerts_conf(const struct appliance *a, const struct tt_config *cfg,
		struct tt_alerts_conf *ac, const char **names);

/**
 * One tick of the reload (reload.c): start a build when @p asked (SIGHUP),
 * apply one that is built. @return true to be asked again at the next tick
 * (a SIGHUP that must wait for the one before).
 */
bool reload_poll(struct appliance *a, bool asked);

/* The run ends: a reload still building is waited for and not applied. */
void reload_abandon(struct appliance *a);

#endif /* TT_APPLIANCE_H */
