/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_COUNTERS_INTERNAL_H
#define TT_COUNTERS_INTERNAL_H

#include "tt_counters.h"

/*
 * Open addressing with linear probing. Keys and values sit in separate
 * arrays so a probe touches 16-byte keys only; `order` lists the occupied
 * slots so reading and resetting cost the cells used, not the capacity.
 */
struct tt_table {
	uint32_t mask;                 /* capacity - 1 */
	uint32_t limit;                /* ordinary keys stop here (3/4 full) */
	uint32_t used;
	uint32_t width;                /* values per cell */
	bool growable;
	uint32_t *order;
	struct tt_cell_key *keys;
	uint64_t *values;
};

struct tt_shard {
	struct tt_table port;
	struct tt_table country;
	/*
	 * Worker shards: values are struct tt_hll_slots (handles into pool);
	 * growable shards: values are struct tt_hll[TT_HLL_VARIANTS].
	 */
	struct tt_table hll;
	struct tt_hll_pool *pool;      /* worker shards only */
	struct tt_src_deltas *src;
	bool growable;
	bool keep_sources;
	uint64_t overflowed;           /* packets counted under the overflow key */
	uint64_t lost;                 /* packets whose cell could not be kept at all */
	uint64_t hll_dropped;          /* HLL updates without a group cell */
	uint64_t src_dropped;          /* merged shards: source deltas workers could not keep */
};

#define HLL_SLOT_WORDS (sizeof(struct tt_hll_slots) / sizeof(uint64_t))
#define HLL_SET_WORDS (sizeof(struct tt_hll) * TT_HLL_VARIANTS / sizeof(uint64_t))

uint64_t *tt_table_find_or_add(struct tt_table *t, const struct tt_cell_key *k,
		bool reserve);
int tt_table_grow(struct tt_table *t);

#endif /* TT_COUNTERS_INTERNAL_H */
