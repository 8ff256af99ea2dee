/*
 * textfold.h: text folded for matching a person's own values inside free text (scrub's
 * row_values): lowercase ASCII, and Latin letters with accents reduced to their base
 * letters ("Zoë" -> "zoe", "Łukasz" -> "lukasz", "Seán Ó Súilleabháin" -> "sean o
 * suilleabhain", "Æ" -> "ae", "ß" -> "ss"; Vietnamese "Nguyễn" -> "nguyen", Romanian
 * "Ștefan" -> "stefan", Pinyin "Lǚ" -> "lu"), so "Zoe" in a message matches the name
 * "Zoë" of its row and the reverse. An accent written as a combining mark after its
 * letter (NFD: "Zoe" U+0308) folds to nothing, as a precomposed one does. Greek and
 * Cyrillic are lowercased and lose their accents ("ΝΊΚΟΣ" and "Νίκος", "ПЕТРОВ" and
 * "Петров", "Алёна" and "Алена" match); fullwidth forms ("ａｌｉｃｅ＠…") are ASCII.
 * Spaces and punctuation outside ASCII (a no-break space, « », curly quotes, dashes, an
 * ellipsis, CJK punctuation) end a word like ASCII ones: folded to " ", "-" or "'"
 * (invisible ones to nothing). Other characters (CJK, emoji, the rest) are kept as they
 * are: they match themselves, exactly.
 *
 * A folded text keeps, for each folded byte, the offset of the source character it came
 * from, so a match in the folded text maps back to a span of the source.
 */
#ifndef TEXTFOLD_H
#define TEXTFOLD_H

#include <stdbool.h>
#include <stddef.h>

struct textfold {
    char *text; /* folded bytes, NUL-terminated */
    size_t len;
    size_t *src;   /* src[i]: source offset of folded byte i; src[len]: source length */
    size_t cap;    /* capacity of text and src */
    bool identity; /* every byte was ASCII: src[i] == i (src not filled) */
    bool owned;    /* text and src are ours (malloc), not the caller's buffers */
};

void textfold_init(struct textfold *f);
/* Start with the caller's buffers (cap bytes and cap offsets, e.g. on the stack): no
 * allocation for texts shorter than cap; longer ones move to the heap. */
void textfold_init_buffers(struct textfold *f, char *text, size_t *src, size_t cap);
void textfold_free(struct textfold *f);
/* Fold s[0..len) into f (reused: no allocation once large enough). false: out of memory. */
bool textfold_set(struct textfold *f, const char *s, size_t len);
/* The source offset of folded byte i (i <= f->len). */
static inline size_t textfold_source(const struct textfold *f, size_t i)
{
    return f->identity ? i : f->src[i];
}
/* A byte that continues a word in folded text: ASCII letters and digits, and every
 * non-ASCII byte (letters of other scripts). */
bool textfold_word_byte(unsigned char c);

#endif
