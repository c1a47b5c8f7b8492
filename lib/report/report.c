/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Summary JSON and tables from a merged shard. Control plane, pure.
 */
#define _GNU_SOURCE
#include "tt_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_classify.h"
#include "tt_counters.h"

int
tt_member_cmp(const void *a, const void *b)
{
	const struct tt_member *x = a, *y = b;

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
		struct tt_member **out, uint32_t *n_out)
{
	uint32_t i, n = 0;
	struct tt_member *m = malloc((l->n ? l->n : 1) * sizeof(*m));

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
	qsort(m, n, sizeof(*m), tt_member_cmp);
	*out = m;
	*n_out = n;
	return 0;
}

/* Estimates of the scope's srcs HLLs; watched services in the order their rows came. */
static int
collect_srcs(struct tt_scope *v, const struct row_list *l, uint32_t minute)
{
	uint32_t i, n = 0, var;

	for (var = 0; var < TT_HLL_VARIANTS; var++) {
		v->srcs_svc[var] = malloc((l->n ? l->n : 1) * sizeof(struct tt_member));
		if (v->srcs_svc[var] == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < l->n; i++) {
		const struct tt_counters_row *r = &l->row[i];

		if (!in_minute(r, minute))
			continue;
		for (var = 0; var < TT_HLL_VARIANTS; var++) {
			if (r->item == 0) {
				v->srcs[var] = tt_hll_estimate(&r->srcs[var]);
			} else {
				v->srcs_svc[var][n].item = r->item;
				v->srcs_svc[var][n].count = tt_hll_estimate(&r->srcs[var]);
			}
		}
		n += r->item != 0;
	}
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

void
tt_report_item_name(bool country, uint32_t item, char *buf, size_t len)
{
	if (!country)
		tt_classify_service_format(item, buf, len);
	else if (item < TT_COUNTRY_COUNT)
		tt_classify_country_code((uint16_t)item, buf);
	else
		snprintf(buf, len, "overflow");
}

static void
json_members(FILE *f, const char *key, const struct tt_member *m, uint32_t n,
		bool country, bool *first)
{
	char name[TT_SVC_STR_MAX];
	uint32_t i;

	fprintf(f, "%s\n      \"%s\": {", *first ? "" : ",", key);
	*first = false;
	for (i = 0; i < n; i++) {
		tt_report_item_name(country, m[i].item, name, sizeof(name));
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", name, m[i].count);
	}
	fprintf(f, "}");
}

static void
json_scope(FILE *f, const struct tt_scope *v, const char *name, bool last)
{
	bool first = false;
	unsigned int t, m;

	fprintf(f, "    \"%s\": {\n      \"totals\": {", name);
	for (t = 0; t < TT_T_COUNT; t++)
		fprintf(f, "%s\"%s\": %" PRIu64, t ? ", " : "", tt_schema_total_name(t),
			v->totals[t]);
	fprintf(f, "}");
	/* Every ZSET metric of the schema, in its order, as Redis names them. */
	for (m = 0; m < TT_M_COUNT; m++) {
		unsigned int col = tt_schema_metric_col(m);
		bool country = tt_schema_metric_table(m) == TT_SCHEMA_COUNTRY;

		json_members(f, tt_schema_metric_name(m), country ? v->country[col] : v->port[col],
			country ? v->n_country[col] : v->n_port[col], country, &first);
	}
	/* HyperLogLog metrics as estimated counts, as PFCOUNT would give them */
	for (m = 0; m < TT_HLL_VARIANTS; m++)
		fprintf(f, ",\n      \"srcs%s\": %" PRIu64, tt_schema_variant_suffix(m), v->srcs[m]);
	for (t = 0; t < v->n_srcs_svc; t++) {
		char svc[TT_SVC_STR_MAX];

		tt_classify_service_format(v->srcs_svc[0][t].item, svc, sizeof(svc));
		for (m = 0; m < TT_HLL_VARIANTS; m++)
			fprintf(f, ",\n      \"srcs:%s%s\": %" PRIu64, svc, tt_schema_variant_suffix(m),
				v->srcs_svc[m][t].count);
	}
	fprintf(f, "\n    }%s\n", last ? "" : ",");
}

static void
format_time(uint64_t sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (sec == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "null");
		return;
	}
	strftime(buf, len, "\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
}

int
tt_report_summary_json(FILE *f, const struct tt_report_input *in)
{
	struct tt_scope_index *x;
	struct tt_scope v;
	char first[32], last[32];
	struct tt_counters_losses lost;
	uint32_t s;
	int rc;

	tt_counters_merged_losses(in->run, &lost);
	format_time(in->first_sec, first, sizeof(first));
	format_time(in->last_sec, last, sizeof(last));
	fprintf(f, "{\n  \"appliance\": \"%s\", \"clock\": \"%s\",\n"
		"  \"packets\": %" PRIu64 ", \"not_dark\": %" PRIu64
		", \"malformed\": %" PRIu64 ", \"non_ip\": %" PRIu64 ",\n"
		"  \"cells_overflowed\": %" PRIu64 ", \"cells_lost\": %" PRIu64
		", \"hll_dropped\": %" PRIu64 ",\n"
		"  \"first_packet\": %s, \"last_packet\": %s, \"duration_ms\": %" PRIu64 ",\n",
		in->appliance_id, in->clock, in->packets, in->not_dark, in->malformed,
		in->non_ip, lost.overflowed, lost.lost, lost.hll_dropped, first, last,
		in->duration_ms);
	fprintf(f, "  \"workers\": {\"busy_cycles\": %" PRIu64 ", \"cycles_per_packet\": %.1f, "
		"\"tsc_hz\": %" PRIu64 ", \"run_ms\": %" PRIu64 "},\n", in->busy_cycles,
		in->packets ? (double)in->busy_cycles / (double)in->packets : 0.0, in->tsc_hz,
		in->run_ms);
	fprintf(f, "  \"sources\": {\"tracked\": %" PRIu64 ", \"inserted\": %" PRIu64
		", \"evicted\": %" PRIu64 ", \"confirmed_mirai\": %" PRIu64
		", \"memory_bytes\": %" PRIu64 ", \"deltas_dropped\": %" PRIu64 "},\n",
		in->sources_tracked, in->sources_inserted, in->sources_evicted,
		in->sources_confirmed, in->sources_memory, in->sources_deltas_dropped);
	if (in->redis_enabled)
		fprintf(f, "  \"redis\": {\"delivered\": %s, \"failed\": %s, \"flushes\": %" PRIu64
			", \"errors\": %" PRIu64 ", \"refusals\": %" PRIu64
			", \"data_lost\": %" PRIu64 ", \"undelivered_packets\": %" PRIu64
			", \"shed_minute_cells\": %" PRIu64 ", \"shed_minute_bytes\": %" PRIu64
			", \"shed_minute_packets\": %" PRIu64 ", \"shed_hour_cells\": %" PRIu64
			", \"shed_hour_packets\": %" PRIu64 ", \"shed_source_keys\": %" PRIu64 "},\n",
			in->redis_delivered ? "true" : "false", in->redis_failed ? "true" : "false",
			in->redis_flushes, in->redis_errors, in->redis_refusals, in->redis_data_lost,
			in->redis_undelivered_packets, in->redis_shed_minute_cells,
			in->redis_shed_minute_bytes, in->redis_shed_minute_packets,
			in->redis_shed_hour_cells, in->redis_shed_hour_packets,
			in->redis_shed_source_keys);
	x = tt_scope_index_create(in->run, in->n_sensors);
	if (x == NULL)
		return -ENOMEM;
	fprintf(f, "  \"scopes\": {\n");
	for (s = 0; s <= in->n_sensors; s++) {
		uint16_t sensor = s == 0 ? TT_SCOPE_ALL : (uint16_t)(s - 1);

		rc = tt_scope_build_indexed(&v, in->run, x, sensor, TT_SCOPE_ANY_MINUTE);
		if (rc != 0) {
			tt_scope_index_free(x);
			return rc;
		}
		json_scope(f, &v, sensor == TT_SCOPE_ALL ? "all" : in->sensor_names[sensor],
			s == in->n_sensors);
		tt_scope_free(&v);
	}
	tt_scope_index_free(x);
	fprintf(f, "  }\n}\n");
	return ferror(f) ? -EIO : 0;
}

static void
table_row(FILE *f, const char *label, const struct tt_member *m, uint32_t n,
		unsigned int top_n, uint64_t total, bool country)
{
	char name[TT_SVC_STR_MAX];
	uint32_t i;

	fprintf(f, "  %-12s", label);
	if (n == 0)
		fprintf(f, " -");
	for (i = 0; i < n && i < top_n; i++) {
		tt_report_item_name(country, m[i].item, name, sizeof(name));
		fprintf(f, " %s %" PRIu64 " (%.1f%%)", name, m[i].count,
			total ? 100.0 * (double)m[i].count / (double)total : 0.0);
		if (i + 1 < n && i + 1 < top_n)
			fputc(',', f);
	}
	fputc('\n', f);
}

int
tt_report_table(FILE *f, const struct tt_report_input *in, unsigned int top_n)
{
	struct tt_scope_index *x = tt_scope_index_create(in->run, in->n_sensors);
	struct tt_scope v;
	uint32_t s;
	int rc;

	if (x == NULL)
		return -ENOMEM;

	fprintf(f, "teiten %s: %" PRIu64 " packets, %" PRIu64 " not dark, %" PRIu64
		" malformed, %" PRIu64 " non-IP (clock: %s)\n", in->appliance_id,
		in->packets, in->not_dark, in->malformed, in->non_ip, in->clock);
	for (s = 0; s <= in->n_sensors; s++) {
		uint16_t sensor = s == 0 ? TT_SCOPE_ALL : (uint16_t)(s - 1);
		struct tt_member cls[TT_CLASS_COUNT];
		uint32_t nc = 0;
		unsigned int c;

		rc = tt_scope_build_indexed(&v, in->run, x, sensor, TT_SCOPE_ANY_MINUTE);
		if (rc != 0) {
			tt_scope_index_free(x);
			return rc;
		}
		if (sensor == TT_SCOPE_ALL)
			fprintf(f, "\n[all sensors] %" PRIu64 " packets, %" PRIu64 " bytes, "
				"%" PRIu64 " from home, %" PRIu64 " malformed\n", v.totals[TT_T_PKTS],
				v.totals[TT_T_BYTES], v.totals[TT_T_HOME], v.totals[TT_T_MALFORMED]);
		else
			fprintf(f, "\n[sensor %s] port %u: %" PRIu64 " packets, %" PRIu64
				" bytes, %" PRIu64 " from home, %" PRIu64 " malformed\n", in->sensor_names[sensor],
				in->sensor_ports[sensor], v.totals[TT_T_PKTS], v.totals[TT_T_BYTES],
				v.totals[TT_T_HOME], v.totals[TT_T_MALFORMED]);
		fprintf(f, "  %-12s ~%" PRIu64 " (home ~%" PRIu64 "), Mirai-type ~%" PRIu64
			" (home ~%" PRIu64 ")\n", "sources", v.srcs[TT_HLL_ALL], v.srcs[TT_HLL_HOME],
			v.srcs[TT_HLL_MIRAI], v.srcs[TT_HLL_HOME_MIRAI]);
		table_row(f, "services", v.port[TT_PORT_COL_PKTS], v.n_port[TT_PORT_COL_PKTS], top_n,
			v.totals[TT_T_PKTS], false);
		table_row(f, "mirai-type", v.port[tt_schema_class_col(TT_CLASS_MIRAI)],
			v.n_port[tt_schema_class_col(TT_CLASS_MIRAI)], top_n, v.totals[TT_T_MIRAI], false);
		for (c = TT_CLASS_BACKSCATTER; c < TT_CLASS_COUNT; c++) {
			uint64_t n = v.totals[TT_T_BACKSCATTER + c - TT_CLASS_BACKSCATTER];

			if (n != 0) {
				cls[nc].item = c;
				cls[nc++].count = n;
			}
		}
		qsort(cls, nc, sizeof(cls[0]), tt_member_cmp);
		fprintf(f, "  %-12s", "classes");
		if (nc == 0)
			fprintf(f, " -");
		for (c = 0; c < nc; c++)
			fprintf(f, " %s %" PRIu64 " (%.1f%%)%s", tt_schema_class_name(cls[c].item),
				cls[c].count, 100.0 * (double)cls[c].count / (double)v.totals[TT_T_PKTS],
				c + 1 < nc ? "," : "");
		fputc('\n', f);
		table_row(f, "countries", v.country[TT_COUNTRY_COL_PKTS], v.n_country[TT_COUNTRY_COL_PKTS],
			top_n, v.totals[TT_T_PKTS], true);
		tt_scope_free(&v);
	}
	tt_scope_index_free(x);
	return ferror(f) ? -EIO : 0;
}
