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
json_members(FILE *f, const char *key, const struct tt_scope_member *m, uint32_t n,
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
		"\"tsc_hz\": %" PRIu64 ", \"run_ms\": %" PRIu64 ", \"hll_record_off_pkts\": %" PRIu64
		"},\n", in->busy_cycles,
		in->packets ? (double)in->busy_cycles / (double)in->packets : 0.0, in->tsc_hz,
		in->run_ms, in->hll_record_off_pkts);
	fprintf(f, "  \"sources\": {\"tracked\": %" PRIu64 ", \"inserted\": %" PRIu64
		", \"evicted\": %" PRIu64 ", \"confirmed_mirai\": %" PRIu64
		", \"memory_bytes\": %" PRIu64 ", \"deltas_dropped\": %" PRIu64 "},\n",
		in->sources_tracked, in->sources_inserted, in->sources_evicted,
		in->sources_confirmed, in->sources_memory, in->sources_deltas_dropped);
	if (in->redis_enabled)
		fprintf(f, "  \"redis\": {\"delivered\": %s, \"failed\": %s, \"flushes\": %" PRIu64
			", \"errors\": %" PRIu64 ", \"refusals\": %" PRIu64
			", \"data_lost\": %" PRIu64 ", \"undelivered_packets\": %" PRIu64
			", \"undelivered_source_keys\": %" PRIu64 ", \"undelivered_alerts\": %" PRIu64
			", \"undelivered_upper_bound\": %s"
			", \"shed_minute_cells\": %" PRIu64 ", \"shed_minute_bytes\": %" PRIu64
			", \"shed_minute_packets\": %" PRIu64 ", \"shed_hour_cells\": %" PRIu64
			", \"shed_hour_packets\": %" PRIu64 ", \"shed_source_keys\": %" PRIu64
			", \"redirects\": %" PRIu64 "},\n",
			in->redis_delivered ? "true" : "false", in->redis_failed ? "true" : "false",
			in->redis_flushes, in->redis_errors, in->redis_refusals, in->redis_data_lost,
			in->redis_undelivered_packets, in->redis_undelivered_source_keys,
			in->redis_undelivered_alerts,
			in->redis_undelivered_upper_bound ? "true" : "false", in->redis_shed_minute_cells,
			in->redis_shed_minute_bytes, in->redis_shed_minute_packets,
			in->redis_shed_hour_cells, in->redis_shed_hour_packets,
			in->redis_shed_source_keys, in->redis_redirects);
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
table_row(FILE *f, const char *label, const struct tt_scope_member *m, uint32_t n,
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
		struct tt_scope_member cls[TT_CLASS_COUNT];
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
		qsort(cls, nc, sizeof(cls[0]), tt_scope_member_cmp);
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
