/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source memory and per-interval source deltas: creation, merge, figures.
 * Control plane; the per-packet update is sources_dp.c. The persistent table is set-associative: a bucket of
 * TT_SOURCES_WAYS entries with 32-bit tags beside them, so a lookup reads one
 * cache line before touching an entry: the bucket's tags and last-seen
 * times together, so a miss picks the oldest source to evict without
 * reading the entries (a flood of new sources misses on every packet).
 * Memory is fixed at creation.
 */
#include "tt_sources.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tt_classify.h"
#include "sources_internal.h"
#include "tt_mem.h"

/* --- persistent table --- */

struct tt_sources_table *
tt_sources_table_create(const struct tt_sources_conf *conf)
{
	struct tt_sources_table *t;
	uint32_t buckets;

	if (conf->entries < TT_SOURCES_WAYS || (conf->entries & (conf->entries - 1)) != 0 ||
			conf->mirai_min_ports == 0 || conf->mirai_min_ports > TT_SOURCES_MIRAI_PORTS) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	buckets = conf->entries / TT_SOURCES_WAYS;
	t->conf = *conf;
	t->bucket_mask = buckets - 1;
	t->buckets = aligned_alloc(64, buckets * sizeof(*t->buckets));
	t->entries = aligned_alloc(64, conf->entries * sizeof(*t->entries));
	t->tails = malloc(conf->entries * sizeof(*t->tails));
	if (t->buckets == NULL || t->entries == NULL || t->tails == NULL) {
		tt_sources_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	/* A worker's, written per packet (tt_mem.h); mapped before the buckets are cleared */
	tt_mem_prefault(t->buckets, buckets * sizeof(*t->buckets));
	tt_mem_prefault(t->entries, conf->entries * sizeof(*t->entries));
	tt_mem_prefault(t->tails, conf->entries * sizeof(*t->tails));
	memset(t->buckets, 0, buckets * sizeof(*t->buckets));
	memset(t->entries, 0, conf->entries * sizeof(*t->entries));
	return t;
}

void
tt_sources_table_free(struct tt_sources_table *t)
{
	if (t == NULL)
		return;
	free(t->buckets);
	free(t->entries);
	free(t->tails);
	free(t);
}

/* --- deltas --- */

static size_t
filter_bytes(const struct tt_sources_deltas *d)
{
	return ((size_t)d->filter_mask + 1) / 8;
}

static int
deltas_init(struct tt_sources_deltas *d, uint32_t capacity)
{
	d->mask = capacity - 1;
	d->limit = capacity / 4 * 3;
	d->used = 0;
	d->order = malloc(capacity * sizeof(*d->order));
	d->occupied = calloc(capacity + DELTA_WINDOW - 1, 1);
	d->filter_mask = capacity * DELTA_FILTER_BITS_A_SLOT - 1;
	d->filter = calloc(filter_bytes(d), 1);
	d->cells = malloc(capacity * sizeof(*d->cells));
	if (d->order == NULL || d->occupied == NULL || d->filter == NULL || d->cells == NULL) {
		free(d->order);
		free(d->occupied);
		free(d->filter);
		free(d->cells);
		return -ENOMEM;
	}
	return 0;
}

struct tt_sources_deltas *
tt_sources_deltas_create(uint32_t capacity, bool growable)
{
	struct tt_sources_deltas *d;

	if (capacity < 16 || (capacity & (capacity - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->growable = growable;
	if (deltas_init(d, capacity) != 0) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	if (!growable) {
		/* a worker shard's, written per packet (tt_mem.h) */
		tt_mem_prefault(d->order, capacity * sizeof(*d->order));
		tt_mem_prefault(d->occupied, capacity + DELTA_WINDOW - 1);
		tt_mem_prefault(d->filter, filter_bytes(d));
		tt_mem_prefault(d->cells, capacity * sizeof(*d->cells));
	}
	return d;
}

void
tt_sources_deltas_free(struct tt_sources_deltas *d)
{
	if (d == NULL)
		return;
	free(d->order);
	free(d->occupied);
	free(d->filter);
	free(d->cells);
	free(d);
}

void
tt_sources_deltas_reset(struct tt_sources_deltas *d)
{
	uint32_t i;

	for (i = 0; i < d->used; i++)
		set_mark(d, d->order[i], 0);
	/* whole: a bit may be set by more than one delta (as many bytes as the marks) */
	if (d->used != 0)
		memset(d->filter, 0, filter_bytes(d));
	d->used = 0;
	d->dropped = 0;
}

static int
grow(struct tt_sources_deltas *d)
{
	struct tt_sources_deltas n = { .growable = true };
	uint32_t i;
	bool fresh;

	if (deltas_init(&n, (d->mask + 1) * 2) != 0)
		return -ENOMEM;
	for (i = 0; i < d->used; i++) {
		const struct tt_sources_delta *c = &d->cells[d->order[i]];

		*delta_slot(&n, c->addr, c->family, c->day, &fresh) = *c;
	}
	n.dropped = d->dropped;
	free(d->order);
	free(d->occupied);
	free(d->filter);
	free(d->cells);
	*d = n;
	return 0;
}

int
tt_sources_deltas_merge(struct tt_sources_deltas *dst, const struct tt_sources_deltas *src)
{
	uint32_t i, k;

	for (i = 0; i < src->used; i++) {
		const struct tt_sources_delta *s = &src->cells[src->order[i]];
		struct tt_sources_delta *c;
		bool fresh;

		for (;;) {
			c = delta_slot(dst, s->addr, s->family, s->day, &fresh);
			if (c != NULL)
				break;
			if (!dst->growable || grow(dst) != 0)
				return -ENOMEM;
		}
		if (fresh) {
			*c = *s;
			continue;
		}
		if (s->first_seen < c->first_seen)
			c->first_seen = s->first_seen;
		if (s->last_seen >= c->last_seen) {
			c->last_seen = s->last_seen;
			c->country = s->country;
		}
		c->pkts += s->pkts;
		c->mirai_pkts += s->mirai_pkts;
		c->victim_pkts += s->victim_pkts;
		if (s->victim_since != 0 && (c->victim_since == 0 || s->victim_since < c->victim_since)) {
			c->victim_since = s->victim_since;
			c->victim_rule_pkts = s->victim_rule_pkts;
		}
		c->class_mask |= s->class_mask;
		for (k = 0; k < TT_CLASS_COUNT; k++)
			if (s->class_last[k] > c->class_last[k])
				c->class_last[k] = s->class_last[k];
		c->flags |= s->flags;
		for (k = 0; k < s->n_ports; k++)
			add_capped(c->ports, &c->n_ports, TT_SOURCES_PORTS, s->ports[k]);
		for (k = 0; k < s->n_sensors; k++)
			add_capped(c->sensors, &c->n_sensors, TT_SOURCES_SENSORS, s->sensors[k]);
		for (k = 0; k < s->n_attacked; k++)
			add_capped(c->attacked, &c->n_attacked, TT_SOURCES_ATTACKED, s->attacked[k]);
	}
	dst->dropped += src->dropped;
	return 0;
}

uint32_t
tt_sources_deltas_count(const struct tt_sources_deltas *d)
{
	return d->used;
}

const struct tt_sources_delta *
tt_sources_deltas_get(const struct tt_sources_deltas *d, uint32_t i)
{
	return &d->cells[d->order[i]];
}

uint64_t
tt_sources_deltas_dropped(const struct tt_sources_deltas *d)
{
	return d->dropped;
}

uint64_t
tt_sources_deltas_memory(const struct tt_sources_deltas *d)
{
	return sizeof(*d) + DELTA_WINDOW - 1 + filter_bytes(d) + ((uint64_t)d->mask + 1) *
		(sizeof(*d->order) + 1 + sizeof(*d->cells));
}

void
tt_sources_table_stats(const struct tt_sources_table *t, struct tt_sources_table_stats *out)
{
	out->sources = __atomic_load_n(&t->sources, __ATOMIC_RELAXED);
	out->inserted = __atomic_load_n(&t->inserted, __ATOMIC_RELAXED);
	out->evicted = __atomic_load_n(&t->evicted, __ATOMIC_RELAXED);
	out->confirmed = __atomic_load_n(&t->confirmed, __ATOMIC_RELAXED);
	out->memory = sizeof(*t) + (uint64_t)(t->bucket_mask + 1) * sizeof(*t->buckets) +
		(uint64_t)t->conf.entries * (sizeof(*t->entries) + sizeof(*t->tails));
}
