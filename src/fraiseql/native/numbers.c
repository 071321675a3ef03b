/*
 * Numbers as the Python builder writes them: integer literals as Python's int prints them,
 * floats as repr(float), decimals (strings or number tokens) that str(Decimal) leaves
 * unchanged. See values.c for their use by scalar kind.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

/* Integer literal → canonical digits (as Python's int would print), when it fits in int64. */
int
fq_integer_value(const unsigned char *text, const Token *t, long long *out)
{
    ptrdiff_t n = t->end - t->start;
    if (!(t->flags & F_INTEGER) || n > 19) {
        return -1;
    }
    const unsigned char *s = text + t->start;
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

int
fq_write_integer(Buffer *b, long long v)
{
    char tmp[32];
    char *digits = integer_digits(v, tmp);
    return buf_write(b, digits, tmp + 32 - digits) < 0 ? RS_NOMEM : RS_OK;
}

/* An integer as a JSON string: "123". */
int
fq_write_quoted_integer(Buffer *b, long long v)
{
    char tmp[34];
    char *digits = integer_digits(v, tmp + 1);
    *--digits = '"';
    tmp[33] = '"';
    return buf_write(b, digits, tmp + 34 - digits) < 0 ? RS_NOMEM : RS_OK;
}

/* A number token as a double (the value orjson.loads then float() gives). */
int
fq_double_value(const unsigned char *s, const Token *t, double *out)
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
    memcpy(tmp, s + t->start, (size_t)n);
    tmp[n] = '\0';
    int ok = fq_parse_double(tmp, out) == 0;
    if (tmp != stack) {
        fq_free(tmp);
    }
    return ok ? 0 : -1;
}

int
fq_write_float(Buffer *b, double v)
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
int
fq_write_number(Buffer *b, const unsigned char *s, const Token *t)
{
    long long iv;
    if (t->flags & F_INTEGER) {
        if (fq_integer_value(s, t, &iv) < 0) {
            return RS_GIVEUP;
        }
        return fq_write_integer(b, iv);
    }
    if (is_short_float_text(s + t->start, t->end - t->start)) {
        return buf_write(b, (const char *)s + t->start, t->end - t->start) < 0
                   ? RS_NOMEM
                   : RS_OK;
    }
    double dv;
    if (fq_double_value(s, t, &dv) < 0) {
        return RS_GIVEUP;
    }
    return fq_write_float(b, dv);
}

/*
 * A plain decimal (the text of a string or of a number token) that str(Decimal(s)) leaves
 * unchanged: -?(0|[1-9][0-9]*)(.[0-9]+)?, except "0.<6 or more zeros>..." whose adjusted
 * exponent is below -6: str() writes those in exponent form ("0.0000001" -> "1E-7",
 * "0.0000000" -> "0E-7"). At most 1000 bytes.
 */
int
fq_is_plain_decimal(const unsigned char *s, ptrdiff_t n)
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
