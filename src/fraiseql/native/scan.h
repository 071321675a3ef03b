/*
 * Byte-level helpers of the core, shared by the tokenizer and the renderer: finding the end of
 * plain string text, UTF-8 sequences, \u escapes and UUID text. Where SSE2 is available (every
 * x86-64 compiler), 16 bytes are tested at once; elsewhere 8 bytes a word at a time.
 */
#ifndef FRAISEQL_SCAN_H
#define FRAISEQL_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define FQ_SSE2 1
#endif

#if defined(__GNUC__)
#define FQ_INLINE static inline __attribute__((always_inline))
#define FQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define FQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define FQ_INLINE static inline
#define FQ_LIKELY(x) (x)
#define FQ_UNLIKELY(x) (x)
#endif

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

/*
 * The first byte at or after `pos` (below `len`) that is '"', '\\', a control byte or not ASCII,
 * or `len`: the end of a run of string text that needs no closer look.
 */
static inline ptrdiff_t
skip_plain_text(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len)
{
#ifdef FQ_SSE2
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(' ');
    while (len - pos >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + pos));
        /* signed: bytes of 0x80 and above are negative, so "< ' '" also finds non-ASCII */
        __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                 _mm_cmpeq_epi8(v, backslash)),
                                    _mm_cmplt_epi8(v, space));
        int mask = _mm_movemask_epi8(hits);
        if (mask != 0) {
            return pos + __builtin_ctz((unsigned)mask);
        }
        pos += 16;
    }
#endif
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
static inline int
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

/* The value of four hex digits, or -1 when one is not a hex digit. */
static inline int
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

#ifdef FQ_SSE2
/* Bit i set when byte i of the 16 at s is a lower-case hex digit; `dashes` likewise for '-'. */
static inline unsigned
lower_hex_mask(const unsigned char *s, unsigned *dashes)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(v, _mm_set1_epi8('f' + 1)));
    *dashes = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, letter));
}
#endif

/* Whether the n bytes at s are a UUID as Python's str(uuid.UUID(...)) writes it. */
static inline int
is_canonical_uuid(const unsigned char *s, ptrdiff_t n)
{
    if (n != 36) {
        return 0;
    }
#ifdef FQ_SSE2
    /* bytes 0-15 (dashes at 8 and 13), 16-31 (18 and 23), 20-35 (23) */
    static const unsigned expected[3] = {(1u << 8) | (1u << 13), (1u << 2) | (1u << 7), 1u << 3};
    static const unsigned char offsets[3] = {0, 16, 20};
    for (int i = 0; i < 3; i++) {
        unsigned dashes;
        unsigned hex = lower_hex_mask(s + offsets[i], &dashes);
        if (dashes != expected[i] || hex != (~expected[i] & 0xFFFFu)) {
            return 0;
        }
    }
    return 1;
#else
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        return 0;
    }
    int ok = 1;
    for (ptrdiff_t i = 0; i < 36; i++) {
        unsigned char c = s[i];
        ok &= (i == 8 || i == 13 || i == 18 || i == 23) || (unsigned char)(c - '0') < 10 ||
              (unsigned char)(c - 'a') < 6;
    }
    return ok;
#endif
}

/*
 * Short byte runs (member names, keys, most values) compared and copied with overlapping word
 * loads and stores inside their own bounds, instead of a call to memcmp or memcpy.
 */
static inline uint64_t
load8(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t
load4(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Whether the n bytes at a and b are equal. */
static inline int
same_bytes(const char *a, const char *b, ptrdiff_t n)
{
    if (n >= 8) {
        if (n > 16) {
            return memcmp(a, b, (size_t)n) == 0;
        }
        return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
    }
    if (n >= 4) {
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    }
    for (ptrdiff_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* Copy n bytes from src to dst (not overlapping). */
static inline void
copy_short(char *dst, const char *src, ptrdiff_t n)
{
#ifdef FQ_SSE2
    if (n > 16 && n <= 64) { /* 16-byte chunks, the last one overlapping: UUIDs, timestamps */
        __m128i tail = _mm_loadu_si128((const __m128i *)(const void *)(src + n - 16));
        for (ptrdiff_t i = 0; i < n - 16; i += 16) {
            _mm_storeu_si128((__m128i *)(void *)(dst + i),
                             _mm_loadu_si128((const __m128i *)(const void *)(src + i)));
        }
        _mm_storeu_si128((__m128i *)(void *)(dst + n - 16), tail);
        return;
    }
#endif
    if (n >= 8 && n <= 16) {
        uint64_t head = load8(src);
        uint64_t tail = load8(src + n - 8);
        memcpy(dst, &head, 8);
        memcpy(dst + n - 8, &tail, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t head = load4(src);
        uint32_t tail = load4(src + n - 4);
        memcpy(dst, &head, 4);
        memcpy(dst + n - 4, &tail, 4);
    } else {
        memcpy(dst, src, (size_t)n);
    }
}

#endif
