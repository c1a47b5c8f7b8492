/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The detectors' input (tt_alerts_feed.h). Control thread only; pure.
 *
 * Two open shards hold what is not yet judged: cells keyed by minute, and
 * the same cells keyed by hour. Advancing the clock sorts each shard's cells
 * by bucket once, feeds the complete buckets in order, and keeps the rest
 * (tt_counters_merge_merged()). A live appliance holds a minute or two here;
 * a replay at most what one collection brings.
 */
#include "tt_alerts_feed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_sources.h"

enum {
	MINUTES_A_DAY = 1440,
	/* A gap of silence longer than this is an outage or a restart: skipped. */
	MAX_SILENT_MINUTES = MINUTES_A_DAY,
};

struct scope_sums {
	uint64_t pkts;
	uint64_t srcs;
	uint64_t home_mirai_pkts;
	uint64_t home_mirai_srcs;
	bool seen;
};

struct tt_alerts_feed {
	struct tt_alerts *det;
	uint32_t n_sensors;
	struct tt_merged *open[TT_ALERTS_RES_COUNT];   /* keyed by minute, by hour */
	uint32_t next[TT_ALERTS_RES_COUNT];            /* first bucket not judged; 0: none yet */
	struct scope_sums *sums;                       /* [n_sensors + 1]: all last */
};

/* A table's rows of the complete buckets, by bucket, and the one to read next. */
struct run {
	struct tt_counters_rows rows;
	uint32_t pos;
};

static uint32_t
bucket_minutes(enum tt_alerts_res res)
{
	return res == TT_ALERTS_RES_MINUTE ? 1 : 60;
}

static struct tt_merged *
open_shard(void)
{
	return tt_counters_merged_create(1 << 10);
}

struct tt_alerts_feed *
tt_alerts_feed_create(struct tt_alerts *detectors, uint32_t n_sensors)
{
	struct tt_alerts_feed *f = calloc(1, sizeof(*f));
	unsigned int r;

	if (f == NULL)
		return NULL;
	f->det = detectors;
	f->n_sensors = n_sensors;
	f->sums = calloc(n_sensors + 1, sizeof(*f->sums));
	for (r = 0; r < TT_ALERTS_RES_COUNT; r++)
		f->open[r] = open_shard();
	if (f->sums == NULL || f->open[0] == NULL || f->open[1] == NULL) {
		tt_alerts_feed_free(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

void
tt_alerts_feed_free(struct tt_alerts_feed *f)
{
	unsigned int r;

	if (f == NULL)
		return;
	for (r = 0; r < TT_ALERTS_RES_COUNT; r++)
		tt_counters_merged_free(f->open[r]);
	free(f->sums);
	free(f);
}

int
tt_alerts_feed_add(struct tt_alerts_feed *f, const struct tt_shard *s,
		const struct tt_sources_deltas *d, tt_alerts_emit_cb emit, void *ctx)
{
	uint32_t i, n = tt_sources_deltas_count(d);
	int rc;

	rc = tt_counters_merge(f->open[TT_ALERTS_RES_MINUTE], s, 1, true);
	if (rc == 0)
		rc = tt_counters_merge(f->open[TT_ALERTS_RES_HOUR], s, 60, true);
	for (i = 0; rc == 0 && i < n; i++) {
		const struct tt_sources_delta *v = tt_sources_deltas_get(d, i);

		/* the interval in which it passed the rule: its minute is the alert's */
		if (!(v->flags & TT_SOURCES_VICTIM) || v->victim_since == 0)
			continue;
		rc = tt_alerts_victim(f->det, (uint64_t)v->victim_since / 60 * 60, v->addr,
			v->family, v->victim_pkts, v->flags & TT_SOURCES_HOME, emit, ctx);
		rc = rc > 0 ? 0 : rc;
	}
	return rc;
}

static const struct tt_counters_row *
cur_row(const struct run *r)
{
	return &r->rows.row[r->pos];
}

static bool
at_bucket(const struct run *r, uint32_t bucket)
{
	return r->pos < r->rows.n && cur_row(r)->minute == bucket;
}

static uint32_t
scope_of(const struct tt_alerts_feed *f, uint16_t sensor, uint32_t *slot)
{
	*slot = sensor == TT_SCOPE_ALL ? f->n_sensors : sensor;
	return sensor == TT_SCOPE_ALL ? TT_ALERTS_ALL : sensor;
}

/* Every figure of one bucket (its cells at the runs' cursors) to the detectors. */
static int
observe_bucket(struct tt_alerts_feed *f, struct run *runs, uint32_t bucket)
{
	struct run *port = &runs[0], *country = &runs[1], *hll = &runs[2];
	uint32_t slot, scope, i;
	int rc = 0;

	memset(f->sums, 0, (f->n_sensors + 1) * sizeof(*f->sums));
	for (; rc == 0 && at_bucket(port, bucket); port->pos++) {
		const struct tt_counters_row *r = cur_row(port);
		uint64_t pkts = r->counts[TT_PORT_COL_PKTS];
		uint64_t mirai = r->counts[tt_schema_class_col(TT_CLASS_MIRAI)];

		scope = scope_of(f, r->sensor, &slot);
		f->sums[slot].seen = true;
		f->sums[slot].pkts += pkts;
		f->sums[slot].home_mirai_pkts += r->counts[TT_PORT_COL_HOME_MIRAI];
		rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_SERVICE, r->item, pkts, 0);
		if (rc == 0 && mirai != 0)
			rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_MIRAI_SERVICE, r->item,
				mirai, 0);
	}
	for (; rc == 0 && at_bucket(country, bucket); country->pos++) {
		const struct tt_counters_row *r = cur_row(country);

		scope = scope_of(f, r->sensor, &slot);
		rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_COUNTRY, r->item,
			r->counts[TT_COUNTRY_COL_PKTS], 0);
	}
	/* Row 0 of a scope in a merged shard is all its sources; others a watched service's. */
	for (; rc == 0 && at_bucket(hll, bucket); hll->pos++) {
		const struct tt_counters_row *r = cur_row(hll);
		const struct tt_hll *h = r->srcs;
		uint64_t mirai;

		scope = scope_of(f, r->sensor, &slot);
		if (r->item == 0) {
			f->sums[slot].seen = true;
			f->sums[slot].srcs = tt_hll_estimate(&h[TT_HLL_ALL]);
			f->sums[slot].home_mirai_srcs = tt_hll_estimate(&h[TT_HLL_HOME_MIRAI]);
			continue;
		}
		rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_SERVICE, r->item, 0,
			tt_hll_estimate(&h[TT_HLL_ALL]));
		mirai = tt_hll_empty(&h[TT_HLL_MIRAI]) ? 0 : tt_hll_estimate(&h[TT_HLL_MIRAI]);
		if (rc == 0 && mirai != 0)
			rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_MIRAI_SERVICE, r->item,
				0, mirai);
	}
	for (i = 0; rc == 0 && i <= f->n_sensors; i++) {
		const struct scope_sums *s = &f->sums[i];

		if (!s->seen)
			continue;
		scope = i == f->n_sensors ? TT_ALERTS_ALL : i;
		rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_TOTAL, 0, s->pkts, s->srcs);
		if (rc == 0 && (s->home_mirai_pkts != 0 || s->home_mirai_srcs != 0))
			rc = tt_alerts_observe(f->det, scope, TT_ALERTS_DIM_HOME_MIRAI, 0,
				s->home_mirai_pkts, s->home_mirai_srcs);
	}
	return rc;
}

static int
judge(struct tt_alerts_feed *f, enum tt_alerts_res res, struct run *runs, uint32_t bucket,
		tt_alerts_emit_cb emit, void *ctx)
{
	int rc = tt_alerts_begin(f->det, res, (uint64_t)bucket * 60);

	if (rc == -EALREADY) {
		/* late cells of a bucket judged already: counted in Redis, not judged again */
		unsigned int j;

		for (j = 0; j < TT_COUNTERS_TABLES; j++)
			while (at_bucket(&runs[j], bucket))
				runs[j].pos++;
		return 0;
	}
	if (rc != 0)
		return rc;
	rc = observe_bucket(f, runs, bucket);
	if (rc != 0) {
		tt_alerts_end(f->det, NULL, NULL);
		return rc;
	}
	return tt_alerts_end(f->det, emit, ctx);
}

/* The earliest bucket among the runs' cursors, or UINT32_MAX. */
static uint32_t
next_data(const struct run *runs)
{
	uint32_t m = UINT32_MAX;
	unsigned int j;

	for (j = 0; j < TT_COUNTERS_TABLES; j++)
		if (runs[j].pos < runs[j].rows.n) {
			uint32_t b = cur_row(&runs[j])->minute;

			m = b < m ? b : m;
		}
	return m;
}

static int
advance_res(struct tt_alerts_feed *f, enum tt_alerts_res res, uint32_t end,
		tt_alerts_emit_cb emit, void *ctx)
{
	const struct tt_merged *s = f->open[res];
	uint32_t step = bucket_minutes(res), b, data;
	struct run runs[TT_COUNTERS_TABLES];
	struct tt_merged *kept;
	unsigned int j;
	int rc = 0;

	memset(runs, 0, sizeof(runs));
	/*
	 * Cells before next[res] came late, for a bucket judged already: they
	 * are counted in Redis, not judged again.
	 */
	for (j = 0; rc == 0 && j < TT_COUNTERS_TABLES; j++)
		rc = tt_counters_sorted(s, j, TT_COUNTERS_BY_MINUTE, f->next[res], end,
			&runs[j].rows);
	for (b = f->next[res]; rc == 0; b += step) {
		data = next_data(runs);
		if (b == 0 || (data != UINT32_MAX && data > b && data - b > MAX_SILENT_MINUTES))
			b = data;       /* the first bucket seen, or after an outage */
		if (b == UINT32_MAX || b + step > end)
			break;
		rc = judge(f, res, runs, b, emit, ctx);
		f->next[res] = b + step;
	}
	if (f->next[res] != 0 && end > f->next[res] && end - f->next[res] > MAX_SILENT_MINUTES)
		f->next[res] = end / step * step;
	for (j = 0; j < TT_COUNTERS_TABLES; j++)
		tt_counters_rows_free(&runs[j].rows);
	if (rc != 0)
		return rc;
	/* Keep the buckets not judged yet; what was judged goes. */
	kept = open_shard();
	if (kept == NULL || tt_counters_merge_merged(kept, s, 1, false,
			f->next[res] ? f->next[res] : 0) != 0) {
		tt_counters_merged_free(kept);
		return -ENOMEM;
	}
	tt_counters_merged_free(f->open[res]);
	f->open[res] = kept;
	return 0;
}

int
tt_alerts_feed_advance(struct tt_alerts_feed *f, uint32_t complete_minute,
		tt_alerts_emit_cb emit, void *ctx)
{
	int rc = advance_res(f, TT_ALERTS_RES_MINUTE, complete_minute, emit, ctx);

	if (rc == 0)
		rc = advance_res(f, TT_ALERTS_RES_HOUR, complete_minute, emit, ctx);
	return rc;
}
