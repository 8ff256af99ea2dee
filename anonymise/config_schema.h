/*
 * config_schema.h: private to config*.c. The config file is described by tables of
 * fields (key, type, where the value goes, default, flags); one generic driver
 * (config.c) walks them to parse, apply defaults, validate and free, so a new key is
 * one table line, not a new if/strcmp branch (STYLE.md item 10).
 */
#ifndef CONFIG_SCHEMA_H
#define CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymise/config.h"
#include "anonymise/yopts.h"

enum field_type {
    F_STR,      /* char *                                                     */
    F_INT,      /* int, min..max                                              */
    F_BOOL,     /* bool                                                       */
    F_DURATION, /* long milliseconds, min..max                                */
    F_ENUM,     /* int, from `words`                                          */
    F_SECRET,   /* struct cfg_secret                                          */
    F_STRLIST,  /* char ** at off, size_t count at count_off                  */
    F_SECTION,  /* a nested mapping: struct at off (or pointer with F_ALLOC)  */
    F_LIST,     /* a sequence of `sub` items: array at off, count at count_off */
    F_CUSTOM,   /* parsed by `custom`, freed by `release`                     */
};

enum field_flags {
    F_REQUIRED = 1 << 0,
    F_LITERAL_OK = 1 << 1, /* F_SECRET: a plain string is allowed (a DSN) */
    F_ALLOC = 1 << 2,      /* F_SECTION: the struct member is a pointer, NULL when absent */
    F_NONEMPTY = 1 << 3,   /* F_LIST / F_STRLIST: at least one item */
};

struct load; /* the loader's state (config.c) */

struct enum_word {
    const char *word;
    int value;
};

struct field {
    const char *key;
    enum field_type type;
    size_t off;
    size_t count_off;
    unsigned flags;
    long def;                           /* default of F_INT/F_BOOL/F_DURATION/F_ENUM */
    const char *def_str;                /* default of F_STR */
    long min, max;                      /* F_INT; F_DURATION in ms */
    const struct enum_word *words;      /* F_ENUM (NULL word ends it) */
    const char *const *choices;         /* F_STR: the only values allowed */
    const char *(*check)(const char *); /* F_STR / F_STRLIST items: NULL or the problem */
    const struct section *sub;          /* F_SECTION / F_LIST */
    bool (*custom)(struct load *L, const struct yopts *v, void *obj);
    void (*release)(void *obj);
};

struct section {
    const struct field *fields; /* ends with key NULL */
    /* Keys of an embedded struct accepted in the same mapping (target embeds a db). */
    const struct section *base;
    size_t base_off;
    size_t size;  /* element size for F_LIST and F_ALLOC */
    bool has_pos; /* the struct has int line, column */
    size_t line_off, col_off;
    /* Checks across fields, after the fields were parsed. */
    void (*check)(struct load *L, const struct yopts *o, void *obj);
};

struct load {
    struct anon_error *err;
    struct config *cfg;
};

/* The schema (config_schema.c). */
extern const struct section config_root;

/* Driver (config.c), also used by custom handlers. */
void config_parse_section(struct load *L, const struct yopts *o, const struct section *sec,
                          void *obj);
void config_free_section(const struct section *sec, void *obj);
/* Table and config fingerprints (config_fingerprint.c). */
bool config_fingerprint(struct config *cfg, struct anon_error *err) ANON_MUST_CHECK;
/* Position of a list item / key for messages about it. */
void config_error_item(struct load *L, const struct yopts *o, const char *key, size_t i,
                       const char *fmt, ...) ANON_PRINTF(5, 6);

#endif
