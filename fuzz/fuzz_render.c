/*
 * libFuzzer harness of FraiseQL's native core (src/fraiseql/native/plan.c, tokenizer.c, render.c), without Python.
 *
 * Every input is rendered along a set of fixed plans (a tv_post and a tv_user document, a list
 * of posts, every leaf kind nullable and non-null, lists of JSON values) and, when it starts
 * with '#', along a plan decoded from its first bytes:
 *
 *     '#' <n> <n plan bytes> <document>
 *
 * The core must never crash, leak, read out of bounds or hit undefined behaviour (ASan, UBSan
 * and LeakSanitizer watch for that). On top, the harness checks what the renderer writes:
 *   - a rendered document is valid JSON (checked by an independent validator below) whose
 *     strings are valid UTF-8, and the render is deterministic;
 *   - the canonical form of a JSON value is a fixed point: rendering the output of the
 *     JSON-leaf plan again gives the same bytes (or gives up, e.g. on escaped keys).
 * A violation calls abort(), which libFuzzer reports as a crash.
 *
 * Build and run: see fuzz/README.md and fuzz/build.sh.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ---------------------------------------------------------------------------------------- */
/* Hooks of the core: the C library's allocator and number conversions                     */
/* ---------------------------------------------------------------------------------------- */

void *
fq_malloc(size_t size)
{
    return malloc(size ? size : 1);
}

void *
fq_calloc(size_t count, size_t size)
{
    return calloc(count ? count : 1, size ? size : 1);
}

void *
fq_realloc(void *ptr, size_t size)
{
    return realloc(ptr, size ? size : 1);
}

void
fq_free(void *ptr)
{
    free(ptr);
}

int
fq_parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(value)) {
        return -1;
    }
    *out = value;
    return 0;
}

/* The shortest "%.*g" text that reads back as the same double, with ".0" when it looks like an
 * integer: close to Python's repr(float), which the module uses. */
char *
fq_format_double(double value)
{
    char *text = malloc(40);
    if (text == NULL) {
        return NULL;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, 32, "%.*g", precision, value);
        if (strtod(text, NULL) == value) {
            break;
        }
    }
    if (strpbrk(text, ".eEn") == NULL) {
        strcat(text, ".0");
    }
    return text;
}

/* ---------------------------------------------------------------------------------------- */
/* Building plans                                                                           */
/* ---------------------------------------------------------------------------------------- */

static void
out_of_memory(void)
{
    fprintf(stderr, "fuzz_render: out of memory while building a plan\n");
    abort();
}

static char *
copy_text(const char *text, ptrdiff_t *len)
{
    size_t n = strlen(text);
    char *copy = fq_malloc(n + 1);
    if (copy == NULL) {
        out_of_memory();
    }
    memcpy(copy, text, n + 1);
    *len = (ptrdiff_t)n;
    return copy;
}

/* `text` as a JSON string literal, plus `suffix` ("" or ":"). */
static char *
json_literal(const char *text, const char *suffix, ptrdiff_t *len)
{
    char buffer[512];
    size_t n = 0;
    buffer[n++] = '"';
    for (const unsigned char *s = (const unsigned char *)text; *s && n < 400; s++) {
        if (*s == '"' || *s == '\\') {
            buffer[n++] = '\\';
            buffer[n++] = (char)*s;
        } else if (*s < 0x20) {
            n += (size_t)snprintf(buffer + n, 8, "\\u%04x", *s);
        } else {
            buffer[n++] = (char)*s;
        }
    }
    buffer[n++] = '"';
    buffer[n] = '\0';
    strcat(buffer, suffix);
    return copy_text(buffer, len);
}

static Node *
new_node(int kind, int nullable, int leaf)
{
    Node *node = fq_calloc(1, sizeof(Node));
    if (node == NULL) {
        out_of_memory();
    }
    node->kind = kind;
    node->nullable = nullable;
    node->leaf = leaf;
    return node;
}

static Node *
leaf(int code, int nullable)
{
    return new_node(N_LEAF, nullable, code);
}

static Node *
list_of(Node *item, int nullable)
{
    Node *node = new_node(N_LIST, nullable, 0);
    node->item = item;
    return node;
}

static Node *
object(const char *type_name, int nullable)
{
    Node *node = new_node(N_OBJECT, nullable, 0);
    node->typename_json = json_literal(type_name, "", &node->typename_len);
    node->fields = fq_calloc(1, sizeof(Field)); /* the module never leaves it NULL either */
    if (node->fields == NULL) {
        out_of_memory();
    }
    return node;
}

/* Add a field: `child` NULL makes it a __typename field. */
static Node *
with(Node *object, const char *key, const char *source, Node *child)
{
    Field *grown = fq_realloc(object->fields, (size_t)(object->nfields + 1) * sizeof(Field));
    if (grown == NULL) {
        out_of_memory();
    }
    object->fields = grown;
    Field *field = &object->fields[object->nfields++];
    memset(field, 0, sizeof *field);
    field->key_json = json_literal(key, ":", &field->key_len);
    field->source = copy_text(source, &field->source_len);
    field->is_typename = (child == NULL);
    field->node = child;
    fq_node_index(object);
    return object;
}

static Node *
field_leaf(Node *object, const char *name, int code, int nullable)
{
    return with(object, name, name, leaf(code, nullable));
}

/* An enum leaf: stored values and GraphQL names, NULL-terminated. */
static Node *
enum_leaf(int nullable, const char *const *stored, const char *const *names)
{
    Node *node = leaf(L_ENUM, nullable);
    ptrdiff_t n = 0;
    while (stored[n] != NULL) {
        n++;
    }
    node->enums = fq_calloc((size_t)n, sizeof(EnumEntry));
    if (node->enums == NULL) {
        out_of_memory();
    }
    node->nenum = n;
    for (ptrdiff_t i = 0; i < n; i++) {
        node->enums[i].stored = copy_text(stored[i], &node->enums[i].stored_len);
        node->enums[i].name_json = json_literal(names[i], "", &node->enums[i].name_len);
    }
    return node;
}

static const char *const STATUS_STORED[] = {"draft", "published", "archived", "published", NULL};
static const char *const STATUS_NAMES[] = {"DRAFT", "PUBLISHED", "ARCHIVED", "LIVE", NULL};
static const char *const ROLE_STORED[] = {"admin", "author", "reader", "caf\xc3\xa9", "", NULL};
static const char *const ROLE_NAMES[] = {"ADMIN", "AUTHOR", "READER", "CAFE", "EMPTY", NULL};

static Node *
author_plan(int with_email)
{
    Node *author = object("Author", 0);
    with(author, "__typename", "__typename", NULL);
    field_leaf(author, "id", L_UUID, 0);
    field_leaf(author, "identifier", L_STRING, 0);
    field_leaf(author, "name", L_STRING, 0);
    if (with_email) {
        field_leaf(author, "email", L_STRING, 1);
    }
    return author;
}

static Node *
post_plan(int nullable)
{
    Node *comment = object("PostComment", 0);
    field_leaf(comment, "id", L_UUID, 0);
    field_leaf(comment, "body", L_STRING, 0);
    with(comment, "createdAt", "created_at", leaf(L_STRING, 0));
    with(comment, "author", "author", author_plan(0));

    Node *post = object("Post", nullable);
    with(post, "__typename", "__typename", NULL);
    field_leaf(post, "id", L_UUID, 0);
    field_leaf(post, "identifier", L_STRING, 0);
    with(post, "headline", "title", leaf(L_STRING, 0)); /* an alias */
    field_leaf(post, "body", L_STRING, 0);
    with(post, "status", "status", enum_leaf(0, STATUS_STORED, STATUS_NAMES));
    with(post, "tags", "tags", list_of(leaf(L_STRING, 0), 0));
    field_leaf(post, "rating", L_FLOAT, 1);
    with(post, "viewCount", "view_count", leaf(L_INT, 0));
    with(post, "publishedAt", "published_at", leaf(L_STRING, 1));
    with(post, "createdAt", "created_at", leaf(L_STRING, 0));
    with(post, "categoryPath", "category_path", leaf(L_STRING, 0));
    with(post, "author", "author", author_plan(1));
    with(post, "comments", "comments", list_of(comment, 0));
    with(post, "a\"q\\uot\xc3\xa9", "price", leaf(L_DECIMAL, 1)); /* a key JSON must escape */
    field_leaf(post, "meta", L_JSON, 1);
    field_leaf(post, "ident", L_ID, 1);
    with(post, "again", "id", leaf(L_ID, 0)); /* a second field on one source */
    return post;
}

static Node *
user_plan(void)
{
    Node *organisation = object("OrganisationRef", 1);
    field_leaf(organisation, "id", L_UUID, 0);
    field_leaf(organisation, "identifier", L_STRING, 0);
    field_leaf(organisation, "name", L_STRING, 0);

    Node *user = object("User", 1);
    field_leaf(user, "id", L_UUID, 0);
    field_leaf(user, "identifier", L_STRING, 0);
    field_leaf(user, "name", L_STRING, 0);
    field_leaf(user, "email", L_STRING, 0);
    with(user, "role", "role", enum_leaf(0, ROLE_STORED, ROLE_NAMES));
    field_leaf(user, "bio", L_STRING, 1);
    with(user, "createdAt", "created_at", leaf(L_STRING, 0));
    with(user, "organisation", "organisation", organisation);
    field_leaf(user, "score", L_FLOAT, 1);
    field_leaf(user, "active", L_BOOLEAN, 1);
    with(user, "__typename", "__typename", NULL);
    return user;
}

/* ---------------------------------------------------------------------------------------- */
/* Plans decoded from the input                                                             */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
    int budget; /* nodes left */
} Cursor;

static unsigned
next_byte(Cursor *c)
{
    return c->pos < c->size ? c->data[c->pos++] : 0;
}

static const char *const SOURCES[] = {
    "id", "a", "b", "name", "", "\xc3\xa9", "k\"q", "__typename", "x y", "tags", "data", "0",
};

static Node *
decode_plan(Cursor *c, int depth)
{
    unsigned b = next_byte(c);
    int nullable = (int)(b & 1);
    int kind = (int)((b >> 1) % 3);
    c->budget--;
    if (depth >= 12 || c->budget <= 0) {
        kind = 0;
    }
    if (kind == 0) {
        int code = (int)((b >> 3) % 9);
        if (code == L_ENUM) {
            return enum_leaf(nullable, ROLE_STORED, ROLE_NAMES);
        }
        return leaf(code, nullable);
    }
    if (kind == 2) {
        return list_of(decode_plan(c, depth + 1), nullable);
    }
    Node *node = object("T", nullable);
    unsigned count = next_byte(c) % 6;
    for (unsigned i = 0; i < count; i++) {
        unsigned k = next_byte(c);
        const char *source = SOURCES[k % (sizeof SOURCES / sizeof SOURCES[0])];
        char key[16];
        snprintf(key, sizeof key, "f%u", i);
        with(node, key, source, (k & 0x80) ? NULL : decode_plan(c, depth + 1));
    }
    return node;
}

/* ---------------------------------------------------------------------------------------- */
/* An independent validator of the renderer's output: JSON grammar, UTF-8 in strings         */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    const unsigned char *s;
    size_t n;
    size_t i;
} Reader;

static void
ws(Reader *r)
{
    while (r->i < r->n && strchr(" \t\r\n", r->s[r->i]) != NULL && r->s[r->i] != '\0') {
        r->i++;
    }
}

static int
digits(Reader *r)
{
    size_t start = r->i;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') {
        r->i++;
    }
    return r->i > start;
}

static int
utf8_ok(Reader *r)
{
    unsigned char c = r->s[r->i];
    int extra;
    unsigned min;
    unsigned cp;
    if (c < 0x80) {
        r->i++;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (r->n - r->i <= (size_t)extra) {
        return 0;
    }
    for (int k = 1; k <= extra; k++) {
        unsigned char next = r->s[r->i + (size_t)k];
        if ((next & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    r->i += (size_t)extra + 1;
    return 1;
}

static int
valid_string(Reader *r)
{
    r->i++; /* the opening quote */
    while (r->i < r->n) {
        unsigned char c = r->s[r->i];
        if (c == '"') {
            r->i++;
            return 1;
        }
        if (c < 0x20) {
            return 0;
        }
        if (c == '\\') {
            if (r->i + 1 >= r->n) {
                return 0;
            }
            unsigned char e = r->s[r->i + 1];
            if (e == 'u') {
                if (r->n - r->i < 6) {
                    return 0;
                }
                for (int k = 2; k < 6; k++) {
                    if (strchr("0123456789abcdefABCDEF", r->s[r->i + (size_t)k]) == NULL ||
                        r->s[r->i + (size_t)k] == '\0') {
                        return 0;
                    }
                }
                r->i += 6;
            } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                r->i += 2;
            } else {
                return 0;
            }
            continue;
        }
        if (!utf8_ok(r)) {
            return 0;
        }
    }
    return 0;
}

static int
valid_value(Reader *r, int depth)
{
    ws(r);
    if (r->i >= r->n || depth > 4096) {
        return 0;
    }
    unsigned char c = r->s[r->i];
    if (c == '{' || c == '[') {
        unsigned char close = (c == '{') ? '}' : ']';
        r->i++;
        ws(r);
        if (r->i < r->n && r->s[r->i] == close) {
            r->i++;
            return 1;
        }
        for (;;) {
            if (c == '{') {
                ws(r);
                if (r->i >= r->n || r->s[r->i] != '"' || !valid_string(r)) {
                    return 0;
                }
                ws(r);
                if (r->i >= r->n || r->s[r->i] != ':') {
                    return 0;
                }
                r->i++;
            }
            if (!valid_value(r, depth + 1)) {
                return 0;
            }
            ws(r);
            if (r->i >= r->n) {
                return 0;
            }
            if (r->s[r->i] == ',') {
                r->i++;
                continue;
            }
            if (r->s[r->i] == close) {
                r->i++;
                return 1;
            }
            return 0;
        }
    }
    if (c == '"') {
        return valid_string(r);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        if (c == '-') {
            r->i++;
        }
        if (r->i < r->n && r->s[r->i] == '0') {
            r->i++;
        } else if (!digits(r)) {
            return 0;
        }
        if (r->i < r->n && r->s[r->i] == '.') {
            r->i++;
            if (!digits(r)) {
                return 0;
            }
        }
        if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
            r->i++;
            if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) {
                r->i++;
            }
            if (!digits(r)) {
                return 0;
            }
        }
        return 1;
    }
    static const char *const WORDS[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t len = strlen(WORDS[k]);
        if (r->n - r->i >= len && memcmp(r->s + r->i, WORDS[k], len) == 0) {
            r->i += len;
            return 1;
        }
    }
    return 0;
}

static int
valid_json(const char *text, ptrdiff_t len)
{
    Reader r = {(const unsigned char *)text, (size_t)len, 0};
    if (!valid_value(&r, 0)) {
        return 0;
    }
    ws(&r);
    return r.i == r.n;
}

/* ---------------------------------------------------------------------------------------- */
/* The target                                                                               */
/* ---------------------------------------------------------------------------------------- */

static void
fail(const char *what, const Buffer *out)
{
    fprintf(stderr, "fuzz_render: %s\n", what);
    if (out != NULL && out->data != NULL) {
        fprintf(stderr, "output (%ld bytes): %.*s\n", (long)out->len, (int)(out->len > 2000 ? 2000 : out->len),
                out->data);
    }
    abort();
}

enum { NPLANS_MAX = 32 };
static Node *plans[NPLANS_MAX];
static int nplans;
static Node *json_plan; /* a nullable JSON leaf */

static void
setup(void)
{
    if (nplans > 0) {
        return;
    }
    plans[nplans++] = post_plan(1);
    plans[nplans++] = post_plan(0);
    plans[nplans++] = user_plan();
    plans[nplans++] = list_of(post_plan(0), 0);
    plans[nplans++] = list_of(list_of(leaf(L_JSON, 1), 1), 0);
    for (int code = L_STRING; code <= L_JSON; code++) {
        plans[nplans++] = leaf(code, 1);
        plans[nplans++] = leaf(code, 0);
    }
    plans[nplans++] = enum_leaf(0, STATUS_STORED, STATUS_NAMES);
    json_plan = plans[4]->item->item;
}

/* Render `data` along `node`; checks the output; returns the status. */
static int
render(const Node *node, const uint8_t *data, size_t size, Buffer *keep)
{
    Render r;
    memset(&r, 0, sizeof r);
    int status = fq_render_text(&r, node, (const char *)data, (ptrdiff_t)size);
    if (status == RS_NOMEM) {
        fail("RS_NOMEM without a failed allocation", NULL);
    }
    if (status != RS_OK && status != RS_GIVEUP) {
        fail("unknown status", NULL);
    }
    if (status == RS_OK) {
        if (!valid_json(r.out.data, r.out.len)) {
            fail("the renderer wrote invalid JSON", &r.out);
        }
        /* the same input renders the same way */
        Render again;
        memset(&again, 0, sizeof again);
        int status2 = fq_render_text(&again, node, (const char *)data, (ptrdiff_t)size);
        if (status2 != RS_OK || again.out.len != r.out.len ||
            memcmp(again.out.data, r.out.data, (size_t)r.out.len) != 0) {
            fail("the render is not deterministic", &r.out);
        }
        fq_render_release(&again);
        if (keep != NULL) {
            *keep = r.out; /* ownership moves to the caller */
            r.out.data = NULL;
        }
    }
    fq_render_release(&r);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    const uint8_t *document = data;
    size_t length = size;
    Node *decoded = NULL;
    if (size >= 2 && data[0] == '#') {
        size_t n = data[1];
        if (n > size - 2) {
            n = size - 2;
        }
        Cursor cursor = {data + 2, n, 0, 64};
        decoded = decode_plan(&cursor, 0);
        document = data + 2 + n;
        length = size - 2 - n;
    }
    for (int i = 0; i < nplans; i++) {
        render(plans[i], document, length, NULL);
    }
    if (decoded != NULL) {
        render(decoded, document, length, NULL);
        fq_node_free(decoded);
    }
    /* the canonical form of a JSON value is a fixed point */
    Buffer first = {NULL, 0, 0};
    if (render(json_plan, document, length, &first) == RS_OK) {
        Buffer second = {NULL, 0, 0};
        if (render(json_plan, (const uint8_t *)first.data, (size_t)first.len, &second) == RS_OK &&
            (second.len != first.len || memcmp(second.data, first.data, (size_t)first.len) != 0)) {
            fail("canonical JSON is not a fixed point", &second);
        }
        fq_free(second.data);
    }
    fq_free(first.data);
    return 0;
}
