/*
 * config_fingerprint.c: the config fingerprints (config.h). A table's fingerprint is
 * SHA-256 over a canonical text of everything that changes what gets published: name,
 * mode, key, watermark and lag, deletes, where, k-anonymity, and each column in config
 * order as name=rule(describe()). The config's fingerprint is SHA-256 over the table
 * fingerprints in order. Formatting, comments and connection settings do not count.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "anonymise/config_schema.h"
#include "anonymise/rule_util.h"

static const char *const mode_words[] = {"full", "incremental"};
static const char *const deletes_words[] = {"none", "soft", "key_scan"};
static const char *const kanon_words[] = {"suppress", "drop", "fail"};

static void canon_list(struct abuf *b, const char *label, char **items, size_t n)
{
    abuf_puts(b, label);
    for (size_t i = 0; i < n; i++) {
        abuf_putc(b, i ? ',' : ' ');
        rule_describe_string(b, items[i]);
    }
    abuf_putc(b, '\n');
}

static void canon_opt(struct abuf *b, const char *label, const char *s)
{
    abuf_puts(b, label);
    if (s)
        rule_describe_string(b, s);
    else
        abuf_puts(b, "-");
    abuf_putc(b, '\n');
}

/* The canonical text of a table: every setting that changes what gets published. */
static void table_canonical(const struct cfg_table *t, struct abuf *b)
{
    abuf_puts(b, "table ");
    rule_describe_string(b, t->schema);
    abuf_putc(b, '.');
    rule_describe_string(b, t->name);
    abuf_printf(b, "\nmode %s\n", mode_words[t->mode]);
    canon_list(b, "key", t->key, t->n_key);
    canon_opt(b, "watermark ", t->watermark);
    abuf_printf(b, "watermark_lag %ld\ndeletes %s\n",
                t->mode == CFG_MODE_INCREMENTAL ? cfg_watermark_lag_ms(t) : 0,
                deletes_words[t->deletes]);
    canon_opt(b, "deleted_column ", t->deleted_column);
    canon_opt(b, "where ", t->where);
    if (t->publish_as) /* only when set: fingerprints from before the key stay the same */
        canon_opt(b, "publish_as ", t->publish_as);
    if (t->k_anonymity) {
        canon_list(b, "k_anonymity", t->k_anonymity->quasi_identifiers,
                   t->k_anonymity->n_quasi_identifiers);
        abuf_printf(b, "k %d on_violation %s\n", t->k_anonymity->k,
                    kanon_words[t->k_anonymity->on_violation]);
    }
    for (size_t i = 0; i < t->n_columns; i++) {
        const struct rule *r = &t->columns[i].rule;
        abuf_puts(b, "column ");
        rule_describe_string(b, t->columns[i].name);
        abuf_printf(b, "=%s(", r->ops->name);
        r->ops->describe(r->state, b);
        abuf_puts(b, ")\n");
    }
}

bool config_fingerprint(struct config *cfg, struct anon_error *err)
{
    EVP_MD_CTX *all = EVP_MD_CTX_new();
    struct abuf b;
    bool ok = all && EVP_DigestInit_ex(all, EVP_sha256(), NULL);

    abuf_init(&b, 16 * 1024 * 1024);
    for (size_t i = 0; i < cfg->n_tables && ok; i++) {
        struct cfg_table *t = &cfg->tables[i];
        abuf_reset(&b);
        table_canonical(t, &b);
        ok = !abuf_failed(&b) && SHA256((const unsigned char *)b.data, b.len, t->fingerprint) &&
             EVP_DigestUpdate(all, t->fingerprint, sizeof(t->fingerprint));
    }
    ok = ok && EVP_DigestFinal_ex(all, cfg->fingerprint, NULL);
    if (!ok)
        anon_error_add(err, "%s: out of memory computing the fingerprint", cfg->path);
    EVP_MD_CTX_free(all);
    abuf_free(&b);
    return ok;
}
