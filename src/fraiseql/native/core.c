/* The native response builder's core: see core.h. */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
fields_free(Field *fields, ptrdiff_t n)
{
    if (fields == NULL) {
        return;
    }
    for (ptrdiff_t i = 0; i < n; i++) {
        fq_free(fields[i].key_json);
        fq_free(fields[i].source);
        fq_node_free(fields[i].node);
    }
    fq_free(fields);
}

void
fq_node_free(Node *node)
{
    if (node == NULL) {
        return;
    }
    fields_free(node->fields, node->nfields);
    fq_node_free(node->item);
    fq_free(node->typename_json);
    if (node->enums != NULL) {
        for (ptrdiff_t i = 0; i < node->nenum; i++) {
            fq_free(node->enums[i].stored);
            fq_free(node->enums[i].name_json);
        }
        fq_free(node->enums);
    }
    fq_free(node);
}

/* ---------------------------------------------------------------------------------------- */
/* Tokenizer: validates the whole document and records every value in a flat array          */
/* ---------------------------------------------------------------------------------------- */

static ptrdiff_t
new_token(Parser *p)
{
    if (p->ntokens == p->cap) {
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
    }
    return p->ntokens++;
}

static inline void
skip_ws(Parser *p)
{
    const unsigned char *s = p->s;
    ptrdiff_t pos = p->pos;
    ptrdiff_t len = p->len;
    while (pos < len && s[pos] <= ' ' &&
           (s[pos] == ' ' || s[pos] == '\n' || s[pos] == '\r' || s[pos] == '\t')) {
        pos++;
    }
    p->pos = pos;
}

/*
 * Strings are scanned eight bytes at a time: a word without a quote, a backslash, a control
 * byte or a non-ASCII byte is plain text and needs no closer look.
 */
#define BYTES_ONES UINT64_C(0x0101010101010101)
#define BYTES_HIGH UINT64_C(0x8080808080808080)

/*
 * The high bit of each byte of `word` that is '"', '\\', below 0x20 or above 0x7F, plus possibly
 * bits of later (more significant) bytes: a subtraction only borrows past a byte that is itself
 * a hit. So the mask is zero exactly when no byte is special, and on a little-endian machine its
 * lowest set bit marks the first special byte.
 */
static inline uint64_t
special_bytes(uint64_t word)
{
    uint64_t quote = word ^ (BYTES_ONES * '"');
    uint64_t backslash = word ^ (BYTES_ONES * '\\');
    return (((quote - BYTES_ONES) & ~quote) | ((backslash - BYTES_ONES) & ~backslash) |
            (word - BYTES_ONES * 0x20) | word) &
           BYTES_HIGH;
}

/* The first byte at or after `pos` (below `len`) that special_bytes() flags, or `len`. */
static inline ptrdiff_t
skip_plain_text(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len)
{
    while (len - pos >= 8) {
        uint64_t word;
        memcpy(&word, s + pos, 8);
        uint64_t special = special_bytes(word);
        if (special != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return pos + (__builtin_ctzll(special) >> 3);
#else
            break;
#endif
        }
        pos += 8;
    }
    while (pos < len) {
        unsigned char c = s[pos];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
            break;
        }
        pos++;
    }
    return pos;
}

/* Length of a valid UTF-8 sequence starting at s[0] (max n bytes), or 0 when invalid. */
static int
utf8_sequence(const unsigned char *s, ptrdiff_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) {
            return 0;
        }
        if (c == 0xE0 && s[1] < 0xA0) {
            return 0; /* overlong */
        }
        if (c == 0xED && s[1] >= 0xA0) {
            return 0; /* surrogate */
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80) {
            return 0;
        }
        if (c == 0xF0 && s[1] < 0x90) {
            return 0;
        }
        if (c == 0xF4 && s[1] >= 0x90) {
            return 0;
        }
        return 4;
    }
    return 0;
}

static int
hex4(const unsigned char *s, unsigned int *out)
{
    unsigned int v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned int)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned int)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned int)(c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

static int
parse_string(Parser *p, Token *t)
{
    /* p->pos is at the opening quote */
    p->pos++;
    t->type = T_STRING;
    t->flags = 0;
    t->start = p->pos;
    for (;;) {
        p->pos = skip_plain_text(p->s, p->pos, p->len);
        if (p->pos >= p->len) {
            return -1;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            t->end = p->pos;
            p->pos++;
            return 0;
        }
        if (c == '\\') {
            t->flags |= F_ESCAPED;
            if (p->pos + 1 >= p->len) {
                return -1;
            }
            unsigned char e = p->s[p->pos + 1];
            if (e == 'u') {
                unsigned int cp;
                if (p->pos + 6 > p->len || hex4(p->s + p->pos + 2, &cp) < 0) {
                    return -1;
                }
                p->pos += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned int low;
                    if (p->pos + 6 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                        hex4(p->s + p->pos + 2, &low) < 0 || low < 0xDC00 || low > 0xDFFF) {
                        return -1; /* lone high surrogate: let Python report it */
                    }
                    p->pos += 6;
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return -1;
                }
                continue;
            }
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                e == 'r' || e == 't') {
                p->pos += 2;
                continue;
            }
            return -1;
        }
        if (c < 0x20) {
            return -1;
        }
        int n = utf8_sequence(p->s + p->pos, p->len - p->pos);
        if (n == 0) {
            return -1;
        }
        p->pos += n;
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

static int
parse_number(Parser *p, Token *t)
{
    ptrdiff_t start = p->pos;
    ptrdiff_t integer_digits = 0;
    int exponent = 0;
    const unsigned char *s = p->s;
    t->type = T_NUMBER;
    t->flags = F_INTEGER;
    t->start = start;
    if (p->pos < p->len && s[p->pos] == '-') {
        p->pos++;
    }
    if (p->pos >= p->len) {
        return -1;
    }
    if (s[p->pos] == '0') {
        p->pos++;
    } else if (s[p->pos] >= '1' && s[p->pos] <= '9') {
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
            p->pos++;
            integer_digits++;
        }
    } else {
        return -1;
    }
    if (p->pos < p->len && s[p->pos] == '.') {
        t->flags = 0;
        p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
            return -1;
        }
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
            p->pos++;
        }
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        t->flags = 0;
        exponent = 1;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) {
            p->pos++;
        }
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
            return -1;
        }
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
            p->pos++;
        }
    }
    t->end = p->pos;
    /* only an exponent or more than 308 integer digits can go beyond DBL_MAX (~1.8e308) */
    if ((exponent || integer_digits > 308) && !number_is_finite(s + start, p->pos - start)) {
        return -1;
    }
    return 0;
}

static int
expect_word(Parser *p, const char *word, ptrdiff_t n)
{
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, (size_t)n) != 0) {
        return -1;
    }
    p->pos += n;
    return 0;
}

/* Parse one value; returns its token index, or -1 (invalid input) / -2 (out of memory). */
static ptrdiff_t
parse_value(Parser *p, int depth)
{
    skip_ws(p);
    if (p->pos >= p->len) {
        return -1;
    }
    if (depth > MAX_DEPTH) {
        return -1;
    }
    ptrdiff_t index = new_token(p);
    if (index < 0) {
        return -2;
    }
    unsigned char c = p->s[p->pos];
    Token *t = &p->tokens[index];
    t->count = 0;
    t->flags = 0;
    if (c == '{' || c == '[') {
        int is_object = (c == '{');
        p->tokens[index].type = is_object ? T_OBJECT : T_ARRAY;
        p->tokens[index].start = p->pos;
        p->pos++;
        skip_ws(p);
        ptrdiff_t count = 0;
        if (p->pos < p->len && p->s[p->pos] == (is_object ? '}' : ']')) {
            p->pos++;
        } else {
            for (;;) {
                if (is_object) {
                    skip_ws(p);
                    if (p->pos >= p->len || p->s[p->pos] != '"') {
                        return -1;
                    }
                    ptrdiff_t key = new_token(p);
                    if (key < 0) {
                        return -2;
                    }
                    p->tokens[key].count = 0;
                    if (parse_string(p, &p->tokens[key]) < 0) {
                        return -1;
                    }
                    p->tokens[key].next = key + 1;
                    skip_ws(p);
                    if (p->pos >= p->len || p->s[p->pos] != ':') {
                        return -1;
                    }
                    p->pos++;
                }
                ptrdiff_t child = parse_value(p, depth + 1);
                if (child < 0) {
                    return child;
                }
                count++;
                skip_ws(p);
                if (p->pos >= p->len) {
                    return -1;
                }
                if (p->s[p->pos] == ',') {
                    p->pos++;
                    continue;
                }
                if (p->s[p->pos] == (is_object ? '}' : ']')) {
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
    int status;
    if (c == '"') {
        status = parse_string(p, t);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        status = parse_number(p, t);
    } else if (c == 't') {
        t->type = T_TRUE;
        t->start = p->pos;
        status = expect_word(p, "true", 4);
    } else if (c == 'f') {
        t->type = T_FALSE;
        t->start = p->pos;
        status = expect_word(p, "false", 5);
    } else if (c == 'n') {
        t->type = T_NULL;
        t->start = p->pos;
        status = expect_word(p, "null", 4);
    } else {
        return -1;
    }
    if (status < 0) {
        return -1;
    }
    t = &p->tokens[index];
    if (t->type != T_STRING) {
        t->end = p->pos;
    }
    t->next = index + 1;
    return index;
}

/* Tokenize a whole document. Returns 0, 1 (give up: use Python) or -1 (out of memory). */
static int
tokenize(Parser *p, const char *text, ptrdiff_t len)
{
    p->s = (const unsigned char *)text;
    p->len = len;
    p->pos = 0;
    p->ntokens = 0;
    ptrdiff_t root = parse_value(p, 0);
    if (root == -2) {
        return -1;
    }
    if (root < 0) {
        return 1;
    }
    skip_ws(p);
    if (p->pos != p->len) {
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Output buffer                                                                            */
/* ---------------------------------------------------------------------------------------- */

static int
buf_grow(Buffer *b, ptrdiff_t extra)
{
    if (extra > PTRDIFF_MAX - b->len) {
        return -1;
    }
    ptrdiff_t need = b->len + extra;
    ptrdiff_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > PTRDIFF_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *grown = fq_realloc(b->data, (size_t)cap);
    if (grown == NULL) {
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

/* Room for `extra` more bytes: 0, or -1 (out of memory). */
static inline int
buf_reserve(Buffer *b, ptrdiff_t extra)
{
    return extra <= b->cap - b->len ? 0 : buf_grow(b, extra);
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

/* ---------------------------------------------------------------------------------------- */
/* Rendering                                                                                */
/* ---------------------------------------------------------------------------------------- */

static const char HEX[] = "0123456789abcdef";

static int
write_escaped_codepoint(Buffer *b, unsigned int cp)
{
    char tmp[4];
    int n;
    if (cp < 0x20 || cp == '"' || cp == '\\') {
        switch (cp) {
        case '"': return buf_write(b, "\\\"", 2);
        case '\\': return buf_write(b, "\\\\", 2);
        case '\b': return buf_write(b, "\\b", 2);
        case '\f': return buf_write(b, "\\f", 2);
        case '\n': return buf_write(b, "\\n", 2);
        case '\r': return buf_write(b, "\\r", 2);
        case '\t': return buf_write(b, "\\t", 2);
        default: {
            char u[6] = {'\\', 'u', '0', '0', HEX[(cp >> 4) & 0xF], HEX[cp & 0xF]};
            return buf_write(b, u, 6);
        }
        }
    }
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_write(b, tmp, n);
}

/* Write a string token as orjson.dumps(orjson.loads(token)) would: canonical escapes. */
static int
write_string(Render *r, const Token *t)
{
    const unsigned char *s = r->parser.s;
    Buffer *b = &r->out;
    if (!(t->flags & F_ESCAPED)) { /* valid UTF-8 without escapes: written as it is */
        ptrdiff_t n = t->end - t->start;
        if (n > PTRDIFF_MAX - 2 || buf_reserve(b, n + 2) < 0) {
            return RS_NOMEM;
        }
        b->data[b->len] = '"';
        memcpy(b->data + b->len + 1, s + t->start, (size_t)n);
        b->data[b->len + 1 + n] = '"';
        b->len += n + 2;
        return RS_OK;
    }
    if (buf_char(b, '"') < 0) {
        return RS_NOMEM;
    }
    ptrdiff_t i = t->start;
    ptrdiff_t run = i;
    while (i < t->end) {
        unsigned char c = s[i];
        if (c == '\\') {
            if (buf_write(b, (const char *)s + run, i - run) < 0) {
                return RS_NOMEM;
            }
            unsigned char e = s[i + 1];
            unsigned int cp;
            if (e == 'u') {
                hex4(s + i + 2, &cp);
                i += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned int low;
                    hex4(s + i + 2, &low);
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
            } else {
                switch (e) {
                case 'b': cp = '\b'; break;
                case 'f': cp = '\f'; break;
                case 'n': cp = '\n'; break;
                case 'r': cp = '\r'; break;
                case 't': cp = '\t'; break;
                default: cp = e; break; /* '"', '\\', '/' */
                }
                i += 2;
            }
            if (write_escaped_codepoint(b, cp) < 0) {
                return RS_NOMEM;
            }
            run = i;
        } else {
            i++;
        }
    }
    if (buf_write(b, (const char *)s + run, t->end - run) < 0 || buf_char(b, '"') < 0) {
        return RS_NOMEM;
    }
    return RS_OK;
}

/* Integer literal → canonical digits (as Python's int would print), when it fits in int64. */
static int
integer_value(const Render *r, const Token *t, long long *out)
{
    ptrdiff_t n = t->end - t->start;
    if (!(t->flags & F_INTEGER) || n > 19) {
        return -1;
    }
    char tmp[24];
    memcpy(tmp, r->parser.s + t->start, (size_t)n);
    tmp[n] = '\0';
    errno = 0;
    char *end;
    long long v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

/* The digits of v, as "%lld" writes them, at the end of tmp[32]; returns where they start. */
static char *
integer_digits(long long v, char *tmp)
{
    char *end = tmp + 32;
    char *p = end;
    /* through unsigned: -LLONG_MIN does not fit in a long long */
    unsigned long long magnitude = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0);
    if (v < 0) {
        *--p = '-';
    }
    return p;
}

static int
write_integer(Buffer *b, long long v)
{
    char tmp[32];
    char *digits = integer_digits(v, tmp);
    return buf_write(b, digits, tmp + 32 - digits) < 0 ? RS_NOMEM : RS_OK;
}

/* An integer as a JSON string: "123". */
static int
write_quoted_integer(Buffer *b, long long v)
{
    char tmp[34];
    char *digits = integer_digits(v, tmp + 1);
    *--digits = '"';
    tmp[33] = '"';
    return buf_write(b, digits, tmp + 34 - digits) < 0 ? RS_NOMEM : RS_OK;
}

/* A number token as a double (the value orjson.loads then float() gives). */
static int
double_value(const Render *r, const Token *t, double *out)
{
    ptrdiff_t n = t->end - t->start;
    if ((t->flags & F_INTEGER) && n > 19) {
        return -1; /* orjson turns huge integers into floats its own way: let Python decide */
    }
    char stack[64];
    char *tmp = stack;
    if (n >= (ptrdiff_t)sizeof stack) {
        tmp = fq_malloc((size_t)n + 1);
        if (tmp == NULL) {
            return -1;
        }
    }
    memcpy(tmp, r->parser.s + t->start, (size_t)n);
    tmp[n] = '\0';
    int ok = fq_parse_double(tmp, out) == 0;
    if (tmp != stack) {
        fq_free(tmp);
    }
    return ok ? 0 : -1;
}

static int
write_float(Buffer *b, double v)
{
    char *text = fq_format_double(v);
    if (text == NULL) {
        return RS_NOMEM;
    }
    int status = buf_write(b, text, (ptrdiff_t)strlen(text)) < 0 ? RS_NOMEM : RS_OK;
    fq_free(text);
    return status;
}

/* Write the token's number as our canonical JSON number (int digits or repr of the float). */
static int
write_number(Render *r, const Token *t)
{
    long long iv;
    if (t->flags & F_INTEGER) {
        if (integer_value(r, t, &iv) < 0) {
            return RS_GIVEUP;
        }
        return write_integer(&r->out, iv);
    }
    double dv;
    if (double_value(r, t, &dv) < 0) {
        return RS_GIVEUP;
    }
    return write_float(&r->out, dv);
}

static int
keys_equal(const Render *r, const Token *a, const Token *b)
{
    ptrdiff_t n = a->end - a->start;
    return n == b->end - b->start &&
           memcmp(r->parser.s + a->start, r->parser.s + b->start, (size_t)n) == 0;
}

/*
 * Output nesting the renderer writes; deeper values go to Python. Well below MAX_DEPTH on
 * purpose: the Python builder must never fail on what the C core renders, and it does fail on
 * deep values (orjson.dumps stops at 255 levels; the projector and the JSON scalar's encoder
 * recurse two or three interpreter frames per level, against a recursion limit of 1000).
 */
#define MAX_RENDER_DEPTH 128

/* A JSON value re-written canonically; objects with escaped or duplicate keys go to Python. */
static int
write_json(Render *r, ptrdiff_t index, int depth)
{
    const Token *t = &r->parser.tokens[index];
    if ((t->type == T_ARRAY || t->type == T_OBJECT) && depth >= MAX_RENDER_DEPTH) {
        return RS_GIVEUP;
    }
    switch (t->type) {
    case T_NULL: return buf_write(&r->out, "null", 4) < 0 ? RS_NOMEM : RS_OK;
    case T_TRUE: return buf_write(&r->out, "true", 4) < 0 ? RS_NOMEM : RS_OK;
    case T_FALSE: return buf_write(&r->out, "false", 5) < 0 ? RS_NOMEM : RS_OK;
    case T_STRING: return write_string(r, t);
    case T_NUMBER: return write_number(r, t);
    case T_ARRAY: {
        if (buf_char(&r->out, '[') < 0) {
            return RS_NOMEM;
        }
        ptrdiff_t child = index + 1;
        for (ptrdiff_t i = 0; i < t->count; i++) {
            if (i > 0 && buf_char(&r->out, ',') < 0) {
                return RS_NOMEM;
            }
            int status = write_json(r, child, depth + 1);
            if (status != RS_OK) {
                return status;
            }
            child = r->parser.tokens[child].next;
        }
        return buf_char(&r->out, ']') < 0 ? RS_NOMEM : RS_OK;
    }
    default: { /* T_OBJECT */
        if (t->count > 64) {
            return RS_GIVEUP; /* duplicate-key check below is quadratic */
        }
        ptrdiff_t keys[64];
        ptrdiff_t child = index + 1;
        for (ptrdiff_t i = 0; i < t->count; i++) {
            const Token *key = &r->parser.tokens[child];
            if (key->flags & F_ESCAPED) {
                return RS_GIVEUP;
            }
            for (ptrdiff_t j = 0; j < i; j++) {
                if (keys_equal(r, key, &r->parser.tokens[keys[j]])) {
                    return RS_GIVEUP;
                }
            }
            keys[i] = child;
            child = r->parser.tokens[child + 1].next;
        }
        if (buf_char(&r->out, '{') < 0) {
            return RS_NOMEM;
        }
        for (ptrdiff_t i = 0; i < t->count; i++) {
            if (i > 0 && buf_char(&r->out, ',') < 0) {
                return RS_NOMEM;
            }
            int status = write_string(r, &r->parser.tokens[keys[i]]);
            if (status != RS_OK) {
                return status;
            }
            if (buf_char(&r->out, ':') < 0) {
                return RS_NOMEM;
            }
            status = write_json(r, keys[i] + 1, depth + 1);
            if (status != RS_OK) {
                return status;
            }
        }
        return buf_char(&r->out, '}') < 0 ? RS_NOMEM : RS_OK;
    }
    }
}

static int
is_lower_hex(unsigned char c)
{
    return (unsigned char)(c - '0') < 10 || (unsigned char)(c - 'a') < 6;
}

static int
is_canonical_uuid(const unsigned char *s, ptrdiff_t n)
{
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        return 0;
    }
    int ok = 1;
    for (ptrdiff_t i = 0; i < 36; i++) {
        ok &= (i == 8 || i == 13 || i == 18 || i == 23) || is_lower_hex(s[i]);
    }
    return ok;
}

/*
 * A plain decimal string that str(Decimal(s)) leaves unchanged: -?(0|[1-9][0-9]*)(.[0-9]+)?,
 * except "0.<6 or more zeros>..." whose adjusted exponent is below -6: str() writes those in
 * exponent form ("0.0000001" -> "1E-7", "0.0000000" -> "0E-7").
 */
static int
is_plain_decimal(const unsigned char *s, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    int zero_integer = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (i >= n) {
        return 0;
    }
    if (s[i] == '0') {
        zero_integer = 1;
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n) {
            return 0;
        }
        ptrdiff_t zeros = 0; /* leading zeros of the fraction */
        while (i < n && s[i] == '0') {
            zeros++;
            i++;
        }
        int all_zero = (i >= n || s[i] < '0' || s[i] > '9');
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        /* adjusted exponent of 0.<zeros>d...: -(zeros + 1); of 0.<zeros>: -zeros */
        if (zero_integer && (all_zero ? zeros > 6 : zeros > 5)) {
            return 0;
        }
    }
    return i == n && n <= 1000;
}

static int write_node(Render *r, const Node *node, ptrdiff_t index, int depth);

static int
write_leaf(Render *r, const Node *node, const Token *t, int depth)
{
    Buffer *b = &r->out;
    const unsigned char *s = r->parser.s;
    long long iv;
    double dv;
    switch (node->leaf) {
    case L_STRING:
        return t->type == T_STRING ? write_string(r, t) : RS_GIVEUP;
    case L_INT:
        if (t->type != T_NUMBER || !(t->flags & F_INTEGER) || integer_value(r, t, &iv) < 0 ||
            iv < INT32_MIN || iv > INT32_MAX) {
            return RS_GIVEUP;
        }
        return write_integer(b, iv);
    case L_FLOAT:
        if (t->type != T_NUMBER || double_value(r, t, &dv) < 0) {
            return RS_GIVEUP;
        }
        if ((t->flags & F_INTEGER) && dv == 0.0) {
            dv = 0.0; /* "-0" is the integer 0: float(0) is 0.0, not -0.0 */
        }
        return write_float(b, dv);
    case L_BOOLEAN:
        if (t->type == T_TRUE) {
            return buf_write(b, "true", 4) < 0 ? RS_NOMEM : RS_OK;
        }
        if (t->type == T_FALSE) {
            return buf_write(b, "false", 5) < 0 ? RS_NOMEM : RS_OK;
        }
        return RS_GIVEUP;
    case L_ID:
        if (t->type == T_STRING) {
            return write_string(r, t);
        }
        if (t->type == T_NUMBER && (t->flags & F_INTEGER) && integer_value(r, t, &iv) == 0) {
            return write_quoted_integer(b, iv);
        }
        return RS_GIVEUP;
    case L_UUID:
        if (t->type != T_STRING || (t->flags & F_ESCAPED) ||
            !is_canonical_uuid(s + t->start, t->end - t->start)) {
            return RS_GIVEUP;
        }
        return write_string(r, t);
    case L_DECIMAL:
        if (t->type == T_STRING && !(t->flags & F_ESCAPED) &&
            is_plain_decimal(s + t->start, t->end - t->start)) {
            return write_string(r, t);
        }
        if (t->type == T_NUMBER && (t->flags & F_INTEGER) && integer_value(r, t, &iv) == 0) {
            return write_quoted_integer(b, iv);
        }
        if (t->type == T_NUMBER && !(t->flags & F_INTEGER) && double_value(r, t, &dv) == 0) {
            if (buf_char(b, '"') < 0 || write_float(b, dv) != RS_OK || buf_char(b, '"') < 0) {
                return RS_NOMEM;
            }
            return RS_OK;
        }
        return RS_GIVEUP;
    case L_JSON:
        return write_json(r, t - r->parser.tokens, depth);
    case L_ENUM:
        if (t->type != T_STRING || (t->flags & F_ESCAPED)) {
            return RS_GIVEUP;
        }
        /* from the end: when names share a stored value, the Python serializer keeps the last */
        for (ptrdiff_t i = node->nenum - 1; i >= 0; i--) {
            const EnumEntry *e = &node->enums[i];
            if (e->stored_len == t->end - t->start &&
                memcmp(e->stored, s + t->start, (size_t)e->stored_len) == 0) {
                return buf_write(b, e->name_json, e->name_len) < 0 ? RS_NOMEM : RS_OK;
            }
        }
        return RS_GIVEUP;
    default:
        return RS_GIVEUP;
    }
}

/* The index of the value of the last member named `key` in object `object`, or -1. */
static ptrdiff_t
find_member(const Render *r, ptrdiff_t object, const char *key, ptrdiff_t key_len, int *escaped)
{
    const Token *tokens = r->parser.tokens;
    ptrdiff_t found = -1;
    ptrdiff_t child = object + 1;
    for (ptrdiff_t i = 0; i < tokens[object].count; i++) {
        const Token *k = &tokens[child];
        if (k->flags & F_ESCAPED) {
            *escaped = 1; /* an escaped key might spell `key`: only Python can tell */
        } else if (k->end - k->start == key_len &&
                   memcmp(r->parser.s + k->start, key, (size_t)key_len) == 0) {
            found = child + 1;
        }
        child = tokens[child + 1].next;
    }
    return found;
}

/* Fields of an object node whose members are looked up in one pass over the object. */
#define MAX_SLOTS 64

/*
 * slots[i] = the index of the value of the last member named like field i's source, or -1; in
 * one pass over the object's members. 1 when a key is escaped (it might spell a source: only
 * Python can tell) and some field reads a member.
 */
static int
find_members(const Render *r, const Node *node, ptrdiff_t object, ptrdiff_t *slots)
{
    const Token *tokens = r->parser.tokens;
    const unsigned char *s = r->parser.s;
    int reads = 0;
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        slots[i] = -1;
        reads |= !node->fields[i].is_typename;
    }
    if (!reads) {
        return 0;
    }
    ptrdiff_t child = object + 1;
    for (ptrdiff_t m = 0; m < tokens[object].count; m++) {
        const Token *k = &tokens[child];
        if (k->flags & F_ESCAPED) {
            return 1;
        }
        ptrdiff_t n = k->end - k->start;
        for (ptrdiff_t i = 0; i < node->nfields; i++) {
            const Field *field = &node->fields[i];
            /* no break: two fields may read the same member */
            if (field->source_len == n && !field->is_typename &&
                memcmp(s + k->start, field->source, (size_t)n) == 0) {
                slots[i] = child + 1;
            }
        }
        child = tokens[child + 1].next;
    }
    return 0;
}

static int
write_object(Render *r, const Node *node, ptrdiff_t index, int depth)
{
    const Token *t = &r->parser.tokens[index];
    if (t->type != T_OBJECT) {
        return RS_GIVEUP;
    }
    ptrdiff_t slots[MAX_SLOTS];
    int one_pass = node->nfields <= MAX_SLOTS;
    if (one_pass && find_members(r, node, index, slots) != 0) {
        return RS_GIVEUP;
    }
    if (buf_char(&r->out, '{') < 0) {
        return RS_NOMEM;
    }
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        const Field *field = &node->fields[i];
        if (i > 0 && buf_char(&r->out, ',') < 0) {
            return RS_NOMEM;
        }
        if (buf_write(&r->out, field->key_json, field->key_len) < 0) {
            return RS_NOMEM;
        }
        if (field->is_typename) {
            if (buf_write(&r->out, node->typename_json, node->typename_len) < 0) {
                return RS_NOMEM;
            }
            continue;
        }
        ptrdiff_t value;
        if (one_pass) {
            value = slots[i];
        } else {
            int escaped = 0;
            value = find_member(r, index, field->source, field->source_len, &escaped);
            if (escaped) {
                return RS_GIVEUP;
            }
        }
        int status;
        if (value < 0) {
            if (!field->node->nullable) {
                return RS_GIVEUP;
            }
            status = buf_write(&r->out, "null", 4) < 0 ? RS_NOMEM : RS_OK;
        } else {
            status = write_node(r, field->node, value, depth + 1);
        }
        if (status != RS_OK) {
            return status;
        }
    }
    return buf_char(&r->out, '}') < 0 ? RS_NOMEM : RS_OK;
}

static int
write_node(Render *r, const Node *node, ptrdiff_t index, int depth)
{
    const Token *t = &r->parser.tokens[index];
    if (t->type == T_NULL) {
        if (!node->nullable) {
            return RS_GIVEUP;
        }
        return buf_write(&r->out, "null", 4) < 0 ? RS_NOMEM : RS_OK;
    }
    if (node->kind == N_LEAF) {
        return write_leaf(r, node, t, depth);
    }
    if (depth >= MAX_RENDER_DEPTH) {
        return RS_GIVEUP; /* an object or a list nested too deep (see MAX_RENDER_DEPTH) */
    }
    if (node->kind == N_OBJECT) {
        return write_object(r, node, index, depth);
    }
    /* N_LIST */
    if (t->type != T_ARRAY) {
        return RS_GIVEUP;
    }
    if (buf_char(&r->out, '[') < 0) {
        return RS_NOMEM;
    }
    ptrdiff_t child = index + 1;
    for (ptrdiff_t i = 0; i < t->count; i++) {
        if (i > 0 && buf_char(&r->out, ',') < 0) {
            return RS_NOMEM;
        }
        int status = write_node(r, node->item, child, depth + 1);
        if (status != RS_OK) {
            return status;
        }
        child = r->parser.tokens[child].next;
    }
    return buf_char(&r->out, ']') < 0 ? RS_NOMEM : RS_OK;
}

int
fq_render_text(Render *r, const Node *node, const char *text, ptrdiff_t len)
{
    int status = tokenize(&r->parser, text, len);
    if (status < 0) {
        return RS_NOMEM;
    }
    if (status > 0) {
        return RS_GIVEUP;
    }
    return write_node(r, node, 0, 0);
}

int
fq_buf_write(Buffer *b, const char *s, ptrdiff_t n)
{
    return buf_write(b, s, n);
}

int
fq_buf_reserve(Buffer *b, ptrdiff_t extra)
{
    return buf_reserve(b, extra);
}

void
fq_render_release(Render *r)
{
    fq_free(r->out.data);
    fq_free(r->scratch.data);
    fq_free(r->parser.tokens);
    r->out.data = NULL;
    r->scratch.data = NULL;
    r->parser.tokens = NULL;
}
