/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_COUNTERS_H
#define TT_COUNTERS_H

/*
 * Per-core counter shards (DESIGN.md sections 1 and 5).
 *
 * A shard holds three open-addressing tables of fixed capacity:
 *   port:    (minute, sensor, service key) -> enum tt_port_val counters
 *   country: (minute, sensor, country)     -> enum tt_country_val counters
 *   hll:     (minute, sensor, 0 or watched service) -> the srcs HLL variants
 * Every published metric of a scope derives from these cells (totals are the
 * sum of the port cells), so a packet costs a port cell, a country cell and
 * one HLL group. A worker shard keeps most country cells in dense planes
 * instead, found by an index (counters_internal.h, struct country_planes);
 * its country table holds the rest, and a merge reads both. A worker shard
 * also sums its packets by flow first (struct count_flows there), and its
 * worker counts the flows into the cells before it hands the shard over
 * (tt_counters_drain()): a repeat of a flow costs one probe.
 *
 * The HLL group 0 means two things. In a merged (growable) shard it is the
 * whole sensor's sources. In a worker shard it holds only the sources of
 * unwatched services: a packet to a watched service sets its service's
 * registers alone, and merging a worker shard folds every watched group into
 * the sensor's group 0 as well. A union of registers is the registers of the
 * union, so the published figures are the same, and the data path sets one
 * group a packet instead of two. Interleaved A/B medians, busy cycles a
 * packet: flood of plain SYNs (all to a watched port) at 64 sensors 281 ->
 * 197, at one sensor 133 -> 112; mixed 2,000-frame loop 249 -> 206. The fold
 * costs the control plane one register merge per watched group and flush.
 *
 * Ownership: a worker owns the shard it writes (single writer, no atomics);
 * the control plane reads a shard only after the worker has handed it over
 * (tt_worker.h swaps two shards by epoch). Pure: no DPDK, no logging.
 * Creation, merge and reset are control plane; tt_counters_add_burst() runs
 * a burst at a time.
 */

#include <stdbool.h>
#include <stdint.h>

#include "tt_classify.h"
#include "tt_schema.h"
#include "tt_hll.h"

/*
 * Cell columns (enum tt_port_col, enum tt_country_col) and the totals
 * (enum tt_total) are the schema's: tt_schema.h.
 */

/** Add a port cell (service @p svc, values @p v) into a totals array. */
void tt_counters_totals_add(uint64_t *totals, uint32_t svc, const uint64_t *v);

/* The sensor index under which the merged "all" scope is kept. */
#define TT_SCOPE_ALL UINT16_MAX


/*
 * Two kinds of shard. A worker's (struct tt_shard) has fixed capacity, set
 * once, and keeps its HLLs in a pool; past its tables it counts under the
 * "overflow" key or drops and counts. A merged shard (struct tt_merged),
 * the control plane's, grows instead and keeps each HLL as a struct
 * tt_hll; the publisher's backlog, the live views, the alert feed's open
 * buckets and the flush plan's days are merged shards.
 */
struct tt_shard;
struct tt_merged;

struct tt_counters_conf {
	uint32_t port_cells;           /* capacities, powers of two >= 16 */
	uint32_t country_cells;
	uint32_t hll_cells;
	uint32_t hll_sparse;           /* HLL sets in the pools */
	uint32_t hll_dense;
	/*
	 * Register bytes of a shard's mid and dense sets past which loading
	 * a packet's registers ahead (tt_counters_add_burst()) pays for itself
	 * (tt_counters_sets_spread()); 0: half the L2 cache of the CPU the
	 * shard is created on, TT_COUNTERS_SPREAD_UNKNOWN_L2 when the system
	 * does not say.
	 */
	uint64_t spread_register_bytes;
	/*
	 * Sensors whose country cells of the interval's two minutes are
	 * counted in dense planes (counters_internal.h, struct
	 * country_planes), up to TT_COUNTERS_PLANE_ROWS_MAX; 0: none, every
	 * country cell is in the country table. The configured sensors.
	 */
	uint32_t country_rows;
	/*
	 * Slots of the shard's flows (counters_internal.h, struct
	 * count_flows), a power of two >= 16; 0: none, every packet goes to
	 * the cells. A worker's shards take TT_COUNTERS_FLOW_CELLS.
	 */
	uint32_t flow_cells;
};

/*
 * A worker shard's flow slots: 512 KiB. Limited to 3/4, they hold 12,288
 * flows an interval; the benchmark's mixed capture makes 10,635 a second
 * (65% of the slots: a find probes 2.2 slots on average). 32,768 slots
 * probed fewer (callgrind of the worker, the counters' instructions a
 * packet 81.2 -> 74.4) but take 1 MiB, twice the L2 of a core of the
 * machine measured, where runs then spread by a third: not kept without
 * a cycle figure that could tell.
 */
enum { TT_COUNTERS_FLOW_CELLS = 16384 };

/*
 * At most so many sensors have plane rows: 6 KiB a sensor a shard (two
 * planes of 255 countries, 12 bytes a cell with its place in the order),
 * so 24 MiB a shard at this cap. The sensors past it count in the
 * country table.
 */
enum { TT_COUNTERS_PLANE_ROWS_MAX = 4096 };

/* tt_counters_conf.spread_register_bytes where the system gives no L2 size (counters.c). */
enum { TT_COUNTERS_SPREAD_UNKNOWN_L2 = 512 << 10 };

/* What the worker shards merged into a merged shard could not keep. */
struct tt_counters_losses {
	uint64_t overflowed;           /* packets counted under the "overflow" key */
	uint64_t lost;                 /* packets whose cell was lost even so */
	uint64_t hll_dropped;          /* HLL register updates not kept */
};

/*
 * The cells a packet touches whose hashes tt_counters_add_burst() works
 * out ahead, in tt_count_pkt.hash[]. Its country cell is in a plane, found by
 * an index (counters_internal.h); the rare packet the planes do not hold
 * hashes its country cell when it is counted.
 */
enum tt_count_cell {
	TT_CELL_PORT,
	TT_CELL_GROUP,                 /* the srcs HLLs of tt_counters_group_item() */
	TT_CELLS,
};

/** One packet as the counters see it. */
struct tt_count_pkt {
	uint32_t minute;               /* UTC minutes since the epoch */
	uint32_t svc;                  /* service key */
	uint32_t bytes;
	uint16_t sensor;
	uint16_t country;              /* < TT_COUNTRY_COUNT (tt_classify.h) */
	/* the source's HLL register and rank, as tt_hll_position() gives them */
	uint16_t hll_index;            /* < TT_HLL_REGISTERS */
	uint8_t hll_rank;              /* 1 .. TT_HLL_Q + 1 */
	uint8_t klass;                 /* enum tt_class */
	bool home;
	bool v6;
	bool malformed;
	bool watched;                  /* svc is in watch_ports */
	/* Filled by tt_counters_add_burst() as it counts the packet in cells: */
	uint32_t hash[TT_CELLS];
	/*
	 * and the line of the shard's record of registers set
	 * (counters_internal.h, SEEN_LINES) that may hold this packet's
	 * register in its group.
	 */
	uint32_t seen_line;
};

/**
 * The item of a packet's HLL group in a worker shard: its service if
 * watched, else 0. A mask, not a branch: GCC compiled `watched ? svc : 0`
 * to a jump, and in mixed traffic whether the next packet's service is
 * watched is a coin toss (callgrind's branch simulation, mixed capture:
 * 0.71 mispredicted a packet there, over its three uses).
 */
static inline uint32_t
tt_counters_group_item(const struct tt_count_pkt *p)
{
	return p->svc & (0u - (uint32_t)p->watched);
}

/**
 * Create a worker shard. Control thread.
 * @return the shard, or NULL with errno set (EINVAL, ENOMEM).
 */
struct tt_shard *tt_counters_create(const struct tt_counters_conf *conf);

/**
 * Create a merged shard of @p port_cells port cells to begin with (a power
 * of two >= 16; a quarter as many country and srcs cells), growing as cells
 * come. Control thread. @return it, or NULL with errno set.
 */
struct tt_merged *tt_counters_merged_create(uint32_t port_cells);
/** Free a merged shard; NULL is a no-op. */
void tt_counters_merged_free(struct tt_merged *m);
/** Forget every cell of a merged shard, keeping its tables' memory. */
void tt_counters_merged_reset(struct tt_merged *m);

/** Free a shard; NULL is a no-op. Control thread. */
void tt_counters_free(struct tt_shard *s);

/** Forget every cell, keeping the memory. Cost: the cells used, not the capacity. */
void tt_counters_reset(struct tt_shard *s);

/**
 * True when the shard might not keep @p packets more without overflow
 * (each may take a port, a country and an HLL group cell, and a set per
 * srcs variant, TT_HLL_VARIANTS). A replaying worker then waits for a swap
 * instead of dropping; a live one asks for an early swap. Owner only; a few
 * compares.
 */
bool tt_counters_pressure(const struct tt_shard *s, uint32_t packets);

/** Count one packet (a burst of one). By the shard's owner only. */
void tt_counters_add(struct tt_shard *s, const struct tt_count_pkt *p);

/**
 * Count a burst: pkts[order[0]], then pkts[order[1]], ... up to @p n
 * packets (at most 256; order's indexes are bytes). A packet that a flow
 * of the shard's takes (counters_internal.h, struct count_flows) is
 * counted there; the others are hashed (their hash[] and seen_line
 * written) and counted in the cells. While it counts a packet, the cells
 * of a packet a few further on are loading, and once the shard's HLL sets
 * are spread (tt_counters_sets_spread()) the registers of the
 * next-but-one, so their misses overlap the counting instead of following
 * it. (Prefetching a whole burst of 32 ahead measured worse:
 * ~400 lines evicted one another.) By the shard's owner; counts are sums
 * and register maxima, the same in any order.
 * @return false when the burst counted with the shard's record of the
 * registers already set off: a quarter or more of its looks missed and
 * gave up an entry, as under a spoofed flood (counters_internal.h,
 * SEEN_SAMPLE). The worker counts such packets
 * (tt_worker_stats.hll_record_off): a figure of cost, not of loss, as the
 * counts are the same either way.
 */
bool tt_counters_add_burst(struct tt_shard *s, struct tt_count_pkt *pkts,
		const uint8_t *order, unsigned int n);

/**
 * Will the shard's flows take the next burst (counters_internal.h, struct
 * count_flows)? They take packets in any order, so the worker need not
 * sort a burst by class for them (worker_dp.c, order_dark()). A load.
 * By the shard's owner.
 */
bool tt_counters_flows_on(const struct tt_shard *s);

/**
 * Count the shard's flows into its cells and empty them (counters_internal.h,
 * struct count_flows). By the shard's owner, the worker, before it hands the
 * shard over: the control thread reads only cells. A shard without flows,
 * or with none pending, costs a compare. Cost: the flows, a packet's worth
 * of counting each.
 */
void tt_counters_drain(struct tt_shard *s);

/**
 * Are the shard's mid and dense HLL sets more than the caches keep, past
 * its tt_counters_conf.spread_register_bytes (so that loading a packet's
 * registers ahead pays for itself)? Once a burst.
 */
bool tt_counters_sets_spread(const struct tt_shard *s);

/**
 * Add every cell of worker shard @p src into @p dst, and its losses.
 * @param bucket_minutes  0: sum all minutes into minute 0 (run totals);
 *                        1: keep minutes; 60: hours; 1440: days (UTC), each
 *                        bucket keyed by its first minute
 * @param with_all        also add each cell under TT_SCOPE_ALL
 * @return 0, or -ENOMEM (dst is then partly merged).
 */
int tt_counters_merge(struct tt_merged *dst, const struct tt_shard *src,
		uint32_t bucket_minutes, bool with_all);
/**
 * The same from a merged shard, of the cells of minute @p from_minute and
 * later only (the losses all go along). The alert feed keeps the buckets
 * not yet complete this way; the flush plan makes days of hours.
 */
int tt_counters_merge_merged(struct tt_merged *dst, const struct tt_merged *src,
		uint32_t bucket_minutes, bool with_all, uint32_t from_minute);
/**
 * The earliest minute (bucket) any cell of @p m holds, UINT32_MAX when it
 * holds none: whether a tt_counters_merge_merged() from a minute would
 * leave anything behind. Reads every cell's key, not its values.
 */
uint32_t tt_counters_merged_oldest_minute(const struct tt_merged *m);

/*
 * Reading a merged shard. Control plane. Readers see rows, never cells:
 * where a count belongs (bucket, scope, item) and its values, in the
 * schema's columns. A row is valid while the shard is unchanged.
 */
enum tt_counters_table {
	TT_COUNTERS_PORT,              /* item: a service key */
	TT_COUNTERS_COUNTRY,           /* item: a country index, or an overflow key */
	TT_COUNTERS_SRCS,              /* item: 0 for the whole scope, or a watched service */
	TT_COUNTERS_TABLES,
};

struct tt_counters_row {
	uint32_t minute;               /* the bucket's first minute; 0 in a run total */
	uint16_t sensor;               /* sensor index, or TT_SCOPE_ALL */
	uint32_t item;
	uint32_t order;                /* position in the table's insertion order */
	const uint64_t *counts;        /* port: [TT_PORT_COLS], country: [TT_COUNTRY_COLS] */
	const struct tt_hll *srcs;     /* srcs: [TT_HLL_VARIANTS]; NULL for the others */
};

/** Rows of a table. */
uint32_t tt_counters_rows(const struct tt_merged *m, enum tt_counters_table t);

/** Row @p i, in insertion order. */
void tt_counters_row(const struct tt_merged *m, enum tt_counters_table t, uint32_t i,
		struct tt_counters_row *out);

/**
 * The same of a worker shard handed over, for its port table only (its
 * srcs table holds pool handles, not sets, and most of its country counts
 * are in planes, not cells: read them through tt_counters_merge()). The
 * live view's per-sensor packets.
 */
uint32_t tt_counters_shard_rows(const struct tt_shard *s, enum tt_counters_table t);
void tt_counters_shard_row(const struct tt_shard *s, enum tt_counters_table t, uint32_t i,
		struct tt_counters_row *out);

enum tt_counters_order {
	TT_COUNTERS_BY_SCOPE,          /* sensor (TT_SCOPE_ALL last), minute, item */
	TT_COUNTERS_BY_SENSOR,         /* sensor; insertion order within one */
	TT_COUNTERS_BY_MINUTE,         /* minute; insertion order within one */
};

/* Rows in an order: the flush plan walks scopes, the alert feed buckets. */
struct tt_counters_rows {
	struct tt_counters_row *row;
	uint32_t n;
};

/**
 * The rows of table @p t whose minute is in [@p from_minute, @p end_minute),
 * in order @p o. Cost: a copy of their keys and a sort.
 * @return 0, or -ENOMEM (nothing to free then).
 */
int tt_counters_sorted(const struct tt_merged *m, enum tt_counters_table t,
		enum tt_counters_order o, uint32_t from_minute, uint32_t end_minute,
		struct tt_counters_rows *out);

/** Free what tt_counters_sorted() made; a zeroed list is a no-op. */
void tt_counters_rows_free(struct tt_counters_rows *r);

/** Packets of the shard's cells under @p sensor (TT_SCOPE_ALL: the all scope's). */
uint64_t tt_counters_scope_pkts(const struct tt_merged *m, uint16_t sensor);

/** Cells of every table (what a flush writes, roughly one command each). */
uint32_t tt_counters_cells(const struct tt_merged *m);

/** What the merged worker shards could not keep. */
void tt_counters_merged_losses(const struct tt_merged *m, struct tt_counters_losses *out);


/** A worker shard's cells counted under the "overflow" key, and those lost when even that was full. */
uint64_t tt_counters_overflowed(const struct tt_shard *s);
uint64_t tt_counters_lost(const struct tt_shard *s);

/** HLL register updates a worker shard could not keep (pools or table full). */
uint64_t tt_counters_hll_dropped(const struct tt_shard *s);

/** Bytes of memory a shard holds (benchmarks, telemetry, the publisher's backlog). */
uint64_t tt_counters_memory(const struct tt_shard *s);
uint64_t tt_counters_merged_memory(const struct tt_merged *m);

#endif /* TT_COUNTERS_H */
