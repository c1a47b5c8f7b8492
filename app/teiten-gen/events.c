/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events: the timeline, as offsets from --start. When each packet is sent
 * (evenly, or following the day with --diurnal); which event, if any, takes
 * a packet (--surge, --dos, --home-mirai-surge) and what it changes in the
 * others (--ramp, --mirai-port); the frames the events send, and the floods
 * (--flood, --flood-mirai). Reads struct events as main.c parsed it and the
 * sources populations.c drew; changes nothing but the rng and the frame.
 */
#include <math.h>
#include <string.h>

#include "gen.h"

/*
 * --diurnal: the packet rate follows the day, 1 + a sin(...) with its peak
 * at 12:00 UTC and its trough at 00:00. Packet i of n is sent at the time
 * where the cumulative rate reaches i / n (found by bisection: the
 * cumulative rate is increasing for a < 1), so packets stay in time order.
 */
static double
swing_seconds(double diurnal, uint64_t start, uint64_t span, double u)
{
	const double w = 2 * M_PI / 86400;
	const double phase = w * ((double)(start % 86400) - 21600);
	double lo = 0, hi = (double)span, target;
	int k;

#define CUMULATIVE(t) ((t) - diurnal / w * (cos(phase + w * (t)) - cos(phase)))
	target = u * CUMULATIVE((double)span);
	for (k = 0; k < 48; k++) {
		double mid = (lo + hi) / 2;

		if (CUMULATIVE(mid) < target)
			lo = mid;
		else
			hi = mid;
	}
#undef CUMULATIVE
	return lo;
}

uint64_t
packet_usec(const struct scenario *sc, uint64_t i)
{
	return sc->start * 1000000 + (sc->diurnal > 0 ?
		(uint64_t)(swing_seconds(sc->diurnal, sc->start, sc->span,
			(double)i / (double)sc->packets) * 1e6) :
		i * (sc->span * 1000000 / sc->packets));
}

/* Does an event take the packet at @p sec? A draw only while it lasts. */
static bool
window_takes(struct rng *rng, const struct window *w, uint64_t sec)
{
	return sec >= w->from && sec < w->to && rng_below(rng, 1000) < w->permille;
}

void
events_at(struct gen *g, uint64_t sec, struct packet_events *now)
{
	const struct events *ev = &g->events;
	const struct ramp *ramp = &ev->ramp;
	unsigned int e;

	memset(now, 0, sizeof(*now));
	for (e = 0; e < ev->n_surges; e++)
		if (window_takes(&g->rng, &ev->surges[e].when, sec)) {
			now->surge = &ev->surges[e];
			break;
		}
	for (e = 0; now->surge == NULL && e < ev->n_attacks; e++)
		if (window_takes(&g->rng, &ev->attacks[e].when, sec)) {
			now->attack = &ev->attacks[e];
			break;
		}
	/* no draw unless the option is given, so other scenarios stay as they were */
	if (ev->home_surge_set && now->surge == NULL && now->attack == NULL)
		now->home_mirai = window_takes(&g->rng, &ev->home_surge, sec);
	if (ramp->country >= 0)
		now->ramp_permille = (uint32_t)(ramp->from + ((int64_t)ramp->to - ramp->from) *
			(int64_t)sec / (int64_t)g->sc.span);
	now->mirai_port = ev->mirai_port >= 0 && sec >= ev->mirai_port_from;
}

/*
 * Flood mode: 64-byte SYNs to 80/TCP, each from a source no other packet
 * has (a bijective mix of the packet index), the spoofed flood a telescope
 * sees during a DoS attack on someone else.
 */
void
build_flood(struct gen *g, uint64_t i, struct frame *f)
{
	bool mirai = g->sc.flood_mirai;
	uint32_t src = (uint32_t)i, d4, seq, ip;
	uint8_t dst[16];
	uint16_t id;

	/* odd multiply and xor-shifts are invertible: distinct i, distinct src */
	src *= 0x9e3779b1u;
	src ^= src >> 15;
	src *= 0x85ebca6bu;
	src ^= src >> 13;
	memset(f, 0, sizeof(*f));
	f->sensor = dark_destination(g, 4, dst);
	d4 = be32(dst);
	seq = (uint32_t)rng_next(&g->rng);
	id = (uint16_t)rng_next(&g->rng);
	if (mirai) {
		seq = d4;
		f->klass = C_MIRAI;
	} else {
		avoid_syn_fingerprints(&g->rng, d4, 80, &seq, &id, false);
	}
	ethernet(f, &g->rng, 0x0800, false);
	ip = ipv4_header(f, id, 64, 6, src, d4);
	tcp_header(f, (uint16_t)(1024 + (i % 60000)), mirai ? 23 : 80, seq, 0, 0x02, 1024,
		NULL, 0);
	ipv4_finish(f, ip);
	pad_to_minimum(f);
	set_service(f, "tcp", mirai ? 23 : 80);
}

/* A surge packet: a plain SYN or UDP probe to the surging service. */
void
build_surge(struct gen *g, const struct surge *e, const struct packet_events *now,
		struct frame *f)
{
	const struct bot *b = pick_bot(g, now);
	uint8_t dst[16];
	uint32_t d4;

	memset(f, 0, sizeof(*f));
	f->klass = C_OTHER;
	if (e->sensor >= 0) {
		f->sensor = e->sensor;
		destination_in(g, e->sensor, dst);
	} else {
		f->sensor = dark_destination(g, 4, dst);
	}
	d4 = be32(dst);
	if (e->udp)
		build_udp4(f, &g->rng, b, d4, e->port, 1, false);
	else
		build_plain_syn4(f, &g->rng, b, d4, e->port, NULL, 0, false);
}

/* A Mirai-type SYN from one of the home bots of --home-mirai-surge. */
void
build_home_mirai(struct gen *g, struct frame *f)
{
	struct rng *rng = &g->rng;
	const struct bot *b = &g->sources.home_bots[rng_below(rng, HOME_SURGE_BOTS)];
	bool vlan = rng_below(rng, 10) == 0;
	uint8_t dst[16];
	uint32_t d4;
	uint16_t dport;

	memset(f, 0, sizeof(*f));
	f->sensor = dark_destination(g, 4, dst);
	d4 = be32(dst);
	dport = rng_below(rng, 10) == 0 ? 2323 : 23;
	build_syn4(f, rng, b, d4, dport, d4, (uint16_t)rng_next(rng), b->window, NULL, 0,
		b->ttl, vlan);
	f->klass = C_MIRAI;
}

/* A packet of an attack: backscatter from one of its victims. */
void
build_attack(struct gen *g, const struct attack *a, struct frame *f)
{
	const struct bot *b = &a->victims[rng_below(&g->rng, a->n_victims)];
	bool vlan = rng_below(&g->rng, 10) == 0;

	memset(f, 0, sizeof(*f));
	build_backscatter(g, f, b, vlan);
}
