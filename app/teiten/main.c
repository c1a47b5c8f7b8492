/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * teiten: wiring only. Options, config, EAL, ports, workers, the console,
 * the control loop on the main lcore (its steps are lib/control's), signals,
 * and the unwind. No packet logic and no control policy live here; the
 * live reload (SIGHUP) is reload.c's.
 */
#include <errno.h>
#include <getopt.h>
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

#include "appliance.h"
#include "tt_alerts.h"
#include "tt_alerts_feed.h"
#include "tt_capture.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_control.h"
#include "tt_data_path.h"
#include "tt_diag.h"
#include "tt_geo.h"
#include "tt_live.h"
#include "tt_log.h"
#include "tt_port.h"
#include "tt_publisher.h"
#include "tt_sensor.h"
#include "tt_telemetry.h"
#include "tt_worker.h"

RTE_LOG_REGISTER(tt_logtype_main, tt.main, NOTICE);

enum {
	RX_DESC = 1024,
	MBUF_CACHE = 256,
	TICK_MS = 10,                  /* control loop period */
};

/*
 * Never called: the first function of .text.hot (this file's object is
 * linked first), aligned to a page, so the data path's code that follows
 * it (tt_data_path.h) moves by whole pages at most when code placed before
 * it changes.
 */
TT_DATA_PATH __attribute__((aligned(4096), used)) static void
data_path_start(void)
{
}

/* Set by the signal handlers (release), read by the control loop (acquire). */
static uint32_t stop_requested;
static uint32_t reload_requested;
/* The publisher while tt_publisher_start() may wait for the appliance id. */
static struct tt_publisher *starting_publisher;

static void
on_signal(int sig)
{
	struct tt_publisher *p = __atomic_load_n(&starting_publisher, __ATOMIC_ACQUIRE);
	int saved_errno = errno;           /* the interrupted code's, kept from write() */

	(void)sig;
	__atomic_store_n(&stop_requested, 1, __ATOMIC_RELEASE);
	if (p != NULL)
		tt_publisher_interrupt(p);
	errno = saved_errno;
}

static void
on_hangup(int sig)
{
	(void)sig;
	__atomic_store_n(&reload_requested, 1, __ATOMIC_RELEASE);
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

void
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

void
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
		wc.sensors = a->gen[0].sensors;
		wc.geo = a->gen[0].geo;
		wc.home_country = a->gen[0].tables.home_country;
		memcpy(wc.watched, a->gen[0].tables.watched, sizeof(wc.watched));
		wc.packet_clock = a->packet_clock;
		wc.readers = tt_capture_guard_readers();
		wc.timestamp_offset = ts_offset;
		wc.timestamp_flag = ts_flag;
		wc.counters.port_cells = cfg->port_cells;
		wc.counters.country_cells = cfg->country_cells;
		wc.counters.country_rows = cfg->n_sensors;
		wc.counters.flow_cells = TT_COUNTERS_FLOW_CELLS;
		wc.counters.hll_cells = cfg->hll_cells;
		wc.counters.hll_sparse = cfg->hll_sparse_sets;
		wc.counters.hll_dense = cfg->hll_dense_sets;
		wc.source_deltas = cfg->source_cells;
		wc.sources.entries = cfg->sources_max;
		_Static_assert((int)TT_MAX_MIRAI_MIN_PORTS <= (int)TT_SOURCES_MIRAI_PORTS,
			"the config allows no more ports than a source's memory keeps");
		wc.sources.mirai_min_ports = cfg->mirai_min_ports;
		wc.sources.horizon = cfg->retention_sources;
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

/*
 * The main lcore's loop: a tick every TICK_MS. The signals are the process's
 * and are read here; every other step and stop condition is the control
 * plane's (tt_control_tick()).
 */
static void
control_loop(struct appliance *a)
{
	for (;;) {
		uint64_t now;

		rte_delay_us_sleep(TICK_MS * 1000);
		now = rte_get_timer_cycles();
		if (__atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE)) {
			MAIN_LOG(NOTICE, "signal: stopping");
			break;
		}
		if (reload_poll(a, __atomic_exchange_n(&reload_requested, 0, __ATOMIC_ACQUIRE)))
			__atomic_store_n(&reload_requested, 1, __ATOMIC_RELEASE);
		if (!tt_control_tick(a->control, now))
			break;
	}
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
		return TT_CONTROL_EXIT_CLEAN;
	}
	if (rc != -EINVAL)
		fprintf(stderr, "%s: %s\n", opt->config, strerror(-rc));
	return TT_CONTROL_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	static struct appliance a;
	int sep, rc, code = TT_CONTROL_EXIT_RUNTIME;
	unsigned int w;

	/* Our options follow "--"; read them first so --check-config needs no EAL. */
	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (sep == argc || parse_options(argc - sep, argv + sep, &a.opt) != 0) {
		usage(argv[0]);
		return TT_CONTROL_EXIT_USAGE;
	}
	if (a.opt.check_config)
		return check_config_only(&a.opt);
	rc = tt_config_load(&a.cfg, a.opt.config, print_problem, NULL);
	if (rc != 0) {
		if (rc != -EINVAL)
			fprintf(stderr, "%s: %s\n", a.opt.config, strerror(-rc));
		return TT_CONTROL_EXIT_USAGE;
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
		return TT_CONTROL_EXIT_USAGE;
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
		code = TT_CONTROL_EXIT_USAGE;
		goto err_cleanup_eal;
	}
	a.sensor_slots = tt_config_sensor_slots(&a.cfg);
	a.live = tt_live_create(&(struct tt_live_conf){ .n_sensors = a.sensor_slots,
		.n_workers = a.n_workers, .tsc_hz = rte_get_timer_hz() });
	if (a.live == NULL)
		goto err_cleanup_eal;
	/*
	 * dpdk-dumpcap (a secondary process) captures through rte_pdump, whose
	 * end of a capture waits for the workers through the guard (tt_capture.h).
	 */
	if (tt_capture_guard_init(a.n_workers) != 0)
		MAIN_LOG(WARNING, "capture guard for %u workers: live capture with "
			"dpdk-dumpcap is unavailable", a.n_workers);
	else if (rte_pdump_init() == 0)
		a.pdump = true;
	else
		MAIN_LOG(WARNING, "rte_pdump: %s: live capture with dpdk-dumpcap is unavailable",
			rte_strerror(rte_errno));
	rc = setup_ports(&a);
	if (rc != 0) {
		code = rc == -ENODEV || rc == -EBADMSG ? TT_CONTROL_EXIT_USAGE :
			TT_CONTROL_EXIT_RUNTIME;
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
			code = TT_CONTROL_EXIT_USAGE;
			goto err_free_workers;
		}
	}
	/* Generation 1: the start's tables, which the workers' conf names too. */
	a.gen[0].number = 1;
	a.gen[0].cfg = &a.cfg;
	a.gen[0].sensors = a.sensors;
	a.gen[0].geo = a.geo;
	fill_tables(&a.cfg, a.sensors, a.geo, &a.gen[0].tables);
	a.sensors = NULL;                  /* generation 1's now */
	a.geo = NULL;
	if (setup_workers(&a) != 0)
		goto err_free_workers;
	if (a.cfg.alerts_enabled) {
		struct tt_alerts_conf ac;

		a.alert_sensor_names = calloc(a.sensor_slots, sizeof(*a.alert_sensor_names));
		if (a.alert_sensor_names == NULL ||
				alerts_conf(&a, &a.cfg, &ac, a.alert_sensor_names) != 0 ||
				(a.alerts = tt_alerts_create(&ac)) == NULL ||
				(a.feed = tt_alerts_feed_create(a.alerts, a.sensor_slots)) == NULL) {
			MAIN_LOG(ERR, "alert detectors: %s", strerror(errno ? errno : EINVAL));
			goto err_free_alerts;
		}
	}
	if (a.cfg.redis_enabled) {
		a.pub = tt_publisher_create(&(struct tt_publisher_conf){ .cfg = &a.cfg,
			.sensor_slots = a.sensor_slots, .n_workers = a.n_workers, .wall_clock = !a.packet_clock });
		if (a.pub == NULL) {
			code = errno == ENOMEM ? TT_CONTROL_EXIT_RUNTIME : TT_CONTROL_EXIT_USAGE;
			goto err_free_alerts;
		}
	}
	a.control = tt_control_create(&(struct tt_control_conf){ .cfg = &a.cfg,
		.workers = a.workers, .n_workers = a.n_workers, .ports = a.ports,
		.n_ports = a.n_ports, .live = a.live, .pub = a.pub, .feed = a.feed,
		.packet_clock = a.packet_clock, .all_replay = a.all_replay,
		.duration_s = a.opt.duration_s, .summary = a.opt.summary,
		.logtype = tt_logtype_main });
	if (a.control == NULL) {
		MAIN_LOG(ERR, "control plane: %s", strerror(errno));
		goto err_free_publisher;
	}
	if (a.pub != NULL) {
		__atomic_store_n(&starting_publisher, a.pub, __ATOMIC_RELEASE);
		rc = tt_publisher_start(a.pub);
		__atomic_store_n(&starting_publisher, NULL, __ATOMIC_RELEASE);
		if (rc == -EINTR) {
			MAIN_LOG(NOTICE, "signal: stopped while claiming appliance id '%s' in "
				"Redis; nothing was counted", a.cfg.id);
			code = TT_CONTROL_EXIT_CLEAN;
			goto err_free_control;
		}
		if (rc != 0) {
			char why[512];

			/* Wrong credentials, an id in use: config problems, fix and restart. */
			if (tt_publisher_failed(a.pub, why, sizeof(why)))
				fprintf(stderr, "teiten: %s\n", why);
			code = rc == -EACCES || rc == -EEXIST ? TT_CONTROL_EXIT_USAGE :
				TT_CONTROL_EXIT_RUNTIME;
			goto err_free_control;
		}
	} else {
		MAIN_LOG(NOTICE, "[redis] enabled = no: counting without publishing");
	}

	a.started_tsc = rte_get_timer_cycles();
	a.started_sec = (uint64_t)time(NULL);
	tt_control_start(a.control, a.started_tsc);
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
	reload_abandon(&a);
	tt_control_stopping(a.control, rte_get_timer_cycles());
	tt_telemetry_close();

	for (w = 0; w < a.n_workers; w++)
		tt_worker_stop(a.workers[w]);
	rte_eal_mp_wait_lcore();
	code = tt_control_finish(a.control, stdout);

err_free_control:
	tt_control_free(a.control);
err_free_publisher:
	tt_publisher_free(a.pub);
err_free_alerts:
	tt_alerts_feed_free(a.feed);
	tt_alerts_free(a.alerts);
	free(a.alert_sensor_names);
err_free_workers:
	for (w = 0; w < a.n_workers; w++)
		tt_worker_free(a.workers[w]);
	tt_geo_free(a.geo);                /* not generation 1's yet */
	tt_sensor_free(a.sensors);
	for (w = 0; w < 2; w++) {
		tt_geo_free(a.gen[w].geo);
		tt_sensor_free(a.gen[w].sensors);
	}
	for (w = 0; w < a.n_configs; w++) {
		tt_config_free(a.configs[w]);
		free(a.configs[w]);
	}
	free(a.configs);
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
