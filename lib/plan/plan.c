/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flush plan (DESIGN.md section 5). Publisher thread only; pure.
 *
 * Every write is an increment (HINCRBY, ZINCRBY) or a HyperLogLog union
 * (SET of a temporary dense HLL, PFMERGE into the key, DEL), so appliances
 * writing into one Redis add up. Cells are sorted by (tag, bucket, item) so
 * each tag is one MULTI/EXEC and each bucket's keys get one EXPIRE ... NX.
 */
#define _GNU_SOURCE
#include "tt_plan.h"

#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_sources.h"

enum bucket_kind { B_MINUTE, B_HOUR, B_DAY, B_KINDS };

/*
 * The rows of one table of one bucket kind, in the order the tags are
 * written: sensors by index, then all (TT_SCOPE_ALL sorts last); within a
 * tag by bucket, then item.
 */
struct sorted {
	struct tt_counters_rows rows;
	uint32_t pos;
};

struct plan {
	const struct tt_plan_conf *c;
	const struct tt_plan_sink *sink;
	uint32_t tag;
	const char *tag_name;
	bool tmp_used;
	char tmp_key[256];
	uint8_t hll_buf[TT_HLL_REDIS_DENSE_SIZE];
	uint8_t registers[TT_HLL_REGISTERS];
};

static uint32_t
tag_of(const struct tt_plan_conf *c, uint16_t sensor)
{
	return sensor == TT_SCOPE_ALL ? c->n_sensors : sensor;
}

static const struct tt_counters_row *
cur_row(const struct sorted *s)
{
	return &s->rows.row[s->pos];
}

static bool
at_tag(const struct plan *p, const struct sorted *s)
{
	return s->pos < s->rows.n && tag_of(p->c, cur_row(s)->sensor) == p->tag;
}

enum { MAX_ARGS = 48 };     /* an alert's XADD: 6 + 2 fields a value */

static int
emit(struct plan *p, int argc, const char **argv, const size_t *lens)
{
	size_t l[MAX_ARGS];
	int i;

	if (argc > MAX_ARGS)
		return -E2BIG;
	if (lens == NULL) {
		for (i = 0; i < argc; i++)
			l[i] = strlen(argv[i]);
		lens = l;
	}
	return p->sink->command(p->sink->ctx, argc, argv, lens);
}

static void
bucket_name(enum bucket_kind k, uint32_t minute, char *buf, size_t len)
{
	static const char *const fmt[B_KINDS] = { "m:%Y%m%d%H%M", "h:%Y%m%d%H", "d:%Y%m%d" };
	time_t t = (time_t)minute * 60;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, fmt[k], &tm);
}

static void
make_key(const struct plan *p, enum bucket_kind k, uint32_t minute, const char *metric,
		char *buf, size_t len)
{
	char bucket[32];

	bucket_name(k, minute, bucket, sizeof(bucket));
	snprintf(buf, len, "%s:{%s}:%s:%s", p->c->prefix, p->tag_name, bucket, metric);
}

static uint32_t
ttl_of(const struct plan *p, enum bucket_kind k)
{
	return k == B_MINUTE ? p->c->ttl_minute : k == B_HOUR ? p->c->ttl_hour : p->c->ttl_day;
}

static int
expire_nx(struct plan *p, const char *key, enum bucket_kind k)
{
	char ttl[16];
	const char *argv[4] = { "EXPIRE", key, ttl, "NX" };

	snprintf(ttl, sizeof(ttl), "%u", ttl_of(p, k));
	return emit(p, 4, argv, NULL);
}

static int
zincrby(struct plan *p, enum bucket_kind k, uint32_t minute, enum tt_metric m,
		uint64_t by, const char *member)
{
	char key[256], n[24];
	const char *argv[4] = { "ZINCRBY", key, n, member };

	if (by == 0)
		return 0;
	make_key(p, k, minute, tt_schema_metric_name(m), key, sizeof(key));
	snprintf(n, sizeof(n), "%" PRIu64, by);
	return emit(p, 4, argv, NULL);
}

/*
 * Once per bucket run: the totals hash and an EXPIRE NX for each key
 * written, @p used holding a bit per enum tt_metric.
 */
static int
close_run(struct plan *p, enum bucket_kind k, uint32_t minute, const uint64_t *totals,
		uint32_t used)
{
	char key[256], n[24];
	bool totals_written = false;
	unsigned int t, m;
	int rc = 0;

	if (totals != NULL) {
		make_key(p, k, minute, "totals", key, sizeof(key));
		for (t = 0; rc == 0 && t < TT_T_COUNT; t++) {
			const char *argv[4] = { "HINCRBY", key, tt_schema_total_name(t), n };

			if (totals[t] == 0)
				continue;
			snprintf(n, sizeof(n), "%" PRIu64, totals[t]);
			rc = emit(p, 4, argv, NULL);
			totals_written = true;
		}
		if (rc == 0 && totals_written)
			rc = expire_nx(p, key, k);
	}
	for (m = 0; rc == 0 && m < TT_M_COUNT; m++) {
		if (!(used & (1u << m)))
			continue;
		make_key(p, k, minute, tt_schema_metric_name(m), key, sizeof(key));
		rc = expire_nx(p, key, k);
	}
	return rc;
}

/*
 * The metrics of table @p t in one row: ZINCRBY each non-zero column the
 * bucket kind carries. Sets a bit per metric in *used for close_run().
 */
static int
row_metrics(struct plan *p, enum bucket_kind k, enum tt_schema_table t,
		const struct tt_counters_row *r, const char *member, uint32_t *used)
{
	unsigned int m;
	int rc = 0;

	for (m = 0; rc == 0 && m < TT_M_COUNT; m++) {
		uint64_t n;

		if (tt_schema_metric_table(m) != t ||
				(k == B_MINUTE && !tt_schema_metric_in_minutes(m)))
			continue;
		n = r->counts[tt_schema_metric_col(m)];
		rc = zincrby(p, k, r->minute, m, n, member);
		if (n != 0 || tt_schema_metric_in_minutes(m))
			*used |= 1u << m;
	}
	return rc;
}

static int
port_runs(struct plan *p, enum bucket_kind k, struct sorted *s)
{
	char member[TT_SVC_STR_MAX];
	int rc = 0;

	while (rc == 0 && at_tag(p, s)) {
		uint32_t minute = cur_row(s)->minute, used = 0;
		uint64_t totals[TT_T_COUNT] = { 0 };

		while (rc == 0 && at_tag(p, s) && cur_row(s)->minute == minute) {
			const struct tt_counters_row *r = cur_row(s);

			tt_counters_totals_add(totals, r->item, r->counts);
			tt_classify_service_format(r->item, member, sizeof(member));
			rc = row_metrics(p, k, TT_SCHEMA_PORT, r, member, &used);
			s->pos++;
		}
		if (rc == 0)
			rc = close_run(p, k, minute, totals, used);
	}
	return rc;
}

static int
country_runs(struct plan *p, enum bucket_kind k, struct sorted *s)
{
	char member[16];
	int rc = 0;

	while (rc == 0 && at_tag(p, s)) {
		uint32_t minute = cur_row(s)->minute, used = 0;

		while (rc == 0 && at_tag(p, s) && cur_row(s)->minute == minute) {
			const struct tt_counters_row *r = cur_row(s);

			if (r->item < TT_COUNTRY_COUNT)
				tt_classify_country_code((uint16_t)r->item, member);
			else
				snprintf(member, sizeof(member), "overflow");
			rc = row_metrics(p, k, TT_SCHEMA_COUNTRY, r, member, &used);
			s->pos++;
		}
		if (rc == 0)
			rc = close_run(p, k, minute, NULL, used);
	}
	return rc;
}

/* One HLL into its key: SET the temporary key, PFMERGE, EXPIRE NX. */
static int
pfmerge(struct plan *p, enum bucket_kind k, uint32_t minute, const char *metric,
		const struct tt_hll *h)
{
	char key[256];
	const char *set[3] = { "SET", p->tmp_key, (const char *)p->hll_buf };
	size_t set_lens[3] = { 3, strlen(p->tmp_key), 0 };
	const char *merge[3] = { "PFMERGE", key, p->tmp_key };
	int rc;

	if (tt_hll_empty(h))
		return 0;
	make_key(p, k, minute, metric, key, sizeof(key));
	tt_hll_registers(h, p->registers);
	set_lens[2] = tt_hll_encode_redis_compact(p->registers, p->hll_buf);
	rc = emit(p, 3, set, set_lens);
	if (rc == 0)
		rc = emit(p, 3, merge, NULL);
	if (rc == 0)
		rc = expire_nx(p, key, k);
	p->tmp_used = true;
	return rc;
}

static int
hll_runs(struct plan *p, enum bucket_kind k, struct sorted *s)
{
	char metric[48], svc[TT_SVC_STR_MAX];
	int rc = 0;

	while (rc == 0 && at_tag(p, s)) {
		const struct tt_counters_row *r = cur_row(s);
		unsigned int v;

		/* Minute buckets carry the plain srcs key only. */
		for (v = 0; rc == 0 && v < TT_HLL_VARIANTS; v++) {
			if (k == B_MINUTE && (v != TT_HLL_ALL || r->item != 0))
				continue;
			if (r->item == 0) {
				snprintf(metric, sizeof(metric), "srcs%s", tt_schema_variant_suffix(v));
			} else {
				tt_classify_service_format(r->item, svc, sizeof(svc));
				snprintf(metric, sizeof(metric), "srcs:%s%s", svc,
					tt_schema_variant_suffix(v));
			}
			rc = pfmerge(p, k, r->minute, metric, &r->srcs[v]);
		}
		s->pos++;
	}
	return rc;
}

static const char *
tag_name(const struct tt_plan_conf *c, uint32_t tag)
{
	return tag < c->n_sensors ? c->sensor_names[tag] : tag == c->n_sensors ? "all" : "src";
}

int
tt_plan_flushed_key(const struct tt_plan_conf *c, uint32_t tag, char *buf, size_t len)
{
	/* The stream's key has no tag: "{<p>:alerts}" hashes to its slot. */
	if (tag == TT_PLAN_TAG_ALERTS(c))
		return snprintf(buf, len, "{%s:alerts}:flushed", c->prefix);
	return snprintf(buf, len, "%s:{%s}:flushed", c->prefix, tag_name(c, tag));
}

/* A tag's transaction starts. */
static int
open_tag(struct plan *p, uint32_t tag)
{
	const char *multi[1] = { "MULTI" };
	int rc = p->sink->begin_tag(p->sink->ctx, tag);

	return rc == 0 ? emit(p, 1, multi, NULL) : rc;
}

/*
 * A tag's transaction ends by recording the flush: HSET <flushed> <id> <seq>,
 * kept as long as the longest buckets (a stale entry is harmless), EXEC.
 */
static int
close_tag(struct plan *p, uint32_t tag, const char *seq_s)
{
	const struct tt_plan_conf *c = p->c;
	char flushed[256], ttl_s[16];
	const char *hset[4] = { "HSET", flushed, c->appliance_id, seq_s };
	const char *expire[3] = { "EXPIRE", flushed, ttl_s };
	const char *exec[1] = { "EXEC" };
	int rc;

	tt_plan_flushed_key(c, tag, flushed, sizeof(flushed));
	snprintf(ttl_s, sizeof(ttl_s), "%u", c->ttl_day);
	rc = emit(p, 4, hset, NULL);
	if (rc == 0)
		rc = emit(p, 3, expire, NULL);
	if (rc == 0)
		rc = emit(p, 1, exec, NULL);
	return rc == 0 ? p->sink->end_tag(p->sink->ctx, tag) : rc;
}

/* The alerts of a flush: XADD and PUBLISH each, in one transaction. */
static int
alerts_flush(struct plan *p, const struct tt_plan_alerts *alerts, const char *seq_s)
{
	const struct tt_plan_conf *c = p->c;
	char key[256];
	uint32_t i, f;
	int rc;

	snprintf(key, sizeof(key), "%s:alerts", c->prefix);
	rc = open_tag(p, TT_PLAN_TAG_ALERTS(c));
	for (i = 0; rc == 0 && i < alerts->n; i++) {
		const struct tt_plan_alert *a = &alerts->e[i];
		const char *argv[MAX_ARGS] = { "XADD", key, "MAXLEN", "~", "100000", "*" };
		const char *pub[3] = { "PUBLISH", key, a->json };
		int n = 6;

		if (6 + 2 * a->n_fields > MAX_ARGS)
			return -E2BIG;
		for (f = 0; f < 2 * a->n_fields; f++)
			argv[n++] = a->fields[f];
		rc = emit(p, n, argv, NULL);
		if (rc == 0)
			rc = emit(p, 3, pub, NULL);
	}
	return rc == 0 ? close_tag(p, TT_PLAN_TAG_ALERTS(c), seq_s) : rc;
}

/* --- the {src} tag: who is scanning --- */

/*
 * A source's host record, merged inside the transaction: packets add up,
 * first_seen is a minimum, last_seen a maximum (with the country seen
 * then), classes, ports, sensors and attacked services are capped unions,
 * confirmed never goes back to 0. So several appliances' updates combine.
 * KEYS[1] host key; ARGV: pkts first last classes country asn ports sensors
 * confirmed attacked ttl.
 */
static const char host_script[] =
	"local k = KEYS[1] "
	"redis.call('HINCRBY', k, 'pkts', ARGV[1]) "
	"local f = tonumber(redis.call('HGET', k, 'first_seen')) "
	"if not f or tonumber(ARGV[2]) < f then redis.call('HSET', k, 'first_seen', ARGV[2]) end "
	"local l = tonumber(redis.call('HGET', k, 'last_seen')) "
	"if not l or tonumber(ARGV[3]) >= l then "
	"  redis.call('HSET', k, 'last_seen', ARGV[3], 'country', ARGV[5]) end "
	/*
	 * The `cap` smallest of the union, sorted, so the result does not
	 * depend on the order updates arrive in. Services sort as the workers
	 * keep them: by kind (tcp/ udp/ tcp udp icmp icmp6 ip/ overflow), then
	 * number; attacked ports by number; names as strings.
	 */
	"local kinds = { ['tcp/'] = 1, ['udp/'] = 2, tcp = 3, udp = 4, icmp = 5, icmp6 = 6, "
	"  ['ip/'] = 7, overflow = 8 } "
	"local function svc(s) "
	"  local k, n = string.match(s, '^(%a+/)(%d+)$') "
	"  if k then return (kinds[k] or 9) * 65536 + tonumber(n) end "
	"  return (kinds[s] or 9) * 65536 "
	"end "
	"local function union(field, add, cap, key) "
	"  if add == '' then return end "
	"  local seen, all, out = {}, {}, {} "
	"  for item in string.gmatch((redis.call('HGET', k, field) or '') .. ',' .. add, '[^,]+') do "
	"    if not seen[item] then seen[item] = true; all[#all + 1] = item end "
	"  end "
	"  if key then table.sort(all, function(a, b) return key(a) < key(b) end) "
	"  else table.sort(all) end "
	"  for i = 1, math.min(cap, #all) do out[i] = all[i] end "
	"  redis.call('HSET', k, field, table.concat(out, ',')) "
	"end "
	"union('class', ARGV[4], 8) "
	"if ARGV[6] ~= '' then redis.call('HSET', k, 'asn', ARGV[6]) end "
	"union('ports', ARGV[7], 32, svc) "
	"union('sensors', ARGV[8], 64) "
	"union('attacked', ARGV[10], 8, tonumber) "
	"if ARGV[9] == '1' then redis.call('HSET', k, 'confirmed', '1') "
	"else redis.call('HSETNX', k, 'confirmed', '0') end "
	"redis.call('EXPIRE', k, ARGV[11]) "
	"return 1";

static void
rolling_key(const struct tt_plan_conf *c, enum tt_rolling r, char *buf, size_t len)
{
	enum tt_class klass;
	const char *name = "?";

	tt_schema_rolling(r, &name, &klass);
	snprintf(buf, len, "%s:{src}:%s", c->prefix, name);
}

static void
csv_append(char *buf, size_t len, const char *item)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? "," : "", item);
}

static int
src_host(struct plan *p, const struct tt_sources_delta *d, const char *ip, const char *last)
{
	const struct tt_plan_conf *c = p->c;
	char key[128], pkts[16], first[16], classes[128] = "", cc[3], asn[16] = "";
	char ports[32 * TT_SVC_STR_MAX] = "", sensors[TT_SOURCES_SENSORS * 40] = "";
	char attacked[TT_SOURCES_ATTACKED * 8] = "", ttl[16], item[TT_SVC_STR_MAX];
	const char *argv[15];
	unsigned int k;

	snprintf(key, sizeof(key), "%s:{src}:host:%s", c->prefix, ip);
	snprintf(pkts, sizeof(pkts), "%u", d->pkts);
	snprintf(first, sizeof(first), "%u", d->first_seen);
	for (k = 0; k < TT_CLASS_COUNT; k++)
		if (d->class_mask & (1u << k))
			csv_append(classes, sizeof(classes), tt_schema_class_name(k));
	tt_classify_country_code(d->country, cc);
	if (c->asn_of != NULL) {
		uint32_t n = c->asn_of(c->asn_ctx, d->addr, d->family);

		if (n != 0)
			snprintf(asn, sizeof(asn), "%u", n);
	}
	for (k = 0; k < d->n_ports; k++) {
		tt_classify_service_format(d->ports[k], item, sizeof(item));
		csv_append(ports, sizeof(ports), item);
	}
	for (k = 0; k < d->n_sensors; k++)
		if (d->sensors[k] < c->n_sensors)
			csv_append(sensors, sizeof(sensors), c->sensor_names[d->sensors[k]]);
	for (k = 0; k < d->n_attacked; k++) {
		snprintf(item, sizeof(item), "%u", d->attacked[k]);
		csv_append(attacked, sizeof(attacked), item);
	}
	snprintf(ttl, sizeof(ttl), "%u", c->horizon);
	argv[0] = "EVAL";
	argv[1] = host_script;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = pkts;
	argv[5] = first;
	argv[6] = last;
	argv[7] = classes;
	argv[8] = cc;
	argv[9] = asn;
	argv[10] = ports;
	argv[11] = sensors;
	argv[12] = (d->flags & TT_SOURCES_CONFIRMED) ? "1" : "0";
	argv[13] = attacked;
	argv[14] = ttl;
	return emit(p, 15, argv, NULL);
}

static int
src_daily(struct plan *p, uint32_t day, const char *what, uint32_t by, const char *ip)
{
	char key[128], bucket[32], n[16];
	const char *argv[4] = { "ZINCRBY", key, n, ip };
	int rc;

	bucket_name(B_DAY, day * 1440, bucket, sizeof(bucket));
	snprintf(key, sizeof(key), "%s:{src}:%s:%s", p->c->prefix, bucket, what);
	snprintf(n, sizeof(n), "%u", by);
	rc = emit(p, 4, argv, NULL);
	return rc == 0 ? expire_nx(p, key, B_DAY) : rc;
}

static int
src_flush(struct plan *p, const struct tt_sources_deltas *deltas)
{
	const struct tt_plan_conf *c = p->c;
	uint32_t i, newest = 0, used = 0;
	char key[128], cutoff[24], horizon[16];
	unsigned int k;
	int rc = 0;

	for (i = 0; rc == 0 && i < tt_sources_deltas_count(deltas); i++) {
		const struct tt_sources_delta *d = tt_sources_deltas_get(deltas, i);
		char ip[INET6_ADDRSTRLEN], last[16];

		/* Every delta is a fingerprinted packet's: each gets its record. */
		inet_ntop(d->family == 4 ? AF_INET : AF_INET6, d->addr, ip, sizeof(ip));
		snprintf(last, sizeof(last), "%u", d->last_seen);
		if (d->last_seen > newest)
			newest = d->last_seen;
		if (d->mirai_pkts != 0) {
			char when[16];
			const char *za[5] = { "ZADD", key, "GT", when, ip };

			snprintf(when, sizeof(when), "%u", d->class_last[TT_CLASS_MIRAI]);
			rolling_key(c, TT_ROLLING_MIRAI, key, sizeof(key));
			rc = emit(p, 5, za, NULL);
			used |= 1u << TT_ROLLING_MIRAI;
			if (rc == 0 && (d->flags & TT_SOURCES_HOME)) {
				rolling_key(c, TT_ROLLING_MIRAI_HOME, key, sizeof(key));
				rc = emit(p, 5, za, NULL);
				used |= 1u << TT_ROLLING_MIRAI_HOME;
			}
			if (rc == 0)
				rc = src_daily(p, d->day, "mirai", d->mirai_pkts, ip);
		}
		for (k = 0; rc == 0 && k < TT_CLASS_COUNT; k++) {
			char when[16];
			const char *za[5] = { "ZADD", key, "GT", when, ip };

			if (!tt_schema_class_rolling(k) || !(d->class_mask & (1u << k)))
				continue;
			snprintf(when, sizeof(when), "%u", d->class_last[k]);
			rolling_key(c, TT_ROLLING_CLASS(k), key, sizeof(key));
			rc = emit(p, 5, za, NULL);
			used |= 1u << TT_ROLLING_CLASS(k);
		}
		if (rc == 0 && d->victim_pkts != 0)
			rc = src_daily(p, d->day, "victims", d->victim_pkts, ip);
		if (rc == 0)
			rc = src_host(p, d, ip, last);
	}
	/* Rolling sets keep the horizon: trimmed, and kept alive while fed. */
	if (c->wall_clock)
		newest = (uint32_t)time(NULL);
	snprintf(cutoff, sizeof(cutoff), "(%" PRId64, (int64_t)newest - c->horizon);
	snprintf(horizon, sizeof(horizon), "%u", c->horizon);
	for (k = 0; rc == 0 && k < TT_ROLLING_MAX; k++) {
		const char *trim[4] = { "ZREMRANGEBYSCORE", key, "-inf", cutoff };
		const char *expire[3] = { "EXPIRE", key, horizon };

		if (!(used & (1u << k)))
			continue;
		rolling_key(c, k, key, sizeof(key));
		rc = emit(p, 4, trim, NULL);
		if (rc == 0)
			rc = emit(p, 3, expire, NULL);
	}
	return rc;
}

static void
skip_tag(struct plan *p, struct sorted *s)
{
	while (at_tag(p, s))
		s->pos++;
}

int
tt_plan_flush(const struct tt_plan_conf *c, const struct tt_merged *minutes,
		const struct tt_merged *hours, const struct tt_sources_deltas *sources,
		const struct tt_plan_alerts *alerts, uint64_t seq, const uint8_t *done,
		const struct tt_plan_sink *sink)
{
	struct tt_merged *days;
	struct sorted s[B_KINDS][TT_COUNTERS_TABLES];
	struct plan *p;
	char seq_s[24];
	unsigned int k, j;
	int rc = -ENOMEM;

	memset(s, 0, sizeof(s));
	p = calloc(1, sizeof(*p));
	days = tt_counters_merged_create(64);
	if (p == NULL || days == NULL || tt_counters_merge_merged(days, hours, 1440, false, 0) != 0)
		goto out;
	p->c = c;
	p->sink = sink;
	for (k = 0; k < B_KINDS; k++) {
		const struct tt_merged *src = k == B_MINUTE ? minutes : k == B_HOUR ? hours : days;

		for (j = 0; j < TT_COUNTERS_TABLES; j++)
			if (tt_counters_sorted(src, j, TT_COUNTERS_BY_SCOPE, 0, UINT32_MAX,
					&s[k][j].rows) != 0)
				goto out;
	}
	snprintf(seq_s, sizeof(seq_s), "%" PRIu64, seq);
	rc = 0;
	for (p->tag = 0; rc == 0 && p->tag <= c->n_sensors; p->tag++) {
		bool any = false;

		p->tag_name = tag_name(c, p->tag);
		for (k = 0; k < B_KINDS; k++)
			for (j = 0; j < TT_COUNTERS_TABLES; j++)
				any |= at_tag(p, &s[k][j]);
		if (!any)
			continue;
		if (done != NULL && done[p->tag]) {
			for (k = 0; k < B_KINDS; k++)
				for (j = 0; j < TT_COUNTERS_TABLES; j++)
					skip_tag(p, &s[k][j]);
			continue;
		}
		snprintf(p->tmp_key, sizeof(p->tmp_key), "%s:{%s}:tmp:%s", c->prefix,
			p->tag_name, c->appliance_id);
		p->tmp_used = false;
		rc = open_tag(p, p->tag);
		for (k = 0; rc == 0 && k < B_KINDS; k++) {
			rc = port_runs(p, k, &s[k][TT_COUNTERS_PORT]);
			if (rc == 0)
				rc = country_runs(p, k, &s[k][TT_COUNTERS_COUNTRY]);
			if (rc == 0)
				rc = hll_runs(p, k, &s[k][TT_COUNTERS_SRCS]);
		}
		if (rc == 0 && p->tmp_used) {
			const char *del[2] = { "DEL", p->tmp_key };

			rc = emit(p, 2, del, NULL);
		}
		if (rc == 0)
			rc = close_tag(p, p->tag, seq_s);
	}
	/* The {src} tag: who is scanning. */
	p->tag = c->n_sensors + 1;
	if (rc == 0 && sources != NULL && tt_sources_deltas_count(sources) != 0 &&
			!(done != NULL && done[p->tag])) {
		rc = open_tag(p, p->tag);
		if (rc == 0)
			rc = src_flush(p, sources);
		if (rc == 0)
			rc = close_tag(p, p->tag, seq_s);
	}
	/* Alerts last: their buckets' counts are committed before them. */
	if (rc == 0 && alerts != NULL && alerts->n != 0 &&
			!(done != NULL && done[TT_PLAN_TAG_ALERTS(c)]))
		rc = alerts_flush(p, alerts, seq_s);
out:
	for (k = 0; k < B_KINDS; k++)
		for (j = 0; j < TT_COUNTERS_TABLES; j++)
			tt_counters_rows_free(&s[k][j].rows);
	tt_counters_merged_free(days);
	free(p);
	return rc;
}

void
tt_plan_tags_with_data(const struct tt_plan_conf *c, const struct tt_merged *minutes,
		const struct tt_merged *hours, const struct tt_sources_deltas *sources,
		const struct tt_plan_alerts *alerts, uint8_t *has)
{
	const struct tt_merged *src[2] = { minutes, hours };
	struct tt_counters_row r;
	unsigned int k, j;
	uint32_t i;

	for (k = 0; k < 2; k++)
		for (j = 0; j < TT_COUNTERS_TABLES; j++)
			for (i = 0; i < tt_counters_rows(src[k], j); i++) {
				tt_counters_row(src[k], j, i, &r);
				has[tag_of(c, r.sensor)] = 1;
			}
	if (sources != NULL && tt_sources_deltas_count(sources) != 0)
		has[c->n_sensors + 1] = 1;
	if (alerts != NULL && alerts->n != 0)
		has[TT_PLAN_TAG_ALERTS(c)] = 1;
}
