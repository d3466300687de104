/* egress: parsing the --ssh-egress entries (lib/egress.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "egress.h"

static int
name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* A DNS name as ssh and getaddrinfo take it: labels of [A-Za-z0-9_-]. */
static int
host_name_ok(const char *h, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		if (h[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!name_char((unsigned char)h[i]) || h[i] == '.')
			return 0;
		if (label == 0 && h[i] == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0;
}

static int
bad(const char **cause, const char *why)
{
	*cause = why;
	errno = EINVAL;
	return -1;
}

int
egress_parse(const char *spec, struct egress_entry *out, const char **cause)
{
	const char *eq, *h, *hend, *p;
	struct in6_addr a6;
	unsigned long port = EGRESS_DEFAULT_PORT;
	size_t n, i;

	memset(out, 0, sizeof(*out));
	if ((eq = strchr(spec, '=')) == NULL)
		return bad(cause, "expected NAME=HOST[:PORT]");
	n = (size_t)(eq - spec);
	if (n == 0)
		return bad(cause, "empty NAME");
	if (n >= EGRESS_NAME_MAX)
		return bad(cause, "NAME longer than 63 bytes");
	for (i = 0; i < n; i++) {
		if (!name_char((unsigned char)spec[i]))
			return bad(cause, "NAME may hold only letters, digits, "
			    "'.', '_' and '-'");
	}
	if (spec[0] == '-' || spec[0] == '.')
		return bad(cause, "NAME may not start with '-' or '.'");
	memcpy(out->name, spec, n);

	h = eq + 1;
	if (*h == '[') {
		if ((hend = strchr(h, ']')) == NULL)
			return bad(cause, "unclosed '[' in HOST");
		n = (size_t)(hend - h - 1);
		if (n == 0 || n >= EGRESS_HOST_MAX)
			return bad(cause, "bad IPv6 address in HOST");
		memcpy(out->host, h + 1, n);
		out->host[n] = '\0';
		if (inet_pton(AF_INET6, out->host, &a6) != 1)
			return bad(cause, "bad IPv6 address in HOST");
		p = hend + 1;
		if (*p != '\0' && *p != ':')
			return bad(cause, "unexpected text after ']'");
	} else {
		hend = strchr(h, ':');
		n = hend != NULL ? (size_t)(hend - h) : strlen(h);
		if (n == 0)
			return bad(cause, "empty HOST");
		if (!host_name_ok(h, n))
			return bad(cause, "HOST is not a host name or an IPv4 "
			    "address (an IPv6 address goes in brackets)");
		memcpy(out->host, h, n);
		out->host[n] = '\0';
		p = h + n;
	}
	if (*p == ':') {
		p++;
		if (*p < '0' || *p > '9')
			return bad(cause, "PORT must be a number from 1 to 65535");
		port = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			port = port * 10 + (unsigned long)(*p - '0');
			if (port > 65535)
				return bad(cause, "PORT must be a number from 1 "
				    "to 65535");
		}
		if (*p != '\0' || port == 0)
			return bad(cause, "PORT must be a number from 1 to 65535");
	}
	out->port = (uint16_t)port;
	return 0;
}

char *
egress_hostkey_alias(const struct egress_entry *e, char *out, size_t outlen)
{
	if (e->port == EGRESS_DEFAULT_PORT)
		snprintf(out, outlen, "%s", e->host);
	else
		snprintf(out, outlen, "[%s]:%u", e->host, (unsigned)e->port);
	return out;
}

char *
egress_upstream(const struct egress_entry *e, char *out, size_t outlen)
{
	if (strchr(e->host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%u", e->host, (unsigned)e->port);
	else
		snprintf(out, outlen, "%s:%u", e->host, (unsigned)e->port);
	return out;
}
