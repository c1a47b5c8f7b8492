/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_ALERTS_FEED_H
#define TT_ALERTS_FEED_H

/*
 * The detectors' input: the workers' retired shards, merged into the
 * buckets not yet complete, and each bucket handed to tt_alerts.h once it
 * is complete (DESIGN.md section 7: judged on bucket time, never on a
 * worker). A minute is complete when the clock, the newest packet of the
 * slowest worker under the packet clock or now under the wall clock, has
 * passed its end by a minute more: a packet read just before a swap may be
 * counted in the next shard. An hour is complete when its last minute is.
 *
 * What each bucket is observed as, per scope (each sensor and all):
 *   service      packets per service key; sources for a watched service
 *   country      packets per country
 *   total        the scope's packets and unique sources
 *   mirai_service  Mirai-type packets per service; sources where watched
 *   home_mirai   home Mirai-type packets and unique sources
 * and DoS victims as the source deltas flag them (tt_sources.h).
 *
 * Pure: no DPDK, no logging. Control thread only.
 */

#include <stdint.h>

#include "tt_alerts.h"

struct tt_shard;
struct tt_sources_deltas;
struct tt_alerts_feed;

/**
 * Create a feed into @p detectors (which must outlive it) for @p n_sensors.
 * @return the feed, or NULL with errno (ENOMEM).
 */
struct tt_alerts_feed *tt_alerts_feed_create(struct tt_alerts *detectors, uint32_t n_sensors);
void tt_alerts_feed_free(struct tt_alerts_feed *f);     /* NULL is a no-op */

/**
 * Take a worker's retired shard (cells keyed by minute) and the source
 * deltas of its interval: the cells wait in the open buckets; the DoS
 * victims the deltas flag wait for their minute to be judged (see
 * tt_alerts_feed_advance()), which alone emits.
 * @return 0 or -ENOMEM.
 */
int tt_alerts_feed_add(struct tt_alerts_feed *f, const struct tt_shard *s,
		const struct tt_sources_deltas *sources);

/**
 * Judge every minute before @p complete_minute (UTC minutes since the
 * epoch) and every hour that ends by then, in order, silent minutes
 * included (a darknet minute without packets is news too), and forget them.
 * A gap of more than a day is an outage, not silence: it is skipped.
 * The order is bucket time, as a live appliance advancing a minute at a
 * time has it, however much packet time one call covers: an hour's
 * minutes, then the hour, then the next hour's minutes; the DoS victims of
 * a minute right after it, by address. So a replay's alerts come in the
 * same order whatever the host's speed or a Redis outage does to the
 * collections.
 * @return 0, -ENOMEM, or the first error @p emit returned.
 */
int tt_alerts_feed_advance(struct tt_alerts_feed *f, uint32_t complete_minute,
		tt_alerts_emit_cb emit, void *ctx);

#endif /* TT_ALERTS_FEED_H */
