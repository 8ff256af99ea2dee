/*
 * netprobe.c: the network checks of the preflight (see netprobe.h).
 *
 * Why each probe is built the way it is:
 *   - dns uses getaddrinfo, the resolver libpq itself uses, so the answer is the one the
 *     run will get (/etc/hosts, the VPC resolver, a private hosted zone);
 *   - tcp is a non-blocking connect + poll per address, so a silent drop (missing route,
 *     security group, NACL) shows as a timeout and not as a hang;
 *   - tls speaks the PostgreSQL SSLRequest by hand (8 bytes) and lets OpenSSL do the
 *     handshake; verification is checked after the handshake so a bad certificate is
 *     reported with its reason rather than as a bare handshake failure;
 *   - login and privileges go through libpq with the caller's parameters.
 */
#include "infra/netprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "infra/cidr.h"

#define SSL_REQUEST_CODE 80877103u
#define CERT_EXPIRY_WARN_DAYS 30
#define MAX_LISTED_ADDRS 4

/* ---- small helpers -------------------------------------------------------------- */

static const char *ep_port(const struct netprobe_endpoint *ep)
{
    return ep->port && *ep->port ? ep->port : "5432";
}

static long ep_timeout(const struct netprobe_endpoint *ep)
{
    return ep->timeout_ms > 0 ? ep->timeout_ms : NETPROBE_DEFAULT_TIMEOUT_MS;
}

static const char *ep_sslmode(const struct netprobe_endpoint *ep)
{
    return ep->sslmode && *ep->sslmode ? ep->sslmode : "prefer";
}

static bool has_hostaddr(const struct netprobe_endpoint *ep)
{
    return ep->hostaddr && *ep->hostaddr;
}

/* The name or address the probes connect to. */
static const char *ep_connect_host(const struct netprobe_endpoint *ep)
{
    return has_hostaddr(ep) ? ep->hostaddr : ep->host;
}

bool netprobe_is_unix(const struct netprobe_endpoint *ep)
{
    if (has_hostaddr(ep))
        return false;
    return !ep->host || !*ep->host || ep->host[0] == '/' || ep->host[0] == '@';
}

/* "5s", "1500ms": the timeout as people write it. */
static void format_timeout(long ms, char *buf, size_t size)
{
    if (ms % 1000 == 0)
        snprintf(buf, size, "%lds", ms / 1000);
    else
        snprintf(buf, size, "%ldms", ms);
}

void netprobe_subject(const struct netprobe_endpoint *ep, char *buf, size_t size)
{
    const char *name = ep->name ? ep->name : "db";

    if (netprobe_is_unix(ep))
        snprintf(buf, size, "%s %s:%s", name, ep->host && *ep->host ? ep->host : "(socket)",
                 ep_port(ep));
    else if (strchr(ep_connect_host(ep), ':'))
        snprintf(buf, size, "%s [%s]:%s", name, ep_connect_host(ep), ep_port(ep));
    else
        snprintf(buf, size, "%s %s:%s", name, ep->host && *ep->host ? ep->host : ep->hostaddr,
                 ep_port(ep));
}

static struct check_result *add(const struct netprobe_endpoint *ep, struct check_report *r,
                                const char *group, enum check_status st)
{
    char subject[sizeof(((struct check_result *)0)->subject)];

    netprobe_subject(ep, subject, sizeof(subject));
    return check_report_add(r, group, subject, st);
}

static void sockaddr_text(const struct sockaddr *sa, char *buf, size_t size)
{
    const void *a = NULL;

    if (sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (!a || !inet_ntop(sa->sa_family, a, buf, (socklen_t)size))
        snprintf(buf, size, "?");
}

static bool in_block(const char *cidr, const struct sockaddr *sa)
{
    struct cidr c;
    struct infra_error e;

    return cidr_parse(cidr, &c, &e) && cidr_contains_sockaddr(&c, sa);
}

enum netprobe_addr_class netprobe_addr_classify(const struct sockaddr *sa)
{
    static const struct {
        const char *cidr;
        enum netprobe_addr_class cls;
    } table[] = {
        {"127.0.0.0/8", NETPROBE_ADDR_LOOPBACK},   {"::1/128", NETPROBE_ADDR_LOOPBACK},
        {"10.0.0.0/8", NETPROBE_ADDR_PRIVATE},     {"172.16.0.0/12", NETPROBE_ADDR_PRIVATE},
        {"192.168.0.0/16", NETPROBE_ADDR_PRIVATE}, {"100.64.0.0/10", NETPROBE_ADDR_PRIVATE},
        {"fc00::/7", NETPROBE_ADDR_PRIVATE},       {"169.254.0.0/16", NETPROBE_ADDR_LINK_LOCAL},
        {"fe80::/10", NETPROBE_ADDR_LINK_LOCAL},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (in_block(table[i].cidr, sa))
            return table[i].cls;
    return NETPROBE_ADDR_PUBLIC;
}

static int resolve(const struct netprobe_endpoint *ep, struct addrinfo **res)
{
    struct addrinfo hints;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = has_hostaddr(ep) ? AI_NUMERICHOST : 0;
    return getaddrinfo(ep_connect_host(ep), ep_port(ep), &hints, res);
}

bool netprobe_is_local(const struct netprobe_endpoint *ep)
{
    struct addrinfo *res = NULL;
    bool local = true;

    if (netprobe_is_unix(ep))
        return true;
    if (resolve(ep, &res) != 0)
        return false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (netprobe_addr_classify(ai->ai_addr) != NETPROBE_ADDR_LOOPBACK)
            local = false;
    freeaddrinfo(res);
    return local;
}

/* ---- dns ------------------------------------------------------------------------ */

/* Append "a, b, c" (bounded). */
static void list_append(char *buf, size_t size, size_t *count, const char *item)
{
    size_t len = strlen(buf);

    if (*count == MAX_LISTED_ADDRS && len + 6 < size)
        snprintf(buf + len, size - len, ", ...");
    else if (*count < MAX_LISTED_ADDRS)
        snprintf(buf + len, size - len, "%s%s", *count ? ", " : "", item);
    (*count)++;
}

struct dns_tally {
    char inside[160], public_[160], outside[160], other[160];
    size_t n_inside, n_public, n_outside, n_other;
};

/* Is sa an address expect_cidr (want) does not judge: of the other family, or, with no
 * expect_cidr, an IPv6 one? Every IPv6 address of a VPC is a global one, the same whoever
 * asks, so it says nothing about the peering's DNS option; the path analysis follows it. */
static bool other_family(const struct cidr *want, const struct sockaddr *sa)
{
    if (want)
        return (want->family == AF_INET6) != (sa->sa_family == AF_INET6);
    return sa->sa_family == AF_INET6 && netprobe_addr_classify(sa) == NETPROBE_ADDR_PUBLIC;
}

static void tally_addr(struct dns_tally *t, const struct cidr *want, const struct sockaddr *sa)
{
    char text[INET6_ADDRSTRLEN];

    sockaddr_text(sa, text, sizeof(text));
    if (other_family(want, sa))
        list_append(t->other, sizeof(t->other), &t->n_other, text);
    else if (want ? cidr_contains_sockaddr(want, sa)
                  : netprobe_addr_classify(sa) != NETPROBE_ADDR_PUBLIC)
        list_append(t->inside, sizeof(t->inside), &t->n_inside, text);
    else if (netprobe_addr_classify(sa) == NETPROBE_ADDR_PUBLIC)
        list_append(t->public_, sizeof(t->public_), &t->n_public, text);
    else
        list_append(t->outside, sizeof(t->outside), &t->n_outside, text);
}

static bool dns_verdict(const struct netprobe_endpoint *ep, struct check_report *r,
                        struct dns_tally *t, const char *how)
{
    const char *cidr = ep->expect_cidr;
    struct check_result *c;
    char also[220] = "";

    if (t->n_other && !t->n_inside && !t->n_public && !t->n_outside && cidr) {
        /* nothing of the family expect_cidr judges: the job connects outside it */
        memcpy(t->outside, t->other, sizeof(t->outside));
        t->n_outside = t->n_other;
        t->n_other = 0;
    }
    if (t->n_other && !t->n_inside && !t->n_public && !t->n_outside) {
        c = add(ep, r, "dns", CHECK_PASS);
        check_result_detail(c,
                            "%s to %s (IPv6: a VPC's addresses are global, whoever asks; "
                            "see path.*)",
                            how, t->other);
        return true;
    }
    if (t->n_other)
        snprintf(also, sizeof(also), "; also %s (not judged by %s: see path.*)", t->other,
                 cidr ? "expect_cidr, of the other family" : "this check, IPv6");

    if (t->n_outside) {
        c = add(ep, r, "dns", CHECK_FAIL);
        check_result_detail(c, "%s to %s, outside expect_cidr %s", how, t->outside, cidr);
        check_result_fix(c,
                         "point the DSN host at the database in %s (or correct "
                         "network.endpoints expect_cidr)",
                         cidr);
        return false;
    }
    if (t->n_public && cidr) {
        /* the job would leave through an internet or NAT gateway, never the peering */
        c = add(ep, r, "dns", CHECK_FAIL);
        check_result_detail(c,
                            "%s to the public address %s, outside expect_cidr %s: traffic would "
                            "leave through an internet or NAT gateway, not the peering",
                            how, t->public_, cidr);
        check_result_fix(c, "enable DNS resolution from the remote VPC on the peering (so the "
                            "name resolves to its private address), or point the DSN host at the "
                            "private address");
        return false;
    }
    if (t->n_public) {
        c = add(ep, r, "dns", CHECK_WARN);
        check_result_detail(c,
                            "resolved to a public address: remote VPC DNS resolution is "
                            "probably off on the peering (%s %s%s%s)",
                            how, t->public_, cidr ? ", expected " : "", cidr ? cidr : "");
        check_result_fix(c, "enable DNS resolution from the remote VPC on the peering "
                            "connection (requester/accepter options), or use the private address");
        return true;
    }
    c = add(ep, r, "dns", CHECK_PASS);
    check_result_detail(c, "%s to %s%s%s%s", how, t->inside, cidr ? ", inside " : " (not public)",
                        cidr ? cidr : "", also);
    return true;
}

bool netprobe_dns(const struct netprobe_endpoint *ep, struct check_report *r)
{
    struct cidr want, lit;
    struct infra_error err;
    struct dns_tally t;
    struct addrinfo *res = NULL;
    struct check_result *c;
    int rc;

    memset(&t, 0, sizeof(t));
    if (netprobe_is_unix(ep)) {
        c = add(ep, r, "dns", CHECK_SKIP);
        check_result_detail(c, "unix socket: no DNS lookup");
        return true;
    }
    if (ep->expect_cidr && !cidr_parse(ep->expect_cidr, &want, &err)) {
        c = add(ep, r, "dns", CHECK_FAIL);
        check_result_detail(c, "expect_cidr: %s", err.msg);
        check_result_fix(
            c, "write network.endpoints expect_cidr as ADDRESS/PREFIX, e.g. 10.10.0.0/16");
        return false;
    }
    rc = resolve(ep, &res);
    if (rc != 0) {
        c = add(ep, r, "dns", CHECK_FAIL);
        check_result_detail(c, "%s does not resolve: %s", ep_connect_host(ep), gai_strerror(rc));
        check_result_fix(c, "check the host name in the DSN; for a private hosted zone, check it "
                            "is associated with this VPC and that DNS resolution is on");
        return false;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        bool dup = false; /* getaddrinfo may list an address once per protocol */
        for (struct addrinfo *p = res; p != ai && !dup; p = p->ai_next)
            dup = p->ai_addrlen == ai->ai_addrlen &&
                  memcmp(p->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0;
        if (!dup)
            tally_addr(&t, ep->expect_cidr ? &want : NULL, ai->ai_addr);
    }
    freeaddrinfo(res);
    if (has_hostaddr(ep) || cidr_parse_addr(ep->host, &lit))
        return dns_verdict(ep, r, &t, "literal address, no lookup: connects");
    return dns_verdict(ep, r, &t, "resolved");
}

/* ---- tcp ------------------------------------------------------------------------ */

static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static enum netprobe_tcp_status classify_errno(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return NETPROBE_TCP_REFUSED;
    case EHOSTUNREACH:
    case ENETUNREACH:
        return NETPROBE_TCP_UNREACHABLE;
    case ETIMEDOUT:
        return NETPROBE_TCP_TIMEOUT;
    default:
        return NETPROBE_TCP_ERROR;
    }
}

static bool set_blocking(int fd, bool blocking)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0)
        return false;
    fl = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) == 0;
}

enum netprobe_tcp_status netprobe_tcp_connect(const struct sockaddr *sa, socklen_t len,
                                              long timeout_ms, int *fd_out, int *errno_out)
{
    struct timespec start;
    int fd, soerr = 0;
    socklen_t sl = sizeof(soerr);

    *fd_out = -1;
    *errno_out = 0;
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        *errno_out = errno;
        return NETPROBE_TCP_ERROR;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (connect(fd, sa, len) != 0) {
        if (errno != EINPROGRESS) {
            *errno_out = errno;
            close(fd);
            return classify_errno(*errno_out);
        }
        for (;;) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            long left = timeout_ms - elapsed_ms(&start);
            int n = left > 0 ? poll(&p, 1, (int)left) : 0;
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                *errno_out = n == 0 ? ETIMEDOUT : errno;
                close(fd);
                return n == 0 ? NETPROBE_TCP_TIMEOUT : NETPROBE_TCP_ERROR;
            }
            break;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            *errno_out = soerr ? soerr : errno;
            close(fd);
            return classify_errno(*errno_out);
        }
    }
    if (!set_blocking(fd, true)) {
        *errno_out = errno;
        close(fd);
        return NETPROBE_TCP_ERROR;
    }
    *fd_out = fd;
    return NETPROBE_TCP_OK;
}

/* "/dir/.s.PGSQL.5432" (or the abstract "@name/.s.PGSQL.5432"). */
static bool unix_path(const struct netprobe_endpoint *ep, struct sockaddr_un *su, socklen_t *len)
{
    const char *dir = ep->host && *ep->host ? ep->host : "/var/run/postgresql";
    int n;

    memset(su, 0, sizeof(*su));
    su->sun_family = AF_UNIX;
    n = snprintf(su->sun_path, sizeof(su->sun_path), "%s/.s.PGSQL.%s", dir, ep_port(ep));
    if (n < 0 || (size_t)n >= sizeof(su->sun_path))
        return false;
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
    if (su->sun_path[0] == '@') {
        su->sun_path[0] = '\0';
        (*len)--;
    }
    return true;
}

static bool tcp_unix(const struct netprobe_endpoint *ep, struct check_report *r)
{
    struct sockaddr_un su;
    socklen_t len;
    struct check_result *c;
    int fd = -1, e = 0;
    enum netprobe_tcp_status st;

    if (!unix_path(ep, &su, &len)) {
        c = add(ep, r, "tcp", CHECK_FAIL);
        check_result_detail(c, "unix socket path too long");
        check_result_fix(c, "use a shorter socket directory");
        return false;
    }
    st = netprobe_tcp_connect((struct sockaddr *)&su, len, ep_timeout(ep), &fd, &e);
    if (st == NETPROBE_TCP_OK) {
        close(fd);
        c = add(ep, r, "tcp", CHECK_PASS);
        check_result_detail(c, "unix socket %s accepts connections",
                            ep->host && *ep->host ? ep->host : "(default)");
        return true;
    }
    c = add(ep, r, "tcp", CHECK_FAIL);
    check_result_detail(c, "unix socket %s/.s.PGSQL.%s: %s",
                        ep->host && *ep->host ? ep->host : "(default)", ep_port(ep), strerror(e));
    check_result_fix(c, "start the server, or fix host (socket directory) and port in the DSN");
    return false;
}

static void tcp_fail(const struct netprobe_endpoint *ep, struct check_report *r,
                     enum netprobe_tcp_status st, int e, const char *addr)
{
    struct check_result *c = add(ep, r, "tcp", CHECK_FAIL);
    char t[32];

    format_timeout(ep_timeout(ep), t, sizeof(t));
    switch (st) {
    case NETPROBE_TCP_TIMEOUT:
        check_result_detail(c, "no answer in %s: routing, security group or NACL (%s port %s)", t,
                            addr, ep_port(ep));
        check_result_fix(c,
                         "check the job subnet's route table has a route to %s via the peering, "
                         "the database security group allows the job on port %s, and the "
                         "NACLs allow the traffic both ways",
                         addr, ep_port(ep));
        break;
    case NETPROBE_TCP_REFUSED:
        check_result_detail(c, "refused: reachable but nothing listening on port %s (%s)",
                            ep_port(ep), addr);
        check_result_fix(c,
                         "check the database is running and listens on port %s "
                         "(listen_addresses); the host may point at the wrong instance",
                         ep_port(ep));
        break;
    case NETPROBE_TCP_UNREACHABLE:
        check_result_detail(c, "%s: no route to %s", strerror(e), addr);
        check_result_fix(c, "add a route to the database CIDR via the peering in the job "
                            "subnet's route table");
        break;
    default:
        check_result_detail(c, "connect to %s port %s failed: %s", addr, ep_port(ep), strerror(e));
        check_result_fix(c, "check the host and port in the DSN");
        break;
    }
}

/* An address tried before the one that answered and timed out: libpq tries the addresses
 * in the same order, so each connection of the job waits as long first. */
struct tcp_waited {
    char addr[INET6_ADDRSTRLEN];
    long ms;
    size_t n; /* how many timed out before */
};

/* Connect to the first address that answers (*waited: those that timed out before it);
 * on failure report the first failure. */
static bool connect_any(const struct netprobe_endpoint *ep, int *fd_out, char *addr, size_t asize,
                        enum netprobe_tcp_status *st_out, int *e_out, long *ms_out,
                        struct tcp_waited *waited)
{
    struct addrinfo *res = NULL;
    bool ok = false, first = true;

    *st_out = NETPROBE_TCP_ERROR;
    *e_out = 0;
    snprintf(addr, asize, "%s", ep_connect_host(ep));
    if (resolve(ep, &res) != 0) {
        *e_out = EHOSTUNREACH;
        return false;
    }
    for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
        struct timespec start;
        int e;
        enum netprobe_tcp_status st;
        char text[INET6_ADDRSTRLEN];

        clock_gettime(CLOCK_MONOTONIC, &start);
        st = netprobe_tcp_connect(ai->ai_addr, ai->ai_addrlen, ep_timeout(ep), fd_out, &e);
        sockaddr_text(ai->ai_addr, text, sizeof(text));
        if (st == NETPROBE_TCP_OK || first) {
            snprintf(addr, asize, "%s", text);
            *st_out = st;
            *e_out = e;
            *ms_out = elapsed_ms(&start);
            first = false;
        }
        ok = st == NETPROBE_TCP_OK;
        if (st == NETPROBE_TCP_TIMEOUT && waited->n++ == 0) {
            snprintf(waited->addr, sizeof(waited->addr), "%s", text);
            waited->ms = elapsed_ms(&start);
        }
    }
    freeaddrinfo(res);
    return ok;
}

bool netprobe_tcp(const struct netprobe_endpoint *ep, struct check_report *r)
{
    char addr[INET6_ADDRSTRLEN + 8], t[32];
    enum netprobe_tcp_status st;
    int fd = -1, e = 0;
    long ms = 0;
    struct addrinfo *res = NULL;
    struct tcp_waited waited = {"", 0, 0};

    if (netprobe_is_unix(ep))
        return tcp_unix(ep, r);
    if (resolve(ep, &res) != 0) {
        struct check_result *c = add(ep, r, "tcp", CHECK_FAIL);
        check_result_detail(c, "not attempted: %s does not resolve", ep_connect_host(ep));
        check_result_fix(c, "fix name resolution first (see the dns check)");
        return false;
    }
    freeaddrinfo(res);
    if (connect_any(ep, &fd, addr, sizeof(addr), &st, &e, &ms, &waited)) {
        struct check_result *c = add(ep, r, "tcp", waited.n ? CHECK_WARN : CHECK_PASS);
        close(fd);
        if (!waited.n) {
            check_result_detail(c, "connected to %s port %s in %ld ms", addr, ep_port(ep), ms);
            return true;
        }
        format_timeout(ep_timeout(ep), t, sizeof(t));
        check_result_detail(c,
                            "connected to %s port %s in %ld ms, but only after %s%s did not "
                            "answer in %s: the job tries the addresses in this order too, so "
                            "each of its connections waits that long first",
                            addr, ep_port(ep), ms, waited.addr, waited.n > 1 ? " (and others)" : "",
                            t);
        check_result_fix(c,
                         "fix the path to %s port %s (see path.* for it: an IPv6 address needs "
                         "IPv6 routes and rules), or make %s resolve to addresses that answer",
                         waited.addr, ep_port(ep), ep_connect_host(ep));
        return true;
    }
    tcp_fail(ep, r, st, e, addr);
    return false;
}

/* ---- tls ------------------------------------------------------------------------ */

static bool sslmode_is(const struct netprobe_endpoint *ep, const char *mode)
{
    return strcmp(ep_sslmode(ep), mode) == 0;
}

static bool sslmode_requires_tls(const struct netprobe_endpoint *ep)
{
    return sslmode_is(ep, "require") || sslmode_is(ep, "verify-ca") ||
           sslmode_is(ep, "verify-full");
}

/* Write all, read exactly n bytes (SO_RCVTIMEO/SO_SNDTIMEO bound each call). */
static bool write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void set_io_timeout(int fd, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Send SSLRequest; *reply gets 'S', 'N' or another byte; false on I/O error. */
static bool ssl_request(int fd, char *reply)
{
    unsigned char msg[8];
    uint32_t len = htonl(8), code = htonl(SSL_REQUEST_CODE);
    ssize_t n;

    memcpy(msg, &len, 4);
    memcpy(msg + 4, &code, 4);
    if (!write_all(fd, msg, sizeof(msg)))
        return false;
    do
        n = recv(fd, reply, 1, 0);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

static void openssl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, buf, size);
    else
        snprintf(buf, size, "connection closed during the handshake");
    ERR_clear_error();
}

struct tls_outcome {
    bool handshake_ok;
    long verify;      /* X509_V_OK or an X509_V_ERR_* */
    char reason[256]; /* handshake failure */
    char version[32]; /* "TLSv1.3" */
    char cipher[64];
    char peer_cn[96];
    int expires_days; /* days left on the server certificate */
};

static bool tls_ctx_setup(SSL_CTX *ctx, const struct netprobe_endpoint *ep, char *why, size_t size)
{
    const char *root = ep->sslrootcert;

    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* checked after the handshake */
    if (root && *root && strcmp(root, "system") != 0) {
        if (SSL_CTX_load_verify_locations(ctx, root, NULL) != 1) {
            char reason[200];
            openssl_reason(reason, sizeof(reason));
            snprintf(why, size, "cannot load sslrootcert %s: %s", root, reason);
            return false;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(why, size, "cannot load the system trust store");
        return false;
    }
    return true;
}

static void tls_peer_info(SSL *ssl, struct tls_outcome *o)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    int days = 0, secs = 0;

    snprintf(o->version, sizeof(o->version), "%s", SSL_get_version(ssl));
    snprintf(o->cipher, sizeof(o->cipher), "%s", SSL_get_cipher_name(ssl));
    o->expires_days = 9999;
    if (!cert) {
        o->verify = X509_V_ERR_UNSPECIFIED;
        return;
    }
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, o->peer_cn,
                                  sizeof(o->peer_cn)) < 0)
        snprintf(o->peer_cn, sizeof(o->peer_cn), "?");
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)))
        o->expires_days = days;
    X509_free(cert);
}

/*
 * OpenSSL writes with write(2): a server that closes mid-handshake would raise SIGPIPE
 * and kill the process. A library must not change signal dispositions, so SIGPIPE is
 * blocked in this thread around the handshake and a SIGPIPE raised meanwhile is consumed
 * (the same trick libpq uses).
 */
struct sigpipe_guard {
    sigset_t old;
    bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    struct timespec zero = {0, 0};

    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* The handshake on a connected socket that got 'S'. */
static bool tls_handshake(int fd, const struct netprobe_endpoint *ep, struct tls_outcome *o,
                          char *why, size_t wsize)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    struct cidr lit;
    const char *name = ep->host && *ep->host ? ep->host : ep->hostaddr;
    struct sigpipe_guard guard;
    bool ok = false;

    memset(o, 0, sizeof(*o));
    if (!ctx) {
        snprintf(why, wsize, "cannot create a TLS context");
        return false;
    }
    if (!tls_ctx_setup(ctx, ep, why, wsize) || !(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, fd)) {
        if (!why[0])
            snprintf(why, wsize, "cannot set up TLS");
        goto out;
    }
    if (!sslmode_is(ep, "verify-ca")) {
        if (cidr_parse_addr(name, &lit)) {
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1)
                goto out;
        } else if (!SSL_set_tlsext_host_name(ssl, name) || SSL_set1_host(ssl, name) != 1) {
            goto out;
        }
    }
    ok = true;
    sigpipe_block(&guard);
    if (SSL_connect(ssl) == 1) {
        o->handshake_ok = true;
        o->verify = SSL_get_verify_result(ssl);
        tls_peer_info(ssl, o);
        (void)SSL_shutdown(ssl);
    } else {
        openssl_reason(o->reason, sizeof(o->reason));
    }
    sigpipe_restore(&guard);
out:
    if (!ok && !why[0])
        snprintf(why, wsize, "cannot set up TLS for host %s", name ? name : "?");
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static void tls_report(const struct netprobe_endpoint *ep, struct check_report *r,
                       const struct tls_outcome *o)
{
    bool strict = sslmode_is(ep, "verify-full") || sslmode_is(ep, "verify-ca");
    const char *roots = ep->sslrootcert && *ep->sslrootcert ? ep->sslrootcert : "the system store";
    struct check_result *c;

    if (!o->handshake_ok) {
        c = add(ep, r, "tls", CHECK_FAIL);
        check_result_detail(c, "TLS handshake failed: %s", o->reason);
        check_result_fix(
            c, "check the server's TLS configuration (ssl_min_protocol_version, certificate)");
        return;
    }
    if (o->verify != X509_V_OK) {
        bool host = o->verify == X509_V_ERR_HOSTNAME_MISMATCH ||
                    o->verify == X509_V_ERR_IP_ADDRESS_MISMATCH;
        c = add(ep, r, "tls", strict ? CHECK_FAIL : CHECK_WARN);
        if (host)
            check_result_detail(c, "certificate (CN %s) does not match host name %s%s", o->peer_cn,
                                ep->host, strict ? "" : " (sslmode does not check it)");
        else
            check_result_detail(c, "certificate verification failed against %s: %s%s", roots,
                                X509_verify_cert_error_string(o->verify),
                                strict ? "" : " (sslmode does not check it)");
        if (host)
            check_result_fix(c, "use the host name on the certificate (the endpoint name, not an "
                                "alias or address) in the DSN");
        else
            check_result_fix(c, "set sslrootcert to the CA bundle that signed the server "
                                "certificate (RDS: the global bundle) and sslmode: verify-full");
        return;
    }
    if (o->expires_days < CERT_EXPIRY_WARN_DAYS) {
        c = add(ep, r, "tls", CHECK_WARN);
        check_result_detail(c, "%s, certificate %s verified but expires in %d days", o->version,
                            o->peer_cn, o->expires_days);
        check_result_fix(c, "rotate the server certificate");
        return;
    }
    if (!strict) {
        c = add(ep, r, "tls", CHECK_WARN);
        check_result_detail(c,
                            "%s, certificate %s verifies against %s, but sslmode=%s does "
                            "not check it",
                            o->version, o->peer_cn, roots, ep_sslmode(ep));
        check_result_fix(c, "set sslmode: verify-full (and sslrootcert) for this database");
        return;
    }
    c = add(ep, r, "tls", CHECK_PASS);
    check_result_detail(c, "%s %s, certificate %s verified against %s%s", o->version, o->cipher,
                        o->peer_cn, roots,
                        sslmode_is(ep, "verify-ca") ? " (host name not checked: verify-ca)"
                                                    : ", host name matches");
}

static bool tls_skip_reason(const struct netprobe_endpoint *ep, struct check_report *r, bool *pass)
{
    struct check_result *c;

    *pass = true;
    if (netprobe_is_unix(ep)) {
        c = add(ep, r, "tls", CHECK_SKIP);
        check_result_detail(c, "unix socket: TLS does not apply");
        return true;
    }
    if (netprobe_is_local(ep) && !sslmode_requires_tls(ep)) {
        c = add(ep, r, "tls", CHECK_SKIP);
        check_result_detail(c, "loopback address with sslmode=%s: TLS not required",
                            ep_sslmode(ep));
        return true;
    }
    if (sslmode_is(ep, "disable")) {
        c = add(ep, r, "tls", CHECK_WARN);
        check_result_detail(c, "sslmode=disable: the connection is not encrypted");
        check_result_fix(c, "set sslmode: verify-full and sslrootcert for this database");
        return true;
    }
    return false;
}

bool netprobe_tls(const struct netprobe_endpoint *ep, struct check_report *r)
{
    char addr[INET6_ADDRSTRLEN + 8], why[384] = "";
    enum netprobe_tcp_status st;
    struct tls_outcome o;
    struct check_result *c;
    int fd = -1, e = 0;
    long ms = 0;
    char reply = 0;
    bool pass;
    struct tcp_waited waited = {"", 0, 0}; /* the tcp check tells */

    if (tls_skip_reason(ep, r, &pass))
        return pass;
    if (!connect_any(ep, &fd, addr, sizeof(addr), &st, &e, &ms, &waited)) {
        c = add(ep, r, "tls", CHECK_FAIL);
        check_result_detail(c, "not checked: cannot connect to %s (%s)", addr,
                            st == NETPROBE_TCP_TIMEOUT ? "timeout" : strerror(e));
        check_result_fix(c, "fix the tcp check first");
        return false;
    }
    set_io_timeout(fd, ep_timeout(ep));
    if (!ssl_request(fd, &reply) || (reply != 'S' && reply != 'N')) {
        close(fd);
        c = add(ep, r, "tls", CHECK_FAIL);
        check_result_detail(c,
                            "no valid answer to the PostgreSQL SSLRequest from %s: not a "
                            "PostgreSQL server?",
                            addr);
        check_result_fix(c, "check the host and port in the DSN point at PostgreSQL");
        return false;
    }
    if (reply == 'N') {
        close(fd);
        c = add(ep, r, "tls", CHECK_FAIL);
        check_result_detail(c, "server does not support TLS (answered N to SSLRequest)");
        check_result_fix(c, "enable ssl on the server (ssl = on with a certificate); the data "
                            "would cross the network unencrypted");
        return false;
    }
    pass = tls_handshake(fd, ep, &o, why, sizeof(why));
    close(fd);
    if (!pass) {
        c = add(ep, r, "tls", CHECK_FAIL);
        check_result_detail(c, "%s", why);
        check_result_fix(c, "set sslrootcert to a readable PEM CA bundle");
        return false;
    }
    tls_report(ep, r, &o);
    return r->n == 0 || r->items[r->n - 1].status != CHECK_FAIL;
}

/* ---- login ---------------------------------------------------------------------- */

struct pq_args {
    const char *kw[64];
    const char *val[64];
    char timeout[16];
    const char *password;
};

/* Copy the caller's params; connect_timeout comes from the endpoint's timeout. */
static bool pq_args_build(const struct netprobe_endpoint *ep, struct pq_args *a)
{
    size_t n = 0;
    bool has_timeout = false;
    long secs = (ep_timeout(ep) + 999) / 1000;

    memset(a, 0, sizeof(*a));
    if (!ep->pq_keywords || !ep->pq_values)
        return false;
    snprintf(a->timeout, sizeof(a->timeout), "%ld", secs < 2 ? 2 : secs);
    for (size_t i = 0; ep->pq_keywords[i]; i++) {
        bool is_timeout = strcmp(ep->pq_keywords[i], "connect_timeout") == 0;
        if (n + 2 >= sizeof(a->kw) / sizeof(a->kw[0]))
            return false;
        has_timeout = has_timeout || is_timeout;
        if (strcmp(ep->pq_keywords[i], "password") == 0)
            a->password = ep->pq_values[i];
        a->kw[n] = ep->pq_keywords[i];
        a->val[n++] = is_timeout ? a->timeout : ep->pq_values[i];
    }
    if (!has_timeout) {
        a->kw[n] = "connect_timeout";
        a->val[n++] = a->timeout;
    }
    a->kw[n] = NULL;
    a->val[n] = NULL;
    return true;
}

/* libpq's message on one line, bounded, with the password (should it ever appear) masked. */
static void pq_message(PGconn *conn, const char *password, char *buf, size_t size)
{
    const char *m = conn ? PQerrorMessage(conn) : "out of memory";
    size_t o = 0;

    for (const char *p = m; *p && o + 1 < size; p++) {
        if (password && *password && strncmp(p, password, strlen(password)) == 0) {
            int w = snprintf(buf + o, size - o, "***");
            o += w > 0 ? (size_t)w : 0;
            if (o >= size) {
                o = size - 1;
                break;
            }
            p += strlen(password) - 1;
            continue;
        }
        char ch = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
        if (ch == ' ' && (o == 0 || buf[o - 1] == ' '))
            continue;
        buf[o++] = ch;
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
}

static PGconn *pq_connect(const struct netprobe_endpoint *ep, char *why, size_t size)
{
    struct pq_args a;
    PGconn *conn;

    if (!pq_args_build(ep, &a)) {
        snprintf(why, size, "no usable connection parameters");
        return NULL;
    }
    conn = PQconnectdbParams(a.kw, a.val, 0);
    if (conn && PQstatus(conn) == CONNECTION_OK)
        return conn;
    pq_message(conn, a.password, why, size);
    PQfinish(conn);
    return NULL;
}

static const char *login_fix(const char *why)
{
    if (strstr(why, "password authentication failed") || strstr(why, "authentication failed"))
        return "check the password secret for this database and that the role may log in";
    if (strstr(why, "no pg_hba.conf entry"))
        return "allow the job's address and user in pg_hba.conf (on RDS: the parameter group)";
    if (strstr(why, "does not exist"))
        return "check dbname and user in the DSN";
    if (strstr(why, "timeout expired"))
        return "the server did not answer in time: see the tcp check";
    if (strstr(why, "SSL") || strstr(why, "certificate"))
        return "check sslmode and sslrootcert for this database (see the tls check)";
    return "check the DSN (host, port, dbname, user) and the server log";
}

bool netprobe_login(const struct netprobe_endpoint *ep, struct check_report *r)
{
    char why[400];
    struct check_result *c;
    PGconn *conn = pq_connect(ep, why, sizeof(why));

    if (!conn) {
        bool auth = strstr(why, "authentication failed") != NULL;
        c = add(ep, r, "login", CHECK_FAIL);
        check_result_detail(c, "%s%s", auth ? "authentication failed: " : "", why);
        check_result_fix(c, "%s", login_fix(why));
        return false;
    }
    c = add(ep, r, "login", CHECK_PASS);
    check_result_detail(c, "logged in as %s to database %s (server %d.%d%s)", PQuser(conn),
                        PQdb(conn), PQserverVersion(conn) / 10000, PQserverVersion(conn) % 100,
                        PQsslInUse(conn) ? ", TLS" : "");
    PQfinish(conn);
    return true;
}

/* ---- privileges ----------------------------------------------------------------- */

/* One parameterised query returning a result with TUPLES_OK, or NULL with why set. */
static PGresult *q(PGconn *conn, const char *sql, int n, const char *const *params, char *why,
                   size_t size)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    snprintf(why, size, "%s", PQresultErrorMessage(res));
    why[strcspn(why, "\n")] = '\0';
    PQclear(res);
    return NULL;
}

static bool is_true(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static PGconn *priv_connect(const struct netprobe_endpoint *ep, struct check_report *r)
{
    char why[400];
    PGconn *conn = pq_connect(ep, why, sizeof(why));
    struct check_result *c;
    PGresult *res;

    if (!conn) {
        c = add(ep, r, "privileges", CHECK_FAIL);
        check_result_detail(c, "not checked: cannot log in: %s", why);
        check_result_fix(c, "%s", login_fix(why));
        return NULL;
    }
    res = PQexec(conn, "SELECT pg_catalog.set_config('search_path', 'pg_catalog', false)");
    PQclear(res);
    return conn;
}

struct role_info {
    char name[128];
    bool super;
    bool rds_super;
};

static bool role_info(PGconn *conn, struct role_info *ri, char *why, size_t size)
{
    PGresult *res =
        q(conn,
          "SELECT r.rolname, r.rolsuper, EXISTS (SELECT 1 FROM pg_catalog.pg_roles s "
          "WHERE s.rolname = 'rds_superuser' AND pg_catalog.pg_has_role(r.oid, s.oid, 'MEMBER')) "
          "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
          0, NULL, why, size);

    if (!res)
        return false;
    if (PQntuples(res) != 1) {
        snprintf(why, size, "current role not found in pg_roles");
        PQclear(res);
        return false;
    }
    snprintf(ri->name, sizeof(ri->name), "%s", PQgetvalue(res, 0, 0));
    ri->super = is_true(res, 0, 1);
    ri->rds_super = is_true(res, 0, 2);
    PQclear(res);
    return true;
}

static void warn_superuser(const struct netprobe_endpoint *ep, struct check_report *r,
                           const struct role_info *ri, const char *should)
{
    struct check_result *c;

    if (!ri->super && !ri->rds_super)
        return;
    c = add(ep, r, "privileges", CHECK_WARN);
    check_result_detail(c, "role %s is %s", ri->name,
                        ri->super ? "a superuser" : "a member of rds_superuser");
    check_result_fix(c, "%s", should);
}

static void fail_query(const struct netprobe_endpoint *ep, struct check_report *r, const char *why)
{
    struct check_result *c = add(ep, r, "privileges", CHECK_FAIL);

    check_result_detail(c, "catalog query failed: %s", why);
    check_result_fix(c, "check the role can read the system catalogs");
}

/* Up to a few names, "a, b, c (+N more)". */
static void names_add(char *buf, size_t size, size_t *count, const char *s, const char *t)
{
    char item[200];

    snprintf(item, sizeof(item), "%s.%s", s, t);
    list_append(buf, size, count, item);
}

static const char SQL_TABLE_PRIVS[] =
    "SELECT pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
    "AND pg_catalog.has_table_privilege(c.oid, 'SELECT'), "
    "pg_catalog.has_table_privilege(c.oid, 'INSERT') OR pg_catalog.has_table_privilege(c.oid, "
    "'UPDATE') "
    "OR pg_catalog.has_table_privilege(c.oid, 'DELETE') OR pg_catalog.has_table_privilege(c.oid, "
    "'TRUNCATE') "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2";

bool netprobe_source_privileges(const struct netprobe_endpoint *ep,
                                const struct netprobe_table *tables, size_t n_tables,
                                struct check_report *r)
{
    char why[400], missing[400] = "", unreadable[400] = "", writable[400] = "";
    size_t n_missing = 0, n_unreadable = 0, n_writable = 0;
    struct role_info ri;
    struct check_result *c;
    PGconn *conn = priv_connect(ep, r);
    bool ok = true;

    if (!conn)
        return false;
    if (!role_info(conn, &ri, why, sizeof(why))) {
        fail_query(ep, r, why);
        PQfinish(conn);
        return false;
    }
    for (size_t i = 0; i < n_tables; i++) {
        const char *schema = tables[i].schema ? tables[i].schema : "public";
        const char *params[2] = {schema, tables[i].name};
        PGresult *res = q(conn, SQL_TABLE_PRIVS, 2, params, why, sizeof(why));
        if (!res) {
            fail_query(ep, r, why);
            PQfinish(conn);
            return false;
        }
        if (PQntuples(res) == 0)
            names_add(missing, sizeof(missing), &n_missing, schema, tables[i].name);
        else if (!is_true(res, 0, 0))
            names_add(unreadable, sizeof(unreadable), &n_unreadable, schema, tables[i].name);
        if (PQntuples(res) > 0 && is_true(res, 0, 1))
            names_add(writable, sizeof(writable), &n_writable, schema, tables[i].name);
        PQclear(res);
    }
    if (n_missing) {
        c = add(ep, r, "privileges", CHECK_FAIL);
        check_result_detail(c, "%zu configured table(s) not found in the source: %s", n_missing,
                            missing);
        check_result_fix(
            c, "check the table names in the config (schema.name), or the database in the DSN");
        ok = false;
    }
    if (n_unreadable) {
        c = add(ep, r, "privileges", CHECK_FAIL);
        check_result_detail(c, "role %s cannot SELECT %zu table(s): %s", ri.name, n_unreadable,
                            unreadable);
        check_result_fix(c,
                         "GRANT USAGE ON SCHEMA and GRANT SELECT ON those tables TO %s "
                         "(sql/roles/source_reader.sql)",
                         ri.name);
        ok = false;
    }
    if (ok) {
        c = add(ep, r, "privileges", CHECK_PASS);
        check_result_detail(c, "role %s can SELECT all %zu configured table(s)", ri.name, n_tables);
    }
    warn_superuser(ep, r, &ri,
                   "use a dedicated read-only role with SELECT on the configured tables only");
    if (n_writable && !ri.super) {
        c = add(ep, r, "privileges", CHECK_WARN);
        check_result_detail(c, "role %s can write (INSERT/UPDATE/DELETE/TRUNCATE) %zu table(s): %s",
                            ri.name, n_writable, writable);
        check_result_fix(c,
                         "REVOKE INSERT, UPDATE, DELETE, TRUNCATE on them FROM %s: the source "
                         "role should be read-only",
                         ri.name);
    }
    PQfinish(conn);
    return ok;
}

/* CREATE in one schema (or, when it does not exist, in the database). */
static bool target_schema_ok(const struct netprobe_endpoint *ep, struct check_report *r,
                             PGconn *conn, const struct role_info *ri, const char *schema,
                             bool *query_ok)
{
    char why[400];
    const char *params[1] = {schema};
    PGresult *res = q(conn,
                      "SELECT true, pg_catalog.has_schema_privilege(n.oid, 'CREATE'), "
                      "pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'), "
                      "pg_catalog.current_database() "
                      "FROM pg_catalog.pg_namespace n WHERE n.nspname = $1 "
                      "UNION ALL SELECT false, false, "
                      "pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'), "
                      "pg_catalog.current_database() "
                      "WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
                      1, params, why, sizeof(why));
    struct check_result *c;
    bool exists, ok;

    *query_ok = res != NULL;
    if (!res) {
        fail_query(ep, r, why);
        return false;
    }
    exists = is_true(res, 0, 0);
    ok = exists ? is_true(res, 0, 1) : is_true(res, 0, 2);
    if (!ok) {
        c = add(ep, r, "privileges", CHECK_FAIL);
        if (exists) {
            check_result_detail(c, "role %s cannot CREATE in schema %s", ri->name, schema);
            check_result_fix(c, "GRANT CREATE ON SCHEMA %s TO %s (or make %s its owner)", schema,
                             ri->name, ri->name);
        } else {
            check_result_detail(c,
                                "schema %s does not exist and role %s cannot CREATE in "
                                "database %s",
                                schema, ri->name, PQgetvalue(res, 0, 3));
            check_result_fix(c,
                             "CREATE SCHEMA %s AUTHORIZATION %s, or GRANT CREATE ON DATABASE "
                             "%s TO %s",
                             schema, ri->name, PQgetvalue(res, 0, 3), ri->name);
        }
    }
    PQclear(res);
    return ok;
}

/* A reader (grant_select_to) must have no way into the private schemas. */
static bool reader_ok(const struct netprobe_endpoint *ep, struct check_report *r, PGconn *conn,
                      const struct role_info *writer, const char *reader,
                      const struct netprobe_target_roles *roles)
{
    char why[400], leaks[300] = "";
    size_t n_leaks = 0;
    const char *params[2] = {reader, NULL};
    struct check_result *c;
    PGresult *res = q(conn,
                      "SELECT r.rolsuper, pg_catalog.pg_has_role(r.oid, w.oid, 'MEMBER') "
                      "FROM pg_catalog.pg_roles r, pg_catalog.pg_roles w "
                      "WHERE r.rolname = $1 AND w.rolname = current_user",
                      1, params, why, sizeof(why));

    if (!res) {
        fail_query(ep, r, why);
        return false;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        c = add(ep, r, "privileges", CHECK_FAIL);
        check_result_detail(c,
                            "role %s (target.grant_select_to) does not exist: the publish "
                            "GRANT would fail",
                            reader);
        check_result_fix(c,
                         "CREATE ROLE %s (sql/roles/data_team_reader.sql), or remove it from "
                         "target.grant_select_to",
                         reader);
        return false;
    }
    if (is_true(res, 0, 0) || is_true(res, 0, 1)) {
        bool super = is_true(res, 0, 0);
        PQclear(res);
        c = add(ep, r, "privileges", CHECK_FAIL);
        check_result_detail(c, "leak path: data team role %s %s", reader,
                            super ? "is a superuser" : "is a member of the writer role");
        if (super)
            check_result_fix(c, "ALTER ROLE %s NOSUPERUSER", reader);
        else
            check_result_fix(c, "REVOKE %s FROM %s", writer->name, reader);
        return false;
    }
    PQclear(res);
    for (size_t i = 0; i < roles->n_private_schemas; i++) {
        params[1] = roles->private_schemas[i];
        res = q(conn,
                "SELECT pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE') "
                "FROM pg_catalog.pg_roles r, pg_catalog.pg_namespace n "
                "WHERE r.rolname = $1 AND n.nspname = $2",
                2, params, why, sizeof(why));
        if (!res) {
            fail_query(ep, r, why);
            return false;
        }
        if (PQntuples(res) == 1 && is_true(res, 0, 0))
            list_append(leaks, sizeof(leaks), &n_leaks, roles->private_schemas[i]);
        PQclear(res);
    }
    if (n_leaks) {
        c = add(ep, r, "privileges", CHECK_FAIL);
        check_result_detail(c, "leak path: data team role %s has USAGE on private schema(s) %s",
                            reader, leaks);
        check_result_fix(c, "REVOKE ALL ON SCHEMA %s FROM %s (and FROM PUBLIC)", leaks, reader);
        return false;
    }
    c = add(ep, r, "privileges", CHECK_PASS);
    check_result_detail(c, "data team role %s has no access to the private schemas", reader);
    return true;
}

bool netprobe_target_privileges(const struct netprobe_endpoint *ep,
                                const struct netprobe_target_roles *roles, struct check_report *r)
{
    char why[400], schemas[300] = "";
    size_t n_schemas = 0;
    struct role_info ri;
    struct check_result *c;
    PGconn *conn = priv_connect(ep, r);
    bool ok = true, query_ok = true;

    if (!conn)
        return false;
    if (!role_info(conn, &ri, why, sizeof(why))) {
        fail_query(ep, r, why);
        PQfinish(conn);
        return false;
    }
    for (size_t i = 0; i < roles->n_create_schemas && query_ok; i++) {
        if (!target_schema_ok(ep, r, conn, &ri, roles->create_schemas[i], &query_ok))
            ok = false;
        list_append(schemas, sizeof(schemas), &n_schemas, roles->create_schemas[i]);
    }
    if (ok) {
        c = add(ep, r, "privileges", CHECK_PASS);
        check_result_detail(c, "role %s can create in %s", ri.name,
                            n_schemas ? schemas : "the database");
    }
    warn_superuser(ep, r, &ri,
                   "use a dedicated writer role that owns the anonetl schemas "
                   "(sql/roles/target_writer.sql)");
    for (size_t i = 0; i < roles->n_readers && query_ok; i++)
        if (!reader_ok(ep, r, conn, &ri, roles->readers[i], roles))
            ok = false;
    PQfinish(conn);
    return ok && query_ok;
}
