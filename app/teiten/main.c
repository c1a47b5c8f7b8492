/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * teiten: wiring only. EAL, config, ports, workers, the control loop on the
 * main lcore, signals, and the unwind. No packet logic lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pdump.h>

#include "tt_alerts.h"
#include "tt_alerts_feed.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_diag.h"
#include "tt_geo.h"
#include "tt_live.h"
#include "tt_log.h"
#include "tt_port.h"
#include "tt_publish.h"
#include "tt_report.h"
#include "tt_sensor.h"
#include "tt_telemetry.h"
#include "tt_worker.h"

RTE_LOG_REGISTER(tt_logtype_main, tt.main, NOTICE);
#define MAIN_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_main, "teiten: " fmt "\n", ##__VA_ARGS__)

enum exit_code {
	EXIT_CLEAN = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

enum {
	RX_DESC = 1024,
	MBUF_CACHE = 256,
	TICK_MS = 10,                  /* control loop period */
	SWAP_TIMEOUT_MS = 1000,
	SAMPLE_MS = 1000,              /* rates for the console */
	TOP_N = 5,
	MAX_WORKERS = RTE_MAX_LCORE,
};

struct options {
	const char *config;
	const char *summary;
	uint64_t duration_s;           /* 0: until a signal or the replay ends */
	bool check_config;
};

struct appliance {
	struct tt_config cfg;
	struct options opt;
	struct tt_port_info ports[RTE_MAX_ETHPORTS];
	uint16_t n_ports;
	struct rte_mempool *pool;
	struct tt_sensor_table *sensors;
	struct tt_geo *geo;            /* NULL without geoip_db */
	struct tt_worker *workers[MAX_WORKERS];
	unsigned int n_workers;
	struct tt_live *live;          /* run, hour and day views; rates */
	struct tt_publisher *pub;      /* NULL with [redis] enabled = no */
	struct tt_alerts *alerts;      /* NULL with [alerts] enabled = no */
	struct tt_alerts_feed *feed;   /* complete buckets into the detectors */
	const char **alert_sensor_names;
	bool delivered;                /* the final flush committed everything */
	bool redis_refused;            /* Redis refused for good: exit 2 */
	bool packet_clock;
	bool all_replay;
	uint64_t started_tsc;
	uint64_t started_sec;          /* UTC */
	uint64_t stopped_tsc;          /* the workers were told to stop */
	bool pdump;                    /* rte_pdump serves dpdk-dumpcap */
};

/* Set by the signal handlers (release), read by the control loop (acquire). */
static uint32_t stop_requested;
static uint32_t reload_requested;

static void
on_signal(int sig)
{
	(void)sig;
	__atomic_store_n(&stop_requested, 1, __ATOMIC_RELEASE);
}

static void
on_hangup(int sig)
{
	(void)sig;
	__atomic_store_n(&reload_requested, 1, __ATOMIC_RELEASE);
}

static void print_problem(void *ctx, const char *line);

/*
 * SIGHUP (systemctl reload, a log rotation) must never end the sensor. The
 * config is read and checked again, its problems printed as --check-config
 * prints them; applying a new one while running is not built yet, so the
 * running config stays either way and the log says so.
 */
static void
check_reload(const struct appliance *a)
{
	struct tt_config cfg;
	int rc = tt_config_load(&cfg, a->opt.config, print_problem, NULL);

	if (rc != 0) {
		MAIN_LOG(ERR, "SIGHUP: %s is not valid (%s); the running config stays",
			a->opt.config, rc == -EINVAL ? "the problems above" : strerror(-rc));
		return;
	}
	tt_config_free(&cfg);
	MAIN_LOG(WARNING, "SIGHUP: %s is valid, but this version applies a config only at "
		"start: the running config stays; restart teiten to apply it", a->opt.config);
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --config FILE [--duration SECONDS]\n"
		"          [--summary FILE] [--check-config]\n"
		"  --config FILE     the appliance config (INI)\n"
		"  --duration N      stop after N seconds of wall time\n"
		"  --summary FILE    write the final totals as JSON on exit\n"
		"  --check-config    validate the config and exit 0 (valid) or 2\n", prog);
}

static int
parse_duration_opt(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v == 0 || v > 10ull * 365 * 86400)
		return -EINVAL;
	*out = v;
	return 0;
}

static int
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "summary", required_argument, NULL, 's' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opt, 0, sizeof(*opt));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->config = optarg;
			break;
		case 'd':
			if (parse_duration_opt(optarg, &opt->duration_s) != 0) {
				fprintf(stderr, "teiten: --duration %s: expected whole seconds > 0\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 's':
			opt->summary = optarg;
			break;
		case 'k':
			opt->check_config = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "teiten: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (opt->config == NULL) {
		fprintf(stderr, "teiten: --config FILE is required\n");
		return -EINVAL;
	}
	return 0;
}

static void
print_problem(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

static const char *
clock_name(enum tt_clock_mode c)
{
	return c == TT_CLOCK_WALL ? "wall" : c == TT_CLOCK_PACKET ? "packet" : "auto";
}

static void
log_config(const struct tt_config *cfg)
{
	char svc[TT_SVC_STR_MAX];
	uint32_t i;

	MAIN_LOG(INFO, "config %s: appliance %s, home %s, clock %s, geoip_db %s, "
		"%u sensors, %u prefixes, mirai_min_ports %u", cfg->path, cfg->id,
		cfg->home_country, clock_name(cfg->clock),
		cfg->geoip_db ? cfg->geoip_db : "(none: every source is ZZ)",
		cfg->n_sensors, cfg->n_prefixes, cfg->mirai_min_ports);
	for (i = 0; i < cfg->n_sensors; i++)
		MAIN_LOG(INFO, "sensor %s: port %u, %s, label '%s'", cfg->sensors[i].name,
			cfg->sensors[i].port, cfg->sensors[i].location == TT_LOCATION_DOMESTIC ?
			"domestic" : "overseas", cfg->sensors[i].label);
	for (i = 0; i < cfg->n_watch_ports; i++) {
		tt_classify_service_format(cfg->watch_ports[i], svc, sizeof(svc));
		MAIN_LOG(DEBUG, "watch %s", svc);
	}
}

/* Every port a sensor names must exist; each such port is started. */
static int
setup_ports(struct appliance *a)
{
	const struct tt_config *cfg = &a->cfg;
	bool used[RTE_MAX_ETHPORTS] = { false };
	uint32_t total_rxq = 0, n_mbufs, i;
	uint16_t p;
	int rc, bad = 0;

	for (i = 0; i < cfg->n_sensors; i++) {
		p = cfg->sensors[i].port;
		if (p >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(p)) {
			fprintf(stderr, "teiten: %s:%u: [sensor %s] port = %u: no such DPDK port "
				"(%u probed; give it with -a or --vdev, and see the EAL lines "
				"above for a device that failed to probe)\n", cfg->path,
				cfg->sensors[i].port_line, cfg->sensors[i].name, p,
				rte_eth_dev_count_avail());
			bad++;
			continue;
		}
		used[p] = true;
	}
	if (bad != 0)
		return -ENODEV;
	a->all_replay = true;
	RTE_ETH_FOREACH_DEV(p) {
		struct tt_port_info *pi = &a->ports[a->n_ports];

		if (!used[p]) {
			MAIN_LOG(WARNING, "port %u: no sensor receives on it; left stopped", p);
			continue;
		}
		rc = tt_port_probe(p, (uint16_t)a->n_workers, pi);
		if (rc != 0) {
			if (rc != -EBADMSG)     /* a corrupt pcap record: logged with its file */
				MAIN_LOG(ERR, "port %u: %s", p, rte_strerror(-rc));
			return rc;
		}
		a->all_replay &= pi->replay;
		total_rxq += pi->n_rxq;
		a->n_ports++;
	}
	/* Descriptors of every queue, a burst in flight per worker, caches. */
	n_mbufs = total_rxq * (RX_DESC + TT_WORKER_BURST) +
		(a->n_workers + 1) * (MBUF_CACHE + TT_WORKER_BURST) + 1024;
	if (cfg->rx_mbufs != 0)
		n_mbufs = cfg->rx_mbufs;
	a->pool = rte_pktmbuf_pool_create("tt_rx", n_mbufs, MBUF_CACHE, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (a->pool == NULL) {
		char why[256];

		MAIN_LOG(ERR, "mbuf pool of %u buffers: %s; %s, or lower [appliance] rx_mbufs",
			n_mbufs, rte_strerror(rte_errno), tt_diag_memory(why, sizeof(why)));
		return -ENOMEM;
	}
	for (i = 0; i < a->n_ports; i++) {
		rc = tt_port_start(&a->ports[i], a->pool, RX_DESC);
		if (rc == -EINVAL && a->ports[i].looping)
			MAIN_LOG(ERR, "port %u loops a pcap file (infinite_rx=1), which keeps every "
				"packet of it in a buffer: set [appliance] rx_mbufs (now %u) to the "
				"file's packets (the net_pcap line above) plus %u", a->ports[i].port_id,
				n_mbufs, total_rxq * (RX_DESC + TT_WORKER_BURST) +
				(a->n_workers + 1) * (MBUF_CACHE + TT_WORKER_BURST));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
setup_clock(struct appliance *a, int *ts_offset, uint64_t *ts_flag)
{
	int flag_bit;

	*ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	flag_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	*ts_flag = flag_bit >= 0 ? RTE_BIT64(flag_bit) : 0;
	switch (a->cfg.clock) {
	case TT_CLOCK_PACKET:
		a->packet_clock = true;
		break;
	case TT_CLOCK_WALL:
		a->packet_clock = false;
		break;
	default:
		/* Replays carry their capture time; live ports bucket by now. */
		a->packet_clock = a->all_replay;
		break;
	}
	if (a->packet_clock && (*ts_offset < 0 || *ts_flag == 0)) {
		MAIN_LOG(WARNING, "clock = packet, but no port fills rx timestamps: "
			"packets are bucketed by wall time and counted as no_timestamp");
		*ts_offset = -1;
		*ts_flag = 0;
	}
	MAIN_LOG(NOTICE, "clock: %s", a->packet_clock ? "packet" : "wall");
	return 0;
}

static int
setup_workers(struct appliance *a)
{
	const struct tt_config *cfg = &a->cfg;
	static struct tt_worker_conf wc;
	unsigned int lcore, w = 0;
	int ts_offset;
	uint64_t ts_flag;

	setup_clock(a, &ts_offset, &ts_flag);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		uint16_t i, q;

		memset(&wc, 0, sizeof(wc));
		wc.lcore_id = lcore;
		wc.index = (uint16_t)w;
		wc.sensors = a->sensors;
		wc.geo = a->geo;
		wc.packet_clock = a->packet_clock;
		wc.timestamp_offset = ts_offset;
		wc.timestamp_flag = ts_flag;
		wc.home_country = (uint16_t)tt_classify_country_index(cfg->home_country);
		wc.counters.port_cells = cfg->port_cells;
		wc.counters.country_cells = cfg->country_cells;
		wc.counters.hll_cells = cfg->hll_cells;
		wc.counters.hll_sparse = cfg->hll_sparse_sets;
		wc.counters.hll_dense = cfg->hll_dense_sets;
		wc.counters.src_cells = cfg->source_cells;
		wc.sources.entries = cfg->sources_max;
		wc.sources.mirai_min_ports = cfg->mirai_min_ports;
		wc.sources.horizon = cfg->retention_sources;
		for (i = 0; i < cfg->n_watch_ports; i++) {
			uint32_t bit = tt_classify_watch_bit(cfg->watch_ports[i]);

			wc.watched[bit / 8] |= (uint8_t)(1u << (bit % 8));
		}
		/* Queue q of every port goes to worker q mod n_workers. */
		for (i = 0; i < a->n_ports; i++) {
			for (q = (uint16_t)w; q < a->ports[i].n_rxq; q += (uint16_t)a->n_workers) {
				if (wc.n_rxq == TT_WORKER_MAX_RXQ) {
					MAIN_LOG(ERR, "worker %u: more than %d rx queues", w,
						TT_WORKER_MAX_RXQ);
					return -ENOSPC;
				}
				wc.rxq[wc.n_rxq].port = a->ports[i].port_id;
				wc.rxq[wc.n_rxq].queue = q;
				wc.rxq[wc.n_rxq].replay = a->ports[i].replay;
				wc.n_rxq++;
			}
		}
		a->workers[w] = tt_worker_create(&wc);
		if (a->workers[w] == NULL) {
			char why[256];

			MAIN_LOG(ERR, "worker %u on lcore %u: %s; %s", w, lcore,
				rte_strerror(rte_errno), tt_diag_memory(why, sizeof(why)));
			return -rte_errno;
		}
		MAIN_LOG(INFO, "worker %u: lcore %u, %u rx queues", w, lcore, wc.n_rxq);
		w++;
	}
	return 0;
}

/* Appliance figures for the Redis health hash. */
static void
update_health(struct appliance *a)
{
	struct tt_publisher_health h = { 0 };
	struct tt_worker_stats st;
	struct rte_eth_stats es;
	unsigned int w;
	uint16_t i;

	for (w = 0; w < a->n_workers; w++) {
		tt_worker_read_stats(a->workers[w], &st);
		h.rx_pkts += st.rx_pkts;
		h.not_dark += st.not_dark;
		h.malformed += st.malformed;
	}
	for (i = 0; i < a->n_ports; i++)
		if (rte_eth_stats_get(a->ports[i].port_id, &es) == 0)
			h.rx_missed += es.imissed;
	tt_publisher_set_health(a->pub, &h);
}

/*
 * An alert: into the stream with the next flush (exactly once, like the
 * counts), into /teiten/alerts, and one log line.
 */
static int
on_alert(void *ctx, const struct tt_alert *al)
{
	struct appliance *a = ctx;
	const char *fields[2 * TT_ALERTS_FIELDS];
	struct tt_alerts_fields f;
	char json[1024];
	unsigned int i;

	tt_telemetry_alert(al);
	MAIN_LOG(INFO, "alert: %s", al->message);
	if (a->pub == NULL)
		return 0;
	tt_alerts_fields(al, &f);
	for (i = 0; i < TT_ALERTS_FIELDS; i++) {
		fields[2 * i] = f.name[i];
		fields[2 * i + 1] = f.value[i];
	}
	tt_alerts_format_json(al, json, sizeof(json));
	return tt_publisher_submit_alert(a->pub, TT_ALERTS_FIELDS, fields, json);
}

/*
 * The minute before which every bucket is complete, from what the clock
 * said before the shards were taken (@p seen_sec, @p drained: per worker,
 * read before its swap, so its retired shard holds every packet up to it).
 * Live, the wall clock's, less one: a packet stamped just before a swap is
 * counted in the next shard. Under the packet clock, the newest packet of
 * the slowest worker still replaying, less one; once every replay is
 * consumed (@p final), all of it: no packet will come, as for a live
 * appliance whose darknet falls silent.
 */
static uint32_t
complete_minute(const struct appliance *a, const uint64_t *seen_sec, const bool *drained,
		uint64_t now_sec, bool final)
{
	uint64_t slowest = UINT64_MAX, newest = 0;
	unsigned int w;

	if (!a->packet_clock)
		return (uint32_t)(now_sec / 60) - 1;
	for (w = 0; w < a->n_workers; w++) {
		newest = RTE_MAX(newest, seen_sec[w]);
		if (!drained[w])
			slowest = RTE_MIN(slowest, seen_sec[w]);
	}
	if (final || slowest == UINT64_MAX)
		return newest == 0 ? 0 : (uint32_t)(newest / 60) + 1;
	return slowest / 60 > 0 ? (uint32_t)(slowest / 60) - 1 : 0;
}

/*
 * Take every worker's current shard: the one function that feeds the
 * publisher, the live view the telemetry commands read, and the alerts.
 */
static int
collect(struct appliance *a, bool final)
{
	static uint64_t seen_sec[MAX_WORKERS];
	static bool drained[MAX_WORKERS];
	uint64_t now_sec = (uint64_t)time(NULL);
	uint32_t now_minute = a->packet_clock ? 0 : (uint32_t)(now_sec / 60);
	unsigned int w;
	int rc = 0;

	for (w = 0; w < a->n_workers; w++) {
		struct tt_worker_stats st;
		struct tt_shard *s;

		/* Before the swap: the retired shard holds every packet up to this. */
		tt_worker_read_stats(a->workers[w], &st);
		seen_sec[w] = st.last_sec;
		drained[w] = tt_worker_drained(a->workers[w]);
		s = tt_worker_swap(a->workers[w], SWAP_TIMEOUT_MS);

		if (s == NULL) {
			MAIN_LOG(WARNING, "worker %u did not hand over its counters; "
				"they stay with it until the next interval", w);
			continue;
		}
		if (tt_live_add(a->live, s, now_minute) != 0)
			rc = -ENOMEM;
		if (a->pub != NULL && tt_publisher_submit(a->pub, s) != 0)
			rc = -ENOMEM;
		if (a->feed != NULL && tt_alerts_feed_add(a->feed, s, on_alert, a) != 0)
			rc = -ENOMEM;
		tt_counters_reset(s);
	}
	if (a->feed != NULL) {
		uint32_t complete = complete_minute(a, seen_sec, drained, now_sec, final);

		MAIN_LOG(DEBUG, "alerts: buckets before minute %u are complete", complete);
		if (tt_alerts_feed_advance(a->feed, complete, on_alert, a) != 0)
			rc = -ENOMEM;
	}
	if (a->pub != NULL) {
		update_health(a);
		tt_publisher_kick(a->pub);
	}
	return rc;
}

static bool
all_drained(const struct appliance *a)
{
	unsigned int w;

	for (w = 0; w < a->n_workers; w++)
		if (!tt_worker_drained(a->workers[w]))
			return false;
	return true;
}

static bool
any_wants_swap(const struct appliance *a)
{
	unsigned int w;

	for (w = 0; w < a->n_workers; w++)
		if (tt_worker_wants_swap(a->workers[w]))
			return true;
	return false;
}

/*
 * A replay can outrun Redis. While the publisher is behind (a batch in flight
 * and the next one waiting), disconnected, or retrying after a refusal, or
 * the backlog passes half of backlog_max_mb, stop taking shards: the
 * replaying workers then wait on their files and lose nothing, so a replay
 * of any length delivers everything. Live ports are never held back: there
 * only an outage past backlog_max_mb sheds, and says so.
 */
static bool
replay_throttled(struct appliance *a)
{
	struct tt_publisher_stats ps;

	if (!a->all_replay || a->pub == NULL)
		return false;
	static bool waiting_for_redis;
	bool away;

	tt_publisher_get_stats(a->pub, &ps);
	if (ps.failed)
		return false;
	/* Said once an episode: a replay into a Redis that is down waits for it. */
	away = !ps.connected || ps.retrying;
	if (away && !waiting_for_redis)
		MAIN_LOG(NOTICE, "the replay waits for Redis (%s)", ps.connected ?
			"it refuses writes for now" : "not connected");
	else if (!away && waiting_for_redis)
		MAIN_LOG(NOTICE, "Redis takes writes: the replay goes on");
	waiting_for_redis = away;
	return away || ps.behind ||
		ps.backlog_bytes > ((uint64_t)a->cfg.backlog_max_mb << 20) / 2;
}

/* Cumulative worker figures into the live view, for per-second rates. */
static void
sample_workers(struct appliance *a, uint64_t now)
{
	static uint64_t rx_pkts[MAX_WORKERS], busy[MAX_WORKERS];
	struct tt_worker_stats st;
	unsigned int w;

	for (w = 0; w < a->n_workers; w++) {
		tt_worker_read_stats(a->workers[w], &st);
		rx_pkts[w] = st.rx_pkts;
		busy[w] = st.busy_cycles;
	}
	tt_live_sample(a->live, now, rx_pkts, busy);
}

static void
control_loop(struct appliance *a)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t next_sample = a->started_tsc;
	uint64_t deadline = a->opt.duration_s ? a->started_tsc + a->opt.duration_s * hz : 0;
	uint64_t next_flush = a->started_tsc + hz * a->cfg.flush_interval_ms / 1000;

	for (;;) {
		uint64_t now;

		rte_delay_us_sleep(TICK_MS * 1000);
		now = rte_get_timer_cycles();
		if (__atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE)) {
			MAIN_LOG(NOTICE, "signal: stopping");
			break;
		}
		if (__atomic_exchange_n(&reload_requested, 0, __ATOMIC_ACQUIRE))
			check_reload(a);
		if (deadline != 0 && now >= deadline) {
			MAIN_LOG(NOTICE, "duration of %" PRIu64 " s reached: stopping",
				a->opt.duration_s);
			break;
		}
		if (a->pub != NULL && tt_publisher_failed(a->pub, NULL, 0)) {
			MAIN_LOG(ERR, "Redis refused the appliance's writes for good: stopping");
			a->redis_refused = true;
			break;
		}
		if (a->all_replay && !a->opt.duration_s && all_drained(a)) {
			MAIN_LOG(NOTICE, "every pcap file consumed: stopping");
			break;
		}
		if (now >= next_sample) {
			sample_workers(a, now);
			next_sample = now + hz * SAMPLE_MS / 1000;
		}
		if ((now >= next_flush || any_wants_swap(a)) && !replay_throttled(a)) {
			if (collect(a, false) != 0)
				MAIN_LOG(ERR, "out of memory merging counters");
			next_flush = now + hz * a->cfg.flush_interval_ms / 1000;
		}
	}
}

static void
fill_report(const struct appliance *a, struct tt_report_input *in,
		const char **names, uint16_t *ports)
{
	struct tt_worker_stats st;
	unsigned int w;
	uint32_t i;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < a->cfg.n_sensors; i++) {
		names[i] = a->cfg.sensors[i].name;
		ports[i] = a->cfg.sensors[i].port;
	}
	in->appliance_id = a->cfg.id;
	in->clock = a->packet_clock ? "packet" : "wall";
	in->sensor_names = names;
	in->sensor_ports = ports;
	in->n_sensors = a->cfg.n_sensors;
	in->run = tt_live_run(a->live);
	for (w = 0; w < a->n_workers; w++) {
		struct tt_src_table_stats ss;

		tt_worker_source_stats(a->workers[w], &ss);
		in->sources_tracked += ss.sources;
		in->sources_inserted += ss.inserted;
		in->sources_evicted += ss.evicted;
		in->sources_confirmed += ss.confirmed;
		in->sources_memory += ss.memory;
		tt_worker_read_stats(a->workers[w], &st);
		in->packets += st.rx_pkts;
		in->busy_cycles += st.busy_cycles;
		in->not_dark += st.not_dark;
		in->malformed += st.malformed;
		in->non_ip += st.non_ip;
		if (st.first_sec != 0 && (in->first_sec == 0 || st.first_sec < in->first_sec))
			in->first_sec = st.first_sec;
		if (st.last_sec > in->last_sec)
			in->last_sec = st.last_sec;
	}
	in->duration_ms = (rte_get_timer_cycles() - a->started_tsc) * 1000 /
		rte_get_timer_hz();
	in->run_ms = (a->stopped_tsc - a->started_tsc) * 1000 / rte_get_timer_hz();
	in->tsc_hz = rte_get_tsc_hz();
	if (a->pub != NULL) {
		struct tt_publisher_stats ps;

		tt_publisher_get_stats(a->pub, &ps);
		in->redis_enabled = true;
		in->redis_delivered = a->delivered;
		in->redis_flushes = ps.flushes;
		in->redis_errors = ps.errors;
		in->redis_shed_minute_cells = ps.shed_minute_cells;
		in->redis_shed_minute_bytes = ps.shed_minute_bytes;
		in->redis_shed_minute_packets = ps.shed_minute_packets;
		in->redis_shed_hour_cells = ps.shed_hour_cells;
		in->redis_shed_hour_packets = ps.shed_hour_packets;
		in->redis_shed_source_keys = ps.shed_source_keys;
		in->redis_refusals = ps.refusals;
		in->redis_data_lost = ps.data_lost;
		in->redis_undelivered_packets = ps.undelivered_packets;
		in->redis_failed = ps.failed;
	}
}

static int
write_outputs(const struct appliance *a)
{
	struct tt_report_input in;
	const char **names = calloc(a->cfg.n_sensors, sizeof(*names));
	uint16_t *ports = calloc(a->cfg.n_sensors, sizeof(*ports));
	int rc = -ENOMEM;

	if (names == NULL || ports == NULL)
		goto out;
	fill_report(a, &in, names, ports);
	rc = tt_report_table(stdout, &in, TOP_N);
	fflush(stdout);
	if (rc == 0 && a->opt.summary != NULL) {
		char tmp[4096];
		FILE *f;

		/* Written aside and renamed, so a reader never sees half a file. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", a->opt.summary);
		f = fopen(tmp, "w");
		if (f == NULL) {
			rc = -errno;
			MAIN_LOG(ERR, "summary %s: %s", tmp, strerror(errno));
			goto out;
		}
		rc = tt_report_summary_json(f, &in);
		if (fclose(f) != 0 && rc == 0)
			rc = -EIO;
		if (rc == 0 && rename(tmp, a->opt.summary) != 0)
			rc = -errno;
		if (rc != 0)
			MAIN_LOG(ERR, "summary %s: %s", a->opt.summary, strerror(-rc));
	}
out:
	free(names);
	free(ports);
	return rc;
}

static int
check_config_only(const struct options *opt)
{
	struct tt_config cfg;
	int rc = tt_config_load(&cfg, opt->config, print_problem, NULL);

	if (rc == 0) {
		printf("%s: valid: appliance %s, %u sensors, %u prefixes\n", opt->config,
			cfg.id, cfg.n_sensors, cfg.n_prefixes);
		tt_config_free(&cfg);
		return EXIT_CLEAN;
	}
	if (rc != -EINVAL)
		fprintf(stderr, "%s: %s\n", opt->config, strerror(-rc));
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	static struct appliance a;
	int sep, rc, code = EXIT_RUNTIME;
	unsigned int w;

	/* Our options follow "--"; read them first so --check-config needs no EAL. */
	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (sep == argc || parse_options(argc - sep, argv + sep, &a.opt) != 0) {
		usage(argv[0]);
		return EXIT_USAGE;
	}
	if (a.opt.check_config)
		return check_config_only(&a.opt);
	rc = tt_config_load(&a.cfg, a.opt.config, print_problem, NULL);
	if (rc != 0) {
		if (rc != -EINVAL)
			fprintf(stderr, "%s: %s\n", a.opt.config, strerror(-rc));
		return EXIT_USAGE;
	}

	/* Every log line marked with its level, and its time unless journald's. */
	rc = tt_log_init();
	if (rc != 0)
		fprintf(stderr, "teiten: log stream: %s; logging unmarked\n", strerror(-rc));
	rc = rte_eal_init(sep, argv);
	if (rc < 0) {
		char why[512];

		fprintf(stderr, "teiten: EAL init failed: %s\n",
			tt_diag_eal_init(rte_errno, why, sizeof(why)));
		tt_config_free(&a.cfg);
		return EXIT_USAGE;
	}
	log_config(&a.cfg);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hangup);
	/* A Redis that dies mid-write must cost a reconnect (EPIPE), not the process. */
	signal(SIGPIPE, SIG_IGN);

	a.n_workers = rte_lcore_count() - 1;
	if (a.n_workers == 0) {
		fprintf(stderr, "teiten: no worker lcore: give at least two lcores "
			"(e.g. -l 0-1); the main lcore is the control plane\n");
		code = EXIT_USAGE;
		goto err_cleanup_eal;
	}
	a.live = tt_live_create(&(struct tt_live_conf){ .n_sensors = a.cfg.n_sensors,
		.n_workers = a.n_workers, .tsc_hz = rte_get_timer_hz() });
	if (a.live == NULL)
		goto err_cleanup_eal;
	/* dpdk-dumpcap (a secondary process) captures through rte_pdump. */
	if (rte_pdump_init() == 0)
		a.pdump = true;
	else
		MAIN_LOG(WARNING, "rte_pdump: %s: live capture with dpdk-dumpcap is unavailable",
			rte_strerror(rte_errno));
	rc = setup_ports(&a);
	if (rc != 0) {
		code = rc == -ENODEV || rc == -EBADMSG ? EXIT_USAGE : EXIT_RUNTIME;
		goto err_stop_ports;
	}
	a.sensors = tt_sensor_create(&a.cfg, (int)rte_socket_id());
	if (a.sensors == NULL) {
		char why[256];

		MAIN_LOG(ERR, "sensor tables: %s; %s", rte_strerror(rte_errno),
			tt_diag_memory(why, sizeof(why)));
		goto err_stop_ports;
	}
	if (a.cfg.geoip_db != NULL) {
		char err[512];

		a.geo = tt_geo_create(a.cfg.geoip_db, (int)rte_socket_id(), err, sizeof(err));
		if (a.geo == NULL) {
			fprintf(stderr, "teiten: %s: geoip_db: %s\n", a.cfg.path, err);
			code = EXIT_USAGE;
			goto err_free_workers;
		}
	}
	if (setup_workers(&a) != 0)
		goto err_free_workers;
	if (a.cfg.alerts_enabled) {
		struct tt_alerts_conf ac;

		a.alert_sensor_names = calloc(a.cfg.n_sensors, sizeof(*a.alert_sensor_names));
		if (a.alert_sensor_names == NULL ||
				tt_config_alerts_conf(&a.cfg, &ac, a.alert_sensor_names) != 0 ||
				(a.alerts = tt_alerts_create(&ac)) == NULL ||
				(a.feed = tt_alerts_feed_create(a.alerts, a.cfg.n_sensors)) == NULL) {
			MAIN_LOG(ERR, "alert detectors: %s", strerror(errno ? errno : EINVAL));
			goto err_free_alerts;
		}
	}
	if (a.cfg.redis_enabled) {
		a.pub = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &a.cfg,
			.n_workers = a.n_workers, .wall_clock = !a.packet_clock });
		if (a.pub == NULL) {
			code = errno == ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
			goto err_free_alerts;
		}
		rc = tt_publisher_start(a.pub);
		if (rc != 0) {
			char why[512];

			/* Wrong credentials, an id in use: config problems, fix and restart. */
			if (tt_publisher_failed(a.pub, why, sizeof(why)))
				fprintf(stderr, "teiten: %s\n", why);
			code = rc == -EACCES || rc == -EEXIST ? EXIT_USAGE : EXIT_RUNTIME;
			goto err_free_publisher;
		}
	} else {
		MAIN_LOG(NOTICE, "[redis] enabled = no: counting without publishing");
	}

	a.started_tsc = rte_get_timer_cycles();
	a.started_sec = (uint64_t)time(NULL);
	rc = tt_telemetry_open(&(struct tt_telemetry_conf){ .cfg = &a.cfg,
		.workers = a.workers, .n_workers = a.n_workers, .ports = a.ports,
		.n_ports = a.n_ports, .pub = a.pub, .live = a.live,
		.packet_clock = a.packet_clock, .started_tsc = a.started_tsc,
		.started_sec = a.started_sec });
	if (rc != 0)
		MAIN_LOG(WARNING, "telemetry commands: %s: /teiten/* is unavailable",
			rte_strerror(-rc));
	for (w = 0; w < a.n_workers; w++) {
		rc = rte_eal_remote_launch(tt_worker_main, a.workers[w],
			tt_worker_get_conf(a.workers[w])->lcore_id);
		if (rc != 0) {
			MAIN_LOG(ERR, "launch worker %u: %s", w, rte_strerror(-rc));
			__atomic_store_n(&stop_requested, 1, __ATOMIC_RELEASE);
			break;
		}
	}
	MAIN_LOG(NOTICE, "appliance %s: %u workers, %u ports, %u sensors: running",
		a.cfg.id, a.n_workers, a.n_ports, a.cfg.n_sensors);
	control_loop(&a);
	a.stopped_tsc = rte_get_timer_cycles();
	tt_telemetry_close();

	for (w = 0; w < a.n_workers; w++)
		tt_worker_stop(a.workers[w]);
	rte_eal_mp_wait_lcore();
	/* The workers have returned: the last swap takes what they wrote. */
	rc = collect(&a, a.all_replay && all_drained(&a));
	if (a.pub != NULL) {
		char why[512];
		int prc = tt_publisher_stop(a.pub, a.cfg.final_flush_s * 1000u);

		struct tt_publisher_stats ps;

		tt_publisher_get_stats(a.pub, &ps);
		/* Delivered means all of it: shed buckets or source keys are not. */
		a.delivered = prc == 0 && ps.shed_minute_cells == 0 && ps.shed_hour_cells == 0 &&
			ps.shed_source_keys == 0;
		if (a.delivered)
			MAIN_LOG(NOTICE, "final flush to Redis done");
		else
			rc = rc != 0 ? rc : -EIO;
		if (prc == 0 && !a.delivered)
			MAIN_LOG(ERR, "final flush done, but not everything reached Redis: shed past "
				"backlog_max_mb: minute buckets of %" PRIu64 " packets, hour buckets of %"
				PRIu64 " packets, %" PRIu64 " source keys", ps.shed_minute_packets,
				ps.shed_hour_packets, ps.shed_source_keys);
		if (ps.data_lost != 0)
			MAIN_LOG(ERR, "Redis lost data this run had delivered (%" PRIu64 " times; "
				"see the log above)", ps.data_lost);
		if (tt_publisher_failed(a.pub, why, sizeof(why))) {
			fprintf(stderr, "teiten: %s\n", why);
			a.redis_refused = true;
		}
	}
	if (write_outputs(&a) != 0 && rc == 0)
		rc = -EIO;
	/* A permanent refusal is the config's or Redis's to fix, like bad credentials. */
	code = a.redis_refused ? EXIT_USAGE : rc == 0 ? EXIT_CLEAN : EXIT_RUNTIME;

err_free_publisher:
	tt_publisher_free(a.pub);
err_free_alerts:
	tt_alerts_feed_free(a.feed);
	tt_alerts_free(a.alerts);
	free(a.alert_sensor_names);
err_free_workers:
	for (w = 0; w < a.n_workers; w++)
		tt_worker_free(a.workers[w]);
	tt_geo_free(a.geo);
	tt_sensor_free(a.sensors);
err_stop_ports:
	for (w = 0; w < a.n_ports; w++)
		tt_port_stop(&a.ports[w]);
	rte_mempool_free(a.pool);
	if (a.pdump)
		rte_pdump_uninit();
	tt_live_free(a.live);
err_cleanup_eal:
	rte_eal_cleanup();
	tt_config_free(&a.cfg);
	return code;
}
