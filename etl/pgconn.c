/*
 * pgconn.c: libpq wrapped once for both sides (see pgconn.h).
 *
 * Why the session settings are passed as startup `options` and not SET: they then hold
 * from the first byte of the session, cost no round trip, and survive RESET ALL.
 */
#include "etl/pgconn.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etl/awsauth.h"
#include "etl/log.h"
#include "etl/pgerror.h"
#include "infra/cidr.h"
#include "etl/secret.h"
#include "etl/stopsig.h"
#include "infra/rds_token.h"

/* Deterministic text output: hashes depend on the text of a value, and text COPY must
 * carry the same values as binary COPY whatever the servers' settings (database, role,
 * postgresql.conf). lc_monetary: money prints and reads in it ("1.234,56 €" from one
 * server was a syntax error, or another amount, on the other). array_nulls: off reads
 * an unquoted NULL element as the string "NULL" (or fails for numbers). xmloption:
 * document refuses the fragments a content column holds. quote_all_identifiers: on,
 * format_type() spells "date" and "jsonb" (rules refused the column, no codec was found)
 * and regclass prints "public"."t". Standard strings (backslash
 * is a plain character in '...'): the `where:` check (sqlexpr.h) reads quotes that
 * way, so the server must too.
 *
 * A `where:` is read under these settings too, so whatever changes what it selects is
 * pinned as well (settings.sh): DateStyle's field order (a bare "ISO" kept the order of
 * the server's postgresql.conf, where initdb writes DMY under an en_GB or de_DE locale:
 * '01/02/2000' was 1 February there and 2 January elsewhere; MDY is PostgreSQL's own
 * default), transform_null_equals (`x = NULL` read as `x IS NULL`),
 * timezone_abbreviations ('IST' is Israel in Default, India in the India set) and
 * gin_fuzzy_search_limit (a GIN index answering a where: returned a random subset of
 * its rows), lc_numeric and lc_time (to_char's D, G and TM), default_text_search_config
 * (to_tsvector(text) stems by it; initdb writes its locale's: english for C and en_*,
 * the most common, pinned). exit_on_error would end a session at an error anonetl recovers from
 * (the savepoints of plan.c, rowsample.c and publish.c's switch_view). Settings a role may not set
 * at connect (session_replication_role, lc_messages: superuser only) are not named here: see
 * docs/operations.md, "Server settings". */
static const char pinned_options[] =
    "-c DateStyle=ISO,MDY -c TimeZone=UTC -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex -c search_path=pg_catalog -c standard_conforming_strings=on "
    "-c lc_monetary=C -c array_nulls=on -c xmloption=content -c quote_all_identifiers=off "
    "-c transform_null_equals=off -c timezone_abbreviations=Default "
    "-c gin_fuzzy_search_limit=0 -c exit_on_error=off -c lc_numeric=C -c lc_time=C "
    "-c default_text_search_config=pg_catalog.english";

static __thread char last_sqlstate[6];

/* libpq's environment variables that become session settings (fe-connect.c,
 * EnvironmentOptions), and those pgconn_pin_environment found set. */
static const char *const session_env[] = {"PGTZ", "PGDATESTYLE", "PGGEQO", NULL};
static char ignored_env[64];
static int ignored_logged;

void pgconn_pin_environment(void)
{
    for (const char *const *v = session_env; *v; v++) {
        if (!getenv(*v))
            continue;
        snprintf(ignored_env + strlen(ignored_env), sizeof(ignored_env) - strlen(ignored_env),
                 "%s%s", ignored_env[0] ? ", " : "", *v);
        unsetenv(*v);
    }
}

const char *pgconn_last_sqlstate(void)
{
    return last_sqlstate;
}

static void params_set(struct pgconn_params *p, const char *key, const char *value)
{
    char *v = strdup(value);
    int i;

    for (i = 0; i < p->n; i++)
        if (strcmp(p->keywords[i], key) == 0)
            break;
    if (!v || i >= PGCONN_MAX_PARAMS) {
        free(v);
        p->failed = true;
        return;
    }
    if (i == p->n) {
        p->keywords[i] = strdup(key);
        if (!p->keywords[i]) {
            free(v);
            p->failed = true;
            return;
        }
        p->n++;
    } else {
        OPENSSL_cleanse((char *)p->values[i], strlen(p->values[i]));
        free((char *)p->values[i]);
    }
    p->values[i] = v;
    p->keywords[p->n] = NULL;
    p->values[p->n] = NULL;
}

void pgconn_params_free(struct pgconn_params *p)
{
    for (int i = 0; i < p->n; i++) {
        OPENSSL_cleanse((char *)p->values[i], strlen(p->values[i]));
        free((char *)p->values[i]);
        free((char *)p->keywords[i]);
    }
    memset(p, 0, sizeof(*p));
}

const char *pgconn_params_get(const struct pgconn_params *p, const char *keyword)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->keywords[i], keyword) == 0)
            return p->values[i];
    return NULL;
}

static bool host_is_local(const char *host)
{
    if (!host || !*host || host[0] == '/' || host[0] == '@')
        return true; /* a unix socket (libpq's default is one too) */
    return cidr_is_loopback_host(host);
}

/* Every item of a comma-separated host or hostaddr list is local; else *first names the
 * first one that is not. */
static bool list_local(const char *list, char *first, size_t size)
{
    char one[256];

    while (list && *list) {
        size_t n = strcspn(list, ",");
        snprintf(one, sizeof(one), "%.*s", (int)n, list);
        if (!host_is_local(one)) {
            snprintf(first, size, "%s", one);
            return false;
        }
        list += n + (list[n] == ',');
    }
    return true;
}

/* libpq's defaults for host and hostaddr: PGHOST, PGHOSTADDR, the service PGSERVICE
 * names (in PGSERVICEFILE, ~/.pg_service.conf or the system's pg_service.conf), else
 * the compiled-in socket directory. */
static void libpq_defaults(char *host, char *hostaddr, size_t size)
{
    PQconninfoOption *d = PQconndefaults();

    host[0] = hostaddr[0] = '\0';
    for (PQconninfoOption *o = d; o && o->keyword; o++) {
        if (strcmp(o->keyword, "host") == 0 && o->val)
            snprintf(host, size, "%s", o->val);
        else if (strcmp(o->keyword, "hostaddr") == 0 && o->val)
            snprintf(hostaddr, size, "%s", o->val);
    }
    PQconninfoFree(d);
}

/*
 * Where libpq will connect, decided before connecting: the parameters' own hostaddr, else
 * their host, with libpq's defaults (environment, PGSERVICE) for what they leave out:
 * hostaddr, when set, is where the connection goes, whatever host says. A service named
 * in the parameters themselves may set both from a file anonetl does not read: fail
 * closed, not local. True when every address is loopback or a unix socket; else `why`
 * says which host and where it came from.
 */
static bool params_target_local(const struct pgconn_params *p, char *why, size_t size)
{
    const char *host = pgconn_params_get(p, "host"), *addr = pgconn_params_get(p, "hostaddr");
    const char *label, *list;
    char dhost[256], daddr[256], first[256];

    if (!addr && pgconn_params_get(p, "service")) {
        snprintf(why, size,
                 "the service \"%s\" named in the connection string (its host is not known "
                 "before connecting: set hostaddr there)",
                 pgconn_params_get(p, "service"));
        return false;
    }
    libpq_defaults(dhost, daddr, sizeof(dhost));
    if (addr) {
        list = addr;
        label = "hostaddr %s";
    } else if (daddr[0]) {
        list = daddr;
        label = "hostaddr %s (from PGHOSTADDR or the PGSERVICE service)";
    } else if (host) {
        list = host;
        label = "host %s";
    } else {
        list = dhost;
        label = "host %s (from PGHOST or the PGSERVICE service)";
    }
    if (list_local(list, first, sizeof(first)))
        return true;
    snprintf(why, size, label, first);
    return false;
}

/* One item of a host or hostaddr list: a socket directory ('/...'), an abstract socket
 * ('@...'), or a name or address (letters, digits and . - _ : % of IPv6 zones). */
static bool host_item_plausible(const char *s, size_t n)
{
    if (n == 0 || s[0] == '/' || s[0] == '@')
        return true;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr(".-_:%", s[i])))
            return false;
    return true;
}

static bool list_plausible(const char *list, bool digits_only)
{
    while (list && *list) {
        size_t n = strcspn(list, ",");
        for (size_t i = 0; digits_only && i < n; i++)
            if (list[i] < '0' || list[i] > '9')
                return false;
        if (!digits_only && !host_item_plausible(list, n))
            return false;
        list += n + (list[n] == ',');
    }
    return true;
}

/*
 * libpq splits a postgresql:// URI at the first '@' and the first ':' and '/': a password
 * holding one of them, not percent-encoded, ends up in host or port, which messages,
 * logs and the preflight show (`could not translate host name "ss@db"`). Such a host or
 * port is refused without showing it.
 */
static bool params_plausible(const struct pgconn_params *p, const char *what,
                             struct anon_error *err)
{
    static const char *const hosts[] = {"host", "hostaddr"};
    const char *bad = NULL;

    for (size_t i = 0; i < 2 && !bad; i++)
        if (!list_plausible(pgconn_params_get(p, hosts[i]), false))
            bad = hosts[i];
    if (!bad && !list_plausible(pgconn_params_get(p, "port"), true))
        bad = "port";
    if (!bad)
        return true;
    anon_error_set(err,
                   "%s: the connection's %s is not a host name, address, socket directory or "
                   "port number (not shown: it may hold part of a password). In a "
                   "postgresql:// URI, write @ : / ? # in the password as %%40 %%3A %%2F %%3F %%23",
                   what, bad);
    return false;
}

/* Copy every option set in a DSN (keyword or URI form) into p. */
static bool params_from_dsn(struct pgconn_params *p, const char *dsn, const char *what,
                            struct anon_error *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &perr);

    if (!opts) {
        /* libpq's message quotes parts of the DSN (`invalid percent-encoded token:
         * "<password>"`, `missing "=" after "<word of a password>"`): cut at its first
         * quote, like a server message (pgerror.h). */
        char why[256];
        pgerror_redact(perr ? perr : "out of memory", NULL, 0, why, sizeof(why));
        anon_error_set(err, "%s: invalid connection string: %s", what, why);
        if (perr)
            OPENSSL_cleanse(perr, strlen(perr));
        PQfreemem(perr);
        return false;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val)
            params_set(p, o->keyword, o->val);
    PQconninfoFree(opts);
    return true;
}

static bool params_from_fields(struct pgconn_params *p, const struct cfg_db *db, const char *what,
                               enum secret_failure *why, struct anon_error *err)
{
    char port[16];
    struct abuf secret;

    if (db->host)
        params_set(p, "host", db->host);
    if (db->port) {
        snprintf(port, sizeof(port), "%d", db->port);
        params_set(p, "port", port);
    }
    if (db->dbname)
        params_set(p, "dbname", db->dbname);
    if (db->user)
        params_set(p, "user", db->user);
    if (db->password.kind == CFG_SECRET_NONE)
        return true;
    abuf_init(&secret, 0);
    if (!secret_resolve(&db->password, what, &secret, why, err)) {
        abuf_free_secret(&secret);
        return false;
    }
    params_set(p, "password", abuf_cstr(&secret));
    abuf_free_secret(&secret);
    return true;
}

/* iam_auth: the password is a fresh RDS IAM token for the host, port and user. */
static bool params_iam_token(struct pgconn_params *p, const char *what, struct anon_error *err)
{
    const char *port = pgconn_params_get(p, "port");
    char token[RDS_TOKEN_MAX];
    long n = port ? strtol(port, NULL, 10) : 5432;
    bool ok = awsauth_db_token(pgconn_params_get(p, "host"), (int)n, pgconn_params_get(p, "user"),
                               NULL, awsauth_now(), what, token, sizeof(token), NULL, err);

    if (ok)
        params_set(p, "password", token);
    OPENSSL_cleanse(token, sizeof(token));
    return ok;
}

/* The token is a bearer credential: outside loopback, only a verified host receives it. */
static bool params_iam_tls(const struct pgconn_params *p, const char *what, struct anon_error *err)
{
    const char *mode = pgconn_params_get(p, "sslmode");
    char why[512];

    if (params_target_local(p, why, sizeof(why)) || (mode && strcmp(mode, "verify-full") == 0))
        return true;
    anon_error_set(err,
                   "%s: iam_auth sends a token as the password to %s: sslmode must be "
                   "verify-full",
                   what, why);
    return false;
}

/* The connection parameter `key` is `only`, or unset and then set to it. */
static bool param_only(struct pgconn_params *p, const char *key, const char *only)
{
    const char *v = pgconn_params_get(p, key);

    if (!v)
        params_set(p, key, only);
    return !v || strcmp(v, only) == 0;
}

/*
 * Every connection outside loopback verifies TLS: default verify-full, refuse weaker.
 * verify-ca is weaker too: it accepts any server whose certificate the CA signed, so
 * another database of the same CA (every RDS instance of a region shares one) could
 * receive the password and the rows. libpq tries GSSAPI encryption before TLS whenever
 * a Kerberos ticket is at hand (gssencmode prefer, its default, or PGGSSENCMODE), and a
 * GSSAPI-encrypted session never starts TLS, so verify-full would not apply at all: it
 * is turned off, and refused when the connection string asks for it.
 */
static bool enforce_tls(struct pgconn_params *p, const char *what, struct anon_error *err)
{
    char why[512];

    if (params_target_local(p, why, sizeof(why)))
        return true;
    if (!param_only(p, "gssencmode", "disable")) {
        anon_error_set(err,
                       "%s: gssencmode=%s for %s, outside loopback: a GSSAPI-encrypted session "
                       "skips TLS and its certificate check; anonetl requires TLS "
                       "(gssencmode: disable, sslmode: verify-full)",
                       what, pgconn_params_get(p, "gssencmode"), why);
        return false;
    }
    if (!param_only(p, "sslmode", "verify-full")) {
        anon_error_set(err,
                       "%s: sslmode=%s for %s, outside loopback: anonetl requires the server's "
                       "certificate and host name verified (sslmode: verify-full, with "
                       "sslrootcert)",
                       what, pgconn_params_get(p, "sslmode"), why);
        return false;
    }
    return true;
}

/*
 * The target commits asynchronously: everything anonetl writes there can be rebuilt from
 * the source, and each publish is one transaction holding both the data and the
 * high-water marks, so a server crash can only lose whole recent publishes (the next run
 * redoes them), never leave a partial one. Not waiting for each commit's WAL flush makes
 * loads and merges cheaper. JIT is off: anonetl's statements are bulk writes and merges
 * by key, where compiling costs tens of milliseconds a statement and saves nothing. The
 * publish transaction of a run with incremental tables stays open, idle between merges,
 * while workers copy (worker.h): session_timeouts_off keeps a server's idle timeouts
 * from ending it.
 */
static const char target_options[] = " -c synchronous_commit=off -c jit=off";

static bool params_add_session(struct pgconn_params *p, const struct cfg_db *db, const char *what)
{
    char options[sizeof(pinned_options) + sizeof(target_options) + 64];

    snprintf(options, sizeof(options), "%s%s", pinned_options,
             strcmp(what, "target") == 0 ? target_options : "");
    if (db->statement_timeout_ms > 0)
        snprintf(options + strlen(options), sizeof(options) - strlen(options),
                 " -c statement_timeout=%ld", db->statement_timeout_ms);
    params_set(p, "application_name", "anonetl");
    params_set(p, "client_encoding", "UTF8");
    params_set(p, "options", options);
    if (!pgconn_params_get(p, "connect_timeout"))
        params_set(p, "connect_timeout", "30");
    /* A leader idle for the whole copy must not look dead to a firewall or NAT on the
     * way (the OS default is 2 hours before the first probe). A server that cannot be
     * reached any more (a network partition: packets dropped, no RST) fails the run in
     * about 2 minutes instead of hanging it: 6 unanswered probes 10 s apart end an idle
     * connection (Linux's defaults, 9 at 75 s, took 12 minutes), and tcp_user_timeout
     * ends one whose data goes unacknowledged for 2 minutes (a COPY to a partitioned
     * target: keepalives never start while data waits, and the retransmissions went on for
     * 15 minutes). The same holds for a target that takes no COPY data for 2 minutes.
     * Each can be set in the connection string. */
    if (!pgconn_params_get(p, "keepalives_idle"))
        params_set(p, "keepalives_idle", "60");
    if (!pgconn_params_get(p, "keepalives_interval"))
        params_set(p, "keepalives_interval", "10");
    if (!pgconn_params_get(p, "keepalives_count"))
        params_set(p, "keepalives_count", "6");
    if (!pgconn_params_get(p, "tcp_user_timeout"))
        params_set(p, "tcp_user_timeout", "120000");
    return !p->failed;
}

/* with_token: iam_auth gets its token (AWS credentials); without, the rest is checked.
 * *why: whose problem a failure is (a secret that could not be fetched, or the config). */
static bool params_build(const struct cfg_db *db, const char *what, struct pgconn_params *p,
                         bool with_token, enum secret_failure *why, struct anon_error *err)
{
    struct abuf dsn;
    bool ok = true;

    memset(p, 0, sizeof(*p));
    *why = SECRET_FAIL_CONFIG;
    if (db->dsn.kind != CFG_SECRET_NONE) {
        abuf_init(&dsn, 0);
        ok = secret_resolve(&db->dsn, what, &dsn, why, err) &&
             params_from_dsn(p, abuf_cstr(&dsn), what, err);
        abuf_free_secret(&dsn);
    }
    ok = ok && params_from_fields(p, db, what, why, err);
    ok = ok && (!db->iam_auth || !with_token || params_iam_token(p, what, err));
    if (ok && db->sslmode)
        params_set(p, "sslmode", db->sslmode);
    if (ok && db->sslrootcert)
        params_set(p, "sslrootcert", db->sslrootcert);
    ok = ok && params_plausible(p, what, err);
    ok = ok && enforce_tls(p, what, err);
    ok = ok && (!db->iam_auth || params_iam_tls(p, what, err));
    if (ok && !params_add_session(p, db, what)) {
        anon_error_set(err, "%s: too many connection parameters", what);
        ok = false;
    }
    if (!ok)
        pgconn_params_free(p);
    return ok;
}

bool pgconn_params_build(const struct cfg_db *db, const char *what, struct pgconn_params *p,
                         struct anon_error *err)
{
    enum secret_failure why;

    return params_build(db, what, p, true, &why, err);
}

bool pgconn_params_check(const struct cfg_db *db, const char *what, enum secret_failure *why,
                         struct anon_error *err)
{
    struct pgconn_params p;

    if (!params_build(db, what, &p, false, why, err))
        return false;
    pgconn_params_free(&p);
    return true;
}

/* A notice can quote values (a trigger's RAISE NOTICE with NEW.email): redacted too. */
static void notice_to_log(void *arg, const PGresult *res)
{
    const char *side = arg;
    char msg[1024];

    pgerror_describe(res, NULL, msg, sizeof(msg));
    log_emit(LOG_DEBUG, "server_notice", NULL, (struct log_field[]){LF_STR("side", side)}, 1, "%s",
             msg);
}

/* A connection option as libpq uses it (PQconninfo's), "0" when it has none: the
 * server's default. */
static const char *conn_option(PQconninfoOption *opts, const char *keyword)
{
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0 && o->val && o->val[0])
            return o->val;
    return "0";
}

/*
 * A run's sessions sit idle for as long as the copy takes: the source leader holds the
 * snapshot every worker attaches to (idle in transaction), the target leader waits
 * between statements (idle, or idle in the publish transaction). A server's or role's
 * idle_in_transaction_session_timeout, idle_session_timeout (PostgreSQL 14) or
 * transaction_timeout (17) would end them after the copy did all the work. Each is set
 * off for these sessions only, where the server has it (so any version connects).
 * client_connection_check_interval (14) goes the other way: a job killed mid-statement
 * (kill -9, OOM, a stopped task) leaves backends running its merge or holding the run
 * lock until the statement ends, which blocks the next run with exit 7; checking the
 * client every second ends them within a second of its death.
 *
 * The server's side of the session gets the keepalives the client's has
 * (tcp_keepalives_idle, _interval, _count: the connection string's or pgconn's
 * defaults). A run cut off from the target by a network partition dies without the target
 * hearing of it: the target leader's backend, idle and holding the run lock, stayed until
 * the server's own keepalives (2 hours by default, then 11 minutes of probes) and every
 * run meanwhile exited 7. With the probes, the server finds the job gone within minutes,
 * or at its first probe once the network is back, and gives the lock back. (On a unix
 * socket these settings do nothing.)
 */
static bool session_timeouts_off(PGconn *conn, const char *side, struct anon_error *err)
{
    struct anon_error e;
    PQconninfoOption *opts = PQconninfo(conn);
    const char *params[3] = {conn_option(opts, "keepalives_idle"),
                             conn_option(opts, "keepalives_interval"),
                             conn_option(opts, "keepalives_count")};
    PGresult *res = pgconn_query(
        conn,
        "SELECT pg_catalog.set_config(name, CASE name WHEN 'client_connection_check_interval' "
        "THEN '1s' WHEN 'tcp_keepalives_idle' THEN $1 WHEN 'tcp_keepalives_interval' THEN $2 "
        "WHEN 'tcp_keepalives_count' THEN $3 ELSE '0' END, false) FROM pg_catalog.pg_settings "
        "WHERE name IN ('idle_in_transaction_session_timeout', 'idle_session_timeout', "
        "'transaction_timeout', 'client_connection_check_interval', 'tcp_keepalives_idle', "
        "'tcp_keepalives_interval', 'tcp_keepalives_count')",
        3, params, PGRES_TUPLES_OK, &e);

    PQconninfoFree(opts);
    if (!res) {
        anon_error_set(err, "%s: cannot set the session's idle timeouts off: %s", side, e.msg);
        return false;
    }
    PQclear(res);
    return true;
}

/* A connect under way in a thread of its own (connect_unless_stopped). */
struct connect_job {
    struct pgconn_params params; /* its own: wiped and freed with the job */
    PGconn *conn;
    bool done, abandoned; /* under lock */
    pthread_mutex_t lock;
    pthread_cond_t ended;
};

static void connect_job_free(struct connect_job *job)
{
    pgconn_params_free(&job->params);
    pthread_cond_destroy(&job->ended);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

static void *connect_in_thread(void *arg)
{
    struct connect_job *job = arg;
    PGconn *conn = PQconnectdbParams(job->params.keywords, job->params.values, 0);
    bool abandoned;

    pthread_mutex_lock(&job->lock);
    job->conn = conn;
    job->done = true;
    abandoned = job->abandoned;
    pthread_cond_signal(&job->ended);
    pthread_mutex_unlock(&job->lock);
    if (abandoned) { /* the caller left at a stop: nobody wants this connection */
        PQfinish(conn);
        connect_job_free(job);
    }
    return NULL;
}

/*
 * PQconnectdbParams, but a stop signal (stopsig.h) ends the wait. A connect to a server
 * that cannot be reached (a network partition) waits connect_timeout for each host (30 s
 * by default), as long as a scheduler waits between SIGTERM and SIGKILL, and a run opens
 * connections as it goes (a worker's, the publish's writer). libpq's own connect loop
 * keeps its per-host timeout and its move to the next host; it runs in a thread of its
 * own, and at a stop the caller leaves it to end alone (its connection then closed).
 * Takes *p (left empty). NULL and *stopped at a stop.
 */
static PGconn *connect_unless_stopped(struct pgconn_params *p, bool *stopped)
{
    struct connect_job *job = calloc(1, sizeof(*job));
    pthread_attr_t attr;
    pthread_t thread;
    bool started = false;
    PGconn *conn;

    *stopped = false;
    if (!job) /* without a thread: the connect in this one, as before */
        return PQconnectdbParams(p->keywords, p->values, 0);
    job->params = *p;
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->ended, NULL);
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, connect_in_thread, job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        conn = PQconnectdbParams(job->params.keywords, job->params.values, 0);
        connect_job_free(job);
        return conn;
    }
    pthread_mutex_lock(&job->lock);
    while (!job->done && !stopsig_cancelling()) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L; /* a stop is seen within 0.2 s */
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&job->ended, &job->lock, &until);
    }
    if (!job->done) {
        job->abandoned = true;
        pthread_mutex_unlock(&job->lock);
        *stopped = true;
        return NULL;
    }
    conn = job->conn;
    pthread_mutex_unlock(&job->lock);
    connect_job_free(job);
    return conn;
}

PGconn *pgconn_open(const struct cfg_db *db, const char *side, struct anon_error *err)
{
    struct pgconn_params p;
    char why[512];
    PGconn *conn;
    bool stopped;

    if (stopsig_cancelling()) { /* a stopped run opens no new session */
        anon_error_set(err, "%s: %s: no new connection is made", side,
                       stopsig_name(stopsig_received()));
        return NULL;
    }
    if (!pgconn_params_build(db, side, &p, err))
        return NULL;
    if (params_target_local(&p, why, sizeof(why)))
        snprintf(why, sizeof(why), "loopback or a unix socket");
    log_debug("connect", NULL, "%s: connecting to %s, sslmode %s, gssencmode %s", side, why,
              pgconn_params_get(&p, "sslmode") ? pgconn_params_get(&p, "sslmode")
                                               : "(libpq's default)",
              pgconn_params_get(&p, "gssencmode") ? pgconn_params_get(&p, "gssencmode")
                                                  : "(libpq's default)");
    if (ignored_env[0] && !__atomic_exchange_n(&ignored_logged, 1, __ATOMIC_RELAXED))
        log_warn("environment", NULL,
                 "%s ignored: anonetl's sessions keep TimeZone=UTC and DateStyle=ISO, and "
                 "read the source's own time zone from the server",
                 ignored_env);
    conn = connect_unless_stopped(&p, &stopped);
    pgconn_params_free(&p);
    if (stopped) {
        anon_error_set(err, "%s: %s came while connecting: the connect is abandoned", side,
                       stopsig_name(stopsig_received()));
        return NULL;
    }
    if (!conn) {
        anon_error_set(err, "%s: out of memory connecting", side);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        /* Connection errors name hosts and roles, never row values: libpq's first line. */
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
        msg[strcspn(msg, "\n")] = '\0';
        anon_error_set(err, "%s: cannot connect: %s", side, msg);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeReceiver(conn, notice_to_log, (void *)side);
    stopsig_watch(conn, side);
    if (!session_timeouts_off(conn, side, err)) {
        pgconn_close(conn);
        return NULL;
    }
    return conn;
}

bool pgconn_default_setting(const struct cfg_db *db, const char *side, const char *name, char *out,
                            size_t out_len, struct anon_error *err)
{
    struct pgconn_params p;
    const char *params[1] = {name};
    PGconn *conn;
    PGresult *res;
    bool stopped = false;

    if (!pgconn_params_build(db, side, &p, err))
        return false;
    /* Only the search path pinned: every other setting as the server, database and role
     * give it to any new session. */
    params_set(&p, "options", "-c search_path=pg_catalog");
    conn = p.failed ? NULL : connect_unless_stopped(&p, &stopped);
    pgconn_params_free(&p);
    if (stopped) {
        anon_error_set(err, "%s: %s came while connecting: the connect is abandoned", side,
                       stopsig_name(stopsig_received()));
        return false;
    }
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        anon_error_set(err, "%s: cannot connect: %s", side,
                       conn ? PQerrorMessage(conn) : "out of memory");
        err->msg[strcspn(err->msg, "\n")] = '\0';
        PQfinish(conn);
        return false;
    }
    res = pgconn_query(conn, "SELECT pg_catalog.current_setting($1)", 1, params, PGRES_TUPLES_OK,
                       err);
    if (res)
        snprintf(out, out_len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return res != NULL;
}

void pgconn_close(PGconn *conn)
{
    if (conn) {
        stopsig_unwatch(conn); /* before PQfinish: a stop's watcher may be cancelling */
        PQfinish(conn);
    }
}

/* The statement's leading keywords ("COPY", "INSERT INTO"): which statement failed,
 * without its identifiers or literals (a range bound or a watermark is a source value). */
static void statement_verb(const char *sql, char *out, size_t size)
{
    size_t n = 0;

    while (sql[n] && n + 1 < size && ((sql[n] >= 'A' && sql[n] <= 'Z') || sql[n] == ' '))
        n++;
    while (n > 0 && sql[n - 1] == ' ')
        n--;
    memcpy(out, sql, n);
    out[n] = '\0';
}

/* The redacted server message (pgerror.h) and the statement's kind, never its text. */
static void report(PGconn *conn, const PGresult *res, const char *sql, struct anon_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char msg[1024], verb[48];

    snprintf(last_sqlstate, sizeof(last_sqlstate), "%s", state ? state : "");
    pgerror_describe(res, conn, msg, sizeof(msg));
    statement_verb(sql, verb, sizeof(verb));
    anon_error_set(err, "%s%s%s%s", msg, verb[0] ? " (in " : "", verb, verb[0] ? ")" : "");
}

/* A run asked to stop starts no new statement (stopsig.h): the error a cancelled one
 * would have had (57014), saying why. */
static bool stopped(const char *sql, struct anon_error *err)
{
    char verb[48];

    if (!stopsig_cancelling())
        return false;
    snprintf(last_sqlstate, sizeof(last_sqlstate), "57014");
    statement_verb(sql, verb, sizeof(verb));
    anon_error_set(err, "%s: no new statement is started%s%s%s", stopsig_name(stopsig_received()),
                   verb[0] ? " (" : "", verb, verb[0] ? ")" : "");
    return true;
}

/*
 * Every statement goes through the extended protocol (PQexecParams, with or without
 * parameters): the server takes exactly one statement per call, so text built into a
 * statement (a table's `where:`) can never end it and start another.
 */
PGresult *pgconn_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       ExecStatusType expect, struct anon_error *err)
{
    PGresult *res;

    if (stopped(sql, err))
        return NULL;
    res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

    if (res && PQresultStatus(res) == expect) {
        last_sqlstate[0] = '\0';
        return res;
    }
    report(conn, res, sql, err);
    PQclear(res);
    return NULL;
}

PGresult *pgconn_query_built(PGconn *conn, struct abuf *sql, int nparams, const char *const *params,
                             ExecStatusType expect, struct anon_error *err)
{
    PGresult *res = NULL;

    if (abuf_failed(sql))
        anon_error_set(err, "out of memory");
    else
        res = pgconn_query(conn, abuf_cstr(sql), nparams, params, expect, err);
    abuf_free(sql);
    return res;
}

bool pgconn_exec(PGconn *conn, const char *sql, ExecStatusType expect, struct anon_error *err)
{
    PGresult *res = pgconn_query(conn, sql, 0, NULL, expect, err);

    PQclear(res);
    return res != NULL;
}

bool pgconn_exec_script(PGconn *conn, const char *script, struct anon_error *err)
{
    PGresult *res;
    bool ok;

    if (stopped(script, err))
        return false;
    res = PQexec(conn, script);
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;

    if (ok)
        last_sqlstate[0] = '\0';
    else
        report(conn, res, script, err);
    PQclear(res);
    return ok;
}

bool pgconn_quote_ident(PGconn *conn, const char *ident, struct abuf *out)
{
    char *q = PQescapeIdentifier(conn, ident, strlen(ident));

    if (!q) {
        out->failed = true;
        return false;
    }
    abuf_puts(out, q);
    PQfreemem(q);
    return !abuf_failed(out);
}
