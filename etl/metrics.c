/*
 * metrics.c: CloudWatch embedded metric format lines (see metrics.h).
 *
 * Each line is one self-describing document: "_aws" names the metrics and their
 * dimension keys, and the values sit beside it as top-level members, as the EMF
 * specification requires. jansson builds and serialises it; a line is written with one
 * fputs under the stream lock, so lines never interleave.
 */
#include "etl/metrics.h"

#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "etl/exitcode.h"

static bool emf_on;
static FILE *emf_out;

void metrics_enable_emf(bool on)
{
    emf_on = on;
}

bool metrics_emf_enabled(void)
{
    return emf_on;
}

void metrics_set_output(FILE *out)
{
    emf_out = out;
}

const char *metrics_outcome(int exit_code)
{
    if (exit_code == EXIT_OK)
        return "success";
    if (exit_code == EXIT_LOCKED)
        return "skipped";
    return "failed";
}

static json_int_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct metric {
    const char *name;
    const char *unit;
    json_t *value; /* owned until emitted */
};

/*
 * Build {"_aws": {...}, dimension: value, metric: number, ..., [prop: value]} and write
 * it as a line. prop may be NULL; the values in m and prop_value are consumed.
 */
static void emit(const char *dim_key, const char *dim_value, struct metric *m, size_t n,
                 const char *prop, json_t *prop_value)
{
    json_t *doc = json_object(), *defs = json_array();
    json_t *directive = json_pack("{s:s, s:[[s]], s:o}", "Namespace", METRICS_NAMESPACE,
                                  "Dimensions", dim_key, "Metrics", defs);
    char *line;

    for (size_t i = 0; i < n; i++) {
        json_array_append_new(defs, json_pack("{s:s, s:s}", "Name", m[i].name, "Unit", m[i].unit));
        json_object_set_new(doc, m[i].name, m[i].value);
    }
    if (prop)
        json_object_set_new(doc, prop, prop_value);
    json_object_set_new(doc, dim_key, json_string(dim_value ? dim_value : ""));
    json_object_set_new(
        doc, "_aws",
        json_pack("{s:I, s:[o]}", "Timestamp", now_ms(), "CloudWatchMetrics", directive));
    line = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!line)
        return; /* out of memory, or a table name that is not UTF-8: no metric, no crash */
    FILE *out = emf_out ? emf_out : stdout;
    flockfile(out);
    fputs(line, out);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
    free(line);
}

void metrics_table(const char *table, uint64_t rows_read, uint64_t rows_written,
                   uint64_t rows_filtered, double elapsed_s)
{
    if (!emf_on)
        return;
    struct metric m[] = {
        {"RowsRead", "Count", json_integer((json_int_t)rows_read)},
        {"RowsWritten", "Count", json_integer((json_int_t)rows_written)},
        {"RowsFiltered", "Count", json_integer((json_int_t)rows_filtered)},
        {"Duration", "Seconds", json_real(elapsed_s)},
    };
    emit("Table", table, m, sizeof(m) / sizeof(m[0]), NULL, NULL);
}

void metrics_run(int exit_code, uint64_t rows, double elapsed_s, size_t tables)
{
    if (!emf_on)
        return;
    struct metric m[] = {
        {"Runs", "Count", json_integer(1)},
        {"RowsWritten", "Count", json_integer((json_int_t)rows)},
        {"Tables", "Count", json_integer((json_int_t)tables)},
        {"Duration", "Seconds", json_real(elapsed_s)},
    };
    /* ExitCode rides along as a plain property (searchable in Logs Insights). */
    emit("Outcome", metrics_outcome(exit_code), m, sizeof(m) / sizeof(m[0]), "ExitCode",
         json_integer(exit_code));
}

void metrics_preflight_disagreement(const char *check, const char *subject)
{
    if (!emf_on)
        return;
    struct metric m[] = {{"PreflightDisagreements", "Count", json_integer(1)}};
    emit("Check", check, m, 1, "Subject", json_string(subject ? subject : ""));
}
