/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The detectors' input (tt_alerts_feed.h). Control thread only; pure.
 *
 * Two open shards hold what is not yet judged: cells keyed by minute, and
 * the same cells keyed by hour. Advancing the clock sorts each shard's cells
 * by bucket once, feeds the complete buckets in order, and keeps the rest
 * (tt_counters_merge_merged()). A live appliance holds a minute or two here;
 * a replay at most what one collection brings.
 *
 * The order is bucket time, whatever a collection brings: the minutes of an
 * hour, then that hour, then the next hour's minutes, as a live appliance
 * advancing a minute at a time judges them; and a DoS victim right after
 * the minute it passed the rule in. A replay's shards span as much packet
 * time as the host's speed lets pile up between two collections, so judging
 * every complete minute before any hour, or a victim as its shard comes in,
 * made the alerts' order (and the hour detectors' view of state the minute
 * ones share) depend on the host's load: a replay's stream differed from
 * run to run.
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

/* A DoS victim flagged by a shard, held until its minute is judged. */
struct held_victim {
	uint64_t ts;                /* the minute it passed the rule, epoch seconds */
	uint64_t pkts;
	uint8_t addr[16];
	uint8_t family;
	bool home;
};

struct tt_alerts_feed {
	struct tt_alerts *det;
	uint32_t n_sensors;
	struct tt_merged *open[TT_ALERTS_RES_COUNT];   /* keyed by minute, by hour */
	uint32_t next[TT_ALERTS_RES_COUNT];            /* first bucket not judged; 0: none yet */
	struct scope_sums *sums;                       /* [n_sensors + 1]: all last */
	struct held_victim *victims;                   /* by arrival; their minutes not judged */
	uint32_t n_victims;
	uint32_t cap_victims;
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
	free(f->victims);
	free(f);
}

int
tt_alerts_feed_add(struct tt_alerts_feed *f, const struct tt_shard *s,
		const struct tt_sources_deltas *d)
{
	uint32_t i, n = tt_sources_deltas_count(d);
	int rc;

	rc = tt_counters_merge(f->open[TT_ALERTS_RES_MINUTE], s, 1, true);
	if (rc == 0)
		rc = tt_counters_merge(f->open[TT_ALERTS_RES_HOUR], s, 60, true);
	for (i = 0; rc == 0 && i < n; i++) {
		const struct tt_sources_delta *v = tt_sources_deltas_get(d, i);
		struct held_victim *h;

		/* the interval in which it passed the rule: its minute is the alert's */
		if (!(v->flags & TT_SOURCES_VICTIM) || v->victim_since == 0)
			continue;
		if (f->n_victims == f->cap_victims) {
			uint32_t cap = f->cap_victims ? 2 * f->cap_victims : 16;

			h = realloc(f->victims, cap * sizeof(*h));
			if (h == NULL) {
				rc = -ENOMEM;
				break;
			}
			f->victims = h;
			f->cap_victims = cap;
		}
		h = &f->victims[f->n_victims++];
		memset(h, 0, sizeof(*h));
		h->ts = (uint64_t)v->victim_since / 60 * 60;
		h->pkts = v->victim_rule_pkts;
		memcpy(h->addr, v->addr, v->family == 4 ? 4 : 16);
		h->family = v->family;
		h->home = (v->flags & TT_SOURCES_HOME) != 0;
	}
	return rc;
}

static int
victim_cmp(const void *x, const void *y)
{
	const struct held_victim *a = x, *b = y;
	int c;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c != 0)
		return c;
	return a->pkts < b->pkts ? -1 : a->pkts > b->pkts;
}

/*
 * The held victims whose minute is judged (before next[minute]) to the
 * detectors, in (minute, address) order, so that neither the order shards
 * came in nor which worker saw a victim first changes the stream.
 */
static int
release_victims(struct tt_alerts_feed *f, tt_alerts_emit_cb emit, void *ctx)
{
	uint64_t upto = (uint64_t)f->next[TT_ALERTS_RES_MINUTE] * 60;
	uint32_t i, n = 0, kept = 0;
	int rc = 0, r;

	if (f->n_victims == 0 || upto == 0)
		return 0;
	for (i = 0; i < f->n_victims; i++)
		if (f->victims[i].ts < upto)
			n++;
	if (n == 0)
		return 0;
	qsort(f->victims, f->n_victims, sizeof(*f->victims), victim_cmp);
	/* sorted by minute: the judged ones are the first n */
	for (i = 0; i < n; i++) {
		const struct held_victim *h = &f->victims[i];

		r = tt_alerts_victim(f->det, h->ts, h->addr, h->family, h->pkts, h->home, emit,
			ctx);
		if (r < 0 && rc == 0)
			rc = r;
	}
	for (i = n; i < f->n_victims; i++)
		f->victims[kept++] = f->victims[i];
	f->n_victims = kept;
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

/* One resolution's complete buckets: their rows sorted once, judged in steps. */
struct pass {
	enum tt_alerts_res res;
	uint32_t step;
	struct run runs[TT_COUNTERS_TABLES];
};

/*
 * Cells before next[res] came late, for a bucket judged already: they are
 * counted in Redis, not judged again.
 */
static int
pass_open(struct tt_alerts_feed *f, struct pass *ps, enum tt_alerts_res res, uint32_t end)
{
	unsigned int j;
	int rc = 0;

	memset(ps, 0, sizeof(*ps));
	ps->res = res;
	ps->step = bucket_minutes(res);
	for (j = 0; rc == 0 && j < TT_COUNTERS_TABLES; j++)
		rc = tt_counters_sorted(f->open[res], j, TT_COUNTERS_BY_MINUTE, f->next[res], end,
			&ps->runs[j].rows);
	return rc;
}

/* The next bucket to judge: next[res], or the data at the start or after an outage. */
static uint32_t
pass_next(const struct tt_alerts_feed *f, const struct pass *ps)
{
	uint32_t b = f->next[ps->res], data = next_data(ps->runs);

	if (b == 0 || (data != UINT32_MAX && data > b && data - b > MAX_SILENT_MINUTES))
		b = data;       /* the first bucket seen, or after an outage */
	return b;
}

/* Judge the buckets that end by minute @p limit; each judged minute lets its victims go. */
static int
pass_judge(struct tt_alerts_feed *f, struct pass *ps, uint32_t limit,
		tt_alerts_emit_cb emit, void *ctx)
{
	uint32_t b;
	int rc = 0;

	while (rc == 0) {
		b = pass_next(f, ps);
		if (b == UINT32_MAX || b + ps->step > limit)
			break;
		rc = judge(f, ps->res, ps->runs, b, emit, ctx);
		f->next[ps->res] = b + ps->step;
		if (rc == 0 && ps->res == TT_ALERTS_RES_MINUTE)
			rc = release_victims(f, emit, ctx);
	}
	return rc;
}

/* A clock past the last bucket by more than a day: an outage, not judged silent. */
static void
pass_skip(struct tt_alerts_feed *f, const struct pass *ps, uint32_t end)
{
	if (f->next[ps->res] != 0 && end > f->next[ps->res] &&
			end - f->next[ps->res] > MAX_SILENT_MINUTES)
		f->next[ps->res] = end / ps->step * ps->step;
}

/*
 * The rows go; the buckets not judged yet are kept, what was judged goes.
 *
 * Most passes judge nothing: a minute's bucket is judged once a minute,
 * an hour's once an hour. The open shard then holds only buckets not
 * judged, and stays as it is. It used to be copied at every pass, every
 * cell and every register of the hour so far, into a new shard grown from
 * 1,024 cells: at 4,096 sensors (the benchmark's flood, a flush interval
 * of a second) this function took 25.7% of the control thread's samples,
 * 0.5% since (perf, 6 s of samples each).
 */
static int
pass_close(struct tt_alerts_feed *f, struct pass *ps, int rc)
{
	const struct tt_merged *s = f->open[ps->res];
	uint32_t from = f->next[ps->res];
	struct tt_merged *kept;
	unsigned int j;

	for (j = 0; j < TT_COUNTERS_TABLES; j++)
		tt_counters_rows_free(&ps->runs[j].rows);
	if (rc != 0)
		return rc;
	if (tt_counters_merged_oldest_minute(s) >= from)
		return 0;
	kept = open_shard();
	if (kept == NULL || tt_counters_merge_merged(kept, s, 1, false, from) != 0) {
		tt_counters_merged_free(kept);
		return -ENOMEM;
	}
	tt_counters_merged_free(f->open[ps->res]);
	f->open[ps->res] = kept;
	return 0;
}

int
tt_alerts_feed_advance(struct tt_alerts_feed *f, uint32_t complete_minute,
		tt_alerts_emit_cb emit, void *ctx)
{
	struct pass ps[TT_ALERTS_RES_COUNT];
	int rc, rc_hour;

	rc = pass_open(f, &ps[TT_ALERTS_RES_MINUTE], TT_ALERTS_RES_MINUTE, complete_minute);
	rc_hour = pass_open(f, &ps[TT_ALERTS_RES_HOUR], TT_ALERTS_RES_HOUR, complete_minute);
	if (rc == 0)
		rc = rc_hour;
	/* an hour at a time: its minutes, then the hour (see the top of this file) */
	while (rc == 0) {
		uint32_t b = pass_next(f, &ps[TT_ALERTS_RES_MINUTE]), limit = complete_minute;

		if (b != UINT32_MAX && b / 60 * 60 + 60 < complete_minute)
			limit = b / 60 * 60 + 60;
		rc = pass_judge(f, &ps[TT_ALERTS_RES_MINUTE], limit, emit, ctx);
		if (rc == 0)
			rc = pass_judge(f, &ps[TT_ALERTS_RES_HOUR], limit, emit, ctx);
		if (limit == complete_minute)
			break;
	}
	if (rc == 0) {
		pass_skip(f, &ps[TT_ALERTS_RES_MINUTE], complete_minute);
		pass_skip(f, &ps[TT_ALERTS_RES_HOUR], complete_minute);
		/* victims of minutes an outage skipped, or late for a judged one */
		rc = release_victims(f, emit, ctx);
	}
	rc = pass_close(f, &ps[TT_ALERTS_RES_MINUTE], rc);
	return pass_close(f, &ps[TT_ALERTS_RES_HOUR], rc);
}
