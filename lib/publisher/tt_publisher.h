/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_PUBLISHER_H
#define TT_PUBLISHER_H

/*
 * The Redis publisher (DESIGN.md section 5): merged per-core deltas are
 * written exactly once, one MULTI/EXEC per hash tag, from a thread of its own
 * so a slow or absent Redis never delays the workers or the collection of
 * their shards. While Redis is away, or refuses writes for a while (LOADING,
 * BUSY, OOM, ...), the deltas keep merging in memory and the transaction is
 * retried with back-off; past backlog_max_mb minute buckets are shed first,
 * then source deltas, then hours, each counted in packets or keys. A refusal
 * that retrying cannot cure (NOPERM, WRONGTYPE, a script error) fails the
 * publisher: nothing more is sent, and tt_publisher_failed() says why.
 * With [redis] cluster it writes into a Redis Cluster: each tag's transaction
 * to the master of the tag's slot, following the cluster as slots move.
 *
 * Backed module (hiredis). Thread of each function as stated.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tt_config;
struct tt_shard;
struct tt_sources_deltas;
struct tt_publisher;

struct tt_publisher_conf {
	const struct tt_config *cfg;   /* must outlive the publisher */
	uint32_t sensor_slots;         /* sensor indexes a reload may use; 0: cfg's */
	uint32_t n_workers;
	bool wall_clock;               /* the appliance's clock (trimming rolling sets) */
};

/* Appliance figures for the health hash, set by the control thread. */
struct tt_publisher_health {
	uint64_t rx_pkts;
	uint64_t rx_missed;
	uint64_t not_dark;
	uint64_t malformed;
	/* fingerprinted packets whose source delta had no room (tt_worker_stats) */
	uint64_t source_deltas_dropped;
	/* dark packets counted with the record of registers off (tt_worker_stats.hll_record_off) */
	uint64_t hll_record_off_pkts;
};

struct tt_publisher_stats {
	bool connected;
	uint64_t flush_seq;            /* last fully committed flush */
	uint64_t flushes;
	uint64_t last_flush_ms;        /* UTC, milliseconds */
	uint64_t backlog_bytes;        /* memory of the deltas not yet committed */
	uint64_t backlog_cells;        /* their cells; 0 once Redis has everything */
	uint64_t errors;               /* connection and command errors */
	uint64_t reconnects;
	uint64_t shed_minute_cells;    /* minute cells dropped past backlog_max_mb */
	uint64_t shed_minute_bytes;
	uint64_t shed_minute_packets;  /* the packets those cells counted (scope all) */
	uint64_t shed_hour_cells;      /* hour cells dropped when minutes were not enough */
	uint64_t shed_hour_packets;
	uint64_t shed_source_keys;     /* source deltas ({src} host and set updates) dropped */
	bool retrying;                 /* Redis refused for a while: retrying with back-off */
	bool behind;                   /* a batch in flight and another one waiting */
	bool failed;                   /* a permanent refusal: nothing more is sent */
	uint64_t refusals;             /* transactions Redis refused and that were retried */
	uint64_t data_lost;            /* times Redis was found without flushes it had taken */
	uint64_t undelivered_packets;  /* held, not committed (scope all): 0 once delivered */
	uint64_t undelivered_source_keys;  /* the same for source deltas ({src}) */
	uint64_t undelivered_alerts;   /* the same for alerts (the stream's tag) */
	/*
	 * The final flush ended with the batch in flight sent on a connection
	 * that broke before Redis answered, and not read back since: Redis may
	 * have committed it, or may still, so the three are upper bounds.
	 */
	bool undelivered_upper_bound;
	uint64_t alerts;               /* stream entries committed */
	uint64_t alerts_pending;       /* waiting for the next flush */
	uint64_t shed_alerts;          /* dropped: more than 100,000 waited for Redis */
	uint64_t tags_resent_skipped;  /* tags found committed after a lost reply */
	uint64_t commands;             /* data commands sent (increments, merges, EXPIREs) */
	uint64_t last_flush_us;        /* how long the last committed flush took */
	uint64_t max_flush_us;
	uint32_t masters;              /* cluster: masters connected to (0: one Redis) */
	uint64_t redirects;            /* cluster: MOVED and ASK answers followed */
};

/**
 * Create a publisher; reads the password file. Control thread.
 * @return the publisher, or NULL with errno (ENOMEM, or the password file's error).
 */
struct tt_publisher *tt_publisher_create(const struct tt_publisher_conf *conf);

/**
 * Connect once and start the publisher thread. Control thread. Claiming the
 * appliance id may wait a few flush intervals (is another run alive?) and
 * then out the life of an ended run's instance key; tt_publisher_interrupt()
 * ends those waits.
 * @return 0 (also when Redis is unreachable: the publisher retries and
 *   backs up meanwhile), -EACCES when Redis rejects the credentials,
 *   -EEXIST when a live run holds the id, -EINTR interrupted, or another
 *   negative errno if the thread cannot start.
 */
int tt_publisher_start(struct tt_publisher *p);

/**
 * A stop asked for while tt_publisher_start() runs: its waits for the
 * appliance id end, and it returns -EINTR. Async-signal-safe (a SIGTERM
 * handler calls it); no effect once the publisher thread runs.
 */
void tt_publisher_interrupt(struct tt_publisher *p);

/**
 * A reload: name the sensors and take the minute, hour and day retention
 * from @p cfg (aligned, tt_config_align(); it must outlive the publisher),
 * before any count of its new sensor indexes is submitted. The publisher
 * thread takes it with the next batch: counts submitted before are written
 * with the same names (a sensor keeps its index), the bucket TTLs from then
 * on with the new retention. Control thread.
 */
void tt_publisher_reconfigure(struct tt_publisher *p, const struct tt_config *cfg);

/**
 * Merge a worker's retired shard and the source deltas of its interval
 * (NULL: none) into the backlog. Control thread. @return 0 or -ENOMEM.
 */
int tt_publisher_submit(struct tt_publisher *p, const struct tt_shard *s,
		const struct tt_sources_deltas *sources);

/**
 * Queue an entry of the <prefix>:alerts stream (DESIGN.md section 7): @p n_fields
 * name/value pairs in @p fields, and @p json for PUBLISH <prefix>:alerts. It goes
 * with the next flush, in a transaction of its own that records the flush, so a
 * lost reply or an outage delays it and never loses or doubles it. Copied.
 * Control thread. @return 0 or -ENOMEM.
 */
int tt_publisher_submit_alert(struct tt_publisher *p, uint32_t n_fields,
		const char *const *fields, const char *json);

/** Ask for a flush now (after a submit). Control thread. */
void tt_publisher_kick(struct tt_publisher *p);

void tt_publisher_set_health(struct tt_publisher *p, const struct tt_publisher_health *h);
void tt_publisher_get_stats(struct tt_publisher *p, struct tt_publisher_stats *out);

/**
 * Has Redis refused something for good? Then @p why (if not NULL) gets one
 * line naming the command, Redis's answer and what fixes it. Any thread.
 */
bool tt_publisher_failed(struct tt_publisher *p, char *why, size_t len);

/**
 * Final flush, then stop the thread. Control thread, after the last submit.
 * Keeps trying for @p timeout_ms while Redis is away or refuses for a while.
 * @return 0 when everything was committed, -EIO otherwise (the log says how
 *   many packets and source keys were not delivered), -EPERM after a
 *   permanent refusal.
 */
int tt_publisher_stop(struct tt_publisher *p, unsigned int timeout_ms);

/** Free; NULL is a no-op. Control thread, after tt_publisher_stop(). */
void tt_publisher_free(struct tt_publisher *p);

#endif /* TT_PUBLISHER_H */
