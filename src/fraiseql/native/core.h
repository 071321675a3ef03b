/*
 * The core of the native response builder, in plain C99: plans (plan.c), the streaming
 * renderer (render.c) that reads a document along a plan, the value writers (values.c) and
 * the validating JSON tokenizer (tokenizer.c) for JSON scalar values. It knows nothing of
 * Python; the module (_native.c) and the fuzz harness (fuzz/fuzz_render.c) each provide the
 * hooks declared at the end. lexer.h reads JSON scalars; scan.h holds the byte-level helpers
 * under it.
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
    L_DECIMAL,     /* plain decimal strings and numbers, quoted as str(Decimal) leaves them */
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
    unsigned char next_in_bucket; /* 1 + the next field of the same bucket, or 0 */
} Field;

/* Object nodes with at most this many fields find their members through `bucket`. */
#define MAX_INDEXED_FIELDS 64
#define FIELD_BUCKETS 64 /* a power of two */

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
    int reads;                            /* a field other than __typename (fq_node_index) */
    int indexed;                          /* fq_node_index() built `bucket` */
    unsigned char bucket[FIELD_BUCKETS];  /* by member_hash(): 1 + a field's index, or 0 */
};

/* The bucket of a member name: a few of its bytes, so that a lookup compares few names. */
static inline unsigned
member_hash(const char *name, ptrdiff_t n)
{
    if (n == 0) {
        return 0;
    }
    const unsigned char *s = (const unsigned char *)name;
    return ((unsigned)n * 31u + s[0] * 7u + s[n - 1]) & (FIELD_BUCKETS - 1);
}

enum { T_OBJECT, T_ARRAY, T_STRING, T_NUMBER, T_TRUE, T_FALSE, T_NULL,
       T_MISSING,    /* a slot: no member of that name */
       T_MISMATCH,   /* a slot: a value its field cannot take (Python decides) */
       T_RENDERED }; /* a slot: an object or list already written, at [start, end) of tmp */

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

/* A text being read: its bytes, length and position, and the tokens fq_tokenize records. */
typedef struct {
    const unsigned char *s;
    ptrdiff_t len;
    ptrdiff_t pos;
    Token *tokens;
    ptrdiff_t ntokens;
    ptrdiff_t cap;
} Parser;

typedef struct Buffer Buffer;
struct Buffer {
    char *data;
    ptrdiff_t len;
    ptrdiff_t cap;
    /*
     * Memory the embedder provides instead of fq_realloc/fq_free (e.g. the bytes object it will
     * return, so that the response is not copied): `resize` sets data and cap to hold at least
     * `cap` bytes (0), or fails (-1); `owner` is the embedder's, never freed by the core.
     */
    int (*resize)(Buffer *b, ptrdiff_t cap);
    void *owner;
};

/* Result of a render step: OK, GIVEUP (use Python), NOMEM (Python error set). */
enum { RS_OK = 0, RS_GIVEUP = 1, RS_NOMEM = -1 };

typedef struct {
    Parser doc;          /* the document being read (its token array is not used) */
    Parser json;         /* the tokens of a JSON scalar field's object or array value */
    Buffer out;
    Buffer tmp;          /* nested objects and lists written before their parent object */
    Token *slots;        /* a stack of the members found in the objects being read */
    ptrdiff_t nslots;
    ptrdiff_t slots_cap;
    Buffer scratch;      /* for the embedder: e.g. a row's text converted to UTF-8 */
} Render;

/* Free a plan node and everything under it. */
void fq_node_free(Node *node);

/* Build an object node's member lookup once its fields are set (call again after a change). */
void fq_node_index(Node *node);

/* Render one document (UTF-8 JSON text) along `node`, appending to r->out. */
int fq_render_text(Render *r, const Node *node, const char *text, ptrdiff_t len);

/* Append valid UTF-8 text as a JSON string, escaped as orjson.dumps does; 0 or -1 (memory). */
int fq_write_json_string(Buffer *b, const char *text, ptrdiff_t len);

/* Append raw bytes to a buffer; 0 or -1 (out of memory). */
int fq_buf_write(Buffer *b, const char *s, ptrdiff_t n);

/* Make room for `extra` more bytes in a buffer; 0 or -1 (out of memory). */
int fq_buf_reserve(Buffer *b, ptrdiff_t extra);

/* Release the memory of a render (buffers, slots and tokens; not an `owner`'s). */
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
