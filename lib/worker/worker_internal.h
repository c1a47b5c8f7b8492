/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_WORKER_INTERNAL_H
#define TT_WORKER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "tt_worker.h"

struct tt_worker {
	struct tt_worker_conf conf;
	struct tt_worker_interval interval[2];  /* the worker writes swap_written(swap_ack) */
	struct tt_sources_table *sources;  /* dp: rw; ctl: stats only */
	struct tt_worker_tables first_tables;  /* from the conf; read by dp until a reload */
	/*
	 * ctl: wo before raising swap_request; dp: ro once it takes that
	 * request (the acquire load orders it), never between requests.
	 */
	const struct tt_worker_tables *next_tables;

	/* ctl: wo, dp: ro */
	uint32_t swap_request __rte_cache_aligned;
	uint32_t stop;

	/* dp: wo, ctl: ro; swap_ack also ctl: wo once exited is set */
	uint32_t swap_ack __rte_cache_aligned;
	uint32_t exited;               /* set once, as tt_worker_main() returns */
	uint32_t wants_swap;           /* take my shard now (tt_worker_wants_swap()) */
	uint32_t drained;
	struct tt_worker_stats stats;
};

/*
 * The shard hand-over, one helper for both sides.
 *
 * The control thread asks by raising swap_request by one (release store;
 * it is the only writer); the worker, at a housekeeping tick or while it
 * waits for a swap, takes the request with swap_take_request() and from
 * then on writes the other shard. The pairs:
 *  - ctl's release store of swap_request, dp's acquire load of it: the
 *    control thread's reset of the shard it hands back happens before the
 *    worker's first write into it;
 *  - dp's release store of swap_ack, ctl's acquire load of it
 *    (tt_worker_swap()): the worker's last writes into the retired shard
 *    happen before the control thread reads it.
 * Once tt_worker_main() has returned (exited, release; ctl loads it with
 * acquire) the control thread takes its own request with the same helper.
 */

/* The interval the worker writes while its acknowledgement is @p ack. */
static inline struct tt_worker_interval *
swap_written(struct tt_worker *w, uint32_t ack)
{
	return &w->interval[ack & 1];
}

/* Is request number @p req ahead of @p ack? Serial numbers: they wrap. */
static inline bool
request_ahead(uint32_t req, uint32_t ack)
{
	return (int32_t)(req - ack) > 0;
}

/* Is a swap request pending, ahead of @p ack? The worker's look before swap_take_request(). */
static inline bool
swap_requested(struct tt_worker *w, uint32_t ack)
{
	return request_ahead(__atomic_load_n(&w->swap_request, __ATOMIC_ACQUIRE), ack);
}

/*
 * Take a pending swap request: advance @p ack (the caller's copy of
 * swap_ack) to it and publish the acknowledgement. Moves forward only: a
 * request the control thread took back (then not ahead of @p ack) is
 * ignored. The worker, or the control thread once the worker has exited.
 * @return true when the shard to write changed (swap_written()).
 */
static inline bool
swap_take_request(struct tt_worker *w, uint32_t *ack)
{
	uint32_t req = __atomic_load_n(&w->swap_request, __ATOMIC_ACQUIRE);

	if (!request_ahead(req, *ack))
		return false;
	*ack = req;
	__atomic_store_n(&w->swap_ack, req, __ATOMIC_RELEASE);
	return true;
}

#endif /* TT_WORKER_INTERNAL_H */
