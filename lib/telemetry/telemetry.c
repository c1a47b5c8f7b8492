/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /teiten/... telemetry commands. Every reply is a dict; names are limited by
 * DPDK to [A-Za-z0-9_/], so sensor names (which may hold '-' and '.') travel
 * as array values, in parallel arrays, the way /ethdev/stats gives queues.
 *
 * Size: a reply must fit telemetry's output buffer, and a value that does not
 * fit is dropped by DPDK without a word. So every list is cut against a byte
 * budget (telemetry_reply.c) and says how many entries it left out ("more");
 * nothing is truncated silently.
 */
#include "tt_telemetry.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "tt_alerts.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "tt_counters.h"
#include "tt_live.h"
#include "tt_port.h"
#include "tt_publisher.h"
#include "tt_report.h"
#include "tt_sources.h"
#include "tt_worker.h"

#include "telemetry_internal.h"

enum {
	TOP_DEFAULT = 10,
	TOP_MAX = 100,
	SENSORS_DEFAULT = 32,
};

/*
 * The console's context, one a process (tt_telemetry.h says why). One lock,
 * console.lock, guards every field, and is held for a few stores or one copy
 * only, never while a reply reads the appliance:
 *  - open, in_flight: a callback counts itself in while the console is open
 *    (console_enter()) and out when done (console_leave());
 *    tt_telemetry_close() clears open and waits on `idle` until no callback
 *    is in, after which what src names may be freed;
 *  - src: written by tt_telemetry_open() while closed, and its cfg by
 *    tt_telemetry_set_config() while paused with no callback in; a callback
 *    reads it between enter and leave, when it cannot change;
 *  - alerts: written by the control thread (tt_telemetry_alert()), read by
 *    /teiten/alerts while it builds its reply (128 alerts at most).
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t idle;           /* in_flight dropped to 0 */
	bool open;
	bool paused;                   /* a reload swaps src.cfg: callbacks wait */
	uint32_t generation;           /* of src.cfg: 1 at start, one more a reload */
	unsigned int in_flight;        /* callbacks between enter and leave */
	struct tt_telemetry_conf src;
	struct tt_telemetry_alerts alerts;
} console = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

static int
reply_error(struct rte_tel_data *d, const char *fmt, ...)
{
	char msg[RTE_TEL_MAX_STRING_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

static const char *
scope_name(const struct tt_config *cfg, uint16_t sensor)
{
	return sensor == TT_SCOPE_ALL ? "all" : cfg->sensors[sensor].name;
}

static void
add_time(struct rte_tel_data *d, const char *name, uint64_t sec, bool with_seconds)
{
	char buf[32];

	tt_telemetry_format_time(sec, with_seconds, buf, sizeof(buf));
	rte_tel_data_add_dict_string(d, name, buf);
}

/* The sources, or NULL once the appliance is stopping; a non-NULL one until console_leave(). */
static const struct tt_telemetry_conf *
console_enter(void)
{
	const struct tt_telemetry_conf *src = NULL;

	pthread_mutex_lock(&console.lock);
	while (console.paused)
		pthread_cond_wait(&console.idle, &console.lock);
	if (console.open) {
		console.in_flight++;
		src = &console.src;
	}
	pthread_mutex_unlock(&console.lock);
	return src;
}

static void
console_leave(void)
{
	pthread_mutex_lock(&console.lock);
	if (--console.in_flight == 0)
		pthread_cond_broadcast(&console.idle);
	pthread_mutex_unlock(&console.lock);
}

static int
cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tt_telemetry_conf *src;
	const struct tt_config *cfg;
	uint32_t i, retired;

	(void)cmd;
	if (params != NULL && *params != '\0')
		return reply_error(d, "/teiten/info takes no parameters");
	src = console_enter();
	if (src == NULL)
		return reply_error(d, "teiten is stopping");
	cfg = src->cfg;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", TT_VERSION);
	rte_tel_data_add_dict_string(d, "appliance", cfg->id);
	add_time(d, "started", src->started_sec, true);
	rte_tel_data_add_dict_u64(d, "uptime_s",
		(rte_get_timer_cycles() - src->started_tsc) / rte_get_timer_hz());
	rte_tel_data_add_dict_string(d, "clock", src->packet_clock ? "packet" : "wall");
	rte_tel_data_add_dict_string(d, "config", cfg->path);
	rte_tel_data_add_dict_u64(d, "config_generation", console.generation);
	rte_tel_data_add_dict_string(d, "home_country", cfg->home_country);
	rte_tel_data_add_dict_string(d, "geoip_db", cfg->geoip_db ? cfg->geoip_db : "none");
	/* A sensor a reload removed keeps its index (retired), but is not configured. */
	for (i = 0, retired = 0; i < cfg->n_sensors; i++)
		retired += cfg->sensors[i].retired;
	rte_tel_data_add_dict_u64(d, "sensors", cfg->n_sensors - retired);
	rte_tel_data_add_dict_u64(d, "sensors_retired", retired);
	rte_tel_data_add_dict_u64(d, "prefixes", cfg->n_prefixes);
	rte_tel_data_add_dict_u64(d, "workers", src->n_workers);
	rte_tel_data_add_dict_u64(d, "ports", src->n_ports);
	rte_tel_data_add_dict_u64(d, "flush_interval_ms", cfg->flush_interval_ms);
	rte_tel_data_add_dict_string(d, "redis", src->pub ? "enabled" : "disabled");
	console_leave();
	return 0;
}

/* Ports first (few), then workers from @p first while the budget lasts. */
static int
cmd_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tt_telemetry_conf *src;
	char p[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN];
	int np = tt_telemetry_split_params(params, p);
	struct tt_live_rate rates[TT_TELEMETRY_WORKERS_MAX];
	unsigned int first = 0, w, fit, shown = 0;
	uint16_t i, n_ports = 0;

	(void)cmd;
	if (np < 0 || np > 1)
		return reply_error(d, "usage: /teiten/workers[,<first worker>]");
	if (np == 1 && tt_telemetry_parse_uint(p[0], 0, RTE_MAX_LCORE, &first) != 0)
		return reply_error(d, "/teiten/workers: '%s' is not a worker index", p[0]);
	src = console_enter();
	if (src == NULL)
		return reply_error(d, "teiten is stopping");
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "workers", src->n_workers);
	for (i = 0; i < src->n_ports; i++) {
		struct rte_tel_data *pd = rte_tel_data_alloc();
		struct rte_eth_stats es;
		char name[32];

		if (pd == NULL)
			break;
		memset(&es, 0, sizeof(es));
		rte_eth_stats_get(src->ports[i].port_id, &es);
		rte_tel_data_start_dict(pd);
		rte_tel_data_add_dict_u64(pd, "ipackets", es.ipackets);
		rte_tel_data_add_dict_u64(pd, "imissed", es.imissed);
		rte_tel_data_add_dict_u64(pd, "ierrors", es.ierrors);
		rte_tel_data_add_dict_u64(pd, "rx_nombuf", es.rx_nombuf);
		snprintf(name, sizeof(name), "port/%u", src->ports[i].port_id);
		rte_tel_data_add_dict_container(d, name, pd, 0);
		n_ports++;
	}
	fit = tt_telemetry_workers_fit(n_ports, first, src->n_workers);
	/* The rates of one sample for every worker shown. */
	tt_live_worker_rates(src->live, first, fit, rates);
	for (w = first; shown < fit; w++) {
		const struct tt_worker_conf *wc = tt_worker_get_conf(src->workers[w]);
		struct rte_tel_data *wd = rte_tel_data_alloc();
		const struct tt_live_rate *r = &rates[shown];
		struct tt_worker_stats st;
		char name[32];

		if (wd == NULL)
			break;
		tt_worker_read_stats(src->workers[w], &st);
		rte_tel_data_start_dict(wd);
		rte_tel_data_add_dict_u64(wd, "lcore", wc->lcore_id);
		rte_tel_data_add_dict_u64(wd, "rx_queues", wc->n_rxq);
		rte_tel_data_add_dict_u64(wd, "rx_pkts", st.rx_pkts);
		rte_tel_data_add_dict_u64(wd, "pps", r->pps);
		rte_tel_data_add_dict_u64(wd, "busy_pct", (r->busy_permille + 5) / 10);
		rte_tel_data_add_dict_u64(wd, "busy_permille", r->busy_permille);
		rte_tel_data_add_dict_u64(wd, "cycles_per_packet", r->cycles_per_packet);
		rte_tel_data_add_dict_u64(wd, "cycles_per_packet_run",
			st.rx_pkts ? st.busy_cycles / st.rx_pkts : 0);
		rte_tel_data_add_dict_u64(wd, "dark_pkts", st.dark_pkts);
		rte_tel_data_add_dict_u64(wd, "not_dark", st.not_dark);
		rte_tel_data_add_dict_u64(wd, "parse_errors", st.malformed);
		rte_tel_data_add_dict_u64(wd, "non_ip", st.non_ip);
		rte_tel_data_add_dict_u64(wd, "hll_record_off_pkts", st.hll_record_off);
		rte_tel_data_add_dict_u64(wd, "source_deltas_dropped", st.source_deltas_dropped);
		snprintf(name, sizeof(name), "worker/%u", w);
		rte_tel_data_add_dict_container(d, name, wd, 0);
		shown++;
	}
	rte_tel_data_add_dict_u64(d, "first", first);
	rte_tel_data_add_dict_u64(d, "more", src->n_workers > first + shown ?
		src->n_workers - first - shown : 0);
	console_leave();
	return 0;
}

static int
cmd_sensors(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tt_telemetry_conf *src;
	char p[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN];
	int np = tt_telemetry_split_params(params, p);
	unsigned int limit = SENSORS_DEFAULT;
	struct rte_tel_data *a[7];
	static const char *const names[7] = { "name", "port", "pkts", "pps", "srcs_today",
		"top_service", "top_service_pkts" };
	struct tt_live_sensor *rows;
	uint32_t n, i, shown;
	unsigned int k;
	int rc;

	(void)cmd;
	if (np < 0 || np > 1 || (np == 1 &&
			tt_telemetry_parse_uint(p[0], 1, RTE_TEL_MAX_ARRAY_ENTRIES, &limit)))
		return reply_error(d, "usage: /teiten/sensors[,<n> (1..%d)]",
			RTE_TEL_MAX_ARRAY_ENTRIES);
	src = console_enter();
	if (src == NULL)
		return reply_error(d, "teiten is stopping");
	n = src->cfg->n_sensors;
	rows = calloc(tt_live_sensor_slots(src->live), sizeof(*rows));
	for (k = 0; k < RTE_DIM(a); k++)
		a[k] = rte_tel_data_alloc();
	/* The rows shown, busiest first; only they need the hour's and the day's figures. */
	shown = tt_telemetry_sensors_fit(n, limit);
	rc = rows == NULL ? -ENOMEM : tt_live_sensors(src->live, rows, shown);
	for (k = 0; k < RTE_DIM(a); k++)
		if (a[k] == NULL || rc != 0) {
			for (k = 0; k < RTE_DIM(a); k++)
				rte_tel_data_free(a[k]);
			free(rows);
			console_leave();
			return reply_error(d, "out of memory");
		}
	rte_tel_data_start_array(a[0], RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(a[5], RTE_TEL_STRING_VAL);
	for (k = 1; k < RTE_DIM(a); k++)
		if (k != 5)
			rte_tel_data_start_array(a[k], RTE_TEL_U64_VAL);
	for (i = 0; i < shown; i++) {
		const struct tt_live_sensor *r = &rows[i];
		char svc[TT_SVC_STR_MAX];

		if (r->top_pkts != 0)
			tt_classify_service_format(r->top_svc, svc, sizeof(svc));
		else
			snprintf(svc, sizeof(svc), "-");
		rte_tel_data_add_array_string(a[0], src->cfg->sensors[r->sensor].name);
		rte_tel_data_add_array_u64(a[1], src->cfg->sensors[r->sensor].port);
		rte_tel_data_add_array_u64(a[2], r->pkts);
		rte_tel_data_add_array_u64(a[3], r->pps);
		rte_tel_data_add_array_u64(a[4], r->srcs_today);
		rte_tel_data_add_array_string(a[5], svc);
		rte_tel_data_add_array_u64(a[6], r->top_pkts);
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "sensors", n);
	rte_tel_data_add_dict_u64(d, "shown", shown);
	rte_tel_data_add_dict_u64(d, "more", n - shown);
	for (k = 0; k < RTE_DIM(a); k++)
		rte_tel_data_add_dict_container(d, names[k], a[k], 0);
	free(rows);
	console_leave();
	return 0;
}

/* The views /teiten/classes and /teiten/mirai show, in the reply's order, and their names. */
static const enum tt_live_view scope_views[] = { TT_LIVE_HOUR, TT_LIVE_DAY, TT_LIVE_RUN };
static const char *const scope_view_names[] = { "hour", "today", "run" };

/* The first @p n members of a ranked list: their names and their counts. */
static void
add_members(struct rte_tel_data *names, struct rte_tel_data *counts,
		const struct tt_scope_member *m, uint32_t n, bool country)
{
	uint32_t i;

	rte_tel_data_start_array(names, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(counts, RTE_TEL_U64_VAL);
	for (i = 0; i < n; i++) {
		char name[TT_SVC_STR_MAX];

		tt_report_item_name(country, m[i].item, name, sizeof(name));
		rte_tel_data_add_array_string(names, name);
		rte_tel_data_add_array_u64(counts, m[i].count);
	}
}

/* Rank (1-based) of @p item among @p m, or 0 when absent. */
static int
rank_of(const struct tt_scope_member *m, uint32_t n, uint32_t item)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (m[i].item == item)
			return (int)i + 1;
	return 0;
}

static void
free_views(struct tt_scope *v)
{
	unsigned int i;

	for (i = 0; i < TT_LIVE_VIEWS; i++)
		tt_scope_free(&v[i]);
}

static int
cmd_top(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tt_telemetry_conf *src;
	char p[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN];
	int np = tt_telemetry_split_params(params, p);
	unsigned int limit = TOP_DEFAULT, i, shown;
	uint16_t sensor = TT_SCOPE_ALL;
	bool country;
	struct tt_scope v[TT_LIVE_VIEWS];
	const struct tt_scope *cur = &v[TT_LIVE_HOUR], *prev = &v[TT_LIVE_PREV_HOUR];
	uint32_t first[TT_LIVE_VIEWS], ncur, nprev;
	const struct tt_scope_member *mc, *mp;
	struct rte_tel_data *names, *counts, *ranks;
	int rc;

	(void)cmd;
	if (np < 1 || np > 3)
		return reply_error(d, "usage: /teiten/top,<service|country>[,<scope>[,<n>]]");
	if (tt_telemetry_parse_dimension(p[0], &country) != 0)
		return reply_error(d, "/teiten/top: unknown dimension '%s' "
			"(expected service or country)", p[0]);
	if (np == 3 && tt_telemetry_parse_uint(p[2], 1, TOP_MAX, &limit) != 0)
		return reply_error(d, "/teiten/top: n '%s' is not 1..%d", p[2], TOP_MAX);
	src = console_enter();
	if (src == NULL)
		return reply_error(d, "teiten is stopping");
	if (np >= 2 && tt_telemetry_parse_scope(src->cfg, p[1], &sensor) != 0) {
		console_leave();
		return reply_error(d, "/teiten/top: no sensor '%s' (a sensor name or all)", p[1]);
	}
	names = rte_tel_data_alloc();
	counts = rte_tel_data_alloc();
	ranks = rte_tel_data_alloc();
	rc = tt_live_scopes(src->live, sensor, TT_LIVE_VIEW_BIT(TT_LIVE_HOUR) |
		TT_LIVE_VIEW_BIT(TT_LIVE_PREV_HOUR), v, first);
	if (rc != 0 || names == NULL || counts == NULL || ranks == NULL) {
		if (rc == 0)
			free_views(v);
		rte_tel_data_free(names);
		rte_tel_data_free(counts);
		rte_tel_data_free(ranks);
		console_leave();
		return reply_error(d, "out of memory");
	}
	mc = country ? cur->country[TT_COUNTRY_COL_PKTS] : cur->port[TT_PORT_COL_PKTS];
	ncur = country ? cur->n_country[TT_COUNTRY_COL_PKTS] : cur->n_port[TT_PORT_COL_PKTS];
	mp = country ? prev->country[TT_COUNTRY_COL_PKTS] : prev->port[TT_PORT_COL_PKTS];
	nprev = country ? prev->n_country[TT_COUNTRY_COL_PKTS] : prev->n_port[TT_PORT_COL_PKTS];
	shown = RTE_MIN(limit, ncur);
	add_members(names, counts, mc, shown, country);
	rte_tel_data_start_array(ranks, RTE_TEL_INT_VAL);
	for (i = 0; i < shown; i++)
		rte_tel_data_add_array_int(ranks, rank_of(mp, nprev, mc[i].item));
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "dimension", country ? "country" : "service");
	rte_tel_data_add_dict_string(d, "scope", scope_name(src->cfg, sensor));
	add_time(d, "hour", (uint64_t)first[TT_LIVE_HOUR] * 60, false);
	rte_tel_data_add_dict_u64(d, "pkts", cur->totals[TT_T_PKTS]);
	rte_tel_data_add_dict_u64(d, "prev_pkts", prev->totals[TT_T_PKTS]);
	rte_tel_data_add_dict_u64(d, "distinct", ncur);
	rte_tel_data_add_dict_u64(d, "more", ncur - shown);
	rte_tel_data_add_dict_container(d, "top", names, 0);
	rte_tel_data_add_dict_container(d, "top_pkts", counts, 0);
	/* 1-based rank in the previous hour, 0 when it was not seen then. */
	rte_tel_data_add_dict_container(d, "prev_rank", ranks, 0);
	free_views(v);
	console_leave();
	return 0;
}

/* Class figures of one scope view, as an inner dict. */
static void
add_classes(struct rte_tel_data *cd, const struct tt_scope *v)
{
	const uint64_t *t = v->totals;
	uint64_t classified = 0;
	unsigned int c;

	rte_tel_data_start_dict(cd);
	rte_tel_data_add_dict_u64(cd, "pkts", t[TT_T_PKTS]);
	rte_tel_data_add_dict_u64(cd, "home", t[TT_T_HOME]);
	rte_tel_data_add_dict_u64(cd, "abroad", t[TT_T_ABROAD]);
	for (c = TT_CLASS_BACKSCATTER; c < TT_CLASS_COUNT; c++) {
		uint64_t n = t[TT_T_BACKSCATTER + c - TT_CLASS_BACKSCATTER];

		rte_tel_data_add_dict_u64(cd, tt_schema_class_name(c), n);
		classified += n;
	}
	rte_tel_data_add_dict_u64(cd, "unclassified", t[TT_T_PKTS] - classified);
	rte_tel_data_add_dict_u64(cd, "mirai_home", t[TT_T_HOME_MIRAI]);
	rte_tel_data_add_dict_u64(cd, "mirai_abroad", t[TT_T_MIRAI] - t[TT_T_HOME_MIRAI]);
	rte_tel_data_add_dict_u64(cd, "malformed", t[TT_T_MALFORMED]);
	rte_tel_data_add_dict_u64(cd, "v6", t[TT_T_V6]);
}

/* Mirai-type figures of one scope view, as an inner dict. */
static void
add_mirai(struct rte_tel_data *md, const struct tt_scope *v, bool with_srcs)
{
	const uint64_t *t = v->totals;

	rte_tel_data_start_dict(md);
	rte_tel_data_add_dict_u64(md, "pkts", t[TT_T_MIRAI]);
	rte_tel_data_add_dict_u64(md, "pkts_home", t[TT_T_HOME_MIRAI]);
	rte_tel_data_add_dict_u64(md, "pkts_abroad", t[TT_T_MIRAI] - t[TT_T_HOME_MIRAI]);
	if (with_srcs) {
		rte_tel_data_add_dict_u64(md, "srcs", v->srcs[TT_HLL_MIRAI]);
		rte_tel_data_add_dict_u64(md, "srcs_home", v->srcs[TT_HLL_HOME_MIRAI]);
	}
}

/*
 * /teiten/classes and /teiten/mirai: one inner dict per view (hour, today,
 * run) of one scope; mirai adds the hour's top Mirai-type services and the
 * workers' confirmed sources.
 */
static int
cmd_scope_views(const char *params, struct rte_tel_data *d, bool mirai)
{
	const struct tt_telemetry_conf *src;
	char p[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN];
	int np = tt_telemetry_split_params(params, p);
	uint16_t sensor = TT_SCOPE_ALL;
	struct tt_scope views[TT_LIVE_VIEWS];
	uint32_t first[TT_LIVE_VIEWS];
	struct rte_tel_data *inner[RTE_DIM(scope_views)], *names = NULL, *counts = NULL;
	unsigned int v, want = 0;
	int rc;

	if (np < 0 || np > 1)
		return reply_error(d, "usage: /teiten/%s[,<scope>]", mirai ? "mirai" : "classes");
	src = console_enter();
	if (src == NULL)
		return reply_error(d, "teiten is stopping");
	if (np == 1 && tt_telemetry_parse_scope(src->cfg, p[0], &sensor) != 0) {
		console_leave();
		return reply_error(d, "no sensor '%s' (a sensor name or all)", p[0]);
	}
	for (v = 0; v < RTE_DIM(scope_views); v++)
		want |= TT_LIVE_VIEW_BIT(scope_views[v]);
	rc = tt_live_scopes(src->live, sensor, want, views, first);
	for (v = 0; v < RTE_DIM(scope_views); v++)
		inner[v] = rte_tel_data_alloc();
	if (mirai) {
		names = rte_tel_data_alloc();
		counts = rte_tel_data_alloc();
	}
	if (rc != 0 || inner[0] == NULL || inner[1] == NULL || inner[2] == NULL ||
			(mirai && (names == NULL || counts == NULL))) {
		for (v = 0; v < RTE_DIM(scope_views); v++)
			rte_tel_data_free(inner[v]);
		rte_tel_data_free(names);
		rte_tel_data_free(counts);
		if (rc == 0)
			free_views(views);
		console_leave();
		return reply_error(d, "out of memory");
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "scope", scope_name(src->cfg, sensor));
	add_time(d, "hour_start", (uint64_t)first[TT_LIVE_HOUR] * 60, false);
	add_time(d, "day_start", (uint64_t)first[TT_LIVE_DAY] * 60, false);
	for (v = 0; v < RTE_DIM(scope_views); v++) {
		const struct tt_scope *view = &views[scope_views[v]];

		if (mirai)
			add_mirai(inner[v], view, scope_views[v] != TT_LIVE_RUN);
		else
			add_classes(inner[v], view);
		rte_tel_data_add_dict_container(d, scope_view_names[v], inner[v], 0);
	}
	if (mirai) {
		const struct tt_scope *h = &views[TT_LIVE_HOUR];
		uint32_t n = RTE_MIN((uint32_t)TOP_DEFAULT, h->n_port[tt_schema_class_col(TT_CLASS_MIRAI)]);
		uint64_t confirmed = 0, tracked = 0;
		unsigned int w;

		add_members(names, counts, h->port[tt_schema_class_col(TT_CLASS_MIRAI)], n, false);
		rte_tel_data_add_dict_container(d, "top_ports", names, 0);
		rte_tel_data_add_dict_container(d, "top_ports_pkts", counts, 0);
		rte_tel_data_add_dict_u64(d, "top_ports_more",
			h->n_port[tt_schema_class_col(TT_CLASS_MIRAI)] - n);
		/* Confirmation is per worker and appliance-wide, not per sensor. */
		for (w = 0; w < src->n_workers; w++) {
			struct tt_sources_table_stats ss;

			tt_worker_source_stats(src->workers[w], &ss);
			confirmed += ss.confirmed;
			tracked += ss.sources;
		}
		rte_tel_data_add_dict_u64(d, "confirmed_sources", confirmed);
		rte_tel_data_add_dict_u64(d, "tracked_sources", tracked);
	}
	free_views(views);
	console_leave();
	return 0;
}

static int
cmd_classes(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return cmd_scope_views(params, d, false);
}

static int
cmd_mirai(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return cmd_scope_views(params, d, true);
}

void
tt_telemetry_alert(const struct tt_alert *al)
{
	pthread_mutex_lock(&console.lock);
	tt_telemetry_alerts_push(&console.alerts, al);
	pthread_mutex_unlock(&console.lock);
}

/*
 * The latest alerts, newest first, as parallel arrays of the stream's fields
 * (DESIGN.md section 7). A message longer than a telemetry string is cut
 * with "..." at its end; alerts past the reply's budget are counted in "more".
 * Answers after tt_telemetry_close() as well: the ring is the console's own.
 */
static int
cmd_alerts(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tt_alert *picked[TT_TELEMETRY_ALERTS_KEPT];
	struct rte_tel_data *col[TT_ALERTS_FIELDS];
	struct tt_alerts_fields f;
	unsigned int n, k;
	uint32_t i, shown, more;
	uint64_t seen;

	(void)cmd;
	if (tt_telemetry_parse_alerts_n(params, &n) != 0)
		return reply_error(d, "/teiten/alerts[,<n>]: n from 1 to %d",
			TT_TELEMETRY_ALERTS_KEPT);
	for (k = 0; k < TT_ALERTS_FIELDS; k++) {
		col[k] = rte_tel_data_alloc();
		if (col[k] == NULL) {
			while (k-- > 0)
				rte_tel_data_free(col[k]);
			return -ENOMEM;
		}
		rte_tel_data_start_array(col[k], RTE_TEL_STRING_VAL);
	}
	rte_tel_data_start_dict(d);
	/* Held while the picked alerts are copied into the reply: they point into the ring. */
	pthread_mutex_lock(&console.lock);
	seen = console.alerts.seen;
	shown = tt_telemetry_alerts_pick(&console.alerts, n, picked, &more);
	for (i = 0; i < shown; i++) {
		tt_alerts_fields(picked[i], &f);
		for (k = 0; k < TT_ALERTS_FIELDS; k++) {
			char v[RTE_TEL_MAX_STRING_LEN];

			tt_telemetry_clip(f.value[k], v, sizeof(v));
			rte_tel_data_add_array_string(col[k], v);
		}
	}
	pthread_mutex_unlock(&console.lock);
	rte_tel_data_add_dict_u64(d, "raised", seen);
	rte_tel_data_add_dict_u64(d, "shown", shown);
	rte_tel_data_add_dict_u64(d, "more", more);
	tt_alerts_fields(&(struct tt_alert){ 0 }, &f);
	for (k = 0; k < TT_ALERTS_FIELDS; k++)
		rte_tel_data_add_dict_container(d, f.name[k], col[k], 0);
	return 0;
}

static int
cmd_redis(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tt_telemetry_conf *src;
	struct tt_publisher_stats ps;
	const struct tt_config *cfg;

	(void)cmd;
	if (params != NULL && *params != '\0')
		return reply_error(d, "/teiten/redis takes no parameters");
	src = console_enter();
	if (src == NULL)
		return reply_error(d, "teiten is stopping");
	cfg = src->cfg;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "enabled", src->pub ? "yes" : "no");
	if (src->pub == NULL) {
		console_leave();
		return 0;
	}
	tt_publisher_get_stats(src->pub, &ps);
	if (cfg->redis_cluster != NULL) {
		rte_tel_data_add_dict_string(d, "cluster", cfg->redis_cluster);
		rte_tel_data_add_dict_u64(d, "masters", ps.masters);
		rte_tel_data_add_dict_u64(d, "redirects", ps.redirects);
	} else if (cfg->redis_unix != NULL) {
		rte_tel_data_add_dict_string(d, "unix", cfg->redis_unix);
	} else {
		rte_tel_data_add_dict_string(d, "host", cfg->redis_host);
		rte_tel_data_add_dict_u64(d, "port", cfg->redis_port);
	}
	rte_tel_data_add_dict_string(d, "prefix", cfg->redis_prefix);
	rte_tel_data_add_dict_string(d, "connected", ps.connected ? "yes" : "no");
	rte_tel_data_add_dict_u64(d, "flush_seq", ps.flush_seq);
	rte_tel_data_add_dict_u64(d, "flushes", ps.flushes);
	add_time(d, "last_flush", ps.last_flush_ms / 1000, true);
	rte_tel_data_add_dict_u64(d, "last_flush_us", ps.last_flush_us);
	rte_tel_data_add_dict_u64(d, "max_flush_us", ps.max_flush_us);
	rte_tel_data_add_dict_u64(d, "backlog_cells", ps.backlog_cells);
	rte_tel_data_add_dict_u64(d, "backlog_bytes", ps.backlog_bytes);
	rte_tel_data_add_dict_u64(d, "backlog_max_bytes", (uint64_t)cfg->backlog_max_mb << 20);
	rte_tel_data_add_dict_u64(d, "errors", ps.errors);
	rte_tel_data_add_dict_u64(d, "reconnects", ps.reconnects);
	rte_tel_data_add_dict_u64(d, "shed_minute_cells", ps.shed_minute_cells);
	rte_tel_data_add_dict_u64(d, "shed_minute_bytes", ps.shed_minute_bytes);
	rte_tel_data_add_dict_u64(d, "shed_minute_packets", ps.shed_minute_packets);
	rte_tel_data_add_dict_u64(d, "shed_hour_cells", ps.shed_hour_cells);
	rte_tel_data_add_dict_u64(d, "shed_hour_packets", ps.shed_hour_packets);
	rte_tel_data_add_dict_u64(d, "shed_source_keys", ps.shed_source_keys);
	rte_tel_data_add_dict_string(d, "state", ps.failed ? "failed" : !ps.connected ?
		"disconnected" : ps.retrying ? "retrying" : ps.behind ? "behind" : "ok");
	rte_tel_data_add_dict_u64(d, "refusals", ps.refusals);
	rte_tel_data_add_dict_u64(d, "data_lost", ps.data_lost);
	rte_tel_data_add_dict_u64(d, "tags_resent_skipped", ps.tags_resent_skipped);
	rte_tel_data_add_dict_u64(d, "commands", ps.commands);
	console_leave();
	return 0;
}

int
tt_telemetry_open(const struct tt_telemetry_conf *conf)
{
	static const struct {
		const char *name;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/teiten/info", cmd_info, "Version, appliance id, uptime, clock, config. "
			"No parameters." },
		{ "/teiten/workers", cmd_workers, "Per port rx and misses, per worker packets, "
			"rate, busy share, cycles per packet. Parameter: first worker index." },
		{ "/teiten/sensors", cmd_sensors, "Busiest sensors: packets, rate, unique sources "
			"today, the hour's top service. Parameter: how many." },
		{ "/teiten/top", cmd_top, "The current hour's top services or countries with "
			"their previous-hour rank. Parameters: service|country[,<scope>[,<n>]]." },
		{ "/teiten/classes", cmd_classes, "Packets per fingerprint class, home and abroad, "
			"for the hour, today and the run. Parameter: scope." },
		{ "/teiten/mirai", cmd_mirai, "Mirai-type packets and sources, home and abroad, "
			"confirmed sources, the hour's top ports. Parameter: scope." },
		{ "/teiten/redis", cmd_redis, "Publisher: connection, flushes, backlog, errors, "
			"shed data. No parameters." },
		{ "/teiten/alerts", cmd_alerts, "The latest alerts, newest first: the stream's "
			"fields. Parameter: how many (10, at most 128)." },
	};
	unsigned int i;
	int rc;

	/* No callback is in while closed: src may change under the lock. */
	pthread_mutex_lock(&console.lock);
	console.src = *conf;
	console.generation = 1;
	console.open = true;
	pthread_mutex_unlock(&console.lock);
	for (i = 0; i < RTE_DIM(cmds); i++) {
		rc = rte_telemetry_register_cmd(cmds[i].name, cmds[i].fn, cmds[i].help);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
tt_telemetry_set_config(const struct tt_config *cfg, uint32_t generation)
{
	pthread_mutex_lock(&console.lock);
	console.paused = true;
	while (console.in_flight != 0)
		pthread_cond_wait(&console.idle, &console.lock);
	console.src.cfg = cfg;
	console.generation = generation;
	console.paused = false;
	pthread_cond_broadcast(&console.idle);
	pthread_mutex_unlock(&console.lock);
}

void
tt_telemetry_close(void)
{
	pthread_mutex_lock(&console.lock);
	console.open = false;
	while (console.in_flight != 0)
		pthread_cond_wait(&console.idle, &console.lock);
	pthread_mutex_unlock(&console.lock);
}
