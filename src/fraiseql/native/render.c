/*
 * The renderer: walks a tokenized document along a plan and writes the response bytes exactly
 * as the Python builder would (orjson.dumps of the projected value), or gives up (RS_GIVEUP)
 * wherever Python might decide differently. See core.h.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

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
    char *grown = fq_realloc(b->data, (size_t)cap);
    if (grown == NULL) {
        return -1;
    }
    b->data = grown;
    b->cap = cap;
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

/* Write a string token as orjson.dumps(orjson.loads(token)) would: canonical escapes. */
/* An unescaped string token (valid UTF-8 already) written as it is, between quotes. */
static inline int
write_plain_string(Render *r, const Token *t)
{
    Buffer *b = &r->out;
    ptrdiff_t n = t->end - t->start;
    if (n > PTRDIFF_MAX - 2 || buf_reserve(b, n + 2) < 0) {
        return RS_NOMEM;
    }
    b->data[b->len] = '"';
    copy_short(b->data + b->len + 1, (const char *)r->parser.s + t->start, n);
    b->data[b->len + 1 + n] = '"';
    b->len += n + 2;
    return RS_OK;
}

static int
write_string(Render *r, const Token *t)
{
    const unsigned char *s = r->parser.s;
    Buffer *b = &r->out;
    if (!(t->flags & F_ESCAPED)) {
        return write_plain_string(r, t);
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

/* Integer literal → canonical digits (as Python's int would print), when it fits in int64. */
static int
integer_value(const Render *r, const Token *t, long long *out)
{
    ptrdiff_t n = t->end - t->start;
    if (!(t->flags & F_INTEGER) || n > 19) {
        return -1;
    }
    const unsigned char *s = r->parser.s + t->start;
    if (n <= 18) { /* at most 18 digits: below 2**63, and the tokenizer checked the syntax */
        int negative = s[0] == '-';
        long long v = 0;
        for (ptrdiff_t i = negative; i < n; i++) {
            v = v * 10 + (s[i] - '0');
        }
        *out = negative ? -v : v;
        return 0;
    }
    char tmp[24];
    memcpy(tmp, s, (size_t)n);
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

/*
 * Whether a number's text is already what repr(float(text)) writes: -?(0|[1-9][0-9]*).[0-9]*[1-9]
 * with at most 15 significant digits and, below 1, at most 3 zeros after the point. Distinct
 * decimals of at most 15 significant digits are distinct doubles, so the shortest text that reads
 * back as the same double is this one; repr writes it without an exponent from 1e-4 to 1e16.
 */
static int
is_short_float_text(const unsigned char *s, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    ptrdiff_t integer_start = i;
    while (i < n && (unsigned char)(s[i] - '0') < 10) {
        i++;
    }
    ptrdiff_t integer_digits = i - integer_start;
    if (integer_digits == 0 || i >= n || s[i] != '.' || s[n - 1] == '0') {
        return 0;
    }
    int zero_integer = integer_digits == 1 && s[integer_start] == '0';
    if (!zero_integer && s[integer_start] == '0') {
        return 0;
    }
    ptrdiff_t fraction_start = ++i;
    while (i < n && (unsigned char)(s[i] - '0') < 10) {
        i++;
    }
    if (i != n || i == fraction_start) {
        return 0; /* an exponent, or no fraction digits */
    }
    ptrdiff_t fraction_digits = n - fraction_start;
    if (!zero_integer) {
        return integer_digits + fraction_digits <= 15;
    }
    ptrdiff_t zeros = 0;
    while (s[fraction_start + zeros] == '0') {
        zeros++;
    }
    return zeros <= 3 && fraction_digits - zeros <= 15;
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
    if (is_short_float_text(r->parser.s + t->start, t->end - t->start)) {
        return buf_write(&r->out, (const char *)r->parser.s + t->start, t->end - t->start) < 0
                   ? RS_NOMEM
                   : RS_OK;
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
        if (t->type == T_NUMBER && !(t->flags & F_INTEGER)) {
            return write_number(r, t);
        }
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
                same_bytes(e->stored, (const char *)s + t->start, e->stored_len)) {
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

/*
 * slots[i] = the index of the value of the last member named like field i's source, or -1; in
 * one pass over the object's members, each compared with the fields of its bucket only (see
 * fq_node_index). 1 when a key is escaped (it might spell a source: only Python can tell).
 */
static int
find_members(const Render *r, const Node *node, ptrdiff_t object, ptrdiff_t *slots)
{
    const Token *tokens = r->parser.tokens;
    const char *s = (const char *)r->parser.s;
    const Field *fields = node->fields;
    int reads = 0;
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        slots[i] = -1;
        reads |= !fields[i].is_typename;
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
        const char *name = s + k->start;
        ptrdiff_t n = k->end - k->start;
        /* no early exit: two fields may read the same member */
        for (unsigned f = node->bucket[member_hash(name, n)]; f != 0;
             f = fields[f - 1].next_in_bucket) {
            const Field *field = &fields[f - 1];
            if (field->source_len == n && same_bytes(name, field->source, n)) {
                slots[f - 1] = child + 1;
            }
        }
        child = tokens[child + 1].next;
    }
    return 0;
}

/* Whether write_leaf would copy this token as it is: an unescaped string of a String, ID or
 * (canonical) UUID leaf. */
static inline int
is_plain_text_leaf(const Render *r, const Node *node, const Token *t)
{
    if (node->kind != N_LEAF || t->type != T_STRING || (t->flags & F_ESCAPED)) {
        return 0;
    }
    if (node->leaf == L_STRING || node->leaf == L_ID) {
        return 1;
    }
    return node->leaf == L_UUID && is_canonical_uuid(r->parser.s + t->start, t->end - t->start);
}

static int
write_object(Render *r, const Node *node, ptrdiff_t index, int depth)
{
    const Token *t = &r->parser.tokens[index];
    if (t->type != T_OBJECT) {
        return RS_GIVEUP;
    }
    ptrdiff_t slots[MAX_INDEXED_FIELDS];
    int indexed = node->indexed;
    if (indexed && find_members(r, node, index, slots) != 0) {
        return RS_GIVEUP;
    }
    Buffer *out = &r->out;
    if (buf_char(out, '{') < 0) {
        return RS_NOMEM;
    }
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        const Field *field = &node->fields[i];
        /* the separator and the key in one reservation */
        if (buf_reserve(out, field->key_len + 1) < 0) {
            return RS_NOMEM;
        }
        if (i > 0) {
            out->data[out->len++] = ',';
        }
        copy_short(out->data + out->len, field->key_json, field->key_len);
        out->len += field->key_len;
        if (field->is_typename) {
            if (buf_write(out, node->typename_json, node->typename_len) < 0) {
                return RS_NOMEM;
            }
            continue;
        }
        ptrdiff_t value;
        if (indexed) {
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
            status = buf_write(out, "null", 4) < 0 ? RS_NOMEM : RS_OK;
        } else if (is_plain_text_leaf(r, field->node, &r->parser.tokens[value])) {
            /* most values: a string written as it is, without the calls of write_node */
            status = write_plain_string(r, &r->parser.tokens[value]);
        } else {
            status = write_node(r, field->node, value, depth + 1);
        }
        if (status != RS_OK) {
            return status;
        }
    }
    return buf_char(out, '}') < 0 ? RS_NOMEM : RS_OK;
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
    int status = fq_tokenize(&r->parser, text, len);
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
