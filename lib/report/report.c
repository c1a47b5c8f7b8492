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

static const char *const variant_suffix[TT_HLL_VARIANTS] = { "", ":home", ":mirai", ":home:mirai" };

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

	for (m = 0; m < TT_PV_COUNT; m++)
		free(v->port[m]);
	for (m = 0; m < TT_CV_COUNT; m++)
		free(v->country[m]);
	for (m = 0; m < TT_HLL_VARIANTS; m++)
		free(v->srcs_svc[m]);
	memset(v, 0, sizeof(*v));
}

static bool
in_minute(const struct tt_cell_key *k, uint32_t minute)
{
	return minute == TT_SCOPE_ANY_MINUTE || k->minute == minute;
}

/* The three tables of a shard, in the order the scope lists follow. */
enum { T_PORT, T_COUNTRY, T_HLL, T_TABLES };

static const struct tt_table *
table_of(const struct tt_shard *s, unsigned int t)
{
	return t == T_PORT ? tt_counters_port_table(s) :
		t == T_COUNTRY ? tt_counters_country_table(s) : tt_counters_hll_table(s);
}

/* One scope's cells in one table (indexes for tt_table_key()), in table order. */
struct cell_list {
	const uint32_t *idx;
	uint32_t n;
};

/*
 * Every table's cells grouped by scope, so building every scope of a shard
 * costs one pass over its cells instead of one per scope: the summary of a
 * 4096-sensor flood took 46 s to write with a pass per scope and metric.
 */
struct tt_scope_index {
	uint32_t n_sensors;                /* slot n_sensors is TT_SCOPE_ALL */
	uint32_t *first[T_TABLES];         /* slot's cells: cells[first[slot] .. first[slot + 1]) */
	uint32_t *cells[T_TABLES];
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
	for (t = 0; t < T_TABLES; t++) {
		free(x->first[t]);
		free(x->cells[t]);
	}
	free(x);
}

struct tt_scope_index *
tt_scope_index_create(const struct tt_shard *s, uint32_t n_sensors)
{
	struct tt_scope_index *x = calloc(1, sizeof(*x));
	unsigned int t;

	if (x == NULL)
		return NULL;
	x->n_sensors = n_sensors;
	for (t = 0; t < T_TABLES; t++) {
		const struct tt_table *tab = table_of(s, t);
		uint32_t i, cells = tt_table_cells(tab), *fill;

		x->first[t] = calloc((size_t)n_sensors + 2, sizeof(uint32_t));
		x->cells[t] = malloc((cells ? cells : 1) * sizeof(uint32_t));
		fill = calloc((size_t)n_sensors + 1, sizeof(uint32_t));
		if (x->first[t] == NULL || x->cells[t] == NULL || fill == NULL) {
			free(fill);
			tt_scope_index_free(x);
			return NULL;
		}
		/* A counting sort by scope; a cell of no configured scope is left out. */
		for (i = 0; i < cells; i++) {
			uint16_t sensor = tt_table_key(tab, i)->sensor;

			if (in_index(x, sensor))
				x->first[t][slot_of(x, sensor) + 1]++;
		}
		for (i = 1; i <= n_sensors + 1; i++)
			x->first[t][i] += x->first[t][i - 1];
		for (i = 0; i < cells; i++) {
			uint16_t sensor = tt_table_key(tab, i)->sensor;
			uint32_t slot;

			if (!in_index(x, sensor))
				continue;
			slot = slot_of(x, sensor);
			x->cells[t][x->first[t][slot] + fill[slot]++] = i;
		}
		free(fill);
	}
	return x;
}

/*
 * Gather one metric column of a scope's cells into a sorted member array
 * (zero counts left out, as Redis keeps no zero-score member).
 */
static int
collect(const struct tt_table *t, const struct cell_list *l, uint32_t minute, unsigned int col,
		struct tt_member **out, uint32_t *n_out)
{
	uint32_t i, n = 0;
	struct tt_member *m = malloc((l->n ? l->n : 1) * sizeof(*m));

	if (m == NULL)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		const struct tt_cell_key *k = tt_table_key(t, l->idx[i]);
		const uint64_t *v = tt_table_values(t, l->idx[i]);

		if (!in_minute(k, minute) || v[col] == 0)
			continue;
		m[n].item = k->item;
		m[n].count = v[col];
		n++;
	}
	qsort(m, n, sizeof(*m), tt_member_cmp);
	*out = m;
	*n_out = n;
	return 0;
}

/* Estimates of the scope's srcs HLLs; watched services in service order. */
static int
collect_srcs(struct tt_scope *v, const struct tt_table *t, const struct cell_list *l,
		uint32_t minute)
{
	uint32_t i, n = 0, var;

	for (var = 0; var < TT_HLL_VARIANTS; var++) {
		v->srcs_svc[var] = malloc((l->n ? l->n : 1) * sizeof(struct tt_member));
		if (v->srcs_svc[var] == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < l->n; i++) {
		const struct tt_cell_key *k = tt_table_key(t, l->idx[i]);
		const struct tt_hll *h = tt_counters_hll_values(t, l->idx[i]);

		if (!in_minute(k, minute))
			continue;
		for (var = 0; var < TT_HLL_VARIANTS; var++) {
			if (k->item == 0) {
				v->srcs[var] = tt_hll_estimate(&h[var]);
			} else {
				v->srcs_svc[var][n].item = k->item;
				v->srcs_svc[var][n].count = tt_hll_estimate(&h[var]);
			}
		}
		n += k->item != 0;
	}
	v->n_srcs_svc = n;
	return 0;
}

static int
scope_fill(struct tt_scope *v, const struct tt_shard *s, const struct cell_list *l,
		uint16_t sensor, uint32_t minute)
{
	const struct tt_table *pt = tt_counters_port_table(s);
	const struct tt_table *ct = tt_counters_country_table(s);
	uint32_t i;
	unsigned int m;

	memset(v, 0, sizeof(*v));
	v->sensor = sensor;
	for (i = 0; i < l[T_PORT].n; i++) {
		const struct tt_cell_key *k = tt_table_key(pt, l[T_PORT].idx[i]);

		if (in_minute(k, minute))
			tt_counters_totals_add(v->totals, k->item, tt_table_values(pt, l[T_PORT].idx[i]));
	}
	for (m = 0; m < TT_PV_COUNT; m++)
		if (collect(pt, &l[T_PORT], minute, m, &v->port[m], &v->n_port[m]) != 0)
			goto err_free_scope;
	for (m = 0; m < TT_CV_COUNT; m++)
		if (collect(ct, &l[T_COUNTRY], minute, m, &v->country[m], &v->n_country[m]) != 0)
			goto err_free_scope;
	if (collect_srcs(v, tt_counters_hll_table(s), &l[T_HLL], minute) != 0)
		goto err_free_scope;
	return 0;

err_free_scope:
	tt_scope_free(v);
	return -ENOMEM;
}

int
tt_scope_build_indexed(struct tt_scope *v, const struct tt_shard *s,
		const struct tt_scope_index *x, uint16_t sensor, uint32_t minute)
{
	struct cell_list l[T_TABLES];
	uint32_t slot;
	unsigned int t;

	if (!in_index(x, sensor)) {
		memset(v, 0, sizeof(*v));
		return -EINVAL;
	}
	slot = slot_of(x, sensor);
	for (t = 0; t < T_TABLES; t++) {
		l[t].idx = x->cells[t] + x->first[t][slot];
		l[t].n = x->first[t][slot + 1] - x->first[t][slot];
	}
	return scope_fill(v, s, l, sensor, minute);
}

int
tt_scope_build(struct tt_scope *v, const struct tt_shard *s, uint16_t sensor, uint32_t minute)
{
	struct cell_list l[T_TABLES];
	uint32_t *idx[T_TABLES] = { NULL };
	unsigned int t;
	int rc = -ENOMEM;

	memset(v, 0, sizeof(*v));
	for (t = 0; t < T_TABLES; t++) {
		const struct tt_table *tab = table_of(s, t);
		uint32_t i, n = 0, cells = tt_table_cells(tab);

		idx[t] = malloc((cells ? cells : 1) * sizeof(uint32_t));
		if (idx[t] == NULL)
			goto out;
		for (i = 0; i < cells; i++)
			if (tt_table_key(tab, i)->sensor == sensor)
				idx[t][n++] = i;
		l[t].idx = idx[t];
		l[t].n = n;
	}
	rc = scope_fill(v, s, l, sensor, minute);
out:
	for (t = 0; t < T_TABLES; t++)
		free(idx[t]);
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
	static const struct { const char *key; unsigned int col; } port_metrics[] = {
		{ "port", TT_PV_PKTS },
		{ "port:home", TT_PV_HOME },
		{ "port:backscatter", TT_PV_CLASS(TT_CLASS_BACKSCATTER) },
		{ "port:mirai", TT_PV_CLASS(TT_CLASS_MIRAI) },
		{ "port:masscan", TT_PV_CLASS(TT_CLASS_MASSCAN) },
		{ "port:zmap", TT_PV_CLASS(TT_CLASS_ZMAP) },
		{ "port:nmap", TT_PV_CLASS(TT_CLASS_NMAP) },
		{ "port:unicorn", TT_PV_CLASS(TT_CLASS_UNICORN) },
		{ "port:home:mirai", TT_PV_HOME_MIRAI },
	};
	bool first = false;
	unsigned int t, m;

	fprintf(f, "    \"%s\": {\n      \"totals\": {", name);
	for (t = 0; t < TT_T_COUNT; t++)
		fprintf(f, "%s\"%s\": %" PRIu64, t ? ", " : "", tt_counters_total_name(t),
			v->totals[t]);
	fprintf(f, "}");
	for (m = 0; m < sizeof(port_metrics) / sizeof(port_metrics[0]); m++)
		json_members(f, port_metrics[m].key, v->port[port_metrics[m].col],
			v->n_port[port_metrics[m].col], false, &first);
	json_members(f, "country", v->country[TT_CV_PKTS], v->n_country[TT_CV_PKTS],
		true, &first);
	json_members(f, "country:mirai", v->country[TT_CV_MIRAI],
		v->n_country[TT_CV_MIRAI], true, &first);
	/* HyperLogLog metrics as estimated counts, as PFCOUNT would give them */
	for (m = 0; m < TT_HLL_VARIANTS; m++)
		fprintf(f, ",\n      \"srcs%s\": %" PRIu64, variant_suffix[m], v->srcs[m]);
	for (t = 0; t < v->n_srcs_svc; t++) {
		char svc[TT_SVC_STR_MAX];

		tt_classify_service_format(v->srcs_svc[0][t].item, svc, sizeof(svc));
		for (m = 0; m < TT_HLL_VARIANTS; m++)
			fprintf(f, ",\n      \"srcs:%s%s\": %" PRIu64, svc, variant_suffix[m],
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
	uint32_t s;
	int rc;

	format_time(in->first_sec, first, sizeof(first));
	format_time(in->last_sec, last, sizeof(last));
	fprintf(f, "{\n  \"appliance\": \"%s\", \"clock\": \"%s\",\n"
		"  \"packets\": %" PRIu64 ", \"not_dark\": %" PRIu64
		", \"malformed\": %" PRIu64 ", \"non_ip\": %" PRIu64 ",\n"
		"  \"cells_overflowed\": %" PRIu64 ", \"cells_lost\": %" PRIu64
		", \"hll_dropped\": %" PRIu64 ",\n"
		"  \"first_packet\": %s, \"last_packet\": %s, \"duration_ms\": %" PRIu64 ",\n",
		in->appliance_id, in->clock, in->packets, in->not_dark, in->malformed,
		in->non_ip, tt_counters_overflowed(in->run), tt_counters_lost(in->run),
		tt_counters_hll_dropped(in->run), first, last, in->duration_ms);
	fprintf(f, "  \"workers\": {\"busy_cycles\": %" PRIu64 ", \"cycles_per_packet\": %.1f, "
		"\"tsc_hz\": %" PRIu64 ", \"run_ms\": %" PRIu64 "},\n", in->busy_cycles,
		in->packets ? (double)in->busy_cycles / (double)in->packets : 0.0, in->tsc_hz,
		in->run_ms);
	fprintf(f, "  \"sources\": {\"tracked\": %" PRIu64 ", \"inserted\": %" PRIu64
		", \"evicted\": %" PRIu64 ", \"confirmed_mirai\": %" PRIu64
		", \"memory_bytes\": %" PRIu64 ", \"deltas_dropped\": %" PRIu64 "},\n",
		in->sources_tracked, in->sources_inserted, in->sources_evicted,
		in->sources_confirmed, in->sources_memory,
		tt_counters_src_dropped(in->run));
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
		table_row(f, "services", v.port[TT_PV_PKTS], v.n_port[TT_PV_PKTS], top_n,
			v.totals[TT_T_PKTS], false);
		table_row(f, "mirai-type", v.port[TT_PV_CLASS(TT_CLASS_MIRAI)],
			v.n_port[TT_PV_CLASS(TT_CLASS_MIRAI)], top_n, v.totals[TT_T_MIRAI], false);
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
			fprintf(f, " %s %" PRIu64 " (%.1f%%)%s", tt_classify_class_name(cls[c].item),
				cls[c].count, 100.0 * (double)cls[c].count / (double)v.totals[TT_T_PKTS],
				c + 1 < nc ? "," : "");
		fputc('\n', f);
		table_row(f, "countries", v.country[TT_CV_PKTS], v.n_country[TT_CV_PKTS],
			top_n, v.totals[TT_T_PKTS], true);
		tt_scope_free(&v);
	}
	tt_scope_index_free(x);
	return ferror(f) ? -EIO : 0;
}
