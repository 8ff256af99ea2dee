/*
 * config.c: load the YAML config into struct config (see config.h).
 *
 * The file is parsed once by yopts (libyaml document API, duplicate keys and aliases
 * refused), then a generic driver walks the schema tables of config_schema.c: each
 * field says its key, type, destination, default and flags, so parsing, defaults,
 * "unknown key, did you mean" and freeing all come from the same table. Every problem
 * is collected (anon_error_add) so a user fixes the file in one pass. Secret values
 * are never read here: a secret is a reference (env name, path, ARN).
 */
#include "anonymise/config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/config_schema.h"
#include "anonymise/suggest.h"

#define CONFIG_MAX_BYTES (4L * 1024 * 1024) /* a config larger than this is a mistake */
#define CONFIG_MAX_KEYS 64                  /* keys of one section, for suggestions */

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

bool config_system_schema(const char *schema)
{
    return strncmp(schema, "pg_", 3) == 0 || strcmp(schema, "information_schema") == 0;
}

/* ------------------------------------------------------------- durations */

bool config_parse_duration(const char *text, long *ms)
{
    static const struct {
        const char *unit;
        long ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *p = text;
    long n = 0;

    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (LONG_MAX - 9) / 10)
            return false;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].unit) != 0)
            continue;
        if (n > LONG_MAX / units[i].ms)
            return false;
        *ms = n * units[i].ms;
        return true;
    }
    return false;
}

/* The largest unit that divides ms exactly: 600000 -> "10min". */
static void format_duration(long ms, char *out, size_t cap)
{
    static const struct {
        const char *unit;
        long ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(out, cap, "%ld%s", ms / units[i].ms, units[i].unit);
            return;
        }
    }
    snprintf(out, cap, "%ldms", ms);
}

/* ------------------------------------------------------------ messages */

void config_error_item(struct load *L, const struct yopts *o, const char *key, size_t i,
                       const char *fmt, ...)
{
    struct yopts *list = key ? yopts_get(o, key) : NULL;
    struct yopts *item = list ? yopts_item(list, i) : NULL;
    const struct yopts *at = item ? item : list ? list : o;
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    yopts_error(at, NULL, L->err, "%s", msg);
    yopts_free(item);
    yopts_free(list);
}

/* "must be one of a, b, c (did you mean b?)" */
static void not_one_of(struct load *L, const struct yopts *o, const char *key, const char *got,
                       const char *const *words)
{
    char list[256] = "";
    size_t used = 0;
    const char *near = suggest_word(got, words);

    for (size_t i = 0; words[i] && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", words[i]);
    if (near)
        yopts_error(o, key, L->err, "must be one of %s (did you mean \"%s\"?)", list, near);
    else
        yopts_error(o, key, L->err, "must be one of %s", list);
}

/* ------------------------------------------------------ field parsers */

static void parse_str(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    const char *s;
    const char *problem;
    char **dst = AT(obj, f->off, char *);

    if (!yopts_get_string(o, f->key, &s, NULL, L->err))
        return;
    if (f->choices) {
        size_t i;
        for (i = 0; f->choices[i] && strcmp(f->choices[i], s) != 0; i++)
            ;
        if (!f->choices[i]) {
            not_one_of(L, o, f->key, s, f->choices);
            return;
        }
    }
    if (f->check && (problem = f->check(s)) != NULL) {
        yopts_error(o, f->key, L->err, "%s", problem);
        return;
    }
    free(*dst);
    *dst = strdup(s);
    if (!*dst)
        yopts_error(o, f->key, L->err, "out of memory");
}

static void parse_int(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    long v;

    if (yopts_get_int(o, f->key, f->min, f->max, &v, NULL, L->err))
        *AT(obj, f->off, int) = (int)v;
}

static void parse_bool(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    bool v;

    if (yopts_get_bool(o, f->key, &v, NULL, L->err))
        *AT(obj, f->off, bool) = v;
}

static void parse_duration(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    const char *s;
    long ms;

    if (!yopts_get_string(o, f->key, &s, NULL, L->err))
        return;
    if (!config_parse_duration(s, &ms)) {
        yopts_error(o, f->key, L->err, "expected a duration such as 500ms, 5s, 30min, 2h or 1d");
        return;
    }
    if (ms < f->min || ms > f->max) {
        char lo[32], hi[32];
        format_duration(f->min, lo, sizeof(lo));
        format_duration(f->max, hi, sizeof(hi));
        yopts_error(o, f->key, L->err, "must be between %s and %s", lo, hi);
        return;
    }
    *AT(obj, f->off, long) = ms;
}

static void parse_enum(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    const char *words[CONFIG_MAX_KEYS + 1];
    const char *s;
    size_t n = 0;

    if (!yopts_get_string(o, f->key, &s, NULL, L->err))
        return;
    for (; f->words[n].word && n < CONFIG_MAX_KEYS; n++) {
        if (strcmp(f->words[n].word, s) == 0) {
            *AT(obj, f->off, int) = f->words[n].value;
            return;
        }
        words[n] = f->words[n].word;
    }
    words[n] = NULL;
    not_one_of(L, o, f->key, s, words);
}

static bool env_name_ok(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

/* 32 or more hex digits, a digit among them: a key (openssl rand -hex 32) written where
 * the variable's name (or the file's path, the secret's ARN) goes. It would be logged as
 * "environment variable <key> is not set" at every run. (A real name has an underscore
 * or is shorter, a path a slash, an ARN colons.) */
static bool env_name_is_hex_key(const char *s)
{
    size_t n = 0;
    bool digit = false;

    for (; s[n]; n++) {
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F')))
            return false;
        digit = digit || (s[n] >= '0' && s[n] <= '9');
    }
    return n >= 32 && digit;
}

/* A DSN written in the file must not carry a password: parsed the way libpq will parse
 * it (PQconninfoParse: "password = x", quotes, URIs with user:password@ or ?password=),
 * so no spelling slips through. sslpassword (a client key's passphrase) is a secret
 * too. A DSN libpq cannot parse is refused as well (it would not connect). The text is
 * never quoted back. */
static const char *dsn_problem(const char *dsn)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &errmsg);
    const char *problem = NULL;

    if (!opts) {
        PQfreemem(errmsg);
        return "not a connection string libpq can read (keyword=value pairs or a "
               "postgresql:// URI)";
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val &&
            (strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0))
            problem = "a DSN written in the file must not contain a password: use "
                      "{ env: NAME }, { file: PATH } or { aws_secret: ARN }";
    /* the option values may hold the password: wipe them before libpq frees them */
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val)
            OPENSSL_cleanse(o->val, strlen(o->val));
    PQconninfoFree(opts);
    return problem;
}

static bool dup_into(struct load *L, const struct yopts *v, char **dst, const char *s)
{
    free(*dst);
    *dst = strdup(s);
    if (!*dst)
        yopts_error(v, NULL, L->err, "out of memory");
    return *dst != NULL;
}

static void parse_secret_literal(struct load *L, const struct yopts *v, const struct field *f,
                                 struct cfg_secret *sec)
{
    const char *s = yopts_scalar(v), *problem;

    if (!(f->flags & F_LITERAL_OK)) {
        yopts_error(v, NULL, L->err,
                    "a secret cannot be written in the file: use { env: NAME }, "
                    "{ file: PATH } or { aws_secret: ARN }");
        return;
    }
    problem = dsn_problem(s);
    if (problem) {
        yopts_error(v, NULL, L->err, "%s", problem);
        return;
    }
    if (dup_into(L, v, &sec->ref, s))
        sec->kind = CFG_SECRET_LITERAL;
}

static void parse_secret_ref(struct load *L, const struct yopts *v, struct cfg_secret *sec)
{
    static const char *const keys[] = {"env", "file", "aws_secret", "json_key", NULL};
    static const enum cfg_secret_kind kinds[] = {CFG_SECRET_ENV, CFG_SECRET_FILE, CFG_SECRET_AWS};
    const char *val[4] = {NULL, NULL, NULL, NULL};
    int found = 0, which = -1;
    bool ok = yopts_only_keys(v, keys, L->err);

    for (int i = 0; i < 4; i++) {
        ok = yopts_get_string(v, keys[i], &val[i], NULL, L->err) && ok;
        if (i < 3 && val[i]) {
            found++;
            which = i;
        }
    }
    if (!ok)
        return;
    if (found != 1) {
        yopts_error(v, NULL, L->err, "expected exactly one of env, file or aws_secret");
        return;
    }
    if (val[3] && which != 2) {
        yopts_error(v, "json_key", L->err, "only used with aws_secret");
        return;
    }
    if (which == 0 && !env_name_ok(val[0])) {
        yopts_error(v, "env", L->err, "not a valid environment variable name");
        return;
    }
    if (env_name_is_hex_key(val[which])) { /* a path or ARN of hex digits only: the key too */
        yopts_error(v, keys[which], L->err,
                    "looks like a key, not a reference to one: a secret cannot be written in "
                    "the file; name where it is ({ env: ANONETL_HASH_KEY }, { file: PATH }, "
                    "{ aws_secret: ARN })");
        return;
    }
    if (val[which][0] == '\0') {
        yopts_error(v, keys[which], L->err, "must not be empty");
        return;
    }
    if (!dup_into(L, v, &sec->ref, val[which]))
        return;
    if (val[3] && !dup_into(L, v, &sec->json_key, val[3]))
        return;
    sec->kind = kinds[which];
}

static void parse_secret(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    struct cfg_secret *sec = AT(obj, f->off, struct cfg_secret);
    struct yopts *v = yopts_get(o, f->key);

    if (!v)
        return;
    yopts_pos(v, &sec->line, &sec->column);
    switch (yopts_kind(v)) {
    case YOPTS_SCALAR:
        parse_secret_literal(L, v, f, sec);
        break;
    case YOPTS_MAPPING:
        parse_secret_ref(L, v, sec);
        break;
    default:
        yopts_error(v, NULL, L->err,
                    "expected { env: NAME }, { file: PATH } or { aws_secret: ARN }");
        break;
    }
    yopts_free(v);
}

/* The name is already in the list: a key (id, id) or quasi-identifiers (d, d) named twice
 * reached the target's ALTER TABLE (exit 5, the column's name hidden) or counted twice. */
static bool listed_before(char *const *names, size_t n, const char *s)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(names[j], s) == 0)
            return true;
    return false;
}

static void list_twice_error(struct load *L, const struct yopts *at, const char *s)
{
    char shown[64];

    yopts_shown(shown, sizeof(shown), s);
    yopts_error(at, NULL, L->err, "\"%s\" is listed twice", shown);
}

/* A list of words; a single word is accepted as a list of one. */
static void parse_strlist(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    struct yopts *v = yopts_get(o, f->key);
    char ***dst = AT(obj, f->off, char **);
    size_t *count = AT(obj, f->count_off, size_t);
    size_t n;

    if (!v)
        return;
    if (yopts_kind(v) == YOPTS_SCALAR) {
        n = 1;
    } else if (yopts_kind(v) == YOPTS_SEQUENCE) {
        n = yopts_count(v);
    } else {
        yopts_error(v, NULL, L->err, "expected a list of names");
        yopts_free(v);
        return;
    }
    if (n == 0 && (f->flags & F_NONEMPTY))
        yopts_error(v, NULL, L->err, "must not be empty");
    *dst = calloc(n ? n : 1, sizeof(char *));
    if (!*dst) {
        yopts_error(v, NULL, L->err, "out of memory");
        yopts_free(v);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct yopts *item = yopts_kind(v) == YOPTS_SCALAR ? NULL : yopts_item(v, i);
        const struct yopts *at = item ? item : v;
        const char *s = yopts_scalar(at), *problem;

        if (!s || !*s) {
            yopts_error(at, NULL, L->err, "expected a name");
        } else if (f->check && (problem = f->check(s)) != NULL) {
            yopts_error(at, NULL, L->err, "%s", problem);
        } else {
            if (listed_before(*dst, *count, s))
                list_twice_error(L, at, s);
            if (dup_into(L, at, &(*dst)[*count], s))
                (*count)++; /* a second one too: messages by index name the right item */
        }
        yopts_free(item);
    }
    yopts_free(v);
}

static void parse_sub(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    struct yopts *v = yopts_get(o, f->key);
    void *target = AT(obj, f->off, char);

    if (!v)
        return;
    if (f->flags & F_ALLOC) {
        void **p = AT(obj, f->off, void *);
        *p = calloc(1, f->sub->size);
        if (!*p) {
            yopts_error(v, NULL, L->err, "out of memory");
            yopts_free(v);
            return;
        }
        target = *p;
    }
    config_parse_section(L, v, f->sub, target);
    yopts_free(v);
}

static void parse_list(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    struct yopts *v = yopts_get(o, f->key);
    void **dst = AT(obj, f->off, void *);
    size_t *count = AT(obj, f->count_off, size_t);
    size_t n;

    if (!v)
        return;
    if (yopts_kind(v) != YOPTS_SEQUENCE) {
        yopts_error(v, NULL, L->err, "expected a list");
        yopts_free(v);
        return;
    }
    n = yopts_count(v);
    if (n == 0 && (f->flags & F_NONEMPTY))
        yopts_error(v, NULL, L->err, "must not be empty");
    *dst = calloc(n ? n : 1, f->sub->size);
    if (!*dst) {
        yopts_error(v, NULL, L->err, "out of memory");
        yopts_free(v);
        return;
    }
    *count = n;
    for (size_t i = 0; i < n; i++) {
        struct yopts *item = yopts_item(v, i);
        if (!item) {
            yopts_error(v, NULL, L->err, "out of memory");
            break;
        }
        config_parse_section(L, item, f->sub, (char *)*dst + i * f->sub->size);
        yopts_free(item);
    }
    yopts_free(v);
}

static void parse_custom(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    struct yopts *v = yopts_get(o, f->key);

    if (!v)
        return;
    f->custom(L, v, obj);
    yopts_free(v);
}

typedef void (*field_parser)(struct load *L, const struct yopts *o, const struct field *f,
                             void *obj);

static const field_parser parsers[] = {
    [F_STR] = parse_str,           [F_INT] = parse_int,     [F_BOOL] = parse_bool,
    [F_DURATION] = parse_duration, [F_ENUM] = parse_enum,   [F_SECRET] = parse_secret,
    [F_STRLIST] = parse_strlist,   [F_SECTION] = parse_sub, [F_LIST] = parse_list,
    [F_CUSTOM] = parse_custom,
};

/* ------------------------------------------------------------- sections */

static void apply_default(struct load *L, const struct yopts *o, const struct field *f, void *obj)
{
    switch (f->type) {
    case F_INT:
    case F_ENUM:
        *AT(obj, f->off, int) = (int)f->def;
        break;
    case F_BOOL:
        *AT(obj, f->off, bool) = f->def != 0;
        break;
    case F_DURATION:
        *AT(obj, f->off, long) = f->def;
        break;
    case F_STR:
        if (f->def_str && !(*AT(obj, f->off, char *) = strdup(f->def_str)))
            yopts_error(o, NULL, L->err, "out of memory");
        break;
    default:
        break;
    }
}

static size_t collect_keys(const struct section *sec, const char **keys, size_t n)
{
    for (const struct field *f = sec->fields; f->key && n < CONFIG_MAX_KEYS; f++)
        keys[n++] = f->key;
    if (sec->base)
        n = collect_keys(sec->base, keys, n);
    return n;
}

/* Defaults of a whole section that was not written (`run:` absent: jobs is still 1). */
static void section_defaults(struct load *L, const struct yopts *o, const struct section *sec,
                             void *obj)
{
    for (const struct field *f = sec->fields; f->key; f++) {
        apply_default(L, o, f, obj);
        if (f->type == F_SECTION && !(f->flags & F_ALLOC))
            section_defaults(L, o, f->sub, AT(obj, f->off, char));
    }
    if (sec->base)
        section_defaults(L, o, sec->base, AT(obj, sec->base_off, char));
}

static void parse_fields(struct load *L, const struct yopts *o, const struct section *sec,
                         void *obj)
{
    for (const struct field *f = sec->fields; f->key; f++) {
        struct yopts *v = yopts_get(o, f->key);
        apply_default(L, o, f, obj);
        if (v)
            parsers[f->type](L, o, f, obj);
        else if (f->flags & F_REQUIRED)
            yopts_error(o, NULL, L->err, "missing required key \"%s\"", f->key);
        else if (f->type == F_SECTION && !(f->flags & F_ALLOC))
            section_defaults(L, o, f->sub, AT(obj, f->off, char));
        yopts_free(v);
    }
    if (sec->base)
        parse_fields(L, o, sec->base, AT(obj, sec->base_off, char));
}

static void set_pos(const struct section *sec, const struct yopts *o, void *obj)
{
    if (!sec->has_pos)
        return;
    yopts_pos(o, AT(obj, sec->line_off, int), AT(obj, sec->col_off, int));
}

void config_parse_section(struct load *L, const struct yopts *o, const struct section *sec,
                          void *obj)
{
    const char *keys[CONFIG_MAX_KEYS + 1];
    int before = L->err->count;

    keys[collect_keys(sec, keys, 0)] = NULL;
    set_pos(sec, o, obj);
    if (yopts_kind(o) != YOPTS_MAPPING) {
        yopts_error(o, NULL, L->err, "expected a mapping");
        return;
    }
    (void)yopts_only_keys(o, keys, L->err);
    parse_fields(L, o, sec, obj);
    /* Cross-field checks only make sense on fields that parsed. */
    if (sec->check && L->err->count == before)
        sec->check(L, o, obj);
}

void config_free_section(const struct section *sec, void *obj)
{
    if (!obj)
        return;
    for (const struct field *f = sec->fields; f->key; f++) {
        switch (f->type) {
        case F_STR:
            free(*AT(obj, f->off, char *));
            break;
        case F_SECRET:
            free(AT(obj, f->off, struct cfg_secret)->ref);
            free(AT(obj, f->off, struct cfg_secret)->json_key);
            break;
        case F_STRLIST: {
            char **list = *AT(obj, f->off, char **);
            for (size_t i = 0; list && i < *AT(obj, f->count_off, size_t); i++)
                free(list[i]);
            free(list);
            break;
        }
        case F_SECTION:
            if (f->flags & F_ALLOC) {
                config_free_section(f->sub, *AT(obj, f->off, void *));
                free(*AT(obj, f->off, void *));
            } else {
                config_free_section(f->sub, AT(obj, f->off, char));
            }
            break;
        case F_LIST: {
            char *arr = *AT(obj, f->off, char *);
            for (size_t i = 0; arr && i < *AT(obj, f->count_off, size_t); i++)
                config_free_section(f->sub, arr + i * f->sub->size);
            free(arr);
            break;
        }
        case F_CUSTOM:
            if (f->release)
                f->release(obj);
            break;
        default:
            break;
        }
    }
    if (sec->base)
        config_free_section(sec->base, AT(obj, sec->base_off, char));
}

/* ---------------------------------------------------- error ordering */

struct msg_line {
    const char *text;
    size_t len;
    long line, column;
    size_t order;
};

static int by_position(const void *a, const void *b)
{
    const struct msg_line *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* "name:LINE:COL: ..." -> LINE, COL; other lines sort first, in their order. */
static void position_of(const char *name, struct msg_line *m)
{
    size_t nl = strlen(name);
    const char *p = m->text + nl + 1;
    char *end;

    m->line = m->column = 0;
    if (m->len <= nl + 1 || strncmp(m->text, name, nl) != 0 || m->text[nl] != ':')
        return;
    m->line = strtol(p, &end, 10);
    if (*end == ':')
        m->column = strtol(end + 1, NULL, 10);
}

/* Report the problems in file order, whatever order the schema found them in. */
static void sort_messages(const char *name, struct anon_error *err)
{
    char sorted[ANON_ERROR_MAX];
    struct msg_line *lines;
    size_t n = 1, used = 0;
    const char *p = err->msg;

    /* A full buffer ends in a message cut short: drop it rather than sort a stub. */
    if (strnlen(err->msg, sizeof(err->msg)) >= sizeof(err->msg) - 2) {
        char *last = strrchr(err->msg, '\n');
        if (last)
            *last = '\0';
    }
    for (const char *q = err->msg; *q; q++)
        n += *q == '\n';
    lines = calloc(n, sizeof(*lines));
    if (!lines)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *nl = strchr(p, '\n');
        lines[i].text = p;
        lines[i].len = nl ? (size_t)(nl - p) : strlen(p);
        lines[i].order = i;
        position_of(name, &lines[i]);
        p += lines[i].len + (nl ? 1 : 0);
    }
    qsort(lines, n, sizeof(*lines), by_position);
    for (size_t i = 0; i < n && used + lines[i].len + 1 < sizeof(sorted); i++) {
        memcpy(sorted + used, lines[i].text, lines[i].len);
        used += lines[i].len;
        sorted[used++] = '\n';
    }
    if (used)
        used--; /* no newline after the last line */
    sorted[used] = '\0';
    memcpy(err->msg, sorted, used + 1);
    free(lines);
}

/* ------------------------------------------------------------ the API */

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    config_free_section(&config_root, cfg);
    free(cfg->path);
    free(cfg);
}

bool config_load_buffer(const char *name, const char *text, size_t len, struct config **out,
                        struct anon_error *err)
{
    struct load L = {.err = err};
    struct yopts *root = NULL;
    struct config *cfg;
    int before = err->count;

    *out = NULL;
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !(cfg->path = strdup(name))) {
        free(cfg);
        anon_error_add(err, "%s: out of memory", name);
        return false;
    }
    L.cfg = cfg;
    if (!yopts_load(name, text, len, &root, err)) {
        config_free(cfg);
        return false;
    }
    config_parse_section(&L, root, &config_root, cfg);
    yopts_free(root);
    if (err->count != before || !config_fingerprint(cfg, err)) {
        sort_messages(name, err);
        config_free(cfg);
        return false;
    }
    *out = cfg;
    return true;
}

static char *read_file(const char *path, size_t *len, struct anon_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (!f) {
        anon_error_add(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *p;
            cap = cap ? cap * 2 : 8192;
            if (cap > (size_t)CONFIG_MAX_BYTES + 8192) { /* /dev/zero, a dump, a log */
                anon_error_add(err,
                               "%s: larger than %ld bytes (4 MiB): not a config (a config of "
                               "5,000 tables of 20 columns takes about 2 MB)",
                               path, CONFIG_MAX_BYTES);
                goto fail;
            }
            if (!(p = realloc(buf, cap))) {
                anon_error_add(err, "%s: out of memory", path);
                goto fail;
            }
            buf = p;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        anon_error_add(err, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

bool config_load(const char *path, struct config **out, struct anon_error *err)
{
    size_t len;
    char *text = read_file(path, &len, err);
    bool ok;

    *out = NULL;
    if (!text)
        return false;
    ok = config_load_buffer(path, text, len, out, err);
    free(text);
    return ok;
}

const struct cfg_column *config_find_column(const struct cfg_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_columns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return &t->columns[i];
    return NULL;
}
