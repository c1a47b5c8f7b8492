/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane merge benchmark: one worker shard of a spoofed flood (every
 * packet a random source, sensor and country; one service) at N sensors,
 * sized as the appliance sizes a shard for N sensors, merged seven times:
 * into a minute and an hour as the publisher's and the alerts', and into a
 * run, an hour and a day as the live view merged every shard before it
 * folded them (the merge itself, whoever makes it), each with the all
 * scope. Each round merges into emptied targets, as the publisher's are at
 * every flush, and then again into the same targets, which then hold every
 * cell already, as the alerts' do. Prints the milliseconds of CPU time of each, median of the rounds.
 *
 * Then the live view as the control thread feeds it (tt_live_add()):
 * LIVE_SHARDS such shards of one minute, and the next minute's first
 * shard (one packet), with no reader between. The view's own merges,
 * however it makes them; CPU time a shard of the minute.
 *
 * Not a test: it prints figures, it does not judge them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tt_live.h"

#include "bench_flood.h"

enum { TARGETS = 7, MAX_ROUNDS = 64, LIVE_SHARDS = 10, MINUTE = 29000000 };

/* The control thread's merges of a shard: bucket minutes of each target. */
static const uint32_t target_minutes[TARGETS] = { 1, 60, 1, 60, 0, 60, 1440 };

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A shard of capacities @p conf with @p packets at @p sensors in minute @p minute, or NULL. */
static struct tt_shard *
flood_shard(const struct tt_counters_conf *conf, uint32_t sensors, uint32_t packets,
		uint32_t minute)
{
	struct tt_shard *s = tt_counters_create(conf);
	uint64_t seed = 1;
	uint32_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < packets; i++) {
		struct tt_count_pkt p = bench_flood_packet(&seed, sensors, minute);

		tt_counters_add(s, &p);
	}
	return s;
}

/*
 * The live view fed LIVE_SHARDS shards @p s of one minute and then @p next,
 * of the next minute: CPU ms a shard of the minute, or a negative value.
 */
static double
live_ms(const struct tt_shard *s, const struct tt_shard *next, uint32_t sensors)
{
	struct tt_live *l = tt_live_create(&(struct tt_live_conf){ .n_sensors = sensors,
		.n_workers = 1, .tsc_hz = 1000000000 });
	double t0, ms = -1;
	uint32_t i;

	if (l == NULL)
		return -1;
	t0 = cpu_ms();
	for (i = 0; i < LIVE_SHARDS; i++)
		if (tt_live_add(l, s, MINUTE) != 0)
			goto out;
	if (tt_live_add(l, next, MINUTE + 1) != 0)
		goto out;
	ms = (cpu_ms() - t0) / LIVE_SHARDS;
out:
	tt_live_free(l);
	return ms;
}

int
main(int argc, char **argv)
{
	struct tt_merged *target[TARGETS] = { 0 };
	struct tt_counters_conf conf;
	double fresh[MAX_ROUNDS], again[MAX_ROUNDS], live[MAX_ROUNDS];
	uint32_t sensors, packets, rounds, r, t;
	struct tt_shard *s, *next;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_merge SENSORS PACKETS ROUNDS\n");
		return 2;
	}
	sensors = (uint32_t)strtoul(argv[1], NULL, 10);
	packets = (uint32_t)strtoul(argv[2], NULL, 10);
	rounds = (uint32_t)strtoul(argv[3], NULL, 10);
	if (sensors == 0 || sensors > TT_COUNTERS_PLANE_ROWS_MAX || rounds == 0 ||
			rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench_merge: 1 to %u sensors, 1 to %u rounds\n",
			TT_COUNTERS_PLANE_ROWS_MAX, MAX_ROUNDS);
		return 2;
	}
	if (bench_shard_conf("bench_merge", sensors, &conf, NULL, NULL) != 0) {
		fprintf(stderr, "bench_merge: cannot size a shard for %u sensors\n", sensors);
		return 1;
	}
	s = flood_shard(&conf, sensors, packets, MINUTE);
	next = flood_shard(&conf, sensors, 1, MINUTE + 1);
	for (t = 0; t < TARGETS; t++)
		target[t] = tt_counters_merged_create(1 << 12);
	if (s == NULL || next == NULL || target[TARGETS - 1] == NULL) {
		fprintf(stderr, "bench_merge: out of memory\n");
		return 1;
	}
	for (r = 0; r < rounds; r++) {
		double t0;

		for (t = 0; t < TARGETS; t++)
			tt_counters_merged_reset(target[t]);
		t0 = cpu_ms();
		for (t = 0; t < TARGETS; t++)
			if (tt_counters_merge(target[t], s, target_minutes[t], true) != 0)
				return 1;
		fresh[r] = cpu_ms() - t0;
		t0 = cpu_ms();
		for (t = 0; t < TARGETS; t++)
			if (tt_counters_merge(target[t], s, target_minutes[t], true) != 0)
				return 1;
		again[r] = cpu_ms() - t0;
		live[r] = live_ms(s, next, sensors);
		if (live[r] < 0) {
			fprintf(stderr, "bench_merge: out of memory\n");
			return 1;
		}
	}
	qsort(fresh, rounds, sizeof(*fresh), bench_by_value);
	qsort(again, rounds, sizeof(*again), bench_by_value);
	qsort(live, rounds, sizeof(*live), bench_by_value);
	printf("sensors %u packets %u: cells port %u country %u srcs %u; "
		"%u merges of the shard: %.1f ms into emptied targets, %.1f ms into full ones "
		"(CPU time, median of %u)\n", sensors, packets,
		tt_counters_rows(target[0], TT_COUNTERS_PORT),
		tt_counters_rows(target[0], TT_COUNTERS_COUNTRY),
		tt_counters_rows(target[0], TT_COUNTERS_SRCS), TARGETS, fresh[rounds / 2],
		again[rounds / 2], rounds);
	printf("sensors %u packets %u: live view, %u shards of a minute and the next one's "
		"first: %.1f ms a shard of the minute (CPU time, median of %u)\n", sensors, packets,
		LIVE_SHARDS, live[rounds / 2], rounds);
	for (t = 0; t < TARGETS; t++)
		tt_counters_merged_free(target[t]);
	tt_counters_free(s);
	tt_counters_free(next);
	return 0;
}
