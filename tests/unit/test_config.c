/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading and validation: every rule of DESIGN.md section 3 reports
 * file, line, key and value. Each test writes its own file. The key table
 * (config_internal.h) is tested last, row by row, so that a key added with
 * the wrong field, kind or reason fails here, not on an appliance.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cunit_main.h"
#include "tt_classify.h"
#include "tt_config.h"
#include "config_internal.h"

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

/* Like write_file(), for text holding NUL bytes; sets the mode. */
static const char *
write_bytes(const char *name, const char *bytes, size_t len, mode_t mode)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(bytes, 1, len, f), len);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
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

static int
load_path(const char *path, struct tt_config *cfg)
{
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
	bool missing = false;
	va_list ap;
	int rc = load(text, &cfg);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_EQUAL(n_problems, 1);
	snprintf(where, sizeof(where), "%s/t.conf:%u: ", dir, line);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, where));
	va_start(ap, line);
	while ((frag = va_arg(ap, const char *)) != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(problems, frag));
		missing |= strstr(problems, frag) == NULL;
	}
	va_end(ap);
	if (n_problems != 1 || strstr(problems, where) == NULL || missing)
		fprintf(stderr, "\n    expected line %u, got: %s", line, problems);
	tt_config_free(&cfg);
}

/* expect_problem() for a file of `len` bytes (NULs and all). */
static void
expect_problem_bytes(const char *bytes, size_t len, unsigned int line, const char *frag)
{
	struct tt_config cfg;
	char where[300];
	int rc;

	rc = load_path(write_bytes("t.conf", bytes, len, 0644), &cfg);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_EQUAL(n_problems, 1);
	snprintf(where, sizeof(where), "%s/t.conf:%u: ", dir, line);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, where));
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, frag));
	if (n_problems != 1 || strstr(problems, where) == NULL || strstr(problems, frag) == NULL)
		fprintf(stderr, "\n    expected line %u and '%s', got: %s", line, frag, problems);
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

/* HEAD, then line 4 = `key = ` and a value of `n` bytes of `c`, then SENSOR. */
static const char *
with_value(const char *key, size_t n, char c)
{
	static char text[1024];
	size_t used = (size_t)snprintf(text, sizeof(text), HEAD "%s = ", key);

	memset(text + used, c, n);
	snprintf(text + used + n, sizeof(text) - used - n, "\n" SENSOR);
	return text;
}

static void
test_syntax(void)
{
	expect_problem(with_value("id", 256, 'x'), 4, "[appliance] id = xxx",
		"value is 256 characters, longer than 255", NULL);
	expect_problem(with_value("id                                                         "
		"                                                                         ", 200, 'x'),
		4, "characters (without its comment), longer than 322", NULL);
	expect_problem(with_value("k23456789012345678901234567890123456789012345678901234567890"
		"1234", 1, 'x'), 4, "key is 64 characters, longer than 63", NULL);
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
	expect_problem(HEAD "mirai_min_ports = 17\n" SENSOR, 4, "mirai_min_ports = 17",
		"from 1 to 16", NULL);
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

/* [redis] cluster: seed nodes as host:port, and never beside one Redis. */
static void
test_redis_cluster(void)
{
	struct tt_config cfg;
	const char *cur;
	char host[8];
	uint16_t port;

	CU_ASSERT_EQUAL_FATAL(load(HEAD "[redis]\ncluster = r1:7000, 127.0.0.1:7001,"
		"[::1]:7002\n" SENSOR, &cfg), 0);
	CU_ASSERT_STRING_EQUAL(cfg.redis_cluster, "r1:7000, 127.0.0.1:7001,[::1]:7002");
	/* no default host: the cluster is where it publishes */
	CU_ASSERT_PTR_NULL(cfg.redis_host);
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(load(HEAD "[redis]\ncluster =\n" SENSOR, &cfg), 0);
	CU_ASSERT_PTR_NULL(cfg.redis_cluster);
	CU_ASSERT_STRING_EQUAL(cfg.redis_host, "127.0.0.1");
	tt_config_free(&cfg);

	expect_problem(HEAD "[redis]\ncluster = r1:7000, r2\n" SENSOR, 5,
		"[redis] cluster = r1:7000, r2: 'r2' is not host:port", NULL);
	expect_problem(HEAD "[redis]\ncluster = r1:0\n" SENSOR, 5, "'r1:0' is not host:port",
		"from 1 to 65535", NULL);
	expect_problem(HEAD "[redis]\ncluster = ::1:7000\n" SENSOR, 5, "'::1:7000'",
		"in brackets", NULL);
	expect_problem(HEAD "[redis]\ncluster = r1:7000,,r2:7000\n" SENSOR, 5,
		"'' is not host:port", NULL);
	expect_problem(HEAD "[redis]\ncluster = :7000\n" SENSOR, 5, "':7000'", NULL);
	expect_problem(HEAD "[redis]\ncluster = r1:70000\n" SENSOR, 5, "'r1:70000'", NULL);
	expect_problem(HEAD "[redis]\ncluster = [::1]7000\n" SENSOR, 5, "'[::1]7000'", NULL);
	/* one Redis or a cluster, said on the cluster's line */
	expect_problem(HEAD "[redis]\nhost = r0\ncluster = r1:7000\n" SENSOR, 6,
		"cluster = r1:7000 and host:", "not both", NULL);
	expect_problem(HEAD "[redis]\ncluster = r1:7000\nport = 6380\n" SENSOR, 5,
		"and port:", NULL);
	expect_problem(HEAD "[redis]\nunix = /run/r.sock\ncluster = r1:7000\n" SENSOR, 6,
		"and unix:", NULL);

	/* the walk the publisher does */
	cur = " a:1 ,[::1]:2";
	CU_ASSERT_EQUAL(tt_config_endpoint_next(&cur, host, sizeof(host), &port), 1);
	CU_ASSERT_STRING_EQUAL(host, "a");
	CU_ASSERT_EQUAL(port, 1);
	CU_ASSERT_EQUAL(tt_config_endpoint_next(&cur, host, sizeof(host), &port), 1);
	CU_ASSERT_STRING_EQUAL(host, "::1");
	CU_ASSERT_EQUAL(port, 2);
	CU_ASSERT_EQUAL(tt_config_endpoint_next(&cur, host, sizeof(host), &port), 0);
	cur = "longhostname:1";
	CU_ASSERT_EQUAL(tt_config_endpoint_next(&cur, host, sizeof(host), &port), -ENAMETOOLONG);
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
		"prefixes_file = missing.txt", "cannot read", "No such file", NULL);
	write_file("p.txt", "# darknet A\n203.0.113.0/24\n\n2001:db8:5::/48  # v6\nnonsense\n");
	CU_ASSERT_EQUAL(load(HEAD "[sensor a]\nport = 0\nprefixes_file = p.txt\n", &cfg),
		-EINVAL);
	CU_ASSERT_EQUAL(n_problems, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/p.txt:5: prefix = nonsense"));
	tt_config_free(&cfg);
}

/* A prefixes_file line is read whole, however long: a comment is a comment. */
static void
test_prefixes_file_long_lines(void)
{
	static const char nul[] = "192.0.2.0/24\n198.51.100.0/24\0 10.0.0.0/8\n";
	struct tt_config cfg;
	char text[1100];

	/* 1,023 bytes is where a 1 KiB fgets() buffer ends: the tail of the
	 * comment would start a line of its own */
	memset(text, 'x', sizeof(text));
	text[0] = '#';
	memcpy(text + 1023, "10.0.0.0/8\n203.0.113.0/24\n", 26);
	write_bytes("long.txt", text, 1023 + 26, 0644);
	CU_ASSERT_EQUAL_FATAL(load(HEAD "[sensor a]\nport = 0\nprefixes_file = long.txt\n",
		&cfg), 0);
	CU_ASSERT_EQUAL_FATAL(cfg.n_prefixes, 1);
	CU_ASSERT_EQUAL(cfg.prefixes[0].len, 24);
	CU_ASSERT_EQUAL(cfg.prefixes[0].line, 2);
	tt_config_free(&cfg);
	/* a NUL byte in it is an error, not the end of the line */
	write_bytes("nul.txt", nul, sizeof(nul) - 1, 0644);
	CU_ASSERT_EQUAL(load(HEAD "[sensor a]\nport = 0\nprefixes_file = nul.txt\n", &cfg),
		-EINVAL);
	CU_ASSERT_EQUAL(n_problems, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/nul.txt:2: prefix = 198.51.100.0/24: NUL byte"));
	if (n_problems != 1)
		fprintf(stderr, "\n    got: %s", problems);
	tt_config_free(&cfg);
}

/* The config file itself: lengths as rte_cfgfile really limits them. */
static void
test_config_line_lengths(void)
{
	struct tt_config cfg;
	char text[1024];
	size_t used;

	/* a label of 255 characters in a line of 263 */
	used = (size_t)snprintf(text, sizeof(text), HEAD SENSOR "label = ");
	memset(text + used, 'y', 255);
	strcpy(text + used + 255, "\n");
	CU_ASSERT_EQUAL_FATAL(load(text, &cfg), 0);
	CU_ASSERT_EQUAL(strlen(cfg.sensors[0].label), 255);
	tt_config_free(&cfg);
	/* a line of exactly 255 characters */
	used = (size_t)snprintf(text, sizeof(text), HEAD SENSOR "label = ");
	memset(text + used, 'y', 255 - 8);
	strcpy(text + used + 255 - 8, "\n");
	CU_ASSERT_EQUAL_FATAL(load(text, &cfg), 0);
	CU_ASSERT_EQUAL(strlen(cfg.sensors[0].label), 247);
	tt_config_free(&cfg);
	/* a comment of any length is a comment, alone or after a value */
	used = (size_t)snprintf(text, sizeof(text), HEAD SENSOR "; ");
	memset(text + used, 'c', 600);
	used += 600;
	used += (size_t)snprintf(text + used, sizeof(text) - used, "\nlocation = overseas ; ");
	memset(text + used, 'c', 300);
	strcpy(text + used + 300, "\n");
	CU_ASSERT_EQUAL_FATAL(load(text, &cfg), 0);
	CU_ASSERT_EQUAL(cfg.sensors[0].location, TT_LOCATION_OVERSEAS);
	tt_config_free(&cfg);
}

static void
test_bytes_and_headers(void)
{
	static const char bom[] = "\xef\xbb\xbf" HEAD SENSOR;
	static const char nul[] = HEAD "[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\0, "
		"10.0.0.0/8\n";
	struct tt_config cfg;

	/* a UTF-8 byte order mark, as some editors write, is not text */
	CU_ASSERT_EQUAL(load_path(write_bytes("t.conf", bom, sizeof(bom) - 1, 0644), &cfg), 0);
	CU_ASSERT_EQUAL(n_problems, 0);
	CU_ASSERT_EQUAL(cfg.n_sensors, 1);
	tt_config_free(&cfg);
	/* a NUL byte would end the value where it stands */
	expect_problem_bytes(nul, sizeof(nul) - 1, 6, "[sensor a] prefixes = 192.0.2.0/25: "
		"NUL byte at column 24");
	expect_problem(HEAD "[sensor a]]\nport = 0\nprefixes = 192.0.2.0/25\n", 4,
		"[sensor a]]", "after the closing ']'", NULL);
	expect_problem(HEAD "[sensor a] x\nport = 0\nprefixes = 192.0.2.0/25\n", 4,
		"[sensor a] x", "after the closing ']'", NULL);
}

/* A sensor must end up with at least one prefix, whatever its keys say. */
static void
test_sensor_without_prefixes(void)
{
	write_file("empty.txt", "");
	write_file("comments.txt", "# nothing yet\n\n   # really\n");
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes_file = empty.txt\n", 6,
		"[sensor a] prefixes_file = empty.txt", "no prefix in it", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes_file = comments.txt\nprefixes =\n", 6,
		"[sensor a] prefixes_file = comments.txt", "no prefix in it", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes =\n", 4,
		"[sensor a] prefixes: missing", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes_file = .\n", 6,
		"[sensor a] prefixes_file = .", "is a directory", NULL);
}

/* Run fn with an alarm: a loader that blocks or loops fails instead of hanging. */
static void
within(unsigned int seconds, void (*fn)(void))
{
	alarm(seconds);
	fn();
	alarm(0);
}

static void
special_files(void)
{
	struct tt_config cfg;
	char fifo[256], text[512];

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	CU_ASSERT_EQUAL(load_path("/dev/zero", &cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/dev/zero:0: cannot read: not a regular file "
		"(a character device)"));
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL(load_path("/dev/urandom", &cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/dev/urandom:0: cannot read: not a regular"));
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL(load_path(fifo, &cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, "/fifo:0: cannot read: not a regular file "
		"(a FIFO)"));
	tt_config_free(&cfg);
	CU_ASSERT_EQUAL(load_path(dir, &cfg), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(problems, ":0: cannot read: is a directory"));
	tt_config_free(&cfg);

	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes_file = /dev/zero\n", 6,
		"[sensor a] prefixes_file = /dev/zero", "not a regular file", NULL);
	expect_problem(HEAD "[sensor a]\nport = 0\nprefixes_file = fifo\n", 6,
		"[sensor a] prefixes_file = fifo", "not a regular file (a FIFO)", NULL);
	snprintf(text, sizeof(text), HEAD "geoip_db = %s\n" SENSOR, fifo);
	expect_problem(text, 4, "geoip_db = ", "not a regular file (a FIFO)", NULL);
	expect_problem(HEAD "asn_db = /dev/zero\n" SENSOR, 4, "asn_db = /dev/zero",
		"not a regular file", NULL);
	expect_problem(HEAD "asn_db = .\n" SENSOR, 4, "asn_db = .", "is a directory", NULL);
	expect_problem(HEAD "[redis]\npassword_file = fifo\n" SENSOR, 5, "password_file = fifo",
		"not a regular file (a FIFO)", NULL);
	expect_problem(HEAD "[redis]\npassword_file = /dev/zero\n" SENSOR, 5,
		"password_file = /dev/zero", "not a regular file", NULL);
	unlink(fifo);
}

static void
test_special_files(void)
{
	within(20, special_files);
}

/* The Redis password: a regular file only its owner can read, not empty. */
static void
test_password_file(void)
{
	struct tt_config cfg;

	write_bytes("open.pass", "secret\n", 7, 0644);
	expect_problem(HEAD "[redis]\npassword_file = open.pass\n" SENSOR, 5,
		"[redis] password_file = open.pass", "permissions 0644", "chmod 600", NULL);
	write_bytes("group.pass", "secret\n", 7, 0640);
	expect_problem(HEAD "[redis]\npassword_file = group.pass\n" SENSOR, 5,
		"password_file = group.pass", "permissions 0640", NULL);
	write_bytes("empty.pass", "", 0, 0600);
	expect_problem(HEAD "[redis]\npassword_file = empty.pass\n" SENSOR, 5,
		"password_file = empty.pass", "empty", NULL);
	write_bytes("newline.pass", "\n", 1, 0600);
	expect_problem(HEAD "[redis]\npassword_file = newline.pass\n" SENSOR, 5,
		"password_file = newline.pass", "empty", NULL);
	expect_problem(HEAD "[redis]\npassword_file = .\n" SENSOR, 5,
		"password_file = .", "is a directory", NULL);
	write_bytes("nul.pass", "sec\0ret\n", 8, 0600);
	expect_problem(HEAD "[redis]\npassword_file = nul.pass\n" SENSOR, 5,
		"password_file = nul.pass", "NUL byte", NULL);
	{
		char long_pass[600];

		memset(long_pass, 'p', sizeof(long_pass));
		write_bytes("long.pass", long_pass, sizeof(long_pass), 0600);
		expect_problem(HEAD "[redis]\npassword_file = long.pass\n" SENSOR, 5,
			"password_file = long.pass", "600 bytes, longer than 511", NULL);
	}
	write_bytes("good.pass", "secret\n", 7, 0600);
	CU_ASSERT_EQUAL(load(HEAD "[redis]\npassword_file = good.pass\n" SENSOR, &cfg), 0);
	CU_ASSERT_EQUAL(n_problems, 0);
	tt_config_free(&cfg);
	write_bytes("owner.pass", "secret\n", 7, 0400);
	CU_ASSERT_EQUAL(load(HEAD "[redis]\npassword_file = owner.pass\n" SENSOR, &cfg), 0);
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

static void
test_alerts_keys(void)
{
	struct tt_config cfg;
	struct tt_alerts_conf ac;
	const char *names[2];

	/* bad values first: each names file:line, key and value */
	expect_problem(HEAD SENSOR "[alerts]\nsurge_min_score = 0.5\n", 8,
		"[alerts] surge_min_score = 0.5", "from 1 to 300", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nsurge_min_score = nan\n", 8,
		"surge_min_score = nan", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nbroad_share = 1.5\n", 8, "broad_share = 1.5",
		NULL);
	expect_problem(HEAD SENSOR "[alerts]\nsurge_min_pkts = 0\n", 8, "surge_min_pkts = 0",
		"whole number", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nrank_top_n = 10x\n", 8, "rank_top_n = 10x", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nmax_subjects = 8\n", 8, "max_subjects = 8", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nenabled = maybe\n", 8, "enabled = maybe",
		"yes or no", NULL);
	expect_problem(HEAD SENSOR "[alerts]\nwarmup_hours = 1\nwarmup_hours = 2\n", 9,
		"duplicate key", NULL);

	/* no section: the detectors' defaults */
	CU_ASSERT_EQUAL_FATAL(load(HEAD SENSOR, &cfg), 0);
	CU_ASSERT(cfg.alerts_enabled);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.min_score, TT_ALERTS_DEFAULT_MIN_SCORE, 0);
	CU_ASSERT_EQUAL(cfg.alerts.warmup_hours, TT_ALERTS_DEFAULT_WARMUP_HOURS);
	CU_ASSERT_EQUAL(tt_config_alerts_conf(&cfg, &ac, names), 0);
	CU_ASSERT_EQUAL(ac.n_sensors, 1);
	CU_ASSERT_STRING_EQUAL(ac.sensor_names[0], "a");
	CU_ASSERT_EQUAL(ac.home_country, tt_classify_country_index("JP"));
	tt_config_free(&cfg);

	CU_ASSERT_EQUAL_FATAL(load(HEAD SENSOR "[alerts]\nenabled = no\n"
		"surge_min_score = 6.5\nsurge_min_ratio = 2\nsurge_min_pkts = 40\n"
		"surge_min_srcs = 12\nhome_mirai_min_srcs = 7\nbroad_share = 0.6\n"
		"baseline_min = 0.5\nbaseline_days = 14\nlevel_minutes = 60\nlevel_hours = 12\n"
		"warmup_hours = 24\ncooldown_minutes = 30\nrealert_gain = 3\nrank_top_n = 20\n"
		"rank_margin = 4\nrank_min_pkts = 500\nrank_min_score = 2.5\nrank_lookback_hours = 48\n"
		"rank_lookback_days = 14\nnew_mirai_port_min_pkts = 25\n"
		"new_mirai_port_min_srcs = 3\nnew_mirai_port_horizon_days = 30\n"
		"max_subjects = 1024\nmax_victims = 100\n", &cfg), 0);
	CU_ASSERT_EQUAL(n_problems, 0);
	CU_ASSERT(!cfg.alerts_enabled);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.min_score, 6.5, 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.min_ratio, 2, 0);
	CU_ASSERT_EQUAL(cfg.alerts.min_pkts, 40);
	CU_ASSERT_EQUAL(cfg.alerts.min_srcs, 12);
	CU_ASSERT_EQUAL(cfg.alerts.home_mirai_min_srcs, 7);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.broad_share, 0.6, 0);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.baseline_min, 0.5, 0);
	CU_ASSERT_EQUAL(cfg.alerts.baseline_days, 14);
	CU_ASSERT_EQUAL(cfg.alerts.level_minutes, 60);
	CU_ASSERT_EQUAL(cfg.alerts.level_hours, 12);
	CU_ASSERT_EQUAL(cfg.alerts.warmup_hours, 24);
	CU_ASSERT_EQUAL(cfg.alerts.cooldown_minutes, 30);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.realert_gain, 3, 0);
	CU_ASSERT_EQUAL(cfg.alerts.rank_top_n, 20);
	CU_ASSERT_EQUAL(cfg.alerts.rank_margin, 4);
	CU_ASSERT_EQUAL(cfg.alerts.rank_min_pkts, 500);
	CU_ASSERT_DOUBLE_EQUAL(cfg.alerts.rank_min_score, 2.5, 0);
	CU_ASSERT_EQUAL(cfg.alerts.rank_lookback_hours, 48);
	CU_ASSERT_EQUAL(cfg.alerts.rank_lookback_days, 14);
	CU_ASSERT_EQUAL(cfg.alerts.new_mirai_port_min_pkts, 25);
	CU_ASSERT_EQUAL(cfg.alerts.new_mirai_port_min_srcs, 3);
	CU_ASSERT_EQUAL(cfg.alerts.new_mirai_port_horizon_days, 30);
	CU_ASSERT_EQUAL(cfg.alerts.max_subjects, 1024);
	CU_ASSERT_EQUAL(cfg.alerts.max_victims, 100);
	CU_ASSERT_EQUAL(tt_config_alerts_conf(&cfg, &ac, names), 0);
	tt_config_free(&cfg);
}

/* --- the key table (config_keys.c) --- */

static bool
is_string_kind(enum tt_config_key_kind kind)
{
	return kind == TT_CONFIG_KEY_NAME || kind == TT_CONFIG_KEY_KEY_PREFIX ||
		kind == TT_CONFIG_KEY_TEXT || kind == TT_CONFIG_KEY_OPTIONAL_TEXT ||
		kind == TT_CONFIG_KEY_HOST || kind == TT_CONFIG_KEY_ENDPOINTS ||
		kind == TT_CONFIG_KEY_MMDB ||
		kind == TT_CONFIG_KEY_SECRET_FILE;
}

/* The size of the field a kind writes; 0: it writes none (appends prefixes). */
static size_t
kind_size(const struct tt_config_key *k)
{
	switch (k->kind) {
	case TT_CONFIG_KEY_WHOLE:
		return k->size == sizeof(uint16_t) ? sizeof(uint16_t) : sizeof(uint32_t);
	case TT_CONFIG_KEY_POW2:
	case TT_CONFIG_KEY_DURATION:
		return sizeof(uint32_t);
	case TT_CONFIG_KEY_REAL:
		return sizeof(double);
	case TT_CONFIG_KEY_YES_NO:
		return sizeof(bool);
	case TT_CONFIG_KEY_CHOICE:
		return sizeof(unsigned int);
	case TT_CONFIG_KEY_COUNTRY:
		return sizeof(((struct tt_config *)NULL)->home_country);
	case TT_CONFIG_KEY_SERVICES:
		return sizeof(((struct tt_config *)NULL)->watch_ports);
	case TT_CONFIG_KEY_DPDK_PORT:
		return sizeof(uint16_t);
	case TT_CONFIG_KEY_PREFIXES:
	case TT_CONFIG_KEY_PREFIXES_FILE:
		return 0;
	default:
		return is_string_kind(k->kind) ? sizeof(char *) : SIZE_MAX;
	}
}

/* Does the kind tell a bad value its row's reason (key->expect)? */
static bool
kind_rejects_with_expect(enum tt_config_key_kind kind)
{
	return kind != TT_CONFIG_KEY_TEXT && kind != TT_CONFIG_KEY_OPTIONAL_TEXT &&
		kind != TT_CONFIG_KEY_MMDB && kind != TT_CONFIG_KEY_SECRET_FILE &&
		kind != TT_CONFIG_KEY_SERVICES && kind != TT_CONFIG_KEY_ENDPOINTS &&
		kind != TT_CONFIG_KEY_PREFIXES &&
		kind != TT_CONFIG_KEY_PREFIXES_FILE;
}

static void
report_row(const struct tt_config_key *k, const char *what)
{
	fprintf(stderr, "\n    [%s] %s: %s", tt_config_sections[k->section].name, k->name, what);
}

/* A key is named once in its section; a section once. */
static void
test_keys_unique(void)
{
	unsigned int i, j;

	CU_ASSERT(tt_config_n_keys > 0);
	CU_ASSERT(tt_config_n_keys <= TT_CONFIG_KEYS_MAX);
	for (i = 0; i < TT_CONFIG_SEC_COUNT; i++)
		for (j = i + 1; j < TT_CONFIG_SEC_COUNT; j++)
			CU_ASSERT(strcmp(tt_config_sections[i].name, tt_config_sections[j].name) != 0);
	for (i = 0; i < tt_config_n_keys; i++) {
		const struct tt_config_key *a = &tt_config_keys[i];

		CU_ASSERT(a->section < TT_CONFIG_SEC_COUNT);
		CU_ASSERT(a->kind < TT_CONFIG_KEY_KIND_COUNT);
		for (j = i + 1; j < tt_config_n_keys; j++) {
			const struct tt_config_key *b = &tt_config_keys[j];

			if (a->section == b->section && strcmp(a->name, b->name) == 0) {
				CU_FAIL("a key has two rows");
				report_row(a, "two rows");
			}
		}
		CU_ASSERT_PTR_EQUAL(tt_config_key_find(a->section, a->name), a);
	}
	CU_ASSERT_PTR_NULL(tt_config_key_find(TT_CONFIG_SEC_REDIS, "id"));
}

/*
 * Every field a key sets is set by that row alone, is as large as its kind
 * writes, and is named for the key: "port_cells" sets port_cells, [redis]
 * "host" sets redis_host, [alerts] "surge_min_score" sets alerts.min_score.
 * A row copied for a new key and left pointing at its model's field, or at
 * a field of no key, fails here.
 */
static void
test_keys_fields(void)
{
	unsigned int i, j;

	for (i = 0; i < tt_config_n_keys; i++) {
		const struct tt_config_key *a = &tt_config_keys[i];
		size_t whole = a->section == TT_CONFIG_SEC_SENSOR ? sizeof(struct tt_sensor_conf) :
			sizeof(struct tt_config);
		const char *f, *sec = tt_config_sections[a->section].name;
		size_t klen = strlen(a->name), flen;

		if (kind_size(a) == 0) {
			CU_ASSERT_PTR_NULL(a->field);
			CU_ASSERT(a->repeatable);
			continue;
		}
		CU_ASSERT_FALSE(a->repeatable);
		CU_ASSERT_PTR_NOT_NULL_FATAL(a->field);
		if (a->size != kind_size(a)) {
			CU_FAIL("a field's size is not its kind's");
			report_row(a, a->field);
		}
		CU_ASSERT(a->off + a->size <= whole);
		for (j = 0; j < tt_config_n_keys; j++) {
			const struct tt_config_key *b = &tt_config_keys[j];
			bool same_struct = (a->section == TT_CONFIG_SEC_SENSOR) ==
				(b->section == TT_CONFIG_SEC_SENSOR);

			if (j == i || kind_size(b) == 0 || !same_struct)
				continue;
			if (a->off < b->off + b->size && b->off < a->off + a->size) {
				CU_FAIL("two keys set one field");
				report_row(a, b->name);
			}
		}
		f = strrchr(a->field, '.');
		f = f != NULL ? f + 1 : a->field;
		if (strncmp(f, sec, strlen(sec)) == 0 && f[strlen(sec)] == '_')
			f += strlen(sec) + 1;
		flen = strlen(f);
		if (!(strcmp(a->name, f) == 0 || (klen > flen + 1 &&
				strcmp(a->name + klen - flen, f) == 0 && a->name[klen - flen - 1] == '_'))) {
			CU_FAIL("a key sets a field named for another");
			report_row(a, a->field);
		}
	}
}

/* What each row tells an operator, and what the loader asks of it. */
static void
test_keys_rules(void)
{
	unsigned int i;

	for (i = 0; i < tt_config_n_keys; i++) {
		const struct tt_config_key *k = &tt_config_keys[i];
		unsigned int conversions = 0;
		const char *p;

		CU_ASSERT(k->lo <= k->hi);
		/* a fallback is parsed once a load, into struct tt_config */
		if (k->fallback != NULL)
			CU_ASSERT(k->section != TT_CONFIG_SEC_SENSOR);
		if (k->missing != NULL)
			CU_ASSERT_FALSE(k->repeatable);
		if (k->kind == TT_CONFIG_KEY_CHOICE) {
			CU_ASSERT_PTR_NOT_NULL_FATAL(k->choices);
			CU_ASSERT_PTR_NOT_NULL(k->choices[0]);
		}
		if (!kind_rejects_with_expect(k->kind)) {
			CU_ASSERT_PTR_NULL(k->expect);
			continue;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(k->expect);
		/* expect is a printf format of (lo, hi): %g for REAL, %u otherwise */
		for (p = strchr(k->expect, '%'); p != NULL; p = strchr(p + 2, '%')) {
			if (p[1] == '%')
				continue;
			conversions++;
			if (p[1] != (k->kind == TT_CONFIG_KEY_REAL ? 'g' : 'u')) {
				CU_FAIL("a reason's format converts what its parser does not pass");
				report_row(k, k->expect);
			}
		}
		CU_ASSERT(conversions <= 2);
	}
}

/*
 * Every key is documented where operators look: config/teiten.conf.example
 * shows it in its section, set or commented out ("; key = ...").
 */
static void
test_keys_documented(void)
{
	FILE *f = fopen(example_path, "r");
	static char text[64 << 10];
	size_t len;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	CU_ASSERT_FATAL(len < sizeof(text) - 1);
	text[len] = '\0';
	for (i = 0; i < tt_config_n_keys; i++) {
		const struct tt_config_key *k = &tt_config_keys[i];
		const char *sec = tt_config_sections[k->section].name;
		char current[64] = "", want[80];
		bool found = false;
		char *line, *save = NULL, *copy = strdup(text);

		CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
		snprintf(want, sizeof(want), "%s =", k->name);
		for (line = strtok_r(copy, "\n", &save); line != NULL && !found;
				line = strtok_r(NULL, "\n", &save)) {
			const char *at;

			if (line[0] == '[') {
				snprintf(current, sizeof(current), "%.*s", (int)strcspn(line + 1, " ]"),
					line + 1);
				continue;
			}
			if (strcmp(current, sec) != 0)
				continue;
			for (at = strstr(line, want); at != NULL && !found; at = strstr(at + 1, want))
				found = at == line || at[-1] == ' ' || at[-1] == ';';
		}
		free(copy);
		if (!found) {
			CU_FAIL("a key is not in the example config");
			report_row(k, example_path);
		}
	}
}

/*
 * The config a field test loads: one sensor, and `key = value` last in its
 * section, so that no line the config records moves. The keys every load
 * has stand each before a comment line, and a key under test after it: its
 * line changes, and a parser that writes its line anywhere else is seen.
 */
static int
load_with(const struct tt_config_key *k, const char *value, struct tt_config *cfg)
{
	bool appliance = k->section == TT_CONFIG_SEC_APPLIANCE;
	bool sensor = k->section == TT_CONFIG_SEC_SENSOR;
	bool is_id = value != NULL && appliance && strcmp(k->name, "id") == 0;
	bool is_country = value != NULL && appliance && strcmp(k->name, "home_country") == 0;
	bool is_port = value != NULL && sensor && strcmp(k->name, "port") == 0;
	bool extra = value != NULL && !is_id && !is_country && !is_port;
	char text[2048], line[600];

	snprintf(line, sizeof(line), "%s%s%s%s = %s\n", appliance || sensor ? "" : "[",
		appliance || sensor ? "" : tt_config_sections[k->section].name,
		appliance || sensor ? "" : "]\n", k->name, value != NULL ? value : "");
	snprintf(text, sizeof(text), "[sensor a]\n%sport = %s\n%sprefixes = 192.0.2.0/25\n%s"
		"[appliance]\n%sid = %s\n%s%shome_country = %s\n%s%s",
		is_port ? ";\n" : "", is_port ? value : "0", is_port ? "" : ";\n",
		extra && sensor ? line : "",
		is_id ? ";\n" : "", is_id ? value : "t1", is_id ? "" : ";\n",
		is_country ? ";\n" : "", is_country ? value : "JP", is_country ? "" : ";\n",
		extra && !sensor ? line : "");
	return load(text, cfg);
}

/* A valid value for the key, other than what it holds in @p base. */
static const char *
sample(const struct tt_config_key *k, const struct tt_config *base, const char *mmdb)
{
	static char v[64];
	const void *field = (const char *)(k->section == TT_CONFIG_SEC_SENSOR ?
		(const void *)&base->sensors[0] : (const void *)base) + k->off;
	double now = 0;
	unsigned int i;

	switch (k->kind) {
	case TT_CONFIG_KEY_WHOLE:
	case TT_CONFIG_KEY_POW2:
	case TT_CONFIG_KEY_DURATION:
	case TT_CONFIG_KEY_DPDK_PORT:
		now = k->size == sizeof(uint16_t) ? *(const uint16_t *)field :
			*(const uint32_t *)field;
		snprintf(v, sizeof(v), "%u", (uint32_t)(now == k->lo ? k->hi : k->lo));
		return v;
	case TT_CONFIG_KEY_REAL:
		now = *(const double *)field;
		snprintf(v, sizeof(v), "%.17g", now == k->lo ? k->hi : k->lo);
		return v;
	case TT_CONFIG_KEY_YES_NO:
		return *(const bool *)field ? "no" : "yes";
	case TT_CONFIG_KEY_CHOICE:
		i = *(const unsigned int *)field + 1;
		return k->choices[i] != NULL ? k->choices[i] : k->choices[0];
	case TT_CONFIG_KEY_NAME:
	case TT_CONFIG_KEY_KEY_PREFIX:
	case TT_CONFIG_KEY_TEXT:
	case TT_CONFIG_KEY_OPTIONAL_TEXT:
	case TT_CONFIG_KEY_HOST:
		return "x1";
	case TT_CONFIG_KEY_ENDPOINTS:
		return "127.0.0.1:7000";
	case TT_CONFIG_KEY_COUNTRY:
		return "US";
	case TT_CONFIG_KEY_MMDB:
		return mmdb;
	case TT_CONFIG_KEY_SECRET_FILE:
		write_bytes("key.pass", "secret\n", 7, 0600);
		return "key.pass";
	case TT_CONFIG_KEY_SERVICES:
		return "tcp/1";
	case TT_CONFIG_KEY_PREFIXES:
		return "198.51.100.0/24";
	case TT_CONFIG_KEY_PREFIXES_FILE:
		write_file("one.txt", "198.51.100.0/24\n");
		return "one.txt";
	default:
		return NULL;
	}
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Blank [off, off + size) in both copies: a difference there is allowed. */
static void
allow(void *a, void *b, size_t off, size_t size)
{
	memset((char *)a + off, 0, size);
	memset((char *)b + off, 0, size);
}

/*
 * Compare two copies of a struct (config, or sensor when @p sensor): the
 * string fields of rows by their text, then every other byte. @p k's own
 * field is allowed to differ. @return true if they agree.
 */
static bool
same_struct(void *a, void *b, size_t size, bool sensor, const struct tt_config_key *k)
{
	unsigned int i;

	for (i = 0; i < tt_config_n_keys; i++) {
		const struct tt_config_key *r = &tt_config_keys[i];

		if ((r->section == TT_CONFIG_SEC_SENSOR) != sensor || !is_string_kind(r->kind))
			continue;
		if (r != k && !same_string(*(char **)((char *)a + r->off),
				*(char **)((char *)b + r->off)))
			return false;
		allow(a, b, r->off, r->size);
	}
	if (k != NULL && (k->section == TT_CONFIG_SEC_SENSOR) == sensor && k->size != 0)
		allow(a, b, k->off, k->size);
	return memcmp(a, b, size) == 0;
}

/*
 * Each key, set alone to a valid value that is not its default, changes its
 * row's field and nothing else: not another key's field, nor a field of no
 * key. What a kind changes beside its field is named here: the count of
 * watch_ports, the line of a sensor's port, the prefixes; and a unix socket
 * or a cluster leaves the Redis host without its default.
 */
static void
test_keys_set_their_field(void)
{
	struct tt_config base, ex;
	unsigned int i;
	char mmdb[4096];

	CU_ASSERT_EQUAL_FATAL(tt_config_load(&ex, example_path, NULL, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex.geoip_db);
	snprintf(mmdb, sizeof(mmdb), "%s", ex.geoip_db);
	tt_config_free(&ex);
	CU_ASSERT_EQUAL_FATAL(load_with(&tt_config_keys[0], NULL, &base), 0);
	for (i = 0; i < tt_config_n_keys; i++) {
		const struct tt_config_key *k = &tt_config_keys[i];
		const char *v = sample(k, &base, mmdb);
		struct tt_config got, a, b;
		struct tt_sensor_conf sa, sb;
		bool prefixes = k->kind == TT_CONFIG_KEY_PREFIXES ||
			k->kind == TT_CONFIG_KEY_PREFIXES_FILE;
		bool same = true;
		uint32_t j;

		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		if (load_with(k, v, &got) != 0) {
			CU_FAIL("a sample value is refused");
			report_row(k, problems);
			continue;
		}
		memcpy(&a, &base, sizeof(a));
		memcpy(&b, &got, sizeof(b));
		/* what no row names: the files read, the sensors, the prefixes */
		same &= same_string(a.path, b.path) &&
			b.n_files == a.n_files + (k->kind == TT_CONFIG_KEY_PREFIXES_FILE);
		for (j = 0; j < a.n_files && j < b.n_files; j++)
			same &= same_string(a.files[j], b.files[j]);
		same &= a.n_sensors == b.n_sensors && a.n_sensors == 1;
		if (same) {
			memcpy(&sa, &a.sensors[0], sizeof(sa));
			memcpy(&sb, &b.sensors[0], sizeof(sb));
			if (k->kind == TT_CONFIG_KEY_DPDK_PORT)
				allow(&sa, &sb, offsetof(struct tt_sensor_conf, port_line),
					sizeof(sa.port_line));
			same &= same_struct(&sa, &sb, sizeof(sa), true, k);
		}
		if (prefixes) {
			same &= b.n_prefixes == a.n_prefixes + 1;
		} else {
			same &= a.n_prefixes == b.n_prefixes;
			for (j = 0; same && j < a.n_prefixes; j++) {
				struct tt_prefix pa = a.prefixes[j], pb = b.prefixes[j];

				same &= same_string(pa.file, pb.file);
				pa.file = pb.file = NULL;
				same &= memcmp(&pa, &pb, sizeof(pa)) == 0;
			}
		}
		allow(&a, &b, offsetof(struct tt_config, path), sizeof(a.path));
		allow(&a, &b, offsetof(struct tt_config, files), sizeof(a.files));
		allow(&a, &b, offsetof(struct tt_config, n_files), sizeof(a.n_files));
		allow(&a, &b, offsetof(struct tt_config, sensors), sizeof(a.sensors));
		allow(&a, &b, offsetof(struct tt_config, prefixes), sizeof(a.prefixes));
		allow(&a, &b, offsetof(struct tt_config, n_prefixes), sizeof(a.n_prefixes));
		if (k->kind == TT_CONFIG_KEY_SERVICES)
			allow(&a, &b, offsetof(struct tt_config, n_watch_ports),
				sizeof(a.n_watch_ports));
		if ((k->kind == TT_CONFIG_KEY_OPTIONAL_TEXT &&
				k->off == offsetof(struct tt_config, redis_unix)) ||
				k->kind == TT_CONFIG_KEY_ENDPOINTS) {
			same &= base.redis_host != NULL && got.redis_host == NULL;
			allow(&a, &b, offsetof(struct tt_config, redis_host), sizeof(a.redis_host));
		}
		same &= same_struct(&a, &b, sizeof(a), false, k);
		if (!same) {
			CU_FAIL("a key changes more than its field");
			report_row(k, v);
		}
		/* and its own field did change */
		if (k->size != 0) {
			const char *fa = (const char *)(k->section == TT_CONFIG_SEC_SENSOR ?
				(void *)&base.sensors[0] : (void *)&base) + k->off;
			const char *fb = (const char *)(k->section == TT_CONFIG_SEC_SENSOR ?
				(void *)&got.sensors[0] : (void *)&got) + k->off;
			bool changed = is_string_kind(k->kind) ?
				!same_string(*(char *const *)fa, *(char *const *)fb) :
				memcmp(fa, fb, k->size) != 0;

			if (!changed) {
				CU_FAIL("a key leaves its field as it was");
				report_row(k, v);
			}
		}
		tt_config_free(&got);
	}
	tt_config_free(&base);
}


/*
 * A reload (tt_config_align()): a sensor keeps its index, one gone is
 * retired in place, a new one comes last; restart-only keys are refused
 * by name; the slots are a limit; the shard sizes stay as started.
 */
#define RELOAD_HEAD "[appliance]\nid = r1\nhome_country = JP\n" \
	"port_cells = 4096\ncountry_cells = 1024\nhll_cells = 1024\n" \
	"hll_sparse_sets = 1024\nhll_dense_sets = 16\nsources_max = 1024\n" \
	"source_cells = 1024\n"

static void
test_reload_align(void)
{
	struct tt_config cur, next;
	struct tt_config_changes ch;
	char why[256];

	CU_ASSERT_EQUAL_FATAL(load(RELOAD_HEAD
		"[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\n"
		"[sensor b]\nport = 1\nprefixes = 198.51.100.0/24\nlabel = B\n"
		"[sensor c]\nport = 0\nprefixes = 203.0.113.0/24\n", &cur), 0);
	CU_ASSERT_EQUAL(tt_config_sensor_slots(&cur), 3 + TT_CONFIG_SENSOR_HEADROOM);

	/* c gone, d new (listed first), a's prefix grown, b's label changed */
	CU_ASSERT_EQUAL_FATAL(load(RELOAD_HEAD
		"[sensor d]\nport = 1\nprefixes = 203.0.113.0/25\n"
		"[sensor b]\nport = 1\nprefixes = 198.51.100.0/24\nlabel = B2\n"
		"[sensor a]\nport = 0\nprefixes = 192.0.2.0/24, 2001:db8::/64\n", &next), 0);
	CU_ASSERT_EQUAL_FATAL(tt_config_align(&next, &cur, 10, &ch, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(next.n_sensors, 4);
	CU_ASSERT_STRING_EQUAL(next.sensors[0].name, "a");
	CU_ASSERT_STRING_EQUAL(next.sensors[1].name, "b");
	CU_ASSERT_STRING_EQUAL(next.sensors[1].label, "B2");
	CU_ASSERT_STRING_EQUAL(next.sensors[2].name, "c");
	CU_ASSERT_TRUE(next.sensors[2].retired);
	CU_ASSERT_STRING_EQUAL(next.sensors[2].label, "c");
	CU_ASSERT_STRING_EQUAL(next.sensors[3].name, "d");
	CU_ASSERT_FALSE(next.sensors[0].retired || next.sensors[1].retired ||
		next.sensors[3].retired);
	for (uint32_t i = 0; i < next.n_prefixes; i++) {
		const struct tt_prefix *p = &next.prefixes[i];

		uint16_t want = p->family == 6 || p->addr[0] == 192 ? 0 : p->addr[0] == 198 ? 1 : 3;

		CU_ASSERT_EQUAL(p->sensor, want);
	}
	CU_ASSERT_EQUAL(ch.added, 1);
	CU_ASSERT_EQUAL(ch.retired, 1);
	CU_ASSERT_EQUAL(ch.revived, 0);
	CU_ASSERT_TRUE(ch.sensors_changed);
	CU_ASSERT_EQUAL(ch.prefixes_before, 3);
	CU_ASSERT_EQUAL(ch.prefixes_after, 4);
	CU_ASSERT_FALSE(ch.sizing_kept);

	/* c back: its old index, counted as revived; d stays, now retired */
	{
		struct tt_config again;

		CU_ASSERT_EQUAL_FATAL(load(RELOAD_HEAD
			"[sensor c]\nport = 0\nprefixes = 203.0.113.0/24\n"
			"[sensor a]\nport = 0\nprefixes = 192.0.2.0/24\n"
			"[sensor b]\nport = 1\nprefixes = 198.51.100.0/24\n", &again), 0);
		CU_ASSERT_EQUAL_FATAL(tt_config_align(&again, &next, 10, &ch, why,
			sizeof(why)), 0);
		CU_ASSERT_EQUAL(again.n_sensors, 4);
		CU_ASSERT_STRING_EQUAL(again.sensors[2].name, "c");
		CU_ASSERT_FALSE(again.sensors[2].retired);
		CU_ASSERT_TRUE(again.sensors[3].retired);
		CU_ASSERT_EQUAL(ch.revived, 1);
		CU_ASSERT_EQUAL(ch.retired, 1);
		CU_ASSERT_EQUAL(ch.added, 0);
		tt_config_free(&again);
	}

	/* the same file again: nothing changed */
	{
		struct tt_config same;

		CU_ASSERT_EQUAL_FATAL(load(RELOAD_HEAD
			"[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\n"
			"[sensor b]\nport = 1\nprefixes = 198.51.100.0/24\nlabel = B\n"
			"[sensor c]\nport = 0\nprefixes = 203.0.113.0/24\n", &same), 0);
		CU_ASSERT_EQUAL_FATAL(tt_config_align(&same, &cur, 10, &ch, why, sizeof(why)), 0);
		CU_ASSERT_FALSE(ch.sensors_changed || ch.geo_changed || ch.home_changed ||
			ch.watch_changed || ch.alerts_changed || ch.retention_changed ||
			ch.sizing_kept);
		CU_ASSERT_EQUAL(ch.added + ch.retired + ch.revived, 0);
		tt_config_free(&same);
	}
	tt_config_free(&next);

	/* what only a restart applies is named, and nothing is aligned */
	CU_ASSERT_EQUAL_FATAL(load("[appliance]\nid = r2\nhome_country = JP\n"
		"[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\n", &next), 0);
	CU_ASSERT_EQUAL(tt_config_align(&next, &cur, 10, &ch, why, sizeof(why)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "[appliance] id changed, which needs a restart"));
	tt_config_free(&next);
	CU_ASSERT_EQUAL_FATAL(load(RELOAD_HEAD "[redis]\nport = 6380\n"
		"[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\n", &next), 0);
	CU_ASSERT_EQUAL(tt_config_align(&next, &cur, 10, &ch, why, sizeof(why)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "[redis] port"));
	tt_config_free(&next);

	/* home, thresholds, retention and sizes: applied, or kept and said */
	CU_ASSERT_EQUAL_FATAL(load("[appliance]\nid = r1\nhome_country = DE\n"
		"[retention]\nday = 30d\n[alerts]\nsurge_min_pkts = 999\n"
		"[sensor a]\nport = 0\nprefixes = 192.0.2.0/25\n", &next), 0);
	CU_ASSERT_EQUAL_FATAL(tt_config_align(&next, &cur, 10, &ch, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(ch.home_changed && ch.retention_changed && ch.alerts_changed);
	CU_ASSERT_TRUE(ch.sizing_kept);
	CU_ASSERT_EQUAL(next.port_cells, cur.port_cells);
	CU_ASSERT_EQUAL(next.n_sensors, 3);
	tt_config_free(&next);

	/* more sensors than the slots */
	CU_ASSERT_EQUAL_FATAL(load(RELOAD_HEAD
		"[sensor x]\nport = 0\nprefixes = 10.0.0.0/24\n"
		"[sensor y]\nport = 0\nprefixes = 10.0.1.0/24\n", &next), 0);
	CU_ASSERT_EQUAL(tt_config_align(&next, &cur, 4, &ch, why, sizeof(why)), -ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "a restart applies it"));
	tt_config_free(&next);
	tt_config_free(&cur);
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
		{ "[redis] cluster", test_redis_cluster },
		{ "[retention] values", test_retention_values },
		{ "[sensor] values", test_sensor_values },
		{ "overlapping prefixes", test_overlaps },
		{ "prefixes_file errors name that file's line", test_prefixes_file },
		{ "prefixes_file lines are read whole", test_prefixes_file_long_lines },
		{ "config lines as long as rte_cfgfile takes them", test_config_line_lengths },
		{ "byte order mark, NUL bytes, section headers", test_bytes_and_headers },
		{ "a sensor without prefixes", test_sensor_without_prefixes },
		{ "special files are refused at once", test_special_files },
		{ "password_file: private, regular, not empty", test_password_file },
		{ "a valid config, every key read", test_valid_config },
		{ "default watch_ports", test_default_watch_ports },
		{ "worker pools scale with the sensors unless given",
			test_pools_scale_with_sensors },
		{ "[alerts] keys: ranges, defaults, the detectors' conf", test_alerts_keys },
		{ "config/teiten.conf.example is valid", test_example_config },
		{ "duration and prefix parsers", test_parsers },
		{ "a reload: indexes kept, restart-only keys named", test_reload_align },
		{ "key table: a key is named once in its section", test_keys_unique },
		{ "key table: each field set by one key, named for it", test_keys_fields },
		{ "key table: reasons, fallbacks, required keys", test_keys_rules },
		{ "key table: every key is in the example config", test_keys_documented },
		{ "key table: a key changes its field and nothing else",
			test_keys_set_their_field },
		{ NULL, NULL },
	};

	example_path = argc > 1 ? argv[1] : "config/teiten.conf.example";
	return run_suite("config", tests, suite_init, suite_fini);
}
