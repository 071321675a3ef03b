/*
 * The lexer of the core: readers of JSON scalars (strings, numbers, true/false/null) and of
 * whitespace, checking every byte as orjson.loads would. Each takes the text, a position and
 * the length, and answers the position after what it read (or -1), so that callers keep their
 * position in a register; the Parser forms at the end move a Parser's position instead. The tokenizer
 * (tokenizer.c) and the streaming renderer (render.c) both read documents through it.
 */
#ifndef FRAISEQL_LEXER_H
#define FRAISEQL_LEXER_H

#include "internal.h"

/* The position of the first byte at or after `pos` that is not JSON whitespace. */
FQ_INLINE ptrdiff_t
lex_ws(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len)
{
    if (FQ_LIKELY(pos < len && s[pos] > ' ')) {
        return pos;
    }
    while (pos < len && s[pos] <= ' ' &&
           (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) {
        pos++;
    }
    return pos;
}

/* After ':' or ',': PostgreSQL writes one space there, which is the common case. */
FQ_INLINE ptrdiff_t
lex_separator_space(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len)
{
    if (FQ_LIKELY(pos + 1 < len && s[pos] == ' ' && s[pos + 1] > ' ')) {
        return pos + 1;
    }
    return lex_ws(s, pos, len);
}

/*
 * The string whose opening quote is at `pos`, into `t`: the position after its closing quote, or
 * -1 (invalid, or a lone surrogate).
 */
FQ_INLINE ptrdiff_t
lex_string(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, Token *t)
{
    pos++;
    uint8_t flags = 0;
    t->type = T_STRING;
    t->start = pos;
    for (;;) {
        pos = skip_plain_text(s, pos, len);
        if (pos >= len) {
            return -1;
        }
        unsigned char c = s[pos];
        if (FQ_LIKELY(c == '"')) {
            t->flags = flags;
            t->end = pos;
            return pos + 1;
        }
        if (c == '\\') {
            flags |= F_ESCAPED;
            if (pos + 1 >= len) {
                return -1;
            }
            unsigned char e = s[pos + 1];
            if (e == 'u') {
                unsigned int cp;
                if (pos + 6 > len || hex4(s + pos + 2, &cp) < 0) {
                    return -1;
                }
                pos += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned int low;
                    if (pos + 6 > len || s[pos] != '\\' || s[pos + 1] != 'u' ||
                        hex4(s + pos + 2, &low) < 0 || low < 0xDC00 || low > 0xDFFF) {
                        return -1; /* lone high surrogate: let Python report it */
                    }
                    pos += 6;
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return -1;
                }
                continue;
            }
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                e == 'r' || e == 't') {
                pos += 2;
                continue;
            }
            return -1;
        }
        if (c < 0x20) {
            return -1;
        }
        int n = utf8_sequence(s + pos, len - pos);
        if (n == 0) {
            return -1;
        }
        pos += n;
    }
}

/*
 * Whether a number's text is within the range of a double. orjson.loads rejects a document with
 * a number beyond it (1e400, 400 digits), wherever the number is, so the C core must too.
 */
static inline int
number_is_finite(const unsigned char *s, ptrdiff_t n)
{
    char stack[64];
    char *tmp = stack;
    double value;
    if (n >= (ptrdiff_t)sizeof stack) {
        tmp = fq_malloc((size_t)n + 1);
        if (tmp == NULL) {
            return 0; /* not known: Python decides */
        }
    }
    memcpy(tmp, s, (size_t)n);
    tmp[n] = '\0';
    int finite = fq_parse_double(tmp, &value) == 0;
    if (tmp != stack) {
        fq_free(tmp);
    }
    return finite;
}

static inline int
is_digit(unsigned char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* The number at `start`, into `t`: the position after it, or -1 (invalid or not finite). */
static inline ptrdiff_t
lex_number(const unsigned char *s, ptrdiff_t start, ptrdiff_t len, Token *t)
{
    ptrdiff_t pos = start;
    ptrdiff_t integer_digits = 0;
    int exponent = 0;
    t->type = T_NUMBER;
    t->flags = F_INTEGER;
    t->start = start;
    if (pos < len && s[pos] == '-') {
        pos++;
    }
    if (pos >= len) {
        return -1;
    }
    if (s[pos] == '0') {
        pos++;
    } else if (s[pos] >= '1' && s[pos] <= '9') {
        while (pos < len && is_digit(s[pos])) {
            pos++;
            integer_digits++;
        }
    } else {
        return -1;
    }
    if (pos < len && s[pos] == '.') {
        t->flags = 0;
        pos++;
        if (pos >= len || !is_digit(s[pos])) {
            return -1;
        }
        while (pos < len && is_digit(s[pos])) {
            pos++;
        }
    }
    if (pos < len && (s[pos] == 'e' || s[pos] == 'E')) {
        t->flags = 0;
        exponent = 1;
        pos++;
        if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
            pos++;
        }
        if (pos >= len || !is_digit(s[pos])) {
            return -1;
        }
        while (pos < len && is_digit(s[pos])) {
            pos++;
        }
    }
    t->end = pos;
    /* only an exponent or more than 308 integer digits can go beyond DBL_MAX (~1.8e308) */
    if ((exponent || integer_digits > 308) && !number_is_finite(s + start, pos - start)) {
        return -1;
    }
    return pos;
}

/* The word (true, false or null) of `type` at `pos`: the position after it, or -1. */
FQ_INLINE ptrdiff_t
lex_word(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, Token *t, uint8_t type,
         const char *word, ptrdiff_t n)
{
    t->type = type;
    t->flags = 0;
    t->start = pos;
    t->end = pos + n;
    if (len - pos < n || memcmp(s + pos, word, (size_t)n) != 0) {
        return -1;
    }
    return pos + n;
}

/* The value other than an object or array at `pos` (whose byte is c): after it, or -1. */
FQ_INLINE ptrdiff_t
lex_scalar(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, Token *t, unsigned char c)
{
    switch (c) {
    case '"': return lex_string(s, pos, len, t);
    case 't': return lex_word(s, pos, len, t, T_TRUE, "true", 4);
    case 'f': return lex_word(s, pos, len, t, T_FALSE, "false", 5);
    case 'n': return lex_word(s, pos, len, t, T_NULL, "null", 4);
    default:
        if (c == '-' || is_digit(c)) {
            return lex_number(s, pos, len, t);
        }
        return -1;
    }
}

/* The same readers at a Parser's position, which they move on: 0, or -1 (invalid). */

FQ_INLINE void
skip_ws(Parser *p)
{
    p->pos = lex_ws(p->s, p->pos, p->len);
}

FQ_INLINE void
skip_separator_space(Parser *p)
{
    p->pos = lex_separator_space(p->s, p->pos, p->len);
}

FQ_INLINE int
parse_string(Parser *p, Token *t)
{
    ptrdiff_t end = lex_string(p->s, p->pos, p->len, t);
    if (end < 0) {
        return -1;
    }
    p->pos = end;
    return 0;
}

FQ_INLINE int
parse_scalar(Parser *p, Token *t, unsigned char c)
{
    ptrdiff_t end = lex_scalar(p->s, p->pos, p->len, t, c);
    if (end < 0) {
        return -1;
    }
    p->pos = end;
    return 0;
}

#endif
