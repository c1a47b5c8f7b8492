/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control loop's steps and the end of a run. Control thread only (the
 * main lcore); see tt_control.h for whom it drives and how.
 */
#include "tt_control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "tt_alerts.h"
#include "tt_alerts_feed.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_live.h"
#include "tt_port.h"
#include "tt_publisher.h"
#include "tt_report.h"
#include "tt_sources.h"
#include "tt_telemetry.h"
#include "tt_worker.h"

#define CTL_LOG(c, level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, (c)->conf.logtype, "teiten: " fmt "\n", ##__VA_ARGS__)

enum {
	SWAP_TIMEOUT_MS = 1000,
	SAMPLE_MS = 1000,              /* rates for the console */
	TOP_N = 5,                     /* services, classes, countries in the exit table */
};

/* Written and read by the control thread alone; no other thread sees it. */
struct tt_control {
	struct tt_control_conf conf;
	uint64_t hz;                   /* timer cycles a second */
	uint64_t started_tsc;          /* the run's start */
	uint64_t deadline;             /* --duration's end; 0: none */
	uint64_t next_sample;
	uint64_t next_flush;
	uint64_t stopped_tsc;          /* the workers were told to stop */
	/* per worker, read before its swap at each collect */
	uint64_t *seen_sec;            /* its newest packet's time */
	bool *drained;                 /* its replays consumed */
	/* per worker, cumulative, at each sample */
	uint64_t *rx_pkts;
	uint64_t *busy_cycles;
	bool waiting_for_redis;        /* a replay waits for Redis: said once an episode */
	bool delivered;                /* the final flush committed everything */
	bool redis_refused;            /* Redis refused for good: exit 2 */
	/* a reload's switch: which workers have swapped since it started */
	struct tt_control_switch sw;
	bool *switched;
	uint32_t n_switched;
	bool switching;
};

struct tt_control *
tt_control_create(const struct tt_control_conf *conf)
{
	struct tt_control *c;
	uint32_t n = conf->n_workers;

	if (conf->cfg == NULL || conf->workers == NULL || n == 0 || conf->live == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->conf = *conf;
	c->hz = rte_get_timer_hz();
	c->seen_sec = calloc(n, sizeof(*c->seen_sec));
	c->drained = calloc(n, sizeof(*c->drained));
	c->rx_pkts = calloc(n, sizeof(*c->rx_pkts));
	c->busy_cycles = calloc(n, sizeof(*c->busy_cycles));
	c->switched = calloc(n, sizeof(*c->switched));
	if (c->seen_sec == NULL || c->drained == NULL || c->rx_pkts == NULL ||
			c->busy_cycles == NULL || c->switched == NULL) {
		tt_control_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void
tt_control_free(struct tt_control *c)
{
	if (c == NULL)
		return;
	free(c->seen_sec);
	free(c->drained);
	free(c->rx_pkts);
	free(c->busy_cycles);
	free(c->switched);
	free(c);
}

int
tt_control_switch(struct tt_control *c, const struct tt_control_switch *sw)
{
	uint32_t w;

	if (c->switching)
		return -EBUSY;
	c->sw = *sw;
	c->switching = true;
	c->n_switched = 0;
	memset(c->switched, 0, c->conf.n_workers * sizeof(*c->switched));
	for (w = 0; w < c->conf.n_workers; w++)
		tt_worker_set_tables(c->conf.workers[w], sw->tables);
	/* The exit report names sensors by the newest config: its indexes
	 * keep every older one's (tt_config_align()). */
	c->conf.cfg = sw->cfg;
	return 0;
}

bool
tt_control_switch_pending(const struct tt_control *c)
{
	return c->switching;
}

/* Worker @p w swapped: once all have, the previous tables are nobody's. */
static void
switch_taken(struct tt_control *c, uint32_t w)
{
	if (!c->switching || c->switched[w])
		return;
	c->switched[w] = true;
	if (++c->n_switched < c->conf.n_workers)
		return;
	c->switching = false;
	CTL_LOG(c, NOTICE, "reload: every worker counts with generation %u from now",
		c->sw.generation);
	if (c->sw.retire != NULL)
		c->sw.retire(c->sw.arg);
}

void
tt_control_start(struct tt_control *c, uint64_t started_tsc)
{
	c->started_tsc = started_tsc;
	c->deadline = c->conf.duration_s ? started_tsc + c->conf.duration_s * c->hz : 0;
	c->next_sample = started_tsc;
	c->next_flush = started_tsc + c->hz * c->conf.cfg->flush_interval_ms / 1000;
}

uint32_t
tt_control_complete_minute(bool packet_clock, const uint64_t *seen_sec, const bool *drained,
		uint32_t n_workers, uint64_t now_sec, bool final)
{
	uint64_t slowest = UINT64_MAX, newest = 0;
	uint32_t w;

	if (!packet_clock)
		return (uint32_t)(now_sec / 60) - 1;
	for (w = 0; w < n_workers; w++) {
		newest = RTE_MAX(newest, seen_sec[w]);
		if (!drained[w])
			slowest = RTE_MIN(slowest, seen_sec[w]);
	}
	if (final || slowest == UINT64_MAX)
		return newest == 0 ? 0 : (uint32_t)(newest / 60) + 1;
	return slowest / 60 > 0 ? (uint32_t)(slowest / 60) - 1 : 0;
}

bool
tt_control_throttle(const struct tt_publisher_stats *ps, uint64_t backlog_max_bytes,
		bool *waiting, enum tt_control_redis_news *news)
{
	bool away;

	*news = TT_CONTROL_REDIS_SAME;
	if (ps->failed)
		return false;
	away = !ps->connected || ps->retrying;
	if (away && !*waiting)
		*news = TT_CONTROL_REDIS_AWAY;
	else if (!away && *waiting)
		*news = TT_CONTROL_REDIS_BACK;
	*waiting = away;
	return away || ps->behind || ps->backlog_bytes > backlog_max_bytes / 2;
}

bool
tt_control_delivered(int stop_rc, const struct tt_publisher_stats *ps)
{
	return stop_rc == 0 && ps->shed_minute_cells == 0 && ps->shed_hour_cells == 0 &&
		ps->shed_source_keys == 0;
}

enum tt_control_exit
tt_control_exit_code(bool redis_refused, int rc)
{
	/* A permanent refusal is the config's or Redis's to fix, like bad credentials. */
	return redis_refused ? TT_CONTROL_EXIT_USAGE : rc == 0 ? TT_CONTROL_EXIT_CLEAN :
		TT_CONTROL_EXIT_RUNTIME;
}

/* Appliance figures for the Redis health hash. */
static void
update_health(struct tt_control *c)
{
	struct tt_publisher_health h = { 0 };
	struct tt_worker_stats st;
	struct rte_eth_stats es;
	uint32_t w;
	uint16_t i;

	for (w = 0; w < c->conf.n_workers; w++) {
		tt_worker_read_stats(c->conf.workers[w], &st);
		h.rx_pkts += st.rx_pkts;
		h.not_dark += st.not_dark;
		h.malformed += st.malformed;
		h.source_deltas_dropped += st.source_deltas_dropped;
		h.hll_record_off_pkts += st.hll_record_off;
	}
	for (i = 0; i < c->conf.n_ports; i++)
		if (rte_eth_stats_get(c->conf.ports[i].port_id, &es) == 0)
			h.rx_missed += es.imissed;
	tt_publisher_set_health(c->conf.pub, &h);
}

/*
 * An alert: into the stream with the next flush (exactly once, like the
 * counts), into /teiten/alerts, and one log line.
 */
static int
on_alert(void *ctx, const struct tt_alert *al)
{
	struct tt_control *c = ctx;
	const char *fields[2 * TT_ALERTS_FIELDS];
	struct tt_alerts_fields f;
	char json[1024];
	unsigned int i;

	tt_telemetry_alert(al);
	CTL_LOG(c, INFO, "alert: %s", al->message);
	if (c->conf.pub == NULL)
		return 0;
	tt_alerts_fields(al, &f);
	for (i = 0; i < TT_ALERTS_FIELDS; i++) {
		fields[2 * i] = f.name[i];
		fields[2 * i + 1] = f.value[i];
	}
	tt_alerts_format_json(al, json, sizeof(json));
	return tt_publisher_submit_alert(c->conf.pub, TT_ALERTS_FIELDS, fields, json);
}

/*
 * The one function that feeds the publisher, the live view the telemetry
 * commands read, and the alerts.
 */
int
tt_control_collect(struct tt_control *c, bool final)
{
	const struct tt_control_conf *cf = &c->conf;
	uint64_t now_sec = (uint64_t)time(NULL);
	uint32_t now_minute = cf->packet_clock ? 0 : (uint32_t)(now_sec / 60);
	bool all_handed_over = true;
	uint32_t w;
	int rc = 0;

	for (w = 0; w < cf->n_workers; w++) {
		struct tt_worker_stats st;
		const struct tt_worker_interval *iv;
		bool drained;

		/* Before the swap: the retired shard holds every packet up to this. */
		tt_worker_read_stats(cf->workers[w], &st);
		drained = tt_worker_drained(cf->workers[w]);
		iv = tt_worker_swap(cf->workers[w], SWAP_TIMEOUT_MS);

		if (iv == NULL) {
			/*
			 * Its counts up to st.last_sec are still with it: the
			 * minutes they fall in are not complete for the alerts.
			 */
			CTL_LOG(c, WARNING, "worker %u did not hand over its counters; "
				"they stay with it until the next interval", w);
			all_handed_over = false;
			continue;
		}
		c->seen_sec[w] = st.last_sec;
		c->drained[w] = drained;
		switch_taken(c, w);
		if (tt_live_add(cf->live, iv->counts, now_minute) != 0)
			rc = -ENOMEM;
		if (cf->pub != NULL && tt_publisher_submit(cf->pub, iv->counts, iv->sources) != 0)
			rc = -ENOMEM;
		if (cf->feed != NULL && tt_alerts_feed_add(cf->feed, iv->counts, iv->sources) != 0)
			rc = -ENOMEM;
		tt_worker_interval_reset(iv);
	}
	/*
	 * A worker that kept its counts this time holds back the judging of
	 * every bucket: judged without them, a bucket would raise alerts the
	 * traffic never made (seen as a replay's alerts changing with the
	 * host's load), and their late cells would be left out.
	 */
	if (cf->feed != NULL && all_handed_over) {
		uint32_t complete = tt_control_complete_minute(cf->packet_clock, c->seen_sec,
			c->drained, cf->n_workers, now_sec, final);

		CTL_LOG(c, DEBUG, "alerts: buckets before minute %u are complete", complete);
		if (tt_alerts_feed_advance(cf->feed, complete, on_alert, c) != 0)
			rc = -ENOMEM;
	}
	if (cf->pub != NULL) {
		update_health(c);
		tt_publisher_kick(cf->pub);
	}
	return rc;
}

bool
tt_control_all_drained(const struct tt_control *c)
{
	uint32_t w;

	for (w = 0; w < c->conf.n_workers; w++)
		if (!tt_worker_drained(c->conf.workers[w]))
			return false;
	return true;
}

static bool
any_wants_swap(const struct tt_control *c)
{
	uint32_t w;

	for (w = 0; w < c->conf.n_workers; w++)
		if (tt_worker_wants_swap(c->conf.workers[w]))
			return true;
	return false;
}

/*
 * Live ports are never held back: there only an outage past backlog_max_mb
 * sheds, and says so. A replay of any length delivers everything.
 */
bool
tt_control_replay_throttled(struct tt_control *c)
{
	struct tt_publisher_stats ps;
	enum tt_control_redis_news news;
	bool throttled;

	if (!c->conf.all_replay || c->conf.pub == NULL)
		return false;
	tt_publisher_get_stats(c->conf.pub, &ps);
	throttled = tt_control_throttle(&ps, (uint64_t)c->conf.cfg->backlog_max_mb << 20,
		&c->waiting_for_redis, &news);
	/* Said once an episode: a replay into a Redis that is down waits for it. */
	if (news == TT_CONTROL_REDIS_AWAY)
		CTL_LOG(c, NOTICE, "the replay waits for Redis (%s)", ps.connected ?
			"it refuses writes for now" : "not connected");
	else if (news == TT_CONTROL_REDIS_BACK)
		CTL_LOG(c, NOTICE, "Redis takes writes: the replay goes on");
	return throttled;
}

/* Cumulative worker figures into the live view, for per-second rates. */
static void
sample_workers(struct tt_control *c, uint64_t now_tsc)
{
	struct tt_worker_stats st;
	uint32_t w;

	for (w = 0; w < c->conf.n_workers; w++) {
		tt_worker_read_stats(c->conf.workers[w], &st);
		c->rx_pkts[w] = st.rx_pkts;
		c->busy_cycles[w] = st.busy_cycles;
	}
	tt_live_sample(c->conf.live, now_tsc, c->rx_pkts, c->busy_cycles);
}

bool
tt_control_tick(struct tt_control *c, uint64_t now)
{
	const struct tt_control_conf *cf = &c->conf;

	if (c->deadline != 0 && now >= c->deadline) {
		CTL_LOG(c, NOTICE, "duration of %" PRIu64 " s reached: stopping", cf->duration_s);
		return false;
	}
	if (cf->pub != NULL && tt_publisher_failed(cf->pub, NULL, 0)) {
		CTL_LOG(c, ERR, "Redis refused the appliance's writes for good: stopping");
		c->redis_refused = true;
		return false;
	}
	if (cf->all_replay && !cf->duration_s && tt_control_all_drained(c)) {
		CTL_LOG(c, NOTICE, "every pcap file consumed: stopping");
		return false;
	}
	if (now >= c->next_sample) {
		sample_workers(c, now);
		c->next_sample = now + c->hz * SAMPLE_MS / 1000;
	}
	if ((now >= c->next_flush || any_wants_swap(c)) && !tt_control_replay_throttled(c)) {
		if (tt_control_collect(c, false) != 0)
			CTL_LOG(c, ERR, "out of memory merging counters");
		c->next_flush = now + c->hz * cf->cfg->flush_interval_ms / 1000;
	}
	return true;
}

void
tt_control_stopping(struct tt_control *c, uint64_t now_tsc)
{
	c->stopped_tsc = now_tsc;
}

static void
fill_report(const struct tt_control *c, struct tt_report_input *in, const char **names,
		uint16_t *ports)
{
	const struct tt_control_conf *cf = &c->conf;
	const struct tt_config *cfg = cf->cfg;
	struct tt_worker_stats st;
	uint32_t w, i;

	memset(in, 0, sizeof(*in));
	for (i = 0; i < cfg->n_sensors; i++) {
		names[i] = cfg->sensors[i].name;
		ports[i] = cfg->sensors[i].port;
	}
	in->appliance_id = cfg->id;
	in->clock = cf->packet_clock ? "packet" : "wall";
	in->sensor_names = names;
	in->sensor_ports = ports;
	in->n_sensors = cfg->n_sensors;
	/* The writer's own read: the workers have returned, telemetry is closed. */
	in->run = tt_live_run(cf->live);
	for (w = 0; w < cf->n_workers; w++) {
		struct tt_sources_table_stats ss;

		tt_worker_source_stats(cf->workers[w], &ss);
		in->sources_tracked += ss.sources;
		in->sources_inserted += ss.inserted;
		in->sources_evicted += ss.evicted;
		in->sources_confirmed += ss.confirmed;
		in->sources_memory += ss.memory;
		tt_worker_read_stats(cf->workers[w], &st);
		in->packets += st.rx_pkts;
		in->busy_cycles += st.busy_cycles;
		in->hll_record_off_pkts += st.hll_record_off;
		in->sources_deltas_dropped += st.source_deltas_dropped;
		in->not_dark += st.not_dark;
		in->malformed += st.malformed;
		in->non_ip += st.non_ip;
		if (st.first_sec != 0 && (in->first_sec == 0 || st.first_sec < in->first_sec))
			in->first_sec = st.first_sec;
		if (st.last_sec > in->last_sec)
			in->last_sec = st.last_sec;
	}
	in->duration_ms = (rte_get_timer_cycles() - c->started_tsc) * 1000 / c->hz;
	in->run_ms = (c->stopped_tsc - c->started_tsc) * 1000 / c->hz;
	in->tsc_hz = rte_get_tsc_hz();
	if (cf->pub != NULL) {
		struct tt_publisher_stats ps;

		tt_publisher_get_stats(cf->pub, &ps);
		in->redis_enabled = true;
		in->redis_delivered = c->delivered;
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
		in->redis_redirects = ps.redirects;
		in->redis_undelivered_packets = ps.undelivered_packets;
		in->redis_undelivered_source_keys = ps.undelivered_source_keys;
		in->redis_undelivered_alerts = ps.undelivered_alerts;
		in->redis_undelivered_upper_bound = ps.undelivered_upper_bound;
		in->redis_failed = ps.failed;
	}
}

/* The exit table on @p table, and the --summary file. @return 0 or -errno. */
static int
write_outputs(const struct tt_control *c, FILE *table)
{
	const struct tt_config *cfg = c->conf.cfg;
	const char *summary = c->conf.summary;
	struct tt_report_input in;
	const char **names = calloc(cfg->n_sensors, sizeof(*names));
	uint16_t *ports = calloc(cfg->n_sensors, sizeof(*ports));
	int rc = -ENOMEM;

	if (names == NULL || ports == NULL)
		goto out;
	if (tt_live_fold(c->conf.live) != 0)
		CTL_LOG(c, ERR, "out of memory merging counters: the exit report misses part of "
			"the last interval");
	fill_report(c, &in, names, ports);
	rc = tt_report_table(table, &in, TOP_N);
	fflush(table);
	if (rc == 0 && summary != NULL) {
		char tmp[4096];
		FILE *f;

		/* Written aside and renamed, so a reader never sees half a file. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", summary);
		f = fopen(tmp, "w");
		if (f == NULL) {
			rc = -errno;
			CTL_LOG(c, ERR, "summary %s: %s", tmp, strerror(errno));
			goto out;
		}
		rc = tt_report_summary_json(f, &in);
		if (fclose(f) != 0 && rc == 0)
			rc = -EIO;
		if (rc == 0 && rename(tmp, summary) != 0)
			rc = -errno;
		if (rc != 0)
			CTL_LOG(c, ERR, "summary %s: %s", summary, strerror(-rc));
	}
out:
	free(names);
	free(ports);
	return rc;
}

/*
 * A replay's last interval waits, as every interval before it did, until the
 * publisher has caught up (tt_control_replay_throttled()). Handed over while
 * one batch is in flight and another waits, its hours would push the backlog
 * past backlog_max_mb and be shed, though Redis was only slow. The wait is
 * part of [redis] final_flush_s, which bounds the whole stop.
 * @return the milliseconds left of final_flush_s.
 */
static uint64_t
wait_for_publisher(struct tt_control *c)
{
	const struct tt_control_conf *cf = &c->conf;
	uint64_t budget_ms = (uint64_t)cf->cfg->final_flush_s * 1000;
	uint64_t start = rte_get_timer_cycles(), waited_ms = 0;
	bool said = false;

	while (waited_ms < budget_ms && tt_control_replay_throttled(c)) {
		struct timespec ts = { 0, 10 * 1000000 };

		if (!said) {
			CTL_LOG(c, NOTICE, "the last interval waits for the publisher to catch up "
				"(within final_flush_s = %" PRIu32 " s)", cf->cfg->final_flush_s);
			said = true;
		}
		nanosleep(&ts, NULL);
		waited_ms = (rte_get_timer_cycles() - start) * 1000 / c->hz;
	}
	return budget_ms - RTE_MIN(waited_ms, budget_ms);
}

enum tt_control_exit
tt_control_finish(struct tt_control *c, FILE *table)
{
	const struct tt_control_conf *cf = &c->conf;
	uint64_t flush_ms = cf->pub != NULL ? wait_for_publisher(c) : 0;
	/* The workers have returned: the last swap takes what they wrote. */
	int rc = tt_control_collect(c, cf->all_replay && tt_control_all_drained(c));

	if (cf->pub != NULL) {
		struct tt_publisher_stats ps;
		char why[512];
		int prc = tt_publisher_stop(cf->pub, (unsigned int)flush_ms);

		tt_publisher_get_stats(cf->pub, &ps);
		c->delivered = tt_control_delivered(prc, &ps);
		if (c->delivered)
			CTL_LOG(c, NOTICE, "final flush to Redis done");
		else
			rc = rc != 0 ? rc : -EIO;
		if (prc == 0 && !c->delivered)
			CTL_LOG(c, ERR, "final flush done, but not everything reached Redis: shed "
				"past backlog_max_mb: minute buckets of %" PRIu64 " packets, hour "
				"buckets of %" PRIu64 " packets, %" PRIu64 " source keys",
				ps.shed_minute_packets, ps.shed_hour_packets, ps.shed_source_keys);
		if (ps.data_lost != 0)
			CTL_LOG(c, ERR, "Redis lost data this run had delivered (%" PRIu64
				" times; see the log above)", ps.data_lost);
		if (tt_publisher_failed(cf->pub, why, sizeof(why))) {
			fprintf(stderr, "teiten: %s\n", why);
			c->redis_refused = true;
		}
	}
	if (write_outputs(c, table) != 0 && rc == 0)
		rc = -EIO;
	return tt_control_exit_code(c->redis_refused, rc);
}
