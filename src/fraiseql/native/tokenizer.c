/*
 * The validating JSON tokenizer: reads one JSON value, checks every byte as orjson.loads would,
 * and records every value (and object key) in a flat array of tokens. The renderer uses it for
 * the values of JSON scalar fields, which are re-written whole (leaf.c: write_json); documents
 * themselves are read by the streaming renderer (render.c). Anything it cannot decide exactly as
 * orjson would makes it give up. Containers recurse (bounded by MAX_DEPTH).
 */
#include "lexer.h"

static ptrdiff_t
grow_tokens(Parser *p)
{
    ptrdiff_t cap = p->cap ? p->cap * 2 : 64;
    if (cap > PTRDIFF_MAX / (ptrdiff_t)sizeof(Token)) {
        return -1;
    }
    Token *grown = fq_realloc(p->tokens, (size_t)cap * sizeof(Token));
    if (grown == NULL) {
        return -1;
    }
    p->tokens = grown;
    p->cap = cap;
    return p->ntokens++;
}

/* The index of a new token, or -1 when out of memory. */
static inline ptrdiff_t
new_token(Parser *p)
{
    return FQ_LIKELY(p->ntokens < p->cap) ? p->ntokens++ : grow_tokens(p);
}

/* An object or array from its opening bracket; returns its token index, or -1 / -2 (memory). */
static ptrdiff_t
parse_container(Parser *p, int depth)
{
    ptrdiff_t index = new_token(p);
    if (index < 0) {
        return -2;
    }
    int is_object = p->s[p->pos] == '{';
    unsigned char close = is_object ? '}' : ']';
    Token *t = &p->tokens[index];
    t->type = is_object ? T_OBJECT : T_ARRAY;
    t->flags = 0;
    t->start = p->pos;
    p->pos++;
    skip_ws(p);
    ptrdiff_t count = 0;
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            if (is_object) {
                if (p->pos >= p->len || p->s[p->pos] != '"') {
                    return -1;
                }
                ptrdiff_t key = new_token(p);
                if (key < 0) {
                    return -2;
                }
                Token *k = &p->tokens[key];
                k->count = 0;
                k->next = key + 1;
                if (parse_string(p, k) < 0) {
                    return -1;
                }
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') {
                    return -1;
                }
                p->pos++;
            }
            skip_separator_space(p);
            /* a value at depth + 1: beyond MAX_DEPTH even a scalar makes Python decide */
            if (p->pos >= p->len || depth + 1 > MAX_DEPTH) {
                return -1;
            }
            unsigned char c = p->s[p->pos];
            if (c == '{' || c == '[') {
                ptrdiff_t child = parse_container(p, depth + 1);
                if (child < 0) {
                    return child;
                }
            } else {
                ptrdiff_t child = new_token(p);
                if (child < 0) {
                    return -2;
                }
                Token *value = &p->tokens[child];
                value->count = 0;
                value->next = child + 1;
                if (parse_scalar(p, value, c) < 0) {
                    return -1;
                }
            }
            count++;
            skip_ws(p);
            if (p->pos >= p->len) {
                return -1;
            }
            c = p->s[p->pos];
            if (c == ',') {
                p->pos++;
                skip_separator_space(p);
                continue;
            }
            if (c == close) {
                p->pos++;
                break;
            }
            return -1;
        }
    }
    t = &p->tokens[index]; /* the array may have moved */
    t->count = count;
    t->end = p->pos;
    t->next = p->ntokens;
    return index;
}

int
fq_tokenize(Parser *p, const char *text, ptrdiff_t len)
{
    p->s = (const unsigned char *)text;
    p->len = len;
    p->pos = 0;
    p->ntokens = 0;
    skip_ws(p);
    if (p->pos >= p->len) {
        return 1;
    }
    unsigned char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        ptrdiff_t root = parse_container(p, 0);
        if (root == -2) {
            return -1;
        }
        if (root < 0) {
            return 1;
        }
    } else {
        ptrdiff_t root = new_token(p);
        if (root < 0) {
            return -1;
        }
        Token *t = &p->tokens[root];
        t->count = 0;
        t->next = root + 1;
        if (parse_scalar(p, t, c) < 0) {
            return 1;
        }
    }
    skip_ws(p);
    return p->pos == p->len ? 0 : 1;
}
