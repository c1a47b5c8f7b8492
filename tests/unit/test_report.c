/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/report against packets whose answers are known: the scope view
 * (totals, rankings with ties broken by item, zero counts left out, each
 * sensor and the all scope, one minute or the whole shard), the --summary
 * JSON (parsed here, and compared field by field with what the packets
 * make) and the operator's table, line by line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_hll.h"
#include "tt_report.h"

/* An assertion whose failure says what differs. */
static void
check_at(bool ok, unsigned int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, __FILE__, "", CU_FALSE);
}
#define CHECK(ok, ...) check_at((ok), __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* The packets                                                              */

enum {
	M0 = 28401120,                 /* 2024-01-01T00:00Z */
	M1 = M0 + 1,
	N_SENSORS = 3,                 /* the third sees nothing */
	TCP22 = TT_SVC(TT_SVC_TCP, 22),
	TCP23 = TT_SVC(TT_SVC_TCP, 23),
	TCP2323 = TT_SVC(TT_SVC_TCP, 2323),
	UDP53 = TT_SVC(TT_SVC_UDP, 53),
	ICMP = TT_SVC(TT_SVC_ICMP, 0),
	IP47 = TT_SVC(TT_SVC_IP, 47),
};

static const char *const sensor_names[N_SENSORS] = { "tokyo-a", "osaka", "idle" };
static const uint16_t sensor_ports[N_SENSORS] = { 0, 1, 2 };
#define HOME_CC "JP"

struct rpkt {
	uint32_t minute;
	uint16_t sensor;
	uint32_t svc;
	const char *svc_name;
	const char *cc;
	uint8_t klass;
	bool v6;
	bool malformed;
	uint16_t bytes;
	const char *src;
	unsigned int n;                /* this many alike */
};

/*
 * Ties on purpose: at tokyo-a tcp/22 and udp/53 have 3 each (tcp/22 first,
 * the smaller service key), and in minute M0 tcp/22, tcp/23 and udp/53
 * have 3 each; in the all scope DE and US have 4 each. Services are fed
 * in no particular order.
 */
static const struct rpkt rpkts[] = {
	{ M0, 0, TCP23, "tcp/23", "JP", TT_CLASS_MIRAI, false, false, 60, "203.0.113.1", 3 },
	{ M0, 0, TCP22, "tcp/22", "US", TT_CLASS_OTHER, false, false, 74, "198.51.100.2", 3 },
	{ M0, 0, UDP53, "udp/53", "CN", TT_CLASS_ZMAP, false, false, 70, "192.0.2.3", 3 },
	{ M0, 0, ICMP, "icmp", "ZZ", TT_CLASS_BACKSCATTER, false, false, 70, "198.51.100.4", 1 },
	{ M1, 0, TCP23, "tcp/23", "JP", TT_CLASS_OTHER, false, false, 74, "203.0.113.5", 2 },
	{ M1, 0, TCP2323, "tcp/2323", "JP", TT_CLASS_MIRAI, false, false, 60, "203.0.113.1", 1 },
	{ M0, 1, TCP22, "tcp/22", "DE", TT_CLASS_NMAP, true, false, 78, "2001:db8::f", 4 },
	{ M0, 1, IP47, "ip/47", "US", TT_CLASS_OTHER, false, true, 34, "198.51.100.7", 1 },
};
#define N_RPKTS (sizeof(rpkts) / sizeof(rpkts[0]))

static const uint32_t watched[] = { TCP22, TCP23, UDP53 };

static bool
is_watched(uint32_t svc)
{
	unsigned int i;

	for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		if (watched[i] == svc)
			return true;
	return false;
}

static bool
in_scope(const struct rpkt *p, uint16_t sensor, uint32_t minute)
{
	return (sensor == TT_SCOPE_ALL || p->sensor == sensor) &&
		(minute == TT_SCOPE_ANY_MINUTE || p->minute == minute);
}

static bool
is_home(const struct rpkt *p)
{
	return strcmp(p->cc, HOME_CC) == 0;
}

/* The totals hash of a scope, by DESIGN.md section 5, from the packets. */
static void
expect_totals(uint16_t sensor, uint32_t minute, uint64_t *t)
{
	unsigned int i;

	memset(t, 0, TT_T_COUNT * sizeof(*t));
	for (i = 0; i < N_RPKTS; i++) {
		const struct rpkt *p = &rpkts[i];
		const char *s = p->svc_name;

		if (!in_scope(p, sensor, minute))
			continue;
		t[TT_T_PKTS] += p->n;
		t[TT_T_BYTES] += (uint64_t)p->n * p->bytes;
		if (strncmp(s, "tcp", 3) == 0)
			t[TT_T_TCP] += p->n;
		else if (strncmp(s, "udp", 3) == 0)
			t[TT_T_UDP] += p->n;
		else if (strncmp(s, "icmp", 4) == 0)
			t[TT_T_ICMP] += p->n;
		else
			t[TT_T_OTHER] += p->n;
		t[TT_T_V6] += p->v6 ? p->n : 0;
		t[is_home(p) ? TT_T_HOME : TT_T_ABROAD] += p->n;
		t[TT_T_MALFORMED] += p->malformed ? p->n : 0;
		switch (p->klass) {
		case TT_CLASS_BACKSCATTER: t[TT_T_BACKSCATTER] += p->n; break;
		case TT_CLASS_MIRAI: t[TT_T_MIRAI] += p->n; break;
		case TT_CLASS_MASSCAN: t[TT_T_MASSCAN] += p->n; break;
		case TT_CLASS_ZMAP: t[TT_T_ZMAP] += p->n; break;
		case TT_CLASS_NMAP: t[TT_T_NMAP] += p->n; break;
		case TT_CLASS_UNICORN: t[TT_T_UNICORN] += p->n; break;
		default: break;
		}
		if (is_home(p) && p->klass == TT_CLASS_MIRAI)
			t[TT_T_HOME_MIRAI] += p->n;
	}
}

/*
 * Packets of a scope for one member of a metric, from the packets:
 * @p metric names it as the summary does ("port", "port:home",
 * "port:<class>", "port:home:mirai", "country", "country:mirai").
 */
static uint64_t
expect_count(uint16_t sensor, uint32_t minute, const char *metric, const char *member)
{
	static const char *const classes[TT_CLASS_COUNT] = {
		"other", "backscatter", "mirai", "masscan", "zmap", "nmap", "unicorn",
	};
	bool country = strncmp(metric, "country", 7) == 0;
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < N_RPKTS; i++) {
		const struct rpkt *p = &rpkts[i];
		bool mirai = p->klass == TT_CLASS_MIRAI;
		bool in;

		if (!in_scope(p, sensor, minute) ||
				strcmp(country ? p->cc : p->svc_name, member) != 0)
			continue;
		if (strcmp(metric, "port") == 0 || strcmp(metric, "country") == 0)
			in = true;
		else if (strcmp(metric, "port:home") == 0)
			in = is_home(p);
		else if (strcmp(metric, "port:home:mirai") == 0)
			in = is_home(p) && mirai;
		else if (strcmp(metric, "country:mirai") == 0)
			in = mirai;
		else
			in = strncmp(metric, "port:", 5) == 0 && p->klass != TT_CLASS_OTHER &&
				strcmp(metric + 5, classes[p->klass]) == 0;
		n += in ? p->n : 0;
	}
	return n;
}

/*
 * Distinct sources of a scope: all, home, Mirai-type, home and Mirai-type,
 * home and not Mirai-type (a source with a packet of the kind); for one
 * service or all (0).
 */
static uint64_t
expect_sources(uint16_t sensor, unsigned int variant, uint32_t svc)
{
	const char *seen[N_RPKTS];
	unsigned int i, j, n = 0;

	for (i = 0; i < N_RPKTS; i++) {
		const struct rpkt *p = &rpkts[i];
		bool home = is_home(p), mirai = p->klass == TT_CLASS_MIRAI;
		bool dup = false;

		if (!in_scope(p, sensor, TT_SCOPE_ANY_MINUTE) || (svc != 0 && p->svc != svc))
			continue;
		if ((variant == TT_HLL_HOME && !home) || (variant == TT_HLL_MIRAI && !mirai) ||
				(variant == TT_HLL_HOME_MIRAI && !(home && mirai)) ||
				(variant == TT_HLL_HOME_NONMIRAI && !(home && !mirai)))
			continue;
		for (j = 0; j < n; j++)
			dup |= strcmp(seen[j], p->src) == 0;
		if (!dup)
			seen[n++] = p->src;
	}
	return n;
}

static struct tt_merged *run;          /* minutes collapsed, with all: what the summary reads */
static struct tt_merged *by_minute;    /* minutes kept, with all */
static unsigned int fixture_errors;

static void
count(struct tt_shard *w, const struct rpkt *p)
{
	uint8_t addr[16];
	int family = inet_pton(AF_INET, p->src, addr) == 1 ? 4 :
		inet_pton(AF_INET6, p->src, addr) == 1 ? 6 : 0;
	struct tt_count_pkt cp = {
		.minute = p->minute, .svc = p->svc, .bytes = p->bytes, .sensor = p->sensor,
		.country = (uint16_t)tt_classify_country_index(p->cc), .klass = p->klass,
		.home = is_home(p), .v6 = p->v6, .malformed = p->malformed,
		.watched = is_watched(p->svc),
	};
	unsigned int i;

	if (family == 0 || (family == 6) != p->v6) {
		fixture_errors++;
		return;
	}
	tt_hll_position(addr, family == 4 ? 4 : 16, &cp.hll_index, &cp.hll_rank);
	for (i = 0; i < p->n; i++)
		tt_counters_add(w, &cp);
}

static int
suite_init(void)
{
	struct tt_counters_conf wc = { .port_cells = 64, .country_cells = 64, .hll_cells = 64,
		.hll_sparse = 64, .hll_dense = 4 };
	struct tt_shard *w[2];
	unsigned int i;
	int rc = -1;

	w[0] = tt_counters_create(&wc);
	w[1] = tt_counters_create(&wc);
	run = tt_counters_merged_create(16);
	by_minute = tt_counters_merged_create(16);
	if (w[0] == NULL || w[1] == NULL || run == NULL || by_minute == NULL)
		goto out;
	/* two workers, split by sensor; the merged shards grow past their 16 cells */
	for (i = 0; i < N_RPKTS; i++)
		count(w[rpkts[i].sensor], &rpkts[i]);
	for (i = 0; i < 2; i++)
		if (tt_counters_merge(run, w[i], 0, true) != 0 ||
				tt_counters_merge(by_minute, w[i], 1, true) != 0)
			goto out;
	rc = fixture_errors == 0 ? 0 : -1;
out:
	tt_counters_free(w[0]);
	tt_counters_free(w[1]);
	return rc;
}

static int
suite_fini(void)
{
	tt_counters_merged_free(run);
	tt_counters_merged_free(by_minute);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The scope view                                                           */

static const char *
scope_name(uint16_t sensor)
{
	return sensor == TT_SCOPE_ALL ? "all" : sensor_names[sensor];
}

static void
check_totals(const struct tt_scope *v, uint16_t sensor, uint32_t minute)
{
	uint64_t want[TT_T_COUNT];
	unsigned int t;

	expect_totals(sensor, minute, want);
	for (t = 0; t < TT_T_COUNT; t++)
		CHECK(v->totals[t] == want[t], "%s minute %u totals %s: %" PRIu64 ", expected %"
			PRIu64, scope_name(sensor), minute, tt_schema_total_name(t), v->totals[t],
			want[t]);
}

/*
 * A ranked member array against the packets: every member's count, counts
 * never zero, descending, ties in item order, and every member the packets
 * make present.
 */
static void
check_members(const struct tt_scope_member *m, uint32_t n, uint16_t sensor, uint32_t minute,
		const char *metric)
{
	bool country = strncmp(metric, "country", 7) == 0;
	char name[TT_SVC_STR_MAX];
	uint64_t sum = 0, want_sum = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		tt_report_item_name(country, m[i].item, name, sizeof(name));
		CHECK(m[i].count == expect_count(sensor, minute, metric, name),
			"%s %s %s: %" PRIu64 ", expected %" PRIu64, scope_name(sensor), metric,
			name, m[i].count, expect_count(sensor, minute, metric, name));
		CHECK(m[i].count > 0, "%s %s %s: a zero count kept", scope_name(sensor), metric,
			name);
		if (i > 0)
			CHECK(m[i - 1].count > m[i].count ||
				(m[i - 1].count == m[i].count && m[i - 1].item < m[i].item),
				"%s %s: member %u out of order", scope_name(sensor), metric, i);
		sum += m[i].count;
	}
	/* nothing left out: the members add up to the packets of the metric */
	for (i = 0; i < N_RPKTS; i++) {
		const struct rpkt *p = &rpkts[i];
		bool first = true;
		unsigned int j;

		/* each distinct member of the packets once */
		for (j = 0; j < i; j++)
			first &= strcmp(country ? rpkts[j].cc : rpkts[j].svc_name,
				country ? p->cc : p->svc_name) != 0;
		if (first)
			want_sum += expect_count(sensor, minute, metric,
				country ? p->cc : p->svc_name);
	}
	CHECK(sum == want_sum, "%s %s: members add up to %" PRIu64 ", expected %" PRIu64,
		scope_name(sensor), metric, sum, want_sum);
}

static const struct {
	const char *name;
	unsigned int col;
} port_metrics[] = {
	{ "port", TT_PORT_COL_PKTS },
	{ "port:home", TT_PORT_COL_HOME },
	{ "port:backscatter", TT_PORT_COL_BACKSCATTER },
	{ "port:mirai", TT_PORT_COL_MIRAI },
	{ "port:masscan", TT_PORT_COL_MASSCAN },
	{ "port:zmap", TT_PORT_COL_ZMAP },
	{ "port:nmap", TT_PORT_COL_NMAP },
	{ "port:unicorn", TT_PORT_COL_UNICORN },
	{ "port:home:mirai", TT_PORT_COL_HOME_MIRAI },
};
#define N_PORT_METRICS (sizeof(port_metrics) / sizeof(port_metrics[0]))

static void
check_scope(const struct tt_scope *v, uint16_t sensor, uint32_t minute)
{
	unsigned int m;

	CU_ASSERT_EQUAL(v->sensor, sensor);
	check_totals(v, sensor, minute);
	for (m = 0; m < N_PORT_METRICS; m++)
		check_members(v->port[port_metrics[m].col], v->n_port[port_metrics[m].col], sensor,
			minute, port_metrics[m].name);
	check_members(v->country[TT_COUNTRY_COL_PKTS], v->n_country[TT_COUNTRY_COL_PKTS], sensor, minute,
		"country");
	check_members(v->country[TT_COUNTRY_COL_MIRAI], v->n_country[TT_COUNTRY_COL_MIRAI], sensor, minute,
		"country:mirai");
}

/* The services of a ranking, in order, joined by spaces. */
static const char *
ranking(const struct tt_scope_member *m, uint32_t n, bool country, char *buf, size_t len)
{
	char name[TT_SVC_STR_MAX];
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t at = strlen(buf);

		tt_report_item_name(country, m[i].item, name, sizeof(name));
		snprintf(buf + at, len - at, "%s%s %" PRIu64, i ? ", " : "", name, m[i].count);
	}
	return buf;
}

static void
test_scope_every_scope(void)
{
	struct tt_scope v;
	uint16_t s;

	for (s = 0; s <= N_SENSORS; s++) {
		uint16_t sensor = s == N_SENSORS ? TT_SCOPE_ALL : s;

		CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, sensor, TT_SCOPE_ANY_MINUTE), 0);
		check_scope(&v, sensor, TT_SCOPE_ANY_MINUTE);
		tt_scope_free(&v);
	}
}

/* Ties broken by item, in the order a reader checks by eye. */
static void
test_scope_ranking(void)
{
	struct tt_scope v;
	char buf[256];

	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, 0, TT_SCOPE_ANY_MINUTE), 0);
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_PKTS], v.n_port[TT_PORT_COL_PKTS], false, buf,
		sizeof(buf)), "tcp/23 5, tcp/22 3, udp/53 3, tcp/2323 1, icmp 1");
	CU_ASSERT_STRING_EQUAL(ranking(v.country[TT_COUNTRY_COL_PKTS], v.n_country[TT_COUNTRY_COL_PKTS], true, buf,
		sizeof(buf)), "JP 6, CN 3, US 3, ZZ 1");
	tt_scope_free(&v);
	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, TT_SCOPE_ALL, TT_SCOPE_ANY_MINUTE), 0);
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_PKTS], v.n_port[TT_PORT_COL_PKTS], false, buf,
		sizeof(buf)), "tcp/22 7, tcp/23 5, udp/53 3, tcp/2323 1, icmp 1, ip/47 1");
	CU_ASSERT_STRING_EQUAL(ranking(v.country[TT_COUNTRY_COL_PKTS], v.n_country[TT_COUNTRY_COL_PKTS], true, buf,
		sizeof(buf)), "JP 6, DE 4, US 4, CN 3, ZZ 1");
	tt_scope_free(&v);
}

/* Zero counts are left out, as Redis keeps no member of score 0. */
static void
test_scope_zero_counts(void)
{
	struct tt_scope v;
	char buf[256];

	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, 0, TT_SCOPE_ANY_MINUTE), 0);
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_HOME], v.n_port[TT_PORT_COL_HOME], false, buf,
		sizeof(buf)), "tcp/23 5, tcp/2323 1");
	CU_ASSERT_STRING_EQUAL(ranking(v.port[tt_schema_class_col(TT_CLASS_MIRAI)],
		v.n_port[tt_schema_class_col(TT_CLASS_MIRAI)], false, buf, sizeof(buf)),
		"tcp/23 3, tcp/2323 1");
	CU_ASSERT_STRING_EQUAL(ranking(v.country[TT_COUNTRY_COL_MIRAI], v.n_country[TT_COUNTRY_COL_MIRAI], true,
		buf, sizeof(buf)), "JP 4");
	CU_ASSERT_EQUAL(v.n_port[tt_schema_class_col(TT_CLASS_NMAP)], 0);
	CU_ASSERT_EQUAL(v.n_port[TT_PORT_COL_V6], 0);
	CU_ASSERT_EQUAL(v.n_port[TT_PORT_COL_MALFORMED], 0);
	tt_scope_free(&v);
	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, 1, TT_SCOPE_ANY_MINUTE), 0);
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_V6], v.n_port[TT_PORT_COL_V6], false, buf,
		sizeof(buf)), "tcp/22 4");
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_MALFORMED], v.n_port[TT_PORT_COL_MALFORMED], false,
		buf, sizeof(buf)), "ip/47 1");
	CU_ASSERT_EQUAL(v.n_port[TT_PORT_COL_HOME], 0);
	tt_scope_free(&v);
	/* a sensor with no packets: an empty view */
	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, 2, TT_SCOPE_ANY_MINUTE), 0);
	CU_ASSERT_EQUAL(v.totals[TT_T_PKTS], 0);
	CU_ASSERT_EQUAL(v.n_port[TT_PORT_COL_PKTS], 0);
	CU_ASSERT_EQUAL(v.n_country[TT_COUNTRY_COL_PKTS], 0);
	CU_ASSERT_EQUAL(v.srcs[TT_HLL_ALL], 0);
	CU_ASSERT_EQUAL(v.n_srcs_svc, 0);
	tt_scope_free(&v);
}

/* One minute's cells, or none for a minute without packets. */
static void
test_scope_minute(void)
{
	static const uint32_t minutes[] = { M0, M1, M1 + 1 };
	struct tt_scope v;
	char buf[256];
	unsigned int i;
	uint16_t s;

	for (i = 0; i < sizeof(minutes) / sizeof(minutes[0]); i++) {
		for (s = 0; s <= N_SENSORS; s++) {
			uint16_t sensor = s == N_SENSORS ? TT_SCOPE_ALL : s;

			CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, by_minute, sensor, minutes[i]), 0);
			check_scope(&v, sensor, minutes[i]);
			tt_scope_free(&v);
		}
	}
	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, by_minute, 0, M0), 0);
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_PKTS], v.n_port[TT_PORT_COL_PKTS], false, buf,
		sizeof(buf)), "tcp/22 3, tcp/23 3, udp/53 3, icmp 1");
	tt_scope_free(&v);
	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, by_minute, TT_SCOPE_ALL, M1), 0);
	CU_ASSERT_STRING_EQUAL(ranking(v.port[TT_PORT_COL_PKTS], v.n_port[TT_PORT_COL_PKTS], false, buf,
		sizeof(buf)), "tcp/23 2, tcp/2323 1");
	CU_ASSERT_EQUAL(v.totals[TT_T_PKTS], 3);
	tt_scope_free(&v);
	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, by_minute, TT_SCOPE_ALL, M1 + 1), 0);
	CU_ASSERT_EQUAL(v.totals[TT_T_PKTS], 0);
	CU_ASSERT_EQUAL(v.n_port[TT_PORT_COL_PKTS], 0);
	tt_scope_free(&v);
}

static uint64_t
svc_estimate(const struct tt_scope *v, unsigned int variant, uint32_t svc)
{
	uint32_t i;

	for (i = 0; i < v->n_srcs_svc; i++)
		if (v->srcs_svc[variant][i].item == svc)
			return v->srcs_svc[variant][i].count;
	return UINT64_MAX;
}

/* Unique-source estimates: the scope's, and each watched service's. */
static void
test_scope_sources(void)
{
	struct tt_scope v;
	unsigned int var, i;
	uint16_t s;

	for (s = 0; s <= N_SENSORS; s++) {
		uint16_t sensor = s == N_SENSORS ? TT_SCOPE_ALL : s;
		unsigned int n_svc = 0;

		CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, run, sensor, TT_SCOPE_ANY_MINUTE), 0);
		for (var = 0; var < TT_HLL_VARIANTS; var++) {
			CHECK(v.srcs[var] == expect_sources(sensor, var, 0),
				"%s srcs variant %u: %" PRIu64 ", expected %" PRIu64,
				scope_name(sensor), var, v.srcs[var],
				expect_sources(sensor, var, 0));
			for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
				uint64_t want = expect_sources(sensor, TT_HLL_ALL, watched[i]) ?
					expect_sources(sensor, var, watched[i]) : UINT64_MAX;

				CHECK(svc_estimate(&v, var, watched[i]) == want,
					"%s srcs:%x variant %u: %" PRIu64 ", expected %" PRIu64,
					scope_name(sensor), watched[i], var,
					svc_estimate(&v, var, watched[i]), want);
			}
		}
		for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
			n_svc += expect_sources(sensor, TT_HLL_ALL, watched[i]) != 0;
		/* only watched services have estimates of their own, each once */
		CU_ASSERT_EQUAL(v.n_srcs_svc, n_svc);
		tt_scope_free(&v);
	}
}

static bool
same_members(const struct tt_scope_member *a, const struct tt_scope_member *b, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (a[i].item != b[i].item || a[i].count != b[i].count)
			return false;
	return true;
}

/* The index gives the same views as a pass a scope; no scope past the sensors. */
static void
test_scope_index(void)
{
	struct tt_scope_index *x = tt_scope_index_create(run, N_SENSORS);
	struct tt_scope a, b;
	unsigned int m;
	uint16_t s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	for (s = 0; s <= N_SENSORS; s++) {
		uint16_t sensor = s == N_SENSORS ? TT_SCOPE_ALL : s;

		CU_ASSERT_EQUAL_FATAL(tt_scope_build(&a, run, sensor, TT_SCOPE_ANY_MINUTE), 0);
		CU_ASSERT_EQUAL_FATAL(tt_scope_build_indexed(&b, run, x, sensor,
			TT_SCOPE_ANY_MINUTE), 0);
		CU_ASSERT_EQUAL(memcmp(a.totals, b.totals, sizeof(a.totals)), 0);
		CU_ASSERT_EQUAL(memcmp(a.srcs, b.srcs, sizeof(a.srcs)), 0);
		CU_ASSERT_EQUAL(a.n_srcs_svc, b.n_srcs_svc);
		for (m = 0; m < TT_PORT_COLS; m++) {
			CU_ASSERT_EQUAL_FATAL(a.n_port[m], b.n_port[m]);
			CU_ASSERT(same_members(a.port[m], b.port[m], a.n_port[m]));
		}
		for (m = 0; m < TT_COUNTRY_COLS; m++) {
			CU_ASSERT_EQUAL_FATAL(a.n_country[m], b.n_country[m]);
			CU_ASSERT(same_members(a.country[m], b.country[m], a.n_country[m]));
		}
		check_scope(&b, sensor, TT_SCOPE_ANY_MINUTE);
		tt_scope_free(&a);
		tt_scope_free(&b);
	}
	CU_ASSERT_EQUAL(tt_scope_build_indexed(&a, run, x, N_SENSORS, TT_SCOPE_ANY_MINUTE),
		-EINVAL);
	tt_scope_free(&a);
	tt_scope_index_free(x);
	tt_scope_index_free(NULL);
	/* an index of fewer sensors leaves the others out, the all scope whole */
	x = tt_scope_index_create(run, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(tt_scope_build_indexed(&a, run, x, 1, TT_SCOPE_ANY_MINUTE), -EINVAL);
	tt_scope_free(&a);
	CU_ASSERT_EQUAL_FATAL(tt_scope_build_indexed(&a, run, x, TT_SCOPE_ALL,
		TT_SCOPE_ANY_MINUTE), 0);
	check_scope(&a, TT_SCOPE_ALL, TT_SCOPE_ANY_MINUTE);
	tt_scope_free(&a);
	tt_scope_index_free(x);
}

static void
test_member_order_and_names(void)
{
	struct tt_scope_member m[] = {
		{ UDP53, 3 }, { TCP23, 5 }, { ICMP, 1 }, { TCP22, 3 }, { TCP2323, 1 },
	};
	char name[TT_SVC_STR_MAX];

	qsort(m, 5, sizeof(m[0]), tt_scope_member_cmp);
	CU_ASSERT(m[0].item == TCP23 && m[1].item == TCP22 && m[2].item == UDP53 &&
		m[3].item == TCP2323 && m[4].item == ICMP);
	CU_ASSERT_EQUAL(tt_scope_member_cmp(&m[1], &m[1]), 0);
	tt_report_item_name(false, TCP23, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "tcp/23");
	tt_report_item_name(false, IP47, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "ip/47");
	tt_report_item_name(false, TT_SVC(TT_SVC_UDP_BARE, 0), name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "udp");
	tt_report_item_name(false, TT_SVC(TT_SVC_OVERFLOW, 0), name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "overflow");
	tt_report_item_name(true, (uint32_t)tt_classify_country_index("JP"), name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "JP");
	tt_report_item_name(true, TT_SVC(TT_SVC_OVERFLOW, 0), name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "overflow");
}

/* ------------------------------------------------------------------------ */
/* A small JSON reader, enough to hold the summary to RFC 8259              */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	double num;
	char raw[32];                  /* a number as written */
	char *str;
	struct jv *v;                  /* array items or object values */
	char **k;                      /* object keys */
	unsigned int n;
};

static void
jv_free(struct jv *j)
{
	unsigned int i;

	for (i = 0; i < j->n; i++) {
		jv_free(&j->v[i]);
		if (j->k != NULL)
			free(j->k[i]);
	}
	free(j->v);
	free(j->k);
	free(j->str);
	memset(j, 0, sizeof(*j));
}

static void
ws(const char **p)
{
	while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
		(*p)++;
}

static int parse_value(const char **p, struct jv *out, int depth);

static int
parse_string(const char **p, char **out)
{
	const char *s = *p + 1;
	size_t n = 0;
	char *buf;

	if (**p != '"')
		return -1;
	buf = malloc(strlen(s) + 1);
	if (buf == NULL)
		return -1;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20 || *s == '\0')
			goto err;
		if (*s == '\\') {
			s++;
			switch (*s) {
			case '"': case '\\': case '/': buf[n++] = *s; break;
			case 'n': buf[n++] = '\n'; break;
			case 't': buf[n++] = '\t'; break;
			case 'r': buf[n++] = '\r'; break;
			case 'b': buf[n++] = '\b'; break;
			case 'f': buf[n++] = '\f'; break;
			default: goto err;     /* \u: the summary has no need of it */
			}
			continue;
		}
		buf[n++] = *s;
	}
	buf[n] = '\0';
	*out = buf;
	*p = s + 1;
	return 0;
err:
	free(buf);
	return -1;
}

static int
parse_number(const char **p, struct jv *out)
{
	const char *s = *p;
	char *end;

	/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if ((size_t)(s - *p) >= sizeof(out->raw))
		return -1;
	out->t = J_NUM;
	snprintf(out->raw, sizeof(out->raw), "%.*s", (int)(s - *p), *p);
	out->num = strtod(out->raw, &end);
	*p = s;
	return 0;
}

static int
parse_members(const char **p, struct jv *out, bool object, int depth)
{
	char close = object ? '}' : ']';

	(*p)++;
	out->t = object ? J_OBJ : J_ARR;
	ws(p);
	if (**p == close) {
		(*p)++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		unsigned int i;

		ws(p);
		if (object) {
			if (parse_string(p, &key) != 0)
				return -1;
			/* RFC 8259 leaves duplicate names to the reader: the summary has none */
			for (i = 0; i < out->n; i++) {
				if (strcmp(out->k[i], key) == 0) {
					free(key);
					return -1;
				}
			}
			ws(p);
			if (**p != ':') {
				free(key);
				return -1;
			}
			(*p)++;
		}
		out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (object)
			out->k = realloc(out->k, (out->n + 1) * sizeof(*out->k));
		if (out->v == NULL || (object && out->k == NULL)) {
			free(key);
			return -1;
		}
		memset(&out->v[out->n], 0, sizeof(*out->v));
		if (object)
			out->k[out->n] = key;
		out->n++;
		ws(p);
		if (parse_value(p, &out->v[out->n - 1], depth + 1) != 0)
			return -1;
		ws(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p != close)
			return -1;
		(*p)++;
		return 0;
	}
}

static int
parse_value(const char **p, struct jv *out, int depth)
{
	if (depth > 16)
		return -1;
	ws(p);
	switch (**p) {
	case '{':
		return parse_members(p, out, true, depth);
	case '[':
		return parse_members(p, out, false, depth);
	case '"':
		out->t = J_STR;
		return parse_string(p, &out->str);
	case 't':
	case 'f':
	case 'n': {
		static const char *const words[] = { "true", "false", "null" };
		unsigned int w;

		for (w = 0; w < 3; w++) {
			if (strncmp(*p, words[w], strlen(words[w])) == 0) {
				out->t = w == 2 ? J_NULL : J_BOOL;
				out->b = w == 0;
				*p += strlen(words[w]);
				return 0;
			}
		}
		return -1;
	}
	default:
		return parse_number(p, out);
	}
}

/* The whole text is one JSON value. @p quiet: no word about what is wrong. */
static int
json_parse(const char *text, struct jv *out, bool quiet)
{
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (parse_value(&p, out, 0) != 0) {
		if (!quiet)
			fprintf(stderr, "JSON: invalid at byte %td: %.40s\n", p - text, p);
		return -1;
	}
	ws(&p);
	if (*p != '\0') {
		if (!quiet)
			fprintf(stderr, "JSON: trailing text at byte %td\n", p - text);
		return -1;
	}
	return 0;
}

static const struct jv *
jget(const struct jv *o, const char *key)
{
	unsigned int i;

	if (o == NULL || o->t != J_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->k[i], key) == 0)
			return &o->v[i];
	return NULL;
}

/* An integer field: its value, or -1 when absent or not a plain integer. */
static int64_t
jint(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	if (v == NULL || v->t != J_NUM || strpbrk(v->raw, ".eE-") != NULL)
		return -1;
	return strtoll(v->raw, NULL, 10);
}

static const char *
jstr(const struct jv *o, const char *key)
{
	const struct jv *v = jget(o, key);

	return v != NULL && v->t == J_STR ? v->str : NULL;
}

/* ------------------------------------------------------------------------ */
/* The summary                                                              */

static struct tt_report_input
report_input(bool redis)
{
	return (struct tt_report_input){
		.appliance_id = "box-9", .clock = "packet", .sensor_names = sensor_names,
		.sensor_ports = sensor_ports, .n_sensors = N_SENSORS, .run = run,
		.packets = 20, .not_dark = 5, .malformed = 1, .non_ip = 2,
		.first_sec = 1704067200, .last_sec = 1704067319, .duration_ms = 1234,
		.run_ms = 1000, .busy_cycles = 3600, .tsc_hz = 2000000000, .hll_record_off_pkts = 6,
		.sources_tracked = 11, .sources_inserted = 12, .sources_evicted = 1,
		.sources_confirmed = 2, .sources_memory = 4096,
		.redis_enabled = redis, .redis_delivered = true, .redis_flushes = 7,
		.redis_errors = 1, .redis_shed_minute_cells = 2, .redis_shed_minute_bytes = 3,
		.redis_shed_minute_packets = 4, .redis_shed_hour_cells = 5,
		.redis_shed_hour_packets = 6, .redis_shed_source_keys = 8, .redis_refusals = 9,
		.redis_data_lost = 10, .redis_undelivered_packets = 0,
		.redis_undelivered_source_keys = 11, .redis_undelivered_alerts = 12,
		.redis_undelivered_upper_bound = true,
		.redis_failed = false,
	};
}

/* The summary as text, written to memory. */
static char *
summary_text(const struct tt_report_input *in, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL) {
		*rc = -errno;
		return NULL;
	}
	*rc = tt_report_summary_json(f, in);
	fclose(f);
	return text;
}

static void
check_object_members(const struct jv *scope, const char *metric, uint16_t sensor)
{
	const struct jv *o = jget(scope, metric);
	bool country = strncmp(metric, "country", 7) == 0;
	uint64_t prev = UINT64_MAX, sum = 0, want_sum = 0;
	unsigned int i, j;

	CHECK(o != NULL && o->t == J_OBJ, "%s: no object %s", scope_name(sensor), metric);
	if (o == NULL || o->t != J_OBJ)
		return;
	for (i = 0; i < o->n; i++) {
		int64_t n = jint(o, o->k[i]);

		uint64_t want = expect_count(sensor, TT_SCOPE_ANY_MINUTE, metric, o->k[i]);

		CHECK(n > 0 && (uint64_t)n == want, "%s %s %s: %" PRId64 ", expected %" PRIu64,
			scope_name(sensor), metric, o->k[i], n, want);
		/* written in rank order */
		CHECK((uint64_t)n <= prev, "%s %s: %s out of rank order", scope_name(sensor),
			metric, o->k[i]);
		prev = (uint64_t)n;
		sum += (uint64_t)n;
	}
	for (i = 0; i < N_RPKTS; i++) {
		const char *member = country ? rpkts[i].cc : rpkts[i].svc_name;
		bool first = true;

		for (j = 0; j < i; j++)
			first &= strcmp(country ? rpkts[j].cc : rpkts[j].svc_name, member) != 0;
		if (first)
			want_sum += expect_count(sensor, TT_SCOPE_ANY_MINUTE, metric, member);
	}
	CHECK(sum == want_sum, "%s %s: members add up to %" PRIu64 ", expected %" PRIu64,
		scope_name(sensor), metric, sum, want_sum);
}

static void
check_json_scope(const struct jv *scope, uint16_t sensor)
{
	static const char *const suffix[] = { "", ":home", ":mirai", ":home:mirai",
		":home:nonmirai" };
	_Static_assert(sizeof(suffix) / sizeof(suffix[0]) == TT_HLL_VARIANTS,
		"the variants spelt out, as a consumer reads them");
	const struct jv *totals = jget(scope, "totals");
	uint64_t want[TT_T_COUNT];
	unsigned int t, i, n_srcs = 0;
	char key[64];

	CU_ASSERT_PTR_NOT_NULL_FATAL(totals);
	CU_ASSERT_EQUAL_FATAL(totals->t, J_OBJ);
	/* the totals hash whole, zeros included, in the schema's order */
	expect_totals(sensor, TT_SCOPE_ANY_MINUTE, want);
	CU_ASSERT_EQUAL(totals->n, TT_T_COUNT);
	for (t = 0; t < TT_T_COUNT && t < totals->n; t++) {
		const char *name = tt_schema_total_name(t);

		CHECK(strcmp(totals->k[t], name) == 0, "%s totals: field %u %s",
			scope_name(sensor), t, totals->k[t]);
		CHECK(jint(totals, name) == (int64_t)want[t],
			"%s totals %s: %" PRId64 ", expected %" PRIu64, scope_name(sensor), name,
			jint(totals, name), want[t]);
	}
	/* every ZSET metric of the day buckets, even when empty */
	for (i = 0; i < N_PORT_METRICS; i++)
		check_object_members(scope, port_metrics[i].name, sensor);
	check_object_members(scope, "country", sensor);
	check_object_members(scope, "country:mirai", sensor);
	/* the HyperLogLogs as estimated counts */
	for (i = 0; i < TT_HLL_VARIANTS; i++) {
		snprintf(key, sizeof(key), "srcs%s", suffix[i]);
		CHECK(jint(scope, key) == (int64_t)expect_sources(sensor, i, 0),
			"%s %s: %" PRId64 ", expected %" PRIu64, scope_name(sensor), key,
			jint(scope, key), expect_sources(sensor, i, 0));
	}
	for (t = 0; t < sizeof(watched) / sizeof(watched[0]); t++) {
		char svc[TT_SVC_STR_MAX];

		if (expect_sources(sensor, TT_HLL_ALL, watched[t]) == 0)
			continue;
		tt_report_item_name(false, watched[t], svc, sizeof(svc));
		for (i = 0; i < TT_HLL_VARIANTS; i++) {
			snprintf(key, sizeof(key), "srcs:%s%s", svc, suffix[i]);
			CHECK(jint(scope, key) == (int64_t)expect_sources(sensor, i, watched[t]),
				"%s %s: %" PRId64 ", expected %" PRIu64, scope_name(sensor), key,
				jint(scope, key), expect_sources(sensor, i, watched[t]));
			n_srcs++;
		}
	}
	/* and nothing else */
	CHECK(scope->n == 1 + N_PORT_METRICS + 2 + TT_HLL_VARIANTS + n_srcs,
		"%s: %u keys, expected %u", scope_name(sensor), scope->n,
		1 + (unsigned int)N_PORT_METRICS + 2 + TT_HLL_VARIANTS + n_srcs);
}

static void
test_summary_json(void)
{
	const struct tt_report_input in = report_input(true);
	const struct jv *scopes, *w, *src, *r;
	struct jv doc;
	char *text;
	unsigned int i;
	int rc;

	text = summary_text(&in, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL_FATAL(json_parse(text, &doc, false), 0);
	CU_ASSERT_EQUAL_FATAL(doc.t, J_OBJ);
	CU_ASSERT_STRING_EQUAL(jstr(&doc, "appliance"), "box-9");
	CU_ASSERT_STRING_EQUAL(jstr(&doc, "clock"), "packet");
	CU_ASSERT_EQUAL(jint(&doc, "packets"), 20);
	CU_ASSERT_EQUAL(jint(&doc, "not_dark"), 5);
	CU_ASSERT_EQUAL(jint(&doc, "malformed"), 1);
	CU_ASSERT_EQUAL(jint(&doc, "non_ip"), 2);
	CU_ASSERT_EQUAL(jint(&doc, "cells_overflowed"), 0);
	CU_ASSERT_EQUAL(jint(&doc, "cells_lost"), 0);
	CU_ASSERT_EQUAL(jint(&doc, "hll_dropped"), 0);
	CU_ASSERT_STRING_EQUAL(jstr(&doc, "first_packet"), "2024-01-01T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(jstr(&doc, "last_packet"), "2024-01-01T00:01:59Z");
	CU_ASSERT_EQUAL(jint(&doc, "duration_ms"), 1234);
	w = jget(&doc, "workers");
	CU_ASSERT_EQUAL(jint(w, "busy_cycles"), 3600);
	CU_ASSERT_PTR_NOT_NULL_FATAL(jget(w, "cycles_per_packet"));
	CU_ASSERT_STRING_EQUAL(jget(w, "cycles_per_packet")->raw, "180.0");
	CU_ASSERT_EQUAL(jint(w, "tsc_hz"), 2000000000);
	CU_ASSERT_EQUAL(jint(w, "run_ms"), 1000);
	CU_ASSERT_EQUAL(jint(w, "hll_record_off_pkts"), 6);
	src = jget(&doc, "sources");
	CU_ASSERT_EQUAL(jint(src, "tracked"), 11);
	CU_ASSERT_EQUAL(jint(src, "inserted"), 12);
	CU_ASSERT_EQUAL(jint(src, "evicted"), 1);
	CU_ASSERT_EQUAL(jint(src, "confirmed_mirai"), 2);
	CU_ASSERT_EQUAL(jint(src, "memory_bytes"), 4096);
	CU_ASSERT_EQUAL(jint(src, "deltas_dropped"), 0);
	r = jget(&doc, "redis");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT(jget(r, "delivered") != NULL && jget(r, "delivered")->t == J_BOOL &&
		jget(r, "delivered")->b);
	CU_ASSERT(jget(r, "failed") != NULL && jget(r, "failed")->t == J_BOOL &&
		!jget(r, "failed")->b);
	CU_ASSERT_EQUAL(jint(r, "flushes"), 7);
	CU_ASSERT_EQUAL(jint(r, "errors"), 1);
	CU_ASSERT_EQUAL(jint(r, "refusals"), 9);
	CU_ASSERT_EQUAL(jint(r, "data_lost"), 10);
	CU_ASSERT_EQUAL(jint(r, "undelivered_packets"), 0);
	CU_ASSERT_EQUAL(jint(r, "undelivered_source_keys"), 11);
	CU_ASSERT_EQUAL(jint(r, "undelivered_alerts"), 12);
	CU_ASSERT(jget(r, "undelivered_upper_bound") != NULL &&
		jget(r, "undelivered_upper_bound")->t == J_BOOL &&
		jget(r, "undelivered_upper_bound")->b);
	CU_ASSERT_EQUAL(jint(r, "shed_minute_cells"), 2);
	CU_ASSERT_EQUAL(jint(r, "shed_minute_bytes"), 3);
	CU_ASSERT_EQUAL(jint(r, "shed_minute_packets"), 4);
	CU_ASSERT_EQUAL(jint(r, "shed_hour_cells"), 5);
	CU_ASSERT_EQUAL(jint(r, "shed_hour_packets"), 6);
	CU_ASSERT_EQUAL(jint(r, "shed_source_keys"), 8);
	/* the scopes: all first, then the sensors in config order, the idle one too */
	scopes = jget(&doc, "scopes");
	CU_ASSERT_PTR_NOT_NULL_FATAL(scopes);
	CU_ASSERT_EQUAL_FATAL(scopes->n, N_SENSORS + 1);
	CU_ASSERT_STRING_EQUAL(scopes->k[0], "all");
	check_json_scope(&scopes->v[0], TT_SCOPE_ALL);
	for (i = 0; i < N_SENSORS; i++) {
		CU_ASSERT_STRING_EQUAL(scopes->k[i + 1], sensor_names[i]);
		check_json_scope(&scopes->v[i + 1], (uint16_t)i);
	}
	/* the ranking as written, ties by service key */
	CU_ASSERT_STRING_EQUAL(jget(&scopes->v[0], "port")->k[1], "tcp/23");
	CU_ASSERT_STRING_EQUAL(jget(&scopes->v[0], "country")->k[1], "DE");
	CU_ASSERT_EQUAL(doc.n, 16);
	jv_free(&doc);
	free(text);
}

/* Without Redis no redis object; without packets no first and last packet. */
static void
test_summary_json_without(void)
{
	struct tt_report_input in = report_input(false);
	struct jv doc;
	char *text;
	int rc;

	in.first_sec = 0;
	in.last_sec = 0;
	in.packets = 0;
	text = summary_text(&in, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL_FATAL(json_parse(text, &doc, false), 0);
	CU_ASSERT_PTR_NULL(jget(&doc, "redis"));
	CU_ASSERT(jget(&doc, "first_packet") != NULL && jget(&doc, "first_packet")->t == J_NULL);
	CU_ASSERT(jget(&doc, "last_packet") != NULL && jget(&doc, "last_packet")->t == J_NULL);
	CU_ASSERT_STRING_EQUAL(jget(jget(&doc, "workers"), "cycles_per_packet")->raw, "0.0");
	CU_ASSERT_EQUAL(doc.n, 15);
	jv_free(&doc);
	free(text);
}

/* A stream that fails is reported, not ignored. */
static void
test_summary_write_error(void)
{
	const struct tt_report_input in = report_input(true);
	FILE *f = fopen("/dev/full", "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	setvbuf(f, NULL, _IONBF, 0);
	CU_ASSERT_EQUAL(tt_report_summary_json(f, &in), -EIO);
	fclose(f);
	f = fopen("/dev/full", "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	setvbuf(f, NULL, _IONBF, 0);
	CU_ASSERT_EQUAL(tt_report_table(f, &in, 3), -EIO);
	fclose(f);
}

/* The checker itself: what is not JSON is refused. */
static void
test_json_reader(void)
{
	static const char *const bad[] = {
		"{", "{\"a\": 1,}", "{\"a\" 1}", "{\"a\": 01}", "{\"a\": 1} x",
		"{\"a\": 1, \"a\": 2}", "{\"a\": \"\x01\"}", "{\"a\": tru}", "[1 2]",
		"{\"a\": 1.}",
	};
	struct jv j;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(json_parse(bad[i], &j, true) != 0, "accepted %s", bad[i]);
		jv_free(&j);
	}
	CU_ASSERT_EQUAL_FATAL(json_parse(" {\"a\": [1, 2.5e3, null, true], \"b\": {}} ", &j,
		false), 0);
	CU_ASSERT_EQUAL(jget(&j, "a")->n, 4);
	CU_ASSERT_EQUAL(jget(&j, "a")->v[1].num, 2500);
	CU_ASSERT_EQUAL(jget(&j, "b")->n, 0);
	jv_free(&j);
}

/* ------------------------------------------------------------------------ */
/* The operator's table                                                     */

static char *
table_text(const struct tt_report_input *in, unsigned int top_n, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL) {
		*rc = -errno;
		return NULL;
	}
	*rc = tt_report_table(f, in, top_n);
	fclose(f);
	return text;
}

/*
 * Worked out by hand from the packets: per scope a header, the unique
 * sources, the top 3 services and Mirai-type services (shares of the
 * scope's packets and of its Mirai-type packets), every class, the top 3
 * countries; "-" for an empty row.
 */
static void
test_table(void)
{
	static const char *const want =
		"teiten box-9: 20 packets, 5 not dark, 1 malformed, 2 non-IP (clock: packet)\n"
		"\n"
		"[all sensors] 18 packets, 1236 bytes, 6 from home, 1 malformed\n"
		"  sources      ~7 (home ~2), Mirai-type ~1 (home ~1)\n"
		"  services     tcp/22 7 (38.9%), tcp/23 5 (27.8%), udp/53 3 (16.7%)\n"
		"  mirai-type   tcp/23 3 (75.0%), tcp/2323 1 (25.0%)\n"
		"  classes      mirai 4 (22.2%), nmap 4 (22.2%), zmap 3 (16.7%), "
		"backscatter 1 (5.6%)\n"
		"  countries    JP 6 (33.3%), DE 4 (22.2%), US 4 (22.2%)\n"
		"\n"
		"[sensor tokyo-a] port 0: 13 packets, 890 bytes, 6 from home, 0 malformed\n"
		"  sources      ~5 (home ~2), Mirai-type ~1 (home ~1)\n"
		"  services     tcp/23 5 (38.5%), tcp/22 3 (23.1%), udp/53 3 (23.1%)\n"
		"  mirai-type   tcp/23 3 (75.0%), tcp/2323 1 (25.0%)\n"
		"  classes      mirai 4 (30.8%), zmap 3 (23.1%), backscatter 1 (7.7%)\n"
		"  countries    JP 6 (46.2%), CN 3 (23.1%), US 3 (23.1%)\n"
		"\n"
		"[sensor osaka] port 1: 5 packets, 346 bytes, 0 from home, 1 malformed\n"
		"  sources      ~2 (home ~0), Mirai-type ~0 (home ~0)\n"
		"  services     tcp/22 4 (80.0%), ip/47 1 (20.0%)\n"
		"  mirai-type   -\n"
		"  classes      nmap 4 (80.0%)\n"
		"  countries    DE 4 (80.0%), US 1 (20.0%)\n"
		"\n"
		"[sensor idle] port 2: 0 packets, 0 bytes, 0 from home, 0 malformed\n"
		"  sources      ~0 (home ~0), Mirai-type ~0 (home ~0)\n"
		"  services     -\n"
		"  mirai-type   -\n"
		"  classes      -\n"
		"  countries    -\n";
	const struct tt_report_input in = report_input(true);
	const char *a, *b;
	char *text;
	unsigned int line = 1;
	int rc;

	text = table_text(&in, 3, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* line by line, so a failure names the line */
	for (a = text, b = want; *a != '\0' || *b != '\0'; line++) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");

		CHECK(la == lb && strncmp(a, b, la) == 0, "line %u: \"%.*s\", expected \"%.*s\"",
			line, (int)la, a, (int)lb, b);
		if (la != lb || strncmp(a, b, la) != 0)
			break;
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
	}
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
}

/* top_n bounds the ranked rows, never the classes. */
static void
test_table_top_n(void)
{
	const struct tt_report_input in = report_input(false);
	char *text;
	int rc;

	text = table_text(&in, 1, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  services     tcp/22 7 (38.9%)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  mirai-type   tcp/23 3 (75.0%)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  classes      mirai 4 (22.2%), nmap 4 (22.2%), "
		"zmap 3 (16.7%), backscatter 1 (5.6%)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  countries    JP 6 (46.2%)\n"));
	free(text);
	text = table_text(&in, 10, &rc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  services     tcp/22 7 (38.9%), tcp/23 5 (27.8%), "
		"udp/53 3 (16.7%), tcp/2323 1 (5.6%), icmp 1 (5.6%), ip/47 1 (5.6%)\n"));
	free(text);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "scope view: every scope against the packets", test_scope_every_scope },
		{ "scope view: ranking, ties broken by item", test_scope_ranking },
		{ "scope view: zero counts left out, an idle sensor empty",
			test_scope_zero_counts },
		{ "scope view: one minute's cells", test_scope_minute },
		{ "scope view: unique-source estimates", test_scope_sources },
		{ "scope index: the same views, no scope past the sensors", test_scope_index },
		{ "member order and names", test_member_order_and_names },
		{ "JSON reader refuses what is not JSON", test_json_reader },
		{ "summary JSON: every field and scope against the packets", test_summary_json },
		{ "summary JSON: without Redis, without packets", test_summary_json_without },
		{ "summary and table: a failing stream is -EIO", test_summary_write_error },
		{ "table: the layout, line by line", test_table },
		{ "table: top_n", test_table_top_n },
		{ NULL, NULL },
	};

	return run_suite("report", tests, suite_init, suite_fini);
}
