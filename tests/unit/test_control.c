/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's policy: its decisions as pure functions (which minutes
 * are complete, when a replay waits for Redis, what counts as delivered, the
 * exit code), then whole runs on real parts: a worker polling a ring-backed
 * port on a second lcore, the live view, and a publisher writing to a real
 * redis-server this test starts, stops and restarts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "cunit_main.h"
#include "eal_runtime.h"
#include "frames.h"
#include "redis_server.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_control.h"
#include "tt_live.h"
#include "tt_port.h"
#include "tt_publisher.h"
#include "tt_report.h"
#include "tt_sensor.h"
#include "tt_worker.h"

RTE_LOG_REGISTER(ut_logtype_control, ut.control, DEBUG);

enum {
	MIN_0 = 28532160,              /* 2024-04-01T00:00Z in minutes */
	RING_SIZE = 1024,
	WAIT_MS = 15000,               /* the longest any wait here may take */
};

static struct tt_publisher_stats ok_stats = { .connected = true };

/*
 * The decisions
 */

static void
test_complete_minute_wall_clock(void)
{
	uint64_t seen[1] = { 0 };
	bool drained[1] = { false };

	/* Live: the wall clock's minute less one, whatever the packets said. */
	CU_ASSERT_EQUAL(tt_control_complete_minute(false, seen, drained, 1,
		(uint64_t)MIN_0 * 60 + 59, false), MIN_0 - 1);
	CU_ASSERT_EQUAL(tt_control_complete_minute(false, seen, drained, 1,
		(uint64_t)(MIN_0 + 1) * 60, true), MIN_0);
}

static void
test_complete_minute_packet_clock(void)
{
	uint64_t t = (uint64_t)MIN_0 * 60;
	uint64_t seen[3] = { t + 130, t + 300, t + 20 };
	bool drained[3] = { false, false, true };

	/* The slowest worker still replaying decides: its minute less one. */
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, false), MIN_0 + 1);
	/* a drained worker does not hold the others back */
	drained[0] = true;
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, false), MIN_0 + 4);
	/* all consumed, or the final collect: every minute up to the newest packet's */
	drained[1] = true;
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, false), MIN_0 + 6);
	drained[1] = false;
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, true), MIN_0 + 6);
	/* before any packet: nothing is complete */
	memset(seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, false), 0);
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, true), 0);
	/* a packet in the first minute of the epoch cannot go below 0 */
	seen[1] = 30;
	CU_ASSERT_EQUAL(tt_control_complete_minute(true, seen, drained, 3, 0, false), 0);
}

/* A replay waits while Redis is away, refusing for now, behind or backed up. */
static void
test_throttle(void)
{
	const uint64_t max = 256ull << 20;
	struct tt_publisher_stats ps = ok_stats;
	enum tt_control_redis_news news;
	bool waiting = false;

	CU_ASSERT_FALSE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	/* disconnected: waits, said once */
	ps.connected = false;
	CU_ASSERT_TRUE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_AWAY);
	CU_ASSERT_TRUE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	/* refusing for now is the same episode */
	ps.connected = true;
	ps.retrying = true;
	CU_ASSERT_TRUE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	/* back: goes on, said once */
	ps.retrying = false;
	CU_ASSERT_FALSE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_BACK);
	CU_ASSERT_FALSE(waiting);
	CU_ASSERT_FALSE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	/* retrying alone starts an episode too */
	ps.retrying = true;
	CU_ASSERT_TRUE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_AWAY);
	ps.retrying = false;
	tt_control_throttle(&ps, max, &waiting, &news);
	/* behind: waits, with nothing to say */
	ps.behind = true;
	CU_ASSERT_TRUE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	ps.behind = false;
	/* the backlog: up to half of backlog_max_mb goes on, past it waits */
	ps.backlog_bytes = max / 2;
	CU_ASSERT_FALSE(tt_control_throttle(&ps, max, &waiting, &news));
	ps.backlog_bytes = max / 2 + 1;
	CU_ASSERT_TRUE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	/* refused for good: never waits (the run stops), and the episode is left as it was */
	ps.failed = true;
	ps.connected = false;
	CU_ASSERT_FALSE(tt_control_throttle(&ps, max, &waiting, &news));
	CU_ASSERT_EQUAL(news, TT_CONTROL_REDIS_SAME);
	CU_ASSERT_FALSE(waiting);
}

/* Delivered means all of it: a committed final flush and nothing shed. */
static void
test_delivered(void)
{
	struct tt_publisher_stats ps = ok_stats;

	CU_ASSERT_TRUE(tt_control_delivered(0, &ps));
	CU_ASSERT_FALSE(tt_control_delivered(-EIO, &ps));
	CU_ASSERT_FALSE(tt_control_delivered(-EPERM, &ps));
	ps.shed_minute_cells = 1;
	CU_ASSERT_FALSE(tt_control_delivered(0, &ps));
	ps.shed_minute_cells = 0;
	ps.shed_hour_cells = 3;
	CU_ASSERT_FALSE(tt_control_delivered(0, &ps));
	ps.shed_hour_cells = 0;
	ps.shed_source_keys = 7;
	CU_ASSERT_FALSE(tt_control_delivered(0, &ps));
	ps.shed_source_keys = 0;
	/* errors and refusals on the way do not matter once all is committed */
	ps.errors = 4;
	ps.refusals = 2;
	CU_ASSERT_TRUE(tt_control_delivered(0, &ps));
}

static void
test_exit_code(void)
{
	CU_ASSERT_EQUAL(tt_control_exit_code(false, 0), TT_CONTROL_EXIT_CLEAN);
	CU_ASSERT_EQUAL(tt_control_exit_code(false, -EIO), TT_CONTROL_EXIT_RUNTIME);
	CU_ASSERT_EQUAL(tt_control_exit_code(false, -ENOMEM), TT_CONTROL_EXIT_RUNTIME);
	/* a permanent refusal is the config's or Redis's to fix, whatever else went wrong */
	CU_ASSERT_EQUAL(tt_control_exit_code(true, 0), TT_CONTROL_EXIT_USAGE);
	CU_ASSERT_EQUAL(tt_control_exit_code(true, -EIO), TT_CONTROL_EXIT_USAGE);
}

/*
 * Runs on real parts
 */

static struct rte_ring *rx_ring;
static struct rte_mempool *pool;
static struct tt_port_info port;
static unsigned int worker_lcore;
static char tmpdir[64];
static char log_path[128];
static FILE *log_stream;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll @p done for up to WAIT_MS. */
static bool
wait_for(bool (*done)(void *), void *arg)
{
	uint64_t until = now_ms() + WAIT_MS;

	while (!done(arg)) {
		if (now_ms() > until)
			return false;
		usleep(10000);
	}
	return true;
}

/* A config for a run publishing to Redis on @p redis_port as appliance @p id. */
static void
load_config(struct tt_config *cfg, const char *id, int redis_port)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.conf", tmpdir, id);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "[appliance]\nid = %s\nhome_country = JP\nclock = wall\n"
		"port_cells = 1024\ncountry_cells = 1024\nhll_cells = 1024\n"
		"hll_sparse_sets = 1024\nhll_dense_sets = 16\nsources_max = 1024\n"
		"source_cells = 1024\n\n"
		"[redis]\nhost = 127.0.0.1\nport = %d\nflush_interval_ms = 100\n"
		"final_flush_s = 1\n\n"
		"[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\n", id, redis_port);
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	CU_ASSERT_EQUAL_FATAL(tt_config_load(cfg, path, NULL, NULL), 0);
}

/* A worker as the appliance makes it, polling the ring port, launched. */
static struct tt_worker *
start_worker(const struct tt_config *cfg, const struct tt_sensor_table *sensors)
{
	struct tt_worker_conf wc = {
		.lcore_id = worker_lcore, .sensors = sensors, .timestamp_offset = -1,
		.n_rxq = 1, .rxq = { { .port = port.port_id, .queue = 0 } },
		.home_country = (uint16_t)tt_classify_country_index(cfg->home_country),
		.counters = { .port_cells = cfg->port_cells, .country_cells = cfg->country_cells,
			.hll_cells = cfg->hll_cells, .hll_sparse = cfg->hll_sparse_sets,
			.hll_dense = cfg->hll_dense_sets },
		.source_deltas = cfg->source_cells,
		.sources = { .entries = cfg->sources_max, .mirai_min_ports = cfg->mirai_min_ports,
			.horizon = cfg->retention_sources },
	};
	struct tt_worker *w = tt_worker_create(&wc);

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(tt_worker_main, w, worker_lcore), 0);
	return w;
}

static void
stop_worker(struct tt_worker *w)
{
	tt_worker_stop(w);
	rte_eal_mp_wait_lcore();
}

struct rx_wait {
	struct tt_worker *w;
	uint64_t pkts;
};

static bool
received(void *arg)
{
	struct rx_wait *r = arg;
	struct tt_worker_stats st;

	tt_worker_read_stats(r->w, &st);
	return st.rx_pkts >= r->pkts;
}

/* @p n Mirai-type SYNs (tcp/23, seq = destination) into sensor a; wait until counted. */
static void
feed(struct tt_worker *w, uint32_t n)
{
	struct tt_worker_stats st;
	struct rx_wait r = { .w = w };
	struct frame f;
	uint32_t i;

	tt_worker_read_stats(w, &st);
	r.pkts = st.rx_pkts + n;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t dst = IP4(192, 0, 2, i % 200), ip;

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		eth(&f, 0x0800);
		ip = ipv4(&f, 5, 0, 1, 0, 50, 6, IP4(203, 0, 113, 1 + i % 7), dst);
		tcp(&f, 1000, 23, dst, 0x02, 5840, 5, NULL, 0);
		ipv4_fix_total(&f, ip);
		memcpy(rte_pktmbuf_append(m, (uint16_t)f.len), f.b, f.len);
		while (rte_ring_enqueue(rx_ring, m) != 0)
			rte_delay_us_sleep(100);
	}
	CU_ASSERT_FATAL(wait_for(received, &r));
}

static struct tt_live *
live_create(void)
{
	struct tt_live *l = tt_live_create(&(struct tt_live_conf){ .n_sensors = 1,
		.n_workers = 1, .tsc_hz = rte_get_timer_hz() });

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	return l;
}

/* Sensor a's packets in the live view, as the console reads them. */
static uint64_t
live_pkts(struct tt_live *l)
{
	struct tt_live_sensor row;

	CU_ASSERT_EQUAL_FATAL(tt_live_sensors(l, &row, 0), 0);
	return row.pkts;
}

static long long
redis_hget(int redis_port, const char *key, const char *field)
{
	redisContext *c = test_redis_connect(redis_port);
	redisReply *r;
	long long v = -1;

	if (c == NULL)
		return -1;
	r = redisCommand(c, "HGET %s %s", key, field);
	if (r != NULL && r->type == REDIS_REPLY_STRING)
		v = atoll(r->str);
	freeReplyObject(r);
	redisFree(c);
	return v;
}

struct hget_wait {
	int port;
	const char *key;
	const char *field;
	long long want;
};

static bool
hget_is(void *arg)
{
	struct hget_wait *h = arg;

	return redis_hget(h->port, h->key, h->field) == h->want;
}

struct pub_wait {
	struct tt_publisher *pub;
	bool connected;
};

static bool
pub_connected_is(void *arg)
{
	struct pub_wait *p = arg;
	struct tt_publisher_stats ps;

	tt_publisher_get_stats(p->pub, &ps);
	return ps.connected == p->connected;
}

static bool
pub_failed(void *arg)
{
	return tt_publisher_failed(arg, NULL, 0);
}

/* How many lines of the log since @p from hold @p needle. */
static unsigned int
log_count(long from, const char *needle)
{
	char line[1024];
	unsigned int n = 0;
	FILE *f;

	fflush(log_stream);
	f = fopen(log_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, from, SEEK_SET);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static long
log_mark(void)
{
	fflush(log_stream);
	return ftell(log_stream);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Start redis-server again on the port it had: the publisher comes back to the same address. */
static int
redis_restart(struct test_redis *r)
{
	char port_s[16];
	int i;

	snprintf(port_s, sizeof(port_s), "%d", r->port);
	r->pid = fork();
	if (r->pid == 0) {
		execlp("redis-server", "redis-server", "--port", port_s, "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 250; i++) {
		redisContext *c = test_redis_connect(r->port);

		if (c != NULL) {
			redisFree(c);
			return 0;
		}
		usleep(20000);
	}
	return -1;
}

static struct tt_control *
control_create(const struct tt_config *cfg, struct tt_worker **w, struct tt_live *live,
		struct tt_publisher *pub, bool all_replay, uint64_t duration_s, const char *summary)
{
	struct tt_control *c = tt_control_create(&(struct tt_control_conf){ .cfg = cfg,
		.workers = w, .n_workers = 1, .ports = &port, .n_ports = 1, .live = live,
		.pub = pub, .all_replay = all_replay, .duration_s = duration_s,
		.summary = summary, .logtype = ut_logtype_control });

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	return c;
}

static void
test_create_invalid(void)
{
	struct tt_config cfg = { .flush_interval_ms = 100 };
	struct tt_worker *w[1] = { NULL };

	errno = 0;
	CU_ASSERT_PTR_NULL(tt_control_create(&(struct tt_control_conf){ .cfg = &cfg,
		.workers = w, .n_workers = 0 }));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(tt_control_create(&(struct tt_control_conf){ .cfg = &cfg,
		.workers = w, .n_workers = 1, .live = NULL }));
	CU_ASSERT_PTR_NULL(tt_control_create(&(struct tt_control_conf){ .cfg = NULL }));
	tt_control_free(NULL);
}

/*
 * A clean run: nothing is taken before the flush interval; then the live
 * view and Redis have every packet, the health hash the worker's figures;
 * at the end the table, the summary, and exit 0.
 */
static void
test_run_delivers_everything(void)
{
	struct test_redis redis;
	struct tt_config cfg;
	struct tt_sensor_table *sensors;
	struct tt_worker *w[1];
	struct tt_live *live = live_create();
	struct tt_publisher *pub;
	struct tt_control *c;
	char summary[128], *json, *table = NULL;
	size_t table_len = 0;
	FILE *table_f;
	uint64_t t0, hz = rte_get_timer_hz();
	long mark = log_mark();

	CU_ASSERT_EQUAL_FATAL(test_redis_start(&redis), 0);
	load_config(&cfg, "ut-clean", redis.port);
	sensors = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sensors);
	w[0] = start_worker(&cfg, sensors);
	pub = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &cfg, .n_workers = 1,
		.wall_clock = true });
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL_FATAL(tt_publisher_start(pub), 0);
	snprintf(summary, sizeof(summary), "%s/clean.json", tmpdir);
	c = control_create(&cfg, w, live, pub, false, 0, summary);
	t0 = rte_get_timer_cycles();
	tt_control_start(c, t0);

	feed(w[0], 300);
	/* before the flush interval: the shards stay with the worker */
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + hz / 20));
	CU_ASSERT_EQUAL(live_pkts(live), 0);
	/* past it: collected into the live view and sent */
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + hz / 5));
	CU_ASSERT_EQUAL(live_pkts(live), 300);
	CU_ASSERT_TRUE(wait_for(hget_is, &(struct hget_wait){ redis.port,
		"teiten:appliance:ut-clean", "rx_pkts", 300 }));
	feed(w[0], 200);
	/* the next interval counts from that collect */
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + hz / 5 + hz / 20));
	CU_ASSERT_EQUAL(live_pkts(live), 300);

	/* the end: the worker returns, the final collect takes the rest */
	tt_control_stopping(c, rte_get_timer_cycles());
	stop_worker(w[0]);
	table_f = open_memstream(&table, &table_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(table_f);
	CU_ASSERT_EQUAL(tt_control_finish(c, table_f), TT_CONTROL_EXIT_CLEAN);
	fclose(table_f);
	CU_ASSERT_EQUAL(live_pkts(live), 500);
	CU_ASSERT_EQUAL(redis_hget(redis.port, "teiten:appliance:ut-clean", "rx_pkts"), 500);
	CU_ASSERT_PTR_NOT_NULL(strstr(table, "[sensor a] port 0: 500 packets"));
	json = read_file(summary);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"packets\": 500,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"redis\": {\"delivered\": true, \"failed\": false"));
	CU_ASSERT_EQUAL(log_count(mark, "teiten: final flush to Redis done"), 1);
	free(json);
	free(table);
	tt_control_free(c);
	tt_publisher_free(pub);
	tt_worker_free(w[0]);
	tt_sensor_free(sensors);
	tt_live_free(live);
	tt_config_free(&cfg);
	test_redis_stop(&redis);
}

/* --duration: the tick at its end stops the run, and says so. */
static void
test_duration_stops(void)
{
	struct tt_config cfg;
	struct tt_sensor_table *sensors;
	struct tt_worker *w[1];
	struct tt_live *live = live_create();
	struct tt_control *c;
	uint64_t t0, hz = rte_get_timer_hz();
	long mark = log_mark();

	load_config(&cfg, "ut-duration", 1);
	sensors = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sensors);
	w[0] = start_worker(&cfg, sensors);
	c = control_create(&cfg, w, live, NULL, false, 5, NULL);
	t0 = rte_get_timer_cycles();
	tt_control_start(c, t0);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + 5 * hz - 1));
	CU_ASSERT_EQUAL(log_count(mark, "reached"), 0);
	CU_ASSERT_FALSE(tt_control_tick(c, t0 + 5 * hz));
	CU_ASSERT_EQUAL(log_count(mark, "teiten: duration of 5 s reached: stopping"), 1);
	stop_worker(w[0]);
	tt_control_free(c);
	tt_worker_free(w[0]);
	tt_sensor_free(sensors);
	tt_live_free(live);
	tt_config_free(&cfg);
}

/*
 * A replay into a Redis that goes away waits for it (its shard stays with
 * the worker), says so once, and goes on when Redis is back. If Redis is
 * gone at the end, the run fails: exit 1, the summary says not delivered.
 */
static void
test_replay_waits_for_redis(void)
{
	struct test_redis redis;
	struct tt_config cfg;
	struct tt_sensor_table *sensors;
	struct tt_worker *w[1];
	struct tt_live *live = live_create();
	struct tt_publisher *pub;
	struct tt_control *c;
	char summary[128], *json;
	FILE *table_f;
	uint64_t t0, hz = rte_get_timer_hz();
	long mark = log_mark();
	int redis_port;

	CU_ASSERT_EQUAL_FATAL(test_redis_start(&redis), 0);
	redis_port = redis.port;
	load_config(&cfg, "ut-waits", redis.port);
	sensors = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sensors);
	w[0] = start_worker(&cfg, sensors);
	pub = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &cfg, .n_workers = 1,
		.wall_clock = true });
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL_FATAL(tt_publisher_start(pub), 0);
	snprintf(summary, sizeof(summary), "%s/waits.json", tmpdir);
	/* a replay as far as the throttle goes; the ring port keeps it from ending */
	c = control_create(&cfg, w, live, pub, true, 0, summary);
	t0 = rte_get_timer_cycles();
	tt_control_start(c, t0);

	feed(w[0], 40);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + hz));
	CU_ASSERT_EQUAL(live_pkts(live), 40);
	test_redis_stop(&redis);
	CU_ASSERT_FATAL(wait_for(pub_connected_is, &(struct pub_wait){ pub, false }));
	feed(w[0], 10);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + 2 * hz));
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + 3 * hz));
	CU_ASSERT_EQUAL(live_pkts(live), 40);  /* not taken: the worker holds them */
	CU_ASSERT_EQUAL(log_count(mark, "teiten: the replay waits for Redis (not connected)"), 1);

	/* Redis is back on its port: the replay goes on */
	CU_ASSERT_EQUAL_FATAL(redis_restart(&redis), 0);
	CU_ASSERT_EQUAL(redis.port, redis_port);
	CU_ASSERT_FATAL(wait_for(pub_connected_is, &(struct pub_wait){ pub, true }));
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + 4 * hz));
	CU_ASSERT_EQUAL(live_pkts(live), 50);
	CU_ASSERT_EQUAL(log_count(mark, "teiten: Redis takes writes: the replay goes on"), 1);
	CU_ASSERT_TRUE(wait_for(hget_is, &(struct hget_wait){ redis.port,
		"teiten:appliance:ut-waits", "rx_pkts", 50 }));

	/* gone for good at the end: the final flush gives up after final_flush_s */
	test_redis_stop(&redis);
	feed(w[0], 5);
	tt_control_stopping(c, rte_get_timer_cycles());
	stop_worker(w[0]);
	table_f = fopen("/dev/null", "w");
	CU_ASSERT_EQUAL(tt_control_finish(c, table_f), TT_CONTROL_EXIT_RUNTIME);
	fclose(table_f);
	CU_ASSERT_EQUAL(live_pkts(live), 55);
	json = read_file(summary);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"packets\": 55,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"redis\": {\"delivered\": false, \"failed\": false"));
	CU_ASSERT_EQUAL(log_count(mark, "final flush to Redis done"), 0);
	free(json);
	tt_control_free(c);
	tt_publisher_free(pub);
	tt_worker_free(w[0]);
	tt_sensor_free(sensors);
	tt_live_free(live);
	tt_config_free(&cfg);
}

/*
 * Redis refusing the appliance's writes for good (a key of another type in
 * the way): the next tick stops the run, and it ends with exit 2.
 */
static void
test_refused_for_good(void)
{
	struct test_redis redis;
	struct tt_config cfg;
	struct tt_sensor_table *sensors;
	struct tt_worker *w[1];
	struct tt_live *live = live_create();
	struct tt_publisher *pub;
	struct tt_control *c;
	redisContext *rc;
	FILE *table_f;
	uint64_t t0, hz = rte_get_timer_hz();
	long mark = log_mark();
	time_t now = time(NULL);
	unsigned int d;

	CU_ASSERT_EQUAL_FATAL(test_redis_start(&redis), 0);
	rc = test_redis_connect(redis.port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	/* today's totals (and the next day's, should the test cross midnight) as strings */
	for (d = 0; d < 2; d++) {
		time_t t = now + d * 600;
		struct tm tm;
		char key[64];

		gmtime_r(&t, &tm);
		strftime(key, sizeof(key), "teiten:{all}:d:%Y%m%d:totals", &tm);
		freeReplyObject(redisCommand(rc, "SET %s in-the-way", key));
	}
	redisFree(rc);
	load_config(&cfg, "ut-refused", redis.port);
	sensors = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sensors);
	w[0] = start_worker(&cfg, sensors);
	pub = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &cfg, .n_workers = 1,
		.wall_clock = true });
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL_FATAL(tt_publisher_start(pub), 0);
	c = control_create(&cfg, w, live, pub, false, 0, NULL);
	t0 = rte_get_timer_cycles();
	tt_control_start(c, t0);

	feed(w[0], 20);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + hz));
	CU_ASSERT_FATAL(wait_for(pub_failed, pub));
	CU_ASSERT_FALSE(tt_control_tick(c, t0 + 2 * hz));
	CU_ASSERT_EQUAL(log_count(mark,
		"teiten: Redis refused the appliance's writes for good: stopping"), 1);
	tt_control_stopping(c, rte_get_timer_cycles());
	stop_worker(w[0]);
	table_f = fopen("/dev/null", "w");
	CU_ASSERT_EQUAL(tt_control_finish(c, table_f), TT_CONTROL_EXIT_USAGE);
	fclose(table_f);
	tt_control_free(c);
	tt_publisher_free(pub);
	tt_worker_free(w[0]);
	tt_sensor_free(sensors);
	tt_live_free(live);
	tt_config_free(&cfg);
	test_redis_stop(&redis);
}

static int
suite_init(void)
{
	struct rte_ring *tx;
	int port_id;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ut_control.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s/log", tmpdir);
	log_stream = fopen(log_path, "w");
	if (log_stream == NULL || rte_openlog_stream(log_stream) != 0)
		return -1;
	worker_lcore = rte_get_next_lcore(-1, 1, 0);
	if (worker_lcore >= RTE_MAX_LCORE)
		return -1;
	rx_ring = rte_ring_create("ut_ctl_rx", RING_SIZE, SOCKET_ID_ANY,
		RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx = rte_ring_create("ut_ctl_tx", 64, SOCKET_ID_ANY, 0);
	if (rx_ring == NULL || tx == NULL)
		return -1;
	port_id = rte_eth_from_rings("ut_ctl", &rx_ring, 1, &tx, 1, SOCKET_ID_ANY);
	pool = rte_pktmbuf_pool_create("ut_ctl_pool", 4095, 64, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	if (port_id != 0 || pool == NULL || tt_port_probe(0, 1, &port) != 0 ||
			tt_port_start(&port, pool, 512) != 0)
		return -1;
	return 0;
}

static int
suite_fini(void)
{
	char path[160];

	tt_port_stop(&port);
	rte_mempool_free(pool);
	rte_openlog_stream(NULL);
	if (log_stream != NULL)
		fclose(log_stream);
	/* the run's files: the log, the configs, the summaries */
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	return system(path) == 0 ? 0 : -1;
}

/* Sensor @p sensor's packets in the live view (@p slots rows). */
static uint64_t
live_sensor_pkts(struct tt_live *l, uint32_t slots, uint16_t sensor)
{
	struct tt_live_sensor rows[8];
	uint64_t pkts = UINT64_MAX;
	uint32_t i;

	CU_ASSERT_FATAL(slots <= RTE_DIM(rows));
	CU_ASSERT_EQUAL_FATAL(tt_live_sensors(l, rows, 0), 0);
	for (i = 0; i < slots; i++)
		if (rows[i].sensor == sensor)
			pkts = rows[i].pkts;
	return pkts;
}

static void
count_retire(void *arg)
{
	(*(unsigned int *)arg)++;
}

/*
 * A reload's switch: the worker goes on with the old tables until its next
 * swap, then counts with the new ones; the old are retired once it has
 * swapped, not before; a second switch waits for the first.
 */
static void
test_reload_switch(void)
{
	struct tt_config cfg, next;
	struct tt_config_changes ch;
	struct tt_sensor_table *sensors, *sensors2;
	struct tt_worker_tables tables2 = { 0 };
	struct tt_worker *w[1];
	struct tt_live *live;
	struct tt_control *c;
	char path[128], why[256];
	unsigned int retired = 0;
	uint32_t slots = 3;
	uint64_t t0, hz = rte_get_timer_hz();
	long mark = log_mark();
	FILE *f;

	load_config(&cfg, "ut-switch", 1);
	/* next: 192.0.2.0/24 moves from a to the new sensor b */
	snprintf(path, sizeof(path), "%s/ut-switch-2.conf", tmpdir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "[appliance]\nid = ut-switch\nhome_country = JP\nclock = wall\n"
		"port_cells = 1024\ncountry_cells = 1024\nhll_cells = 1024\n"
		"hll_sparse_sets = 1024\nhll_dense_sets = 16\nsources_max = 1024\n"
		"source_cells = 1024\n\n"
		"[redis]\nhost = 127.0.0.1\nport = 1\nflush_interval_ms = 100\n"
		"final_flush_s = 1\n\n"
		"[sensor b]\nport = 0\nprefixes = 192.0.2.0/24\n"
		"[sensor a]\nport = 0\nprefixes = 198.51.100.0/24\n");
	CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
	CU_ASSERT_EQUAL_FATAL(tt_config_load(&next, path, NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(tt_config_align(&next, &cfg, slots, &ch, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL_FATAL(next.sensors[1].name, "b");

	sensors = tt_sensor_create(&cfg, SOCKET_ID_ANY);
	sensors2 = tt_sensor_create(&next, SOCKET_ID_ANY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sensors);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sensors2);
	tables2.sensors = sensors2;
	tables2.home_country = (uint16_t)tt_classify_country_index("JP");
	live = tt_live_create(&(struct tt_live_conf){ .n_sensors = slots, .n_workers = 1,
		.tsc_hz = hz });
	CU_ASSERT_PTR_NOT_NULL_FATAL(live);
	w[0] = start_worker(&cfg, sensors);
	c = control_create(&cfg, w, live, NULL, false, 0, NULL);
	t0 = rte_get_timer_cycles();
	tt_control_start(c, t0);

	feed(w[0], 300);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + hz / 5));
	CU_ASSERT_EQUAL(live_sensor_pkts(live, slots, 0), 300);

	CU_ASSERT_EQUAL(tt_control_switch(c, &(struct tt_control_switch){ .tables = &tables2,
		.cfg = &next, .generation = 2, .retire = count_retire, .arg = &retired }), 0);
	CU_ASSERT_TRUE(tt_control_switch_pending(c));
	CU_ASSERT_EQUAL(tt_control_switch(c, &(struct tt_control_switch){ .tables = &tables2,
		.cfg = &next, .generation = 3 }), -EBUSY);
	/* until the swap, the worker counts with what it had */
	feed(w[0], 200);
	CU_ASSERT_EQUAL(retired, 0);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + 2 * hz / 5));
	CU_ASSERT_EQUAL(retired, 1);
	CU_ASSERT_FALSE(tt_control_switch_pending(c));
	CU_ASSERT_EQUAL(live_sensor_pkts(live, slots, 0), 500);
	CU_ASSERT_EQUAL(log_count(mark, "every worker counts with generation 2 from now"), 1);
	/* from the swap on: the new tables */
	feed(w[0], 100);
	CU_ASSERT_TRUE(tt_control_tick(c, t0 + 3 * hz / 5));
	CU_ASSERT_EQUAL(live_sensor_pkts(live, slots, 0), 500);
	CU_ASSERT_EQUAL(live_sensor_pkts(live, slots, 1), 100);

	tt_control_stopping(c, rte_get_timer_cycles());
	stop_worker(w[0]);
	tt_control_free(c);
	tt_worker_free(w[0]);
	tt_sensor_free(sensors);
	tt_sensor_free(sensors2);
	tt_live_free(live);
	tt_config_free(&next);
	tt_config_free(&cfg);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "complete minutes, wall clock", test_complete_minute_wall_clock },
		{ "complete minutes, packet clock", test_complete_minute_packet_clock },
		{ "a replay waits while Redis is away, behind or backed up", test_throttle },
		{ "delivered: committed and nothing shed", test_delivered },
		{ "the exit code", test_exit_code },
		{ "invalid configuration", test_create_invalid },
		{ "a clean run: collected when due, delivered, exit 0",
			test_run_delivers_everything },
		{ "--duration stops the run", test_duration_stops },
		{ "a reload's tables: taken at the next swap, the old retired then",
			test_reload_switch },
		{ "a replay waits for Redis and goes on; gone at the end: exit 1",
			test_replay_waits_for_redis },
		{ "Redis refusing for good stops the run: exit 2", test_refused_for_good },
		{ NULL, NULL },
	};
	char prefix[64];
	char *eal_argv[] = {
		"test_control", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
		"--lcores", "(0-1)@(0-1)", "--log-level", "lib.eal:error", prefix,
	};
	int rc;

	snprintf(prefix, sizeof(prefix), "--file-prefix=ut_ctl_%d", (int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "EAL init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	rc = run_suite("control", tests, suite_init, suite_fini);
	eal_cleanup_and_remove_runtime_dir();
	return rc;
}
