/*
 * utf8.h: counting and stepping over UTF-8 characters, for rules whose options are in
 * characters (mask, truncate). Invalid bytes count as one character each, so a value
 * that is not valid UTF-8 is still handled in bounded steps and never read past its end.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length in bytes (1..4) of the character starting at p, given avail > 0 bytes. A byte
 * that does not start a well-formed sequence (overlong, surrogate, > U+10FFFF, cut
 * short) is a character of length 1. */
size_t utf8_char_len(const char *p, size_t avail);
/* Number of characters in s[0..len). */
size_t utf8_count(const char *s, size_t len);
/* Byte offset of the n-th character (len when the text has fewer). */
size_t utf8_offset(const char *s, size_t len, size_t n);
/* True when s[0..len) is exactly one well-formed character. */
bool utf8_is_one_char(const char *s, size_t len);
/* A copy of s to print on a terminal: control characters (a newline, ESC starting a
 * terminal sequence) as \xNN, the rest as it is. malloc'd; NULL when out of memory. */
char *utf8_printable(const char *s);

#endif
