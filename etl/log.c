/* log.c: JSON lines or readable text on stderr (see log.h). */
#include "etl/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anonymise/utf8.h"

static struct {
    enum log_format format;
    enum log_level min_level;
    char run_id[64];
    bool progress_shown;
    struct timespec last_progress;
} lg = {LOG_TEXT, LOG_INFO, "", false, {0, 0}};

/* Workers log from several threads: one line at a time. */
static pthread_mutex_t lg_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_format format, enum log_level min_level)
{
    if (format == LOG_AUTO)
        format = isatty(STDERR_FILENO) ? LOG_TEXT : LOG_JSON;
    lg.format = format;
    lg.min_level = min_level;
}

void log_set_run(const char *run_id)
{
    snprintf(lg.run_id, sizeof(lg.run_id), "%s", run_id ? run_id : "");
}

bool log_is_terminal(void)
{
    return lg.format == LOG_TEXT && isatty(STDERR_FILENO);
}

static void format_ts(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void clear_progress(void)
{
    if (lg.progress_shown) {
        fputs("\r\033[K", stderr);
        lg.progress_shown = false;
    }
}

/* A JSON string even when s is not valid UTF-8 (jansson refuses it, and the line would
 * lose its message): each stray byte becomes U+FFFD. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    size_t len = strlen(s), o = 0;
    char *fixed;

    if (j)
        return j;
    fixed = malloc(len * 3 + 1);
    if (!fixed)
        return json_string("?");
    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len(s + i, len - i);
        if (n == 1 && (unsigned char)s[i] >= 0x80) {
            memcpy(fixed + o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            memcpy(fixed + o, s + i, n);
            o += n;
        }
        i += n;
    }
    fixed[o] = '\0';
    j = json_string(fixed);
    free(fixed);
    return j ? j : json_string("?");
}

static void emit_json(enum log_level level, const char *event, const char *table,
                      const struct log_field *fields, int n_fields, const char *msg)
{
    char ts[64];
    json_t *o = json_object();
    char *line;

    format_ts(ts, sizeof(ts));
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level_names[level]));
    json_object_set_new(o, "event", json_string(event));
    if (lg.run_id[0])
        json_object_set_new(o, "run", json_string(lg.run_id));
    if (table)
        json_object_set_new(o, "table", json_text(table));
    for (int i = 0; i < n_fields; i++) {
        const struct log_field *f = &fields[i];
        json_t *v = f->str       ? json_text(f->str)
                    : f->is_real ? json_real(f->real)
                                 : json_integer((json_int_t)f->num);
        json_object_set_new(o, f->key, v);
    }
    if (msg[0])
        json_object_set_new(o, "msg", json_text(msg));
    line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
    json_decref(o);
}

static void emit_text(enum log_level level, const char *table, const struct log_field *fields,
                      int n_fields, const char *msg)
{
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};

    clear_progress();
    fputs(prefix[level], stderr);
    if (table)
        fprintf(stderr, "%s: ", table);
    fputs(msg, stderr);
    for (int i = 0; i < n_fields; i++) {
        const struct log_field *f = &fields[i];
        if (f->str)
            fprintf(stderr, " %s=%s", f->key, f->str);
        else if (f->is_real)
            fprintf(stderr, " %s=%.1f", f->key, f->real);
        else
            fprintf(stderr, " %s=%lld", f->key, (long long)f->num);
    }
    fputc('\n', stderr);
}

void log_emit(enum log_level level, const char *event, const char *table,
              const struct log_field *fields, int n_fields, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    if (level < lg.min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lg_mutex);
    if (lg.format == LOG_JSON)
        emit_json(level, event, table, fields, n_fields, msg);
    else
        emit_text(level, table, fields, n_fields, msg);
    fflush(stderr);
    pthread_mutex_unlock(&lg_mutex);
}

void log_progress(const char *table, uint64_t rows, double elapsed_s)
{
    struct timespec now;
    double since;

    if (!log_is_terminal())
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    since = (double)(now.tv_sec - lg.last_progress.tv_sec) +
            (double)(now.tv_nsec - lg.last_progress.tv_nsec) / 1e9;
    if (since < 0.25)
        return;
    lg.last_progress = now;
    pthread_mutex_lock(&lg_mutex);
    fprintf(stderr, "\r\033[K  %s: %llu rows, %.0f rows/s", table, (unsigned long long)rows,
            elapsed_s > 0 ? (double)rows / elapsed_s : 0.0);
    lg.progress_shown = true;
    fflush(stderr);
    pthread_mutex_unlock(&lg_mutex);
}

void log_progress_done(void)
{
    pthread_mutex_lock(&lg_mutex);
    clear_progress();
    pthread_mutex_unlock(&lg_mutex);
}
