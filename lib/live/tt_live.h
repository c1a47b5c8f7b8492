/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_LIVE_H
#define TT_LIVE_H

/*
 * The appliance's live view (DESIGN.md section 6): the whole run, the
 * current and the previous hour and the current UTC day, merged from the
 * same retired worker shards the publisher is given, plus rates over the
 * last sample interval (about a second).
 *
 * Ownership: the control thread is the only one to add (tt_live_add(),
 * tt_live_sample()). Readers on other threads (DPDK telemetry, one thread
 * per client) never hold the view's lock nor a pointer into it: each reader
 * function below takes the lock itself, copies out what was asked (scope
 * views, rates, sensor figures) and lets go before it returns. A shard is
 * merged once as it comes, and folded into the views when they are read,
 * when the minute moves on or before the hour rolls (live.c): the reader
 * that finds shards not yet folded folds them, under the lock. The lock is
 * held for one merge or fold (milliseconds; a second or so at thousands of
 * sensors under a flood) or one copy; the workers never see this view:
 * they hand over shards and are done.
 *
 * Which hour is current: the newest hour of any packet merged so far, or
 * the wall clock's when it is newer (a quiet hour on a live port shows as
 * empty, not as the last busy one). Pure: no DPDK, no logging.
 */

#include <stdbool.h>
#include <stdint.h>

struct tt_scope;
struct tt_shard;
struct tt_merged;
struct tt_live;

struct tt_live_conf {
	uint32_t n_sensors;
	uint32_t n_workers;
	uint64_t tsc_hz;               /* for rates */
};

/* The merged views, for tt_live_scopes(). */
enum tt_live_view {
	TT_LIVE_HOUR,                  /* the current hour */
	TT_LIVE_DAY,                   /* the current UTC day */
	TT_LIVE_RUN,                   /* everything since the start */
	TT_LIVE_PREV_HOUR,             /* the hour before the current one */
	TT_LIVE_VIEWS,
};
#define TT_LIVE_VIEW_BIT(v) (1u << (v))

/* A worker over the last sample interval. */
struct tt_live_rate {
	uint64_t pps;
	uint32_t busy_permille;        /* TSC share spent on non-empty bursts */
	uint32_t cycles_per_packet;    /* busy cycles / packets; 0 without packets */
};

/* A sensor's figures, as tt_live_sensors() copies them out. */
struct tt_live_sensor {
	uint32_t sensor;               /* index in the config */
	uint64_t pkts;                 /* so far */
	uint64_t pps;                  /* over the last sample interval */
	/* the detailed rows only (0 otherwise): */
	uint64_t srcs_today;           /* unique sources of the current day, estimated */
	uint32_t top_svc;              /* the current hour's busiest service */
	uint64_t top_pkts;             /* its packets; 0: no packet this hour */
};

/** Create a view. Control thread. @return NULL with errno (EINVAL, ENOMEM). */
struct tt_live *tt_live_create(const struct tt_live_conf *conf);

/** Free; NULL is a no-op. Control thread, once no reader can call in. */
void tt_live_free(struct tt_live *l);

/**
 * Add a worker's retired shard to the run, hour and day views (and to the
 * previous hour, for cells that arrive late for it). Control thread; holds
 * the lock while it merges.
 * @param now_minute  the wall clock's UTC minute, or 0 under the packet clock
 * @return 0, or -ENOMEM (the views then miss part of that shard, or of
 *         shards before it that this call or a reader folded).
 */
int tt_live_add(struct tt_live *l, const struct tt_shard *s, uint32_t now_minute);

/**
 * Record cumulative worker figures at TSC @p now_tsc and derive the rates
 * since the previous sample. Control thread, about once a second.
 */
void tt_live_sample(struct tt_live *l, uint64_t now_tsc, const uint64_t *rx_pkts,
		const uint64_t *busy_cycles);

/**
 * Copy out @p sensor's (or TT_SCOPE_ALL's) scope of every view whose
 * TT_LIVE_VIEW_BIT() is in @p views, all as of one moment (one lock hold).
 * @p out and @p first_minute have TT_LIVE_VIEWS entries; an entry not asked
 * for is left zeroed. first_minute is the bucket's first minute, the key its
 * cells carry; 0 when nothing has been merged yet (and always for the run).
 * Cost, under the lock: a scope through each view's index
 * (tt_scope_build_indexed()), and that index's sort when the view changed
 * since the last reader. Any thread.
 * @return 0, or -ENOMEM (nothing to free then); else tt_scope_free() each.
 */
int tt_live_scopes(struct tt_live *l, uint16_t sensor, unsigned int views,
		struct tt_scope *out, uint32_t *first_minute);

/**
 * Copy out the rates of workers @p first .. @p first + @p n - 1, of one
 * sample; a worker past the last reads as zero. Any thread.
 */
void tt_live_worker_rates(struct tt_live *l, uint32_t first, uint32_t n,
		struct tt_live_rate *out);

/**
 * Copy out every sensor's figures, busiest first (packets, then index), into
 * @p rows (room for the view's n_sensors), as of one moment. The first
 * @p n_detail rows also get the day's unique sources and the hour's top
 * service: a scope view of each (tt_scope_build_indexed()), so ask only
 * for the rows you show. Any thread.
 * @return 0, or -ENOMEM.
 */
int tt_live_sensors(struct tt_live *l, struct tt_live_sensor *rows, uint32_t n_detail);

/** The sensor indexes the view holds (its conf's n_sensors). Any thread. */
uint32_t tt_live_sensor_slots(const struct tt_live *l);

/**
 * Fold what was added and not yet read into the views. Readers below fold
 * for themselves; the writer calls this before it reads tt_live_run().
 * @return 0, or -ENOMEM (the views then miss part of what was added).
 */
int tt_live_fold(struct tt_live *l);

/**
 * The run view itself, for the writer: the control thread reads it without
 * the lock (it is the only writer), e.g. for the exit report, after
 * tt_live_fold().
 */
const struct tt_merged *tt_live_run(const struct tt_live *l);

#endif /* TT_LIVE_H */
