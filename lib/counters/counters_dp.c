/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-packet counting into a worker's own shard: two table updates and one
 * HLL group, no atomics (single writer), no allocation (fixed capacity,
 * pools).
 */
#include "tt_counters.h"

#include <stddef.h>
#include <string.h>

#include "tt_data_path.h"
#include "counters_internal.h"

TT_DATA_PATH static inline uint32_t
key_hash(const struct tt_cell_key *k)
{
	uint64_t a = (uint64_t)k->minute << 32 | (uint64_t)k->sensor << 16;
	uint64_t h = (a ^ k->item) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

TT_DATA_PATH static inline bool
key_equal(const struct tt_cell_key *a, const struct tt_cell_key *b)
{
	return a->minute == b->minute && a->sensor == b->sensor && a->item == b->item;
}

/*
 * The strides of a worker shard's tables, fixed by their columns
 * (tt_counters_create()). The data path's cell addresses take them as
 * constants where the table's stride_shift was a load and a shift by a
 * register at every cell it touched: callgrind of the worker, mixed
 * 2,000-frame loop, 965.2 -> 944.1 instructions a packet.
 */
enum {
	PORT_SHIFT = STRIDE_SHIFT(TT_PORT_COLS),
	COUNTRY_SHIFT = STRIDE_SHIFT(TT_COUNTRY_COLS),
	GROUP_SHIFT = STRIDE_SHIFT(HLL_SLOT_WORDS),
};

/*
 * Find or add key @p k, probing from its first slot (the slot its hash
 * names): the burst's pipeline takes that slot's address from the
 * packet's prefetch (struct cells_at), find_or_add_hashed() from the hash.
 * @param slot     the key's first slot
 * @param reserve  allow the table's reserve (overflow keys only), so the
 *                 overflow key of a full table still finds a slot
 * @param shift    the table's stride_shift (a constant where known)
 * @return the cell's values, or NULL when the table is full.
 */
TT_DATA_PATH static inline uint64_t *
find_or_add_from(struct tt_table *t, const struct tt_cell_key *k, struct tt_cell_key *slot,
		bool reserve, uint32_t shift)
{
	for (;;) {
		if (!slot->used)
			break;
		if (key_equal(slot, k))
			return (uint64_t *)(slot + 1);
		slot = cell_key_at(t, (cell_slot_at(t, slot, shift) + 1) & t->mask, shift);
	}
	if (t->used >= (reserve ? t->reserve_limit : t->limit))
		return NULL;
	*slot = *k;
	slot->used = 1;
	t->order[t->used++] = cell_slot_at(t, slot, shift);
	return (uint64_t *)(slot + 1);
}

/* The same from @p h, key_hash(k). */
TT_DATA_PATH static inline uint64_t *
find_or_add_hashed(struct tt_table *t, const struct tt_cell_key *k, uint32_t h, bool reserve,
		uint32_t shift)
{
	return find_or_add_from(t, k, cell_key_at(t, h & t->mask, shift), reserve, shift);
}

TT_DATA_PATH uint64_t *
counters_table_find_or_add(struct tt_table *t, const struct tt_cell_key *k, bool reserve)
{
	return find_or_add_hashed(t, k, key_hash(k), reserve, t->stride_shift);
}

/* The control plane's, for its merges: here, where the hash is. */
void
counters_table_prefetch(const struct tt_table *t, const struct tt_cell_key *k)
{
	tt_prefetch(cell_key_at(t, key_hash(k) & t->mask, t->stride_shift));
}

/*
 * Where a packet's cells start their probes, and its line of the seen
 * record: prefetch_cells() works them out to load them, and
 * prefetch_sets() and add_hashed() take them from it, CELLS_AHEAD and
 * SETS_AHEAD packets later, instead of each working them out again from
 * the hashes (a mask, a load and a shift a table; the seen line's).
 */
struct cells_at {
	struct tt_cell_key *port;
	struct country_count *country_cell;    /* its plane's cell, or NULL */
	struct tt_cell_key *country;   /* else its first slot in the table */
	struct tt_cell_key *group;
	uint64_t *seen;                /* NULL while the record is off (start_burst()) */
};

/* The cell of key @p k, else its table's overflow cell; @p w packets are counted in it. */
TT_DATA_PATH static inline uint64_t *
find_or_overflow(struct tt_shard *s, struct tt_table *t, struct tt_cell_key *k,
		struct tt_cell_key *slot, uint32_t shift, uint64_t w)
{
	uint64_t *v = find_or_add_from(t, k, slot, false, shift);

	if (v != NULL)
		return v;
	k->item = TT_SVC(TT_SVC_OVERFLOW, 0);
	v = counters_table_find_or_add(t, k, true);
	if (v != NULL)
		s->overflowed += w;
	else
		s->lost += w;
	return v;
}

/* Column @p column's (1-based, as column_of[] keeps it) cell of @p sensor in @p pl. */
TT_DATA_PATH static inline struct country_count *
plane_cell_at(const struct country_planes *cp, const struct country_plane *pl,
		uint32_t column, uint16_t sensor)
{
	return &pl->cells[(column - 1) * cp->rows + sensor];
}

/*
 * The plane cell of a packet's (minute, sensor, country), or NULL: its
 * country has no column yet, its minute no plane, or its sensor no row
 * (struct country_planes). One branch: the three tests are ORed.
 */
TT_DATA_PATH static inline struct country_count *
plane_cell(const struct country_planes *cp, const struct tt_count_pkt *p)
{
	const struct country_plane *pl = &cp->plane[p->minute & 1];
	uint32_t column = cp->column_of[p->country];

	if (__builtin_expect((column == 0) | (pl->minute != p->minute) | (p->sensor >= cp->rows),
			0))
		return NULL;
	return plane_cell_at(cp, pl, column, p->sensor);
}

/*
 * plane_cell(), giving the packet's country a column and its minute a
 * plane where there is one free. Out of line: a shard's first packet of
 * each country and minute come here, then those the planes cannot hold.
 */
TT_DATA_PATH static __attribute__((noinline)) struct country_count *
plane_cell_claim(struct country_planes *cp, const struct tt_count_pkt *p)
{
	struct country_plane *pl = &cp->plane[p->minute & 1];
	uint32_t column = cp->column_of[p->country];

	if (p->sensor >= cp->rows || (pl->minute != p->minute && pl->minute != PLANE_FREE))
		return NULL;
	if (column == 0) {
		if (cp->columns == COUNTRY_COLUMNS)
			return NULL;
		cp->country_of[cp->columns] = p->country;
		column = ++cp->columns;
		cp->column_of[p->country] = (uint8_t)column;
	}
	pl->minute = p->minute;
	return plane_cell_at(cp, pl, column, p->sensor);
}

/*
 * The hash of a packet's country cell in the table: only for what the
 * planes do not hold, so hash_packet() leaves it out.
 */
TT_DATA_PATH static inline uint32_t
country_hash(const struct tt_count_pkt *p)
{
	struct tt_cell_key k = { .minute = p->minute, .sensor = p->sensor, .item = p->country };

	return key_hash(&k);
}

/*
 * Count a packet's country: in its plane cell, else (struct
 * country_planes) in the country table. A cell's first packet lists it
 * and a full cell sends the packet to the table: one test of pkts - 1
 * catches both (0, and too full for @p w more), so a packet after a
 * cell's first pays one branch. (The first packet's count written apart, not by falling
 * through to the increments: with one increment site, flood at 64
 * sensors, pair ratios 1.008, 1.026, 1.022, 1.074, 1.021, 1.009, 1.005.)
 */
TT_DATA_PATH static inline void
count_country(struct tt_shard *s, struct tt_cell_key *k, const struct tt_count_pkt *p,
		const struct cells_at *at, bool mirai, uint64_t w)
{
	struct country_count *c = at->country_cell;
	struct tt_cell_key *slot;
	uint64_t *v;

	if (__builtin_expect(c == NULL, 0))
		c = plane_cell_claim(&s->planes, p);
	/* a cell takes the @p w packets whole, or the table does (w is 1 but in a drain) */
	if (__builtin_expect(c != NULL && w < UINT32_MAX, 1)) {
		if (__builtin_expect(c->pkts - 1u < UINT32_MAX - (uint32_t)w, 1)) {
			c->pkts += (uint32_t)w;
			c->mirai += mirai * (uint32_t)w;
			return;
		}
		if (c->pkts == 0) {
			struct country_plane *pl = &s->planes.plane[p->minute & 1];

			pl->order[pl->used++] = (uint32_t)(c - pl->cells);
			c->pkts = (uint32_t)w;
			c->mirai = mirai * (uint32_t)w;
			return;
		}
	}
	slot = at->country != NULL ? at->country :
		cell_key_at(&s->country, country_hash(p) & s->country.mask, COUNTRY_SHIFT);
	k->item = p->country;
	v = find_or_overflow(s, &s->country, k, slot, COUNTRY_SHIFT, w);
	if (v != NULL) {
		v[TT_COUNTRY_COL_PKTS] += w;
		v[TT_COUNTRY_COL_MIRAI] += mirai * w;
	}
}

/*
 * Does a packet set this srcs HLL of its group: always "all", then home and
 * mirai as they apply. One rule for counting and for
 * prefetch_sets(), asked in loops unrolled over the variants,
 * so each test folds to what a hand-written one would be (a loop over the
 * set bits of a mask measured worse on the mixed 2,000-frame loop).
 *
 * home:nonmirai (the F5 figure's other sources, exact within HLL error
 * instead of home less home:mirai) costs every packet one more test of two
 * flags already in registers, and a home packet that is not Mirai-type one
 * more register update: a compare and store in a dense set's line (one
 * more line, likely a miss once sets are spread), or a scan of a sparse
 * set's 32 registers (two lines), plus one more prefetch when sets are
 * spread. Other packets set nothing more. Not measured here (no quiet
 * machine); a home share of 15% makes it ~0.15 extra register updates a
 * packet against the one to four every packet already makes. The group
 * cell grows too (counters_internal.h, HLL_SLOT_WORDS).
 */
TT_DATA_PATH static inline bool
sets_variant(const struct tt_count_pkt *p, unsigned int variant)
{
	bool mirai = p->klass == TT_CLASS_MIRAI;

	switch (variant) {
	case TT_HLL_ALL:
		return true;
	case TT_HLL_HOME:
		return p->home;
	case TT_HLL_MIRAI:
		return mirai;
	case TT_HLL_HOME_MIRAI:
		return mirai && p->home;
	default:                       /* TT_HLL_HOME_NONMIRAI */
		return !mirai && p->home;
	}
}
/* The loops over the variants (#pragma GCC unroll 8) unroll whole. */
_Static_assert(TT_HLL_VARIANTS <= 8, "more variants than the loops unroll");

/* The variants a packet sets, a bit each (sets_variant()). */
TT_DATA_PATH static inline uint64_t
variants_of(const struct tt_count_pkt *p)
{
	uint64_t bits = 0;
	unsigned int i;

#pragma GCC unroll 8
	for (i = 0; i < TT_HLL_VARIANTS; i++)
		bits |= (uint64_t)sets_variant(p, i) << i;
	return bits;
}

/*
 * The line of seen entries that may hold the packet's register in its
 * group, from its group cell's hash: hash_packet() keeps it in
 * p->seen_line. The line is asked for three times a packet (the cells'
 * prefetch, the registers' prefetch, the count), and hashing it each time
 * cost callgrind of the worker, mixed 2,000-frame loop, 978.8 -> 965.2
 * instructions a packet.
 */
TT_DATA_PATH static inline uint32_t
seen_line_of(uint32_t group_hash, uint16_t hll_index, uint8_t hll_rank)
{
	uint32_t x = (group_hash ^ ((uint32_t)hll_index << 6 | hll_rank)) * 0x9e3779b1u;

	return x >> 18 & (SEEN_LINES - 1);
}
_Static_assert(SEEN_LINES <= 1 << 14, "seen_line_of() takes a line from 14 bits of the product");

TT_DATA_PATH static inline uint64_t *
seen_line(const struct tt_shard *s, const struct tt_count_pkt *p)
{
	return s->seen + (size_t)p->seen_line * SEEN_WAYS;
}

/* A seen entry's key (its variants left 0): the group cell's slot, the register, the rank. */
TT_DATA_PATH static inline uint64_t
seen_key(uint32_t slot, const struct tt_count_pkt *p)
{
	return ((uint64_t)slot + 1) << 32 | (uint64_t)p->hll_index << 18 |
		(uint64_t)p->hll_rank << 12;
}

/* The way of @p line whose key is @p key, or NULL. */
TT_DATA_PATH static inline uint64_t *
seen_find(uint64_t *line, uint64_t key)
{
	unsigned int w;

	for (w = 0; w < SEEN_WAYS; w++)
		if ((line[w] & ~SEEN_VARIANT_BITS) == key)
			return &line[w];
	return NULL;
}

/*
 * Set the register of @p w packets like @p p in every variant set of group
 * @p g they set, without the seen lines; a dropped update is counted once
 * a packet. @p w is 1 but in a drain, and folds away.
 */
TT_DATA_PATH static inline __attribute__((always_inline)) void
add_to_sets(struct tt_hll_pool *pool, struct tt_hll_slots *g, const struct tt_count_pkt *p,
		uint64_t w)
{
	unsigned int i;

#pragma GCC unroll 8
	for (i = 0; i < TT_HLL_VARIANTS; i++)
		if (sets_variant(p, i) &&
				!tt_hll_pool_add(pool, &g->h[i], p->hll_index, p->hll_rank) && w > 1)
			tt_hll_pool_count_dropped(pool, w - 1);
}

/*
 * Set the packet's register in its group's sets (cell key @p k, hash
 * @p h), in the variants the seen lines do not already have it in.
 *
 * Why the seen lines: a darknet's packets mostly repeat a source that has
 * already set the same register in the same group this interval (a
 * scanner's next probe of the same sensor and service), and setting it
 * again changes nothing. The seen lines answer that with one line of a
 * 256 KiB table, prefetched with the cells, instead of a register update
 * per variant: a scan of a sparse set's 32 registers (two lines), a mid
 * set's probe or a dense set's line. An entry is written only for the
 * variants whose update was kept, so a register the pool dropped is tried
 * (and counted) again as before, and forgetting an entry (a full line
 * gives one up) only costs a repeat of an update that changes nothing:
 * the registers, and so Redis, are the same as without the lines.
 *
 * Interleaved medians of 3, busy cycles a packet, against the pool alone:
 * mixed 2,000-frame loop 236.1 -> 205.8 and 222.7 -> 199.7 (two runs);
 * mixed 20,000-frame loop 239.4 -> 239.6 (its 256 sources' registers
 * were already cheap: the look costs what the updates did); the floods,
 * with the lines turning off at the first rule (half a sample evicting;
 * SEEN_SAMPLE gives today's and its figures): one sensor 118.2 -> 123.2,
 * 64 sensors 158.5 -> 156.9, 4,096 sensors 282.6 -> 299.8 (runs 255-293
 * and 266-312), Mirai-type 250.8 -> 249.2. 1,024 lines were worse on both
 * mixed loops (thrashing), 16,384 no better than 4,096.
 *
 * With the lines off, a flood at 4,096 sensors pays here for a third of
 * its path: against a build that skipped the updates (the group cell
 * still found), 406 -> 272 busy cycles a packet (median of 5 interleaved
 * pairs' ratios 0.67; one sensor 142 -> 128). Each sensor's "all" set is
 * a mid set of ~250 registers, 4 MiB over the sensors, and a packet's
 * register a random line of them. Tried and not kept: logging the
 * updates (32,768 a shard) and folding them in line order when the log
 * filled, so the walk through the sets ascends. Pair ratios against this
 * path, 5, 6 and 6 pairs of 4 s: 1.23, 1.21 and 0.98 (the last in an
 * hour when one binary's runs spread from 407 to 2,188). In perf of that
 * build the fold's mid-set probes still took 11% of the worker's samples.
 */
TT_DATA_PATH static void
count_source(struct tt_shard *s, const struct tt_cell_key *k, const struct cells_at *at,
		const struct tt_count_pkt *p)
{
	uint64_t *v = find_or_add_from(&s->hll, k, at->group, false, GROUP_SHIFT);
	uint64_t want, had = 0, kept = 0, key, *line, *e;
	struct tt_hll_slots *g;
	unsigned int i;

	if (v == NULL) {
		s->hll_dropped++;
		return;
	}
	g = (struct tt_hll_slots *)v;
	if (!s->seen_on) {
		add_to_sets(s->pool, g, p, 1);
		return;
	}
	if (++s->seen_looks == SEEN_SAMPLE) {
		if (s->seen_evicted >= SEEN_SAMPLE / 4)
			s->seen_off = SEEN_PAUSE;  /* from the next burst */
		s->seen_looks = 0;
		s->seen_evicted = 0;
	}
	want = variants_of(p);
	key = seen_key(cell_slot_at(&s->hll, v, GROUP_SHIFT), p);
	line = at->seen;
	e = seen_find(line, key);
	if (e != NULL) {
		had = *e & SEEN_VARIANT_BITS;
		if ((want & ~had) == 0)
			return;
	} else {
		e = seen_find(line, 0);
		if (e == NULL) {
			e = &line[s->seen_victim++ & (SEEN_WAYS - 1)];
			s->seen_evicted++;
		}
	}
#pragma GCC unroll 8
	for (i = 0; i < TT_HLL_VARIANTS; i++)
		if ((want & ~had) >> i & 1 &&
				tt_hll_pool_add(s->pool, &g->h[i], p->hll_index, p->hll_rank))
			kept |= 1ull << i;
	*e = key | had | kept;
}

/* At most half of a pool: a fresh shard is never under pressure. */
TT_DATA_PATH static inline uint32_t
headroom(uint32_t wanted, uint32_t capacity)
{
	return wanted < capacity / 2 ? wanted : capacity / 2;
}

TT_DATA_PATH bool
tt_counters_pressure(const struct tt_shard *s, uint32_t packets)
{
	/*
	 * A pending flow may take sets as a packet does once drained; the
	 * cells it may take are in the tables' room already (flows_room()).
	 */
	uint32_t sparse, dense, with_flows = packets + s->flows.used;

	if (s->port.used + headroom(packets, s->port.limit) > s->port.limit ||
			s->country.used + headroom(packets, s->country.limit) > s->country.limit ||
			s->hll.used + headroom(packets, s->hll.limit) > s->hll.limit)
		return true;
	tt_hll_pool_free_sets(s->pool, &sparse, &dense);
	return sparse < headroom(TT_HLL_VARIANTS * with_flows,
			tt_hll_pool_capacity_sparse(s->pool)) ||
		dense < headroom(TT_HLL_VARIANTS * with_flows, tt_hll_pool_capacity_dense(s->pool));
}

TT_DATA_PATH static inline void
hash_packet(struct tt_count_pkt *p)
{
	struct tt_cell_key k = { .minute = p->minute, .sensor = p->sensor, .item = p->svc };

	p->hash[TT_CELL_PORT] = key_hash(&k);
	k.item = tt_counters_group_item(p);
	p->hash[TT_CELL_GROUP] = key_hash(&k);
	p->seen_line = seen_line_of(p->hash[TT_CELL_GROUP], p->hll_index, p->hll_rank);
}

/*
 * Through tt_prefetch_write(): with __builtin_prefetch, GCC deleted this
 * function's calls as dead code and the cells' prefetch was an empty
 * function. Issued at last, interleaved medians of 3, busy cycles a
 * packet: flood at 4,096 sensors 284.9 -> 246.8 and 266.8 -> 252.1 (two
 * runs), at 64 sensors 131.6 -> 127.4 and 133.6 -> 125.0; at one sensor
 * 101.6 -> 103.2 and mixed 2,000-frame loop 222.9 -> 227.3, where the
 * cells stay in cache and only the instructions remain (gating it on the
 * cells in use lost the 64-sensor gain and won nothing clear back).
 */
TT_DATA_PATH static inline struct tt_cell_key *
prefetch_cell(const struct tt_table *t, uint32_t h, uint32_t shift)
{
	struct tt_cell_key *c = cell_key_at(t, h & t->mask, shift);

	tt_prefetch_write(c);
	if (shift > 6)
		tt_prefetch_write((const uint8_t *)c + 64);
	return c;
}

/*
 * Start loading the cells p->hash points at, and its line of the seen
 * record; @p at keeps where they are.
 */
TT_DATA_PATH static inline void
prefetch_cells(const struct tt_shard *s, const struct tt_count_pkt *p, struct cells_at *at)
{
	at->port = prefetch_cell(&s->port, p->hash[TT_CELL_PORT], PORT_SHIFT);
	/* the plane's cell where it has one, else the table's */
	at->country_cell = plane_cell(&s->planes, p);
	at->country = NULL;
	if (__builtin_expect(at->country_cell != NULL, 1))
		tt_prefetch_write(at->country_cell);
	else
		at->country = prefetch_cell(&s->country, country_hash(p), COUNTRY_SHIFT);
	at->group = prefetch_cell(&s->hll, p->hash[TT_CELL_GROUP], GROUP_SHIFT);
	at->seen = NULL;
	if (s->seen_on) {
		at->seen = seen_line(s, p);
		tt_prefetch_write(at->seen);
	}
}

/* Whether this burst of @p packets looks in the seen record (SEEN_SAMPLE). */
TT_DATA_PATH static inline bool
start_burst(struct tt_shard *s, uint32_t packets)
{
	s->seen_on = s->seen_off == 0;
	if (!s->seen_on)
		s->seen_off = packets < s->seen_off ? s->seen_off - packets : 0;
	return s->seen_on;
}

/*
 * Start loading the registers the packet will set, through its HLL group
 * cell, once prefetch_cells() of the packet has had time to bring the cell
 * in. A cell not yet made, or not at its first slot, is left alone.
 */
TT_DATA_PATH static inline void
prefetch_sets(const struct tt_shard *s, const struct tt_count_pkt *p, const struct cells_at *at)
{
	const struct tt_table *t = &s->hll;
	const struct tt_cell_key *c = at->group;
	uint32_t slot = cell_slot_at(t, c, GROUP_SHIFT);
	struct tt_cell_key k = {
		.minute = p->minute, .sensor = p->sensor, .item = tt_counters_group_item(p),
	};
	const struct tt_hll_slots *g;
	const uint64_t *e;
	uint64_t had = 0;
	unsigned int i;

	if (!c->used || !key_equal(c, &k))
		return;
	if (at->seen != NULL) {
		e = seen_find(at->seen, seen_key(slot, p));
		if (e != NULL)
			had = *e & SEEN_VARIANT_BITS;
	}
	g = (const struct tt_hll_slots *)(c + 1);
#pragma GCC unroll 8
	for (i = 0; i < TT_HLL_VARIANTS; i++)
		if (sets_variant(p, i) && !(had >> i & 1))
			tt_hll_pool_prefetch(s->pool, g->h[i], p->hll_index);
}

TT_DATA_PATH bool
tt_counters_sets_spread(const struct tt_shard *s)
{
	return tt_hll_pool_register_bytes(s->pool) >= s->spread_register_bytes;
}

/*
 * Count @p w packets like @p p, of @p bytes bytes in all, in their port
 * cell (port cell key @p k, first slot @p slot) and their country cell
 * (@p at). @p w is 1 but in a drain. Always inline: with two callers GCC
 * made it a call, where @p w of 1 no longer folded away (callgrind of the
 * worker, flood at one sensor: 55.7 instructions a packet in the call).
 */
TT_DATA_PATH static inline __attribute__((always_inline)) void
count_cells(struct tt_shard *s, struct tt_cell_key *k, struct tt_cell_key *slot,
		const struct tt_count_pkt *p, const struct cells_at *at, uint64_t w, uint64_t bytes)
{
	bool mirai = p->klass == TT_CLASS_MIRAI;
	uint64_t *v;

	v = find_or_overflow(s, &s->port, k, slot, PORT_SHIFT, w);
	if (v != NULL) {
		v[TT_PORT_COL_PKTS] += w;
		v[TT_PORT_COL_BYTES] += bytes;
		v[TT_PORT_COL_HOME] += p->home * w;
		v[TT_PORT_COL_V6] += p->v6 * w;
		v[TT_PORT_COL_MALFORMED] += p->malformed * w;
		v[TT_PORT_COL_HOME_MIRAI] += (p->home && mirai) * w;
		if (p->klass != TT_CLASS_OTHER)
			v[tt_schema_class_col(p->klass)] += w;
	}
	count_country(s, k, p, at, mirai, w);
}

/*
 * Count one packet whose hashes are filled.
 *
 * Tried and not kept: the burst's packets that share a port cell (the same
 * minute, sensor, service and class, in runs as the burst comes sorted by
 * class) summed on the stack and added to the cell once a run, a per-burst
 * accumulator. A flood at one sensor adds every packet to one cell, yet the
 * counting alone (scripts/bench-count) measured pair ratios of 1.003 at one
 * sensor (11 pairs) and 1.087 at 4,096 (9 pairs).
 */
TT_DATA_PATH static inline void
add_hashed(struct tt_shard *s, const struct tt_count_pkt *p, const struct cells_at *at)
{
	struct tt_cell_key k = { .minute = p->minute, .sensor = p->sensor, .item = p->svc };

	count_cells(s, &k, at->port, p, at, 1, p->bytes);
	k.item = tt_counters_group_item(p);
	count_source(s, &k, at, p);
}

/*
 * The distances of the pipeline, in packets of the burst: packet i is
 * counted while the cells of packet i + CELLS_AHEAD and (sets spread) the
 * registers of packet i + SETS_AHEAD are on their way.
 */
enum {
	/*
	 * Busy cycles a packet, interleaved medians, against no prefetch
	 * (these cells and the source memory's buckets, lib/sources): mixed
	 * 2,000-frame loop 198 -> 189 (distance 2: 184, 8: 188), mixed
	 * 20,000-frame loop 322 -> 301. With bursts of 128, distances 8 and
	 * 12 against 4 (the source memory's too, lib/sources), pair ratios of
	 * 4 pairs: flood at 4,096 sensors 1.06 and 1.27, Mirai-type flood
	 * 0.92 and 0.93, mixed 0.97 and 0.87; not kept, for the 4,096-sensor
	 * row.
	 */
	CELLS_AHEAD = 4,
	/*
	 * What the group cell CELLS_AHEAD asked for names, once it has
	 * arrived: Mirai-type flood of 2^20 sources 709 -> 466 (with the
	 * source memory's entries, lib/sources); flood at 64 sensors 357 ->
	 * 257. Further ahead, the counting alone at 4,096 sensors
	 * (scripts/bench-count), pair ratios against this: SETS_AHEAD 3,
	 * 0.949 (9 pairs; 0.998 at 64 sensors, 7 pairs); with CELLS_AHEAD 5,
	 * 0.947; CELLS_AHEAD 6 and SETS_AHEAD 4 or 3, 0.972 and 0.974 (7
	 * pairs each). One binary against itself there: 0.992, its runs
	 * spreading from 150 to 202 cycles a packet. Not kept.
	 */
	SETS_AHEAD = 2,
	/* struct cells_at of the packets in flight: CELLS_AHEAD ahead and the one counted */
	CELLS_RING = 8,
};
_Static_assert(SETS_AHEAD > 0 && SETS_AHEAD < CELLS_AHEAD,
	"a packet's registers are asked for after its cells, before it is counted");
_Static_assert(CELLS_RING > CELLS_AHEAD && (CELLS_RING & (CELLS_RING - 1)) == 0,
	"the ring holds every packet in flight, indexed by a mask");

/*
 * Count @p w packets like @p p, of @p bytes bytes in all: a drained flow.
 * Their cells and registers as add_hashed() would make them for each, with
 * each loss counted @p w times; not through the seen lines, which only
 * save repeats of an update, and a flow is one.
 */
static void
add_weighted(struct tt_shard *s, const struct tt_count_pkt *p, uint64_t w, uint64_t bytes)
{
	struct tt_cell_key k = { .minute = p->minute, .sensor = p->sensor, .item = p->svc };
	struct cells_at at = { .country_cell = plane_cell(&s->planes, p) };
	uint64_t *v;

	count_cells(s, &k, cell_key_at(&s->port, key_hash(&k) & s->port.mask, PORT_SHIFT), p,
		&at, w, bytes);
	k.item = tt_counters_group_item(p);
	v = find_or_add_hashed(&s->hll, &k, key_hash(&k), false, GROUP_SHIFT);
	if (v == NULL) {
		s->hll_dropped += w;
		return;
	}
	add_to_sets(s->pool, (struct tt_hll_slots *)v, p, w);
}

/*
 * A packet's flow key (struct count_flows): what counting it depends on,
 * in two words. The second's top bit is set, so a used slot's is never 0.
 */
enum { FLOW_USED_SHIFT = 63 };
_Static_assert(TT_CLASS_COUNT <= 8, "a flow key keeps the class in 3 bits");

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * On a little-endian CPU the key's fields are where struct tt_count_pkt
 * has them: (minute, svc) and (sensor, country, hll_index, hll_rank,
 * klass) are two 8-byte loads, and one multiply gathers the four flags
 * (bytes of 0 or 1) into four adjacent bits. Field by field, the key took
 * 30 instructions a packet, this way 13 (callgrind, mixed capture).
 */
_Static_assert(offsetof(struct tt_count_pkt, svc) == offsetof(struct tt_count_pkt, minute) + 4 &&
	offsetof(struct tt_count_pkt, country) == offsetof(struct tt_count_pkt, sensor) + 2 &&
	offsetof(struct tt_count_pkt, hll_index) == offsetof(struct tt_count_pkt, sensor) + 4 &&
	offsetof(struct tt_count_pkt, hll_rank) == offsetof(struct tt_count_pkt, sensor) + 6 &&
	offsetof(struct tt_count_pkt, klass) == offsetof(struct tt_count_pkt, sensor) + 7 &&
	offsetof(struct tt_count_pkt, v6) == offsetof(struct tt_count_pkt, home) + 1 &&
	offsetof(struct tt_count_pkt, malformed) == offsetof(struct tt_count_pkt, home) + 2 &&
	offsetof(struct tt_count_pkt, watched) == offsetof(struct tt_count_pkt, home) + 3,
	"flow_key_of() loads the key's fields as they lie in struct tt_count_pkt");

TT_DATA_PATH static inline void
flow_key_of(const struct tt_count_pkt *p, uint64_t key[2])
{
	uint32_t flags;

	memcpy(&key[0], &p->minute, sizeof(key[0]));
	memcpy(&key[1], &p->sensor, sizeof(key[1]));
	memcpy(&flags, &p->home, sizeof(flags));
	/* byte k's bit to bit 24 + k: the products' other bits stay below 24 */
	flags = flags * 0x01020408u >> 24;
	key[1] |= (uint64_t)flags << 59 | 1ull << FLOW_USED_SHIFT;
}
#else
TT_DATA_PATH static inline void
flow_key_of(const struct tt_count_pkt *p, uint64_t key[2])
{
	key[0] = (uint64_t)p->svc << 32 | p->minute;
	key[1] = (uint64_t)p->sensor | (uint64_t)p->country << 16 |
		(uint64_t)p->hll_index << 32 | (uint64_t)p->hll_rank << 48 |
		(uint64_t)p->klass << 56 | (uint64_t)p->home << 59 | (uint64_t)p->v6 << 60 |
		(uint64_t)p->malformed << 61 | (uint64_t)p->watched << 62 |
		1ull << FLOW_USED_SHIFT;
}
#endif

/* The packet flow key @p key stands for: its fields but bytes and the hashes. */
static void
flow_packet_of(const uint64_t key[2], struct tt_count_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->minute = (uint32_t)key[0];
	p->svc = (uint32_t)(key[0] >> 32);
	p->sensor = (uint16_t)key[1];
	p->country = (uint16_t)(key[1] >> 16);
	p->hll_index = (uint16_t)(key[1] >> 32);
	p->hll_rank = (uint8_t)(key[1] >> 48);
	p->klass = (uint8_t)(key[1] >> 56 & 7);
	p->home = key[1] >> 59 & 1;
	p->v6 = key[1] >> 60 & 1;
	p->malformed = key[1] >> 61 & 1;
	p->watched = key[1] >> 62 & 1;
}

TT_DATA_PATH static inline uint32_t
flow_slot_of(const struct count_flows *f, const uint64_t key[2])
{
	uint64_t h = (key[0] * 0x9e3779b97f4a7c15ull ^ key[1]) * 0xc2b2ae3d27d4eb4full;

	return (uint32_t)(h >> 32) & f->mask;
}

/*
 * The flow of @p key, probing from @p slot; a new one if absent; NULL when
 * the flows number @p cap already.
 */
TT_DATA_PATH static inline struct count_flow *
flow_find_or_add(struct count_flows *f, const uint64_t key[2], uint32_t slot, uint32_t cap)
{
	struct count_flow *fl;

	for (;; slot = (slot + 1) & f->mask) {
		fl = &f->slots[slot];
		if (fl->key[1] == key[1] && fl->key[0] == key[0])
			return fl;
		if (fl->key[1] == 0)
			break;
	}
	if (f->used >= cap)
		return NULL;
	fl->key[0] = key[0];
	fl->key[1] = key[1];
	f->order[f->used++] = slot;
	return fl;
}

void
tt_counters_drain(struct tt_shard *s)
{
	struct count_flows *f = &s->flows;
	struct tt_count_pkt p;
	uint32_t i;

	for (i = 0; i < f->used; i++) {
		struct count_flow *fl = &f->slots[f->order[i]];

		flow_packet_of(fl->key, &p);
		add_weighted(s, &p, fl->pkts, fl->bytes);
		memset(fl, 0, sizeof(*fl));
	}
	f->used = 0;
}

/* Cells table @p t can still make: 0 once past its limit (its overflow key's reserve). */
TT_DATA_PATH static inline uint32_t
table_room(const struct tt_table *t)
{
	return t->used < t->limit ? t->limit - t->used : 0;
}

/*
 * How many flows the shard may hold now: each may make a cell of each
 * table once drained, and a drain must not take a table past its limit
 * where the packets, counted one by one, would have waited for a swap (a
 * replay's tt_counters_pressure()). Past this the flows drain and stop.
 * A replay of days, whose interval spans hundreds of minutes, fills its
 * group cells that way: a drain that made them past the limit lost one
 * day's unique sources in the quarter report's test.
 */
TT_DATA_PATH static inline uint32_t
flows_room(const struct tt_shard *s)
{
	uint32_t room = s->flows.limit, port = table_room(&s->port),
		country = table_room(&s->country), hll = table_room(&s->hll);

	room = port < room ? port : room;
	room = country < room ? country : room;
	return hll < room ? hll : room;
}

/*
 * The distance of the flows' pipeline: packet i finds its flow while the
 * slot of packet i + FLOWS_AHEAD is on its way.
 */
enum {
	FLOWS_AHEAD = 4,
	FLOWS_RING = 8,
};
_Static_assert(FLOWS_RING > FLOWS_AHEAD && (FLOWS_RING & (FLOWS_RING - 1)) == 0,
	"the ring holds every packet in flight, indexed by a mask");

/*
 * Count what a burst can in its flows: @p order lists the burst's packets
 * as tt_counters_add_burst() takes them. @return how many are left for the
 * cells, listed in @p rest in the same order: none while the flows take
 * them all, every packet from the one that finds them full. That one
 * drains them first, so the cells are made in the order of their first
 * packets (struct count_flows).
 *
 * Out of line (a call a burst), and the flows last in struct tt_shard, so
 * the cells' pipeline and the shard's fields are as they were for the
 * packets that go on to the cells: inline and in the middle, the floods
 * measured 1.00 to 1.05 times fe9afd2's busy cycles a packet (two runs of
 * scripts/bench) for the same instructions; as here, the flood at one
 * sensor 0.966, 0.966, 1.000, 0.970 (pairs of 6 s on 4 KiB pages).
 */
TT_DATA_PATH static __attribute__((noinline)) unsigned int
add_flows(struct tt_shard *s, const struct tt_count_pkt *pkts, const uint8_t *order,
		unsigned int n, uint8_t *rest)
{
	struct count_flows *f = &s->flows;
	struct {
		uint64_t key[2];
		uint32_t slot;
	} ring[FLOWS_RING];
	unsigned int left = 0;
	uint32_t cap = flows_room(s);   /* the burst makes no cell while the flows take it */
	int count = (int)n, i;

	for (i = -FLOWS_AHEAD; i < count; i++) {
		if (i + FLOWS_AHEAD < count) {
			unsigned int r = (unsigned int)(i + FLOWS_AHEAD) & (FLOWS_RING - 1);

			flow_key_of(&pkts[order[i + FLOWS_AHEAD]], ring[r].key);
			ring[r].slot = flow_slot_of(f, ring[r].key);
			tt_prefetch_write(&f->slots[ring[r].slot]);
		}
		if (i >= 0) {
			unsigned int r = (unsigned int)i & (FLOWS_RING - 1);
			const struct tt_count_pkt *p = &pkts[order[i]];
			struct count_flow *fl;

			fl = f->on ? flow_find_or_add(f, ring[r].key, ring[r].slot, cap) : NULL;
			if (__builtin_expect(fl != NULL, 1)) {
				fl->pkts++;
				fl->bytes += p->bytes;
				continue;
			}
			if (f->on) {
				tt_counters_drain(s);
				f->on = false;
			}
			rest[left++] = order[i];
		}
	}
	return left;
}

/*
 * One function a burst, its steps inline, where the worker made two calls
 * a packet (a prefetch and a count) and a third once sets spread: their
 * entries, exits and reloads of the shard's fields. callgrind of the
 * worker, flood at one sensor: 589.8 -> 578.5 instructions a packet
 * (~15 a dark packet).
 */
TT_DATA_PATH bool
tt_counters_add_burst(struct tt_shard *s, struct tt_count_pkt *pkts,
		const uint8_t *order, unsigned int n)
{
	bool looks, spread;
	struct cells_at at[CELLS_RING];   /* packet i's at [i % CELLS_RING] */
	uint8_t rest[UINT8_MAX + 1];
	int count, i;

	if (s->flows.on) {
		n = add_flows(s, pkts, order, n, rest);
		if (n == 0)
			return true;   /* the seen lines were not asked */
		order = rest;
	}
	/*
	 * The hashes of what goes on to the cells, all before the pipeline,
	 * so each prefetch has its address at once. Hashed in the pipeline,
	 * just before each packet's prefetch, the flood at 4,096 sensors
	 * measured 1.039 and 1.091 times fe9afd2's busy cycles a packet (two
	 * runs of scripts/bench).
	 */
	for (i = 0; i < (int)n; i++)
		hash_packet(&pkts[order[i]]);
	looks = start_burst(s, n);
	spread = tt_counters_sets_spread(s);
	count = (int)n;

	for (i = -CELLS_AHEAD; i < count; i++) {
		if (i + CELLS_AHEAD < count)
			prefetch_cells(s, &pkts[order[i + CELLS_AHEAD]],
				&at[(i + CELLS_AHEAD) & (CELLS_RING - 1)]);
		if (spread && i + SETS_AHEAD >= 0 && i + SETS_AHEAD < count)
			prefetch_sets(s, &pkts[order[i + SETS_AHEAD]],
				&at[(i + SETS_AHEAD) & (CELLS_RING - 1)]);
		if (i >= 0)
			add_hashed(s, &pkts[order[i]], &at[i & (CELLS_RING - 1)]);
	}
	return looks;
}

TT_DATA_PATH bool
tt_counters_flows_on(const struct tt_shard *s)
{
	return s->flows.on;
}

TT_DATA_PATH void
tt_counters_add(struct tt_shard *s, const struct tt_count_pkt *p)
{
	static const uint8_t first[1] = { 0 };
	struct tt_count_pkt one = *p;

	tt_counters_add_burst(s, &one, first, 1);
}
