/*
 * Writers of values as the Python builder writes them (orjson.dumps of the projected value):
 * strings with orjson's escapes, numbers in FraiseQL's canonical form, JSON values re-written
 * canonically, and the leaves of a plan by scalar kind. Each answers RS_OK, RS_GIVEUP wherever
 * Python might decide differently, or RS_NOMEM. See core.h.
 */
#include "internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Output buffer                                                                            */
/* ---------------------------------------------------------------------------------------- */

int
fq_buf_grow(Buffer *b, ptrdiff_t extra)
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
    if (b->resize != NULL) {
        return b->resize(b, cap);
    }
    char *grown = fq_realloc(b->data, (size_t)cap);
    if (grown == NULL) {
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
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

/* ---------------------------------------------------------------------------------------- */
/* Strings                                                                                  */
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

int
fq_write_json_string(Buffer *b, const char *text, ptrdiff_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    if (n > (PTRDIFF_MAX - 2) / 6 || buf_reserve(b, n + 2) < 0 || buf_char(b, '"') < 0) {
        return -1;
    }
    ptrdiff_t run = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            if (buf_write(b, text + run, i - run) < 0 || write_escaped_codepoint(b, c) < 0) {
                return -1;
            }
            run = i + 1;
        }
    }
    return buf_write(b, text + run, n - run) < 0 || buf_char(b, '"') < 0 ? -1 : 0;
}

int
fq_write_string(Buffer *b, const unsigned char *s, const Token *t)
{
    if (!(t->flags & F_ESCAPED)) {
        return write_plain_string(b, s, t);
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
            unsigned int cp = 0;
            if (e == 'u') {
                hex4(s + i + 2, &cp);
                i += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned int low = 0xDC00;
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

static int
keys_equal(const unsigned char *s, const Token *a, const Token *b)
{
    ptrdiff_t n = a->end - a->start;
    return n == b->end - b->start &&
           memcmp(s + a->start, s + b->start, (size_t)n) == 0;
}

/* A scalar token of a JSON value, written canonically. */
static int
write_json_scalar(Buffer *b, const unsigned char *s, const Token *t)
{
    switch (t->type) {
    case T_NULL: return buf_write(b, "null", 4) < 0 ? RS_NOMEM : RS_OK;
    case T_TRUE: return buf_write(b, "true", 4) < 0 ? RS_NOMEM : RS_OK;
    case T_FALSE: return buf_write(b, "false", 5) < 0 ? RS_NOMEM : RS_OK;
    case T_STRING: return fq_write_string(b, s, t);
    default: return fq_write_number(b, s, t);
    }
}

/* A JSON value re-written canonically; objects with escaped or duplicate keys go to Python. */
static int
write_json(Buffer *b, const Parser *p, ptrdiff_t index, int depth)
{
    const Token *t = &p->tokens[index];
    if ((t->type == T_ARRAY || t->type == T_OBJECT) && depth >= MAX_RENDER_DEPTH) {
        return RS_GIVEUP;
    }
    switch (t->type) {
    case T_ARRAY: {
        if (buf_char(b, '[') < 0) {
            return RS_NOMEM;
        }
        ptrdiff_t child = index + 1;
        for (ptrdiff_t i = 0; i < t->count; i++) {
            if (i > 0 && buf_char(b, ',') < 0) {
                return RS_NOMEM;
            }
            int status = write_json(b, p, child, depth + 1);
            if (status != RS_OK) {
                return status;
            }
            child = p->tokens[child].next;
        }
        return buf_char(b, ']') < 0 ? RS_NOMEM : RS_OK;
    }
    case T_OBJECT: {
        if (t->count > 64) {
            return RS_GIVEUP; /* duplicate-key check below is quadratic */
        }
        ptrdiff_t keys[64];
        ptrdiff_t child = index + 1;
        for (ptrdiff_t i = 0; i < t->count; i++) {
            const Token *key = &p->tokens[child];
            if (key->flags & F_ESCAPED) {
                return RS_GIVEUP;
            }
            for (ptrdiff_t j = 0; j < i; j++) {
                if (keys_equal(p->s, key, &p->tokens[keys[j]])) {
                    return RS_GIVEUP;
                }
            }
            keys[i] = child;
            child = p->tokens[child + 1].next;
        }
        if (buf_char(b, '{') < 0) {
            return RS_NOMEM;
        }
        for (ptrdiff_t i = 0; i < t->count; i++) {
            if (i > 0 && buf_char(b, ',') < 0) {
                return RS_NOMEM;
            }
            int status = fq_write_string(b, p->s, &p->tokens[keys[i]]);
            if (status != RS_OK) {
                return status;
            }
            if (buf_char(b, ':') < 0) {
                return RS_NOMEM;
            }
            status = write_json(b, p, keys[i] + 1, depth + 1);
            if (status != RS_OK) {
                return status;
            }
        }
        return buf_char(b, '}') < 0 ? RS_NOMEM : RS_OK;
    }
    default: return write_json_scalar(b, p->s, t);
    }
}

/*
 * A JSON scalar field's value: a scalar token as write_json writes it, or a container (its
 * extent in `t`) tokenized into `json` and re-written.
 */
static int
write_json_value(Buffer *b, const unsigned char *s, const Token *t, Parser *json, int depth)
{
    if (t->type != T_OBJECT && t->type != T_ARRAY) {
        return write_json_scalar(b, s, t);
    }
    int status = fq_tokenize(json, (const char *)s + t->start, t->end - t->start);
    if (status != 0) {
        return status < 0 ? RS_NOMEM : RS_GIVEUP;
    }
    return write_json(b, json, 0, depth);
}


int
fq_write_leaf(Buffer *b, const Node *node, const unsigned char *s, const Token *t, Parser *json,
              int depth)
{
    long long iv;
    double dv;
    switch (node->leaf) {
    case L_STRING:
        return t->type == T_STRING ? fq_write_string(b, s, t) : RS_GIVEUP;
    case L_INT:
        if (t->type != T_NUMBER || !(t->flags & F_INTEGER) || fq_integer_value(s, t, &iv) < 0 ||
            iv < INT32_MIN || iv > INT32_MAX) {
            return RS_GIVEUP;
        }
        return fq_write_integer(b, iv);
    case L_FLOAT:
        if (t->type == T_NUMBER && !(t->flags & F_INTEGER)) {
            return fq_write_number(b, s, t);
        }
        if (t->type != T_NUMBER || fq_double_value(s, t, &dv) < 0) {
            return RS_GIVEUP;
        }
        if ((t->flags & F_INTEGER) && dv == 0.0) {
            dv = 0.0; /* "-0" is the integer 0: float(0) is 0.0, not -0.0 */
        }
        return fq_write_float(b, dv);
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
            return fq_write_string(b, s, t);
        }
        if (t->type == T_NUMBER && (t->flags & F_INTEGER) && fq_integer_value(s, t, &iv) == 0) {
            return fq_write_quoted_integer(b, iv);
        }
        return RS_GIVEUP;
    case L_UUID:
        if (t->type != T_STRING || (t->flags & F_ESCAPED) ||
            !is_canonical_uuid(s + t->start, t->end - t->start)) {
            return RS_GIVEUP;
        }
        return fq_write_string(b, s, t);
    case L_DECIMAL:
        if (t->type == T_STRING && !(t->flags & F_ESCAPED) &&
            fq_is_plain_decimal(s + t->start, t->end - t->start)) {
            return fq_write_string(b, s, t);
        }
        if (t->type != T_NUMBER) {
            return RS_GIVEUP;
        }
        /* a number: str(int) of an integer ("-0" is 0), else str(Decimal(its text)) */
        if ((t->flags & F_INTEGER) && fq_integer_value(s, t, &iv) == 0) {
            return fq_write_quoted_integer(b, iv);
        }
        if (fq_is_plain_decimal(s + t->start, t->end - t->start)) {
            return write_plain_string(b, s, t); /* digits, '-' and '.': nothing to escape */
        }
        return RS_GIVEUP; /* an exponent, or 0.0000001: decimal's own notation, by Python */
    case L_JSON:
        return write_json_value(b, s, t, json, depth);
    case L_ENUM:
        if (t->type != T_STRING || (t->flags & F_ESCAPED)) {
            return RS_GIVEUP;
        }
        /* from the end: when names share a stored value, the Python serializer keeps the last */
        for (ptrdiff_t i = node->nenum - 1; i >= 0; i--) {
            const EnumEntry *e = &node->enums[i];
            if (e->stored_len == t->end - t->start &&
                same_bytes(e->stored, (const char *)s + t->start, e->stored_len)) {
                return buf_write(b, e->name_json, e->name_len) < 0 ? RS_NOMEM : RS_OK;
            }
        }
        return RS_GIVEUP;
    default:
        return RS_GIVEUP;
    }
}
