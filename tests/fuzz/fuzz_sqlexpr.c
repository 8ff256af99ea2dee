/*
 * fuzz_sqlexpr.c: libFuzzer target for the `where:` scanner (anonymise/sqlexpr.c).
 *
 * The input is a where: text (any bytes). Properties checked (abort on violation):
 * - the scan stays inside the text (ASan) and a refusal's offset is inside it;
 * - accepted text ends outside every quote at depth 0: appending ")", ";", " --" or
 *   " slash-star" makes it refused, and "(" text ")" is accepted too;
 * - accepted text never holds a NUL byte;
 * - its words (sqlexpr_words) lie inside it, in order, never overlapping, and their
 *   count does not depend on how many are asked for;
 * - a date constant sqlexpr_numeric_date finds lies inside it, quotes included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anonymise/sqlexpr.h"

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool accepted(const char *s, size_t len)
{
    size_t at = (size_t)-1;
    const char *why = sqlexpr_check(s, len, &at);

    require(why == NULL || at <= len);
    return why == NULL;
}

static void words_in_bounds(const char *s, size_t len)
{
    bool clock, again;
    size_t n = sqlexpr_words(s, len, NULL, 0, &clock), end = 0;
    struct sqlexpr_word *w = calloc(n + 1, sizeof(*w));

    require(w != NULL);
    require(sqlexpr_words(s, len, w, n, &again) == n && again == clock);
    for (size_t i = 0; i < n; i++) {
        require(w[i].len > 0 && w[i].offset >= end && w[i].offset + w[i].len <= len);
        end = w[i].offset + w[i].len;
    }
    free(w);
}

static void date_in_bounds(const char *s, size_t len)
{
    size_t offset = 0, n = 0;

    if (!sqlexpr_numeric_date(s, len, &offset, &n))
        return;
    require(n >= 2 && offset + n <= len && s[offset] == '\'' && s[offset + n - 1] == '\'');
}

static bool accepted_with(const char *pre, const char *s, size_t len, const char *post)
{
    size_t a = strlen(pre), b = strlen(post);
    char *buf = malloc(a + len + b + 1);
    bool ok;

    require(buf != NULL);
    memcpy(buf, pre, a);
    memcpy(buf + a, s, len);
    memcpy(buf + a + len, post, b);
    ok = accepted(buf, a + len + b);
    free(buf);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    if (!accepted(s, size))
        return 0;
    require(memchr(s, '\0', size) == NULL);
    words_in_bounds(s, size);
    date_in_bounds(s, size);
    require(!accepted_with("", s, size, ")"));
    require(!accepted_with("", s, size, ";"));
    require(!accepted_with("", s, size, " --"));
    require(!accepted_with("", s, size, " /*"));
    require(accepted_with("(", s, size, ")"));
    return 0;
}
