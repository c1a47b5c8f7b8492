/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TEST_REDIS_SERVER_H
#define TT_TEST_REDIS_SERVER_H

/*
 * A throwaway redis-server on 127.0.0.1 and a spare port, for tests: no
 * persistence, started as a child, killed at the end.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

struct test_redis {
	pid_t pid;
	int port;
};

static inline redisContext *
test_redis_connect(int port)
{
	struct timeval tv = { 1, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/*
 * A port from 20000 up to the kernel's ephemeral range
 * (ip_local_port_range): any outgoing connection may take a port of that
 * range at any moment, and test_control.c restarts its server on the port
 * it had, where it cannot pick another (tests/integration/lib.sh,
 * port_candidate, the same rule).
 */
static inline int
test_redis_port_candidate(int attempt)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 32768;

	if (f != NULL) {
		if (fscanf(f, "%d", &low) != 1 || low <= 21000)
			low = 32768;
		fclose(f);
	}
	return 20000 + (int)((getpid() * 7 + attempt * 131 + time(NULL)) % (low - 20000));
}

/* @return 0, or -1 if no redis-server could be started. */
static inline int
test_redis_start(struct test_redis *r)
{
	int attempt;

	for (attempt = 0; attempt < 20; attempt++) {
		int port = test_redis_port_candidate(attempt);
		char port_s[16];
		redisContext *probe = test_redis_connect(port);
		int i;

		if (probe != NULL) {            /* taken */
			redisFree(probe);
			continue;
		}
		snprintf(port_s, sizeof(port_s), "%d", port);
		r->pid = fork();
		if (r->pid == 0) {
			execlp("redis-server", "redis-server", "--port", port_s, "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--loglevel", "warning",
				(char *)NULL);
			_exit(127);
		}
		/* until it listens or exits, 15 s at most: slow to start is not taken */
		for (i = 0; i < 750; i++) {
			redisContext *c = test_redis_connect(port);

			if (c != NULL) {
				redisFree(c);
				r->port = port;
				return 0;
			}
			if (waitpid(r->pid, NULL, WNOHANG) == r->pid)
				break;          /* exited: port in use, try another */
			usleep(20000);
		}
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	return -1;
}

static inline void
test_redis_stop(struct test_redis *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

#endif /* TT_TEST_REDIS_SERVER_H */
