/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names of service keys, classes and countries. Control plane: used when
 * loading the config and when publishing, never per packet.
 */
#include "tt_classify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ISO 3166-1 alpha-2, officially assigned codes (249). */
static const char assigned_countries[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM "
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW ";

int
tt_classify_service_format(uint32_t svc, char *buf, size_t len)
{
	unsigned int v = TT_SVC_VALUE(svc);

	switch (TT_SVC_KIND(svc)) {
	case TT_SVC_TCP:
		return snprintf(buf, len, "tcp/%u", v);
	case TT_SVC_UDP:
		return snprintf(buf, len, "udp/%u", v);
	case TT_SVC_TCP_BARE:
		return snprintf(buf, len, "tcp");
	case TT_SVC_UDP_BARE:
		return snprintf(buf, len, "udp");
	case TT_SVC_ICMP:
		return snprintf(buf, len, "icmp");
	case TT_SVC_ICMP6:
		return snprintf(buf, len, "icmp6");
	case TT_SVC_IP:
		return snprintf(buf, len, "ip/%u", v);
	case TT_SVC_OVERFLOW:
		return snprintf(buf, len, "overflow");
	default:
		return snprintf(buf, len, "none");
	}
}

/* A decimal number in [0, max] and nothing after it. */
static int
parse_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

int
tt_classify_service_parse(const char *s, uint32_t *svc)
{
	unsigned long v;

	if (strcmp(s, "icmp") == 0) {
		*svc = TT_SVC(TT_SVC_ICMP, 0);
	} else if (strcmp(s, "icmp6") == 0) {
		*svc = TT_SVC(TT_SVC_ICMP6, 0);
	} else if (strcmp(s, "tcp") == 0) {
		*svc = TT_SVC(TT_SVC_TCP_BARE, 0);
	} else if (strcmp(s, "udp") == 0) {
		*svc = TT_SVC(TT_SVC_UDP_BARE, 0);
	} else if (strncmp(s, "tcp/", 4) == 0 && parse_number(s + 4, 65535, &v) == 0) {
		*svc = TT_SVC(TT_SVC_TCP, v);
	} else if (strncmp(s, "udp/", 4) == 0 && parse_number(s + 4, 65535, &v) == 0) {
		*svc = TT_SVC(TT_SVC_UDP, v);
	} else if (strncmp(s, "ip/", 3) == 0 && parse_number(s + 3, 255, &v) == 0) {
		*svc = TT_SVC(TT_SVC_IP, v);
	} else {
		return -EINVAL;
	}
	return 0;
}

int
tt_classify_country_index(const char *cc)
{
	if (cc == NULL || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' ||
			cc[2] != '\0')
		return -EINVAL;
	return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

void
tt_classify_country_code(uint16_t index, char *buf)
{
	if (index >= TT_COUNTRY_COUNT)
		index = TT_COUNTRY_ZZ;
	buf[0] = (char)('A' + index / 26);
	buf[1] = (char)('A' + index % 26);
	buf[2] = '\0';
}

bool
tt_classify_country_is_assigned(const char *cc)
{
	const char *p;

	if (tt_classify_country_index(cc) < 0)
		return false;
	for (p = assigned_countries; *p != '\0'; p += 3)
		if (p[0] == cc[0] && p[1] == cc[1])
			return true;
	return false;
}
