/* cidr.c: see cidr.h. Parsing goes through inet_pton on a bounded copy. */
#include "infra/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static unsigned family_bits(int family)
{
    return family == AF_INET ? 32u : 128u;
}

/* Clear every bit past the prefix. */
static void cidr_mask(struct cidr *c)
{
    unsigned bits = family_bits(c->family);

    for (unsigned i = 0; i < 16; i++) {
        unsigned first = i * 8;
        if (first >= bits || first >= c->prefix)
            c->addr[i] = 0;
        else if (first + 8 > c->prefix)
            c->addr[i] &= (unsigned char)(0xffu << (8 - (c->prefix - first)));
    }
}

bool cidr_parse_addr(const char *text, struct cidr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
        return true;
    }
    return false;
}

/* Decimal prefix length, digits only, no sign, at most 3 digits. */
static bool parse_prefix(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t n = 0;

    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 3)
            return false;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    if (n == 0 || v > max)
        return false;
    *out = v;
    return true;
}

bool cidr_parse(const char *text, struct cidr *out, struct infra_error *err)
{
    char addr[CIDR_TEXT_MAX];
    const char *slash;
    size_t len;

    if (!text || !*text) {
        infra_error_set(err, "empty CIDR");
        return false;
    }
    slash = strchr(text, '/');
    len = slash ? (size_t)(slash - text) : strlen(text);
    if (len == 0 || len >= sizeof(addr)) {
        infra_error_set(err, "invalid CIDR \"%.80s\": bad address", text);
        return false;
    }
    memcpy(addr, text, len);
    addr[len] = '\0';
    if (!cidr_parse_addr(addr, out)) {
        infra_error_set(err, "invalid CIDR \"%.80s\": \"%s\" is not an IPv4 or IPv6 address", text,
                        addr);
        return false;
    }
    if (slash && !parse_prefix(slash + 1, family_bits(out->family), &out->prefix)) {
        infra_error_set(err, "invalid CIDR \"%.80s\": prefix length must be 0..%u", text,
                        family_bits(out->family));
        return false;
    }
    cidr_mask(out);
    return true;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;

    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char m = (unsigned char)(0xffu << (8 - rest));
    return (a[full] & m) == (b[full] & m);
}

bool cidr_contains_raw(const struct cidr *net, int family, const void *addr)
{
    const unsigned char *a = addr;

    if (family == AF_INET6 && net->family == AF_INET &&
        memcmp(a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
        a += 12;
        family = AF_INET;
    }
    if (family != net->family)
        return false;
    return prefix_match(net->addr, a, net->prefix);
}

bool cidr_contains_sockaddr(const struct cidr *net, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return cidr_contains_raw(net, AF_INET,
                                 &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return cidr_contains_raw(net, AF_INET6,
                                 &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return false;
}

bool cidr_covers(const struct cidr *outer, const struct cidr *inner)
{
    return outer->family == inner->family && outer->prefix <= inner->prefix &&
           prefix_match(outer->addr, inner->addr, outer->prefix);
}

bool cidr_equal(const struct cidr *a, const struct cidr *b)
{
    return a->family == b->family && a->prefix == b->prefix &&
           memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

void cidr_format(const struct cidr *c, char *buf, size_t size)
{
    char addr[INET6_ADDRSTRLEN];

    if (size == 0)
        return;
    if (!inet_ntop(c->family, c->addr, addr, sizeof(addr)))
        snprintf(addr, sizeof(addr), "?");
    snprintf(buf, size, "%s/%u", addr, c->prefix);
}

bool cidr_is_loopback_host(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}
