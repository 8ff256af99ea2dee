/*
 * test_metrics.c: etl/metrics EMF lines, parsed back with jansson: the "_aws" directive,
 * the values beside it, the outcome of each exit code, nothing when disabled.
 * tests/integration/metrics.sh checks the same structure on a real run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "etl/exitcode.h"
#include "etl/metrics.h"

/* Run fn with metrics into a temporary file; return its lines parsed (a JSON array). */
static json_t *capture(void (*fn)(void))
{
    FILE *f = tmpfile();
    char line[8192];
    json_t *lines = json_array();

    assert_non_null(f);
    metrics_set_output(f);
    fn();
    metrics_set_output(NULL);
    rewind(f);
    while (fgets(line, sizeof(line), f)) {
        json_error_t e;
        json_t *doc = json_loads(line, 0, &e);
        if (!doc)
            fail_msg("not JSON: %s (%s)", line, e.text);
        assert_non_null(strchr(line, '\n'));
        json_array_append_new(lines, doc);
    }
    fclose(f);
    return lines;
}

/* The directive names exactly `metrics` (in order) with dimension `dim`, values present. */
static void check_doc(json_t *doc, const char *dim, const char *const *metrics, size_t n)
{
    json_t *aws = json_object_get(doc, "_aws");
    json_t *ts = json_object_get(aws, "Timestamp");
    json_t *d = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    json_t *defs = json_object_get(d, "Metrics");
    long long now_ms = (long long)time(NULL) * 1000;

    assert_true(json_is_integer(ts));
    assert_true(llabs((long long)json_integer_value(ts) - now_ms) < 5000);
    assert_int_equal(json_array_size(json_object_get(aws, "CloudWatchMetrics")), 1);
    assert_string_equal(json_string_value(json_object_get(d, "Namespace")), "anonetl");
    assert_string_equal(
        json_string_value(json_array_get(json_array_get(json_object_get(d, "Dimensions"), 0), 0)),
        dim);
    assert_true(json_is_string(json_object_get(doc, dim)));
    assert_int_equal(json_array_size(defs), n);
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(defs, i);
        assert_string_equal(json_string_value(json_object_get(m, "Name")), metrics[i]);
        assert_true(json_is_string(json_object_get(m, "Unit")));
        assert_true(json_is_number(json_object_get(doc, metrics[i])));
    }
}

static void emit_table(void)
{
    metrics_table("public.people", 1000, 990, 10, 1.25);
}

static void emit_runs(void)
{
    metrics_run(EXIT_OK, 12345, 3.5, 4);
    metrics_run(EXIT_LOCKED, 0, 0.1, 0);
    metrics_run(EXIT_POLICY, 0, 0.2, 2);
}

static void emit_disagreement(void)
{
    metrics_preflight_disagreement("path.route", "source rtb-0123456789abcdef0");
}

/* A preflight result the live probes overruled: one line per check (issue 12). */
static void test_disagreement_line(void **state)
{
    static const char *const names[] = {"PreflightDisagreements"};
    json_t *lines, *doc;

    (void)state;
    metrics_enable_emf(true);
    lines = capture(emit_disagreement);
    metrics_enable_emf(false);
    assert_int_equal(json_array_size(lines), 1);
    doc = json_array_get(lines, 0);
    check_doc(doc, "Check", names, 1);
    assert_string_equal(json_string_value(json_object_get(doc, "Check")), "path.route");
    assert_string_equal(json_string_value(json_object_get(doc, "Subject")),
                        "source rtb-0123456789abcdef0");
    assert_int_equal(json_integer_value(json_object_get(doc, "PreflightDisagreements")), 1);
    json_decref(lines);
    lines = capture(emit_disagreement); /* off: nothing */
    assert_int_equal(json_array_size(lines), 0);
    json_decref(lines);
}

static void test_table_line(void **state)
{
    static const char *const names[] = {"RowsRead", "RowsWritten", "RowsFiltered", "Duration"};
    json_t *lines;

    (void)state;
    metrics_enable_emf(true);
    lines = capture(emit_table);
    metrics_enable_emf(false);
    assert_int_equal(json_array_size(lines), 1);
    json_t *doc = json_array_get(lines, 0);
    check_doc(doc, "Table", names, 4);
    assert_string_equal(json_string_value(json_object_get(doc, "Table")), "public.people");
    assert_int_equal(json_integer_value(json_object_get(doc, "RowsRead")), 1000);
    assert_int_equal(json_integer_value(json_object_get(doc, "RowsWritten")), 990);
    assert_int_equal(json_integer_value(json_object_get(doc, "RowsFiltered")), 10);
    assert_true(json_real_value(json_object_get(doc, "Duration")) == 1.25);
    json_decref(lines);
}

static void test_run_lines(void **state)
{
    static const char *const names[] = {"Runs", "RowsWritten", "Tables", "Duration"};
    static const char *const outcomes[] = {"success", "skipped", "failed"};
    static const int codes[] = {EXIT_OK, EXIT_LOCKED, EXIT_POLICY};
    json_t *lines;

    (void)state;
    metrics_enable_emf(true);
    lines = capture(emit_runs);
    metrics_enable_emf(false);
    assert_int_equal(json_array_size(lines), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *doc = json_array_get(lines, i);
        check_doc(doc, "Outcome", names, 4);
        assert_string_equal(json_string_value(json_object_get(doc, "Outcome")), outcomes[i]);
        assert_int_equal(json_integer_value(json_object_get(doc, "ExitCode")), codes[i]);
        assert_int_equal(json_integer_value(json_object_get(doc, "Runs")), 1);
    }
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lines, 0), "RowsWritten")),
                     12345);
    json_decref(lines);
}

static void test_disabled(void **state)
{
    json_t *lines;

    (void)state;
    metrics_enable_emf(false);
    assert_false(metrics_emf_enabled());
    lines = capture(emit_table);
    assert_int_equal(json_array_size(lines), 0);
    json_decref(lines);
    lines = capture(emit_runs);
    assert_int_equal(json_array_size(lines), 0);
    json_decref(lines);
}

static void test_outcomes(void **state)
{
    (void)state;
    assert_string_equal(metrics_outcome(EXIT_OK), "success");
    assert_string_equal(metrics_outcome(EXIT_LOCKED), "skipped");
    for (int c = 1; c <= 6; c++)
        assert_string_equal(metrics_outcome(c), "failed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_line), cmocka_unit_test(test_disagreement_line),
        cmocka_unit_test(test_run_lines),  cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_outcomes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
