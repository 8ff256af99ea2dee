/*
 * test_netprobe.c: the network probes (infra/netprobe) against loopback only.
 *
 * Real sockets on 127.0.0.1 and unix sockets in a temp dir: a listener (PASS), a closed
 * port (refused), a full accept queue (a real timeout), a fake PostgreSQL that answers
 * the SSLRequest with 'N', garbage or 'S' followed by a real OpenSSL server handshake
 * with a certificate made here (right CA, wrong CA, wrong host name, sslmode weaker than
 * verify-full). DNS cases use literal addresses so no resolver is ever asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "infra/netprobe.h"

/* ---- helpers ----------------------------------------------------------------------- */

static int listen_loopback(int backlog, int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port nothing listens on: bind, read the port, close. */
static int closed_port(void)
{
    int port, fd = listen_loopback(1, &port);

    close(fd);
    return port;
}

static const struct check_result *only_result(const struct check_report *r, const char *group)
{
    const struct check_result *found = NULL;

    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].group, group) == 0) {
            if (found)
                fail_msg("more than one %s result", group);
            found = &r->items[i];
        }
    if (!found)
        fail_msg("no %s result", group);
    return found;
}

static void assert_status(const struct check_result *c, enum check_status want, const char *needle)
{
    if (c->status != want || (needle && !strstr(c->detail, needle)))
        fail_msg("want %s containing \"%s\", got %s: %s | %s", check_status_name(want),
                 needle ? needle : "", check_status_name(c->status), c->detail, c->remediation);
    if (want != CHECK_PASS && want != CHECK_SKIP && c->remediation[0] == '\0')
        fail_msg("%s without a remediation: %s", check_status_name(want), c->detail);
}

static struct netprobe_endpoint ep_for(const char *host, const char *port)
{
    struct netprobe_endpoint ep;

    memset(&ep, 0, sizeof(ep));
    ep.name = "source";
    ep.host = host;
    ep.port = port;
    ep.timeout_ms = 2000;
    return ep;
}

/* ---- classification and subjects -------------------------------------------------- */

static enum netprobe_addr_class classify(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
    }
    return netprobe_addr_classify((struct sockaddr *)&ss);
}

static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(classify("10.1.2.3"), NETPROBE_ADDR_PRIVATE);
    assert_int_equal(classify("172.16.0.1"), NETPROBE_ADDR_PRIVATE);
    assert_int_equal(classify("172.31.255.1"), NETPROBE_ADDR_PRIVATE);
    assert_int_equal(classify("172.32.0.1"), NETPROBE_ADDR_PUBLIC);
    assert_int_equal(classify("192.168.4.4"), NETPROBE_ADDR_PRIVATE);
    assert_int_equal(classify("100.64.0.1"), NETPROBE_ADDR_PRIVATE);
    assert_int_equal(classify("127.0.0.1"), NETPROBE_ADDR_LOOPBACK);
    assert_int_equal(classify("169.254.169.254"), NETPROBE_ADDR_LINK_LOCAL);
    assert_int_equal(classify("203.0.113.10"), NETPROBE_ADDR_PUBLIC);
    assert_int_equal(classify("8.8.8.8"), NETPROBE_ADDR_PUBLIC);
    assert_int_equal(classify("::1"), NETPROBE_ADDR_LOOPBACK);
    assert_int_equal(classify("fd12::1"), NETPROBE_ADDR_PRIVATE);
    assert_int_equal(classify("fe80::1"), NETPROBE_ADDR_LINK_LOCAL);
    assert_int_equal(classify("2001:db8::1"), NETPROBE_ADDR_PUBLIC);
    assert_int_equal(classify("::ffff:10.0.0.1"), NETPROBE_ADDR_PRIVATE);
}

static void test_subject_and_kinds(void **state)
{
    struct netprobe_endpoint ep = ep_for("db.prod.test", "6432");
    char buf[96];

    (void)state;
    netprobe_subject(&ep, buf, sizeof(buf));
    assert_string_equal(buf, "source db.prod.test:6432");
    ep.port = NULL;
    ep.host = "fd00::5";
    netprobe_subject(&ep, buf, sizeof(buf));
    assert_string_equal(buf, "source [fd00::5]:5432");
    assert_false(netprobe_is_unix(&ep));
    ep.host = "/tmp/sock";
    assert_true(netprobe_is_unix(&ep));
    assert_true(netprobe_is_local(&ep));
    ep.host = NULL;
    assert_true(netprobe_is_unix(&ep));
    ep.host = "127.0.0.1";
    assert_true(netprobe_is_local(&ep));
    ep.host = "10.9.9.9";
    assert_false(netprobe_is_local(&ep));
    ep.hostaddr = "127.0.0.1"; /* hostaddr is what gets connected to */
    assert_true(netprobe_is_local(&ep));
}

/* ---- dns (literal addresses only: no resolver is asked) --------------------------- */

static enum check_status dns_status(const char *host, const char *cidr, char *detail, size_t size)
{
    struct netprobe_endpoint ep = ep_for(host, "5432");
    struct check_report r;
    enum check_status st;

    ep.expect_cidr = cidr;
    check_report_init(&r);
    (void)netprobe_dns(&ep, &r);
    assert_int_equal(r.n, 1);
    st = r.items[0].status;
    snprintf(detail, size, "%s", r.items[0].detail);
    if (st != CHECK_PASS && st != CHECK_SKIP)
        assert_true(r.items[0].remediation[0] != '\0');
    check_report_free(&r);
    return st;
}

static void test_dns(void **state)
{
    char d[512];

    (void)state;
    assert_int_equal(dns_status("10.10.3.4", "10.10.0.0/16", d, sizeof(d)), CHECK_PASS);
    assert_non_null(strstr(d, "10.10.3.4"));
    assert_int_equal(dns_status("10.11.3.4", "10.10.0.0/16", d, sizeof(d)), CHECK_FAIL);
    assert_non_null(strstr(d, "outside expect_cidr 10.10.0.0/16"));
    /* a public address outside expect_cidr: traffic would not take the peering (issue 12) */
    assert_int_equal(dns_status("203.0.113.10", "10.10.0.0/16", d, sizeof(d)), CHECK_FAIL);
    assert_non_null(strstr(d, "public address 203.0.113.10, outside expect_cidr 10.10.0.0/16"));
    /* a public range named as expected is what the config asks for */
    assert_int_equal(dns_status("203.0.113.10", "203.0.113.0/24", d, sizeof(d)), CHECK_PASS);
    assert_int_equal(dns_status("203.0.113.10", NULL, d, sizeof(d)), CHECK_WARN);
    assert_int_equal(dns_status("10.11.3.4", NULL, d, sizeof(d)), CHECK_PASS);
    assert_int_equal(dns_status("127.0.0.1", "10.10.0.0/16", d, sizeof(d)), CHECK_FAIL);
    assert_int_equal(dns_status("fd00:10::4", "fd00:10::/32", d, sizeof(d)), CHECK_PASS);
    /* a VPC's IPv6 addresses are global ones, the same whoever resolves the name: no sign
     * of the peering's DNS option (it was a WARN: public); an IPv4 expect_cidr it misses */
    assert_int_equal(dns_status("2600:1f18:0:c::20", NULL, d, sizeof(d)), CHECK_PASS);
    assert_non_null(strstr(d, "2600:1f18:0:c::20 (IPv6"));
    assert_int_equal(dns_status("2600:1f18:0:c::20", "10.10.0.0/16", d, sizeof(d)), CHECK_FAIL);
    assert_non_null(strstr(d, "to 2600:1f18:0:c::20, outside expect_cidr 10.10.0.0/16"));
    assert_int_equal(dns_status("10.10.3.4", "2600:1f18::/56", d, sizeof(d)), CHECK_FAIL);
    assert_int_equal(dns_status("/tmp", "10.10.0.0/16", d, sizeof(d)), CHECK_SKIP);
    assert_int_equal(dns_status("10.10.3.4", "10.10.0.0/99", d, sizeof(d)), CHECK_FAIL);
    assert_non_null(strstr(d, "expect_cidr"));
}

/* ---- tcp --------------------------------------------------------------------------- */

static void test_tcp_connect_statuses(void **state)
{
    struct sockaddr_in a;
    int port, lfd = listen_loopback(4, &port), fd = -1, e = 0;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(netprobe_tcp_connect((struct sockaddr *)&a, sizeof(a), 1000, &fd, &e),
                     NETPROBE_TCP_OK);
    assert_true(fd >= 0);
    close(fd);
    close(lfd);
    a.sin_port = htons((uint16_t)closed_port());
    assert_int_equal(netprobe_tcp_connect((struct sockaddr *)&a, sizeof(a), 1000, &fd, &e),
                     NETPROBE_TCP_REFUSED);
    assert_int_equal(e, ECONNREFUSED);
    assert_int_equal(fd, -1);
}

static void test_tcp_probe_pass_refused(void **state)
{
    char port[16];
    int p, lfd = listen_loopback(4, &p);
    struct netprobe_endpoint ep;
    struct check_report r;

    (void)state;
    snprintf(port, sizeof(port), "%d", p);
    ep = ep_for("127.0.0.1", port);
    check_report_init(&r);
    assert_true(netprobe_tcp(&ep, &r));
    assert_status(only_result(&r, "tcp"), CHECK_PASS, "connected to 127.0.0.1");
    check_report_free(&r);
    close(lfd);

    snprintf(port, sizeof(port), "%d", closed_port());
    check_report_init(&r);
    assert_false(netprobe_tcp(&ep, &r));
    assert_status(only_result(&r, "tcp"), CHECK_FAIL, "refused: reachable but nothing listening");
    check_report_free(&r);
}

/* A full accept queue drops SYNs silently: a real timeout, on loopback. */
static void test_tcp_probe_timeout(void **state)
{
    char port[16];
    int p, lfd = listen_loopback(0, &p), fillers[4], nf = 0;
    struct sockaddr_in a;
    struct netprobe_endpoint ep;
    struct check_report r;
    bool timed_out = false;

    (void)state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)p);
    /* Fill the queue: connect until one attempt times out. */
    while (nf < 4 && !timed_out) {
        int fd = -1, e = 0;
        enum netprobe_tcp_status st =
            netprobe_tcp_connect((struct sockaddr *)&a, sizeof(a), 300, &fd, &e);
        if (st == NETPROBE_TCP_OK)
            fillers[nf++] = fd;
        else
            timed_out = st == NETPROBE_TCP_TIMEOUT;
    }
    assert_true(timed_out);
    snprintf(port, sizeof(port), "%d", p);
    ep = ep_for("127.0.0.1", port);
    ep.timeout_ms = 400;
    check_report_init(&r);
    assert_false(netprobe_tcp(&ep, &r));
    assert_status(only_result(&r, "tcp"), CHECK_FAIL,
                  "no answer in 400ms: routing, security group or NACL");
    check_report_free(&r);
    while (nf > 0)
        close(fillers[--nf]);
    close(lfd);
}

static void test_tcp_unix_socket(void **state)
{
    char dir[] = "/tmp/netprobe-XXXXXX", path[200];
    struct sockaddr_un su;
    struct netprobe_endpoint ep;
    struct check_report r;
    int fd;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/.s.PGSQL.5999", dir);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&su, 0, sizeof(su));
    su.sun_family = AF_UNIX;
    snprintf(su.sun_path, sizeof(su.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&su, sizeof(su)), 0);
    assert_int_equal(listen(fd, 4), 0);
    ep = ep_for(dir, "5999");
    check_report_init(&r);
    assert_true(netprobe_tcp(&ep, &r));
    assert_status(only_result(&r, "tcp"), CHECK_PASS, "accepts connections");
    check_report_free(&r);
    ep.port = "5998";
    check_report_init(&r);
    assert_false(netprobe_tcp(&ep, &r));
    assert_status(only_result(&r, "tcp"), CHECK_FAIL, "No such file");
    check_report_free(&r);
    /* TLS does not apply to a unix socket. */
    check_report_init(&r);
    assert_true(netprobe_tls(&ep, &r));
    assert_status(only_result(&r, "tls"), CHECK_SKIP, "unix socket");
    check_report_free(&r);
    close(fd);
    unlink(path);
    rmdir(dir);
}

/* ---- tls: certificates made here, a fake server in a thread ------------------------ */

struct pki {
    EVP_PKEY *ca_key, *srv_key, *other_key;
    X509 *ca, *srv, *other_ca;
    char dir[64], ca_file[128], other_file[128];
};

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san, long days)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, san ? NID_subject_alt_name : NID_basic_constraints,
                              san ? san : "critical,CA:TRUE");
    assert_non_null(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!san) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return x;
}

static void write_pem(const char *path, X509 *x)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
}

static void pki_make(struct pki *p, const char *san, long days)
{
    memset(p, 0, sizeof(*p));
    p->ca_key = EVP_EC_gen("P-256");
    p->srv_key = EVP_EC_gen("P-256");
    p->other_key = EVP_EC_gen("P-256");
    assert_non_null(p->ca_key);
    p->ca = make_cert(p->ca_key, "test CA", NULL, p->ca_key, NULL, 30);
    p->other_ca = make_cert(p->other_key, "other CA", NULL, p->other_key, NULL, 30);
    p->srv = make_cert(p->srv_key, "db.prod.test", p->ca, p->ca_key, san, days);
    snprintf(p->dir, sizeof(p->dir), "/tmp/netprobe-tls-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(p->ca_file, sizeof(p->ca_file), "%s/ca.pem", p->dir);
    snprintf(p->other_file, sizeof(p->other_file), "%s/other.pem", p->dir);
    write_pem(p->ca_file, p->ca);
    write_pem(p->other_file, p->other_ca);
}

static void pki_free(struct pki *p)
{
    unlink(p->ca_file);
    unlink(p->other_file);
    rmdir(p->dir);
    X509_free(p->ca);
    X509_free(p->srv);
    X509_free(p->other_ca);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->srv_key);
    EVP_PKEY_free(p->other_key);
}

struct fake_pg {
    int lfd, port;
    char reply; /* 'S', 'N' or anything else */
    struct pki *pki;
    bool got_ssl_request;
    pthread_t thread;
};

static void *fake_pg_main(void *arg)
{
    struct fake_pg *f = arg;
    unsigned char req[8];
    struct pollfd pl = {.fd = f->lfd, .events = POLLIN};
    size_t got = 0;
    int fd;

    if (poll(&pl, 1, 3000) != 1) /* the probe may rightly never connect (SKIP) */
        return NULL;
    fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    while (got < sizeof(req)) {
        ssize_t n = recv(fd, req + got, sizeof(req) - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    f->got_ssl_request = got == 8 && memcmp(req, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8) == 0;
    if (send(fd, &f->reply, 1, MSG_NOSIGNAL) == 1 && f->reply == 'S' && f->pki) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        SSL *ssl;
        SSL_CTX_use_certificate(ctx, f->pki->srv);
        SSL_CTX_use_PrivateKey(ctx, f->pki->srv_key);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1)
            SSL_shutdown(ssl);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        ERR_clear_error();
    }
    close(fd);
    return NULL;
}

static void fake_pg_start(struct fake_pg *f, char reply, struct pki *pki)
{
    memset(f, 0, sizeof(*f));
    f->reply = reply;
    f->pki = pki;
    f->lfd = listen_loopback(4, &f->port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_pg_main, f), 0);
}

static void fake_pg_stop(struct fake_pg *f)
{
    pthread_join(f->thread, NULL);
    close(f->lfd);
}

/* One TLS probe against a fresh fake server. */
static struct check_result tls_probe(char reply, struct pki *pki, const char *host,
                                     const char *sslmode, const char *rootcert, bool *got_request)
{
    struct fake_pg f;
    char port[16];
    struct netprobe_endpoint ep;
    struct check_report r;
    struct check_result out;

    fake_pg_start(&f, reply, pki);
    snprintf(port, sizeof(port), "%d", f.port);
    ep = ep_for(host, port);
    ep.sslmode = sslmode;
    ep.sslrootcert = rootcert;
    check_report_init(&r);
    (void)netprobe_tls(&ep, &r);
    fake_pg_stop(&f);
    out = *only_result(&r, "tls");
    check_report_free(&r);
    if (got_request)
        *got_request = f.got_ssl_request;
    return out;
}

static void test_tls_server_refuses(void **state)
{
    bool got = false;
    struct check_result c;

    (void)state;
    c = tls_probe('N', NULL, "127.0.0.1", "verify-full", NULL, &got);
    assert_true(got); /* the 8-byte SSLRequest went out as PostgreSQL expects it */
    assert_status(&c, CHECK_FAIL, "server does not support TLS");
    c = tls_probe('E', NULL, "127.0.0.1", "verify-full", NULL, NULL);
    assert_status(&c, CHECK_FAIL, "SSLRequest");
}

static void test_tls_verify(void **state)
{
    struct pki pki;
    struct check_result c;

    (void)state;
    pki_make(&pki, "DNS:db.prod.test,IP:127.0.0.1", 365);
    /* Right CA, the address is in the SAN. */
    c = tls_probe('S', &pki, "127.0.0.1", "verify-full", pki.ca_file, NULL);
    assert_status(&c, CHECK_PASS, "verified");
    /* Wrong CA. */
    c = tls_probe('S', &pki, "127.0.0.1", "verify-full", pki.other_file, NULL);
    assert_status(&c, CHECK_FAIL, "certificate verification failed");
    /* Wrong CA with sslmode=require: libpq would accept it, so a WARN. */
    c = tls_probe('S', &pki, "127.0.0.1", "require", pki.other_file, NULL);
    assert_status(&c, CHECK_WARN, "sslmode does not check it");
    /* Right CA, but sslmode=require does not verify: WARN to use verify-full. */
    c = tls_probe('S', &pki, "127.0.0.1", "require", pki.ca_file, NULL);
    assert_status(&c, CHECK_WARN, "sslmode=require");
    /* Unreadable sslrootcert. */
    c = tls_probe('S', &pki, "127.0.0.1", "verify-full", "/nonexistent/ca.pem", NULL);
    assert_status(&c, CHECK_FAIL, "cannot load sslrootcert");
    /* Loopback with sslmode=prefer: TLS not required, nothing is sent. */
    c = tls_probe('S', &pki, "127.0.0.1", "prefer", pki.ca_file, NULL);
    assert_status(&c, CHECK_SKIP, "loopback");
    pki_free(&pki);
}

static void test_tls_host_mismatch_and_expiry(void **state)
{
    struct pki pki;
    struct check_result c;

    (void)state;
    pki_make(&pki, "DNS:db.prod.test,IP:127.0.0.2", 365);
    c = tls_probe('S', &pki, "127.0.0.1", "verify-full", pki.ca_file, NULL);
    assert_status(&c, CHECK_FAIL, "does not match host name 127.0.0.1");
    /* verify-ca does not check the host name. */
    c = tls_probe('S', &pki, "127.0.0.1", "verify-ca", pki.ca_file, NULL);
    assert_status(&c, CHECK_PASS, "host name not checked");
    pki_free(&pki);

    pki_make(&pki, "IP:127.0.0.1", 10);
    c = tls_probe('S', &pki, "127.0.0.1", "verify-full", pki.ca_file, NULL);
    assert_status(&c, CHECK_WARN, "expires in");
    pki_free(&pki);
}

/* ---- login without a server -------------------------------------------------------- */

static void test_login_failures(void **state)
{
    char port[16], dir[] = "/tmp/netprobe-login-XXXXXX";
    const char *kw[] = {"host", "port", "dbname", "user", "password", "connect_timeout", NULL};
    const char *val[] = {"127.0.0.1", port, "db", "u", "s3cret-pw", "30", NULL};
    struct netprobe_endpoint ep;
    struct check_report r;

    (void)state;
    snprintf(port, sizeof(port), "%d", closed_port());
    ep = ep_for("127.0.0.1", port);
    ep.pq_keywords = kw;
    ep.pq_values = val;
    check_report_init(&r);
    assert_false(netprobe_login(&ep, &r));
    assert_status(only_result(&r, "login"), CHECK_FAIL, "refused");
    assert_null(strstr(r.items[0].detail, "s3cret-pw"));
    check_report_free(&r);
    /* The privileges probes report the same cause, in their own group. */
    check_report_init(&r);
    assert_false(netprobe_source_privileges(&ep, NULL, 0, &r));
    assert_status(only_result(&r, "privileges"), CHECK_FAIL, "cannot log in");
    check_report_free(&r);
    /* No parameters at all. */
    ep.pq_keywords = NULL;
    check_report_init(&r);
    assert_false(netprobe_login(&ep, &r));
    assert_status(only_result(&r, "login"), CHECK_FAIL, "no usable connection parameters");
    check_report_free(&r);
    assert_non_null(mkdtemp(dir));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_subject_and_kinds),
        cmocka_unit_test(test_dns),
        cmocka_unit_test(test_tcp_connect_statuses),
        cmocka_unit_test(test_tcp_probe_pass_refused),
        cmocka_unit_test(test_tcp_probe_timeout),
        cmocka_unit_test(test_tcp_unix_socket),
        cmocka_unit_test(test_tls_server_refuses),
        cmocka_unit_test(test_tls_verify),
        cmocka_unit_test(test_tls_host_mismatch_and_expiry),
        cmocka_unit_test(test_login_failures),
    };
    signal(SIGPIPE, SIG_IGN); /* the fake server writes to clients that have gone */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
