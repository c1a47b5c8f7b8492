/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_CONTROL_H
#define TT_CONTROL_H

/*
 * The control plane's policy (DESIGN.md sections 1, 2 and 5): the steps of
 * the loop app/teiten/main.c runs on the main lcore, and the end of a run.
 *  - collect: every worker's retired shard into the live view, the
 *    publisher and the alert feed, then which minutes are complete;
 *  - throttle: a replay waits while Redis is behind, away or refusing;
 *  - health: the appliance's figures for the Redis health hash;
 *  - rates: cumulative worker figures into the live view, once a second;
 *  - finish: the final collect and flush, the exit table, the --summary
 *    file and the exit code.
 *
 * Threads: every function runs on the control thread (the main lcore), the
 * only one that touches a struct tt_control. Through it that thread swaps
 * the workers' shards (lock-free hand-over, tt_worker.h), writes the live
 * view (whose lock keeps the telemetry readers out, tt_live.h), hands shards
 * and alerts to the publisher (a thread of its own, tt_publisher.h) and alerts
 * to the console (tt_telemetry.h).
 *
 * Its log lines are the appliance's own ("teiten: ..."), under the
 * application's log type (conf.logtype: tt.main), which operators tune.
 * Backed module (rte_log, the TSC, ethdev stats); its decisions are the
 * pure functions at the end, for tests.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct tt_alerts_feed;
struct tt_config;
struct tt_live;
struct tt_port_info;
struct tt_publisher;
struct tt_publisher_stats;
struct tt_worker;
struct tt_worker_tables;

/* The process's exit codes (DESIGN.md section 2). */
enum tt_control_exit {
	TT_CONTROL_EXIT_CLEAN = 0,     /* clean stop, everything delivered */
	TT_CONTROL_EXIT_RUNTIME = 1,   /* runtime failure: not delivered, out of memory */
	TT_CONTROL_EXIT_USAGE = 2,     /* bad usage or config; Redis refusing for good */
};

/* The parts the control plane drives; each must outlive it. */
struct tt_control_conf {
	const struct tt_config *cfg;   /* flush interval, backlog limit, final flush, sensors */
	struct tt_worker *const *workers;
	uint32_t n_workers;
	const struct tt_port_info *ports;
	uint16_t n_ports;
	struct tt_live *live;
	struct tt_publisher *pub;      /* NULL with [redis] enabled = no */
	struct tt_alerts_feed *feed;   /* NULL with [alerts] enabled = no */
	bool packet_clock;
	bool all_replay;               /* every port replays pcap files */
	uint64_t duration_s;           /* --duration; 0: until told or the replay ends */
	const char *summary;           /* --summary FILE, or NULL */
	int logtype;                   /* rte_log type of its lines */
};

struct tt_control;

/** Create the control plane of a run. @return NULL with errno (EINVAL, ENOMEM). */
struct tt_control *tt_control_create(const struct tt_control_conf *conf);

/** Free; NULL is a no-op. It frees none of the parts it drives. */
void tt_control_free(struct tt_control *c);

/**
 * The run starts at timer cycle @p started_tsc (the workers are about to be
 * launched): --duration, the first flush and the first sample count from it.
 */
void tt_control_start(struct tt_control *c, uint64_t started_tsc);

/**
 * One turn of the loop at timer cycle @p now_tsc: the stop conditions
 * (--duration reached, Redis refusing for good, every replay consumed, each
 * logged), then the rates once a second, then a collect when the flush
 * interval is up or a worker asks for a swap, unless a replay is throttled.
 * @return true to go on, false to stop.
 */
bool tt_control_tick(struct tt_control *c, uint64_t now_tsc);

/**
 * Take every worker's current shard into the live view, the publisher and
 * the alert feed, then advance the feed to the minutes now complete, set the
 * health figures and ask the publisher to flush. @p final: no packet will
 * come (every replay consumed).
 * @return 0, or -ENOMEM (a part missed some of the counts).
 */
int tt_control_collect(struct tt_control *c, bool final);

/*
 * A reload's hand-over to the workers. The caller (the reload's owner) built
 * @p tables and @p cfg; every worker counts with them from its next swap
 * (tt_worker_set_tables()), and the exit report names the sensors from
 * @p cfg. Once every worker has swapped, none reads the previous tables:
 * @p retire(@p arg) is called then, from a collect, for the caller to free
 * what the previous generation held, and the log says so.
 */
struct tt_control_switch {
	const struct tt_worker_tables *tables;
	const struct tt_config *cfg;
	uint32_t generation;           /* said in the log: 2 for the first reload */
	void (*retire)(void *arg);
	void *arg;
};

/**
 * Start a switch. @return 0, or -EBUSY while the previous one is still
 * being taken (a worker has not swapped since).
 */
int tt_control_switch(struct tt_control *c, const struct tt_control_switch *sw);

/** True while a switch waits for a worker's swap. */
bool tt_control_switch_pending(const struct tt_control *c);

/**
 * Whether a replay should wait for Redis now (see tt_control_throttle());
 * says once an episode that the replay waits and when it goes on.
 */
bool tt_control_replay_throttled(struct tt_control *c);

/** True once every worker's replay queues are consumed (or it has none). */
bool tt_control_all_drained(const struct tt_control *c);

/** The workers are told to stop at @p now_tsc: the end of the run's polling time. */
void tt_control_stopping(struct tt_control *c, uint64_t now_tsc);

/**
 * End the run, once the workers have returned: a replay's wait for the
 * publisher to catch up, the final collect, the final flush (the two within
 * [redis] final_flush_s), the per-sensor table on
 * @p table, the --summary file (written aside and renamed).
 * @return the exit code.
 */
enum tt_control_exit tt_control_finish(struct tt_control *c, FILE *table);

/*
 * The decisions, pure.
 */

/**
 * The minute before which every bucket is complete, from what the clock
 * said before the shards were taken (@p seen_sec, @p drained: per worker,
 * read before its swap, so its retired shard holds every packet up to it).
 * Live (@p packet_clock false), the wall clock's minute less one: a packet
 * stamped just before a swap is counted in the next shard. Under the packet
 * clock, the minute of the newest packet of the slowest worker still
 * replaying, less one; once every replay is consumed (or @p final), the
 * minute after the newest packet: no packet will come, as for a live
 * appliance whose darknet falls silent. 0 before any packet.
 */
uint32_t tt_control_complete_minute(bool packet_clock, const uint64_t *seen_sec,
		const bool *drained, uint32_t n_workers, uint64_t now_sec, bool final);

/* What changed about Redis for a waiting replay, to be said once an episode. */
enum tt_control_redis_news {
	TT_CONTROL_REDIS_SAME,
	TT_CONTROL_REDIS_AWAY,         /* disconnected, or refusing writes for now */
	TT_CONTROL_REDIS_BACK,         /* takes writes again */
};

/**
 * Should a replay wait? It can outrun Redis: while the publisher is behind
 * (a batch in flight and the next one waiting), disconnected or retrying
 * after a refusal, or its backlog passes half of @p backlog_max_bytes, no
 * shard is taken, so the replaying workers wait on their files and lose
 * nothing. Never after a permanent refusal (the run stops instead).
 * @p waiting: the episode's state, kept by the caller; @p news what changed.
 */
bool tt_control_throttle(const struct tt_publisher_stats *ps, uint64_t backlog_max_bytes,
		bool *waiting, enum tt_control_redis_news *news);

/**
 * Did everything reach Redis? The final flush committed (@p stop_rc of
 * tt_publisher_stop() is 0) and nothing was shed: shed minutes, hours or
 * source keys are not delivered.
 */
bool tt_control_delivered(int stop_rc, const struct tt_publisher_stats *ps);

/** The exit code of a run that ended with @p rc (0 or -errno). */
enum tt_control_exit tt_control_exit_code(bool redis_refused, int rc);

#endif /* TT_CONTROL_H */
