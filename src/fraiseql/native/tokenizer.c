/*
 * The validating JSON tokenizer: reads a whole document, checks every byte as orjson.loads
 * would, and records every value (and object key) in a flat array of tokens that the renderer
 * walks. Anything it cannot decide exactly as orjson would makes it give up, and the Python
 * builder renders that document. Containers recurse (bounded by MAX_DEPTH); scalars are read in
 * the loop of their container.
 */
#include "internal.h"

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

static inline void
skip_ws(Parser *p)
{
    const unsigned char *s = p->s;
    ptrdiff_t pos = p->pos;
    ptrdiff_t len = p->len;
    if (FQ_LIKELY(pos < len && s[pos] > ' ')) {
        return;
    }
    while (pos < len && s[pos] <= ' ' &&
           (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) {
        pos++;
    }
    p->pos = pos;
}

/* A string from its opening quote (at p->pos): 0, or -1 (invalid, or a lone surrogate). */
FQ_INLINE int
parse_string(Parser *p, Token *t)
{
    const unsigned char *s = p->s;
    ptrdiff_t len = p->len;
    ptrdiff_t pos = p->pos + 1;
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
            p->pos = pos + 1;
            return 0;
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
static int
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

static int
parse_number(Parser *p, Token *t)
{
    const unsigned char *s = p->s;
    ptrdiff_t len = p->len;
    ptrdiff_t start = p->pos;
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
    p->pos = pos;
    /* only an exponent or more than 308 integer digits can go beyond DBL_MAX (~1.8e308) */
    if ((exponent || integer_digits > 308) && !number_is_finite(s + start, pos - start)) {
        return -1;
    }
    return 0;
}

static inline int
expect_word(Parser *p, Token *t, uint8_t type, const char *word, ptrdiff_t n)
{
    t->type = type;
    t->flags = 0;
    t->start = p->pos;
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, (size_t)n) != 0) {
        return -1;
    }
    p->pos += n;
    t->end = p->pos;
    return 0;
}

/* A value other than an object or array, starting with byte c at p->pos: 0 or -1. */
FQ_INLINE int
parse_scalar(Parser *p, Token *t, unsigned char c)
{
    switch (c) {
    case '"': return parse_string(p, t);
    case 't': return expect_word(p, t, T_TRUE, "true", 4);
    case 'f': return expect_word(p, t, T_FALSE, "false", 5);
    case 'n': return expect_word(p, t, T_NULL, "null", 4);
    default:
        if (c == '-' || is_digit(c)) {
            return parse_number(p, t);
        }
        return -1;
    }
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
            /* PostgreSQL writes ": " and ", ": one space before a value is the common case */
            if (p->pos + 1 < p->len && p->s[p->pos] == ' ' && p->s[p->pos + 1] > ' ') {
                p->pos++;
            } else {
                skip_ws(p);
            }
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
                if (p->pos + 1 < p->len && p->s[p->pos] == ' ' && p->s[p->pos + 1] > ' ') {
                    p->pos++;
                } else {
                    skip_ws(p);
                }
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
