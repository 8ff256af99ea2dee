/*
 * aws_profile.c: the AWS shared config and credentials files, see aws_profile.h.
 *
 * One scanner walks the text line by line (bounded lines, no allocation) and answers one
 * lookup: a top-level key of a section, or a nested key under a top-level "key =" line.
 * Every lookup re-scans the text: the files are small and lookups few, and a single pass
 * with no stored index keeps the reader easy to fuzz.
 */
#include "infra/aws_profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define INI_LINE_MAX 4096

/* ---- INI ---- */

static bool ini_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Trim [*b, *e) of blanks. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && ini_ws(**b))
        (*b)++;
    while (*e > *b && ini_ws((*e)[-1]))
        (*e)--;
}

/* Does the section text [b, e) equal want, with whitespace runs counting as one space? */
static bool section_matches(const char *b, const char *e, const char *want)
{
    while (b < e && *want) {
        if (ini_ws(*b)) {
            if (*want != ' ')
                return false;
            while (b < e && ini_ws(*b))
                b++;
            want++;
            continue;
        }
        if (*b != *want)
            return false;
        b++;
        want++;
    }
    return b == e && *want == '\0';
}

/* One lookup: key in section, or (subkey != NULL) subkey nested under key. */
struct ini_query {
    const char *section, *key, *subkey;
    char *out;
    size_t outsz;
    bool found, section_found;
};

/* A "name = value" line [b, e): split into trimmed name and value. */
static bool split_pair(const char *b, const char *e, const char **kb, const char **ke,
                       const char **vb, const char **ve)
{
    const char *eq = memchr(b, '=', (size_t)(e - b));

    if (!eq)
        return false;
    *kb = b;
    *ke = eq;
    *vb = eq + 1;
    *ve = e;
    trim(kb, ke);
    trim(vb, ve);
    return true;
}

static bool name_is(const char *b, const char *e, const char *want)
{
    size_t n = strlen(want);

    return (size_t)(e - b) == n && strncasecmp(b, want, n) == 0;
}

static bool take_value(struct ini_query *q, const char *vb, const char *ve, size_t lineno,
                       struct infra_error *err)
{
    size_t vn = (size_t)(ve - vb);

    if (vn >= q->outsz) {
        infra_error_set(err, "line %zu: value of %s is too long", lineno,
                        q->subkey ? q->subkey : q->key);
        return false;
    }
    memcpy(q->out, vb, vn);
    q->out[vn] = '\0';
    q->found = true;
    return true;
}

/* A section header line [b, e) (starting with '['); sets *in_section. */
static bool section_line(struct ini_query *q, const char *b, const char *e, size_t lineno,
                         bool *in_section, struct infra_error *err)
{
    const char *close = memchr(b, ']', (size_t)(e - b));

    if (!close) {
        infra_error_set(err, "line %zu: section header without ']'", lineno);
        return false;
    }
    const char *rest = close + 1;
    trim(&rest, &e);
    if (rest < e && *rest != '#' && *rest != ';') {
        infra_error_set(err, "line %zu: text after the section header", lineno);
        return false;
    }
    const char *sb = b + 1, *se = close;
    trim(&sb, &se);
    if (sb == se) {
        infra_error_set(err, "line %zu: empty section name", lineno);
        return false;
    }
    *in_section = section_matches(sb, se, q->section);
    if (*in_section)
        q->section_found = true;
    return true;
}

static bool ini_scan(const char *text, size_t len, struct ini_query *q, struct infra_error *err)
{
    size_t pos = 0, lineno = 0;
    bool in_section = false, have_section = false, in_nest = false;

    q->found = q->section_found = false;
    if (q->outsz)
        q->out[0] = '\0';
    if (memchr(text, '\0', len)) {
        infra_error_set(err, "line 1: file contains a NUL byte");
        return false;
    }
    while (pos < len) {
        const char *b = text + pos, *nl = memchr(b, '\n', len - pos);
        const char *e = nl ? nl : text + len;
        const char *kb, *ke, *vb, *ve;
        lineno++;
        pos = (size_t)(e - text) + 1;
        if (e - b > INI_LINE_MAX) {
            infra_error_set(err, "line %zu: longer than %d bytes", lineno, INI_LINE_MAX);
            return false;
        }
        if (e > b && e[-1] == '\r')
            e--;
        bool indented = b < e && ini_ws(*b);
        trim(&b, &e);
        if (b == e || *b == '#' || *b == ';')
            continue;
        if (indented) { /* a nested sub-section line ("s3 =\n  x = y") */
            if (!have_section) {
                infra_error_set(err, "line %zu: indented line before any section", lineno);
                return false;
            }
            if (in_nest && !q->found && split_pair(b, e, &kb, &ke, &vb, &ve) &&
                name_is(kb, ke, q->subkey) && !take_value(q, vb, ve, lineno, err))
                return false;
            continue;
        }
        in_nest = false;
        if (*b == '[') {
            if (!section_line(q, b, e, lineno, &in_section, err))
                return false;
            have_section = true;
            continue;
        }
        if (!split_pair(b, e, &kb, &ke, &vb, &ve)) {
            infra_error_set(err, "line %zu: expected 'key = value'", lineno);
            return false;
        }
        if (!have_section) {
            infra_error_set(err, "line %zu: key outside any [section]", lineno);
            return false;
        }
        if (kb == ke) {
            infra_error_set(err, "line %zu: empty key", lineno);
            return false;
        }
        if (!in_section || q->found || !name_is(kb, ke, q->key))
            continue;
        if (q->subkey)
            in_nest = vb == ve; /* "key =" opens the nested block */
        else if (!take_value(q, vb, ve, lineno, err))
            return false;
    }
    return true;
}

bool aws_ini_get(const char *text, size_t len, const char *section, const char *key, char *out,
                 size_t outsz, bool *found, bool *section_found, struct infra_error *err)
{
    struct ini_query q = {section, key, NULL, out, outsz, false, false};
    bool ok = ini_scan(text, len, &q, err);

    *found = ok && q.found;
    if (section_found)
        *section_found = ok && q.section_found;
    return ok;
}

bool aws_ini_get_nested(const char *text, size_t len, const char *section, const char *key,
                        const char *subkey, char *out, size_t outsz, bool *found,
                        struct infra_error *err)
{
    struct ini_query q = {section, key, subkey, out, outsz, false, false};
    bool ok = ini_scan(text, len, &q, err);

    *found = ok && q.found;
    return ok;
}

/* ---- files ---- */

char *aws_profile_read_file(const char *path, size_t max, size_t *len, bool *missing,
                            struct infra_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    *missing = false;
    *len = 0;
    if (!f) {
        if (errno == ENOENT) {
            *missing = true;
            infra_error_set(err, "%s: no such file", path);
        } else {
            infra_error_set(err, "%s: %s", path, strerror(errno));
        }
        return NULL;
    }
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        infra_error_set(err, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f) || n > max) {
        infra_error_set(err, "%s: %s", path, ferror(f) ? "read error" : "file too large");
        fclose(f);
        OPENSSL_cleanse(buf, max + 1);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

void aws_profile_free_secret(char *p, size_t n)
{
    if (p) {
        OPENSSL_cleanse(p, n);
        free(p);
    }
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static bool shared_path(const char *var, const char *leaf, char *out, size_t outsz)
{
    const char *v = env(var), *home = env("HOME");

    if (v)
        return (size_t)snprintf(out, outsz, "%s", v) < outsz;
    if (!home)
        return false;
    return (size_t)snprintf(out, outsz, "%s/.aws/%s", home, leaf) < outsz;
}

static bool load_one(struct aws_shared_file *f, const char *var, const char *leaf,
                     struct infra_error *err)
{
    bool missing;
    struct infra_error e = {{0}};

    memset(f, 0, sizeof(*f));
    if (!shared_path(var, leaf, f->path, sizeof(f->path))) {
        f->path[0] = '\0';
        return true;
    }
    f->text = aws_profile_read_file(f->path, AWS_PROFILE_FILE_MAX, &f->len, &missing, &e);
    if (!f->text && !missing) {
        infra_error_set(err, "shared files: %s", e.msg);
        return false;
    }
    return true;
}

bool aws_profile_files_load(struct aws_profile_files *f, struct infra_error *err)
{
    memset(f, 0, sizeof(*f));
    if (!load_one(&f->credentials, "AWS_SHARED_CREDENTIALS_FILE", "credentials", err))
        return false;
    if (!load_one(&f->config, "AWS_CONFIG_FILE", "config", err)) {
        aws_profile_files_free(f);
        return false;
    }
    return true;
}

void aws_profile_files_free(struct aws_profile_files *f)
{
    if (!f)
        return;
    aws_profile_free_secret(f->credentials.text, f->credentials.len);
    aws_profile_free_secret(f->config.text, f->config.len);
    f->credentials.text = f->config.text = NULL;
    f->credentials.len = f->config.len = 0;
}

const char *aws_profile_name(const char *explicit_name)
{
    if (explicit_name && *explicit_name)
        return explicit_name;
    return env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
}

/* The config file's section name for a profile. */
static void config_section(const char *profile, char *out, size_t outsz)
{
    if (strcmp(profile, "default") == 0)
        snprintf(out, outsz, "default");
    else
        snprintf(out, outsz, "profile %.*s", AWS_PROFILE_NAME_MAX, profile);
}

/* Look key up in one file; errors name the file. */
static bool file_get(const struct aws_shared_file *f, const char *section, const char *key,
                     char *out, size_t outsz, bool *found, bool *sec, struct infra_error *err)
{
    struct infra_error e = {{0}};

    *found = *sec = false;
    if (!f->text)
        return true;
    if (!aws_ini_get(f->text, f->len, section, key, out, outsz, found, sec, &e)) {
        infra_error_set(err, "%s: %s", f->path, e.msg);
        return false;
    }
    return true;
}

bool aws_profile_get(const struct aws_profile_files *f, const char *profile, const char *key,
                     char *out, size_t outsz, bool *found, const char **where,
                     struct infra_error *err)
{
    char section[AWS_PROFILE_NAME_MAX + 16];
    bool sec;

    if (where)
        *where = NULL;
    if (!file_get(&f->credentials, profile, key, out, outsz, found, &sec, err))
        return false;
    if (*found) {
        if (where)
            *where = f->credentials.path;
        return true;
    }
    config_section(profile, section, sizeof(section));
    if (!file_get(&f->config, section, key, out, outsz, found, &sec, err))
        return false;
    if (*found && where)
        *where = f->config.path;
    return true;
}

bool aws_profile_exists(const struct aws_profile_files *f, const char *profile, bool *exists,
                        struct infra_error *err)
{
    char section[AWS_PROFILE_NAME_MAX + 16], v[8];
    bool found, s1, s2;

    config_section(profile, section, sizeof(section));
    if (!file_get(&f->credentials, profile, "-", v, sizeof(v), &found, &s1, err) ||
        !file_get(&f->config, section, "-", v, sizeof(v), &found, &s2, err))
        return false;
    *exists = s1 || s2;
    return true;
}

bool aws_profile_service_endpoint(const struct aws_profile_files *f, const char *profile,
                                  const char *service_id, char *out, size_t outsz, bool *found,
                                  struct infra_error *err)
{
    char services[AWS_PROFILE_NAME_MAX], section[AWS_PROFILE_NAME_MAX + 16];
    bool have;
    struct infra_error e = {{0}};

    *found = false;
    if (!aws_profile_get(f, profile, "services", services, sizeof(services), &have, NULL, err))
        return false;
    if (!have || !f->config.text)
        return true;
    snprintf(section, sizeof(section), "services %s", services);
    if (!aws_ini_get_nested(f->config.text, f->config.len, section, service_id, "endpoint_url", out,
                            outsz, found, &e)) {
        infra_error_set(err, "%s: %s", f->config.path, e.msg);
        return false;
    }
    return true;
}
