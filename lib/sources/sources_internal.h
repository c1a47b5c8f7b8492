/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SOURCES_INTERNAL_H
#define TT_SOURCES_INTERNAL_H

/* Shared by the per-packet update (sources_dp.c) and the merge (sources.c). */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tt_sources.h"

/*
 * A remembered source, split by how often its parts are touched. The entry
 * is one cache line: all that a new source writes, and its first
 * HEAD_PORTS Mirai-type ports, which is every port of most Mirai-type
 * sources (23 and 2323). The rest of its ports are in its tail, a separate
 * array, read only by a source probing more. A spoofed flood makes every
 * packet a new source, and a new source now costs one line where the
 * 136-byte entry it replaces, unaligned, cost two or three.
 */
enum {
	HEAD_PORTS = 4,
	TAIL_PORTS = TT_SOURCES_MIRAI_PORTS - HEAD_PORTS,
};

/*
 * A remembered source. When it was last seen is kept once, in its
 * bucket's seen[] of its way, where a new source's victim is chosen.
 */
struct entry {
	uint8_t addr[16];
	uint8_t family;                /* 0: empty */
	uint8_t flags;                 /* TT_SOURCES_CONFIRMED, TT_SOURCES_VICTIM */
	uint8_t n_mirai;               /* Mirai-type ports, head and tail: kept until confirmed */
	uint32_t first_seen;
	uint32_t bs_first;
	uint32_t bs_last;
	uint32_t bs_pkts;
	uint16_t mirai_port[HEAD_PORTS];
	uint32_t mirai_seen[HEAD_PORTS];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct entry) == 64, "a source's entry is one cache line");

/* Mirai-type ports HEAD_PORTS and on of the entry of the same index. */
struct entry_tail {
	uint16_t mirai_port[TAIL_PORTS];
	uint32_t mirai_seen[TAIL_PORTS];
};

/* One cache line a bucket: what a lookup and an eviction read. */
struct bucket {
	uint32_t tag[TT_SOURCES_WAYS];     /* 0 = empty */
	uint32_t seen[TT_SOURCES_WAYS];    /* when each way's source was last seen */
};

struct tt_sources_table {
	struct tt_sources_conf conf;
	uint32_t bucket_mask;
	struct bucket *buckets;
	struct entry *entries;         /* 64-byte aligned */
	struct entry_tail *tails;      /* of entries[i]: tails[i] */
	/* owner: wo (relaxed), control: ro */
	uint64_t sources;
	uint64_t inserted;
	uint64_t evicted;
	uint64_t confirmed;
};

struct tt_sources_deltas {
	uint32_t mask;
	uint32_t limit;
	uint32_t used;
	bool growable;
	uint64_t dropped;
	uint32_t *order;
	/*
	 * Per slot: 0 empty, else its delta_mark_of(); and after the last
	 * slot, a copy of the first DELTA_WINDOW - 1, so a window that
	 * wraps is one load (set_mark()).
	 */
	uint8_t *occupied;
	/*
	 * A bit per (source, day) hash (delta_filter_bit()), set with its
	 * delta, cleared at reset: a clear bit proves the table has no delta
	 * for it. Read only once the table is at its limit, where a probe can
	 * only find a delta the source already has and a new source is
	 * dropped. A spoofed flood keeps the table there (74% of a Mirai-type
	 * flood's packets), and nearly all its packets are new sources: the
	 * bit drops them without a probe, whose window loop's exits no
	 * predictor follows. Eight bits a slot (the size of the marks): at
	 * the limit one new source in 10.7 finds its bit set by another and
	 * probes, as every one did before. Mirai-type flood of 2^20 sources,
	 * busy cycles a packet, 6 interleaved pairs of 6 s on 4 KiB pages:
	 * pair ratios 0.924 to 0.975, median 0.940; four bits a slot measured
	 * 0.961; dropping every source at the limit unprobed (not exact: an
	 * upper bound) 0.85 to 0.90. Mixed capture, 4 pairs: 0.98 to 1.016.
	 * The cell's prefetch stays (sources_dp.c): skipping it by the bit,
	 * with a branch or by a select, measured no better.
	 */
	uint8_t *filter;
	uint32_t filter_mask;          /* bits - 1 */
	struct tt_sources_delta *cells;
};

/*
 * A source address as two words, zero-padded (IPv4 in its first four bytes),
 * built in registers. A zero-padded stack copy filled by memcpy made every
 * hash and compare wait for a failed store-to-load forward: ~28% of the
 * prefetch stage's samples on the mixed benchmark.
 */
struct src_key {
	uint64_t lo, hi;
};

static inline struct src_key
src_key_of(const uint8_t *addr, uint8_t family)
{
	struct src_key k = { 0, 0 };
	uint32_t v4;

	if (family == 4) {
		memcpy(&v4, addr, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		k.lo = v4;
#else
		k.lo = (uint64_t)v4 << 32;
#endif
	} else {
		memcpy(&k.lo, addr, 8);
		memcpy(&k.hi, addr + 8, 8);
	}
	return k;
}

/* Does a stored 16-byte (zero-padded) address hold this key? */
static inline bool
src_key_equal(const uint8_t *stored, struct src_key k)
{
	uint64_t lo, hi;

	memcpy(&lo, stored, 8);
	memcpy(&hi, stored + 8, 8);
	return lo == k.lo && hi == k.hi;
}

static inline void
src_key_store(uint8_t *stored, struct src_key k)
{
	memcpy(stored, &k.lo, 8);
	memcpy(stored + 8, &k.hi, 8);
}

static inline uint64_t
src_key_hash(struct src_key k, uint8_t family)
{
	uint64_t h = (k.lo * 0x9e3779b97f4a7c15ull) ^ (k.hi * 0xc2b2ae3d27d4eb4full) ^ family;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* A (source, day)'s delta slot hash, from the source's src_key_hash(). */
static inline uint32_t
delta_hash_of(uint64_t source_hash, uint32_t day)
{
	uint64_t h = source_hash ^ ((uint64_t)day * 0x9e3779b97f4a7c15ull);

	return (uint32_t)(h ^ (h >> 32));
}

/*
 * What an occupied slot's byte in `occupied` holds: seven bits of the
 * source's hash (its top ones; the slot comes from the low ones), never 0.
 * A probe reads a cell (280 bytes, five lines) only where the mark
 * matches, ~1 in 128 of the other sources' slots, instead of at every
 * occupied slot on its way: the marks of a probe share one or two lines.
 * It matters most when the table is at its limit under a spoofed flood, as
 * every new source then probes to an empty slot before it is dropped and
 * counted. Interleaved medians of 3, busy cycles a packet: Mirai-type
 * flood of 2^20 sources 290.9 -> 251.1; mixed 20,000-frame loop 273.0 ->
 * 274.8 (noise).
 */
static inline uint8_t
delta_mark_of(uint64_t source_hash)
{
	return (uint8_t)(0x80 | (source_hash >> 57));
}

/*
 * A probe reads the marks of DELTA_WINDOW slots at once, as one 64-bit
 * word: which of them hold the source's mark and which are empty, a few
 * instructions each and no branch (zero_bytes()). It checks the cells
 * under its mark, then takes the window's first empty slot or moves on a
 * whole window. With the table at its limit (3/4 full), which it is for as
 * long as a spoofed flood lasts, a probe reads 1.7 windows on average
 * where a slot loop read 8.6 slots (simulated at that fill), and the
 * loop's exit was a branch no predictor could follow. The home slot is
 * tried alone first: at the low fill of ordinary traffic a source's delta
 * is there, and the window's extra instructions cost more than they save
 * (mixed 2,000-frame loop, window alone: 234.5 -> 249.2 busy cycles a
 * packet; with the home slot first: 235.4). Mirai-type flood of 2^20
 * sources, interleaved medians of 5: 251.5 -> 238.5 in one run, 1 to 2%
 * in later, noisier ones: a probe reads less, but that row's source
 * memory is mostly cache misses (scripts/bench --stages).
 */
enum { DELTA_WINDOW = 8 };

#define BYTES_OF(b) (0x0101010101010101ull * (uint8_t)(b))

/* The top bit of each byte of @p v that is 0, and no other bit. */
static inline uint64_t
zero_bytes(uint64_t v)
{
	uint64_t low7 = BYTES_OF(0x7f);

	return ~(((v & low7) + low7) | v | low7);
}

/* The slot offset, in its window, of the first byte zero_bytes() marked. */
static inline uint32_t
first_byte(uint64_t bits)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t)__builtin_ctzll(bits) / 8;
#else
	return (uint32_t)__builtin_clzll(bits) / 8;
#endif
}

/* The next marked byte after the first (the order first_byte() takes them). */
static inline uint64_t
drop_first_byte(uint64_t bits)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return bits & (bits - 1);
#else
	return bits & ~(0x8000000000000000ull >> __builtin_clzll(bits));
#endif
}

/* The marks of slots @p i to i + DELTA_WINDOW - 1 (wrapping). */
static inline uint64_t
window_at(const struct tt_sources_deltas *d, uint32_t i)
{
	uint64_t v;

	memcpy(&v, &d->occupied[i], sizeof(v));
	return v;
}

enum { DELTA_FILTER_BITS_A_SLOT = 8 };

/* A (source, day)'s bit of the filter; @p source_hash is src_key_hash() of the source. */
static inline uint32_t
delta_filter_bit(const struct tt_sources_deltas *d, uint64_t source_hash, uint32_t day)
{
	uint64_t h = source_hash ^ ((uint64_t)day * 0x9e3779b97f4a7c15ull);

	/* the upper word: delta_hash_of()'s slot folds it into the lower one */
	return (uint32_t)(h >> 32) & d->filter_mask;
}

static inline bool
delta_filter_has(const struct tt_sources_deltas *d, uint32_t bit)
{
	return d->filter[bit / 8] >> (bit % 8) & 1;
}

/*
 * Is a (source, day) to be dropped before its probe: the table is at its
 * limit, and its bit proves it has no delta here.
 */
static inline bool
delta_drop_unprobed(const struct tt_sources_deltas *d, uint64_t source_hash, uint32_t day)
{
	return d->used >= d->limit && !delta_filter_has(d, delta_filter_bit(d, source_hash, day));
}

/* Mark slot @p i, and its copy past the last slot if it has one. */
static inline void
set_mark(struct tt_sources_deltas *d, uint32_t i, uint8_t mark)
{
	d->occupied[i] = mark;
	if (i < DELTA_WINDOW - 1)
		d->occupied[d->mask + 1 + i] = mark;
}

/* Is @p c the delta of this source on this day? */
static inline bool
delta_is(const struct tt_sources_delta *c, struct src_key k, uint8_t family, uint32_t day)
{
	return c->day == day && c->family == family && src_key_equal(c->addr, k);
}

/*
 * Every byte of a list slot past its count: the slot then reads
 * UINT32_MAX, larger than any member, as add_capped() needs.
 */
enum { LIST_PAD_BYTE = 0xff };

/*
 * The (source, day)'s delta; @p source_hash is src_key_hash() of the
 * source, @p i its home slot, delta_hash_of() & mask.
 */
static inline struct tt_sources_delta *
delta_slot_from(struct tt_sources_deltas *d, uint32_t i, uint64_t source_hash, struct src_key k,
		uint8_t family, uint32_t day, bool *fresh)
{
	uint8_t mark = delta_mark_of(source_hash);
	uint64_t marks = BYTES_OF(mark);
	uint32_t bit, s;

	if (delta_drop_unprobed(d, source_hash, day))
		return NULL;
	if (d->occupied[i] == mark && delta_is(&d->cells[i], k, family, day)) {
		*fresh = false;
		return &d->cells[i];
	}
	for (;;) {
		uint64_t w = window_at(d, i), same = zero_bytes(w ^ marks), empty = zero_bytes(w);

		for (; same != 0; same = drop_first_byte(same)) {
			struct tt_sources_delta *c = &d->cells[(i + first_byte(same)) & d->mask];

			if (delta_is(c, k, family, day)) {
				*fresh = false;
				return c;
			}
		}
		if (empty != 0) {
			s = (i + first_byte(empty)) & d->mask;
			break;
		}
		i = (i + DELTA_WINDOW) & d->mask;
	}
	if (d->used >= d->limit)
		return NULL;
	set_mark(d, s, mark);
	bit = delta_filter_bit(d, source_hash, day);
	d->filter[bit / 8] |= (uint8_t)(1u << (bit % 8));
	d->order[d->used++] = s;
	memset(&d->cells[s], 0, offsetof(struct tt_sources_delta, ports));
	memset(d->cells[s].ports, LIST_PAD_BYTE, sizeof(struct tt_sources_delta) -
		offsetof(struct tt_sources_delta, ports));
	src_key_store(d->cells[s].addr, k);
	d->cells[s].family = family;
	d->cells[s].day = day;
	*fresh = true;
	return &d->cells[s];
}

/* The same from a stored (zero-padded) address. Control plane. */
static inline struct tt_sources_delta *
delta_slot(struct tt_sources_deltas *d, const uint8_t *addr, uint8_t family, uint32_t day,
		bool *fresh)
{
	struct src_key k = src_key_of(addr, family);
	uint64_t h = src_key_hash(k, family);

	return delta_slot_from(d, delta_hash_of(h, day) & d->mask, h, k, family, day, fresh);
}

#ifdef __SSE2__
/* The lanes of two compares' results (all ones or all zeros), a bit each: lo's 4, then hi's. */
static inline uint32_t
lanes_mask(__m128i lo, __m128i hi)
{
	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
		(uint32_t)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
}
#endif

/*
 * Which of the 8 words at @p w are @p v, a bit each in word order: two
 * compares on SSE2 (every x86-64), no branch. A bucket's tags
 * (sources_dp.c) and a capped set's slots (capped_has()) are searched
 * with it.
 */
static inline uint32_t
words8_equal(const uint32_t *w, uint32_t v)
{
#ifdef __SSE2__
	__m128i want = _mm_set1_epi32((int)v);

	return lanes_mask(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)&w[0]), want),
		_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)&w[4]), want));
#else
	uint32_t i, equal = 0;

	for (i = 0; i < 8; i++)
		equal |= (uint32_t)(w[i] == v) << i;
	return equal;
#endif
}

/*
 * Does a capped set of at most CAPPED_SCAN_MAX slots hold @p v: every
 * slot compared at once (words8_equal()). A source's repeats mostly
 * offer a member again (its sensor); add_capped() asks this first there.
 * callgrind of the worker, one replay of the mixed capture, the source
 * memory's instructions a packet: 186.0 -> 176.7 for the sensors (8
 * slots), 177.4 through words8_equal() where it had its own compares;
 * 179.6 with the ports (32) scanned too, which a source's repeats offer
 * anew more often, so they keep the search alone.
 */
enum { CAPPED_SCAN_MAX = 8 };

static inline bool
capped_has(const uint32_t *list, uint32_t cap, uint32_t v)
{
	uint32_t i, equal = 0;

	for (i = 0; i < cap; i += 8)
		equal |= words8_equal(&list[i], v);
	return equal != 0;
}
_Static_assert(TT_SOURCES_SENSORS % 8 == 0 && TT_SOURCES_ATTACKED % 8 == 0,
	"capped_has() compares eight slots at a time");

/*
 * Capped sets keep their `cap` smallest members, sorted. "The k smallest of
 * a union" does not depend on the order things arrive in, so a source's
 * lists come out the same however the flush intervals cut its packets; the
 * publisher's host script keeps the same order (service keys numerically).
 */
static inline void
add_capped(uint32_t *list, uint8_t *n, uint32_t cap, uint32_t v)
{
	const uint32_t *base = list;
	uint32_t half, i;

	if (cap <= CAPPED_SCAN_MAX && capped_has(list, cap, v))
		return;                 /* kept: the search below finds it too */
	/*
	 * Where v goes: the members below it, found by a binary search that
	 * does not branch on the data (each step moves by its compare's
	 * result times its half; the steps are the constant cap's). Slots
	 * past the count hold UINT32_MAX (LIST_PAD_BYTE), larger than any
	 * member, so the whole capacity is one sorted array, and v is kept if
	 * the slot it goes to holds it.
	 *
	 * An early-exit scan mispredicted its exit (4801090: mixed
	 * 20,000-frame loop 415 -> 386 busy cycles a packet without it). The
	 * scan of the whole capacity that replaced it took 111 instructions a
	 * fingerprinted packet on the mixed 2,000-frame loop (ports and
	 * sensors), the search 63.
	 */
#pragma GCC unroll 8
	for (half = cap / 2; half != 0; half /= 2)
		base += (size_t)(base[half - 1] < v) * half;   /* a product: GCC branched on a ?: */
	i = (uint32_t)(base - list) + (*base < v);
	if (i == cap || list[i] == v)
		return;                 /* larger than all kept and full, or kept */
	if (*n == cap)
		(*n)--;                 /* drop the largest */
	memmove(&list[i + 1], &list[i], (*n - i) * sizeof(*list));
	list[i] = v;
	(*n)++;
}
_Static_assert((TT_SOURCES_PORTS & (TT_SOURCES_PORTS - 1)) == 0 &&
	(TT_SOURCES_SENSORS & (TT_SOURCES_SENSORS - 1)) == 0 &&
	(TT_SOURCES_ATTACKED & (TT_SOURCES_ATTACKED - 1)) == 0,
	"add_capped() halves its capacity down to one slot");

#endif /* TT_SOURCES_INTERNAL_H */
