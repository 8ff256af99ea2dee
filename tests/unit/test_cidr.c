/* test_cidr.c: CIDR parsing, normalisation, containment and formatting (infra/cidr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "infra/cidr.h"

static struct cidr parse_ok(const char *text)
{
    struct cidr c;
    struct infra_error err = {{0}};

    if (!cidr_parse(text, &c, &err))
        fail_msg("cidr_parse(%s): %s", text, err.msg);
    return c;
}

static void assert_format(const char *text, const char *want)
{
    struct cidr c = parse_ok(text);
    char buf[CIDR_TEXT_MAX];

    cidr_format(&c, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static bool contains_text(const char *net, const char *ip)
{
    struct cidr c = parse_ok(net);
    unsigned char raw[16];

    if (inet_pton(AF_INET, ip, raw) == 1)
        return cidr_contains_raw(&c, AF_INET, raw);
    assert_int_equal(inet_pton(AF_INET6, ip, raw), 1);
    return cidr_contains_raw(&c, AF_INET6, raw);
}

static void test_parse_and_normalise(void **state)
{
    (void)state;
    assert_format("10.0.0.0/16", "10.0.0.0/16");
    assert_format("10.1.2.3/16", "10.1.0.0/16");
    assert_format("10.1.2.3/23", "10.1.2.0/23");
    assert_format("10.1.3.255/23", "10.1.2.0/23");
    assert_format("192.168.7.9", "192.168.7.9/32");
    assert_format("0.0.0.0/0", "0.0.0.0/0");
    assert_format("255.255.255.255/1", "128.0.0.0/1");
    assert_format("fd00:1:2:3::1/48", "fd00:1:2::/48");
    assert_format("fd00::1/127", "fd00::/127");
    assert_format("::1", "::1/128");
    assert_format("2001:db8::/32", "2001:db8::/32");
}

static void test_parse_errors(void **state)
{
    static const char *bad[] = {
        "",
        "10.0.0.0/",
        "10.0.0.0/33",
        "fd00::/129",
        "10.0.0/8",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/08x",
        "10.0.0.0/0008",
        "host.example/16",
        "/16",
        "10.0.0.0/16/1",
        "10.0.0.256/8",
        " 10.0.0.0/8",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff/64",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cidr c;
        struct infra_error err = {{0}};
        if (cidr_parse(bad[i], &c, &err))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
    {
        struct cidr c;
        struct infra_error err = {{0}};
        assert_false(cidr_parse(NULL, &c, &err));
        assert_false(cidr_parse_addr("db.example", &c));
        assert_true(cidr_parse_addr("10.2.3.4", &c));
        assert_int_equal(c.prefix, 32);
    }
}

static void test_contains_v4(void **state)
{
    (void)state;
    assert_true(contains_text("10.10.0.0/16", "10.10.0.1"));
    assert_true(contains_text("10.10.0.0/16", "10.10.255.255"));
    assert_false(contains_text("10.10.0.0/16", "10.11.0.1"));
    assert_false(contains_text("10.10.0.0/16", "10.9.255.255"));
    assert_true(contains_text("10.0.0.0/8", "10.200.1.1"));
    assert_true(contains_text("0.0.0.0/0", "203.0.113.10"));
    assert_true(contains_text("10.1.2.0/23", "10.1.3.7"));
    assert_false(contains_text("10.1.2.0/23", "10.1.4.7"));
    assert_true(contains_text("10.1.2.3/32", "10.1.2.3"));
    assert_false(contains_text("10.1.2.3/32", "10.1.2.4"));
    /* IPv4-mapped IPv6 against an IPv4 block; families never mix otherwise. */
    assert_true(contains_text("10.10.0.0/16", "::ffff:10.10.3.4"));
    assert_false(contains_text("10.10.0.0/16", "::ffff:10.11.3.4"));
    assert_false(contains_text("0.0.0.0/0", "fd00::1"));
    assert_false(contains_text("::/0", "10.0.0.1"));
}

static void test_contains_v6(void **state)
{
    (void)state;
    assert_true(contains_text("fd00:10::/32", "fd00:10::5"));
    assert_true(contains_text("fd00:10::/32", "fd00:10:ffff::5"));
    assert_false(contains_text("fd00:10::/32", "fd00:11::5"));
    assert_true(contains_text("fc00::/7", "fdff::1"));
    assert_false(contains_text("fc00::/7", "fe00::1"));
    assert_true(contains_text("::/0", "2001:db8::1"));
}

static void test_contains_sockaddr(void **state)
{
    struct cidr c = parse_ok("10.77.0.0/16");
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr un = {0};

    (void)state;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, "10.77.0.1", &in4.sin_addr), 1);
    assert_true(cidr_contains_sockaddr(&c, (struct sockaddr *)&in4));
    assert_int_equal(inet_pton(AF_INET, "10.78.0.1", &in4.sin_addr), 1);
    assert_false(cidr_contains_sockaddr(&c, (struct sockaddr *)&in4));
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:10.77.9.9", &in6.sin6_addr), 1);
    assert_true(cidr_contains_sockaddr(&c, (struct sockaddr *)&in6));
    un.sa_family = AF_UNIX;
    assert_false(cidr_contains_sockaddr(&c, &un));
}

static void test_covers_equal(void **state)
{
    struct cidr a = parse_ok("10.0.0.0/16"), b = parse_ok("10.0.4.0/24");
    struct cidr c = parse_ok("10.1.0.0/24"), d = parse_ok("10.0.9.9/16");

    (void)state;
    assert_true(cidr_covers(&a, &b));
    assert_false(cidr_covers(&b, &a));
    assert_false(cidr_covers(&a, &c));
    assert_true(cidr_covers(&a, &a));
    assert_true(cidr_equal(&a, &d));
    assert_false(cidr_equal(&a, &b));
    struct cidr e = parse_ok("::/0");
    assert_false(cidr_covers(&e, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_normalise), cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_contains_v4),         cmocka_unit_test(test_contains_v6),
        cmocka_unit_test(test_contains_sockaddr),   cmocka_unit_test(test_covers_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
