/*
 * pgerror.c: redacted PostgreSQL errors (see pgerror.h).
 *
 * Why cut at the first unknown quote instead of removing each quoted part: the server
 * does not escape quotes inside the values it quotes, so a value holding `"` would end
 * its quoted part early and leave the rest of the value outside. Cutting there is the
 * only rule a value cannot steer.
 */
#include "etl/pgerror.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "anonymise/utf8.h"

/* out[*o..] += s[0..n) when it fits whole (the terminating NUL is reserved). */
static void put(char *out, size_t size, size_t *o, const char *s, size_t n)
{
    if (*o + n >= size)
        return;
    memcpy(out + *o, s, n);
    *o += n;
}

/* The known name that msg[0..] starts with, followed by the closing quote q. */
static size_t known_at(const char *msg, char q, const char *const *known, size_t n_known)
{
    for (size_t k = 0; k < n_known; k++) {
        size_t n = known[k] ? strlen(known[k]) : 0;
        if (n > 0 && strncmp(msg, known[k], n) == 0 && msg[n] == q)
            return n;
    }
    return 0;
}

void pgerror_redact(const char *msg, const char *const *known, size_t n_known, char *out,
                    size_t size)
{
    size_t o = 0, i = 0, len;

    if (size == 0)
        return;
    len = msg ? strcspn(msg, "\r\n") : 0; /* one line: DETAIL and the rest never */
    while (i < len && o + 1 < size) {
        unsigned char c = (unsigned char)msg[i];
        size_t n;
        if (c == '"' || c == '\'') {
            n = known_at(msg + i + 1, (char)c, known, n_known);
            if (n == 0 || i + 1 + n >= len) {
                char cut[] = {(char)c, '\xe2', '\x80', '\xa6', (char)c};
                put(out, size, &o, cut, sizeof(cut));
                break;
            }
            if (o + n + 2 >= size)
                break; /* never cut a name */
            put(out, size, &o, msg + i, n + 2);
            i += n + 2;
            continue;
        }
        n = utf8_char_len(msg + i, len - i);
        if (c < 0x20 || c == 0x7f)
            put(out, size, &o, " ", 1);
        else if (n == 1 && c >= 0x80) /* not UTF-8: never pass a stray byte on */
            put(out, size, &o, "?", 1);
        else if (o + n < size)
            put(out, size, &o, msg + i, n);
        else
            break; /* never cut a character */
        i += n;
    }
    out[o] = '\0';
}

static bool value_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("_.+-", c) != NULL);
}

/* The message up to its first ": ", where PostgreSQL puts the value it is about. */
static void cut_at_colon(char *msg)
{
    char *colon = strstr(msg, ": ");

    if (colon && strlen(colon) >= 3)
        memcpy(colon, "\xe2\x80\xa6", 4); /* "…" and its NUL fit where ": x" was */
    else if (colon)
        *colon = '\0';
}

void pgerror_mask_unquoted(char *msg)
{
    char *w = msg;

    cut_at_colon(msg);
    for (const char *r = msg; *r;) {
        size_t n = 0;
        bool digit = false;
        for (; value_char(r[n]); n++)
            digit = digit || (r[n] >= '0' && r[n] <= '9');
        if (n == 0) {
            *w++ = *r++;
        } else if (digit) {
            *w++ = '#';
            r += n;
        } else {
            memmove(w, r, n);
            w += n;
            r += n;
        }
    }
    *w = '\0';
}

/* SQLSTATE classes whose messages hold no value before their colon: digits kept there
 * (see pgerror.h). */
static bool digits_name_no_value(const char *state)
{
    static const char *const classes[] = {"08", "0A", "25", "3D", "3F", "40",
                                          "42", "53", "55", "57", "58", "XX"};

    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (strncmp(state, classes[i], 2) == 0)
            return true;
    return false;
}

/* "ERROR:  " and friends, as libpq prefixes the connection's message. */
static const char *skip_severity(const char *m)
{
    static const char *const prefixes[] = {"ERROR:  ", "FATAL:  ", "PANIC:  ", "WARNING:  "};

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(m, prefixes[i], strlen(prefixes[i])) == 0)
            return m + strlen(prefixes[i]);
    return m;
}

/* A message written by PL code (RAISE in a trigger or function): free text, and so are
 * the names it may attach (RAISE ... USING COLUMN = NEW.email, TABLE = ..., SCHEMA,
 * CONSTRAINT, DATATYPE). */
static bool written_by_pl(const PGresult *res)
{
    const char *file = PQresultErrorField(res, PG_DIAG_SOURCE_FILE);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

    return (file && strncmp(file, "pl", 2) == 0) || (state && strncmp(state, "P0", 2) == 0);
}

/* A message of a statement PL code ran (its CONTEXT names the function) or a function ran
 * for the query (an internal query: query_to_xml, ts_stat): SQL built from row values
 * makes them names (EXECUTE format('SELECT %s', v) gives `column l.alice does not
 * exist`, unquoted, in a class whose messages otherwise name objects only). */
static bool run_by_code(const PGresult *res)
{
    const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);

    return (context && strstr(context, "PL/") != NULL) ||
           PQresultErrorField(res, PG_DIAG_INTERNAL_QUERY) != NULL;
}

/*
 * A message in the server's lc_messages language rather than PostgreSQL's own English
 * (a server initdb'd under fr_FR, de_DE... writes its locale there, and only a superuser
 * may set it for a session): every rule above reads English. Translations quote values
 * with their own marks (`la relation « alicesmith » n'existe pas`, `Relation »x«`, `«x»`,
 * `”x”`), which the quote cut does not know, and put them where no colon is.
 * Known by its severity (ERREUR, FEHLER for ERROR; the field PostgreSQL 9.6 added next to
 * the translated one), or, for the languages that keep ERROR (es, ja), by what the
 * redaction kept: a character outside ASCII that is not inside a quoted known name (an
 * English message's own words are ASCII; a value's quotes end the message).
 */
static bool translated(const PGresult *res, const char *redacted, const char *const *known,
                       size_t n_known)
{
    const char *sev = res ? PQresultErrorField(res, PG_DIAG_SEVERITY) : NULL;
    const char *sev_en = res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    const char *c = redacted;

    if (sev && sev_en && strcmp(sev, sev_en) != 0)
        return true;
    while (*c) {
        size_t name = 0;
        for (size_t k = 0; k < n_known && name == 0; k++)
            if (known[k] && known[k][0] && strncmp(c, known[k], strlen(known[k])) == 0)
                name = strlen(known[k]); /* quoted or not (`permission denied for table ñ`) */
        if (name > 0) {
            c += name;
        } else if (*c == '"' || *c == '\'') {
            const char *end = strchr(c + 1, *c); /* a known name or the cut's "…" */
            c = end ? end + 1 : c + strlen(c);
        } else if ((unsigned char)*c >= 0x80) {
            return true;
        } else {
            c++;
        }
    }
    return false;
}

/* A name the error reports (table, column...), unless PL code wrote it. */
static const char *name_field(const PGresult *res, bool by_pl, int code)
{
    return res && !by_pl ? PQresultErrorField(res, code) : NULL;
}

static void add_field(char *out, size_t size, size_t *o, const char *label, const char *a,
                      const char *b)
{
    char part[512];
    int n;

    if (!b || !*b)
        return;
    n = snprintf(part, sizeof(part), ", %s %s%s%s", label, a ? a : "", a ? "." : "", b);
    if (n > 0)
        put(out, size, o, part, (size_t)n < sizeof(part) ? (size_t)n : sizeof(part) - 1);
}

/* The server's shared lock table is full (53200, out of shared memory, its hint naming
 * the setting: a setting's name is never translated). A run and check --source read
 * every table in one transaction, which keeps a lock on each (and on its indexes) to its
 * end: a config of a few thousand tables fills the default table. The hint itself is
 * withheld with the rest (it is free text); this says what to do. */
#define LOCK_TABLE_ADVICE                                                                          \
    ": the server's lock table is full (one lock per table read and per index, held to the "       \
    "end of the transaction that reads every configured table): raise its "                        \
    "max_locks_per_transaction (a restart)"

static bool lock_table_full(const PGresult *res, const char *state)
{
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

    return strcmp(state, "53200") == 0 && hint && strstr(hint, "max_locks_per_transaction");
}

void pgerror_describe(const PGresult *res, const PGconn *conn, char *out, size_t size)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    bool written = res && written_by_pl(res), pl = written || (res && run_by_code(res));
    const char *schema = name_field(res, written, PG_DIAG_SCHEMA_NAME);
    const char *table = name_field(res, written, PG_DIAG_TABLE_NAME);
    const char *column = name_field(res, written, PG_DIAG_COLUMN_NAME);
    const char *constraint = name_field(res, written, PG_DIAG_CONSTRAINT_NAME);
    const char *type = name_field(res, written, PG_DIAG_DATATYPE_NAME);
    const char *known[] = {schema, table, column, constraint, type};
    char fields[600];
    size_t o = 0, m;

    if (size == 0)
        return;
    if (pl)
        snprintf(out, size,
                 "raised by a trigger or function (message withheld: it may hold "
                 "row values)");
    else if (primary)
        pgerror_redact(primary, known, sizeof(known) / sizeof(known[0]), out, size);
    else if (res && PQresultErrorMessage(res)[0])
        pgerror_redact(skip_severity(PQresultErrorMessage(res)), NULL, 0, out, size);
    else
        pgerror_redact(conn ? skip_severity(PQerrorMessage(conn)) : "no connection", NULL, 0, out,
                       size);
    if (!pl && translated(res, out, known, sizeof(known) / sizeof(known[0]))) {
        snprintf(out, size,
                 "message withheld (translated by the server's lc_messages, or holding text "
                 "other than ASCII outside quotes, where a row value can stand unrecognised)");
        pl = true; /* nothing left to cut */
    }
    if (!state || !*state)
        return;
    /* Cut at the colon in every class: a name cast from a value (to_regclass(v),
     * v::regtype) is printed there unquoted (`improper relation name (too many dotted
     * names): a.b.c.d`, 42601). */
    if (!pl && digits_name_no_value(state))
        cut_at_colon(out);
    else if (!pl)
        pgerror_mask_unquoted(out);
    fields[0] = '\0';
    add_field(fields, sizeof(fields), &o, "table", schema, table);
    add_field(fields, sizeof(fields), &o, "column", NULL, column);
    add_field(fields, sizeof(fields), &o, "constraint", NULL, constraint);
    add_field(fields, sizeof(fields), &o, "type", NULL, type);
    fields[o] = '\0';
    m = strlen(out);
    if (m + 1 < size)
        snprintf(out + m, size - m, " (SQLSTATE %.5s%s)%s", state, fields,
                 lock_table_full(res, state) ? LOCK_TABLE_ADVICE : "");
}
