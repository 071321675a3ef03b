/*
 * fraiseql._native: the Python binding of the native response builder (see core.h).
 *
 * A plan (compiled once per root field from the Python Shape) says which keys to take from a
 * read-model JSON document and how to write them. render_one/render_rows turn PostgreSQL's JSON
 * text into the JSON bytes of a root field's value.
 *
 * The C core only produces output on the ordinary path. Whenever the Python builder would
 * report an error or could decide differently (invalid JSON, a null in a non-null position, a
 * value a scalar must convert, duplicate keys in a JSON value, numbers beyond int64, nesting
 * deeper than MAX_DEPTH, ...), it returns None and the caller runs the Python builder on the
 * same input. Output is byte-identical to the Python builder by construction on the paths it
 * handles, and by delegation everywhere else.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#include "core.h"
#include "scan.h"

/* ---------------------------------------------------------------------------------------- */
/* Hooks of the core                                                                        */
/* ---------------------------------------------------------------------------------------- */

void *
fq_malloc(size_t size)
{
    return PyMem_Malloc(size);
}

void *
fq_calloc(size_t count, size_t size)
{
    return PyMem_Calloc(count, size);
}

void *
fq_realloc(void *ptr, size_t size)
{
    return PyMem_Realloc(ptr, size);
}

void
fq_free(void *ptr)
{
    PyMem_Free(ptr);
}

int
fq_parse_double(const char *text, double *out)
{
    char *end;
    double value = PyOS_string_to_double(text, &end, NULL);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (*end != '\0' || !isfinite(value)) {
        return -1;
    }
    *out = value;
    return 0;
}

char *
fq_format_double(double value)
{
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) {
        PyErr_Clear();
        return NULL;
    }
    /* PyOS_double_to_string allocates with PyMem_Malloc, which fq_free releases. */
    return text;
}

/* ---------------------------------------------------------------------------------------- */
/* Plans                                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    Node *root;
} PlanObject;

/* Copy a bytes object into a fresh buffer. */
static int
copy_bytes(PyObject *obj, char **out, Py_ssize_t *len)
{
    char *data;
    Py_ssize_t size;
    if (!PyBytes_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "plan: expected bytes");
        return -1;
    }
    if (PyBytes_AsStringAndSize(obj, &data, &size) < 0) {
        return -1;
    }
    *out = PyMem_Malloc(size > 0 ? (size_t)size : 1);
    if (*out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(*out, data, (size_t)size);
    *len = size;
    return 0;
}

/*
 * A node description is a tuple built by fraiseql.native.c_builder:
 *   (kind, nullable, leaf, typename_json, fields, item, enums)
 * fields: tuple of (key_json, source, is_typename, node-or-None)
 * enums: tuple of (stored, name_json) or None
 */
static Node *
node_from_tuple(PyObject *desc, int depth)
{
    if (depth > 256) {
        PyErr_SetString(PyExc_ValueError, "plan: nesting too deep");
        return NULL;
    }
    if (!PyTuple_Check(desc) || PyTuple_GET_SIZE(desc) != 7) {
        PyErr_SetString(PyExc_TypeError, "plan: node must be a 7-tuple");
        return NULL;
    }
    Node *node = PyMem_Calloc(1, sizeof(Node));
    if (node == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    node->kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(desc, 0));
    node->nullable = PyObject_IsTrue(PyTuple_GET_ITEM(desc, 1));
    node->leaf = (int)PyLong_AsLong(PyTuple_GET_ITEM(desc, 2));
    if (PyErr_Occurred() || node->nullable < 0) {
        goto fail;
    }
    PyObject *typename_json = PyTuple_GET_ITEM(desc, 3);
    if (typename_json != Py_None &&
        copy_bytes(typename_json, &node->typename_json, &node->typename_len) < 0) {
        goto fail;
    }
    PyObject *fields = PyTuple_GET_ITEM(desc, 4);
    if (fields != Py_None) {
        if (!PyTuple_Check(fields)) {
            PyErr_SetString(PyExc_TypeError, "plan: fields must be a tuple");
            goto fail;
        }
        Py_ssize_t n = PyTuple_GET_SIZE(fields);
        node->fields = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(Field));
        if (node->fields == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        node->nfields = n;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *f = PyTuple_GET_ITEM(fields, i);
            if (!PyTuple_Check(f) || PyTuple_GET_SIZE(f) != 4) {
                PyErr_SetString(PyExc_TypeError, "plan: field must be a 4-tuple");
                goto fail;
            }
            Field *field = &node->fields[i];
            if (copy_bytes(PyTuple_GET_ITEM(f, 0), &field->key_json, &field->key_len) < 0 ||
                copy_bytes(PyTuple_GET_ITEM(f, 1), &field->source, &field->source_len) < 0) {
                goto fail;
            }
            field->is_typename = PyObject_IsTrue(PyTuple_GET_ITEM(f, 2));
            if (field->is_typename < 0) {
                goto fail;
            }
            PyObject *child = PyTuple_GET_ITEM(f, 3);
            if (child != Py_None) {
                field->node = node_from_tuple(child, depth + 1);
                if (field->node == NULL) {
                    goto fail;
                }
            } else if (!field->is_typename) {
                PyErr_SetString(PyExc_TypeError, "plan: a field needs a node");
                goto fail;
            }
        }
    }
    PyObject *item = PyTuple_GET_ITEM(desc, 5);
    if (item != Py_None) {
        node->item = node_from_tuple(item, depth + 1);
        if (node->item == NULL) {
            goto fail;
        }
    }
    PyObject *enums = PyTuple_GET_ITEM(desc, 6);
    if (enums != Py_None) {
        if (!PyTuple_Check(enums)) {
            PyErr_SetString(PyExc_TypeError, "plan: enums must be a tuple");
            goto fail;
        }
        Py_ssize_t n = PyTuple_GET_SIZE(enums);
        node->enums = PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof(EnumEntry));
        if (node->enums == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        node->nenum = n;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *e = PyTuple_GET_ITEM(enums, i);
            if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 2) {
                PyErr_SetString(PyExc_TypeError, "plan: enum entry must be a 2-tuple");
                goto fail;
            }
            if (copy_bytes(PyTuple_GET_ITEM(e, 0), &node->enums[i].stored,
                           &node->enums[i].stored_len) < 0 ||
                copy_bytes(PyTuple_GET_ITEM(e, 1), &node->enums[i].name_json,
                           &node->enums[i].name_len) < 0) {
                goto fail;
            }
        }
    }
    if ((node->kind == N_LIST && node->item == NULL) ||
        (node->kind == N_OBJECT && node->fields == NULL) ||
        (node->kind != N_LEAF && node->kind != N_OBJECT && node->kind != N_LIST) ||
        (node->kind == N_LEAF && (node->leaf < L_STRING || node->leaf > L_ENUM))) {
        PyErr_SetString(PyExc_ValueError, "plan: inconsistent node");
        goto fail;
    }
    fq_node_index(node);
    return node;
fail:
    fq_node_free(node);
    return NULL;
}

static void
plan_dealloc(PlanObject *self)
{
    fq_node_free(self->root);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fraiseql._native.Plan",
    .tp_doc = "A compiled projection plan of one root field.",
    .tp_basicsize = sizeof(PlanObject),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)plan_dealloc,
};

static PyObject *
compile_plan(PyObject *module, PyObject *desc)
{
    (void)module;
    Node *root = node_from_tuple(desc, 0);
    if (root == NULL) {
        return NULL;
    }
    PlanObject *plan = PyObject_New(PlanObject, &PlanType);
    if (plan == NULL) {
        fq_node_free(root);
        return NULL;
    }
    plan->root = root;
    return (PyObject *)plan;
}

/* Write code point c as UTF-8 at out; returns the end, or NULL for a surrogate (no UTF-8). */
static inline unsigned char *
encode_code_point(unsigned char *out, Py_UCS4 c)
{
    if (c < 0x80) {
        *out++ = (unsigned char)c;
    } else if (c < 0x800) {
        *out++ = (unsigned char)(0xC0 | (c >> 6));
        *out++ = (unsigned char)(0x80 | (c & 0x3F));
    } else if (c >= 0xD800 && c <= 0xDFFF) {
        return NULL;
    } else if (c < 0x10000) {
        *out++ = (unsigned char)(0xE0 | (c >> 12));
        *out++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *out++ = (unsigned char)(0x80 | (c & 0x3F));
    } else {
        *out++ = (unsigned char)(0xF0 | (c >> 18));
        *out++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *out++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *out++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    return out;
}

/*
 * The UTF-8 form of a str that is not ASCII, written into r->scratch. CPython would build it
 * with PyUnicode_AsUTF8AndSize one code point at a time, into a new allocation cached on the
 * str; asyncpg hands over new str objects on every request, so nothing would reuse that cache.
 * Here runs of ASCII code points are copied a word at a time into a buffer the rows share.
 * Returns RS_OK, RS_GIVEUP (a surrogate: no UTF-8 form, Python reports it) or RS_NOMEM.
 */
static int
encode_utf8(Render *r, PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Buffer *b = &r->scratch;
    /* UTF-8 bytes per code point at most: 2 for UCS1, 3 for UCS2, 4 for UCS4 */
    ptrdiff_t per_unit = kind == PyUnicode_1BYTE_KIND ? 2 : kind == PyUnicode_2BYTE_KIND ? 3 : 4;
    b->len = 0;
    if (n > PTRDIFF_MAX / 4 || fq_buf_reserve(b, (ptrdiff_t)n * per_unit) < 0) {
        return RS_NOMEM;
    }
    unsigned char *out = (unsigned char *)b->data;
    Py_ssize_t i = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *u = data;
        while (i < n) {
#ifdef FQ_SSE2
            if (n - i >= 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
                if (_mm_movemask_epi8(v) == 0) {
                    _mm_storeu_si128((__m128i *)(void *)out, v);
                    out += 16;
                    i += 16;
                    continue;
                }
            }
#endif
            if (n - i >= 8) {
                uint64_t word;
                memcpy(&word, u + i, 8);
                if ((word & UINT64_C(0x8080808080808080)) == 0) {
                    memcpy(out, &word, 8);
                    out += 8;
                    i += 8;
                    continue;
                }
            }
            Py_UCS1 c = u[i++];
            if (c < 0x80) {
                *out++ = c;
            } else {
                *out++ = (unsigned char)(0xC0 | (c >> 6));
                *out++ = (unsigned char)(0x80 | (c & 0x3F));
            }
        }
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *u = data;
        while (i < n) {
#ifdef FQ_SSE2
            if (n - i >= 16) { /* 16 code units below 0x80 packed into 16 bytes */
                __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
                __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(u + i + 8));
                __m128i high = _mm_and_si128(_mm_or_si128(a, b), _mm_set1_epi16((short)0xFF80));
                if (_mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) == 0xFFFF) {
                    _mm_storeu_si128((__m128i *)(void *)out, _mm_packus_epi16(a, b));
                    out += 16;
                    i += 16;
                    continue;
                }
            }
#endif
            if (n - i >= 4) {
                uint64_t word;
                memcpy(&word, u + i, 8);
                if ((word & UINT64_C(0xFF80FF80FF80FF80)) == 0) {
                    out[0] = (unsigned char)u[i];
                    out[1] = (unsigned char)u[i + 1];
                    out[2] = (unsigned char)u[i + 2];
                    out[3] = (unsigned char)u[i + 3];
                    out += 4;
                    i += 4;
                    continue;
                }
            }
            out = encode_code_point(out, u[i++]);
            if (out == NULL) {
                return RS_GIVEUP;
            }
        }
    } else {
        const Py_UCS4 *u = data;
        while (i < n) {
#ifdef FQ_SSE2
            if (n - i >= 16) { /* 16 code points below 0x80 packed into 16 bytes */
                __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
                __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(u + i + 4));
                __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(u + i + 8));
                __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(u + i + 12));
                __m128i any = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
                __m128i high = _mm_and_si128(any, _mm_set1_epi32((int)0xFFFFFF80u));
                if (_mm_movemask_epi8(_mm_cmpeq_epi32(high, _mm_setzero_si128())) == 0xFFFF) {
                    /* values below 0x80 survive both saturating packs unchanged */
                    __m128i ab = _mm_packs_epi32(a, b);
                    __m128i cd = _mm_packs_epi32(c, d);
                    _mm_storeu_si128((__m128i *)(void *)out, _mm_packus_epi16(ab, cd));
                    out += 16;
                    i += 16;
                    continue;
                }
            }
#endif
            if (n - i >= 4) {
                uint64_t words[2];
                memcpy(words, u + i, 16);
                if (((words[0] | words[1]) & UINT64_C(0xFFFFFF80FFFFFF80)) == 0) {
                    out[0] = (unsigned char)u[i];
                    out[1] = (unsigned char)u[i + 1];
                    out[2] = (unsigned char)u[i + 2];
                    out[3] = (unsigned char)u[i + 3];
                    out += 4;
                    i += 4;
                    continue;
                }
            }
            out = encode_code_point(out, u[i++]);
            if (out == NULL) {
                return RS_GIVEUP;
            }
        }
    }
    b->len = (ptrdiff_t)(out - (unsigned char *)b->data);
    return RS_OK;
}

/* Render one document (a str or bytes of JSON text) along `node` into r->out. */
static int
render_text(Render *r, const Node *node, PyObject *text)
{
    /* exact types only: orjson.loads rejects subclasses of str and bytes */
    if (PyBytes_CheckExact(text)) {
        return fq_render_text(r, node, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text));
    }
    if (!PyUnicode_CheckExact(text)) {
        return RS_GIVEUP;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return RS_NOMEM;
    }
#endif
    if (PyUnicode_IS_ASCII(text)) { /* its characters are its UTF-8 bytes */
        return fq_render_text(r, node, PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text));
    }
    int status = encode_utf8(r, text);
    if (status != RS_OK) {
        return status;
    }
    return fq_render_text(r, node, r->scratch.data, r->scratch.len);
}

/*
 * The response is written straight into the bytes object that is returned (Buffer.owner),
 * grown as needed and cut to its length at the end, instead of copied out of a C buffer.
 */
static int
resize_bytes(Buffer *b, ptrdiff_t cap)
{
    PyObject *bytes = b->owner;
    if (bytes == NULL) {
        bytes = PyBytes_FromStringAndSize(NULL, cap);
        if (bytes == NULL) {
            return -1;
        }
    } else if (_PyBytes_Resize(&bytes, cap) < 0) { /* it released the object */
        b->owner = NULL;
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        return -1;
    }
    b->owner = bytes;
    b->data = PyBytes_AS_STRING(bytes);
    b->cap = cap;
    return 0;
}

/* A render whose output buffer is a bytes object. */
static void
start_render(Render *r)
{
    memset(r, 0, sizeof *r);
    r->out.resize = resize_bytes;
}

static PyObject *
finish(Render *r, int status)
{
    PyObject *result = NULL;
    PyObject *bytes = r->out.owner;
    r->out.owner = NULL;
    if (status == RS_OK) {
        if (bytes == NULL) {
            result = PyBytes_FromStringAndSize("", 0);
        } else if (_PyBytes_Resize(&bytes, r->out.len) == 0) {
            result = bytes;
        }
        bytes = NULL; /* returned, or released by _PyBytes_Resize */
    } else if (status == RS_GIVEUP) {
        result = Py_NewRef(Py_None);
    } else if (!PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    Py_XDECREF(bytes);
    fq_render_release(r);
    return result;
}

/*
 * Room reserved for a response up front: about as much output as input (a projection is rarely
 * larger than its documents), capped below malloc's mmap threshold, instead of growing from
 * nothing by doubling.
 */
#define OUTPUT_RESERVE_MAX ((ptrdiff_t)96 * 1024)

/* The length of a row's text as the reservation counts it (0 for anything else). */
static ptrdiff_t
text_size(PyObject *text)
{
    return PyBytes_CheckExact(text)     ? PyBytes_GET_SIZE(text)
           : PyUnicode_CheckExact(text) ? PyUnicode_GET_LENGTH(text)
                                        : 0;
}

static PyObject *
render_one(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyObject_TypeCheck(args[0], &PlanType)) {
        PyErr_SetString(PyExc_TypeError, "render_one(plan, text)");
        return NULL;
    }
    const Node *root = ((PlanObject *)args[0])->root;
    Render r;
    start_render(&r);
    int status;
    if (args[1] == Py_None) {
        status = root->nullable ? (fq_buf_write(&r.out, "null", 4) < 0 ? RS_NOMEM : RS_OK) : RS_GIVEUP;
    } else {
        ptrdiff_t expected = text_size(args[1]);
        status = fq_buf_reserve(&r.out, expected < OUTPUT_RESERVE_MAX ? expected + 1
                                                                      : OUTPUT_RESERVE_MAX) < 0
                     ? RS_NOMEM
                     : render_text(&r, root, args[1]);
    }
    return finish(&r, status);
}

static PyObject *
render_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyObject_TypeCheck(args[0], &PlanType)) {
        PyErr_SetString(PyExc_TypeError, "render_rows(plan, rows)");
        return NULL;
    }
    const Node *root = ((PlanObject *)args[0])->root;
    /*
     * Python decides for a plan that is not a list (it reports the error), and for rows that
     * are not a list or tuple: iterating them here would consume an iterator Python then needs.
     */
    if (root->kind != N_LIST || !(PyList_CheckExact(args[1]) || PyTuple_CheckExact(args[1]))) {
        Py_RETURN_NONE;
    }
    PyObject *rows = PySequence_Fast(args[1], "rows must be a sequence");
    if (rows == NULL) {
        return NULL;
    }
    Render r;
    start_render(&r);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(rows);
    PyObject **items = PySequence_Fast_ITEMS(rows);
    ptrdiff_t expected = 2;
    for (Py_ssize_t i = 0; i < n && expected < OUTPUT_RESERVE_MAX; i++) {
        expected += 1 + text_size(items[i]);
    }
    int status = fq_buf_reserve(&r.out, expected < OUTPUT_RESERVE_MAX ? expected
                                                                      : OUTPUT_RESERVE_MAX) < 0 ||
                         fq_buf_write(&r.out, "[", 1) < 0
                     ? RS_NOMEM
                     : RS_OK;
    for (Py_ssize_t i = 0; i < n && status == RS_OK; i++) {
        if (i > 0 && fq_buf_write(&r.out, ",", 1) < 0) {
            status = RS_NOMEM;
            break;
        }
        /* a None row (SQL NULL) is not JSON text: Python decides (orjson.loads rejects it) */
        status = render_text(&r, root->item, items[i]);
    }
    if (status == RS_OK && fq_buf_write(&r.out, "]", 1) < 0) {
        status = RS_NOMEM;
    }
    Py_DECREF(rows);
    return finish(&r, status);
}

/* ---------------------------------------------------------------------------------------- */
/* Connection edges                                                                         */
/* ---------------------------------------------------------------------------------------- */

enum { EDGE_TYPENAME = 0, EDGE_CURSOR = 1, EDGE_NODE = 2 };

static const char BASE64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Append the unpadded base64url form of n bytes, as base64.urlsafe_b64encode + rstrip("="). */
static int
write_base64url(Buffer *b, const unsigned char *s, ptrdiff_t n)
{
    if (fq_buf_reserve(b, (n + 2) / 3 * 4) < 0) {
        return -1;
    }
    char *out = b->data + b->len;
    ptrdiff_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8) | s[i + 2];
        *out++ = BASE64URL[(v >> 18) & 63];
        *out++ = BASE64URL[(v >> 12) & 63];
        *out++ = BASE64URL[(v >> 6) & 63];
        *out++ = BASE64URL[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *out++ = BASE64URL[(v >> 18) & 63];
        *out++ = BASE64URL[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8);
        *out++ = BASE64URL[(v >> 18) & 63];
        *out++ = BASE64URL[(v >> 12) & 63];
        *out++ = BASE64URL[(v >> 6) & 63];
    }
    b->len = out - b->data;
    return 0;
}

/*
 * The cursor of one edge as a JSON string: base64url of prefix + the key values as JSON + "]]",
 * the bytes orjson.dumps(["1", signature, values]) gives (fraiseql.sql.cursor.encode_cursor).
 */
static int
write_cursor(Buffer *out, Buffer *payload, PyObject *prefix, PyObject *values)
{
    if (!PyList_CheckExact(values)) {
        return RS_GIVEUP;
    }
    payload->len = 0;
    if (fq_buf_write(payload, PyBytes_AS_STRING(prefix), PyBytes_GET_SIZE(prefix)) < 0) {
        return RS_NOMEM;
    }
    Py_ssize_t n = PyList_GET_SIZE(values);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        if (i > 0 && fq_buf_write(payload, ",", 1) < 0) {
            return RS_NOMEM;
        }
        if (value == Py_None) {
            if (fq_buf_write(payload, "null", 4) < 0) {
                return RS_NOMEM;
            }
            continue;
        }
        if (!PyUnicode_CheckExact(value)) {
            return RS_GIVEUP;
        }
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(value, &size);
        if (utf8 == NULL) { /* a lone surrogate: Python reports it */
            PyErr_Clear();
            return RS_GIVEUP;
        }
        if (fq_write_json_string(payload, utf8, size) < 0) {
            return RS_NOMEM;
        }
    }
    if (fq_buf_write(payload, "]]", 2) < 0 || fq_buf_write(out, "\"", 1) < 0 ||
        write_base64url(out, (const unsigned char *)payload->data, payload->len) < 0 ||
        fq_buf_write(out, "\"", 1) < 0) {
        return RS_NOMEM;
    }
    return RS_OK;
}

/* One selected field of an edge, read once per render_edges call. */
typedef struct {
    const char *key; /* '"responseKey":' */
    Py_ssize_t key_len;
    long kind;
    PyObject *extra; /* EDGE_TYPENAME: the JSON literal (bytes); EDGE_NODE: the Plan */
} EdgeField;

#define MAX_EDGE_FIELDS 64

/*
 * Read `fields`, a tuple of (bytes, kind, extra) triples, into `out`: their number, or -1 when
 * render_edges cannot write them.
 */
static Py_ssize_t
read_edge_fields(PyObject *fields, EdgeField *out)
{
    if (!PyTuple_CheckExact(fields) || PyTuple_GET_SIZE(fields) > MAX_EDGE_FIELDS) {
        return -1;
    }
    for (Py_ssize_t f = 0; f < PyTuple_GET_SIZE(fields); f++) {
        PyObject *field = PyTuple_GET_ITEM(fields, f);
        if (!PyTuple_CheckExact(field) || PyTuple_GET_SIZE(field) != 3 ||
            !PyBytes_CheckExact(PyTuple_GET_ITEM(field, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(field, 1))) {
            return -1;
        }
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(field, 1));
        PyObject *extra = PyTuple_GET_ITEM(field, 2);
        if (!((kind == EDGE_TYPENAME && PyBytes_CheckExact(extra)) || kind == EDGE_CURSOR ||
              (kind == EDGE_NODE && PyObject_TypeCheck(extra, &PlanType)))) {
            PyErr_Clear(); /* an int beyond a C long */
            return -1;
        }
        out[f].key = PyBytes_AS_STRING(PyTuple_GET_ITEM(field, 0));
        out[f].key_len = PyBytes_GET_SIZE(PyTuple_GET_ITEM(field, 0));
        out[f].kind = kind;
        out[f].extra = extra;
    }
    return PyTuple_GET_SIZE(fields);
}

/* One edge: the selected fields in order, for node text `text` and key `values`. */
static int
write_edge(Render *r, Buffer *payload, const EdgeField *fields, Py_ssize_t nfields,
           PyObject *prefix, PyObject *text, PyObject *values)
{
    if (fq_buf_write(&r->out, "{", 1) < 0) {
        return RS_NOMEM;
    }
    for (Py_ssize_t f = 0; f < nfields; f++) {
        const EdgeField *field = &fields[f];
        if ((f > 0 && fq_buf_write(&r->out, ",", 1) < 0) ||
            fq_buf_write(&r->out, field->key, field->key_len) < 0) {
            return RS_NOMEM;
        }
        int status;
        if (field->kind == EDGE_TYPENAME) {
            status = fq_buf_write(&r->out, PyBytes_AS_STRING(field->extra),
                                  PyBytes_GET_SIZE(field->extra)) < 0
                         ? RS_NOMEM
                         : RS_OK;
        } else if (field->kind == EDGE_CURSOR) {
            status = write_cursor(&r->out, payload, prefix, values);
        } else {
            status = render_text(r, ((PlanObject *)field->extra)->root, text);
        }
        if (status != RS_OK) {
            return status;
        }
    }
    return fq_buf_write(&r->out, "}", 1) < 0 ? RS_NOMEM : RS_OK;
}

static PyObject *
render_edges(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    EdgeField fields[MAX_EDGE_FIELDS];
    Py_ssize_t nfields = nargs == 4 ? read_edge_fields(args[0], fields) : -1;
    if (nfields < 0 || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[2]) ||
        !PyBytes_CheckExact(args[3]) || PyList_GET_SIZE(args[1]) != PyList_GET_SIZE(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "render_edges(fields: tuple, texts: list, keys: list, prefix: bytes)");
        return NULL;
    }
    PyObject *texts = args[1];
    PyObject *keys = args[2];
    Py_ssize_t n = PyList_GET_SIZE(texts);
    Render r;
    Buffer payload = {NULL, 0, 0};
    start_render(&r);
    int status = fq_buf_write(&r.out, "[", 1) < 0 ? RS_NOMEM : RS_OK;
    for (Py_ssize_t i = 0; i < n && status == RS_OK; i++) {
        if (i > 0 && fq_buf_write(&r.out, ",", 1) < 0) {
            status = RS_NOMEM;
            break;
        }
        status = write_edge(&r, &payload, fields, nfields, args[3], PyList_GET_ITEM(texts, i),
                            PyList_GET_ITEM(keys, i));
    }
    if (status == RS_OK && fq_buf_write(&r.out, "]", 1) < 0) {
        status = RS_NOMEM;
    }
    fq_free(payload.data);
    return finish(&r, status);
}

static PyMethodDef native_methods[] = {
    {"compile_plan", (PyCFunction)compile_plan, METH_O,
     "compile_plan(description) -> Plan: build the C form of a projection plan."},
    {"render_one", (PyCFunction)(void (*)(void))render_one, METH_FASTCALL,
     "render_one(plan, text) -> bytes | None: one document (or None) to response bytes."},
    {"render_rows", (PyCFunction)(void (*)(void))render_rows, METH_FASTCALL,
     "render_rows(plan, rows) -> bytes | None: a list of documents to response bytes."},
    {"render_edges", (PyCFunction)(void (*)(void))render_edges, METH_FASTCALL,
     "render_edges(fields, texts, keys, cursor_prefix) -> bytes | None: a connection's edges."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fraiseql._native",
    .m_doc = "FraiseQL's native response builder (C99).",
    .m_size = -1,
    .m_methods = native_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    if (PyType_Ready(&PlanType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&native_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0 ||
        PyModule_AddObjectRef(module, "Plan", (PyObject *)&PlanType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
