/*
 * What the core's own files share and embedders do not need: the output buffer's inline
 * writers and the tokenizer's entry point.
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
 * Validate a whole document and record its values in p->tokens: 0, 1 (invalid or unusual
 * input: the Python builder decides) or -1 (out of memory).
 */
int fq_tokenize(Parser *p, const char *text, ptrdiff_t len);

#endif
