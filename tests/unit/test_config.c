/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading and validation: every rule of DESIGN.md section 3 reports
 * file, line, key and value. Each test writes its own file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "cunit_main.h"
#include "tt_classify.h"
#include "tt_config.h"

static char dir[] = "/tmp/tt_config_XXXXXX";
static const char *example_path;
static char problems[8192];
static unsigned int n_problems;

static void
collect(void *ctx, const char *line)
{
	size_t used = strlen(problems);

	(void)ctx;
	n_problems++;
	snprintf(problems + used, sizeof(problems) - used, "%s\n", line);
}

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load `text`; return the loader's result with problems[] filled. */
static int
load(const char *text, struct tt_config *cfg)
{
	const char *path = write_file("t.conf", text);

	problems[0] = '\0';
	n_problems = 0;
	return tt_config_load(cfg, path, collect, NULL);
}

/* Exactly one problem, at `line`, whose text contains every given fragment. */
static void
expect_problem(const char *text, unsigned int line, ...)
{
	struct tt_config cfg;
	char where[300];
	const char *frag;
	va_list ap;
	int rc = load(text, &cfg);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_EQUAL(n_problems, 1);
	snprintf(where, sizeof(where), "%s/t.conf:%u: ", dir, line);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, where));
	va_start(ap, line);
	while ((frag = va_arg(ap, const char *)) != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(problems, frag));
	va_end(ap);
	if (n_problems != 1 || strstr(problems, where) == NULL)
		fprintf(stderr, "\n    expected line %u, got: %s", line, problems);
	tt_config_free(&cfg);
}

#define HEAD "[appliance]\nid = t1\nhome_country = JP\n"          /* lines 1-3 */
#define SENSOR "[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\n"  /* 3 lines */

static void
test_missing_file(void)
{
	struct tt_config cfg;

	problems[0] = '\0';
	CU_ASSERT_EQUAL(tt_config_load(&cfg, "/nonexistent/t.conf", collect, NULL), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/nonexistent/t.conf:0: cannot read"));
	tt_config_free(&cfg);
	tt_config_free(NULL);
}

static void
test_syntax(void)
{
	char long_line[400];

	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, HEAD "label = ", strlen(HEAD "label = "));
	strcpy(long_line + 300, "\n" SENSOR);
	expect_problem(long_line, 4, "longer than 255", NULL);
	expect_problem("id = x\n" HEAD SENSOR, 1, "outside any [section]", NULL);
	expect_problem(HEAD "just words\n" SENSOR, 4, "expected 'key = value'", NULL);
	expect_problem(HEAD "[sensor a\n", 4, "without ']'", NULL);
}

static void
test_unknown_section_and_key(void)
{
	expect_problem(HEAD SENSOR "[collector]\nx = 1\n", 7, "[collector]", "unknown section",
		NULL);
	expect_problem(HEAD "colour = blue\n" SENSOR, 4, "[appliance] colour = blue",
		"unknown key", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nsurge_min = 5\n", 8, "surge_min = 5", NULL);
}

static void
test_duplicates(void)
{
	expect_problem(HEAD "id = t2\n" SENSOR, 4, "[appliance] id = t2",
		"duplicate key (first at line 2)", NULL);
	expect_problem(HEAD SENSOR "[appliance]\n", 7, "[appliance]", "duplicate section", NULL);
	expect_problem(HEAD SENSOR "[sensor a]\nport = 1\nprefixes = 10.0.0.0/8\n", 7,
		"[sensor a]", "duplicate sensor (first at line 4)", NULL);
	expect_problem(HEAD SENSOR "port = 1\n", 7, "[sensor a] port = 1", "duplicate key",
		NULL);
}

static void
test_appliance_values(void)
{
	expect_problem("[appliance]\nid = t 1\nhome_country = JP\n" SENSOR, 2, "id = t 1", NULL);
	expect_problem("[appliance]\nid = t1\nhome_country = XX\n" SENSOR, 3,
		"home_country = XX", "ISO 3166", NULL);
	expect_problem("[appliance]\nid = t1\nhome_country = jp\n" SENSOR, 3,
		"home_country = jp", NULL);
	expect_problem(HEAD "clock = sundial\n" SENSOR, 4, "clock = sundial", NULL);
	expect_problem(HEAD "geoip_db = /nonexistent/c.mmdb\n" SENSOR, 4,
		"geoip_db = /nonexistent/c.mmdb", "No such file", NULL);
	expect_problem(HEAD "geoip_db = rel/c.mmdb\n" SENSOR, 4,
		"geoip_db = rel/c.mmdb", "/rel/c.mmdb: No such file", NULL);
	expect_problem(HEAD "asn_db = /etc/hostname\n" SENSOR, 4,
		"asn_db = /etc/hostname", "not a MaxMind DB", NULL);
	expect_problem(HEAD "mirai_min_ports = 0\n" SENSOR, 4, "mirai_min_ports = 0", NULL);
	expect_problem(HEAD "watch_ports = tcp/23, tcp/99999\n" SENSOR, 4, "'tcp/99999'",
		NULL);
	expect_problem(HEAD "watch_ports = tcp/23, tcp/23\n" SENSOR, 4, "listed twice", NULL);
	expect_problem(HEAD "port_cells = 1000\n" SENSOR, 4, "port_cells = 1000",
		"power of two", NULL);
}

static void
test_missing_appliance_keys(void)
{
	expect_problem("[appliance]\nhome_country = JP\n" SENSOR, 1, "[appliance] id: missing",
		NULL);
	expect_problem("[appliance]\nid = a\n" SENSOR, 1, "home_country: missing", NULL);
	expect_problem(SENSOR, 1, "[appliance]: missing section", NULL);
	expect_problem(HEAD, 1, "no [sensor NAME] section", NULL);
}

static void
test_redis_values(void)
{
	expect_problem(HEAD "[redis]\nport = 0\n" SENSOR, 5, "[redis] port = 0", NULL);
	expect_problem(HEAD "[redis]\nhost = h\nunix = /run/r.sock\n" SENSOR, 4,
		"host and unix", NULL);
	expect_problem(HEAD "[redis]\npassword_file = /nonexistent/pass\n" SENSOR, 5,
		"password_file = /nonexistent/pass", NULL);
	expect_problem(HEAD "[redis]\nprefix = a b\n" SENSOR, 5, "prefix = a b", NULL);
	expect_problem(HEAD "[redis]\nflush_interval_ms = 5\n" SENSOR, 5,
		"flush_interval_ms = 5", NULL);
	expect_problem(HEAD "[redis]\nbacklog_max_mb = lots\n" SENSOR, 5,
		"backlog_max_mb = lots", NULL);
	expect_problem(HEAD "[redis]\nfinal_flush_s = 0\n" SENSOR, 5,
		"final_flush_s = 0", NULL);
}

static void
test_retention_values(void)
{
	expect_problem(HEAD "[retention]\nminute = 2x\n" SENSOR, 5, "minute = 2x", NULL);
	expect_problem(HEAD "[retention]\nsources = 30s\n" SENSOR, 5, "sources = 30s",
		"at least 60s", NULL);
}

static void
test_sensor_values(void)
{
	expect_problem(HEAD "[sensor all]\nport = 0\nprefixes = 192.0.2.0/25\n", 4,
		"[sensor all]", "not 'all'", NULL);
	expect_problem(HEAD "[sensor a:b]\nport = 0\nprefixes = 192.0.2.0/25\n", 4,
		"[sensor a:b]", NULL);
	expect_problem(HEAD "[sensor a]\nprefixes = 192.0.2.0/25\n", 4, "[sensor a] port: missing",
		NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\n", 4, "[sensor a] prefixes: missing", NULL);
	expect_problem(HEAD "[sensor a]\nport = x\nprefixes = 192.0.2.0/25\n", 5,
		"[sensor a] port = x", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes = 192.0.2.0/33\n", 6,
		"prefixes = 192.0.2.0/33", "'192.0.2.0/33'", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes = 192.0.2.1/24\n", 6,
		"'192.0.2.1/24'", "host bits zero", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes = 2001:db8::1/32\n", 6,
		"'2001:db8::1/32'", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\nlocation = moon\n",
		7, "location = moon", NULL);
}

static void
test_overlaps(void)
{
	expect_problem(HEAD SENSOR "[sensor b]\nport = 1\nprefixes = 192.0.2.64/26\n", 9,
		"[sensor b] prefixes = 192.0.2.64/26", "overlaps 192.0.2.0/25 of sensor a",
		"t.conf:6", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes = 2001:db8::/32\n"
		"prefixes = 2001:db8:1::/48\n", 7, "overlaps 2001:db8::/32", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes = 10.0.0.0/8, 10.0.0.0/8\n", 6,
		"overlaps 10.0.0.0/8", NULL);
}

static void
test_prefixes_file(void)
{
	struct tt_config cfg;

	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes_file = missing.txt\n", 6,
		"prefixes_file = missing.txt", "cannot open", NULL);
	write_file("p.txt", "# darknet A\n203.0.113.0/24\n\n2001:db8:5::/48  # v6\nnonsense\n");
	CU_ASSERT_EQUAL(load(HEAD "[sensor a]\nport = 0\nprefixes_file = p.txt\n", &cfg),
		-EINVAL);
	CU_ASSERT_EQUAL(n_problems, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/p.txt:5: prefix = nonsense"));
	tt_config_free(&cfg);
}

static void
test_valid_config(void)
{
	struct tt_config cfg;
	char text[1024];

	write_file("q.txt", "203.0.113.0/24\n2001:db8:5::/48\n");
	snprintf(text, sizeof(text), "%s",
		"; comment line\n"
		"[appliance]\nid = tokyo-1 ; inline comment\nhome_country = JP\nclock = packet\n"
		"watch_ports = tcp/23, udp/53, icmp\n"
		"[redis]\nport = 6380\nprefix = tt:x\n"
		"[retention]\nminute = 1h\nsources = 7d\n"
		"[sensor tokyo-a]\nport = 0\nprefixes = 192.0.2.0/25, 2001:db8:1::/64\n"
		"prefixes = 198.51.100.0/24\nlabel = 国内センサー1\nlocation = domestic\n"
		"[sensor osaka]\nport = 1\nprefixes_file = q.txt\nprefixes =\n"
		"location = overseas\n[alerts]\n");
	CU_ASSERT_EQUAL_FATAL(load(text, &cfg), 0);
	CU_ASSERT_EQUAL(n_problems, 0);
	CU_ASSERT_STRING_EQUAL(cfg.id, "tokyo-1");
	CU_ASSERT_STRING_EQUAL(cfg.home_country, "JP");
	CU_ASSERT_EQUAL(cfg.clock, TT_CLOCK_PACKET);
	CU_ASSERT_EQUAL(cfg.n_watch_ports, 3);
	CU_ASSERT_EQUAL(cfg.watch_ports[1], TT_SVC(TT_SVC_UDP, 53));
	CU_ASSERT_EQUAL(cfg.redis_port, 6380);
	CU_ASSERT_STRING_EQUAL(cfg.redis_host, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(cfg.redis_prefix, "tt:x");
	CU_ASSERT_EQUAL(cfg.retention_minute, 3600);
	CU_ASSERT_EQUAL(cfg.retention_hour, 90 * 86400);
	CU_ASSERT_EQUAL(cfg.retention_sources, 7 * 86400);
	CU_ASSERT_EQUAL(cfg.flush_interval_ms, 1000);
	CU_ASSERT_EQUAL(cfg.mirai_min_ports, 2);
	CU_ASSERT_EQUAL_FATAL(cfg.n_sensors, 2);
	CU_ASSERT_STRING_EQUAL(cfg.sensors[0].name, "tokyo-a");
	CU_ASSERT_STRING_EQUAL(cfg.sensors[0].label, "国内センサー1");
	CU_ASSERT_EQUAL(cfg.sensors[1].port, 1);
	CU_ASSERT_EQUAL(cfg.sensors[1].location, TT_LOCATION_OVERSEAS);
	CU_ASSERT_STRING_EQUAL(cfg.sensors[1].label, "osaka");
	CU_ASSERT_EQUAL_FATAL(cfg.n_prefixes, 5);
	CU_ASSERT_EQUAL(cfg.prefixes[2].len, 24);
	CU_ASSERT_EQUAL(cfg.prefixes[2].line, 16);
	CU_ASSERT_EQUAL(cfg.prefixes[4].family, 6);
	CU_ASSERT_EQUAL(cfg.prefixes[4].sensor, 1);
	CU_ASSERT_EQUAL(cfg.prefixes[4].line, 2);
	tt_config_free(&cfg);
}

static void
test_default_watch_ports(void)
{
	struct tt_config cfg;

	CU_ASSERT_EQUAL_FATAL(load(HEAD SENSOR, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.n_watch_ports, 13);
	CU_ASSERT_EQUAL(cfg.watch_ports[0], TT_SVC(TT_SVC_TCP, 23));
	CU_ASSERT_EQUAL(cfg.watch_ports[12], TT_SVC(TT_SVC_ICMP, 0));
	tt_config_free(&cfg);
}

/* A config of n sensors, each on its own /32, with extra [appliance] lines. */
static int
load_sensors(unsigned int n, const char *appliance_extra, struct tt_config *cfg)
{
	size_t cap = 256 + (size_t)n * 64, used;
	char *text = malloc(cap);
	unsigned int i;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	used = (size_t)snprintf(text, cap, HEAD "%s", appliance_extra);
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(text + used, cap - used,
			"[sensor s%u]\nport = 0\nprefixes = 10.%u.%u.0/32\n", i, i / 256, i % 256);
	rc = load(text, cfg);
	free(text);
	return rc;
}

static void
test_pools_scale_with_sensors(void)
{
	struct tt_config cfg;

	/* at least the defaults; then so much a sensor; a given value always wins */
	CU_ASSERT_EQUAL_FATAL(load_sensors(1, "", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.hll_dense_sets, TT_DEFAULT_HLL_DENSE);
	CU_ASSERT_EQUAL(cfg.hll_sparse_sets, TT_DEFAULT_HLL_SPARSE);
	CU_ASSERT_EQUAL(cfg.hll_cells, TT_DEFAULT_HLL_CELLS);
	CU_ASSERT_EQUAL(cfg.country_cells, TT_DEFAULT_COUNTRY_CELLS);
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(load_sensors(4096, "", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.hll_dense_sets, 4096 * TT_HLL_DENSE_PER_SENSOR);
	CU_ASSERT_EQUAL(cfg.hll_sparse_sets, 4096 * TT_HLL_SPARSE_PER_SENSOR);
	CU_ASSERT_EQUAL(cfg.hll_cells, 4096 * TT_HLL_CELLS_PER_SENSOR);
	CU_ASSERT_EQUAL(cfg.country_cells, 4096 * TT_COUNTRY_CELLS_PER_SENSOR);
	tt_config_free(&cfg);
	/* cells stay powers of two */
	CU_ASSERT_EQUAL_FATAL(load_sensors(3000, "", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.country_cells, 1u << 20);
	CU_ASSERT_EQUAL(cfg.hll_cells, 1u << 17);
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(load_sensors(4096, "country_cells = 1024\nhll_cells = 2048\n"
		"hll_sparse_sets = 10\n", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.country_cells, 1024);
	CU_ASSERT_EQUAL(cfg.hll_cells, 2048);
	CU_ASSERT_EQUAL(cfg.hll_sparse_sets, 10);
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(load_sensors(4096, "hll_dense_sets = 100\n", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.hll_dense_sets, 100);
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(load_sensors(2, "hll_dense_sets = 0\n", &cfg), 0);
	CU_ASSERT_EQUAL(cfg.hll_dense_sets, 0);
	tt_config_free(&cfg);
}

static void
test_example_config(void)
{
	struct tt_config cfg;

	problems[0] = '\0';
	CU_ASSERT_EQUAL(tt_config_load(&cfg, example_path, collect, NULL), 0);
	if (problems[0] != '\0')
		fprintf(stderr, "\n%s", problems);
	tt_config_free(&cfg);
}

static void
test_parsers(void)
{
	uint32_t s;
	struct tt_prefix p;

	CU_ASSERT_EQUAL(tt_config_parse_duration("", &s), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_duration("d", &s), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_duration("5dd", &s), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_duration("99999999d", &s), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_duration("800d", &s), 0);
	CU_ASSERT_EQUAL(s, 800 * 86400);
	CU_ASSERT_EQUAL(tt_config_parse_duration("90", &s), 0);
	CU_ASSERT_EQUAL(s, 90);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("192.0.2.0", &p), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("/24", &p), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("192.0.2.0/", &p), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("300.0.2.0/24", &p), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("::/129", &p), -EINVAL);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("0.0.0.0/0", &p), 0);
	CU_ASSERT_EQUAL(tt_config_parse_prefix("2001:db8::/32", &p), 0);
	CU_ASSERT_EQUAL(p.family, 6);
	CU_ASSERT_EQUAL(p.len, 32);
}

static int
suite_init(void)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
suite_fini(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		{ "a missing file", test_missing_file },
		{ "syntax errors name their line", test_syntax },
		{ "unknown sections and keys", test_unknown_section_and_key },
		{ "duplicate keys, sections and sensors", test_duplicates },
		{ "[appliance] values", test_appliance_values },
		{ "[appliance] required keys, sensors required", test_missing_appliance_keys },
		{ "[redis] values", test_redis_values },
		{ "[retention] values", test_retention_values },
		{ "[sensor] values", test_sensor_values },
		{ "overlapping prefixes", test_overlaps },
		{ "prefixes_file errors name that file's line", test_prefixes_file },
		{ "a valid config, every key read", test_valid_config },
		{ "default watch_ports", test_default_watch_ports },
		{ "worker pools scale with the sensors unless given",
			test_pools_scale_with_sensors },
		{ "config/teiten.conf.example is valid", test_example_config },
		{ "duration and prefix parsers", test_parsers },
		{ NULL, NULL },
	};

	example_path = argc > 1 ? argv[1] : "config/teiten.conf.example";
	return run_suite("config", tests, suite_init, suite_fini);
}
