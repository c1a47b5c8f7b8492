/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live view: run, hour, previous hour and day shards, and the rates of
 * the last sample. Control thread writes, telemetry threads read, one mutex
 * between them (neither is a worker; a merge holds it for milliseconds).
 */
#include "tt_live.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tt_counters.h"

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

struct tt_live {
	struct tt_live_conf conf;
	pthread_mutex_t lock;
	struct tt_merged *run;
	struct tt_merged *hour;
	struct tt_merged *prev_hour;
	struct tt_merged *day;
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
	if (l->run == NULL || l->hour == NULL || l->prev_hour == NULL || l->day == NULL ||
			l->sensor_pkts == NULL || l->sensor_pps == NULL ||
			l->last.sensor_pkts == NULL || l->last.rx_pkts == NULL ||
			l->last.busy_cycles == NULL || l->worker_rate == NULL) {
		tt_live_free(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

void
tt_live_free(struct tt_live *l)
{
	if (l == NULL)
		return;
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

int
tt_live_add(struct tt_live *l, const struct tt_shard *s, uint32_t now_minute)
{
	uint32_t lo, hi, newest, hour, day;
	int rc;

	pthread_mutex_lock(&l->lock);
	scan_shard(l, s, &lo, &hi);
	newest = hi > now_minute ? hi : now_minute;
	hour = newest - newest % HOUR_MINUTES;
	day = newest - newest % DAY_MINUTES;
	if (newest != 0 && hour > l->hour_minute)
		roll_hour(l, hour);
	if (newest != 0 && day > l->day_minute) {
		tt_counters_merged_reset(l->day);
		l->day_minute = day;
	}
	rc = tt_counters_merge(l->run, s, 0, true);
	if (rc == 0 && hi != 0)
		rc = tt_counters_merge(l->hour, s, HOUR_MINUTES, true);
	/* Cells of the previous hour still arrive around the hour's turn. */
	if (rc == 0 && hi != 0 && lo < l->hour_minute)
		rc = tt_counters_merge(l->prev_hour, s, HOUR_MINUTES, true);
	if (rc == 0 && hi != 0)
		rc = tt_counters_merge(l->day, s, DAY_MINUTES, true);
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

void
tt_live_lock(struct tt_live *l)
{
	pthread_mutex_lock(&l->lock);
}

void
tt_live_unlock(struct tt_live *l)
{
	pthread_mutex_unlock(&l->lock);
}

const struct tt_merged *
tt_live_run(const struct tt_live *l)
{
	return l->run;
}

const struct tt_merged *
tt_live_hour(const struct tt_live *l, uint32_t *first_minute)
{
	*first_minute = l->hour_minute;
	return l->hour;
}

const struct tt_merged *
tt_live_prev_hour(const struct tt_live *l, uint32_t *first_minute)
{
	*first_minute = l->hour_minute != 0 ? l->prev_hour_minute : 0;
	return l->prev_hour;
}

const struct tt_merged *
tt_live_day(const struct tt_live *l, uint32_t *first_minute)
{
	*first_minute = l->day_minute;
	return l->day;
}

void
tt_live_worker_rate(const struct tt_live *l, uint32_t worker, struct tt_live_rate *out)
{
	if (worker < l->conf.n_workers)
		*out = l->worker_rate[worker];
	else
		memset(out, 0, sizeof(*out));
}

uint64_t
tt_live_sensor_pkts(const struct tt_live *l, uint32_t sensor)
{
	return sensor < l->conf.n_sensors ? l->sensor_pkts[sensor] : 0;
}

uint64_t
tt_live_sensor_pps(const struct tt_live *l, uint32_t sensor)
{
	return sensor < l->conf.n_sensors ? l->sensor_pps[sensor] : 0;
}
