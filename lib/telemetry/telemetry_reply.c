/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /teiten/... commands' pure half: what a parameter means, what a reply
 * can hold. Any thread; the alert ring is the caller's to lock.
 */
#include "telemetry_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tt_counters.h"

int
tt_telemetry_split_params(const char *params,
		char out[TT_TELEMETRY_MAX_PARAMS][TT_TELEMETRY_PARAM_LEN])
{
	int n = 0;
	const char *p = params;

	if (p == NULL || *p == '\0')
		return 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (n == TT_TELEMETRY_MAX_PARAMS || len >= TT_TELEMETRY_PARAM_LEN)
			return -EINVAL;
		memcpy(out[n], p, len);
		out[n][len] = '\0';
		n++;
		if (end == NULL)
			return n;
		p = end + 1;
	}
}

int
tt_telemetry_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int
tt_telemetry_parse_scope(const struct tt_config *cfg, const char *s, uint16_t *out)
{
	uint32_t i;

	if (s[0] == '\0' || strcmp(s, "all") == 0) {
		*out = TT_SCOPE_ALL;
		return 0;
	}
	for (i = 0; i < cfg->n_sensors; i++)
		if (strcmp(cfg->sensors[i].name, s) == 0) {
			*out = (uint16_t)i;
			return 0;
		}
	return -ENOENT;
}

int
tt_telemetry_parse_dimension(const char *s, bool *country)
{
	if (strcmp(s, "service") == 0 || strcmp(s, "services") == 0)
		*country = false;
	else if (strcmp(s, "country") == 0 || strcmp(s, "countries") == 0)
		*country = true;
	else
		return -EINVAL;
	return 0;
}

int
tt_telemetry_parse_alerts_n(const char *params, unsigned int *n)
{
	unsigned long v;
	char *end;

	if (params == NULL || *params == '\0') {
		*n = TT_TELEMETRY_ALERTS_DEFAULT;
		return 0;
	}
	errno = 0;
	v = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > TT_TELEMETRY_ALERTS_KEPT)
		return -EINVAL;
	*n = (unsigned int)v;
	return 0;
}

void
tt_telemetry_format_time(uint64_t sec, bool with_seconds, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (sec == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "none");
	else
		strftime(buf, len, with_seconds ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%dT%H:%MZ", &tm);
}

void
tt_telemetry_clip(const char *v, char *out, size_t len)
{
	if (strlen(v) >= len)
		snprintf(out, len, "%.*s...", (int)len - 4, v);
	else
		snprintf(out, len, "%s", v);
}

uint32_t
tt_telemetry_workers_fit(uint32_t n_ports, uint32_t first, uint32_t n_workers)
{
	size_t used = (size_t)n_ports * TT_TELEMETRY_PORT_COST;
	uint32_t w, shown = 0;

	for (w = first; w < n_workers &&
			used + TT_TELEMETRY_WORKER_COST < TT_TELEMETRY_REPLY_BUDGET; w++) {
		used += TT_TELEMETRY_WORKER_COST;
		shown++;
	}
	return shown;
}

uint32_t
tt_telemetry_sensors_fit(uint32_t n_sensors, uint32_t limit)
{
	size_t used = 0;
	uint32_t shown = 0;

	while (shown < n_sensors && shown < limit && used < TT_TELEMETRY_REPLY_BUDGET) {
		used += TT_TELEMETRY_SENSOR_ROW_COST;
		shown++;
	}
	return shown;
}

void
tt_telemetry_alerts_push(struct tt_telemetry_alerts *a, const struct tt_alert *al)
{
	a->ring[a->seen % TT_TELEMETRY_ALERTS_KEPT] = *al;
	a->seen++;
}

size_t
tt_telemetry_alert_cost(const struct tt_alert *al)
{
	struct tt_alerts_fields f;
	size_t cost = 0;
	unsigned int k;

	tt_alerts_fields(al, &f);
	for (k = 0; k < TT_ALERTS_FIELDS; k++)
		cost += strlen(f.value[k]) + 4;
	return cost;
}

uint32_t
tt_telemetry_alerts_pick(const struct tt_telemetry_alerts *a, uint32_t n,
		const struct tt_alert **out, uint32_t *more)
{
	uint64_t seen = a->seen, kept = seen < TT_TELEMETRY_ALERTS_KEPT ? seen :
		TT_TELEMETRY_ALERTS_KEPT;
	size_t budget = TT_TELEMETRY_REPLY_BUDGET;
	uint32_t i, shown = 0;

	for (i = 0; i < n && i < kept; i++) {
		const struct tt_alert *al = &a->ring[(seen - 1 - i) % TT_TELEMETRY_ALERTS_KEPT];
		size_t cost = tt_telemetry_alert_cost(al);

		if (cost > budget)
			break;
		budget -= cost;
		out[shown++] = al;
	}
	*more = (uint32_t)((n < kept ? n : kept) - shown);
	return shown;
}
