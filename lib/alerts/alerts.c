/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alert detectors over complete buckets (see tt_alerts.h for the model).
 *
 * Why the defaults are what they are:
 * - min_score 8 and min_ratio 3: a deployment judges a few hundred series
 *   a minute (services, countries and totals at every sensor, two metrics,
 *   two resolutions), ~10^6 tests a day. A tail of 1e-8 keeps pure noise
 *   under one alert in a hundred days even where the baseline is a little
 *   low; the ratio keeps a busy series' 5% rise (significant, not news) quiet
 *   and covers a baseline that lags a diurnal swing.
 * - min_pkts 20 and min_srcs 10 a bucket: below them a "surge" is one
 *   scanner's burst on a long-tail port.
 * - warmup_hours 3: the level needs a few dozen minutes (hours for the hour
 *   level); the hour-of-day slots take a day, and until then the level
 *   alone, with the ratio, rides the diurnal swing.
 * - cooldown 180 minutes, realert_gain 2: one alert per event; a second one
 *   only when the event at least doubles its score.
 *
 * Memory: each scope tracks at most max_subjects (dimension, subject)
 * entries of ~560 bytes, grown on demand; when full, the eighth least
 * recently active are dropped in one pass (counted as evicted).
 * Cost: tt_alerts_end() is O(observations log observations + entries) per
 * bucket, on the control thread.
 */
#include "tt_alerts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tt_classify.h"

#define NEVER UINT64_MAX
#define SLOTS 24
#define MAX_SCORE 999.0
#define CLIP_SD 4.0
#define CLIP_AFTER 3
#define MAX_OBS (1u << 22)        /* a bucket's observations: 128 MiB */

enum { M_PKTS, M_SRCS, METRICS };

struct base {                   /* one metric at one resolution */
	float lvl;                  /* EWMA of recent buckets */
	float var;                  /* EWMA of the squared residual */
	float slot[SLOTS];          /* EWMA per UTC hour of day, over days */
	uint16_t slot_n[SLOTS];
	uint32_t n;                 /* buckets seen */
};

struct res_state {
	struct base b[METRICS];
	uint64_t cur_ts;            /* bucket the figures below belong to */
	uint64_t pkts, srcs;
	uint64_t hot_ts;            /* latest bucket where it was hot */
	uint64_t cool_ts;           /* latest hot bucket since the last alert */
	float cool_score;           /* the last alert's score */
	bool cooling;
};

struct entry {
	uint32_t subject;
	uint8_t dim;                /* DIM_FREE: unused */
	int32_t next;               /* hash chain, or free list */
	uint64_t last_seen;         /* latest bucket with packets, any res */
	uint64_t born;              /* first bucket (eviction tie-break) */
	struct res_state r[TT_ALERTS_RES_COUNT];
	/* rank */
	uint64_t in_h, in_d;        /* latest hour / day in the top-N */
	uint64_t far_h, far_d;      /* latest hour / day beyond top-N + margin, or absent */
	uint64_t day_ts, day_pkts;  /* this UTC day's packets, from hours */
	uint64_t prev_day_pkts;     /* the day before's */
	/* new_mirai_port */
	uint64_t mirai_seen;
};

#define DIM_FREE 0xff

struct table {                  /* one scope's subjects */
	struct entry *e;
	uint32_t cap, used;         /* allocated slots, in use */
	int32_t free_head;
	int32_t *heads;             /* hash buckets, 2 * max_subjects */
	uint32_t mask;
};

struct obs {
	uint32_t scope;             /* 0..n_sensors, n_sensors = all */
	uint32_t dim;
	uint32_t subject;
	uint64_t pkts, srcs;
};

struct pending {
	struct tt_alert al;
	uint32_t sidx;              /* sort key: scope index, all last */
	int32_t idx;                /* entry, for the breadth */
};

struct victim {
	uint8_t family;             /* 0: free */
	uint8_t addr[16];
};

struct tt_alerts {
	struct tt_alerts_conf conf;
	char (*names)[TT_ALERTS_NAME_MAX + 1];
	struct table *tables;       /* n_sensors + 1, the last is all */
	uint32_t n_scopes;

	bool open;
	enum tt_alerts_res res;
	uint64_t ts;
	uint64_t last_ts[TT_ALERTS_RES_COUNT];   /* NEVER before the first */
	uint64_t first_ts[TT_ALERTS_RES_COUNT];

	struct obs *obs;
	uint32_t n_obs, obs_cap;
	struct pending *pend;
	uint32_t n_pend, pend_cap;
	struct rank_key *order;     /* rank scratch */
	uint32_t order_cap;

	struct victim *victims;     /* open addressing, 2 * max_victims */
	uint32_t victims_mask, n_victims;
	uint64_t victims_day;

	struct tt_alerts_stats st;
};

/* --- tails, exact in log space --- */

/* log P(a, x), the regularized lower incomplete gamma, by its series (x < a + 1). */
static double
log_gamma_p_series(double a, double x)
{
	double sum = 1.0, term = 1.0, ap = a;
	int i;

	for (i = 0; i < 1000000; i++) {
		ap += 1.0;
		term *= x / ap;
		sum += term;
		if (term < sum * 1e-16)
			break;
	}
	return -x + a * log(x) - lgamma(a + 1.0) + log(sum);
}

/* log Q(a, x), the regularized upper incomplete gamma, by Lentz's continued fraction. */
static double
log_gamma_q_cf(double a, double x)
{
	const double tiny = 1e-300;
	double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
	int i;

	for (i = 1; i < 1000000; i++) {
		double an = -i * (i - a), del;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < tiny)
			d = tiny;
		c = b + an / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-15)
			break;
	}
	return -x + a * log(x) - lgamma(a) + log(h);
}

double
tt_alerts_poisson_score(uint64_t k, double mu)
{
	double a = (double)k, lp;

	if (k == 0 || !(mu > 0))
		return k == 0 ? 0.0 : MAX_SCORE;
	/* P(X >= k) = P(k, mu), the lower regularized gamma */
	if (mu < a + 1.0)
		lp = log_gamma_p_series(a, mu);
	else
		lp = log1p(-exp(log_gamma_q_cf(a, mu)));
	lp = -lp / log(10.0);
	if (lp < 0)
		lp = 0;
	return lp > MAX_SCORE ? MAX_SCORE : lp;
}

/* log of the continued fraction of the incomplete beta (Lentz). */
static double
log_betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double qab = a + b, qap = a + 1.0, qam = a - 1.0;
	double c = 1.0, d = 1.0 - qab * x / qap, h;
	int m;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	h = d;
	for (m = 1; m < 1000000; m++) {
		double m2 = 2.0 * m, aa, del;

		aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1.0 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-15)
			break;
	}
	return log(h);
}

/* log I_x(a, b), the regularized incomplete beta. */
static double
log_betai(double a, double b, double x)
{
	double lbt;

	if (x <= 0)
		return -INFINITY;
	if (x >= 1)
		return 0;
	lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1.0) / (a + b + 2.0))
		return lbt + log_betacf(a, b, x) - log(a);
	return log1p(-exp(lbt + log_betacf(b, a, 1.0 - x) - log(b)));
}

double
tt_alerts_negbin_score(uint64_t k, double mu, double var)
{
	double r, p, lp;

	if (k == 0)
		return 0.0;
	if (!(mu > 0))
		return MAX_SCORE;
	/* within 2% of Poisson the beta's large parameters only cost precision */
	if (!(var > mu * 1.02))
		return tt_alerts_poisson_score(k, mu);
	r = mu * mu / (var - mu);               /* size */
	p = r / (r + mu);                       /* success probability */
	/* P(X >= k) = I_{1-p}(k, r) */
	lp = -log_betai((double)k, r, 1.0 - p) / log(10.0);
	if (lp < 0)
		lp = 0;
	return lp > MAX_SCORE ? MAX_SCORE : lp;
}

/* --- names and formatting --- */

const char *
tt_alerts_kind_name(enum tt_alerts_kind k)
{
	static const char *const n[TT_ALERTS_KIND_COUNT] = {
		"surge", "rank", "new_mirai_port", "mirai_home_surge", "dos_victim",
	};

	return (unsigned int)k < TT_ALERTS_KIND_COUNT ? n[k] : "";
}

const char *
tt_alerts_res_name(enum tt_alerts_res r)
{
	return r == TT_ALERTS_RES_HOUR ? "h" : "m";
}

const char *
tt_alerts_metric_name(enum tt_alerts_metric m)
{
	return m == TT_ALERTS_METRIC_SRCS ? "srcs" : "pkts";
}

const char *
tt_alerts_breadth_name(enum tt_alerts_breadth b)
{
	switch (b) {
	case TT_ALERTS_BREADTH_LOCAL: return "local";
	case TT_ALERTS_BREADTH_BROAD: return "broad";
	case TT_ALERTS_BREADTH_HOME: return "home";
	default: return "";
	}
}

void
tt_alerts_fields(const struct tt_alert *al, struct tt_alerts_fields *f)
{
	static const char *const names[TT_ALERTS_FIELDS] = {
		"ts", "kind", "scope", "subject", "res", "metric", "observed", "baseline",
		"score", "breadth", "message",
	};
	unsigned int i;

	snprintf(f->ts, sizeof(f->ts), "%" PRIu64, al->ts);
	snprintf(f->observed, sizeof(f->observed), "%" PRIu64, al->observed);
	snprintf(f->baseline, sizeof(f->baseline), "%.1f", al->baseline);
	snprintf(f->score, sizeof(f->score), "%.1f", al->score);
	for (i = 0; i < TT_ALERTS_FIELDS; i++)
		f->name[i] = names[i];
	f->value[0] = f->ts;
	f->value[1] = tt_alerts_kind_name(al->kind);
	f->value[2] = al->scope_name;
	f->value[3] = al->subject_name;
	f->value[4] = tt_alerts_res_name(al->res);
	f->value[5] = tt_alerts_metric_name(al->metric);
	f->value[6] = f->observed;
	f->value[7] = f->baseline;
	f->value[8] = f->score;
	f->value[9] = tt_alerts_breadth_name(al->breadth);
	f->value[10] = al->message;
}

/* JSON string body: quotes, backslashes and control bytes escaped. */
static size_t
json_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		size_t n;

		if (c == '"' || c == '\\')
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c < 0x20)
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		else
			n = (size_t)snprintf(tmp, sizeof(tmp), "%c", c);
		if (o + n < len)
			memcpy(out + o, tmp, n);
		o += n;
	}
	if (len > 0)
		out[o < len ? o : len - 1] = '\0';
	return o;
}

int
tt_alerts_format_json(const struct tt_alert *al, char *buf, size_t len)
{
	struct tt_alerts_fields f;
	char esc[4 * TT_ALERTS_MESSAGE_MAX];
	size_t o = 0;
	unsigned int i;

	tt_alerts_fields(al, &f);
	for (i = 0; i < TT_ALERTS_FIELDS; i++) {
		/* numbers as numbers: ts observed baseline score */
		bool num = i == 0 || i == 6 || i == 7 || i == 8;
		int n;

		json_escape(f.value[i], esc, sizeof(esc));
		n = snprintf(o < len ? buf + o : NULL, o < len ? len - o : 0,
			num ? "%s\"%s\": %s" : "%s\"%s\": \"%s\"", i == 0 ? "{" : ", ",
			f.name[i], esc);
		if (n < 0)
			return n;
		o += (size_t)n;
	}
	if (o + 1 < len) {
		buf[o] = '}';
		buf[o + 1] = '\0';
	} else if (len > 0) {
		buf[len - 1] = '\0';
	}
	return (int)(o + 1);
}

/* --- conf --- */

void
tt_alerts_conf_default(struct tt_alerts_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->min_score = TT_ALERTS_DEFAULT_MIN_SCORE;
	c->min_ratio = TT_ALERTS_DEFAULT_MIN_RATIO;
	c->min_pkts = TT_ALERTS_DEFAULT_MIN_PKTS;
	c->min_srcs = TT_ALERTS_DEFAULT_MIN_SRCS;
	c->home_mirai_min_srcs = TT_ALERTS_DEFAULT_HOME_MIRAI_MIN_SRCS;
	c->broad_share = TT_ALERTS_DEFAULT_BROAD_SHARE;
	c->baseline_min = TT_ALERTS_DEFAULT_BASELINE_MIN;
	c->baseline_days = TT_ALERTS_DEFAULT_BASELINE_DAYS;
	c->level_minutes = TT_ALERTS_DEFAULT_LEVEL_MINUTES;
	c->level_hours = TT_ALERTS_DEFAULT_LEVEL_HOURS;
	c->warmup_hours = TT_ALERTS_DEFAULT_WARMUP_HOURS;
	c->cooldown_minutes = TT_ALERTS_DEFAULT_COOLDOWN_MINUTES;
	c->realert_gain = TT_ALERTS_DEFAULT_REALERT_GAIN;
	c->rank_top_n = TT_ALERTS_DEFAULT_RANK_TOP_N;
	c->rank_margin = TT_ALERTS_DEFAULT_RANK_MARGIN;
	c->rank_min_pkts = TT_ALERTS_DEFAULT_RANK_MIN_PKTS;
	c->rank_min_score = TT_ALERTS_DEFAULT_RANK_MIN_SCORE;
	c->rank_lookback_hours = TT_ALERTS_DEFAULT_RANK_LOOKBACK_HOURS;
	c->rank_lookback_days = TT_ALERTS_DEFAULT_RANK_LOOKBACK_DAYS;
	c->new_mirai_port_min_pkts = TT_ALERTS_DEFAULT_NEW_MIRAI_PORT_MIN_PKTS;
	c->new_mirai_port_min_srcs = TT_ALERTS_DEFAULT_NEW_MIRAI_PORT_MIN_SRCS;
	c->new_mirai_port_horizon_days = TT_ALERTS_DEFAULT_NEW_MIRAI_PORT_HORIZON_DAYS;
	c->max_subjects = TT_ALERTS_DEFAULT_MAX_SUBJECTS;
	c->max_victims = TT_ALERTS_DEFAULT_MAX_VICTIMS;
	c->home_country = TT_COUNTRY_ZZ;
}

int
tt_alerts_conf_check(const struct tt_alerts_conf *c, char *err, size_t errlen)
{
	const struct {
		const char *key;
		double v, lo, hi;
	} num[] = {
		{ "min_score", c->min_score, 1, 300 },
		{ "min_ratio", c->min_ratio, 1, 1000 },
		{ "min_pkts", c->min_pkts, 1, 1e9 },
		{ "min_srcs", c->min_srcs, 1, 1e9 },
		{ "home_mirai_min_srcs", c->home_mirai_min_srcs, 1, 1e9 },
		{ "broad_share", c->broad_share, 0.01, 1 },
		{ "baseline_min", c->baseline_min, 0.01, 1e6 },
		{ "baseline_days", c->baseline_days, 1, 90 },
		{ "level_minutes", c->level_minutes, 2, 1440 },
		{ "level_hours", c->level_hours, 2, 168 },
		{ "warmup_hours", c->warmup_hours, 0, 720 },
		{ "cooldown_minutes", c->cooldown_minutes, 0, 43200 },
		{ "realert_gain", c->realert_gain, 1, 1000 },
		{ "rank_top_n", c->rank_top_n, 1, 1000 },
		{ "rank_margin", c->rank_margin, 0, 1000 },
		{ "rank_min_pkts", c->rank_min_pkts, 1, 1e9 },
		{ "rank_min_score", c->rank_min_score, 0, 300 },
		{ "rank_lookback_hours", c->rank_lookback_hours, 1, 720 },
		{ "rank_lookback_days", c->rank_lookback_days, 1, 90 },
		{ "new_mirai_port_min_pkts", c->new_mirai_port_min_pkts, 1, 1e9 },
		{ "new_mirai_port_min_srcs", c->new_mirai_port_min_srcs, 1, 1e9 },
		{ "new_mirai_port_horizon_days", c->new_mirai_port_horizon_days, 1, 90 },
		{ "max_subjects", c->max_subjects, 16, 1 << 20 },
		{ "max_victims", c->max_victims, 1, 1 << 20 },
		{ "n_sensors", c->n_sensors, 1, TT_ALERTS_MAX_SENSORS },
		{ "home_country", c->home_country, 0, TT_COUNTRY_COUNT - 1 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		if (!(num[i].v >= num[i].lo && num[i].v <= num[i].hi)) {
			snprintf(err, errlen, "%s = %g: expected %g to %g", num[i].key, num[i].v,
				num[i].lo, num[i].hi);
			return -EINVAL;
		}
	if (c->sensor_names == NULL) {
		snprintf(err, errlen, "sensor_names: missing");
		return -EINVAL;
	}
	for (i = 0; i < c->n_sensors; i++) {
		const char *n = c->sensor_names[i];

		if (n == NULL || n[0] == '\0' || strlen(n) > TT_ALERTS_NAME_MAX ||
				strcmp(n, "all") == 0) {
			snprintf(err, errlen, "sensor_names[%u] = %s: expected 1-%d bytes, not 'all'",
				i, n == NULL ? "(null)" : n, TT_ALERTS_NAME_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

/* --- create --- */

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct tt_alerts *
tt_alerts_create(const struct tt_alerts_conf *conf)
{
	struct tt_alerts *a;
	char err[128];
	uint32_t i, s;

	if (conf == NULL || tt_alerts_conf_check(conf, err, sizeof(err)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		goto err_nomem;
	a->conf = *conf;
	a->conf.sensor_names = NULL;    /* the copies below are ours */
	a->n_scopes = conf->n_sensors + 1;
	a->names = calloc(a->n_scopes, sizeof(*a->names));
	a->tables = calloc(a->n_scopes, sizeof(*a->tables));
	a->victims_mask = pow2_at_least(2 * conf->max_victims) - 1;
	a->victims = calloc(a->victims_mask + 1, sizeof(*a->victims));
	if (a->names == NULL || a->tables == NULL || a->victims == NULL)
		goto err_free;
	for (s = 0; s < conf->n_sensors; s++)
		snprintf(a->names[s], sizeof(a->names[s]), "%s", conf->sensor_names[s]);
	snprintf(a->names[conf->n_sensors], sizeof(a->names[0]), "all");
	for (s = 0; s < a->n_scopes; s++) {
		struct table *t = &a->tables[s];

		t->mask = pow2_at_least(2 * conf->max_subjects) - 1;
		t->heads = malloc((t->mask + 1) * sizeof(*t->heads));
		if (t->heads == NULL)
			goto err_free;
		for (i = 0; i <= t->mask; i++)
			t->heads[i] = -1;
		t->free_head = -1;
	}
	for (i = 0; i < TT_ALERTS_RES_COUNT; i++)
		a->last_ts[i] = a->first_ts[i] = NEVER;
	a->victims_day = NEVER;
	return a;

err_free:
	tt_alerts_free(a);
err_nomem:
	errno = ENOMEM;
	return NULL;
}

int
tt_alerts_reconfigure(struct tt_alerts *a, const struct tt_alerts_conf *conf,
		char *err, size_t errlen)
{
	uint32_t s;

	if (tt_alerts_conf_check(conf, err, errlen) != 0)
		return -EINVAL;
	if (conf->n_sensors + 1 != a->n_scopes) {
		snprintf(err, errlen, "%u sensor indexes, where the detectors hold %u",
			conf->n_sensors, a->n_scopes - 1);
		return -EINVAL;
	}
	for (s = 0; s < conf->n_sensors; s++)
		snprintf(a->names[s], sizeof(a->names[s]), "%s", conf->sensor_names[s]);
	{
		uint32_t subjects = a->conf.max_subjects, victims = a->conf.max_victims;

		a->conf = *conf;
		a->conf.sensor_names = NULL;
		/* the tables were sized by these: kept as created */
		a->conf.max_subjects = subjects;
		a->conf.max_victims = victims;
	}
	return 0;
}

void
tt_alerts_free(struct tt_alerts *a)
{
	uint32_t s;

	if (a == NULL)
		return;
	for (s = 0; a->tables != NULL && s < a->n_scopes; s++) {
		free(a->tables[s].e);
		free(a->tables[s].heads);
	}
	free(a->tables);
	free(a->names);
	free(a->victims);
	free(a->obs);
	free(a->pend);
	free(a->order);
	free(a);
}

void
tt_alerts_stats_get(const struct tt_alerts *a, struct tt_alerts_stats *st)
{
	uint32_t s;

	*st = a->st;
	st->subjects = 0;
	for (s = 0; s < a->n_scopes; s++)
		st->subjects += a->tables[s].used;
}

/* --- subject tables --- */

static uint32_t
hash_key(uint32_t dim, uint32_t subject)
{
	uint64_t h = ((uint64_t)dim << 32 | subject) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 29);
}

static int32_t
table_find(const struct table *t, uint32_t dim, uint32_t subject)
{
	int32_t i;

	for (i = t->heads[hash_key(dim, subject) & t->mask]; i >= 0; i = t->e[i].next)
		if (t->e[i].dim == dim && t->e[i].subject == subject)
			return i;
	return -1;
}

static void
table_unlink(struct table *t, int32_t idx)
{
	struct entry *e = &t->e[idx];
	int32_t *p = &t->heads[hash_key(e->dim, e->subject) & t->mask];

	while (*p != idx)
		p = &t->e[*p].next;
	*p = e->next;
	e->dim = DIM_FREE;
	e->next = t->free_head;
	t->free_head = idx;
	t->used--;
}

struct victim_key {
	uint64_t last;
	uint64_t born;
	uint32_t dim, subject;
	int32_t idx;
};

static int
victim_key_cmp(const void *x, const void *y)
{
	const struct victim_key *a = x, *b = y;

	if (a->last != b->last)
		return a->last < b->last ? -1 : 1;
	if (a->born != b->born)
		return a->born < b->born ? -1 : 1;
	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;
	return a->subject < b->subject ? -1 : a->subject > b->subject;
}

/*
 * Drop the eighth of the entries least recently active (never the ones
 * observed in bucket @p ts): one sort, amortised over the next inserts.
 * The order is a total one on the keys, so the choice does not depend on
 * where entries happen to sit.
 */
static int
table_evict(struct tt_alerts *a, struct table *t, enum tt_alerts_res res, uint64_t ts)
{
	struct victim_key *k;
	uint32_t i, n = 0, drop;

	k = malloc(t->cap * sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		const struct entry *e = &t->e[i];

		if (e->dim == DIM_FREE || e->r[res].cur_ts == ts)
			continue;
		k[n].last = e->last_seen == NEVER ? 0 : e->last_seen;
		k[n].born = e->born;
		k[n].dim = e->dim;
		k[n].subject = e->subject;
		k[n].idx = (int32_t)i;
		n++;
	}
	if (n > 1)
		qsort(k, n, sizeof(*k), victim_key_cmp);
	drop = a->conf.max_subjects / 8;
	if (drop == 0)
		drop = 1;
	if (drop > n)
		drop = n;
	for (i = 0; i < drop; i++)
		table_unlink(t, k[i].idx);
	a->st.evicted += drop;
	free(k);
	return 0;
}

static void
entry_init(struct entry *e, uint32_t dim, uint32_t subject, uint64_t ts)
{
	unsigned int r;

	memset(e, 0, sizeof(*e));
	e->dim = (uint8_t)dim;
	e->subject = subject;
	e->last_seen = NEVER;
	e->born = ts;
	e->in_h = e->in_d = e->far_h = e->far_d = e->day_ts = e->mirai_seen = NEVER;
	for (r = 0; r < TT_ALERTS_RES_COUNT; r++)
		e->r[r].cur_ts = e->r[r].hot_ts = e->r[r].cool_ts = NEVER;
}

/* @return the entry's index, -1 when none is free (every one observed now), or -ENOMEM. */
static int32_t
table_add(struct tt_alerts *a, struct table *t, uint32_t dim, uint32_t subject,
		enum tt_alerts_res res, uint64_t ts)
{
	uint32_t h;
	int32_t idx;

	if (t->free_head < 0 && t->cap == a->conf.max_subjects) {
		int rc = table_evict(a, t, res, ts);

		if (rc != 0)
			return rc;
	}
	if (t->free_head < 0 && t->cap < a->conf.max_subjects) {
		uint32_t cap = t->cap == 0 ? 64 : t->cap * 2, i;
		struct entry *e;

		if (cap > a->conf.max_subjects)
			cap = a->conf.max_subjects;
		e = realloc(t->e, cap * sizeof(*e));
		if (e == NULL)
			return -ENOMEM;
		t->e = e;
		/* new slots join the free list lowest first */
		for (i = cap; i-- > t->cap; ) {
			e[i].dim = DIM_FREE;
			e[i].next = t->free_head;
			t->free_head = (int32_t)i;
		}
		t->cap = cap;
	}
	if (t->free_head < 0) {
		a->st.evicted++;          /* a new subject that found no room */
		return -1;
	}
	idx = t->free_head;
	t->free_head = t->e[idx].next;
	entry_init(&t->e[idx], dim, subject, ts);
	h = hash_key(dim, subject) & t->mask;
	t->e[idx].next = t->heads[h];
	t->heads[h] = idx;
	t->used++;
	return idx;
}

/* --- buckets --- */

static uint64_t
res_step(enum tt_alerts_res res)
{
	return res == TT_ALERTS_RES_HOUR ? 3600 : 60;
}

int
tt_alerts_begin(struct tt_alerts *a, enum tt_alerts_res res, uint64_t ts)
{
	if (a == NULL || (unsigned int)res >= TT_ALERTS_RES_COUNT || ts % res_step(res) != 0)
		return -EINVAL;
	if (a->open)
		return -EBUSY;
	if (a->last_ts[res] != NEVER && ts <= a->last_ts[res])
		return -EALREADY;
	a->open = true;
	a->res = res;
	a->ts = ts;
	a->n_obs = 0;
	return 0;
}

int
tt_alerts_observe(struct tt_alerts *a, uint32_t scope, enum tt_alerts_dim dim,
		uint32_t subject, uint64_t pkts, uint64_t srcs)
{
	struct obs *o;

	if (a == NULL || !a->open || (unsigned int)dim >= TT_ALERTS_DIM_COUNT ||
			(scope != TT_ALERTS_ALL && scope >= a->conf.n_sensors))
		return -EINVAL;
	if (pkts == 0 && srcs == 0)
		return 0;                 /* the same as not observed */
	if (a->n_obs == a->obs_cap) {
		uint32_t cap = a->obs_cap == 0 ? 1024 : a->obs_cap * 2;

		if (cap > MAX_OBS)
			return -ENOSPC;
		o = realloc(a->obs, cap * sizeof(*o));
		if (o == NULL)
			return -ENOMEM;
		a->obs = o;
		a->obs_cap = cap;
	}
	o = &a->obs[a->n_obs++];
	o->scope = scope == TT_ALERTS_ALL ? a->conf.n_sensors : scope;
	/* the total and home Mirai series have one subject each */
	o->subject = dim == TT_ALERTS_DIM_TOTAL || dim == TT_ALERTS_DIM_HOME_MIRAI ? 0 : subject;
	o->dim = dim;
	o->pkts = pkts;
	o->srcs = srcs;
	return 0;
}

static int
obs_cmp(const void *x, const void *y)
{
	const struct obs *a = x, *b = y;

	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;
	return a->subject < b->subject ? -1 : a->subject > b->subject;
}

static unsigned int
slot_of(uint64_t ts)
{
	return (unsigned int)((ts / 3600) % SLOTS);
}

/* Buckets an hour-of-day slot receives a day at @p res. */
static double
per_slot_day(enum tt_alerts_res res)
{
	return res == TT_ALERTS_RES_HOUR ? 1.0 : 60.0;
}

/* A slot speaks once it has half an hour of minutes, or two days of hours. */
static unsigned int
slot_min(enum tt_alerts_res res)
{
	return res == TT_ALERTS_RES_HOUR ? 2 : 30;
}

static double
predict(const struct tt_alerts *a, const struct base *b, enum tt_alerts_res res,
		unsigned int slot)
{
	double p = a->conf.baseline_min;

	if (b->n > 0 && b->lvl > p)
		p = b->lvl;
	if (b->slot_n[slot] >= slot_min(res) && b->slot[slot] > p)
		p = b->slot[slot];
	return p;
}

static double
score_of(uint64_t x, double pred, const struct base *b)
{
	if ((double)x <= pred)
		return 0.0;
	return tt_alerts_negbin_score(x, pred, b->var > pred ? b->var : pred);
}

static bool
warm(const struct tt_alerts *a)
{
	return a->ts >= a->first_ts[a->res] + (uint64_t)a->conf.warmup_hours * 3600;
}

/* The baseline takes bucket value @p x, clipped (inpainting). */
static void
base_update(const struct tt_alerts *a, struct base *b, enum tt_alerts_res res,
		unsigned int slot, uint64_t x)
{
	double pred = predict(a, b, res, slot);
	double sd = sqrt(b->var > pred ? b->var : pred);
	double xc = (double)x, level_n, alpha, sa, r;

	/*
	 * Clip once the series has a few buckets of its own, or once the
	 * detectors are warm: a subject new then starts at the floor, so a
	 * partial first minute of an event does not become its baseline.
	 */
	if ((b->n >= CLIP_AFTER || warm(a)) && xc > pred + CLIP_SD * sd)
		xc = pred + CLIP_SD * sd;
	level_n = res == TT_ALERTS_RES_HOUR ? a->conf.level_hours : a->conf.level_minutes;
	/* a running mean until the window is full, then an EWMA */
	alpha = 1.0 / (b->n + 1 < level_n ? b->n + 1 : level_n);
	r = xc - pred;
	/* a new series' first bucket is its level; its distance from the floor is no variance */
	if (b->n == 0) {
		b->lvl = (float)xc;
	} else {
		b->lvl = (float)(b->lvl + alpha * (xc - b->lvl));
		b->var = (float)(b->var + alpha * (r * r - b->var));
	}
	sa = per_slot_day(res) * a->conf.baseline_days;
	sa = 1.0 / (b->slot_n[slot] + 1 < sa ? b->slot_n[slot] + 1 : sa);
	b->slot[slot] = (float)(b->slot[slot] + sa * (xc - b->slot[slot]));
	if (b->slot_n[slot] < UINT16_MAX)
		b->slot_n[slot]++;
	if (b->n < UINT32_MAX)
		b->n++;
}

static int
pend_add(struct tt_alerts *a, const struct tt_alert *al, uint32_t sidx, int32_t idx)
{
	if (a->n_pend == a->pend_cap) {
		uint32_t cap = a->pend_cap == 0 ? 64 : a->pend_cap * 2;
		struct pending *p = realloc(a->pend, cap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		a->pend = p;
		a->pend_cap = cap;
	}
	a->pend[a->n_pend].al = *al;
	a->pend[a->n_pend].sidx = sidx;
	a->pend[a->n_pend].idx = idx;
	a->n_pend++;
	return 0;
}

static void
subject_name(const struct tt_alerts *a, uint32_t sidx, uint32_t dim, uint32_t subject,
		char *buf, size_t len)
{
	char cc[3];

	switch (dim) {
	case TT_ALERTS_DIM_SERVICE:
	case TT_ALERTS_DIM_MIRAI_SERVICE:
		tt_classify_service_format(subject, buf, len);
		break;
	case TT_ALERTS_DIM_COUNTRY:
		tt_classify_country_code((uint16_t)(subject < TT_COUNTRY_COUNT ? subject :
			TT_COUNTRY_ZZ), cc);
		snprintf(buf, len, "%s", cc);
		break;
	case TT_ALERTS_DIM_HOME_MIRAI:
		tt_classify_country_code(a->conf.home_country, cc);
		snprintf(buf, len, "%s", cc);
		break;
	default:
		snprintf(buf, len, "%s", a->names[sidx]);
		break;
	}
}

static void
alert_head(const struct tt_alerts *a, struct tt_alert *al, enum tt_alerts_kind kind,
		uint32_t sidx, const struct entry *e)
{
	memset(al, 0, sizeof(*al));
	al->ts = a->ts;
	al->kind = kind;
	al->scope = sidx == a->conf.n_sensors ? TT_ALERTS_ALL : sidx;
	al->dim = (enum tt_alerts_dim)e->dim;
	al->subject = e->subject;
	al->res = a->res;
	snprintf(al->scope_name, sizeof(al->scope_name), "%s", a->names[sidx]);
	subject_name(a, sidx, e->dim, e->subject, al->subject_name, sizeof(al->subject_name));
}

/*
 * May an alert of @p score go out for this (kind, scope, subject, res)?
 * Quiet while the event lasts and cooldown_minutes after, unless the score
 * grew realert_gain times.
 */
static bool
cool_allows(const struct tt_alerts *a, const struct res_state *r, double score)
{
	if (!r->cooling)
		return true;
	if (a->ts - r->cool_ts > (uint64_t)a->conf.cooldown_minutes * 60)
		return true;
	return score >= a->conf.realert_gain * r->cool_score;
}

/* surge, mirai_home_surge: judge one entry's bucket before its baseline takes it */
static int
judge_surge(struct tt_alerts *a, uint32_t sidx, int32_t idx)
{
	struct entry *e = &a->tables[sidx].e[idx];
	struct res_state *r = &e->r[a->res];
	unsigned int slot = slot_of(a->ts), m, best = METRICS;
	bool home = e->dim == TT_ALERTS_DIM_HOME_MIRAI, hot = false;
	double score[METRICS], pred[METRICS];
	uint64_t x[METRICS];
	struct tt_alert al;

	x[M_PKTS] = r->cur_ts == a->ts ? r->pkts : 0;
	x[M_SRCS] = r->cur_ts == a->ts ? r->srcs : 0;
	for (m = 0; m < METRICS; m++) {
		uint64_t min = m == M_PKTS ? a->conf.min_pkts :
			home ? a->conf.home_mirai_min_srcs : a->conf.min_srcs;

		pred[m] = predict(a, &r->b[m], a->res, slot);
		score[m] = score_of(x[m], pred[m], &r->b[m]);
		/* a home Mirai surge is one of sources */
		if (home && m == M_PKTS)
			continue;
		if (score[m] >= a->conf.min_score / 2 &&
				(double)x[m] >= pred[m] * (1.0 + (a->conf.min_ratio - 1.0) / 2))
			hot = true;
		if (score[m] >= a->conf.min_score && (double)x[m] >= a->conf.min_ratio * pred[m] &&
				x[m] >= min && (best == METRICS || score[m] > score[best]))
			best = m;
	}
	if (hot)
		r->hot_ts = a->ts;
	if (best == METRICS || !warm(a))
		goto out;
	if (!cool_allows(a, r, score[best])) {
		a->st.suppressed++;
		goto out;
	}
	alert_head(a, &al, home ? TT_ALERTS_MIRAI_HOME_SURGE : TT_ALERTS_SURGE, sidx, e);
	al.metric = best == M_SRCS ? TT_ALERTS_METRIC_SRCS : TT_ALERTS_METRIC_PKTS;
	al.observed = x[best];
	al.baseline = pred[best];
	al.score = score[best];
	r->cooling = true;
	r->cool_score = (float)score[best];
	r->cool_ts = a->ts;
	return pend_add(a, &al, sidx, idx);
out:
	if (hot && r->cooling)
		r->cool_ts = a->ts;       /* the event goes on: the cool-down waits */
	return 0;
}

static int
judge_mirai_port(struct tt_alerts *a, uint32_t sidx, int32_t idx)
{
	struct entry *e = &a->tables[sidx].e[idx];
	struct res_state *r = &e->r[a->res];
	uint64_t horizon = (uint64_t)a->conf.new_mirai_port_horizon_days * 86400;
	uint64_t pkts = r->cur_ts == a->ts ? r->pkts : 0, srcs = r->cur_ts == a->ts ? r->srcs : 0;
	struct tt_alert al;
	bool fresh;

	if (pkts == 0 || (pkts < a->conf.new_mirai_port_min_pkts &&
			srcs < a->conf.new_mirai_port_min_srcs))
		return 0;             /* a stray packet does not make a port seen */
	fresh = e->mirai_seen == NEVER ||
		(a->ts > e->mirai_seen && a->ts - e->mirai_seen > horizon);
	if (e->mirai_seen == NEVER || a->ts > e->mirai_seen)
		e->mirai_seen = a->ts;
	if (!fresh || !warm(a))
		return 0;
	alert_head(a, &al, TT_ALERTS_NEW_MIRAI_PORT, sidx, e);
	al.observed = pkts;
	al.baseline = 0;
	al.score = tt_alerts_poisson_score(pkts, a->conf.baseline_min);
	snprintf(al.message, sizeof(al.message), "Mirai-type packets on %s at %s: %" PRIu64
		" packets from %" PRIu64 " sources in the %s, none in the last %u days",
		al.subject_name, al.scope_name, pkts, srcs,
		a->res == TT_ALERTS_RES_HOUR ? "hour" : "minute",
		a->conf.new_mirai_port_horizon_days);
	return pend_add(a, &al, sidx, idx);
}

/* How many sensors see (dim, subject) hot in this bucket, of those tracking it. */
static enum tt_alerts_breadth
breadth_of(const struct tt_alerts *a, uint32_t dim, uint32_t subject)
{
	uint32_t s, hot = 0, with = 0;

	for (s = 0; s < a->conf.n_sensors; s++) {
		const struct table *t = &a->tables[s];
		int32_t i = table_find(t, dim, subject);

		if (i < 0)
			continue;
		with++;
		hot += t->e[i].r[a->res].hot_ts == a->ts;
	}
	if (hot >= 2 && (double)hot >= a->conf.broad_share * with)
		return TT_ALERTS_BREADTH_BROAD;
	return TT_ALERTS_BREADTH_LOCAL;
}

static void
surge_message(struct tt_alert *al)
{
	const char *what = al->metric == TT_ALERTS_METRIC_SRCS ? "sources" : "packets";
	const char *in = al->res == TT_ALERTS_RES_HOUR ? "hour" : "minute";

	if (al->kind == TT_ALERTS_MIRAI_HOME_SURGE)
		snprintf(al->message, sizeof(al->message), "home (%s) Mirai-type sources at %s: "
			"%" PRIu64 " in the %s against %.1f expected (score %.1f, %s)",
			al->subject_name, al->scope_name, al->observed, in, al->baseline,
			al->score, tt_alerts_breadth_name(al->breadth));
	else if (al->dim == TT_ALERTS_DIM_TOTAL)
		snprintf(al->message, sizeof(al->message), "all traffic at %s surges: %" PRIu64
			" %s in the %s against %.1f expected (score %.1f, %s)", al->scope_name,
			al->observed, what, in, al->baseline, al->score,
			tt_alerts_breadth_name(al->breadth));
	else
		snprintf(al->message, sizeof(al->message), "%s surges at %s: %" PRIu64 " %s in "
			"the %s against %.1f expected (score %.1f, %s%s)", al->subject_name,
			al->scope_name, al->observed, what, in, al->baseline, al->score,
			tt_alerts_breadth_name(al->breadth),
			al->breadth == TT_ALERTS_BREADTH_LOCAL ? ", not widespread" : "");
}

struct rank_key {
	uint64_t pkts;
	uint32_t subject;
	uint32_t idx;
};

static int
rank_key_cmp(const void *x, const void *y)
{
	const struct rank_key *a = x, *b = y;

	if (a->pkts != b->pkts)
		return a->pkts > b->pkts ? -1 : 1;
	return a->subject < b->subject ? -1 : a->subject > b->subject;
}

static bool
within(uint64_t then, uint64_t now, uint64_t span)
{
	return then != NEVER && then <= now && now - then <= span;
}

/*
 * rank: hourly, and daily from the hours at the last hour of a UTC day. A
 * subject in the top-N alerts when it was not in it within the lookback
 * but was far from it (beyond top-N + margin, or absent) within it: a
 * climber alerts once, a subject that hovers just below the top-N and
 * steps in does not (churn at the edge), nor one that was always there.
 */
static int
judge_rank(struct tt_alerts *a, uint32_t sidx, uint32_t dim, bool day)
{
	struct table *t = &a->tables[sidx];
	uint64_t dayts = a->ts - a->ts % 86400, now = day ? dayts : a->ts;
	uint64_t look = day ? (uint64_t)a->conf.rank_lookback_days * 86400 :
		(uint64_t)a->conf.rank_lookback_hours * 3600;
	uint64_t step = day ? 86400 : 3600;
	uint32_t i, n = 0, near = a->conf.rank_top_n + a->conf.rank_margin;
	bool ready = day ? a->first_ts[TT_ALERTS_RES_HOUR] + 86400 <= dayts : warm(a);
	int rc;

	if (t->cap > a->order_cap) {
		struct rank_key *o = realloc(a->order, t->cap * sizeof(*o));

		if (o == NULL)
			return -ENOMEM;
		a->order = o;
		a->order_cap = t->cap;
	}
	for (i = 0; i < t->cap; i++) {
		struct entry *e = &t->e[i];
		uint64_t pkts;

		if (e->dim != dim)
			continue;
		/* new in this bucket, after an earlier ranking: absent from that one */
		if (e->born >= now && a->first_ts[TT_ALERTS_RES_HOUR] + step <= now) {
			if (day && e->far_d == NEVER && e->in_d == NEVER)
				e->far_d = now - step;
			if (!day && e->far_h == NEVER && e->in_h == NEVER)
				e->far_h = now - step;
		}
		pkts = day ? (e->day_ts == dayts ? e->day_pkts : 0) :
			(e->r[TT_ALERTS_RES_HOUR].cur_ts == a->ts ? e->r[TT_ALERTS_RES_HOUR].pkts : 0);
		if (pkts == 0) {
			*(day ? &e->far_d : &e->far_h) = now;
			continue;
		}
		a->order[n].pkts = pkts;
		a->order[n].subject = e->subject;
		a->order[n].idx = i;
		n++;
	}
	if (n > 1)              /* no subjects: order may be unallocated (NULL) */
		qsort(a->order, n, sizeof(*a->order), rank_key_cmp);
	for (i = 0; i < n; i++) {
		struct entry *e = &t->e[a->order[i].idx];
		uint64_t pkts = a->order[i].pkts;
		uint64_t *in = day ? &e->in_d : &e->in_h, *far = day ? &e->far_d : &e->far_h;
		bool alert = i < a->conf.rank_top_n && ready && pkts >= a->conf.rank_min_pkts &&
			!within(*in, now - step, look) && within(*far, now - step, look);
		const struct base *b = &e->r[TT_ALERTS_RES_HOUR].b[M_PKTS];
		struct tt_alert al;
		double base, score;

		if (i >= near)
			*far = now;
		if (i < a->conf.rank_top_n)
			*in = now;
		if (!alert)
			continue;
		/*
		 * Where many subjects have about the same count, ranks churn far
		 * past any margin: the subject must also be clearly above its own
		 * baseline (the hour's, or yesterday's count for the day).
		 */
		if (day) {
			base = (double)e->prev_day_pkts;
			if (base < a->conf.baseline_min)
				base = a->conf.baseline_min;
			score = tt_alerts_poisson_score(pkts, base);
		} else {
			/* Poisson: a climber's own trend inflates its variance */
			base = predict(a, b, TT_ALERTS_RES_HOUR, slot_of(a->ts));
			score = tt_alerts_poisson_score(pkts, base);
		}
		if (score < a->conf.rank_min_score)
			continue;
		alert_head(a, &al, TT_ALERTS_RANK, sidx, e);
		al.observed = pkts;
		al.baseline = base;
		al.score = score;
		snprintf(al.message, sizeof(al.message), "%s entered the %s top-%u %s at %s: "
			"#%u with %" PRIu64 " packets, below the top-%u within the last %u %s",
			al.subject_name, day ? "daily" : "hourly", a->conf.rank_top_n,
			dim == TT_ALERTS_DIM_SERVICE ? "services" : "countries", al.scope_name,
			i + 1, pkts, near, day ? a->conf.rank_lookback_days :
			a->conf.rank_lookback_hours, day ? "days" : "hours");
		rc = pend_add(a, &al, sidx, (int32_t)a->order[i].idx);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
pend_cmp(const void *x, const void *y)
{
	const struct pending *a = x, *b = y;

	if (a->sidx != b->sidx)
		return a->sidx < b->sidx ? -1 : 1;
	if (a->al.kind != b->al.kind)
		return a->al.kind < b->al.kind ? -1 : 1;
	if (a->al.dim != b->al.dim)
		return a->al.dim < b->al.dim ? -1 : 1;
	if (a->al.subject != b->al.subject)
		return a->al.subject < b->al.subject ? -1 : 1;
	return (int)a->al.metric - (int)b->al.metric;
}

/* Fill the bucket's figures into the tables (creating entries as needed). */
static int
apply_observations(struct tt_alerts *a)
{
	uint32_t i, w = 0;

	if (a->n_obs > 1)
		qsort(a->obs, a->n_obs, sizeof(*a->obs), obs_cmp);
	/* merge repeats: packets add, sources keep the largest estimate */
	for (i = 0; i < a->n_obs; i++) {
		if (w > 0 && obs_cmp(&a->obs[w - 1], &a->obs[i]) == 0) {
			a->obs[w - 1].pkts += a->obs[i].pkts;
			if (a->obs[i].srcs > a->obs[w - 1].srcs)
				a->obs[w - 1].srcs = a->obs[i].srcs;
			continue;
		}
		a->obs[w++] = a->obs[i];
	}
	a->n_obs = w;
	for (i = 0; i < a->n_obs; i++) {
		const struct obs *o = &a->obs[i];
		struct table *t = &a->tables[o->scope];
		int32_t idx = table_find(t, o->dim, o->subject);
		struct res_state *r;

		if (idx < 0) {
			/* a single packet on a long-tail port is not worth a baseline */
			if ((o->dim == TT_ALERTS_DIM_SERVICE || o->dim == TT_ALERTS_DIM_COUNTRY) &&
					o->pkts < 2)
				continue;
			idx = table_add(a, t, o->dim, o->subject, a->res, a->ts);
			if (idx == -ENOMEM)
				return -ENOMEM;
			if (idx < 0)
				continue;
		}
		r = &t->e[idx].r[a->res];
		r->cur_ts = a->ts;
		r->pkts = o->pkts;
		r->srcs = o->srcs;
		if (o->pkts > 0 && (t->e[idx].last_seen == NEVER || a->ts > t->e[idx].last_seen))
			t->e[idx].last_seen = a->ts;
	}
	return 0;
}

/* Every tracked entry's baselines take this bucket (0 where not observed). */
static void
update_baselines(struct tt_alerts *a)
{
	unsigned int slot = slot_of(a->ts);
	uint32_t s, i;

	for (s = 0; s < a->n_scopes; s++) {
		struct table *t = &a->tables[s];

		for (i = 0; i < t->cap; i++) {
			struct entry *e = &t->e[i];
			struct res_state *r = &e->r[a->res];
			bool now = r->cur_ts == a->ts;

			if (e->dim == DIM_FREE)
				continue;
			base_update(a, &r->b[M_PKTS], a->res, slot, now ? r->pkts : 0);
			base_update(a, &r->b[M_SRCS], a->res, slot, now ? r->srcs : 0);
		}
	}
}

/* Does this entry hold nothing a fresh one would not (a long-tail subject gone quiet)? */
static bool
entry_idle(const struct tt_alerts *a, const struct entry *e)
{
	unsigned int r, m, k;

	if ((e->dim != TT_ALERTS_DIM_SERVICE && e->dim != TT_ALERTS_DIM_COUNTRY) ||
			e->in_h != NEVER || e->in_d != NEVER ||
			(e->last_seen != NEVER && a->ts < e->last_seen + 3600))
		return false;
	for (r = 0; r < TT_ALERTS_RES_COUNT; r++) {
		const struct res_state *rs = &e->r[r];

		if (rs->cooling && a->ts <= rs->cool_ts + (uint64_t)a->conf.cooldown_minutes * 60)
			return false;
		for (m = 0; m < METRICS; m++) {
			if (rs->b[m].lvl > a->conf.baseline_min)
				return false;
			for (k = 0; k < SLOTS; k++)
				if (rs->b[m].slot_n[k] >= slot_min((enum tt_alerts_res)r) &&
						rs->b[m].slot[k] > a->conf.baseline_min)
					return false;
		}
	}
	return true;
}

/*
 * Once an hour, drop the entries whose every prediction is the floor: a
 * fresh entry would judge the same, and the per-bucket pass stays short.
 */
static void
expire_idle(struct tt_alerts *a)
{
	uint32_t s, i;

	for (s = 0; s < a->n_scopes; s++) {
		struct table *t = &a->tables[s];

		for (i = 0; i < t->cap; i++)
			if (t->e[i].dim != DIM_FREE && entry_idle(a, &t->e[i])) {
				table_unlink(t, (int32_t)i);
				a->st.expired++;
			}
	}
}

int
tt_alerts_end(struct tt_alerts *a, tt_alerts_emit_cb emit, void *ctx)
{
	uint32_t s, i;
	int rc, first_err = 0;

	if (a == NULL || !a->open)
		return -EINVAL;
	a->open = false;
	if (a->first_ts[a->res] == NEVER)
		a->first_ts[a->res] = a->ts;
	a->last_ts[a->res] = a->ts;
	a->n_pend = 0;
	rc = apply_observations(a);
	if (rc != 0)
		return rc;
	/* hourly rank sums days from the hours: take this hour before ranking */
	if (a->res == TT_ALERTS_RES_HOUR)
		for (s = 0; s < a->n_scopes; s++)
			for (i = 0; i < a->tables[s].cap; i++) {
				struct entry *e = &a->tables[s].e[i];
				uint64_t day = a->ts - a->ts % 86400;

				if (e->dim == DIM_FREE || e->r[TT_ALERTS_RES_HOUR].cur_ts != a->ts)
					continue;
				if (e->day_ts != day) {
					e->prev_day_pkts = e->day_ts != NEVER &&
						e->day_ts + 86400 == day ? e->day_pkts : 0;
					e->day_ts = day;
					e->day_pkts = 0;
				}
				e->day_pkts += e->r[TT_ALERTS_RES_HOUR].pkts;
			}
	/* sensors first, so the all scope's breadth sees their verdicts */
	for (s = 0; s < a->n_scopes; s++) {
		struct table *t = &a->tables[s];

		for (i = 0; i < t->cap; i++) {
			uint32_t dim = t->e[i].dim;

			if (dim == DIM_FREE)
				continue;
			if (dim == TT_ALERTS_DIM_MIRAI_SERVICE)
				rc = judge_mirai_port(a, s, (int32_t)i);
			else
				rc = judge_surge(a, s, (int32_t)i);
			if (rc != 0)
				return rc;
		}
		if (a->res == TT_ALERTS_RES_HOUR) {
			bool day_end = a->ts % 86400 == 86400 - 3600;

			rc = judge_rank(a, s, TT_ALERTS_DIM_SERVICE, false);
			if (rc == 0)
				rc = judge_rank(a, s, TT_ALERTS_DIM_COUNTRY, false);
			if (rc == 0 && day_end)
				rc = judge_rank(a, s, TT_ALERTS_DIM_SERVICE, true);
			if (rc == 0 && day_end)
				rc = judge_rank(a, s, TT_ALERTS_DIM_COUNTRY, true);
			if (rc != 0)
				return rc;
		}
	}
	/* baselines take the bucket after it was judged against them */
	update_baselines(a);
	if (a->res == TT_ALERTS_RES_HOUR)
		expire_idle(a);
	if (a->n_pend > 1)
		qsort(a->pend, a->n_pend, sizeof(*a->pend), pend_cmp);
	a->st.buckets[a->res]++;
	for (i = 0; i < a->n_pend; i++) {
		struct tt_alert *al = &a->pend[i].al;

		if (al->kind == TT_ALERTS_SURGE || al->kind == TT_ALERTS_MIRAI_HOME_SURGE) {
			al->breadth = breadth_of(a, al->dim, al->subject);
			surge_message(al);
		}
		a->st.alerts[al->kind]++;
		if (emit != NULL) {
			rc = emit(ctx, al);
			if (rc != 0 && first_err == 0)
				first_err = rc;
		}
	}
	a->n_pend = 0;
	return first_err;
}

/* --- dos_victim --- */

static uint32_t
victim_hash(uint8_t family, const uint8_t *addr)
{
	uint64_t h = 1469598103934665603ull ^ family;
	unsigned int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 1099511628211ull;
	return (uint32_t)(h ^ h >> 32);
}

int
tt_alerts_victim(struct tt_alerts *a, uint64_t ts, const uint8_t *addr,
		uint8_t family, uint64_t pkts, bool home, tt_alerts_emit_cb emit, void *ctx)
{
	uint8_t key[16] = { 0 };
	uint64_t day = ts - ts % 86400;
	struct tt_alert al;
	uint32_t h;

	if (a == NULL || addr == NULL || (family != 4 && family != 6))
		return -EINVAL;
	memcpy(key, addr, family == 4 ? 4 : 16);
	if (a->victims_day != day) {
		/* a new UTC day: every victim may alert again */
		memset(a->victims, 0, (a->victims_mask + 1) * sizeof(*a->victims));
		a->n_victims = 0;
		a->victims_day = day;
	}
	for (h = victim_hash(family, key) & a->victims_mask; a->victims[h].family != 0;
			h = (h + 1) & a->victims_mask)
		if (a->victims[h].family == family && memcmp(a->victims[h].addr, key, 16) == 0)
			return 0;
	if (a->n_victims == a->conf.max_victims) {
		a->st.victims_dropped++;
		return 0;
	}
	a->victims[h].family = family;
	memcpy(a->victims[h].addr, key, 16);
	a->n_victims++;

	memset(&al, 0, sizeof(al));
	al.ts = ts;
	al.kind = TT_ALERTS_DOS_VICTIM;
	al.scope = TT_ALERTS_ALL;
	al.dim = TT_ALERTS_DIM_COUNT;
	al.res = TT_ALERTS_RES_MINUTE;
	al.metric = TT_ALERTS_METRIC_PKTS;
	al.observed = pkts;
	al.baseline = 0;
	al.score = tt_alerts_poisson_score(pkts, a->conf.baseline_min);
	al.breadth = home ? TT_ALERTS_BREADTH_HOME : TT_ALERTS_BREADTH_NONE;
	snprintf(al.scope_name, sizeof(al.scope_name), "all");
	inet_ntop(family == 4 ? AF_INET : AF_INET6, key, al.subject_name,
		sizeof(al.subject_name));
	snprintf(al.message, sizeof(al.message), "DoS victim %s%s: %" PRIu64 " backscatter "
		"packets (replies to spoofed traffic)", al.subject_name,
		home ? " (home)" : "", pkts);
	a->st.alerts[TT_ALERTS_DOS_VICTIM]++;
	if (emit != NULL) {
		int rc = emit(ctx, &al);

		if (rc != 0)
			return rc;
	}
	return 1;
}
