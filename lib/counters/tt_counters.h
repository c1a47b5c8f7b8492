/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_COUNTERS_H
#define TT_COUNTERS_H

/*
 * Per-core counter shards (DESIGN.md sections 1 and 5).
 *
 * A shard holds two open-addressing tables of fixed capacity:
 *   port:    (minute, sensor, service key) -> enum tt_port_val counters
 *   country: (minute, sensor, country)     -> enum tt_country_val counters
 * Every published metric of a scope derives from these cells (totals are the
 * sum of the port cells), so a packet costs two table updates.
 *
 * Ownership: a worker owns the shard it writes (single writer, no atomics);
 * the control plane reads a shard only after the worker has handed it over
 * (tt_worker.h swaps two shards by epoch). Pure: no DPDK, no logging.
 * Creation, merge and reset are control plane; tt_counters_add() is per packet.
 */

#include <stdbool.h>
#include <stdint.h>

#include "tt_classify.h"

enum tt_port_val {
	TT_PV_PKTS,
	TT_PV_BYTES,
	TT_PV_HOME,
	TT_PV_V6,
	TT_PV_MALFORMED,
	TT_PV_HOME_MIRAI,
	TT_PV_CLASS0,                  /* + class - 1, for backscatter..unicorn */
	TT_PV_COUNT = TT_PV_CLASS0 + TT_CLASS_COUNT - 1,
};
#define TT_PV_CLASS(c) (TT_PV_CLASS0 + (c) - 1)

enum tt_country_val {
	TT_CV_PKTS,
	TT_CV_MIRAI,
	TT_CV_COUNT,
};

/* The sensor index under which the merged "all" scope is kept. */
#define TT_SCOPE_ALL UINT16_MAX

struct tt_cell_key {
	uint32_t minute;               /* UTC minutes since the epoch; 0 once collapsed */
	uint16_t sensor;               /* sensor index, or TT_SCOPE_ALL */
	uint16_t used;                 /* 1 in an occupied slot */
	uint32_t item;                 /* service key, or country index */
	uint32_t reserved;
};

struct tt_table;
struct tt_shard;

/**
 * Create a shard. Control thread.
 * @param port_cells, country_cells  capacities, powers of two >= 16
 * @param growable  false for worker shards (fixed memory, excess is counted
 *                  under the "overflow" service key); true for the control
 *                  plane's merged shards, which grow instead
 * @return the shard, or NULL with errno set (EINVAL, ENOMEM).
 */
struct tt_shard *tt_counters_create(uint32_t port_cells, uint32_t country_cells,
		bool growable);

/** Free a shard; NULL is a no-op. Control thread. */
void tt_counters_free(struct tt_shard *s);

/** Forget every cell, keeping the memory. Cost: the cells used, not the capacity. */
void tt_counters_reset(struct tt_shard *s);

/**
 * Count one packet. Per packet, by the shard's owner only.
 * @param klass  enum tt_class
 */
void tt_counters_add(struct tt_shard *s, uint32_t minute, uint16_t sensor,
		uint32_t svc, uint16_t country, bool home, bool v6, bool malformed,
		unsigned int klass, uint32_t bytes);

/**
 * Add every cell of @p src into @p dst (which should be growable).
 * @param collapse_minutes  sum all minutes into minute 0 (run totals)
 * @param with_all          also add each cell under TT_SCOPE_ALL
 * @return 0, or -ENOMEM (dst is then partly merged).
 */
int tt_counters_merge(struct tt_shard *dst, const struct tt_shard *src,
		bool collapse_minutes, bool with_all);

/** The port or country table of a shard, for reading. */
const struct tt_table *tt_counters_port_table(const struct tt_shard *s);
const struct tt_table *tt_counters_country_table(const struct tt_shard *s);

/** Cells counted under the "overflow" key, and cells lost when even that was full. */
uint64_t tt_counters_overflowed(const struct tt_shard *s);
uint64_t tt_counters_lost(const struct tt_shard *s);

/* Reading a table: cells in insertion order, i in [0, tt_table_cells()). */
uint32_t tt_table_cells(const struct tt_table *t);
const struct tt_cell_key *tt_table_key(const struct tt_table *t, uint32_t i);
const uint64_t *tt_table_values(const struct tt_table *t, uint32_t i);

/** Bytes of memory a shard holds (benchmarks, telemetry). */
uint64_t tt_counters_memory(const struct tt_shard *s);

#endif /* TT_COUNTERS_H */
