/*
 * cidr.h: IPv4 and IPv6 CIDR blocks (parse, format, containment) for the preflight.
 *
 * Used by the network probes (is a resolved address inside the expected CIDR?) and by
 * the AWS checks (route destinations, security group sources, longest-prefix match).
 * A parsed block is normalised: host bits are cleared, so "10.1.2.3/16" equals
 * "10.1.0.0/16". An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is treated as the IPv4
 * address it carries when tested against an IPv4 block.
 */
#ifndef CIDR_H
#define CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "infra/infra_error.h"

#define CIDR_TEXT_MAX 64 /* "ffff:...:ffff/128" fits */

struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order; IPv4 uses the first 4 bytes */
    unsigned prefix;        /* 0..32 or 0..128 */
};

/* "10.0.0.0/16", "fd00::/8"; a bare address is a /32 or /128. */
bool cidr_parse(const char *text, struct cidr *out, struct infra_error *err) INFRA_MUST_CHECK;
/* A bare IPv4 or IPv6 literal (no prefix) into a host block; false when not a literal. */
bool cidr_parse_addr(const char *text, struct cidr *out) INFRA_MUST_CHECK;
/* Is the raw address (struct in_addr / in6_addr bytes of `family`) inside `net`? */
bool cidr_contains_raw(const struct cidr *net, int family, const void *addr);
/* Is the socket address (AF_INET / AF_INET6) inside `net`? */
bool cidr_contains_sockaddr(const struct cidr *net, const struct sockaddr *sa);
/* Is every address of `inner` inside `outer`? (same family, outer prefix <= inner's) */
bool cidr_covers(const struct cidr *outer, const struct cidr *inner);
bool cidr_equal(const struct cidr *a, const struct cidr *b);
/* "10.0.0.0/16" into buf (at least CIDR_TEXT_MAX bytes is always enough). */
void cidr_format(const struct cidr *c, char *buf, size_t size);

/* A host name or literal address that only reaches this machine: "localhost",
 * 127.0.0.0/8 or ::1 (a name other than localhost is not resolved: false). */
bool cidr_is_loopback_host(const char *host);

#endif
