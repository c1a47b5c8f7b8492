/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SOURCES_INTERNAL_H
#define TT_SOURCES_INTERNAL_H

/* Shared by the per-packet update (sources_dp.c) and the merge (sources.c). */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "tt_sources.h"

struct entry {
	uint8_t addr[16];
	uint8_t family;                /* 0: empty */
	uint8_t flags;                 /* TT_SRC_CONFIRMED, TT_SRC_VICTIM */
	uint8_t n_mirai;
	uint32_t first_seen;
	uint32_t last_seen;
	uint32_t bs_first;
	uint32_t bs_last;
	uint32_t bs_pkts;
	uint16_t mirai_port[TT_SRC_MIRAI_PORTS];
	uint32_t mirai_seen[TT_SRC_MIRAI_PORTS];
};

/* One cache line a bucket: what a lookup and an eviction read. */
struct bucket {
	uint32_t tag[TT_SRC_WAYS];     /* 0 = empty */
	uint32_t seen[TT_SRC_WAYS];    /* the entry's last_seen */
};

struct tt_src_table {
	struct tt_src_conf conf;
	uint32_t bucket_mask;
	struct bucket *buckets;
	struct entry *entries;
	/* owner: wo (relaxed), control: ro */
	uint64_t sources;
	uint64_t inserted;
	uint64_t evicted;
	uint64_t confirmed;
};

struct tt_src_deltas {
	uint32_t mask;
	uint32_t limit;
	uint32_t used;
	bool growable;
	uint64_t dropped;
	uint32_t *order;
	uint8_t *occupied;
	struct tt_src_delta *cells;
};

static inline uint64_t
addr_hash(const uint8_t *addr, uint8_t family)
{
	uint64_t a, b, h;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ family;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 32);
}

/* A (source, day)'s delta slot hash, from the source's addr_hash(). */
static inline uint32_t
delta_hash_of(uint64_t source_hash, uint32_t day)
{
	uint64_t h = source_hash ^ ((uint64_t)day * 0x9e3779b97f4a7c15ull);

	return (uint32_t)(h ^ (h >> 32));
}

/* The (source, day)'s delta; @p source_hash is addr_hash() of the source. */
static inline struct tt_src_delta *
delta_slot_hashed(struct tt_src_deltas *d, uint64_t source_hash, const uint8_t *addr,
		uint8_t family, uint32_t day, bool *fresh)
{
	uint32_t i = delta_hash_of(source_hash, day) & d->mask;

	while (d->occupied[i]) {
		struct tt_src_delta *c = &d->cells[i];

		if (c->day == day && c->family == family && memcmp(c->addr, addr, 16) == 0) {
			*fresh = false;
			return c;
		}
		i = (i + 1) & d->mask;
	}
	if (d->used >= d->limit)
		return NULL;
	d->occupied[i] = 1;
	d->order[d->used++] = i;
	/* The header and counts only: lists are read up to their n_* counts. */
	memset(&d->cells[i], 0, offsetof(struct tt_src_delta, ports));
	memcpy(d->cells[i].addr, addr, 16);
	d->cells[i].family = family;
	d->cells[i].day = day;
	*fresh = true;
	return &d->cells[i];
}

static inline struct tt_src_delta *
delta_slot(struct tt_src_deltas *d, const uint8_t *addr, uint8_t family, uint32_t day,
		bool *fresh)
{
	return delta_slot_hashed(d, addr_hash(addr, family), addr, family, day, fresh);
}

/*
 * Capped sets keep their `cap` smallest members, sorted. "The k smallest of
 * a union" does not depend on the order things arrive in, so a source's
 * lists come out the same however the flush intervals cut its packets; the
 * publisher's host script keeps the same order (service keys numerically).
 */
static inline void
add_capped(uint32_t *list, uint8_t *n, uint32_t cap, uint32_t v)
{
	uint32_t i = 0;

	while (i < *n && list[i] < v)
		i++;
	if (i < *n && list[i] == v)
		return;
	if (i == cap)
		return;                 /* larger than all kept, and full */
	if (*n == cap)
		(*n)--;                 /* drop the largest */
	memmove(&list[i + 1], &list[i], (*n - i) * sizeof(*list));
	list[i] = v;
	(*n)++;
}

#endif /* TT_SOURCES_INTERNAL_H */
