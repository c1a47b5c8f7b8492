/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fopencookie() stream for rte_openlog_stream(). rte_log() formats a
 * message, writes it to the stream and flushes; the stream is unbuffered,
 * so glibc hands each message to write_marked() whole, on the thread that
 * logged it, while rte_log_cur_msg_loglevel() still holds its level.
 */
#define _GNU_SOURCE
#include "tt_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

struct log_cookie {
	FILE *out;
	enum tt_log_style style;
	bool at_line_start;            /* the last write ended a line */
};

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "EMERG",
	[RTE_LOG_ALERT] = "ALERT",
	[RTE_LOG_CRIT] = "CRIT",
	[RTE_LOG_ERR] = "ERR",
	[RTE_LOG_WARNING] = "WARNING",
	[RTE_LOG_NOTICE] = "NOTICE",
	[RTE_LOG_INFO] = "INFO",
	[RTE_LOG_DEBUG] = "DEBUG",
};

static void
write_prefix(const struct log_cookie *c)
{
	int level = rte_log_cur_msg_loglevel();
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (level < (int)RTE_LOG_EMERG || level > (int)RTE_LOG_DEBUG)
		level = RTE_LOG_NOTICE;   /* a write outside rte_log() */
	if (c->style == TT_LOG_JOURNAL) {
		/* rte_log levels are syslog's plus one */
		fprintf(c->out, "<%d>", level - 1);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(c->out, "%s.%03ldZ %s ", when, ts.tv_nsec / 1000000, level_names[level]);
}

static ssize_t
write_marked(void *cookie, const char *buf, size_t size)
{
	struct log_cookie *c = cookie;
	size_t done = 0;

	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t n = nl != NULL ? (size_t)(nl - (buf + done)) + 1 : size - done;

		if (c->at_line_start)
			write_prefix(c);
		fwrite(buf + done, 1, n, c->out);
		c->at_line_start = nl != NULL;
		done += n;
	}
	fflush(c->out);
	return (ssize_t)size;
}

static int
close_marked(void *cookie)
{
	free(cookie);
	return 0;
}

FILE *
tt_log_stream_open(FILE *out, enum tt_log_style style)
{
	static const cookie_io_functions_t fns = {
		.write = write_marked,
		.close = close_marked,
	};
	struct log_cookie *c;
	FILE *f;

	if (out == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->out = out;
	c->style = style;
	c->at_line_start = true;
	f = fopencookie(c, "w", fns);
	if (f == NULL) {
		free(c);
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}

bool
tt_log_under_journald(int fd)
{
	const char *js = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;

	/* systemd sets it for a unit whose stderr is the journal; a child
	 * whose stderr went elsewhere inherits it, hence the comparison. */
	if (js == NULL || sscanf(js, "%ju:%ju", &dev, &ino) != 2)
		return false;
	if (fstat(fd, &st) != 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

/*
 * The process's stream lives until exit, and a process may leave by many
 * paths: its cookie is static, so no exit path owes a free.
 */
int
tt_log_init(void)
{
	static const cookie_io_functions_t fns = { .write = write_marked };
	static struct log_cookie process;
	FILE *f;

	process = (struct log_cookie){ .out = stderr, .at_line_start = true,
		.style = tt_log_under_journald(STDERR_FILENO) ? TT_LOG_JOURNAL : TT_LOG_TIMESTAMP };
	f = fopencookie(&process, "w", fns);
	if (f == NULL)
		return -errno;
	setvbuf(f, NULL, _IONBF, 0);
	if (rte_openlog_stream(f) != 0) {
		fclose(f);
		return -EINVAL;
	}
	return 0;
}
