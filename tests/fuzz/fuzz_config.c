/*
 * fuzz_config.c: libFuzzer target for the config loader (yopts over libyaml, the
 * schema driver, every rule's option parser). A config that loads is then used: each
 * column's rule describes itself, names its output type and transforms a value and a
 * NULL, so option states that parse but cannot be used show up here.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "anonymise/abuf.h"
#include "anonymise/config.h"
#include "anonymise/hmac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_rule(const struct rule *r, const struct hmac_key *k,
                     const unsigned char *key)
{
    static const struct rule_value values[] = {
        {"2024-02-29 13:45:00+00", 22, false}, {"", 0, false}, {NULL, 0, true}};
    struct rule_output out;
    struct anon_error err;
    struct rule_ctx ctx;
    struct abuf b;
    bool is_null;

    memset(&ctx, 0, sizeof(ctx));
    ctx.key = key;
    ctx.key_len = 32;
    ctx.hmac = k;
    ctx.run_time = 1700000000;
    abuf_init(&b, 1 << 20);
    r->ops->describe(r->state, &b);
    r->ops->output(r->state, "text", &out);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        abuf_reset(&b);
        anon_error_clear(&err);
        (void)r->ops->apply(r->state, &ctx, &values[i], &b, &is_null, &err);
    }
    abuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = {1, 2, 3};
    struct anon_error err;
    struct config *cfg = NULL;
    struct hmac_key *k;

    anon_error_clear(&err);
    if (!config_load_buffer("fuzz.yaml", (const char *)data, size, &cfg, &err))
        return 0;
    k = hmac_key_new(key, sizeof(key), &err);
    for (size_t t = 0; t < cfg->n_tables; t++)
        for (size_t c = 0; c < cfg->tables[t].n_columns; c++)
            use_rule(&cfg->tables[t].columns[c].rule, k, key);
    hmac_key_free(k);
    config_free(cfg);
    return 0;
}
