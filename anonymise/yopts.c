/*
 * yopts.c: options reader over libyaml's document API (see yopts.h).
 *
 * yopts_load parses the whole file into a yaml_document_t once, then walks it to
 * reject what the document API lets through silently: duplicate mapping keys (libyaml
 * keeps both), aliases (a node reachable twice; refusing them keeps every later walk
 * linear and rules out cycles), explicit tags, merge keys and absurd nesting. Every struct
 * yopts is a cheap view: a node of the shared document plus the key path used in
 * messages. libyaml marks count from 0; positions here count from 1.
 */
#include "anonymise/yopts.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "anonymise/dupkeys.h"
#include "anonymise/suggest.h"

#define YOPTS_MAX_DEPTH 64
#define YOPTS_MAX_PARSE_DEPTH 1000 /* refused before the document is built (nesting_ok) */
#define YOPTS_MAX_SHOWN 48         /* longest user text quoted back in a message */

struct ydoc {
    yaml_document_t doc;
    char *name;
};

struct yopts {
    struct ydoc *d;
    bool owns;         /* the root: frees the document */
    yaml_node_t *node; /* NULL: empty options */
    char *path;
    int line, column;
};

/* ---------------------------------------------------------------- helpers */

static bool node_is_null(const yaml_node_t *n)
{
    const char *v;

    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    v = (const char *)n->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *node_kind_name(const yaml_node_t *n)
{
    if (node_is_null(n))
        return "nothing";
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    default:
        return "a scalar";
    }
}

/* Copy user text for a message: control characters become '?', long text is cut. */
static void shown(char *dst, size_t cap, const char *src)
{
    size_t i = 0;

    for (; src[i] && i + 4 < cap && i < YOPTS_MAX_SHOWN; i++)
        dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
    if (src[i] && i + 4 <= cap) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }
    dst[i] = '\0';
}

static char *path_join(const char *parent, const char *key)
{
    char k[YOPTS_MAX_SHOWN + 8];
    size_t n;
    char *p;

    shown(k, sizeof(k), key);
    n = strlen(parent) + strlen(k) + 2;
    p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", parent, parent[0] ? "." : "", k);
    return p;
}

static char *path_index(const char *parent, size_t i)
{
    size_t n = strlen(parent) + 24;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s[%zu]", parent, i);
    return p;
}

static struct yopts *wrap(struct ydoc *d, yaml_node_t *node, char *path, int line, int column)
{
    struct yopts *o;

    if (!path)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (!o) {
        free(path);
        return NULL;
    }
    o->d = d;
    o->node = node;
    o->path = path;
    if (node) {
        o->line = (int)node->start_mark.line + 1;
        o->column = (int)node->start_mark.column + 1;
    } else {
        o->line = line;
        o->column = column;
    }
    return o;
}

static yaml_node_t *get_node(const struct ydoc *d, int index)
{
    return yaml_document_get_node((yaml_document_t *)&d->doc, index);
}

static const char *scalar_text(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_mapping(const struct yopts *o)
{
    return o->node && o->node->type == YAML_MAPPING_NODE;
}

/* The i-th pair of a mapping node (caller checked the type and bound). */
static yaml_node_pair_t *pair_at(const struct yopts *o, size_t i)
{
    return o->node->data.mapping.pairs.start + i;
}

static size_t pair_count(const struct yopts *o)
{
    if (!is_mapping(o))
        return 0;
    return (size_t)(o->node->data.mapping.pairs.top - o->node->data.mapping.pairs.start);
}

/* First pair whose key is `key`, or -1. */
static long find_key(const struct yopts *o, const char *key)
{
    size_t n = pair_count(o);

    for (size_t i = 0; i < n; i++) {
        const char *k = scalar_text(get_node(o->d, pair_at(o, i)->key));
        if (k && strcmp(k, key) == 0)
            return (long)i;
    }
    return -1;
}

/* -------------------------------------------------------------- messages */

static void verror_at(const struct yopts *o, int line, int column, const char *key,
                      struct anon_error *err, const char *fmt, va_list ap) ANON_PRINTF(6, 0);

static void verror_at(const struct yopts *o, int line, int column, const char *key,
                      struct anon_error *err, const char *fmt, va_list ap)
{
    char msg[1024], k[YOPTS_MAX_SHOWN + 8] = "";
    const char *sep = o->path[0] && key ? "." : "";

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (key)
        shown(k, sizeof(k), key);
    if (!o->path[0] && !key)
        anon_error_add(err, "%s:%d:%d: %s", o->d->name, line, column, msg);
    else
        anon_error_add(err, "%s:%d:%d: %s%s%s: %s", o->d->name, line, column, o->path, sep, k, msg);
}

void yopts_error(const struct yopts *o, const char *key, struct anon_error *err, const char *fmt,
                 ...)
{
    int line = o->line, column = o->column;
    va_list ap;

    if (key) {
        long i = find_key(o, key);
        if (i >= 0) {
            yaml_node_t *v = get_node(o->d, pair_at(o, (size_t)i)->value);
            line = (int)v->start_mark.line + 1;
            column = (int)v->start_mark.column + 1;
        }
    }
    va_start(ap, fmt);
    verror_at(o, line, column, key, err, fmt, ap);
    va_end(ap);
}

void yopts_error_pos(const struct yopts *o, int line, int column, const char *key,
                     struct anon_error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    verror_at(o, line, column, key, err, fmt, ap);
    va_end(ap);
}

void yopts_key_pos(const struct yopts *o, size_t i, int *line, int *column)
{
    yaml_node_t *k;

    *line = o->line;
    *column = o->column;
    if (i >= pair_count(o))
        return;
    k = get_node(o->d, pair_at(o, i)->key);
    *line = (int)k->start_mark.line + 1;
    *column = (int)k->start_mark.column + 1;
}

void yopts_error_key_at(const struct yopts *o, size_t i, struct anon_error *err, const char *fmt,
                        ...)
{
    int line, column;
    const char *key = yopts_key_at(o, i);
    va_list ap;

    yopts_key_pos(o, i, &line, &column);
    va_start(ap, fmt);
    verror_at(o, line, column, key ? key : "?", err, fmt, ap);
    va_end(ap);
}

/* --------------------------------------------------------------- loading */

struct walk {
    struct ydoc *d;
    unsigned char *seen; /* per node index */
    size_t n_nodes;
    struct anon_error *err;
    bool fatal;
    bool tagged; /* a tag or merge key was refused: all are reported, then the load fails */
};

static void walk_node(struct walk *w, const struct yopts *at, int index, int depth);

/* An explicit tag (!secret, !env, !!binary, !!int) would change what a value means to the
 * writer and mean nothing here: refused. libyaml gives an untagged node its kind's default
 * tag, so !!str, !!map and !!seq (no-ops) are all that pass. */
static bool tag_refused(struct walk *w, const struct yopts *at, const yaml_node_t *n)
{
    static const char core[] = "tag:yaml.org,2002:";
    const char *tag = (const char *)n->tag, *want;
    char s[YOPTS_MAX_SHOWN + 8];

    switch (n->type) {
    case YAML_MAPPING_NODE:
        want = YAML_DEFAULT_MAPPING_TAG;
        break;
    case YAML_SEQUENCE_NODE:
        want = YAML_DEFAULT_SEQUENCE_TAG;
        break;
    default:
        want = YAML_DEFAULT_SCALAR_TAG;
    }
    if (!tag || strcmp(tag, want) == 0)
        return false;
    shown(s, sizeof(s), strncmp(tag, core, sizeof(core) - 1) == 0 ? tag + sizeof(core) - 1 : tag);
    w->tagged = true;
    yopts_error(at, NULL, w->err, "YAML tags (%s%s) are not supported: write the value itself",
                strncmp(tag, core, sizeof(core) - 1) == 0 ? "!!" : "", s);
    return true;
}

/* For each key of the mapping, the index of its first earlier occurrence (dupkeys.h:
 * sorted, not compared with every earlier key), or NULL when out of memory. */
static size_t *first_keys(const struct walk *w, yaml_node_pair_t *start, size_t count)
{
    struct dupkeys_item *items = calloc(count ? count : 1, sizeof(*items));
    size_t *first = calloc(count ? count : 1, sizeof(*first));
    bool ok = items && first;

    for (size_t i = 0; ok && i < count; i++)
        items[i].a = scalar_text(get_node(w->d, start[i].key));
    ok = ok && dupkeys_first(items, count, first);
    free(items);
    if (!ok) {
        free(first);
        return NULL;
    }
    return first;
}

static void walk_mapping(struct walk *w, const struct yopts *at, yaml_node_t *n, int depth)
{
    yaml_node_pair_t *start = n->data.mapping.pairs.start;
    size_t count = (size_t)(n->data.mapping.pairs.top - start);
    size_t *first = first_keys(w, start, count);

    if (!first) {
        anon_error_add(w->err, "%s: out of memory", w->d->name);
        w->fatal = true;
        return;
    }
    for (size_t i = 0; i < count && !w->fatal; i++) {
        yaml_node_t *kn = get_node(w->d, start[i].key);
        const char *k = scalar_text(kn);
        struct yopts child = {.d = w->d, .path = (char *)""};
        char *path;

        if (!k) {
            yopts_error_key_at(at, i, w->err, "mapping keys must be plain words");
            continue;
        }
        if (strcmp(k, "<<") == 0 && kn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
            /* YAML 1.1's merge key: libyaml does not merge, it would be a key named << */
            yopts_error_key_at(at, i, w->err,
                               "YAML merge keys (<<) are not supported: write the keys out");
            w->tagged = true;
            continue;
        }
        if (first[i] != DUPKEYS_NONE)
            yopts_error_key_at(at, i, w->err, "duplicate key (first at line %d)",
                               (int)get_node(w->d, start[first[i]].key)->start_mark.line + 1);
        path = path_join(at->path, k);
        if (!path) {
            anon_error_add(w->err, "%s: out of memory", w->d->name);
            w->fatal = true;
            break;
        }
        child.path = path;
        child.line = (int)kn->start_mark.line + 1; /* an alias is reported at its key */
        child.column = (int)kn->start_mark.column + 1;
        if (tag_refused(w, &child, kn)) {
            free(path);
            continue;
        }
        walk_node(w, &child, start[i].value, depth + 1);
        free(path);
    }
    free(first);
}

static void walk_sequence(struct walk *w, const struct yopts *at, yaml_node_t *n, int depth)
{
    yaml_node_item_t *start = n->data.sequence.items.start;
    size_t count = (size_t)(n->data.sequence.items.top - start);

    for (size_t i = 0; i < count && !w->fatal; i++) {
        struct yopts child = {.d = w->d, .line = at->line, .column = at->column};
        char *path = path_index(at->path, i);

        if (!path) {
            anon_error_add(w->err, "%s: out of memory", w->d->name);
            w->fatal = true;
            return;
        }
        child.path = path;
        walk_node(w, &child, start[i], depth + 1);
        free(path);
    }
}

/* `at` carries the path of the node and the position of its parent (for aliases). */
static void walk_node(struct walk *w, const struct yopts *at, int index, int depth)
{
    yaml_node_t *n = get_node(w->d, index);
    struct yopts here = *at;

    if (!n || index < 1 || (size_t)index > w->n_nodes)
        return;
    if (w->seen[index - 1]) {
        yopts_error(at, NULL, w->err, "YAML aliases (*name) are not supported");
        w->fatal = true;
        return;
    }
    w->seen[index - 1] = 1;
    if (depth > YOPTS_MAX_DEPTH) {
        yopts_error(at, NULL, w->err, "nested deeper than %d levels", YOPTS_MAX_DEPTH);
        w->fatal = true;
        return;
    }
    here.node = n;
    here.line = (int)n->start_mark.line + 1;
    here.column = (int)n->start_mark.column + 1;
    if (tag_refused(w, &here, n))
        return;
    if (n->type == YAML_MAPPING_NODE)
        walk_mapping(w, &here, n, depth);
    else if (n->type == YAML_SEQUENCE_NODE)
        walk_sequence(w, &here, n, depth);
}

/* libyaml's reader (bytes that are not UTF-8, control characters) gives no mark, only the
 * byte offset: the line and column (in characters) are counted here from the text. */
static void reader_error(const char *name, const yaml_parser_t *p, const char *text, size_t len,
                         struct anon_error *err)
{
    size_t line = 1, column = 1, end = p->problem_offset < len ? p->problem_offset : len;
    int value = p->problem_value;

    if (strstr(p->problem, "trailing") && end > 0) {
        /* the offset is the byte that does not continue the sequence: name its start,
         * the byte a Latin-1 editor wrote (caf\xe9) */
        end--;
        while (end > 0 && ((unsigned char)text[end] & 0xC0) == 0x80)
            end--;
        value = (unsigned char)text[end];
    }
    for (size_t i = 0; i < end; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            column++; /* a UTF-8 continuation byte is part of the character before it */
        }
    }
    if (!strstr(p->problem, "UTF-8")) /* a control character, a character YAML forbids */
        anon_error_add(err, "%s:%zu:%zu: %s (U+%04X)", name, line, column, p->problem,
                       (unsigned)value);
    else if (value >= 0)
        anon_error_add(err, "%s:%zu:%zu: %s (byte 0x%02X): the file must be UTF-8 text", name, line,
                       column, p->problem, (unsigned)value & 0xFFu);
    else
        anon_error_add(err, "%s:%zu:%zu: %s: the file must be UTF-8 text", name, line, column,
                       p->problem);
}

static void parser_error(const char *name, const yaml_parser_t *p, const char *text, size_t len,
                         struct anon_error *err)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->mark;
    const char *problem = p->problem ? p->problem : "cannot parse YAML";

    if (p->error == YAML_READER_ERROR && p->problem) {
        reader_error(name, p, text, len, err);
        return;
    }
    if (p->context)
        anon_error_add(err, "%s:%zu:%zu: %s (%s at line %zu)", name, m->line + 1, m->column + 1,
                       problem, p->context, p->context_mark.line + 1);
    else
        anon_error_add(err, "%s:%zu:%zu: %s", name, m->line + 1, m->column + 1, problem);
}

/* A second document after the first is a mistake (a stray `---`): refuse it. */
static bool check_single_document(const char *name, yaml_parser_t *p, const char *text, size_t len,
                                  struct anon_error *err)
{
    yaml_document_t next;
    yaml_node_t *root;
    bool ok = true;

    if (!yaml_parser_load(p, &next)) {
        parser_error(name, p, text, len, err);
        return false;
    }
    root = yaml_document_get_root_node(&next);
    if (root) {
        anon_error_add(err, "%s:%zu:%zu: only one YAML document is allowed", name,
                       root->start_mark.line + 1, root->start_mark.column + 1);
        ok = false;
    }
    yaml_document_delete(&next);
    return ok;
}

static void ydoc_free(struct ydoc *d)
{
    if (!d)
        return;
    yaml_document_delete(&d->doc);
    free(d->name);
    free(d);
}

/*
 * libyaml's scanner costs grow with the square of the flow nesting: 100,000 `[` (200 kB,
 * far under the size limit) took two minutes before the walk could refuse them past 64
 * levels. An event pass stops at YOPTS_MAX_PARSE_DEPTH first; under it, the walk's message
 * names the key path. Syntax errors are left to the load, which reports them.
 */
static bool nesting_ok(const char *name, const char *text, size_t len, struct anon_error *err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0;
    bool ok = true, done = false;

    if (!yaml_parser_initialize(&p)) {
        anon_error_add(err, "%s: out of memory", name);
        return false;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done && yaml_parser_parse(&p, &ev)) {
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
            if (++depth > YOPTS_MAX_PARSE_DEPTH) {
                anon_error_add(err, "%s:%zu:%zu: nested deeper than %d levels", name,
                               ev.start_mark.line + 1, ev.start_mark.column + 1, YOPTS_MAX_DEPTH);
                ok = false;
                done = true;
            }
        } else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (ev.type == YAML_STREAM_END_EVENT) {
            done = true;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return ok;
}

/* Nothing but spaces and line ends. */
static bool blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", text[i]) || text[i] == '\0')
            return false;
    return true;
}

static bool parse_document(struct ydoc *d, const char *text, size_t len, struct anon_error *err)
{
    yaml_parser_t parser;
    bool ok;

    if (!nesting_ok(d->name, text, len, err))
        return false;
    if (!yaml_parser_initialize(&parser)) {
        anon_error_add(err, "%s: out of memory", d->name);
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    ok = yaml_parser_load(&parser, &d->doc);
    if (!ok) {
        parser_error(d->name, &parser, text, len, err);
        memset(&d->doc, 0, sizeof(d->doc));
    } else if (!yaml_document_get_root_node(&d->doc)) {
        /* a config cut short (an upload, a copy that stopped) may keep only its comments */
        anon_error_add(err, "%s:1:1: %s", d->name,
                       blank(text, len) ? "the file is empty"
                                        : "the file holds only comments: no config in it");
        ok = false;
    } else {
        ok = check_single_document(d->name, &parser, text, len, err);
    }
    yaml_parser_delete(&parser);
    return ok;
}

bool yopts_load(const char *name, const char *text, size_t len, struct yopts **root,
                struct anon_error *err)
{
    struct ydoc *d = calloc(1, sizeof(*d));
    struct walk w = {.err = err};
    struct yopts *r = NULL;

    *root = NULL;
    if (!d || !(d->name = strdup(name))) {
        free(d);
        anon_error_add(err, "%s: out of memory", name);
        return false;
    }
    if (!parse_document(d, text, len, err))
        goto fail;
    r = wrap(d, yaml_document_get_root_node(&d->doc), strdup(""), 1, 1);
    if (!r)
        goto oom;
    r->owns = true;
    w.d = d;
    w.n_nodes = (size_t)(d->doc.nodes.top - d->doc.nodes.start);
    w.seen = calloc(w.n_nodes ? w.n_nodes : 1, 1);
    if (!w.seen)
        goto oom;
    walk_node(&w, r, 1, 0);
    free(w.seen);
    if (w.fatal || w.tagged) {
        yopts_free(r);
        return false;
    }
    *root = r;
    return true;
oom:
    anon_error_add(err, "%s: out of memory", name);
fail:
    if (r)
        yopts_free(r);
    else
        ydoc_free(d);
    return false;
}

void yopts_free(struct yopts *o)
{
    if (!o)
        return;
    if (o->owns)
        ydoc_free(o->d);
    free(o->path);
    free(o);
}

/* ------------------------------------------------------------ accessors */

void yopts_shown(char *dst, size_t cap, const char *src)
{
    if (cap)
        shown(dst, cap, src);
}

enum yopts_kind yopts_kind(const struct yopts *o)
{
    if (node_is_null(o->node))
        return YOPTS_EMPTY;
    switch (o->node->type) {
    case YAML_MAPPING_NODE:
        return YOPTS_MAPPING;
    case YAML_SEQUENCE_NODE:
        return YOPTS_SEQUENCE;
    default:
        return YOPTS_SCALAR;
    }
}

const char *yopts_path(const struct yopts *o)
{
    return o->path;
}

const char *yopts_file(const struct yopts *o)
{
    return o->d->name;
}

void yopts_pos(const struct yopts *o, int *line, int *column)
{
    *line = o->line;
    *column = o->column;
}

bool yopts_is_quoted(const struct yopts *o)
{
    return o->node && o->node->type == YAML_SCALAR_NODE &&
           (o->node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
            o->node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

const char *yopts_scalar(const struct yopts *o)
{
    return yopts_kind(o) == YOPTS_SCALAR ? scalar_text(o->node) : NULL;
}

size_t yopts_count(const struct yopts *o)
{
    if (!o->node || yopts_kind(o) == YOPTS_EMPTY)
        return 0;
    if (o->node->type == YAML_SEQUENCE_NODE)
        return (size_t)(o->node->data.sequence.items.top - o->node->data.sequence.items.start);
    return pair_count(o);
}

const char *yopts_key_at(const struct yopts *o, size_t i)
{
    if (i >= pair_count(o))
        return NULL;
    return scalar_text(get_node(o->d, pair_at(o, i)->key));
}

struct yopts *yopts_item(const struct yopts *o, size_t i)
{
    if (i >= yopts_count(o))
        return NULL;
    if (o->node->type == YAML_SEQUENCE_NODE)
        return wrap(o->d, get_node(o->d, o->node->data.sequence.items.start[i]),
                    path_index(o->path, i), 0, 0);
    {
        const char *k = yopts_key_at(o, i);
        return wrap(o->d, get_node(o->d, pair_at(o, i)->value), path_join(o->path, k ? k : "?"), 0,
                    0);
    }
}

struct yopts *yopts_get(const struct yopts *o, const char *key)
{
    long i = find_key(o, key);

    if (i < 0)
        return NULL;
    return wrap(o->d, get_node(o->d, pair_at(o, (size_t)i)->value), path_join(o->path, key), 0, 0);
}

struct yopts *yopts_empty_at(const struct yopts *o, const char *suffix)
{
    return wrap(o->d, NULL, path_join(o->path, suffix), o->line, o->column);
}

/* --------------------------------------------------------------- getters */

bool yopts_only_keys(const struct yopts *o, const char *const *allowed, struct anon_error *err)
{
    size_t n = pair_count(o);
    bool ok = true;

    if (yopts_kind(o) == YOPTS_EMPTY)
        return true;
    if (!is_mapping(o)) {
        yopts_error(o, NULL, err, "expected a mapping of options, got %s", node_kind_name(o->node));
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *k = yopts_key_at(o, i);
        const char *near;
        size_t j;

        if (!k)
            continue; /* reported at load */
        for (j = 0; allowed[j] && strcmp(allowed[j], k) != 0; j++)
            ;
        if (allowed[j])
            continue;
        near = suggest_word(k, allowed);
        if (near)
            yopts_error_key_at(o, i, err, "unknown key (did you mean \"%s\"?)", near);
        else
            yopts_error_key_at(o, i, err, "unknown key");
        ok = false;
    }
    return ok;
}

/* Common start of the mapping getters: the value node of key, or NULL when absent.
 * *bad is set when o is not a mapping (error added). */
static yaml_node_t *lookup(const struct yopts *o, const char *key, bool *present, bool *bad,
                           struct anon_error *err)
{
    long i;

    *bad = false;
    if (present)
        *present = false;
    if (yopts_kind(o) == YOPTS_EMPTY)
        return NULL;
    if (!is_mapping(o)) {
        yopts_error(o, NULL, err, "expected a mapping, got %s", node_kind_name(o->node));
        *bad = true;
        return NULL;
    }
    i = find_key(o, key);
    if (i < 0)
        return NULL;
    if (present)
        *present = true;
    return get_node(o->d, pair_at(o, (size_t)i)->value);
}

static bool plain_scalar(const yaml_node_t *v)
{
    return v->type == YAML_SCALAR_NODE && !node_is_null(v);
}

static void type_error(const struct yopts *o, const char *key, const yaml_node_t *v,
                       const char *want, struct anon_error *err)
{
    char s[YOPTS_MAX_SHOWN + 8];

    if (plain_scalar(v)) {
        shown(s, sizeof(s), (const char *)v->data.scalar.value);
        yopts_error(o, key, err, "expected %s, got \"%s\"", want, s);
    } else {
        yopts_error(o, key, err, "expected %s, got %s", want, node_kind_name(v));
    }
}

bool yopts_get_int(const struct yopts *o, const char *key, long min, long max, long *val,
                   bool *present, struct anon_error *err)
{
    bool bad;
    yaml_node_t *v = lookup(o, key, present, &bad, err);
    const char *s;
    char *end;
    long n;

    if (!v)
        return !bad;
    s = plain_scalar(v) ? (const char *)v->data.scalar.value : NULL;
    if (!s) {
        type_error(o, key, v, "an integer", err);
        return false;
    }
    errno = 0;
    n = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE ||
        !(s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9'))) {
        type_error(o, key, v, "an integer", err);
        return false;
    }
    if (n < min || n > max) {
        if (min == max)
            yopts_error(o, key, err, "must be %ld, got %ld", min, n);
        else if (max == LONG_MAX)
            yopts_error(o, key, err, "must be at least %ld, got %ld", min, n);
        else
            yopts_error(o, key, err, "must be between %ld and %ld, got %ld", min, max, n);
        return false;
    }
    *val = n;
    return true;
}

bool yopts_get_double(const struct yopts *o, const char *key, double *val, bool *present,
                      struct anon_error *err)
{
    bool bad;
    yaml_node_t *v = lookup(o, key, present, &bad, err);
    const char *s;
    char *end;
    double d;

    if (!v)
        return !bad;
    s = plain_scalar(v) ? (const char *)v->data.scalar.value : NULL;
    if (!s) {
        type_error(o, key, v, "a number", err);
        return false;
    }
    errno = 0;
    d = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d)) {
        type_error(o, key, v, "a number", err);
        return false;
    }
    *val = d;
    return true;
}

/* true/false/yes/no/on/off (any case): 1 true, 0 false, -1 neither. */
static int bool_word(const char *s)
{
    static const char *const yes[] = {"true", "yes", "on", NULL};
    static const char *const no[] = {"false", "no", "off", NULL};

    for (size_t i = 0; yes[i]; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return 1;
        if (strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

bool yopts_get_bool(const struct yopts *o, const char *key, bool *val, bool *present,
                    struct anon_error *err)
{
    bool bad;
    yaml_node_t *v = lookup(o, key, present, &bad, err);
    const char *s;
    char q[YOPTS_MAX_SHOWN + 8];
    int b;

    if (!v)
        return !bad;
    s = plain_scalar(v) ? (const char *)v->data.scalar.value : NULL;
    b = s ? bool_word(s) : -1;
    if (b >= 0 && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        *val = b == 1;
        return true;
    }
    if (b >= 0) { /* "true" in quotes is a string: not 'expected true or false, got "true"' */
        shown(q, sizeof(q), s);
        yopts_error(o, key, err,
                    "expected true or false, got the string \"%s\" (write it without quotes)", q);
        return false;
    }
    type_error(o, key, v, "true or false", err);
    return false;
}

bool yopts_get_string(const struct yopts *o, const char *key, const char **val, bool *present,
                      struct anon_error *err)
{
    bool bad;
    yaml_node_t *v = lookup(o, key, present, &bad, err);

    if (!v)
        return !bad;
    if (v->type != YAML_SCALAR_NODE || node_is_null(v)) {
        yopts_error(o, key, err, "expected a string, got %s", node_kind_name(v));
        return false;
    }
    if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length) {
        yopts_error(o, key, err, "contains a NUL character");
        return false;
    }
    *val = (const char *)v->data.scalar.value;
    return true;
}

bool yopts_get_sub(const struct yopts *o, const char *key, struct yopts **sub, bool *present,
                   struct anon_error *err)
{
    bool bad;
    yaml_node_t *v = lookup(o, key, present, &bad, err);

    *sub = NULL;
    if (!v)
        return !bad;
    *sub = wrap(o->d, v, path_join(o->path, key), 0, 0);
    if (!*sub) {
        yopts_error(o, key, err, "out of memory");
        return false;
    }
    return true;
}
