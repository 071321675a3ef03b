/*
 * The core of the native response builder, in plain C99: plans, the validating JSON tokenizer
 * and the renderer. It knows nothing of Python; the module (_native.c) and the fuzz harness
 * (fuzz/fuzz_render.c) each provide the four hooks declared at the end.
 */
#ifndef FRAISEQL_CORE_H
#define FRAISEQL_CORE_H

#include <stddef.h>
#include <stdint.h>

#define MAX_DEPTH 512 /* JSON nesting the C parser accepts; deeper input goes to Python */

enum { N_LEAF = 0, N_OBJECT = 1, N_LIST = 3 };

enum {
    L_STRING = 0,  /* JSON strings as they are; anything else goes to Python */
    L_INT,         /* 32-bit integer literals */
    L_FLOAT,       /* numbers, written as Python's repr(float(x)) */
    L_BOOLEAN,
    L_ID,          /* strings, or integer literals written as strings */
    L_UUID,        /* canonical lowercase UUID strings only */
    L_DECIMAL,     /* plain decimal strings, integer literals */
    L_JSON,        /* any JSON value, re-written canonically */
    L_ENUM         /* stored string value -> GraphQL name */
};

typedef struct Node Node;

typedef struct {
    char *key_json;      /* '"responseKey":' */
    ptrdiff_t key_len;
    char *source;        /* the JSON key to read */
    ptrdiff_t source_len;
    int is_typename;
    Node *node;
} Field;

typedef struct {
    char *stored;
    ptrdiff_t stored_len;
    char *name_json;     /* '"NAME"' */
    ptrdiff_t name_len;
} EnumEntry;

struct Node {
    int kind;
    int nullable;
    int leaf;
    ptrdiff_t nfields;
    Field *fields;
    Node *item;
    char *typename_json; /* '"Type"' for __typename */
    ptrdiff_t typename_len;
    ptrdiff_t nenum;
    EnumEntry *enums;
};




enum { T_OBJECT, T_ARRAY, T_STRING, T_NUMBER, T_TRUE, T_FALSE, T_NULL };

#define F_ESCAPED 1   /* string holds a backslash escape */
#define F_INTEGER 2   /* number has no fraction or exponent */

typedef struct {
    uint8_t type;
    uint8_t flags;
    ptrdiff_t start; /* strings: first byte inside the quotes; others: first byte */
    ptrdiff_t end;   /* one past the last byte (strings: the closing quote) */
    ptrdiff_t next;  /* index of the token after this value and its children */
    ptrdiff_t count; /* members (objects) or items (arrays) */
} Token;

typedef struct {
    const unsigned char *s;
    ptrdiff_t len;
    ptrdiff_t pos;
    Token *tokens;
    ptrdiff_t ntokens;
    ptrdiff_t cap;
    int giveup; /* the input needs the Python builder (invalid or unusual) */
} Parser;


typedef struct {
    char *data;
    ptrdiff_t len;
    ptrdiff_t cap;
} Buffer;


/* Result of a render step: OK, GIVEUP (use Python), NOMEM (Python error set). */
enum { RS_OK = 0, RS_GIVEUP = 1, RS_NOMEM = -1 };

typedef struct {
    Parser parser;
    Buffer out;
    Buffer scratch; /* for the embedder: e.g. a row's text converted to UTF-8 */
} Render;


/* Free a plan node and everything under it. */
void fq_node_free(Node *node);

/* Render one document (UTF-8 JSON text) along `node`, appending to r->out. */
int fq_render_text(Render *r, const Node *node, const char *text, ptrdiff_t len);

/* Append raw bytes to a buffer; 0 or -1 (out of memory). */
int fq_buf_write(Buffer *b, const char *s, ptrdiff_t n);

/* Make room for `extra` more bytes in a buffer; 0 or -1 (out of memory). */
int fq_buf_reserve(Buffer *b, ptrdiff_t extra);

/* Release the memory of a render (output, scratch and tokens). */
void fq_render_release(Render *r);

/* Hooks provided by the embedder. */
void *fq_malloc(size_t size);
void *fq_calloc(size_t count, size_t size);
void *fq_realloc(void *ptr, size_t size);
void fq_free(void *ptr);
/* Parse a JSON number's text (NUL-terminated) into a finite double: 0, or -1 when not finite. */
int fq_parse_double(const char *text, double *out);
/* Write repr(float) of a finite double into a fresh fq_malloc'ed string; NULL when out of memory. */
char *fq_format_double(double value);

#endif
