/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live view: run, hour, previous hour and day shards, and the rates of
 * the last sample. The control thread writes, telemetry threads read copies;
 * one mutex between them, never held outside this file (neither side is a
 * worker; a merge holds it for milliseconds, a copy for a scope build).
 */
#include "tt_live.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tt_counters.h"
#include "tt_scope.h"

enum {
	HOUR_MINUTES = 60,
	DAY_MINUTES = 1440,
};

struct live_sample {
	uint64_t tsc;
	uint64_t *rx_pkts;             /* per worker, cumulative */
	uint64_t *busy_cycles;
	uint64_t *sensor_pkts;         /* per sensor, cumulative */
};

/*
 * Each shard the control thread hands over is merged once, into `recent`,
 * with its minutes and the all scope; `recent` is folded into the run, the
 * hour, the day (and the previous hour, for its late cells) when a reader
 * asks, when the newest minute moves on, and before the hour or the day
 * rolls. The views therefore read exactly as if every shard had been merged
 * into each of them, but unread they cost one merge a shard and the folds
 * of a minute, where merging into each cost three or four merges a shard.
 * At 4,096 sensors under the benchmark's flood those were the largest of
 * the control thread's merges (perf: 39% of the thread). scripts/bench-merge,
 * ten shards of a minute at 4,096 sensors: 465 -> 226 ms a shard (medians
 * of 5). A reader after every shard (a console refreshing every second)
 * makes it fold every shard: 390 to 493 ms, about what merging into each
 * cost.
 */
struct tt_live {
	struct tt_live_conf conf;
	/*
	 * Guards every field below against the readers; the writer holds it
	 * to change them, and a reader to fold `recent` (fold_recent()).
	 */
	pthread_mutex_t lock;
	struct tt_merged *recent;      /* shards not yet folded, minute buckets, all scope in */
	bool recent_held;              /* a shard was added to it since the last fold */
	uint32_t recent_minute;        /* the newest minute when its first shard came */
	uint32_t recent_oldest;        /* its oldest cell's minute; UINT32_MAX: none */
	bool fold_failed;              /* a reader's fold ran out of memory: the next add says so */
	struct tt_merged *run;
	struct tt_merged *hour;
	struct tt_merged *prev_hour;
	struct tt_merged *day;
	/*
	 * Each view's scope index, made by the first reader that needs it
	 * and dropped whenever a view changes (drop_indexes()): the readers
	 * of one moment (the console asks five commands a refresh, each of
	 * one to three views) share one sort of a view instead of making
	 * one each. Its rows point into the view's cells.
	 */
	struct tt_scope_index *index[TT_LIVE_VIEWS];
	uint32_t hour_minute;          /* first minute of each view; 0: empty */
	uint32_t prev_hour_minute;
	uint32_t day_minute;
	uint64_t *sensor_pkts;         /* cumulative, from every shard added */
	struct live_sample last;       /* the previous sample */
	struct tt_live_rate *worker_rate;
	uint64_t *sensor_pps;
};

static struct tt_merged *
view_create(void)
{
	return tt_counters_merged_create(1 << 12);
}

struct tt_live *
tt_live_create(const struct tt_live_conf *conf)
{
	struct tt_live *l;
	uint32_t nw = conf->n_workers, ns = conf->n_sensors;

	if (nw == 0 || conf->tsc_hz == 0) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->conf = *conf;
	pthread_mutex_init(&l->lock, NULL);
	l->recent = view_create();
	l->recent_oldest = UINT32_MAX;
	l->run = view_create();
	l->hour = view_create();
	l->prev_hour = view_create();
	l->day = view_create();
	l->sensor_pkts = calloc(ns + 1, sizeof(uint64_t));
	l->sensor_pps = calloc(ns + 1, sizeof(uint64_t));
	l->last.sensor_pkts = calloc(ns + 1, sizeof(uint64_t));
	l->last.rx_pkts = calloc(nw, sizeof(uint64_t));
	l->last.busy_cycles = calloc(nw, sizeof(uint64_t));
	l->worker_rate = calloc(nw, sizeof(*l->worker_rate));
	if (l->recent == NULL || l->run == NULL || l->hour == NULL || l->prev_hour == NULL ||
			l->day == NULL || l->sensor_pkts == NULL || l->sensor_pps == NULL ||
			l->last.sensor_pkts == NULL || l->last.rx_pkts == NULL ||
			l->last.busy_cycles == NULL || l->worker_rate == NULL) {
		tt_live_free(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

/* The views are about to change: their indexes would point at old cells. Lock held. */
static void
drop_indexes(struct tt_live *l)
{
	unsigned int v;

	for (v = 0; v < TT_LIVE_VIEWS; v++) {
		tt_scope_index_free(l->index[v]);
		l->index[v] = NULL;
	}
}

void
tt_live_free(struct tt_live *l)
{
	if (l == NULL)
		return;
	drop_indexes(l);
	tt_counters_merged_free(l->recent);
	tt_counters_merged_free(l->run);
	tt_counters_merged_free(l->hour);
	tt_counters_merged_free(l->prev_hour);
	tt_counters_merged_free(l->day);
	free(l->sensor_pkts);
	free(l->sensor_pps);
	free(l->last.sensor_pkts);
	free(l->last.rx_pkts);
	free(l->last.busy_cycles);
	free(l->worker_rate);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/*
 * The oldest and newest minute of a worker shard, and its packets per
 * sensor. Every counted packet has a port cell, so that table is enough.
 */
static void
scan_shard(struct tt_live *l, const struct tt_shard *s, uint32_t *min_minute,
		uint32_t *max_minute)
{
	uint32_t i, n = tt_counters_shard_rows(s, TT_COUNTERS_PORT);
	struct tt_counters_row r;

	*min_minute = UINT32_MAX;
	*max_minute = 0;
	for (i = 0; i < n; i++) {
		tt_counters_shard_row(s, TT_COUNTERS_PORT, i, &r);
		if (r.minute < *min_minute)
			*min_minute = r.minute;
		if (r.minute > *max_minute)
			*max_minute = r.minute;
		if (r.sensor < l->conf.n_sensors)
			l->sensor_pkts[r.sensor] += r.counts[TT_PORT_COL_PKTS];
	}
}

/* Move to a newer hour: the current one becomes the previous, if adjacent. */
static void
roll_hour(struct tt_live *l, uint32_t hour_minute)
{
	struct tt_merged *t = l->prev_hour;

	drop_indexes(l);
	tt_counters_merged_reset(t);
	if (l->hour_minute != 0 && l->hour_minute + HOUR_MINUTES == hour_minute) {
		l->prev_hour = l->hour;
		l->prev_hour_minute = l->hour_minute;
		l->hour = t;
	} else {
		tt_counters_merged_reset(l->hour);
		l->prev_hour_minute = hour_minute - HOUR_MINUTES;
	}
	l->hour_minute = hour_minute;
}

/*
 * Fold the shards merged since the last fold into the views. Lock held;
 * the writer's thread or a reader's. The run keeps every minute under 0,
 * a bucket view its hour or day; `recent` holds the all scope already, so
 * it is not added again. On -ENOMEM the views miss part of those shards,
 * as they would have missed part of a shard merged into each; a reader
 * that meets it leaves it for the writer's next tt_live_add() to report.
 */
static int
fold_recent(struct tt_live *l)
{
	int rc;

	if (!l->recent_held)
		return 0;
	drop_indexes(l);
	rc = tt_counters_merge_merged(l->run, l->recent, 0, false, 0);
	if (rc == 0 && l->recent_oldest != UINT32_MAX) {
		rc = tt_counters_merge_merged(l->hour, l->recent, HOUR_MINUTES, false, 0);
		/* Cells of the previous hour still arrive around the hour's turn. */
		if (rc == 0 && l->recent_oldest < l->hour_minute)
			rc = tt_counters_merge_merged(l->prev_hour, l->recent, HOUR_MINUTES,
				false, 0);
		if (rc == 0)
			rc = tt_counters_merge_merged(l->day, l->recent, DAY_MINUTES, false, 0);
	}
	tt_counters_merged_reset(l->recent);
	l->recent_held = false;
	l->recent_oldest = UINT32_MAX;
	if (rc != 0)
		l->fold_failed = true;
	return rc;
}

/*
 * What the writer's call returns: @p rc, or -ENOMEM when a fold since its
 * last call, its own or a reader's, ran out of memory. Lock held.
 */
static int
writer_rc(struct tt_live *l, int rc)
{
	if (l->fold_failed) {
		l->fold_failed = false;
		return -ENOMEM;
	}
	return rc;
}

int
tt_live_add(struct tt_live *l, const struct tt_shard *s, uint32_t now_minute)
{
	uint32_t lo, hi, newest, hour, day;
	int rc = 0;

	pthread_mutex_lock(&l->lock);
	scan_shard(l, s, &lo, &hi);
	newest = hi > now_minute ? hi : now_minute;
	hour = newest - newest % HOUR_MINUTES;
	day = newest - newest % DAY_MINUTES;
	/*
	 * A newer minute folds what `recent` holds into the views as they
	 * are, before a newer hour or day rolls them; and it keeps `recent`
	 * to about a minute of shards, not an hour's minutes one by one.
	 */
	if (l->recent_held && newest > l->recent_minute)
		rc = fold_recent(l);
	if (newest != 0 && hour > l->hour_minute)
		roll_hour(l, hour);
	if (newest != 0 && day > l->day_minute) {
		drop_indexes(l);
		tt_counters_merged_reset(l->day);
		l->day_minute = day;
	}
	if (tt_counters_merge(l->recent, s, 1, true) != 0)
		rc = -ENOMEM;
	if (!l->recent_held) {
		l->recent_held = true;
		l->recent_minute = newest;
	}
	if (hi != 0 && lo < l->recent_oldest)
		l->recent_oldest = lo;
	rc = writer_rc(l, rc);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

static uint64_t
per_second(uint64_t delta, uint64_t dt_tsc, uint64_t hz)
{
	return dt_tsc == 0 ? 0 : (uint64_t)((double)delta * (double)hz / (double)dt_tsc);
}

void
tt_live_sample(struct tt_live *l, uint64_t now_tsc, const uint64_t *rx_pkts,
		const uint64_t *busy_cycles)
{
	uint64_t dt;
	uint32_t w, s;

	pthread_mutex_lock(&l->lock);
	dt = l->last.tsc != 0 && now_tsc > l->last.tsc ? now_tsc - l->last.tsc : 0;
	for (w = 0; w < l->conf.n_workers; w++) {
		struct tt_live_rate *r = &l->worker_rate[w];
		uint64_t pkts = rx_pkts[w] - l->last.rx_pkts[w];
		uint64_t busy = busy_cycles[w] - l->last.busy_cycles[w];

		r->pps = per_second(pkts, dt, l->conf.tsc_hz);
		r->busy_permille = dt == 0 ? 0 : (uint32_t)(busy >= dt ? 1000 : busy * 1000 / dt);
		r->cycles_per_packet = pkts == 0 ? 0 : (uint32_t)(busy / pkts);
		l->last.rx_pkts[w] = rx_pkts[w];
		l->last.busy_cycles[w] = busy_cycles[w];
	}
	for (s = 0; s < l->conf.n_sensors; s++) {
		l->sensor_pps[s] = per_second(l->sensor_pkts[s] - l->last.sensor_pkts[s], dt,
			l->conf.tsc_hz);
		l->last.sensor_pkts[s] = l->sensor_pkts[s];
	}
	l->last.tsc = now_tsc;
	pthread_mutex_unlock(&l->lock);
}

/* A view's shard and its bucket's first minute (0: nothing yet). Lock held. */
static const struct tt_merged *
view_of(const struct tt_live *l, enum tt_live_view v, uint32_t *first_minute)
{
	switch (v) {
	case TT_LIVE_HOUR:
		*first_minute = l->hour_minute;
		return l->hour;
	case TT_LIVE_DAY:
		*first_minute = l->day_minute;
		return l->day;
	case TT_LIVE_PREV_HOUR:
		*first_minute = l->hour_minute != 0 ? l->prev_hour_minute : 0;
		return l->prev_hour;
	default:
		*first_minute = 0;
		return l->run;
	}
}

/* View @p v's index, made if it is not there. Lock held. @return it, or NULL: out of memory. */
static const struct tt_scope_index *
view_index(struct tt_live *l, enum tt_live_view v)
{
	uint32_t first;

	if (l->index[v] == NULL)
		l->index[v] = tt_scope_index_create(view_of(l, v, &first), l->conf.n_sensors);
	return l->index[v];
}

int
tt_live_scopes(struct tt_live *l, uint16_t sensor, unsigned int views, struct tt_scope *out,
		uint32_t *first_minute)
{
	unsigned int v;
	int rc = 0;

	memset(out, 0, TT_LIVE_VIEWS * sizeof(*out));
	memset(first_minute, 0, TT_LIVE_VIEWS * sizeof(*first_minute));
	pthread_mutex_lock(&l->lock);
	rc = fold_recent(l);
	for (v = 0; v < TT_LIVE_VIEWS && rc == 0; v++) {
		const struct tt_scope_index *x;
		const struct tt_merged *s;

		if (!(views & TT_LIVE_VIEW_BIT(v)))
			continue;
		s = view_of(l, (enum tt_live_view)v, &first_minute[v]);
		/* a sensor slot the view does not have: no cell of it, an empty scope */
		if (sensor != TT_SCOPE_ALL && sensor >= l->conf.n_sensors)
			continue;
		x = view_index(l, (enum tt_live_view)v);
		/*
		 * The run keeps every minute under 0; a bucket view its first
		 * minute, and before anything is merged minute 0 matches no cell
		 * of it: an empty scope.
		 */
		rc = x == NULL ? -ENOMEM : tt_scope_build_indexed(&out[v], s, x, sensor,
			v == TT_LIVE_RUN ? TT_SCOPE_ANY_MINUTE : first_minute[v]);
	}
	pthread_mutex_unlock(&l->lock);
	if (rc != 0)
		for (v = 0; v < TT_LIVE_VIEWS; v++)
			tt_scope_free(&out[v]);
	return rc;
}

void
tt_live_worker_rates(struct tt_live *l, uint32_t first, uint32_t n, struct tt_live_rate *out)
{
	uint32_t i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < n; i++) {
		if (first + i < l->conf.n_workers)
			out[i] = l->worker_rate[first + i];
		else
			memset(&out[i], 0, sizeof(out[i]));
	}
	pthread_mutex_unlock(&l->lock);
}

static int
busiest_first(const void *a, const void *b)
{
	const struct tt_live_sensor *x = a, *y = b;

	if (x->pkts != y->pkts)
		return x->pkts < y->pkts ? 1 : -1;
	return x->sensor < y->sensor ? -1 : x->sensor > y->sensor;
}

/*
 * The day's unique sources and the hour's top service of @p n rows, through
 * a scope view each (its ranking puts the busiest service first, the lowest
 * key among equals). One index per view finds each sensor's cells without a
 * pass over the shard per sensor; the views' own (view_index()), which the
 * other readers of the moment share. Lock held.
 *
 * Cost, CPU time of one call (40 services and 2,000 packets a sensor): 32
 * sensors all shown 1.3 ms, 100 sensors 75 shown 4 ms, 1,000 sensors 75
 * shown 25 ms (the indexes take most of it); the raw-cell walk it replaced
 * took 0.1, 0.3 and 5 to 13 ms. The control thread's next merge waits that
 * long at most.
 */
static int
fill_details(struct tt_live *l, struct tt_live_sensor *rows, uint32_t n)
{
	const struct tt_scope_index *hx = NULL, *dx = NULL;
	uint32_t i;

	if (l->hour_minute != 0 && (hx = view_index(l, TT_LIVE_HOUR)) == NULL)
		return -ENOMEM;
	if (l->day_minute != 0 && (dx = view_index(l, TT_LIVE_DAY)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		uint16_t sensor = (uint16_t)rows[i].sensor;
		struct tt_scope v;

		if (hx != NULL) {
			if (tt_scope_build_indexed(&v, l->hour, hx, sensor, l->hour_minute) != 0)
				return -ENOMEM;
			if (v.n_port[TT_PORT_COL_PKTS] > 0) {
				rows[i].top_svc = v.port[TT_PORT_COL_PKTS][0].item;
				rows[i].top_pkts = v.port[TT_PORT_COL_PKTS][0].count;
			}
			tt_scope_free(&v);
		}
		if (dx != NULL) {
			if (tt_scope_build_indexed(&v, l->day, dx, sensor, l->day_minute) != 0)
				return -ENOMEM;
			rows[i].srcs_today = v.srcs[TT_HLL_ALL];
			tt_scope_free(&v);
		}
	}
	return 0;
}

int
tt_live_sensors(struct tt_live *l, struct tt_live_sensor *rows, uint32_t n_detail)
{
	uint32_t i, n = l->conf.n_sensors;
	int rc;

	memset(rows, 0, n * sizeof(*rows));
	pthread_mutex_lock(&l->lock);
	for (i = 0; i < n; i++) {
		rows[i].sensor = i;
		rows[i].pkts = l->sensor_pkts[i];
		rows[i].pps = l->sensor_pps[i];
	}
	qsort(rows, n, sizeof(*rows), busiest_first);
	/* the sensors' packets are counted as shards come: only the details need the views */
	rc = n_detail == 0 ? 0 : fold_recent(l);
	if (rc == 0)
		rc = fill_details(l, rows, n_detail < n ? n_detail : n);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

uint32_t
tt_live_sensor_slots(const struct tt_live *l)
{
	return l->conf.n_sensors;
}

int
tt_live_fold(struct tt_live *l)
{
	int rc;

	pthread_mutex_lock(&l->lock);
	rc = fold_recent(l);
	rc = writer_rc(l, rc);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

const struct tt_merged *
tt_live_run(const struct tt_live *l)
{
	return l->run;
}
