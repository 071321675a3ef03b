/*
 * Values that no field reads: checked as orjson.loads checks them (the Python builder rejects a
 * document that is invalid anywhere), then passed over without being recorded. See render.c.
 */
#include "lexer.h"

/* The object or array at `pos` (at JSON depth `depth`): after it, or -1 (invalid, too deep). */
ptrdiff_t
fq_skip_container(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, int depth)
{
    int is_object = s[pos] == '{';
    unsigned char close = is_object ? '}' : ']';
    pos = lex_ws(s, pos + 1, len);
    if (pos < len && s[pos] == close) {
        return pos + 1;
    }
    for (;;) {
        if (is_object) {
            Token key;
            if (pos >= len || s[pos] != '"' || (pos = lex_string(s, pos, len, &key)) < 0) {
                return -1;
            }
            pos = lex_ws(s, pos, len);
            if (pos >= len || s[pos] != ':') {
                return -1;
            }
            pos++;
        }
        pos = lex_separator_space(s, pos, len);
        /* a value at depth + 1: beyond MAX_DEPTH even a scalar makes Python decide */
        if (pos >= len || depth + 1 > MAX_DEPTH || (pos = fq_skip_value(s, pos, len, depth + 1)) < 0) {
            return -1;
        }
        pos = lex_ws(s, pos, len);
        if (pos >= len) {
            return -1;
        }
        unsigned char c = s[pos++];
        if (c == ',') {
            pos = lex_separator_space(s, pos, len);
            continue;
        }
        return c == close ? pos : -1;
    }
}

/* The value at `pos` (not at the end of the text): after it, or -1 (invalid or too deep). */
ptrdiff_t
fq_skip_value(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, int depth)
{
    unsigned char c = s[pos];
    if (c == '{' || c == '[') {
        return fq_skip_container(s, pos, len, depth);
    }
    Token t;
    return lex_scalar(s, pos, len, &t, c);
}
