/* suggest.c: nearest-word suggestions for config errors (see suggest.h). */
#include "anonymise/suggest.h"

#include <stdint.h>
#include <string.h>

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b)
{
    /* Three rolling rows of the OSA matrix: two back are needed for transpositions. */
    size_t rows[3][SUGGEST_MAX_WORD + 1];
    size_t la = strlen(a), lb = strlen(b);
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *t;

    if (la > SUGGEST_MAX_WORD || lb > SUGGEST_MAX_WORD)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

static size_t max_edits(size_t len)
{
    if (len <= 5)
        return 1;
    return len <= 8 ? 2 : 3;
}

const char *suggest_word(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX, limit = max_edits(strlen(word));

    for (size_t i = 0; candidates[i]; i++) {
        size_t d = suggest_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Never "suggest" a word sharing nothing with the typo ("ab" -> "xy"). */
    return best_d <= limit && best_d < strlen(word) ? best : NULL;
}
