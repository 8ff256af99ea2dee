/*
 * netprobe.h: the network checks of the preflight (no AWS credentials needed).
 *
 * For one database endpoint (source or target), each probe adds results to a
 * check_report, in its group:
 *   "dns"        the host name resolves, every address inside the expected CIDR
 *                (a public address outside it is a FAIL: traffic would leave through an
 *                internet or NAT gateway; without expect_cidr, a public address is a WARN:
 *                remote VPC DNS resolution is probably off on the peering);
 *   "tcp"        a connection opens within the timeout (timeout: routing, security
 *                group or NACL; refused: reachable, nothing listening);
 *   "tls"        PostgreSQL SSLRequest, then an OpenSSL handshake verified against
 *                sslrootcert (or the system store) and the host name (verify-full);
 *   "login"      PQconnectdbParams with the caller's keyword/value arrays;
 *   "privileges" what the role can do (source: read the tables, not write; target:
 *                create in its schemas; data team roles: no way into private schemas).
 * Probes never print and never put a password or a conninfo in a message.
 */
#ifndef NETPROBE_H
#define NETPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "infra/check_report.h"
#include "infra/infra_error.h"

#define NETPROBE_DEFAULT_TIMEOUT_MS 5000L

struct netprobe_endpoint {
    const char *name; /* "source" / "target": the start of each subject */
    const char *host; /* libpq host: name, IP literal, socket directory; NULL/"" = default socket */
    const char *hostaddr;    /* libpq hostaddr (numeric, skips DNS) or NULL */
    const char *port;        /* NULL = "5432" */
    const char *expect_cidr; /* NULL = no expectation (any private address passes) */
    const char *sslmode;     /* NULL = libpq's default, "prefer" */
    const char *sslrootcert; /* NULL = the system trust store */
    long timeout_ms;         /* <= 0: NETPROBE_DEFAULT_TIMEOUT_MS */
    /* libpq connection parameters (NULL-terminated, password resolved) for login and
     * privileges; connect_timeout is set from timeout_ms (whole seconds, at least 2). */
    const char *const *pq_keywords;
    const char *const *pq_values;
};

/* Results of one low-level TCP connect. */
enum netprobe_tcp_status {
    NETPROBE_TCP_OK = 0,
    NETPROBE_TCP_TIMEOUT,
    NETPROBE_TCP_REFUSED,
    NETPROBE_TCP_UNREACHABLE, /* EHOSTUNREACH / ENETUNREACH */
    NETPROBE_TCP_ERROR,       /* anything else: see the errno */
};

/* Address classes used by the dns check. */
enum netprobe_addr_class {
    NETPROBE_ADDR_PUBLIC = 0,
    NETPROBE_ADDR_PRIVATE,    /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 */
    NETPROBE_ADDR_LOOPBACK,   /* 127/8, ::1 */
    NETPROBE_ADDR_LINK_LOCAL, /* 169.254/16, fe80::/10 */
};

enum netprobe_addr_class netprobe_addr_classify(const struct sockaddr *sa);

/* Connect to one address (non-blocking connect + poll). On NETPROBE_TCP_OK *fd_out is
 * a connected, blocking socket the caller closes; *errno_out holds the errno otherwise. */
enum netprobe_tcp_status netprobe_tcp_connect(const struct sockaddr *sa, socklen_t len,
                                              long timeout_ms, int *fd_out, int *errno_out);

/* True when the host is a unix socket directory (or the default socket). */
bool netprobe_is_unix(const struct netprobe_endpoint *ep);
/* True when every address the endpoint connects to is loopback or a unix socket. */
bool netprobe_is_local(const struct netprobe_endpoint *ep);
/* "source db.example:5432" into buf. */
void netprobe_subject(const struct netprobe_endpoint *ep, char *buf, size_t size);

/* The probes. Each adds one or more results to r; the return value is false when the
 * probe found a FAIL (so the caller can skip the probes that depend on it). */
bool netprobe_dns(const struct netprobe_endpoint *ep, struct check_report *r);
bool netprobe_tcp(const struct netprobe_endpoint *ep, struct check_report *r);
bool netprobe_tls(const struct netprobe_endpoint *ep, struct check_report *r);
bool netprobe_login(const struct netprobe_endpoint *ep, struct check_report *r);

struct netprobe_table {
    const char *schema; /* "public" when NULL */
    const char *name;
};

/* Source role: SELECT on every table (FAIL), no INSERT/UPDATE/DELETE/TRUNCATE (WARN),
 * not a superuser (WARN). */
bool netprobe_source_privileges(const struct netprobe_endpoint *ep,
                                const struct netprobe_table *tables, size_t n_tables,
                                struct check_report *r);

struct netprobe_target_roles {
    const char *const *create_schemas; /* schemas the writer creates in (published, private) */
    size_t n_create_schemas;
    const char *const *private_schemas; /* schemas no reader may use (anonetl, staging) */
    size_t n_private_schemas;
    const char *const *readers; /* target.grant_select_to */
    size_t n_readers;
};

/* Target role: CREATE in each schema (or in the database when a schema does not exist
 * yet) (FAIL), not a superuser (WARN); each reader: no USAGE on a private schema, not a
 * superuser, not a member of the writer role (FAIL: a leak path). */
bool netprobe_target_privileges(const struct netprobe_endpoint *ep,
                                const struct netprobe_target_roles *roles, struct check_report *r);

#endif
