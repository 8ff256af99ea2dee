/*
 * log.h: the job's output on stderr.
 *
 * Not a terminal (cron, systemd, ECS): one JSON object per line, {"ts","level","event",
 * "run", "table", ...fields, "msg"}. A terminal: readable lines, and a live progress line
 * per table. Context (run id) is set once here, not repeated at each call. Nothing that
 * reaches this module may hold a row value, a password or the key.
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

enum log_format { LOG_AUTO = 0, LOG_TEXT, LOG_JSON };

/* One extra structured field: integers or strings. */
struct log_field {
    const char *key;
    const char *str; /* used when not NULL */
    int64_t num;
    double real; /* used when is_real */
    bool is_real;
};

#define LF_STR(k, v) ((struct log_field){.key = (k), .str = (v)})
#define LF_INT(k, v) ((struct log_field){.key = (k), .num = (int64_t)(v)})
#define LF_REAL(k, v) ((struct log_field){.key = (k), .real = (v), .is_real = true})

void log_init(enum log_format format, enum log_level min_level);
void log_set_run(const char *run_id);
bool log_is_terminal(void);

void log_emit(enum log_level level, const char *event, const char *table,
              const struct log_field *fields, int n_fields, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define log_info(event, table, ...) log_emit(LOG_INFO, event, table, NULL, 0, __VA_ARGS__)
#define log_warn(event, table, ...) log_emit(LOG_WARN, event, table, NULL, 0, __VA_ARGS__)
#define log_error(event, table, ...) log_emit(LOG_ERROR, event, table, NULL, 0, __VA_ARGS__)
#define log_debug(event, table, ...) log_emit(LOG_DEBUG, event, table, NULL, 0, __VA_ARGS__)

/* Live progress (terminal only, throttled to a few updates per second; a no-op otherwise). */
void log_progress(const char *table, uint64_t rows, double elapsed_s);
void log_progress_done(void);

#endif
