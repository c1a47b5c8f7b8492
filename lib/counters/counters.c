/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shard life cycle, merge and reading. Control plane only.
 */
#include "tt_counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counters_internal.h"

static int
table_init(struct tt_table *t, uint32_t capacity, uint32_t width, bool growable)
{
	if (capacity < 16 || (capacity & (capacity - 1)) != 0)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->mask = capacity - 1;
	t->limit = capacity / 4 * 3;
	t->width = width;
	t->growable = growable;
	t->order = malloc(capacity * sizeof(*t->order));
	t->keys = calloc(capacity, sizeof(*t->keys));
	t->values = calloc((size_t)capacity * width, sizeof(*t->values));
	if (t->order == NULL || t->keys == NULL || t->values == NULL) {
		free(t->order);
		free(t->keys);
		free(t->values);
		return -ENOMEM;
	}
	return 0;
}

static void
table_fini(struct tt_table *t)
{
	free(t->order);
	free(t->keys);
	free(t->values);
	memset(t, 0, sizeof(*t));
}

static void
table_reset(struct tt_table *t)
{
	uint32_t i;

	for (i = 0; i < t->used; i++) {
		uint32_t slot = t->order[i];

		memset(&t->keys[slot], 0, sizeof(t->keys[slot]));
		memset(&t->values[(uint64_t)slot * t->width], 0,
			t->width * sizeof(*t->values));
	}
	t->used = 0;
}

/* Double the capacity, re-inserting in the old insertion order. */
int
tt_table_grow(struct tt_table *t)
{
	struct tt_table n;
	uint32_t i;
	int rc;

	rc = table_init(&n, (t->mask + 1) * 2, t->width, t->growable);
	if (rc != 0)
		return rc;
	for (i = 0; i < t->used; i++) {
		uint32_t slot = t->order[i];
		uint64_t *v = tt_table_find_or_add(&n, &t->keys[slot], false);

		memcpy(v, &t->values[(uint64_t)slot * t->width], t->width * sizeof(*v));
	}
	table_fini(t);
	*t = n;
	return 0;
}

struct tt_shard *
tt_counters_create(uint32_t port_cells, uint32_t country_cells, bool growable)
{
	struct tt_shard *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return NULL;
	rc = table_init(&s->port, port_cells, TT_PV_COUNT, growable);
	if (rc != 0)
		goto err_free_shard;
	rc = table_init(&s->country, country_cells, TT_CV_COUNT, growable);
	if (rc != 0)
		goto err_fini_port;
	return s;

err_fini_port:
	table_fini(&s->port);
err_free_shard:
	free(s);
	errno = -rc;
	return NULL;
}

void
tt_counters_free(struct tt_shard *s)
{
	if (s == NULL)
		return;
	table_fini(&s->port);
	table_fini(&s->country);
	free(s);
}

void
tt_counters_reset(struct tt_shard *s)
{
	table_reset(&s->port);
	table_reset(&s->country);
	s->overflowed = 0;
	s->lost = 0;
}

static int
merge_cell(struct tt_table *dst, const struct tt_cell_key *k, const uint64_t *v)
{
	uint64_t *d;
	uint32_t j;

	for (;;) {
		d = tt_table_find_or_add(dst, k, !dst->growable);
		if (d != NULL)
			break;
		if (!dst->growable || tt_table_grow(dst) != 0)
			return -ENOMEM;
	}
	for (j = 0; j < dst->width; j++)
		d[j] += v[j];
	return 0;
}

static int
merge_table(struct tt_table *dst, const struct tt_table *src, bool collapse, bool with_all)
{
	uint32_t i;
	int rc;

	for (i = 0; i < src->used; i++) {
		uint32_t slot = src->order[i];
		struct tt_cell_key k = src->keys[slot];
		const uint64_t *v = &src->values[(uint64_t)slot * src->width];

		if (collapse)
			k.minute = 0;
		rc = merge_cell(dst, &k, v);
		if (rc == 0 && with_all && k.sensor != TT_SCOPE_ALL) {
			k.sensor = TT_SCOPE_ALL;
			rc = merge_cell(dst, &k, v);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
tt_counters_merge(struct tt_shard *dst, const struct tt_shard *src,
		bool collapse_minutes, bool with_all)
{
	int rc;

	rc = merge_table(&dst->port, &src->port, collapse_minutes, with_all);
	if (rc == 0)
		rc = merge_table(&dst->country, &src->country, collapse_minutes, with_all);
	dst->overflowed += src->overflowed;
	dst->lost += src->lost;
	return rc;
}

const struct tt_table *
tt_counters_port_table(const struct tt_shard *s)
{
	return &s->port;
}

const struct tt_table *
tt_counters_country_table(const struct tt_shard *s)
{
	return &s->country;
}

uint64_t
tt_counters_overflowed(const struct tt_shard *s)
{
	return s->overflowed;
}

uint64_t
tt_counters_lost(const struct tt_shard *s)
{
	return s->lost;
}

uint32_t
tt_table_cells(const struct tt_table *t)
{
	return t->used;
}

const struct tt_cell_key *
tt_table_key(const struct tt_table *t, uint32_t i)
{
	return &t->keys[t->order[i]];
}

const uint64_t *
tt_table_values(const struct tt_table *t, uint32_t i)
{
	return &t->values[(uint64_t)t->order[i] * t->width];
}

static uint64_t
table_memory(const struct tt_table *t)
{
	uint64_t cap = (uint64_t)t->mask + 1;

	return cap * (sizeof(*t->order) + sizeof(*t->keys) + t->width * sizeof(uint64_t));
}

uint64_t
tt_counters_memory(const struct tt_shard *s)
{
	return sizeof(*s) + table_memory(&s->port) + table_memory(&s->country);
}
