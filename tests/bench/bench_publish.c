/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Publisher benchmark: N distinct members per interval (service cells of two
 * sensors, with countries and unique sources), pushed through the real
 * publisher into a local Redis, or a local Redis Cluster when the first
 * argument is cluster=HOST:PORT[,...], one minute bucket per interval. The
 * sensors' names put their scopes and {all} on three different masters of a
 * cluster that redis-cli --cluster create split in three. Prints one
 * line per interval and a summary; scripts/bench-publisher runs it. Not a
 * test: it prints figures, it does not judge them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_publisher.h"

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int
main(int argc, char **argv)
{
	/*
	 * Slots 5461 and 10923: the 2nd and 3rd master of three; {all} (3894) the
	 * 1st. A label, as the config loader gives every sensor: the publisher
	 * writes it into the sensor's metadata hash.
	 */
	struct tt_sensor_conf sensors[2] = {
		{ .name = "west2731", .label = "west2731", .port = 0 },
		{ .name = "east1637", .label = "east1637", .port = 0 },
	};
	struct tt_config cfg = {
		.id = "bench-1", .redis_enabled = true, .redis_host = "127.0.0.1",
		.redis_prefix = "teitenbench", .flush_interval_ms = 60000,
		.backlog_max_mb = 4096, .retention_minute = 3600, .retention_hour = 3600,
		.retention_day = 3600, .sensors = sensors, .n_sensors = 2,
	};
	struct tt_publisher_stats st;
	struct tt_publisher *pub;
	uint32_t members, intervals, i, j;
	uint64_t total_us = 0, total_cmds = 0, max_us = 0, seed = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_publish REDIS-PORT|cluster=HOST:PORT[,...] "
			"MEMBERS-PER-INTERVAL INTERVALS\n");
		return 2;
	}
	if (strncmp(argv[1], "cluster=", 8) == 0) {
		cfg.redis_cluster = argv[1] + 8;
		cfg.redis_host = NULL;
	} else {
		cfg.redis_port = (uint16_t)atoi(argv[1]);
	}
	members = (uint32_t)strtoul(argv[2], NULL, 10);
	intervals = (uint32_t)strtoul(argv[3], NULL, 10);
	pub = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &cfg, .n_workers = 1 });
	if (pub == NULL || tt_publisher_start(pub) != 0) {
		fprintf(stderr, "bench_publish: cannot start the publisher\n");
		return 1;
	}
	for (i = 0; i < intervals; i++) {
		uint32_t cap = 1024;
		struct tt_shard *s;
		uint64_t t0, waited;

		while (cap < members * 2)
			cap *= 2;
		s = tt_counters_create(&(struct tt_counters_conf){ .port_cells = cap,
			.country_cells = 4096, .hll_cells = 4096, .hll_sparse = 4096,
			.hll_dense = 512 });
		if (s == NULL)
			return 1;
		for (j = 0; j < members; j++) {
			uint32_t n = j / 2;
			struct tt_count_pkt p = {
				.minute = 28500000 + i, .sensor = (uint16_t)(j % 2),
				.svc = TT_SVC(n < 65536 ? TT_SVC_TCP : TT_SVC_UDP, n % 65536),
				.country = (uint16_t)(n % 250), .bytes = 60,
				.klass = (uint8_t)(n % TT_CLASS_COUNT), .watched = n < 16,
			};

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			tt_hll_position(&seed, sizeof(seed), &p.hll_index, &p.hll_rank);
			tt_counters_add(s, &p);
		}
		t0 = now_us();
		tt_publisher_submit(pub, s, NULL);
		tt_publisher_kick(pub);
		do {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
			tt_publisher_get_stats(pub, &st);
		} while (st.flushes < i + 1 && now_us() - t0 < 120000000);
		waited = now_us() - t0;
		tt_counters_free(s);
		if (st.flushes < i + 1) {
			fprintf(stderr, "bench_publish: interval %u not flushed in 120 s\n", i);
			return 1;
		}
		printf("interval %u: %u members, %" PRIu64 " commands in %.1f ms (flush %.1f ms)\n",
			i, members, st.commands - total_cmds, waited / 1000.0,
			st.last_flush_us / 1000.0);
		total_cmds = st.commands;
		total_us += st.last_flush_us;
		if (st.last_flush_us > max_us)
			max_us = st.last_flush_us;
	}
	printf("members/interval %u: max flush %.1f ms, %.0f commands/s, %.0f members/s\n",
		members, max_us / 1000.0, total_cmds * 1e6 / (double)total_us,
		(double)members * intervals * 1e6 / (double)total_us);
	tt_publisher_stop(pub, 5000);
	tt_publisher_free(pub);
	return 0;
}
