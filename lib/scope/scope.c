/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scope views of merged shards (tt_scope.h). Control plane, pure.
 */
#include "tt_scope.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tt_counters.h"
#include "tt_hll.h"

int
tt_scope_member_cmp(const void *a, const void *b)
{
	const struct tt_scope_member *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->item < y->item ? -1 : x->item > y->item;
}

void
tt_scope_free(struct tt_scope *v)
{
	unsigned int m;

	for (m = 0; m < TT_PORT_COLS; m++)
		free(v->port[m]);
	for (m = 0; m < TT_COUNTRY_COLS; m++)
		free(v->country[m]);
	for (m = 0; m < TT_HLL_VARIANTS; m++)
		free(v->srcs_svc[m]);
	memset(v, 0, sizeof(*v));
}

static bool
in_minute(const struct tt_counters_row *r, uint32_t minute)
{
	return minute == TT_SCOPE_ANY_MINUTE || r->minute == minute;
}

/* One scope's rows in one table, in the table's insertion order. */
struct row_list {
	const struct tt_counters_row *row;
	uint32_t n;
};

/*
 * Every table's rows grouped by scope, so building every scope of a shard
 * costs one pass over its cells instead of one per scope: the summary of a
 * 4096-sensor flood took 46 s to write with a pass per scope and metric.
 */
struct tt_scope_index {
	uint32_t n_sensors;                /* slot n_sensors is TT_SCOPE_ALL */
	struct tt_counters_rows rows[TT_COUNTERS_TABLES];      /* by sensor */
	uint32_t *first[TT_COUNTERS_TABLES];   /* a slot's first row; slot_end() its end */
};

/* Whether @p sensor has a slot: a configured sensor, or the all scope. */
static inline bool
in_index(const struct tt_scope_index *x, uint16_t sensor)
{
	return sensor == TT_SCOPE_ALL || sensor < x->n_sensors;
}

static inline uint32_t
slot_of(const struct tt_scope_index *x, uint16_t sensor)
{
	return sensor == TT_SCOPE_ALL ? x->n_sensors : sensor;
}

void
tt_scope_index_free(struct tt_scope_index *x)
{
	unsigned int t;

	if (x == NULL)
		return;
	for (t = 0; t < TT_COUNTERS_TABLES; t++) {
		tt_counters_rows_free(&x->rows[t]);
		free(x->first[t]);
	}
	free(x);
}

struct tt_scope_index *
tt_scope_index_create(const struct tt_merged *s, uint32_t n_sensors)
{
	struct tt_scope_index *x = calloc(1, sizeof(*x));
	unsigned int t;

	if (x == NULL)
		return NULL;
	x->n_sensors = n_sensors;
	for (t = 0; t < TT_COUNTERS_TABLES; t++) {
		const struct tt_counters_rows *r = &x->rows[t];
		uint32_t i, slot;

		x->first[t] = calloc((size_t)n_sensors + 1, sizeof(uint32_t));
		if (x->first[t] == NULL || tt_counters_sorted(s, t, TT_COUNTERS_BY_SENSOR, 0,
				UINT32_MAX, &x->rows[t]) != 0) {
			tt_scope_index_free(x);
			return NULL;
		}
		/*
		 * Rows run by sensor, TT_SCOPE_ALL last: a slot starts at its
		 * sensor's first row; rows of no configured scope fall between
		 * the last sensor and all, and are left out.
		 */
		for (i = 0, slot = 0; slot <= n_sensors; slot++) {
			uint16_t sensor = slot == n_sensors ? TT_SCOPE_ALL : (uint16_t)slot;

			while (i < r->n && r->row[i].sensor < sensor)
				i++;
			x->first[t][slot] = i;
			while (i < r->n && r->row[i].sensor == sensor)
				i++;
		}
	}
	return x;
}

/* The end of a slot's rows: where they stop being its sensor's. */
static uint32_t
slot_end(const struct tt_scope_index *x, unsigned int t, uint32_t slot)
{
	const struct tt_counters_rows *r = &x->rows[t];
	uint16_t sensor = slot == x->n_sensors ? TT_SCOPE_ALL : (uint16_t)slot;
	uint32_t i = x->first[t][slot];

	while (i < r->n && r->row[i].sensor == sensor)
		i++;
	return i;
}

/*
 * Gather one metric column of a scope's rows into a sorted member array
 * (zero counts left out, as Redis keeps no zero-score member).
 */
static int
collect(const struct row_list *l, uint32_t minute, unsigned int col,
		struct tt_scope_member **out, uint32_t *n_out)
{
	uint32_t i, n = 0;
	struct tt_scope_member *m = malloc((l->n ? l->n : 1) * sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		const struct tt_counters_row *r = &l->row[i];

		if (!in_minute(r, minute) || r->counts[col] == 0)
			continue;
		m[n].item = r->item;
		m[n].count = r->counts[col];
		n++;
	}
	qsort(m, n, sizeof(*m), tt_scope_member_cmp);
	*out = m;
	*n_out = n;
	return 0;
}

static int
member_item_cmp(const void *a, const void *b)
{
	const struct tt_scope_member *x = a, *y = b;

	if (x->item != y->item)
		return (x->item > y->item) - (x->item < y->item);
	return (x->count > y->count) - (x->count < y->count);   /* rows in order */
}

/*
 * Estimates of the scope's srcs HLLs; watched services by service key. Not
 * in the order their rows came: that is the order the workers first
 * counted them in, which depends on how a burst is processed.
 */
static int
collect_srcs(struct tt_scope *v, const struct row_list *l, uint32_t minute)
{
	struct tt_scope_member *order;
	uint32_t i, n = 0, var;

	for (var = 0; var < TT_HLL_VARIANTS; var++) {
		v->srcs_svc[var] = malloc((l->n ? l->n : 1) * sizeof(struct tt_scope_member));
		if (v->srcs_svc[var] == NULL)
			return -ENOMEM;
	}
	/* item: the service; count: its row */
	order = malloc((l->n ? l->n : 1) * sizeof(*order));
	if (order == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		const struct tt_counters_row *r = &l->row[i];

		if (!in_minute(r, minute))
			continue;
		if (r->item == 0) {
			for (var = 0; var < TT_HLL_VARIANTS; var++)
				v->srcs[var] = tt_hll_estimate(&r->srcs[var]);
			continue;
		}
		order[n].item = r->item;
		order[n].count = i;
		n++;
	}
	qsort(order, n, sizeof(*order), member_item_cmp);
	for (i = 0; i < n; i++) {
		const struct tt_counters_row *r = &l->row[order[i].count];

		for (var = 0; var < TT_HLL_VARIANTS; var++) {
			v->srcs_svc[var][i].item = r->item;
			v->srcs_svc[var][i].count = tt_hll_estimate(&r->srcs[var]);
		}
	}
	free(order);
	v->n_srcs_svc = n;
	return 0;
}

static int
scope_fill(struct tt_scope *v, const struct row_list *l, uint16_t sensor, uint32_t minute)
{
	const struct row_list *port = &l[TT_COUNTERS_PORT], *country = &l[TT_COUNTERS_COUNTRY];
	uint32_t i;
	unsigned int m;

	memset(v, 0, sizeof(*v));
	v->sensor = sensor;
	for (i = 0; i < port->n; i++)
		if (in_minute(&port->row[i], minute))
			tt_counters_totals_add(v->totals, port->row[i].item, port->row[i].counts);
	for (m = 0; m < TT_PORT_COLS; m++)
		if (collect(port, minute, m, &v->port[m], &v->n_port[m]) != 0)
			goto err_free_scope;
	for (m = 0; m < TT_COUNTRY_COLS; m++)
		if (collect(country, minute, m, &v->country[m], &v->n_country[m]) != 0)
			goto err_free_scope;
	if (collect_srcs(v, &l[TT_COUNTERS_SRCS], minute) != 0)
		goto err_free_scope;
	return 0;

err_free_scope:
	tt_scope_free(v);
	return -ENOMEM;
}

int
tt_scope_build_indexed(struct tt_scope *v, const struct tt_merged *s,
		const struct tt_scope_index *x, uint16_t sensor, uint32_t minute)
{
	struct row_list l[TT_COUNTERS_TABLES];
	uint32_t slot;
	unsigned int t;

	(void)s;
	if (!in_index(x, sensor)) {
		memset(v, 0, sizeof(*v));
		return -EINVAL;
	}
	slot = slot_of(x, sensor);
	for (t = 0; t < TT_COUNTERS_TABLES; t++) {
		l[t].row = x->rows[t].row + x->first[t][slot];
		l[t].n = slot_end(x, t, slot) - x->first[t][slot];
	}
	return scope_fill(v, l, sensor, minute);
}

int
tt_scope_build(struct tt_scope *v, const struct tt_merged *s, uint16_t sensor, uint32_t minute)
{
	struct tt_counters_rows rows[TT_COUNTERS_TABLES] = { { NULL, 0 } };
	struct row_list l[TT_COUNTERS_TABLES];
	unsigned int t;
	int rc = -ENOMEM;

	memset(v, 0, sizeof(*v));
	for (t = 0; t < TT_COUNTERS_TABLES; t++) {
		uint32_t i = 0;

		if (tt_counters_sorted(s, t, TT_COUNTERS_BY_SENSOR, 0, UINT32_MAX, &rows[t]) != 0)
			goto out;
		while (i < rows[t].n && rows[t].row[i].sensor < sensor)
			i++;
		l[t].row = rows[t].row + i;
		while (i < rows[t].n && rows[t].row[i].sensor == sensor)
			i++;
		l[t].n = (uint32_t)(rows[t].row + i - l[t].row);
	}
	rc = scope_fill(v, l, sensor, minute);
out:
	for (t = 0; t < TT_COUNTERS_TABLES; t++)
		tt_counters_rows_free(&rows[t]);
	return rc;
}
