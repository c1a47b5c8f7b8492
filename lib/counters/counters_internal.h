/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_COUNTERS_INTERNAL_H
#define TT_COUNTERS_INTERNAL_H

#include "tt_counters.h"

/* A cell's key; readers outside counters see rows (struct tt_counters_row). */
struct tt_cell_key {
	uint32_t minute;               /* UTC minutes since the epoch; 0 once collapsed */
	uint16_t sensor;               /* sensor index, or TT_SCOPE_ALL */
	uint16_t used;                 /* 1 in an occupied slot */
	uint32_t item;                 /* service key, or country index */
	uint32_t reserved;
};

/*
 * Open addressing with linear probing. A cell is its key followed by its
 * values, padded to a power of two and aligned, so finding and counting a
 * cell touches one line (two adjacent ones for the 120-byte port cells)
 * instead of a key line and a values line elsewhere: on the mixed benchmark
 * that is ~3 fewer lines a packet. `order` lists the occupied slots so
 * reading and resetting cost the cells used, not the capacity.
 *
 * A port cell of one line (32-bit columns, the bytes in 64) was weighed
 * and not built: a throwaway build that neither prefetched nor wrote the
 * second line (the class columns) measured 1.038 (mixed) and 0.993 (its
 * 2,000-frame loop) against this layout, the medians of 6 interleaved
 * pairs of 4 s. The adjacent line costs nothing that shows here.
 */
struct tt_table {
	uint32_t mask;                 /* capacity - 1 */
	uint32_t limit;                /* ordinary keys stop here (3/4 full) */
	/*
	 * Overflow keys stop here (7/8 full). Filling the table completely made
	 * every lookup of a missing key walk the whole table: a flood at 4096
	 * sensors, whose country cells overflow, spent 11,725 busy cycles a
	 * packet. At 7/8 a miss probes ~32 slots on average.
	 */
	uint32_t reserve_limit;
	uint32_t used;
	uint32_t width;                /* values per cell */
	uint32_t stride_shift;         /* a cell is 1 << stride_shift bytes */
	bool growable;
	uint32_t *order;
	uint8_t *cells;                /* aligned to a cache line */
	void *cells_mem;               /* what was allocated for them */
};

/*
 * The stride of a cell of @p width values: its key and values, rounded up
 * to a power of two of 32 to 1,024 bytes (table_init() refuses more). One
 * rule for every table; a constant width folds it to a constant, as the
 * data path's are (counters_dp.c, PORT_SHIFT...).
 */
#define CELL_BYTES(width) (sizeof(struct tt_cell_key) + (size_t)(width) * sizeof(uint64_t))
#define STRIDE_SHIFT(width) (CELL_BYTES(width) <= 32 ? 5u : CELL_BYTES(width) <= 64 ? 6u : \
	CELL_BYTES(width) <= 128 ? 7u : CELL_BYTES(width) <= 256 ? 8u : \
	CELL_BYTES(width) <= 512 ? 9u : 10u)
#define MAX_CELL_BYTES 1024

/* Cell @p slot of a table whose stride is 1 << @p shift (its stride_shift). */
static inline struct tt_cell_key *
cell_key_at(const struct tt_table *t, uint32_t slot, uint32_t shift)
{
	return (struct tt_cell_key *)(t->cells + ((size_t)slot << shift));
}

static inline uint64_t *
cell_values_at(const struct tt_table *t, uint32_t slot, uint32_t shift)
{
	return (uint64_t *)(t->cells + ((size_t)slot << shift) + sizeof(struct tt_cell_key));
}

/* The slot of the cell @p c points into (its key or its values): cell_key_at()'s inverse. */
static inline uint32_t
cell_slot_at(const struct tt_table *t, const void *c, uint32_t shift)
{
	return (uint32_t)(((const uint8_t *)c - t->cells) >> shift);
}

static inline struct tt_cell_key *
cell_key(const struct tt_table *t, uint32_t slot)
{
	return cell_key_at(t, slot, t->stride_shift);
}

static inline uint64_t *
cell_values(const struct tt_table *t, uint32_t slot)
{
	return cell_values_at(t, slot, t->stride_shift);
}

/*
 * A worker shard's record of the HLL registers it has set this interval:
 * SEEN_LINES lines of SEEN_WAYS entries, a set-associative cache in front
 * of the pool (counters_dp.c, count_source()). An entry is
 *   (group cell's slot + 1) << 32 | register << 18 | rank << 12 | variants
 * and says the group's sets of those variants hold that register at that
 * rank at least; 0 is an empty way. Only the shard's writer reads it, and
 * tt_counters_reset() clears it with the shard.
 */
enum {
	SEEN_WAYS = 8,                 /* one cache line */
	SEEN_LINES = 4096,             /* 256 KiB a shard */
	/*
	 * A look in the seen lines pays only when most packets find their
	 * register there. Every SEEN_SAMPLE looks, if a quarter of them or
	 * more missed and gave up another entry for theirs (their lines were
	 * full), the lines are off for the next SEEN_PAUSE packets, which go
	 * to the pool as they would without them, from the next burst on
	 * (start_burst(), counters_dp.c). A spoofed flood, whose every packet
	 * is a new source, fills the lines in its first 32,768 packets of an
	 * interval (a swap clears them, and ends a pause) and then pays a
	 * branch a burst, and a sample every SEEN_PAUSE packets.
	 *
	 * Why a quarter: at half, the benchmark's flood at one sensor, a loop
	 * of 2^20 sources, found about half its sources again in each sample
	 * (those a sample a loop before had recorded), and 775 of its 870
	 * samples an interval kept the lines on: 12% of its packets looked,
	 * for hits that each saved one update of a dense set in cache. At a
	 * quarter, 2.3% look. Interleaved medians, busy cycles a packet, the
	 * pool alone / half / a quarter: one sensor 107.1 / 112.7 / 109.4 (and
	 * 113.4 / - / 111.3 of 5), Mirai-type 206.2 / 222.8 / 219.2 (205.5 /
	 * - / 214.1 of 5), the mixed 2,000-frame loop 207.0 / 184.9 / 183.6.
	 * A pause of 2^20 packets measured the same as 65,536, so the shorter
	 * stays: traffic that turns from a flood to repeats finds the lines
	 * again sooner. Misses that fill empty ways do not count:
	 * each interval starts with them, and a source must be seen once to
	 * be found again. (Judged on misses alone, the mixed 20,000-frame
	 * loop turned the lines off before its first pass had filled them.)
	 */
	SEEN_SAMPLE = 1024,
	SEEN_PAUSE = 64 * 1024,
};
#define SEEN_BYTES ((size_t)SEEN_LINES * SEEN_WAYS * sizeof(uint64_t))
#define SEEN_VARIANT_BITS 0xffull
_Static_assert(TT_HLL_VARIANTS <= 8, "a seen entry keeps a bit per variant in its low byte");
_Static_assert(TT_HLL_P == 14, "a seen entry keeps a register in 14 bits");
_Static_assert(TT_HLL_Q + 1 < 64, "a seen entry keeps a rank in 6 bits");

/*
 * A worker shard's country counts of up to two minutes, dense: one plane a
 * minute (plane[minute & 1]), a cell for each (country column, sensor),
 * laid out column by column, so the cells of one country for every sensor
 * are adjacent. Countries take columns as they are first seen in the
 * interval.
 *
 * Why: in the country table a cell is 32 bytes at a hashed slot, so every
 * (sensor, country) of a minute is a line of its own. A spoofed flood to
 * 4,096 sensors touches ~1 million of them (32 MiB), and each packet
 * missed L2 there: a build that counted no countries at all took 0.70 to
 * 0.78 of the cycles a packet of that row, 0.87 at 64 sensors. In a plane
 * the countries most packets come from share lines (eight sensors a line),
 * and a cell is found by an index, not a probe.
 *
 * What does not fit goes to the country table as before, so nothing is
 * lost: a third minute in an interval, a country past COUNTRY_COLUMNS, a
 * sensor past the planes' rows (one added by a reload), and a cell whose
 * 32-bit packet count is full (a worker would need 71 million packets a
 * second for a minute to fill one). A merge adds both.
 *
 * Owner: the shard's worker writes it; the control thread reads and resets
 * it once the shard is handed over, like the tables.
 */
enum {
	COUNTRY_COLUMNS = 255,         /* column_of[] keeps column + 1 in a byte */
	COUNTRY_PLANES = 2,
};
/* a plane's minute while it counts none: no packet's (seconds are 32 bits) */
#define PLANE_FREE UINT32_MAX

struct country_count {
	uint32_t pkts;                 /* TT_COUNTRY_COL_PKTS; UINT32_MAX: full */
	uint32_t mirai;                /* TT_COUNTRY_COL_MIRAI, never more than pkts */
};

struct country_plane {
	uint32_t minute;               /* the minute it counts, or PLANE_FREE */
	uint32_t used;                 /* cells counted, listed in order[] */
	struct country_count *cells;   /* [column * rows + sensor] */
	uint32_t *order;               /* cells in the order of their first packet */
};

struct country_planes {
	uint32_t rows;                 /* sensors 0 .. rows - 1; 0: no planes */
	uint32_t columns;              /* columns taken this interval */
	uint8_t column_of[TT_COUNTRY_COUNT];   /* country -> column + 1; 0: none yet */
	uint16_t country_of[COUNTRY_COLUMNS];  /* column -> country */
	struct country_plane plane[COUNTRY_PLANES];
	void *mem;                     /* both planes' cells and orders */
};

/*
 * A worker shard's flows: its packets summed by everything their counting
 * depends on, so that a packet repeating one (a scanner's next probe of
 * the same sensor and service) costs one probe of one table, instead of a
 * port cell, a country cell, an HLL group and its registers. The cells are
 * sums and the registers maxima, so a flow of n packets counted once with
 * weight n gives the cells and registers its n packets would have.
 *
 * A flow's key is a packet's (minute, service), then (sensor, country,
 * HLL register, rank, class) and its four flags: two words, the second
 * with a bit that marks the slot used (flow_key_of(), counters_dp.c).
 * Open addressing with linear probing, 32 bytes a slot; `order` lists the
 * flows in the order of their first packets.
 *
 * Owner: the shard's worker, which counts the flows into the cells
 * (tt_counters_drain()) before it hands the shard over, and as soon as the
 * table reaches its limit; the rest of that interval's packets then go to
 * the cells directly. Drained in the order of their first packets, the
 * flows make the cells in the order their first packets would have, and
 * fill the tables and planes exactly as the packets would, so what the
 * control thread reads is the same with flows or without.
 */
struct count_flow {
	uint64_t key[2];               /* key[1] 0: an empty slot */
	uint64_t pkts;
	uint64_t bytes;
};

struct count_flows {
	uint32_t mask;                 /* capacity - 1; no table: 0 */
	uint32_t limit;                /* 3/4 of the capacity */
	uint32_t used;
	bool on;                       /* packets go to flows; off once full, until the drain */
	struct count_flow *slots;      /* line-aligned */
	uint32_t *order;
	void *mem;
};

/* A worker's shard: fixed capacity, HLL groups as handles into its pool. */
struct tt_shard {
	struct tt_table port;
	struct tt_table country;       /* what the planes do not hold */
	struct country_planes planes;
	struct tt_table hll;           /* values: struct tt_hll_slots */
	struct tt_hll_pool *pool;
	uint64_t *seen;                /* SEEN_LINES * SEEN_WAYS entries, line-aligned */
	void *seen_mem;                /* what was allocated for them */
	uint32_t seen_victim;          /* the way a full line gives up next */
	uint32_t seen_looks;           /* looks in this sample, up to SEEN_SAMPLE */
	uint32_t seen_evicted;         /* of which gave up another entry */
	uint32_t seen_off;             /* packets left to count without the lines */
	bool seen_on;                  /* this burst looks in them (start_burst(), counters_dp.c) */
	uint64_t spread_register_bytes;    /* tt_counters_conf; fixed at create */
	uint64_t overflowed;           /* packets counted under the overflow key */
	uint64_t lost;                 /* packets whose cell could not be kept at all */
	uint64_t hll_dropped;          /* HLL updates without a group cell */
	struct count_flows flows;      /* last: the fields above keep their lines */
};

/* The control plane's merged shard: tables that grow, HLLs as struct tt_hll. */
struct tt_merged {
	struct tt_table port;
	struct tt_table country;
	struct tt_table hll;           /* values: struct tt_hll[TT_HLL_VARIANTS] */
	struct tt_counters_losses losses;       /* summed over what was merged in */
};

/*
 * The values of an HLL group cell, in 64-bit words, rounded up: five
 * 4-byte handles take 3 words, so with the 16-byte key a worker's group
 * cell is 40 bytes, padded to 64 (it was 32 with four variants). Still one
 * line a packet; the table's address space doubles (1 MiB a shard at the
 * default 16384 cells), touched only as cells are used.
 */
#define HLL_WORDS(bytes) (((bytes) + sizeof(uint64_t) - 1) / sizeof(uint64_t))
#define HLL_SLOT_WORDS HLL_WORDS(sizeof(struct tt_hll_slots))
#define HLL_SET_WORDS HLL_WORDS(sizeof(struct tt_hll) * TT_HLL_VARIANTS)

uint64_t *counters_table_find_or_add(struct tt_table *t, const struct tt_cell_key *k,
		bool reserve);
/* Start loading the slot where a find of key @p k in @p t starts. */
void counters_table_prefetch(const struct tt_table *t, const struct tt_cell_key *k);
int counters_table_grow(struct tt_table *t);

#endif /* TT_COUNTERS_INTERNAL_H */
