/*
 * What the core's own files share and embedders do not need: the output buffer's inline
 * writers, the value writers (values.c, numbers.c) and the tokenizer's entry point.
 */
#ifndef FRAISEQL_INTERNAL_H
#define FRAISEQL_INTERNAL_H

#include <string.h>

#include "core.h"
#include "scan.h"

/* Grow a buffer to hold `extra` more bytes: 0, or -1 (out of memory). */
int fq_buf_grow(Buffer *b, ptrdiff_t extra);

/* Room for `extra` more bytes: 0, or -1 (out of memory). */
static inline int
buf_reserve(Buffer *b, ptrdiff_t extra)
{
    return FQ_LIKELY(extra <= b->cap - b->len) ? 0 : fq_buf_grow(b, extra);
}

static inline int
buf_write(Buffer *b, const char *s, ptrdiff_t n)
{
    if (buf_reserve(b, n) < 0) {
        return -1;
    }
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

static inline int
buf_char(Buffer *b, char c)
{
    if (buf_reserve(b, 1) < 0) {
        return -1;
    }
    b->data[b->len++] = c;
    return 0;
}

/*
 * Output nesting the renderer writes; deeper values go to Python. Well below MAX_DEPTH on
 * purpose: the Python builder must never fail on what the C core renders, and it does fail on
 * deep values (orjson.dumps stops at 255 levels; the projector and the JSON scalar's encoder
 * recurse two or three interpreter frames per level, against a recursion limit of 1000).
 */
#define MAX_RENDER_DEPTH 128

/* An unescaped string token (valid UTF-8 already) written as it is, between quotes. */
FQ_INLINE int
write_plain_string(Buffer *b, const unsigned char *s, const Token *t)
{
    ptrdiff_t n = t->end - t->start;
    if (n > PTRDIFF_MAX - 2 || buf_reserve(b, n + 2) < 0) {
        return RS_NOMEM;
    }
    b->data[b->len] = '"';
    copy_short(b->data + b->len + 1, (const char *)s + t->start, n);
    b->data[b->len + 1 + n] = '"';
    b->len += n + 2;
    return RS_OK;
}

/* Whether fq_write_leaf would copy this token as it is: an unescaped string of a String, ID or
 * (canonical) UUID leaf. */
FQ_INLINE int
is_plain_text_leaf(const Node *node, const unsigned char *s, const Token *t)
{
    if (node->kind != N_LEAF || t->type != T_STRING || (t->flags & F_ESCAPED)) {
        return 0;
    }
    if (node->leaf == L_STRING || node->leaf == L_ID) {
        return 1;
    }
    return node->leaf == L_UUID && is_canonical_uuid(s + t->start, t->end - t->start);
}

/* numbers.c: number tokens of text `s`; RS_* results unless said otherwise. */

/* An integer literal's value when it fits in 64 bits: 0, or -1. */
int fq_integer_value(const unsigned char *s, const Token *t, long long *out);
/* A number's value as a double (what orjson.loads then float() give): 0, or -1. */
int fq_double_value(const unsigned char *s, const Token *t, double *out);
/* An integer as Python's int prints it, bare or as a JSON string ("123"). */
int fq_write_integer(Buffer *b, long long v);
int fq_write_quoted_integer(Buffer *b, long long v);
/* A finite double as repr(float) writes it. */
int fq_write_float(Buffer *b, double v);
/* A number token in FraiseQL's canonical form: integer digits, or repr of the float. */
int fq_write_number(Buffer *b, const unsigned char *s, const Token *t);
/* Whether n bytes are a decimal that str(Decimal(...)) writes unchanged: 1 or 0. */
int fq_is_plain_decimal(const unsigned char *s, ptrdiff_t n);

/* A string token of text `s` as orjson.dumps(orjson.loads(token)) writes it. */
int fq_write_string(Buffer *b, const unsigned char *s, const Token *t);

/*
 * The value token `t` of text `s` as the leaf `node` is written by the Python builder, or
 * RS_GIVEUP. JSON leaves may hold a container (its extent in `t`): it is tokenized into `json`.
 */
int fq_write_leaf(Buffer *b, const Node *node, const unsigned char *s, const Token *t,
                  Parser *json, int depth);

/*
 * skip.c: the object or array, or any value, at `pos` (not at the end of the text), at JSON
 * depth `depth`, checked and passed over: the position after it, or -1 (invalid or too deep).
 */
ptrdiff_t fq_skip_container(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, int depth);
ptrdiff_t fq_skip_value(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, int depth);

/*
 * Validate one JSON value (the whole text) and record its values in p->tokens: 0, 1 (invalid
 * or unusual input: the Python builder decides) or -1 (out of memory).
 */
int fq_tokenize(Parser *p, const char *text, ptrdiff_t len);

#endif
