/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_LIVE_H
#define TT_LIVE_H

/*
 * The appliance's live view (DESIGN.md section 6): the whole run, the
 * current and the previous hour and the current UTC day, merged from the
 * same retired worker shards the publisher is given, plus rates over the
 * last sample interval (about a second).
 *
 * Ownership: the control thread writes (tt_live_add, tt_live_sample) and is
 * the only writer; readers on other control threads (DPDK telemetry, one
 * thread per client) hold tt_live_lock() around every accessor. The workers
 * never see this view: they hand over shards and are done.
 *
 * Which hour is current: the newest hour of any packet merged so far, or
 * the wall clock's when it is newer (a quiet hour on a live port shows as
 * empty, not as the last busy one). Pure: no DPDK, no logging.
 */

#include <stdbool.h>
#include <stdint.h>

struct tt_shard;
struct tt_merged;
struct tt_live;

struct tt_live_conf {
	uint32_t n_sensors;
	uint32_t n_workers;
	uint64_t tsc_hz;               /* for rates */
};

/* A worker over the last sample interval. */
struct tt_live_rate {
	uint64_t pps;
	uint32_t busy_permille;        /* TSC share spent on non-empty bursts */
	uint32_t cycles_per_packet;    /* busy cycles / packets; 0 without packets */
};

/** Create a view. Control thread. @return NULL with errno (EINVAL, ENOMEM). */
struct tt_live *tt_live_create(const struct tt_live_conf *conf);

/** Free; NULL is a no-op. Control thread, once no reader can call in. */
void tt_live_free(struct tt_live *l);

/**
 * Merge a worker's retired shard into the run, hour and day views (and into
 * the previous hour, for cells that arrive late for it). Control thread;
 * holds the lock while it merges.
 * @param now_minute  the wall clock's UTC minute, or 0 under the packet clock
 * @return 0, or -ENOMEM (the views then miss part of that shard).
 */
int tt_live_add(struct tt_live *l, const struct tt_shard *s, uint32_t now_minute);

/**
 * Record cumulative worker figures at TSC @p now_tsc and derive the rates
 * since the previous sample. Control thread, about once a second.
 */
void tt_live_sample(struct tt_live *l, uint64_t now_tsc, const uint64_t *rx_pkts,
		const uint64_t *busy_cycles);

/** Readers: hold the lock around the accessors below. */
void tt_live_lock(struct tt_live *l);
void tt_live_unlock(struct tt_live *l);

/*
 * The views, as growable shards with every scope (sensors and TT_SCOPE_ALL).
 * *first_minute is the bucket's first minute, the key its cells carry
 * (tt_scope_build()); 0 when nothing has been merged yet.
 */
const struct tt_merged *tt_live_run(const struct tt_live *l);           /* minute 0 */
const struct tt_merged *tt_live_hour(const struct tt_live *l, uint32_t *first_minute);
const struct tt_merged *tt_live_prev_hour(const struct tt_live *l, uint32_t *first_minute);
const struct tt_merged *tt_live_day(const struct tt_live *l, uint32_t *first_minute);

/** A worker's rates over the last sample interval. */
void tt_live_worker_rate(const struct tt_live *l, uint32_t worker, struct tt_live_rate *out);

/** A sensor's packets so far and per second over the last sample interval. */
uint64_t tt_live_sensor_pkts(const struct tt_live *l, uint32_t sensor);
uint64_t tt_live_sensor_pps(const struct tt_live *l, uint32_t sensor);

#endif /* TT_LIVE_H */
