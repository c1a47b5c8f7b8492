/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loading and validation: every rule of DESIGN.md section 3 reports
 * file, line, key and value. Each test writes its own file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

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
		{ NULL, NULL },
	};

	example_path = argc > 1 ? argv[1] : "config/teiten.conf.example";
	return run_suite("config", tests, suite_init, suite_fini);
}
