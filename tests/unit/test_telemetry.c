/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /teiten/... commands' pure half: what each parameter may be, and how
 * many rows of each list a reply holds within its byte budget (the rest is
 * counted in "more", never dropped by DPDK without a word).
 */
#include <errno.h>
#include <string.h>

#include "cunit_main.h"
#include "telemetry_internal.h"
#include "tt_counters.h"

static char p[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN];

static void
test_split_params_invalid(void)
{
	char long_field[TT_TELEMETRY_PARAM_LEN + 1];

	CU_ASSERT_EQUAL(tt_telemetry_split_params("a,b,c,d,e", p), -EINVAL);
	memset(long_field, 'x', TT_TELEMETRY_PARAM_LEN);
	long_field[TT_TELEMETRY_PARAM_LEN] = '\0';
	CU_ASSERT_EQUAL(tt_telemetry_split_params(long_field, p), -EINVAL);
	/* one byte shorter fits, with its NUL */
	long_field[TT_TELEMETRY_PARAM_LEN - 1] = '\0';
	CU_ASSERT_EQUAL(tt_telemetry_split_params(long_field, p), 1);
	CU_ASSERT_EQUAL(strlen(p[0]), TT_TELEMETRY_PARAM_LEN - 1);
	/* blanks around a field do not count against its length */
	CU_ASSERT_EQUAL(tt_telemetry_split_params("  tokyo-a\t", p), 1);
	CU_ASSERT_STRING_EQUAL(p[0], "tokyo-a");
}

static void
test_split_params(void)
{
	CU_ASSERT_EQUAL(tt_telemetry_split_params(NULL, p), 0);
	CU_ASSERT_EQUAL(tt_telemetry_split_params("", p), 0);
	CU_ASSERT_EQUAL(tt_telemetry_split_params("service", p), 1);
	CU_ASSERT_STRING_EQUAL(p[0], "service");
	CU_ASSERT_EQUAL(tt_telemetry_split_params(" service , osaka.b ,\t3 ", p), 3);
	CU_ASSERT_STRING_EQUAL(p[0], "service");
	CU_ASSERT_STRING_EQUAL(p[1], "osaka.b");
	CU_ASSERT_STRING_EQUAL(p[2], "3");
	/* empty fields are fields: "country,,3" is the all scope, three of them */
	CU_ASSERT_EQUAL(tt_telemetry_split_params("country,,3", p), 3);
	CU_ASSERT_STRING_EQUAL(p[1], "");
	CU_ASSERT_EQUAL(tt_telemetry_split_params("service,", p), 2);
	CU_ASSERT_STRING_EQUAL(p[1], "");
	CU_ASSERT_EQUAL(tt_telemetry_split_params("a,b,c,d", p), 4);
	CU_ASSERT_STRING_EQUAL(p[3], "d");
}

static void
test_parse_uint(void)
{
	unsigned int v = 7;

	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("x", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("3x", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("-1", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("0", 1, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("11", 1, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("99999999999999999999999", 0, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(v, 7);                 /* untouched on error */
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("0", 0, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("10", 1, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 10);
	/* strtoul's syntax: a plus sign passes, as it always has */
	CU_ASSERT_EQUAL(tt_telemetry_parse_uint("+5", 1, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 5);
}

static void
test_parse_scope(void)
{
	struct tt_sensor_conf sensors[2] = { { .name = "tokyo-a" }, { .name = "osaka.b" } };
	struct tt_config cfg = { .sensors = sensors, .n_sensors = 2 };
	uint16_t s = 3;

	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "nowhere", &s), -ENOENT);
	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "ALL", &s), -ENOENT);
	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "tokyo", &s), -ENOENT);
	CU_ASSERT_EQUAL(s, 3);
	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "all", &s), 0);
	CU_ASSERT_EQUAL(s, TT_SCOPE_ALL);
	s = 3;
	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "", &s), 0);
	CU_ASSERT_EQUAL(s, TT_SCOPE_ALL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "osaka.b", &s), 0);
	CU_ASSERT_EQUAL(s, 1);
	CU_ASSERT_EQUAL(tt_telemetry_parse_scope(&cfg, "tokyo-a", &s), 0);
	CU_ASSERT_EQUAL(s, 0);
}

static void
test_parse_dimension(void)
{
	bool country = true;

	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("", &country), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("Service", &country), -EINVAL);
	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("port", &country), -EINVAL);
	CU_ASSERT_TRUE(country);
	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("service", &country), 0);
	CU_ASSERT_FALSE(country);
	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("countries", &country), 0);
	CU_ASSERT_TRUE(country);
	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("services", &country), 0);
	CU_ASSERT_FALSE(country);
	CU_ASSERT_EQUAL(tt_telemetry_parse_dimension("country", &country), 0);
	CU_ASSERT_TRUE(country);
}

/* /teiten/alerts reads its parameter untrimmed, with strtoul's syntax. */
static void
test_parse_alerts_n(void)
{
	static const char *const bad[] = { "0", "129", "x", "-1", "3,4", "3 ", " ", "1e2" };
	unsigned int n = 0, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(tt_telemetry_parse_alerts_n(bad[i], &n), -EINVAL);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(tt_telemetry_parse_alerts_n(NULL, &n), 0);
	CU_ASSERT_EQUAL(n, TT_TELEMETRY_ALERTS_DEFAULT);
	CU_ASSERT_EQUAL(tt_telemetry_parse_alerts_n("", &n), 0);
	CU_ASSERT_EQUAL(n, TT_TELEMETRY_ALERTS_DEFAULT);
	CU_ASSERT_EQUAL(tt_telemetry_parse_alerts_n("1", &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(tt_telemetry_parse_alerts_n("128", &n), 0);
	CU_ASSERT_EQUAL(n, 128);
	CU_ASSERT_EQUAL(tt_telemetry_parse_alerts_n(" 3", &n), 0);
	CU_ASSERT_EQUAL(n, 3);
}

static void
test_format_time(void)
{
	char buf[32];

	tt_telemetry_format_time(0, true, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "none");
	tt_telemetry_format_time(0, false, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "none");
	tt_telemetry_format_time(1711929600, true, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2024-04-01T00:00:00Z");
	tt_telemetry_format_time(1711990859, true, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2024-04-01T17:00:59Z");
	tt_telemetry_format_time(1711990859, false, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2024-04-01T17:00Z");
}

static void
test_clip(void)
{
	char in[200], out[16];

	tt_telemetry_clip("short", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "short");
	memset(in, 'a', sizeof(out) - 1);      /* 15 bytes and the NUL: fits */
	in[sizeof(out) - 1] = '\0';
	tt_telemetry_clip(in, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, in);
	memset(in, 'b', sizeof(in) - 1);       /* cut, and says so */
	in[sizeof(in) - 1] = '\0';
	tt_telemetry_clip(in, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "bbbbbbbbbbbb...");
	CU_ASSERT_EQUAL(strlen(out), sizeof(out) - 1);
}

/*
 * /teiten/workers: ports first, then as many workers as keep the reply
 * under the budget: 21 alone, 20 beside a port, none beside 49 ports.
 */
static void
test_workers_fit(void)
{
	uint32_t ports;

	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(0, 0, 1000), 19);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(0, 0, 1000), TT_TELEMETRY_WORKERS_MAX);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(1, 0, 1000), 19);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(1, 0, 3), 3);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(1, 2, 3), 1);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(1, 3, 3), 0);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(1, 128, 3), 0);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(48, 0, 1000), 1);
	CU_ASSERT_EQUAL(tt_telemetry_workers_fit(49, 0, 1000), 0);
	/* whatever the ports, the entries shown stay under the budget */
	for (ports = 0; ports < 64; ports++) {
		uint32_t fit = tt_telemetry_workers_fit(ports, 0, 1000);

		CU_ASSERT(fit <= TT_TELEMETRY_WORKERS_MAX);
		if (fit > 0)
			CU_ASSERT(ports * TT_TELEMETRY_PORT_COST + fit * TT_TELEMETRY_WORKER_COST <
				TT_TELEMETRY_REPLY_BUDGET);
		CU_ASSERT(ports * TT_TELEMETRY_PORT_COST + (fit + 1) * TT_TELEMETRY_WORKER_COST >=
			TT_TELEMETRY_REPLY_BUDGET);
	}
}

/* /teiten/sensors: the limit, or the budget (75 rows of 166 bytes), whichever comes first. */
static void
test_sensors_fit(void)
{
	uint32_t fit;

	CU_ASSERT_EQUAL(TT_TELEMETRY_SENSOR_ROW_COST, 166);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(0, 32), 0);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(3, 32), 3);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(100, 32), 32);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(100, 1), 1);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(100, 100), 75);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(65534, 512), 75);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(75, 512), 75);
	CU_ASSERT_EQUAL(tt_telemetry_sensors_fit(74, 512), 74);
	/* cut by the budget: the rows before the last were under it */
	fit = tt_telemetry_sensors_fit(1000, 512);
	CU_ASSERT((fit - 1) * TT_TELEMETRY_SENSOR_ROW_COST < TT_TELEMETRY_REPLY_BUDGET);
	CU_ASSERT(fit * TT_TELEMETRY_SENSOR_ROW_COST >= TT_TELEMETRY_REPLY_BUDGET);
}

static struct tt_telemetry_alerts ring;

/* An alert numbered @p i (its ts), whose message is @p len bytes long. */
static void
push(uint64_t i, size_t len)
{
	struct tt_alert al = { .ts = i };

	memset(al.message, 'm', len);
	al.message[len] = '\0';
	snprintf(al.scope_name, sizeof(al.scope_name), "all");
	tt_telemetry_alerts_push(&ring, &al);
}

static void
test_alert_cost(void)
{
	struct tt_alert a = { .ts = 1 }, b = { .ts = 1 };

	memset(b.message, 'x', 100);
	/* every value and 4 bytes around it */
	CU_ASSERT_EQUAL(tt_telemetry_alert_cost(&b) - tt_telemetry_alert_cost(&a), 100);
	CU_ASSERT(tt_telemetry_alert_cost(&a) >= 4 * TT_ALERTS_FIELDS);
}

/* Newest first; fewer kept than asked for is not "more". */
static void
test_alerts_pick_newest_first(void)
{
	const struct tt_alert *out[TT_TELEMETRY_ALERTS_KEPT];
	uint32_t more = 99, n;

	memset(&ring, 0, sizeof(ring));
	CU_ASSERT_EQUAL(tt_telemetry_alerts_pick(&ring, 10, out, &more), 0);
	CU_ASSERT_EQUAL(more, 0);
	for (n = 1; n <= 5; n++)
		push(n, 20);
	CU_ASSERT_EQUAL(tt_telemetry_alerts_pick(&ring, 10, out, &more), 5);
	CU_ASSERT_EQUAL(more, 0);
	CU_ASSERT_EQUAL(out[0]->ts, 5);
	CU_ASSERT_EQUAL(out[4]->ts, 1);
	CU_ASSERT_EQUAL(tt_telemetry_alerts_pick(&ring, 2, out, &more), 2);
	CU_ASSERT_EQUAL(more, 0);
	CU_ASSERT_EQUAL(out[1]->ts, 4);
}

/* The ring keeps the latest 128; the oldest go. */
static void
test_alerts_ring_wraps(void)
{
	const struct tt_alert *out[TT_TELEMETRY_ALERTS_KEPT];
	uint32_t more = 99, n;

	memset(&ring, 0, sizeof(ring));
	for (n = 1; n <= 200; n++)
		push(n, 0);
	CU_ASSERT_EQUAL(ring.seen, 200);
	n = tt_telemetry_alerts_pick(&ring, TT_TELEMETRY_ALERTS_KEPT, out, &more);
	CU_ASSERT_EQUAL(n, TT_TELEMETRY_ALERTS_KEPT);
	CU_ASSERT_EQUAL(more, 0);
	CU_ASSERT_EQUAL(out[0]->ts, 200);
	CU_ASSERT_EQUAL(out[TT_TELEMETRY_ALERTS_KEPT - 1]->ts, 200 - TT_TELEMETRY_ALERTS_KEPT + 1);
}

/* Long alerts: as many as the budget takes, the rest counted in "more". */
static void
test_alerts_pick_budget(void)
{
	const struct tt_alert *out[TT_TELEMETRY_ALERTS_KEPT];
	uint32_t more, n, shown;
	size_t cost;

	memset(&ring, 0, sizeof(ring));
	for (n = 1; n <= 150; n++)
		push(n, 150);
	cost = tt_telemetry_alert_cost(&ring.ring[0]);
	shown = tt_telemetry_alerts_pick(&ring, TT_TELEMETRY_ALERTS_KEPT, out, &more);
	CU_ASSERT_EQUAL(shown, TT_TELEMETRY_REPLY_BUDGET / cost);
	CU_ASSERT(shown < TT_TELEMETRY_ALERTS_KEPT);
	CU_ASSERT_EQUAL(more, TT_TELEMETRY_ALERTS_KEPT - shown);
	CU_ASSERT_EQUAL(out[0]->ts, 150);
	/* asked for fewer than fit: all of them, nothing more */
	CU_ASSERT_EQUAL(tt_telemetry_alerts_pick(&ring, 3, out, &more), 3);
	CU_ASSERT_EQUAL(more, 0);
	/* asked for a few more than fit: those few are "more" */
	CU_ASSERT_EQUAL(tt_telemetry_alerts_pick(&ring, shown + 4, out, &more), shown);
	CU_ASSERT_EQUAL(more, 4);
}

/* An alert that would pass the budget ends the list, though an older one would fit. */
static void
test_alerts_pick_stops_at_the_first_too_long(void)
{
	const struct tt_alert *out[TT_TELEMETRY_ALERTS_KEPT];
	size_t c_short, c_long, c_bulk;
	uint32_t more, k, n;

	memset(&ring, 0, sizeof(ring));
	push(1, 0);                            /* the oldest: short */
	push(2, TT_ALERTS_MESSAGE_MAX - 1);    /* then the longest */
	push(3, 100);
	c_short = tt_telemetry_alert_cost(&ring.ring[0]);
	c_long = tt_telemetry_alert_cost(&ring.ring[1]);
	c_bulk = tt_telemetry_alert_cost(&ring.ring[2]);
	CU_ASSERT_FATAL(c_short + c_bulk <= c_long);
	/* k bulk alerts leave room for the short one, not for the long one */
	k = (uint32_t)((TT_TELEMETRY_REPLY_BUDGET - c_short) / c_bulk);
	for (n = 1; n < k; n++)
		push(3 + n, 100);
	CU_ASSERT_EQUAL(tt_telemetry_alerts_pick(&ring, k + 2, out, &more), k);
	CU_ASSERT_EQUAL(more, 2);
	CU_ASSERT_EQUAL(out[k - 1]->ts, 3);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "parameters: too many, too long", test_split_params_invalid },
		{ "parameters: split and trimmed", test_split_params },
		{ "a number in range, nothing else", test_parse_uint },
		{ "a scope: all or a sensor's exact name", test_parse_scope },
		{ "a dimension: service or country", test_parse_dimension },
		{ "/teiten/alerts: how many", test_parse_alerts_n },
		{ "times in UTC, none for 0", test_format_time },
		{ "a long string is cut with ...", test_clip },
		{ "workers: as many as fit beside the ports", test_workers_fit },
		{ "sensors: the limit or the budget", test_sensors_fit },
		{ "an alert's cost is its values", test_alert_cost },
		{ "alerts: newest first", test_alerts_pick_newest_first },
		{ "alerts: the ring keeps the latest 128", test_alerts_ring_wraps },
		{ "alerts: the budget, and more", test_alerts_pick_budget },
		{ "alerts: the first that does not fit ends the list",
			test_alerts_pick_stops_at_the_first_too_long },
		{ NULL, NULL },
	};

	return run_suite("telemetry", tests, NULL, NULL);
}
