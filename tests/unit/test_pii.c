/* test_pii.c: personal-data hints for keep columns (anonymise/pii): names, sampled
 * content through the scrub detectors, and the warning lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "anonymise/pii.h"
#include "anonymise/rule_json.h"
#include "anonymise/yopts.h"

struct name_case {
    const char *column;
    const char *kind; /* NULL: no hint */
};

static void test_names(void **state)
{
    static const struct name_case cases[] = {
        {"email", "an email address"},
        {"Email", "an email address"},
        {"contact_email", "an email address"},
        {"emailAddress", "an email address"},
        {"e_mail", "an email address"},
        {"mail", "an email address"},
        {"phone", "a phone number"},
        {"mobile_number", "a phone number"},
        {"tel", "a phone number"},
        {"home_tel_2", "a phone number"},
        {"name", "a person's name"},
        {"first_name", "a person's name"},
        {"firstName", "a person's name"},
        {"surname", "a person's name"},
        {"full_name", "a person's name"},
        {"display_name", "a person's name"},
        {"postcode", "a postcode"},
        {"post_code", "a postcode"},
        {"zip", "a postcode"},
        {"ZipCode", "a postcode"},
        {"dob", "a date of birth"},
        {"date_of_birth", "a date of birth"},
        {"birth_date", "a date of birth"},
        {"address_line", "an address"},
        {"home_address", "an address"},
        {"ssn", "a national identity number"},
        {"nino", "a national identity number"},
        {"ni_number", "a national identity number"},
        {"iban", "a bank account"},
        {"sort_code", "a bank account"},
        {"card_number", "a card number"},
        {"ip_address", "an IP address"},
        {"ip", "an IP address"},
        /* not people */
        {"file_name", NULL},
        {"table_name", NULL},
        {"company_name", NULL},
        {"id", NULL},
        {"status", NULL},
        {"hotel", NULL}, /* "tel" inside a word is not a word */
        {"mailing_list", NULL},
        {"zipper", NULL},
        {"telemetry", NULL},
        {"created_at", NULL},
        {"description", NULL},
        {"ip_range_start", NULL},
        {"", NULL},
        {"___", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = pii_name_kind(cases[i].column);
        if ((got == NULL) != (cases[i].kind == NULL) || (got && strcmp(got, cases[i].kind) != 0))
            fail_msg("%s: got %s, want %s", cases[i].column, got ? got : "(none)",
                     cases[i].kind ? cases[i].kind : "(none)");
    }
}

static void test_long_name(void **state)
{
    char name[600];

    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_null(pii_name_kind(name));
    for (size_t i = 1; i < sizeof(name) - 1; i += 2)
        name[i] = '_'; /* 300 one-letter words: more than the word limit */
    assert_null(pii_name_kind(name));
}

#define V(s)                                                                                       \
    {                                                                                              \
        .data = (s), .len = sizeof(s) - 1                                                          \
    }
#define VNULL                                                                                      \
    {                                                                                              \
        .data = "", .len = 0, .is_null = true                                                      \
    }

static void scan(struct pii_detector *d, const struct rule_value *v, size_t n,
                 struct pii_content *c)
{
    struct anon_error err = {0};

    if (!pii_scan_values(d, v, n, c, &err))
        fail_msg("pii_scan_values: %s", err.msg);
}

static void test_content(void **state)
{
    struct anon_error err = {0};
    struct pii_detector *d = pii_detector_new(&err);
    struct pii_content c;

    (void)state;
    if (!d)
        fail_msg("pii_detector_new: %s", err.msg);
    {
        const struct rule_value v[] = {V("all good"), VNULL,
                                       V("write to jane.doe@example.com please"), V("")};
        scan(d, v, 4, &c);
        assert_string_equal(c.kind, "email addresses");
        assert_int_equal(c.hits, 1);
        assert_int_equal(c.non_null, 3);
    }
    {
        const struct rule_value v[] = {V("4111 1111 1111 1111"), V("x")};
        scan(d, v, 2, &c);
        assert_string_equal(c.kind, "card numbers");
    }
    {
        const struct rule_value v[] = {V("GB82 WEST 1234 5698 7654 32")};
        scan(d, v, 1, &c);
        assert_string_equal(c.kind, "IBANs");
    }
    {
        /* one phone in 20 values: below the 10% threshold for phones */
        struct rule_value v[20];
        for (size_t i = 0; i < 20; i++)
            v[i] = (struct rule_value)V("nothing to see");
        v[3] = (struct rule_value)V("call 020 7946 0018");
        scan(d, v, 20, &c);
        assert_null(c.kind);
        v[7] = (struct rule_value)V("+44 7700 900123");
        scan(d, v, 20, &c);
        assert_string_equal(c.kind, "phone numbers");
        assert_int_equal(c.hits, 2);
    }
    {
        const struct rule_value v[] = {V("SW1A 1AA"), V("M1 1AE"), V("EC1A 1BB")};
        scan(d, v, 3, &c);
        assert_string_equal(c.kind, "UK postcodes");
        assert_int_equal(c.hits, 3);
    }
    {
        /* a marker already in the text is not a match; Luhn-invalid digits are no card */
        const struct rule_value v[] = {V("[EMAIL] redacted"), V("4111 1111 1111 1112"), V("1234"),
                                       VNULL, V("caf\xc3\xa9 \xff\xfe")};
        scan(d, v, 5, &c);
        assert_null(c.kind);
        assert_int_equal(c.non_null, 4);
    }
    scan(d, NULL, 0, &c);
    assert_null(c.kind);
    assert_int_equal(c.non_null, 0);
    pii_detector_free(d);
    pii_detector_free(NULL);
}

static void test_warn_column(void **state)
{
    struct anon_error err = {0};
    struct pii_detector *d = pii_detector_new(&err);
    struct rule keep = {.ops = rule_lookup("keep")}, suppress = {.ops = rule_lookup("suppress")};
    const struct rule_value emails[] = {V("a@example.com"), V("b@example.org")};
    const struct rule_value plain[] = {V("open"), V("closed")};
    struct abuf out;
    bool failed;

    (void)state;
    assert_non_null(d);
    assert_non_null(keep.ops);
    assert_non_null(suppress.ops);
    abuf_init(&out, 1 << 16);

    /* name and content both: two lines, no value in them */
    assert_int_equal(
        pii_warn_column(d, "public.people", "email", &keep, emails, 2, &out, &failed, &err), 2);
    assert_false(failed);
    assert_non_null(strstr(abuf_cstr(&out), "warning: public.people.email: rule keep, but the "
                                            "name suggests an email address"));
    assert_non_null(strstr(abuf_cstr(&out), "2 of 2 sampled values contain email addresses"));
    assert_null(strstr(abuf_cstr(&out), "example"));

    /* content only, under an innocent name */
    abuf_reset(&out);
    assert_int_equal(pii_warn_column(d, "t", "contact", &keep, emails, 2, &out, &failed, &err), 1);
    /* name only (no samples, or no detector) */
    abuf_reset(&out);
    assert_int_equal(pii_warn_column(NULL, "t", "surname", &keep, NULL, 0, &out, &failed, &err), 1);
    assert_int_equal(pii_warn_column(d, "t", "surname", &keep, plain, 2, &out, &failed, &err), 1);
    /* nothing to say */
    abuf_reset(&out);
    assert_int_equal(pii_warn_column(d, "t", "status", &keep, plain, 2, &out, &failed, &err), 0);
    /* any rule but keep is never warned about */
    assert_int_equal(pii_warn_column(d, "t", "email", &suppress, emails, 2, &out, &failed, &err),
                     0);
    assert_int_equal(out.len, 0);
    abuf_free(&out);
    pii_detector_free(d);
}

static void parse_json_rule(const char *text, struct rule *r, struct yopts **doc)
{
    struct anon_error err = {0};
    struct yopts *v;

    if (!yopts_load("t", text, strlen(text), doc, &err) || !(v = yopts_item(*doc, 0)))
        fail_msg("%s", err.msg);
    if (!rule_parse(v, r, &err))
        fail_msg("%s", err.msg);
    yopts_free(v);
}

/* json: others: keep is a keep of every key no path names: counted (refused by check and
 * run) unless it records its review (others: { keep: { reviewed: } }); keep at a
 * personal-looking key is counted (issue 10.8) unless the keep records its review */
static void test_warn_json(void **state)
{
    struct anon_error err = {0};
    struct rule open = {0}, closed = {0}, reviewed = {0};
    struct yopts *d1, *d2, *d3;
    struct abuf out;
    bool failed;

    (void)state;
    parse_json_rule("c: { json: { paths: { \"$.contact.email\": keep, \"$.id\": keep }, "
                    "others: keep } }\n",
                    &open, &d1);
    parse_json_rule(
        "c: { json: { paths: { \"$.contact.email\": { hash: {} }, \"$.tags[0]\": keep, "
        "\"$.status\": keep, \"$.phone\": { keep: { reviewed: \"office line\" } } } } }\n",
        &closed, &d2);
    parse_json_rule("c: { json: { paths: { \"$.id\": keep }, others: { keep: { reviewed: "
                    "\"ids and flags only\" } } } }\n",
                    &reviewed, &d3);
    abuf_init(&out, 1 << 16);
    assert_int_equal(pii_warn_column(NULL, "t", "doc", &open, NULL, 0, &out, &failed, &err), 2);
    assert_non_null(strstr(abuf_cstr(&out), "warning: t.doc: json others: keep publishes every "
                                            "key no path names"));
    assert_non_null(strstr(abuf_cstr(&out), "warning: t.doc: json path $.contact.email: rule "
                                            "keep, but the name suggests an email address"));
    abuf_reset(&out);
    assert_int_equal(pii_warn_column(NULL, "t", "doc", &closed, NULL, 0, &out, &failed, &err), 0);
    assert_int_equal(out.len, 0);
    assert_true(rule_json_keeps_others(&reviewed));
    assert_string_equal(rule_json_others_reviewed(&reviewed), "ids and flags only");
    assert_null(rule_json_others_reviewed(&open));
    assert_int_equal(pii_warn_column(NULL, "t", "doc", &reviewed, NULL, 0, &out, &failed, &err), 0);
    assert_int_equal(out.len, 0);
    abuf_free(&out);
    rule_free(&open);
    rule_free(&closed);
    rule_free(&reviewed);
    yopts_free(d1);
    yopts_free(d2);
    yopts_free(d3);
}

/* One text, as a json key is asked: any detector's find, whatever the thresholds of
 * pii_scan_values (a postcode or phone number is enough once). */
static void test_text_holds(void **state)
{
    struct anon_error err = {0};
    struct pii_detector *d = pii_detector_new(&err);
    const char *personal[] = {"SW1A1AA", "AB123456C", "GB82WEST12345698765432", "tel-07700900123",
                              "alice@example.com"};
    const char *plain[] = {"status_code", "M1", "guardians", "[EMAIL]"};
    bool holds;

    (void)state;
    assert_non_null(d);
    for (size_t i = 0; i < sizeof(personal) / sizeof(personal[0]); i++) {
        holds = false;
        assert_true(pii_text_holds(d, personal[i], strlen(personal[i]), &holds, &err));
        if (!holds)
            fail_msg("not recognised: %s", personal[i]);
    }
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        holds = true;
        assert_true(pii_text_holds(d, plain[i], strlen(plain[i]), &holds, &err));
        if (holds)
            fail_msg("taken for data: %s", plain[i]);
    }
    pii_detector_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),     cmocka_unit_test(test_long_name),
        cmocka_unit_test(test_content),   cmocka_unit_test(test_warn_column),
        cmocka_unit_test(test_warn_json), cmocka_unit_test(test_text_holds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
