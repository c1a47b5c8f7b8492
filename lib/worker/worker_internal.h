/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_WORKER_INTERNAL_H
#define TT_WORKER_INTERNAL_H

#include <rte_common.h>

#include "tt_worker.h"

struct tt_worker {
	struct tt_worker_conf conf;
	struct tt_shard *shard[2];     /* the worker writes shard[swap_ack & 1] */
	struct tt_src_table *sources;  /* dp: rw; ctl: stats only */

	/* ctl: wo, dp: ro */
	uint32_t swap_request __rte_cache_aligned;
	uint32_t stop;

	/* dp: wo, ctl: ro */
	uint32_t swap_ack __rte_cache_aligned;
	uint32_t exited;               /* set once, as tt_worker_main() returns */
	uint32_t wants_swap;           /* take my shard now (tt_worker_wants_swap()) */
	uint32_t drained;
	struct tt_worker_stats stats;
};

#endif /* TT_WORKER_INTERNAL_H */
