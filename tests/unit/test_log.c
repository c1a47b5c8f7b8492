/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log stream: each rte_log() line marked with its level, and with the
 * time or journald's priority prefix. rte_log works before rte_eal_init(),
 * which is when teiten installs the stream, so no EAL is started here.
 */
#define _GNU_SOURCE
#include "tt_log.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "cunit_main.h"

static int logtype;
static FILE *out;                      /* what the marked stream writes to */
static char text[4096];

/* Route rte_log through a fresh stream of @p style into a fresh file. */
static FILE *
open_style(enum tt_log_style style)
{
	FILE *f;

	out = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	f = tt_log_stream_open(out, style);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(rte_openlog_stream(f), 0);
	return f;
}

/* What was written, and back to DPDK's stream. */
static const char *
take(FILE *f)
{
	size_t n;

	rte_openlog_stream(NULL);
	fclose(f);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	fclose(out);
	return text;
}

static bool
matches(const char *s, const char *pattern)
{
	regex_t re;
	bool ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

static void
test_invalid(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(tt_log_stream_open(NULL, TT_LOG_TIMESTAMP));
	CU_ASSERT_EQUAL(errno, EINVAL);
}

static void
test_timestamp_and_level(void)
{
	FILE *f = open_style(TT_LOG_TIMESTAMP);
	const char *s;
	struct tm tm = { 0 };
	time_t now = time(NULL), when;

	rte_log(RTE_LOG_WARNING, logtype, "test: first %d\n", 1);
	rte_log(RTE_LOG_ERR, logtype, "test: two\nlines\n");
	rte_log(RTE_LOG_DEBUG, logtype, "test: debug\n");
	s = take(f);
	CU_ASSERT_TRUE(matches(s, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
		"\\.[0-9]{3}Z WARNING test: first 1$"));
	CU_ASSERT_TRUE(matches(s, "Z ERR test: two$"));
	CU_ASSERT_TRUE(matches(s, "Z ERR lines$"));
	CU_ASSERT_TRUE(matches(s, "Z DEBUG test: debug$"));
	/* every line is marked, and the time is now (UTC) */
	CU_ASSERT_FALSE(matches(s, "^[^0-9]"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm));
	when = timegm(&tm);
	CU_ASSERT_TRUE(when >= now - 5 && when <= time(NULL) + 5);
}

static void
test_partial_lines(void)
{
	FILE *f = open_style(TT_LOG_TIMESTAMP);
	const char *s;

	/* EAL prints some lines in pieces: one mark per line, not per piece */
	rte_log(RTE_LOG_NOTICE, logtype, "piece one, ");
	rte_log(RTE_LOG_NOTICE, logtype, "piece two\n");
	s = take(f);
	CU_ASSERT_TRUE(matches(s, "^[^ ]+Z NOTICE piece one, piece two\n$"));
}

static void
test_journal_priorities(void)
{
	FILE *f = open_style(TT_LOG_JOURNAL);

	rte_log(RTE_LOG_ERR, logtype, "an error\n");
	rte_log(RTE_LOG_WARNING, logtype, "a warning\n");
	rte_log(RTE_LOG_NOTICE, logtype, "a notice\n");
	rte_log(RTE_LOG_INFO, logtype, "info\n");
	CU_ASSERT_STRING_EQUAL(take(f), "<3>an error\n<4>a warning\n<5>a notice\n<6>info\n");
}

static void
test_under_journald(void)
{
	char path[] = "/tmp/tt_log_XXXXXX", js[64];
	int fd = mkstemp(path);
	struct stat st;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(fstat(fd, &st), 0);
	unsetenv("JOURNAL_STREAM");
	CU_ASSERT_FALSE(tt_log_under_journald(fd));
	setenv("JOURNAL_STREAM", "garbage", 1);
	CU_ASSERT_FALSE(tt_log_under_journald(fd));
	snprintf(js, sizeof(js), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	/* inherited from a parent whose stderr was the journal: not ours */
	CU_ASSERT_FALSE(tt_log_under_journald(fd));
	snprintf(js, sizeof(js), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	CU_ASSERT_TRUE(tt_log_under_journald(fd));
	unsetenv("JOURNAL_STREAM");
	close(fd);
	unlink(path);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "a stream without output is refused", test_invalid },
		{ "each line: UTC time and level", test_timestamp_and_level },
		{ "a line written in pieces is marked once", test_partial_lines },
		{ "journald: syslog priority prefixes", test_journal_priorities },
		{ "JOURNAL_STREAM must name our stderr", test_under_journald },
		{ NULL, NULL },
	};

	logtype = rte_log_register("tt.test_log");
	if (logtype < 0)
		return 2;
	rte_log_set_level(logtype, RTE_LOG_DEBUG);
	return run_suite("log", tests, NULL, NULL);
}
