/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flush plan (lib/publish/plan.c) against DESIGN.md section 5, with a
 * sink that records every command: one assertion per row of the schema,
 * the transactions' shape, the bookkeeping, the alerts stream, and the tags
 * a resend skips. No Redis: the plan is pure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "publish_internal.h"
#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_sources.h"

enum { MAX_CMDS = 4096, CMD_LEN = 512 };

/* What the sink saw: "BEGIN <tag>", each command's words, "END <tag>". */
struct record {
	char *line[MAX_CMDS];
	unsigned int n;
	int fail_at;                   /* command index that fails, or -1 */
};

static int
rec_push(struct record *r, const char *s)
{
	if (r->n == MAX_CMDS)
		return -ENOSPC;
	r->line[r->n++] = strdup(s);
	return 0;
}

static int
rec_begin(void *ctx, uint32_t tag)
{
	char s[32];

	snprintf(s, sizeof(s), "BEGIN %u", tag);
	return rec_push(ctx, s);
}

static int
rec_end(void *ctx, uint32_t tag)
{
	char s[32];

	snprintf(s, sizeof(s), "END %u", tag);
	return rec_push(ctx, s);
}

static int
rec_command(void *ctx, int argc, const char **argv, const size_t *lens)
{
	struct record *r = ctx;
	char s[CMD_LEN];
	size_t at = 0;
	int i;

	if (r->fail_at >= 0 && (int)r->n == r->fail_at)
		return -EIO;
	for (i = 0; i < argc && at < sizeof(s) - 1; i++) {
		/* a temporary HLL is binary: recorded by its length */
		if (memchr(argv[i], '\0', lens[i]) != NULL || lens[i] > 200)
			at += (size_t)snprintf(s + at, sizeof(s) - at, "%s<%zu bytes>",
				i ? " " : "", lens[i]);
		else
			at += (size_t)snprintf(s + at, sizeof(s) - at, "%s%.*s", i ? " " : "",
				(int)lens[i], argv[i]);
	}
	return rec_push(r, s);
}

static void
rec_free(struct record *r)
{
	while (r->n)
		free(r->line[--r->n]);
}

static bool
has(const struct record *r, const char *line)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->line[i], line) == 0)
			return true;
	return false;
}

static bool
has_prefix(const struct record *r, const char *prefix)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (strncmp(r->line[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static unsigned int
count_prefix(const struct record *r, const char *prefix)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += strncmp(r->line[i], prefix, strlen(prefix)) == 0;
	return n;
}

/* 2024-01-01 00:00 UTC, in minutes */
#define MINUTE 28401120u
#define SEC (MINUTE * 60u)

static const char *const sensor_names[1] = { "tokyo" };
static const struct tt_plan_conf conf = {
	.prefix = "teiten", .appliance_id = "box-1", .sensor_names = sensor_names,
	.n_sensors = 1, .ttl_minute = 172800, .ttl_hour = 7776000, .ttl_day = 69120000,
	.horizon = 604800,
};

struct fixture {
	struct tt_merged *minutes;
	struct tt_merged *hours;
	struct tt_src_deltas *sources;
};

/*
 * Two packets at sensor 0: a home Mirai-type SYN to 23/TCP from JP (a
 * watched service), and an unfingerprinted 53/UDP probe from the US; the
 * first also feeds the source memory.
 */
static void
fixture_make(struct fixture *f)
{
	struct tt_counters_conf wc = {
		.port_cells = 64, .country_cells = 64, .hll_cells = 64, .hll_sparse = 16,
		.hll_dense = 4,
	};
	struct tt_src_conf sc = { .entries = 64, .mirai_min_ports = 2, .horizon = 604800 };
	static const uint8_t bot[4] = { 203, 0, 113, 7 };
	struct tt_shard *w = tt_counters_create(&wc);
	struct tt_src_table *src = tt_src_table_create(&sc);
	struct tt_count_pkt mirai = {
		.minute = MINUTE, .svc = TT_SVC(TT_SVC_TCP, 23), .bytes = 60, .sensor = 0,
		.country = (uint16_t)tt_classify_country_index("JP"), .hll_index = 7,
		.hll_rank = 2, .klass = TT_CLASS_MIRAI, .home = true, .watched = true,
	};
	struct tt_count_pkt dns = {
		.minute = MINUTE, .svc = TT_SVC(TT_SVC_UDP, 53), .bytes = 80, .sensor = 0,
		.country = (uint16_t)tt_classify_country_index("US"), .hll_index = 9,
		.hll_rank = 1, .klass = TT_CLASS_OTHER,
	};
	struct tt_src_pkt sp = {
		.addr = bot, .family = 4, .klass = TT_CLASS_MIRAI, .home = true,
		.country = mirai.country, .sensor = 0, .dport = 23, .svc = mirai.svc,
		.sec = SEC + 5,
	};

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	tt_counters_add(w, &mirai);
	tt_counters_add(w, &dns);
	f->sources = tt_src_deltas_create(64, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->sources);
	tt_src_update(src, f->sources, &sp);
	f->minutes = tt_counters_merged_create(64);
	f->hours = tt_counters_merged_create(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->minutes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->hours);
	CU_ASSERT_EQUAL(tt_counters_merge(f->minutes, w, 1, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(f->hours, w, 60, true), 0);
	tt_counters_free(w);
	tt_src_table_free(src);
}

static void
fixture_free(struct fixture *f)
{
	tt_counters_merged_free(f->minutes);
	tt_counters_merged_free(f->hours);
	tt_src_deltas_free(f->sources);
}

static const char *const alert_fields[] = {
	"ts", "1704067200", "kind", "surge", "scope", "tokyo", "subject", "tcp/23",
	"res", "m", "metric", "pkts", "observed", "40", "baseline", "2.5", "score", "12.1",
	"breadth", "local", "message", "23/TCP at tokyo: 40 packets, 16 times its baseline",
};

static int
flush(struct record *r, const struct fixture *f, const uint8_t *done, bool with_alert)
{
	const struct tt_plan_sink sink = {
		.begin_tag = rec_begin, .command = rec_command, .end_tag = rec_end, .ctx = r,
	};
	const struct tt_plan_alert a = { .n_fields = 11, .fields = alert_fields,
		.json = "{\"kind\":\"surge\"}" };
	const struct tt_plan_alerts alerts = { .e = &a, .n = 1 };

	return tt_plan_flush(&conf, f->minutes, f->hours, f->sources,
		with_alert ? &alerts : NULL, 42, done, &sink);
}

static void
test_minute_buckets(void)
{
	struct record r = { .fail_at = -1 };
	struct fixture f;

	fixture_make(&f);
	CU_ASSERT_EQUAL(flush(&r, &f, NULL, false), 0);
	/* totals, port, country, srcs only */
	CU_ASSERT(has(&r, "HINCRBY teiten:{tokyo}:m:202401010000:totals pkts 2"));
	CU_ASSERT(has(&r, "HINCRBY teiten:{tokyo}:m:202401010000:totals bytes 140"));
	CU_ASSERT(has(&r, "HINCRBY teiten:{tokyo}:m:202401010000:totals mirai 1"));
	CU_ASSERT(has(&r, "HINCRBY teiten:{tokyo}:m:202401010000:totals home_mirai 1"));
	CU_ASSERT(has(&r, "ZINCRBY teiten:{tokyo}:m:202401010000:port 1 tcp/23"));
	CU_ASSERT(has(&r, "ZINCRBY teiten:{tokyo}:m:202401010000:port 1 udp/53"));
	CU_ASSERT(has(&r, "ZINCRBY teiten:{tokyo}:m:202401010000:country 1 JP"));
	CU_ASSERT(has(&r, "PFMERGE teiten:{tokyo}:m:202401010000:srcs teiten:{tokyo}:tmp:box-1"));
	CU_ASSERT_FALSE(has_prefix(&r, "ZINCRBY teiten:{tokyo}:m:202401010000:port:home "));
	CU_ASSERT_FALSE(has_prefix(&r, "ZINCRBY teiten:{tokyo}:m:202401010000:country:mirai "));
	CU_ASSERT_FALSE(has_prefix(&r, "PFMERGE teiten:{tokyo}:m:202401010000:srcs:mirai "));
	/* each key its retention, once, NX */
	CU_ASSERT(has(&r, "EXPIRE teiten:{tokyo}:m:202401010000:totals 172800 NX"));
	CU_ASSERT_EQUAL(count_prefix(&r, "EXPIRE teiten:{tokyo}:m:202401010000:port "), 1);
	rec_free(&r);
	fixture_free(&f);
}

static void
test_hour_and_day_buckets(void)
{
	static const char *const kinds[2][2] = {
		{ "h:2024010100", "7776000" }, { "d:20240101", "69120000" },
	};
	struct record r = { .fail_at = -1 };
	struct fixture f;
	char want[CMD_LEN];
	unsigned int k;

	fixture_make(&f);
	CU_ASSERT_EQUAL(flush(&r, &f, NULL, false), 0);
	for (k = 0; k < 2; k++) {
		const char *b = kinds[k][0];

#define HAS(fmt, ...) do { \
		snprintf(want, sizeof(want), fmt, __VA_ARGS__); \
		CU_ASSERT(has(&r, want)); \
	} while (0)
		HAS("HINCRBY teiten:{tokyo}:%s:totals pkts 2", b);
		HAS("HINCRBY teiten:{tokyo}:%s:totals home 1", b);
		HAS("HINCRBY teiten:{tokyo}:%s:totals abroad 1", b);
		HAS("HINCRBY teiten:{tokyo}:%s:totals tcp 1", b);
		HAS("HINCRBY teiten:{tokyo}:%s:totals udp 1", b);
		HAS("ZINCRBY teiten:{tokyo}:%s:port 1 tcp/23", b);
		HAS("ZINCRBY teiten:{tokyo}:%s:port:home 1 tcp/23", b);
		HAS("ZINCRBY teiten:{tokyo}:%s:port:mirai 1 tcp/23", b);
		HAS("ZINCRBY teiten:{tokyo}:%s:port:home:mirai 1 tcp/23", b);
		HAS("ZINCRBY teiten:{tokyo}:%s:country 1 US", b);
		HAS("ZINCRBY teiten:{tokyo}:%s:country:mirai 1 JP", b);
		HAS("PFMERGE teiten:{tokyo}:%s:srcs teiten:{tokyo}:tmp:box-1", b);
		HAS("PFMERGE teiten:{tokyo}:%s:srcs:home teiten:{tokyo}:tmp:box-1", b);
		HAS("PFMERGE teiten:{tokyo}:%s:srcs:mirai teiten:{tokyo}:tmp:box-1", b);
		HAS("PFMERGE teiten:{tokyo}:%s:srcs:home:mirai teiten:{tokyo}:tmp:box-1", b);
		HAS("PFMERGE teiten:{tokyo}:%s:srcs:tcp/23 teiten:{tokyo}:tmp:box-1", b);
		HAS("PFMERGE teiten:{tokyo}:%s:srcs:tcp/23:home:mirai teiten:{tokyo}:tmp:box-1", b);
		HAS("EXPIRE teiten:{tokyo}:%s:port:home:mirai %s NX", b, kinds[k][1]);
		/* the all scope carries the same */
		HAS("ZINCRBY teiten:{all}:%s:port:mirai 1 tcp/23", b);
		HAS("HINCRBY teiten:{all}:%s:totals pkts 2", b);
#undef HAS
		/* nothing of a class no packet had, and no unwatched service's HLL */
		snprintf(want, sizeof(want), "ZINCRBY teiten:{tokyo}:%s:port:nmap ", b);
		CU_ASSERT_FALSE(has_prefix(&r, want));
		snprintf(want, sizeof(want), "PFMERGE teiten:{tokyo}:%s:srcs:udp/53 ", b);
		CU_ASSERT_FALSE(has_prefix(&r, want));
	}
	rec_free(&r);
	fixture_free(&f);
}

/* Each scope one transaction that records the flush; the temporary key goes. */
static void
test_transactions(void)
{
	struct record r = { .fail_at = -1 };
	struct fixture f;
	unsigned int i, open = 0, begins = 0;

	fixture_make(&f);
	CU_ASSERT_EQUAL(flush(&r, &f, NULL, false), 0);
	for (i = 0; i < r.n; i++) {
		if (strncmp(r.line[i], "BEGIN ", 6) == 0) {
			CU_ASSERT_EQUAL(open, 0);
			CU_ASSERT_STRING_EQUAL(r.line[i + 1], "MULTI");
			open = 1;
			begins++;
		} else if (strncmp(r.line[i], "END ", 4) == 0) {
			CU_ASSERT_STRING_EQUAL(r.line[i - 1], "EXEC");
			CU_ASSERT_EQUAL(strncmp(r.line[i - 2], "EXPIRE ", 7), 0);
			CU_ASSERT_EQUAL(strncmp(r.line[i - 3], "HSET ", 5), 0);
			open = 0;
		} else {
			CU_ASSERT_EQUAL(open, 1);       /* no command outside a transaction */
		}
	}
	CU_ASSERT_EQUAL(begins, 3);             /* tokyo, all, src */
	CU_ASSERT(has(&r, "HSET teiten:{tokyo}:flushed box-1 42"));
	CU_ASSERT(has(&r, "HSET teiten:{all}:flushed box-1 42"));
	CU_ASSERT(has(&r, "HSET teiten:{src}:flushed box-1 42"));
	CU_ASSERT(has(&r, "EXPIRE teiten:{tokyo}:flushed 69120000"));
	CU_ASSERT(has(&r, "DEL teiten:{tokyo}:tmp:box-1"));
	rec_free(&r);
	fixture_free(&f);
}

static void
test_sources(void)
{
	struct record r = { .fail_at = -1 };
	struct fixture f;
	char want[CMD_LEN];

	fixture_make(&f);
	CU_ASSERT_EQUAL(flush(&r, &f, NULL, false), 0);
	snprintf(want, sizeof(want), "ZADD teiten:{src}:mirai GT %u 203.0.113.7", SEC + 5);
	CU_ASSERT(has(&r, want));
	snprintf(want, sizeof(want), "ZADD teiten:{src}:mirai:home GT %u 203.0.113.7", SEC + 5);
	CU_ASSERT(has(&r, want));
	CU_ASSERT(has(&r, "ZINCRBY teiten:{src}:d:20240101:mirai 1 203.0.113.7"));
	CU_ASSERT(has(&r, "EXPIRE teiten:{src}:d:20240101:mirai 69120000 NX"));
	CU_ASSERT(has_prefix(&r, "EVAL "));
	CU_ASSERT(has_prefix(&r, "ZREMRANGEBYSCORE teiten:{src}:mirai -inf ("));
	CU_ASSERT(has(&r, "EXPIRE teiten:{src}:mirai 604800"));
	/* no scanner set, no victims for a Mirai-type bot */
	CU_ASSERT_FALSE(has_prefix(&r, "ZADD teiten:{src}:masscan "));
	CU_ASSERT_FALSE(has_prefix(&r, "ZINCRBY teiten:{src}:d:20240101:victims "));
	rec_free(&r);
	fixture_free(&f);
}

/* The alerts stream: its own transaction, in the stream's slot, last. */
static void
test_alerts_stream(void)
{
	struct record r = { .fail_at = -1 };
	struct fixture f;
	uint8_t has_tag[4] = { 0 };

	fixture_make(&f);
	CU_ASSERT_EQUAL(flush(&r, &f, NULL, true), 0);
	CU_ASSERT(has(&r, "XADD teiten:alerts MAXLEN ~ 100000 * ts 1704067200 kind surge "
		"scope tokyo subject tcp/23 res m metric pkts observed 40 baseline 2.5 "
		"score 12.1 breadth local message 23/TCP at tokyo: 40 packets, 16 times its "
		"baseline"));
	CU_ASSERT(has(&r, "PUBLISH teiten:alerts {\"kind\":\"surge\"}"));
	CU_ASSERT(has(&r, "HSET {teiten:alerts}:flushed box-1 42"));
	CU_ASSERT_STRING_EQUAL(r.line[r.n - 1], "END 3");
	tt_plan_tags_with_data(&conf, f.minutes, f.hours, f.sources,
		&(struct tt_plan_alerts){ .e = NULL, .n = 1 }, has_tag);
	CU_ASSERT(has_tag[0] && has_tag[1] && has_tag[2] && has_tag[3]);
	rec_free(&r);
	fixture_free(&f);
}

/* A resend skips the tags found committed; a sink error stops the plan. */
static void
test_done_and_errors(void)
{
	struct record r = { .fail_at = -1 };
	uint8_t done[4] = { 1, 0, 1, 1 };
	struct fixture f;
	char key[64];

	fixture_make(&f);
	CU_ASSERT_EQUAL(flush(&r, &f, done, true), 0);
	CU_ASSERT_FALSE(has_prefix(&r, "HINCRBY teiten:{tokyo}:"));
	CU_ASSERT(has_prefix(&r, "HINCRBY teiten:{all}:"));
	CU_ASSERT_FALSE(has_prefix(&r, "EVAL "));
	CU_ASSERT_FALSE(has_prefix(&r, "XADD "));
	CU_ASSERT(has(&r, "BEGIN 1"));
	CU_ASSERT_EQUAL(count_prefix(&r, "BEGIN "), 1);
	rec_free(&r);
	r.fail_at = 5;
	CU_ASSERT_EQUAL(flush(&r, &f, NULL, false), -EIO);
	CU_ASSERT_EQUAL(r.n, 5);
	rec_free(&r);
	tt_plan_flushed_key(&conf, 3, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "{teiten:alerts}:flushed");
	tt_plan_flushed_key(&conf, 1, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "teiten:{all}:flushed");
	fixture_free(&f);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "minute buckets: totals, port, country, srcs", test_minute_buckets },
		{ "hour and day buckets: every metric of the schema", test_hour_and_day_buckets },
		{ "one transaction a scope, the flush recorded", test_transactions },
		{ "sources: rolling sets, daily sets, host records", test_sources },
		{ "alerts: XADD and PUBLISH in the stream's slot", test_alerts_stream },
		{ "resend skips committed tags; errors stop", test_done_and_errors },
		{ NULL, NULL },
	};

	return run_suite("plan", tests, NULL, NULL);
}
