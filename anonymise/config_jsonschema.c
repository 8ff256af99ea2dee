/*
 * config_jsonschema.c: the config's JSON Schema from the field tables (see
 * config_jsonschema.h). One function per field type; sections recurse. jansson builds
 * the document, so quoting is never done by hand.
 */
#include "anonymise/config_jsonschema.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/config_schema.h"
#include "anonymise/rule.h"

#define SCHEMA_ID "https://anonetl.invalid/schema/config-v1.json"

static json_t *section_schema(const struct section *sec);

/* "500ms", "5s", "30min", "2h", "1d": config_parse_duration. */
static json_t *duration_schema(void)
{
    return json_pack("{s:s, s:s, s:s}", "type", "string", "pattern", "^[0-9]+(ms|s|min|h|d)$",
                     "description", "a duration: 500ms, 5s, 30min, 2h or 1d");
}

static json_t *secret_schema(bool literal_ok)
{
    json_t *any = json_array();

    if (literal_ok)
        json_array_append_new(any, json_pack("{s:s, s:s}", "type", "string", "description",
                                             "the value itself (no password in it)"));
    json_array_append_new(any, json_pack("{s:s, s:{s:{s:s, s:s}}, s:[s], s:b}", "type", "object",
                                         "properties", "env", "type", "string", "pattern",
                                         "^[A-Za-z_][A-Za-z0-9_]*$", "required", "env",
                                         "additionalProperties", 0));
    json_array_append_new(any, json_pack("{s:s, s:{s:{s:s, s:i}}, s:[s], s:b}", "type", "object",
                                         "properties", "file", "type", "string", "minLength", 1,
                                         "required", "file", "additionalProperties", 0));
    json_array_append_new(any,
                          json_pack("{s:s, s:{s:{s:s, s:i}, s:{s:s, s:i}}, s:[s], s:b}", "type",
                                    "object", "properties", "aws_secret", "type", "string",
                                    "minLength", 1, "json_key", "type", "string", "minLength", 1,
                                    "required", "aws_secret", "additionalProperties", 0));
    return json_pack("{s:o, s:s}", "oneOf", any, "description",
                     "a secret reference: { env: NAME }, { file: PATH } or "
                     "{ aws_secret: ARN, json_key: KEY }");
}

/* Enum words; YAML readers turn true/false into booleans, so those are accepted too. */
static json_t *enum_schema(const struct field *f)
{
    json_t *words = json_array();

    for (const struct enum_word *w = f->words; w && w->word; w++) {
        json_array_append_new(words, json_string(w->word));
        if (strcmp(w->word, "true") == 0)
            json_array_append_new(words, json_true());
        else if (strcmp(w->word, "false") == 0)
            json_array_append_new(words, json_false());
    }
    return json_pack("{s:o}", "enum", words);
}

static json_t *default_word(const struct field *f)
{
    for (const struct enum_word *w = f->words; w && w->word; w++)
        if (w->value == f->def)
            return json_string(w->word);
    return NULL;
}

/* A column's rule: a bare rule name, or a one-key mapping { rule: options }. */
static json_t *rule_schema(void)
{
    json_t *names = json_array(), *props = json_object();

    for (const struct rule_ops *const *r = rule_all(); *r; r++) {
        json_array_append_new(names, json_string((*r)->name));
        json_object_set_new(props, (*r)->name, json_pack("{s:s}", "description", (*r)->summary));
    }
    return json_pack("{s:[{s:s, s:o, s:s}, {s:s, s:o, s:i, s:i, s:b}]}", "oneOf", "type", "string",
                     "enum", names, "description",
                     "a rule written as a bare word: keep, suppress, hash, ...", "type", "object",
                     "properties", props, "minProperties", 1, "maxProperties", 1,
                     "additionalProperties", 0);
}

/* Custom fields are parsed in code; their shape is known here by key. */
static json_t *custom_schema(const struct field *f)
{
    if (strcmp(f->key, "columns") == 0)
        return json_pack("{s:s, s:i, s:o, s:s}", "type", "object", "minProperties", 1,
                         "additionalProperties", rule_schema(), "description",
                         "every source column and its rule (a column without one stops "
                         "the run)");
    if (strcmp(f->key, "name") == 0)
        return json_pack("{s:s, s:s, s:s}", "type", "string", "pattern", "^[^.]+(\\.[^.]+)?$",
                         "description", "schema.table, or table (public)");
    return json_object();
}

static json_t *string_schema(const struct field *f)
{
    json_t *s = json_pack("{s:s}", "type", "string");

    if (f->choices) {
        json_t *e = json_array();
        for (const char *const *c = f->choices; *c; c++)
            json_array_append_new(e, json_string(*c));
        json_object_set_new(s, "enum", e);
    }
    if (f->def_str)
        json_object_set_new(s, "default", json_string(f->def_str));
    return s;
}

static json_t *field_schema(const struct field *f)
{
    json_t *s = NULL;

    switch (f->type) {
    case F_STR:
        return string_schema(f);
    case F_INT:
        s = json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t)f->min,
                      "maximum", (json_int_t)f->max);
        if (f->def)
            json_object_set_new(s, "default", json_integer(f->def));
        return s;
    case F_BOOL:
        return json_pack("{s:s, s:b}", "type", "boolean", "default", f->def != 0);
    case F_DURATION:
        return duration_schema();
    case F_ENUM:
        s = enum_schema(f);
        if (default_word(f))
            json_object_set_new(s, "default", default_word(f));
        return s;
    case F_SECRET:
        return secret_schema((f->flags & F_LITERAL_OK) != 0);
    case F_STRLIST: /* a single name is a list of one */
        return json_pack("{s:[{s:s, s:{s:s}, s:i}, {s:s}]}", "anyOf", "type", "array", "items",
                         "type", "string", "minItems", (f->flags & F_NONEMPTY) ? 1 : 0, "type",
                         "string");
    case F_SECTION:
        return section_schema(f->sub);
    case F_LIST:
        return json_pack("{s:s, s:o, s:i}", "type", "array", "items", section_schema(f->sub),
                         "minItems", (f->flags & F_NONEMPTY) ? 1 : 0);
    case F_CUSTOM:
        return custom_schema(f);
    }
    return json_object();
}

static void add_fields(const struct field *fields, json_t *props, json_t *required)
{
    for (const struct field *f = fields; f && f->key; f++) {
        json_object_set_new(props, f->key, field_schema(f));
        if (f->flags & F_REQUIRED)
            json_array_append_new(required, json_string(f->key));
    }
}

static json_t *section_schema(const struct section *sec)
{
    json_t *props = json_object(), *required = json_array();
    json_t *s = json_pack("{s:s}", "type", "object");

    if (sec->base)
        add_fields(sec->base->fields, props, required);
    add_fields(sec->fields, props, required);
    json_object_set_new(s, "properties", props);
    if (json_array_size(required))
        json_object_set_new(s, "required", required);
    else
        json_decref(required);
    json_object_set_new(s, "additionalProperties", json_false());
    return s;
}

bool config_jsonschema(struct abuf *out, struct anon_error *err)
{
    json_t *doc = section_schema(&config_root);
    char *text;

    if (!doc) {
        anon_error_set(err, "schema: out of memory");
        return false;
    }
    json_object_set_new(doc, "$schema",
                        json_string("https://json-schema.org/draft/2020-12/schema"));
    json_object_set_new(doc, "$id", json_string(SCHEMA_ID));
    json_object_set_new(doc, "title", json_string("anonetl configuration (version 1)"));
    text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (!text) {
        anon_error_set(err, "schema: out of memory");
        return false;
    }
    abuf_puts(out, text);
    abuf_putc(out, '\n');
    free(text);
    if (abuf_failed(out)) {
        anon_error_set(err, "schema: output too large");
        return false;
    }
    return true;
}
