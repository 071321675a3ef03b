/*
 * The streaming renderer: reads a document once, along a plan, and writes the response bytes
 * exactly as the Python builder would (orjson.dumps of the projected value), or gives up
 * (RS_GIVEUP) wherever Python might decide differently. See core.h.
 *
 * Every byte of the document is checked as orjson.loads checks it (lexer.h), the members that
 * no field reads included: Python rejects a document that is invalid anywhere. An object's
 * members come in the document's order (jsonb sorts keys by length), its fields go out in the
 * selection's. So while an object is read, each member that a field reads is kept in that
 * field's slot -- a scalar as its token, an object or a list as the bytes already written for
 * it into r->tmp -- and the object is written field by field when it closes. Lists keep their
 * order and are written as they are read.
 */
#include "lexer.h"

/*
 * The readers below take the position of a value and answer the position after it, or one of
 * these (below zero) when they stop; positions stay in registers, where a Parser's field would
 * be reloaded after every byte written.
 */
enum { STOP_NOMEM = -1, STOP_GIVEUP = -2 };

static inline ptrdiff_t
stop(int status)
{
    return status == RS_NOMEM ? STOP_NOMEM : STOP_GIVEUP;
}

/* ---------------------------------------------------------------------------------------- */
/* Leaves                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/*
 * The value at `pos` for a leaf: a scalar token, or for a JSON leaf an object or array (its
 * extent: its values are tokenized only when written). Any other leaf's object or array is only
 * checked and marked T_MISMATCH: a later member of the same name may replace it. After the
 * value, or STOP_GIVEUP (invalid JSON).
 */
FQ_INLINE ptrdiff_t
read_leaf(const unsigned char *s, ptrdiff_t pos, ptrdiff_t len, const Node *node, Token *t,
          int depth)
{
    unsigned char c = s[pos];
    ptrdiff_t end;
    if (FQ_UNLIKELY(c == '{' || c == '[')) {
        t->type = node->leaf != L_JSON ? T_MISMATCH : c == '{' ? T_OBJECT : T_ARRAY;
        t->flags = 0;
        t->start = pos;
        end = fq_skip_container(s, pos, len, depth);
        t->end = end;
    } else {
        end = lex_scalar(s, pos, len, t, c);
    }
    return end < 0 ? STOP_GIVEUP : end;
}

/*
 * A slot's or a leaf's token written into `target`: a null only where the node is nullable, a
 * value its field cannot take (T_MISMATCH) never.
 */
FQ_INLINE int
write_leaf_token(Render *r, const Node *node, const Token *t, Buffer *target, int depth)
{
    if (t->type == T_NULL) {
        if (!node->nullable) {
            return RS_GIVEUP;
        }
        return buf_write(target, "null", 4) < 0 ? RS_NOMEM : RS_OK;
    }
    if (is_plain_text_leaf(node, r->doc.s, t)) {
        return write_plain_string(target, r->doc.s, t); /* most values: copied as they are */
    }
    if (t->type == T_MISMATCH) { /* after the common cases, which never hold one */
        return RS_GIVEUP;
    }
    return fq_write_leaf(target, node, r->doc.s, t, &r->json, depth);
}

/* ---------------------------------------------------------------------------------------- */
/* Objects and lists                                                                        */
/* ---------------------------------------------------------------------------------------- */

static ptrdiff_t render_object(Render *r, const Node *node, Buffer *target, ptrdiff_t pos,
                               int depth, int jdepth);
static ptrdiff_t render_list(Render *r, const Node *node, Buffer *target, ptrdiff_t pos,
                             int depth, int jdepth);

/*
 * The value at `pos` (not at the end) written along `node` into `target`. `depth` is the node's
 * depth in the output (MAX_RENDER_DEPTH), `jdepth` the value's in the document.
 */
static ptrdiff_t
render_value(Render *r, const Node *node, Buffer *target, ptrdiff_t pos, int depth, int jdepth)
{
    const unsigned char *s = r->doc.s;
    ptrdiff_t len = r->doc.len;
    Token t;
    if (node->kind == N_LEAF) {
        pos = read_leaf(s, pos, len, node, &t, jdepth);
        if (pos < 0) {
            return pos;
        }
        int status = write_leaf_token(r, node, &t, target, depth);
        return status == RS_OK ? pos : stop(status);
    }
    unsigned char c = s[pos];
    if (c == 'n') {
        pos = lex_scalar(s, pos, len, &t, c);
        if (pos < 0 || !node->nullable) {
            return STOP_GIVEUP;
        }
        return buf_write(target, "null", 4) < 0 ? STOP_NOMEM : pos;
    }
    if (depth >= MAX_RENDER_DEPTH) {
        return STOP_GIVEUP; /* an object or a list nested too deep (see MAX_RENDER_DEPTH) */
    }
    if (node->kind == N_OBJECT) {
        return c == '{' ? render_object(r, node, target, pos, depth, jdepth) : STOP_GIVEUP;
    }
    return c == '[' ? render_list(r, node, target, pos, depth, jdepth) : STOP_GIVEUP;
}

/* The list at `pos`, each item written along node->item as it is read. */
static ptrdiff_t
render_list(Render *r, const Node *node, Buffer *target, ptrdiff_t pos, int depth, int jdepth)
{
    const unsigned char *s = r->doc.s;
    ptrdiff_t len = r->doc.len;
    pos = lex_ws(s, pos + 1, len);
    if (buf_char(target, '[') < 0) {
        return STOP_NOMEM;
    }
    if (pos < len && s[pos] == ']') {
        return buf_char(target, ']') < 0 ? STOP_NOMEM : pos + 1;
    }
    for (;;) {
        if (pos >= len || jdepth + 1 > MAX_DEPTH) {
            return STOP_GIVEUP;
        }
        pos = render_value(r, node->item, target, pos, depth + 1, jdepth + 1);
        if (pos < 0) {
            return pos;
        }
        pos = lex_ws(s, pos, len);
        if (pos >= len) {
            return STOP_GIVEUP;
        }
        unsigned char c = s[pos++];
        if (c == ',') {
            if (buf_char(target, ',') < 0) {
                return STOP_NOMEM;
            }
            pos = lex_separator_space(s, pos, len);
            continue;
        }
        if (c == ']') {
            return buf_char(target, ']') < 0 ? STOP_NOMEM : pos;
        }
        return STOP_GIVEUP;
    }
}

/* Room for n more slots on the stack r->slots: the index of the first, or -1 (memory). */
static ptrdiff_t
push_slots(Render *r, ptrdiff_t n)
{
    if (n > r->slots_cap - r->nslots) {
        ptrdiff_t cap = r->slots_cap ? r->slots_cap : 64;
        while (cap - r->nslots < n) {
            if (cap > PTRDIFF_MAX / 2 / (ptrdiff_t)sizeof(Token)) {
                return -1;
            }
            cap *= 2;
        }
        Token *grown = fq_realloc(r->slots, (size_t)cap * sizeof(Token));
        if (grown == NULL) {
            return -1;
        }
        r->slots = grown;
        r->slots_cap = cap;
    }
    ptrdiff_t base = r->nslots;
    r->nslots += n;
    return base;
}

/*
 * The object or list at `pos` for a field of node `node` (at output depth `depth`), written
 * into r->tmp, its extent there in slot `slot`. A value the field cannot take is only checked
 * and marked T_MISMATCH: a later member of the same name may still replace it, as in the dict
 * Python reads.
 */
static ptrdiff_t
read_nested(Render *r, const Node *node, ptrdiff_t slot, ptrdiff_t pos, int depth, int jdepth)
{
    const unsigned char *s = r->doc.s;
    unsigned char c = s[pos];
    if (c == 'n') {
        return lex_scalar(s, pos, r->doc.len, &r->slots[slot], c) < 0 ? STOP_GIVEUP : pos + 4;
    }
    ptrdiff_t start = r->tmp.len;
    ptrdiff_t nslots = r->nslots;
    ptrdiff_t end = STOP_GIVEUP;
    if (depth < MAX_RENDER_DEPTH && c == (node->kind == N_OBJECT ? '{' : '[')) {
        end = node->kind == N_OBJECT ? render_object(r, node, &r->tmp, pos, depth, jdepth)
                                     : render_list(r, node, &r->tmp, pos, depth, jdepth);
    }
    if (end >= 0) {
        Token *t = &r->slots[slot]; /* only now: nested objects may have moved the slot stack */
        t->type = T_RENDERED;
        t->start = start;
        t->end = r->tmp.len;
        return end;
    }
    if (end == STOP_NOMEM) {
        return end;
    }
    r->tmp.len = start;
    r->nslots = nslots;
    r->slots[slot].type = T_MISMATCH;
    end = fq_skip_value(s, pos, r->doc.len, jdepth);
    return end < 0 ? STOP_GIVEUP : end;
}

/*
 * The member value at `pos` into slot `slot` for a field of node `node`: a leaf's token (nulls
 * are checked when written), a null, or an object or list written into r->tmp.
 */
FQ_INLINE ptrdiff_t
read_member(Render *r, const Node *node, ptrdiff_t slot, ptrdiff_t pos, int depth, int jdepth)
{
    if (FQ_LIKELY(node->kind == N_LEAF)) {
        return read_leaf(r->doc.s, pos, r->doc.len, node, &r->slots[slot], jdepth);
    }
    return read_nested(r, node, slot, pos, depth, jdepth);
}

/*
 * The value of member `name` (unescaped) at `pos`: read into the slot of every field that
 * reads it (the last member of a name wins, as in a Python dict), else checked and passed over.
 */
FQ_INLINE ptrdiff_t
read_members(Render *r, const Node *node, ptrdiff_t base, const char *name, ptrdiff_t n,
             ptrdiff_t pos, int depth, int jdepth)
{
    const Field *fields = node->fields;
    ptrdiff_t end = -1;
    if (FQ_LIKELY(node->indexed)) {
        /* no early exit: two fields may read the same member */
        for (unsigned f = node->bucket[member_hash(name, n)]; f != 0;
             f = fields[f - 1].next_in_bucket) {
            const Field *field = &fields[f - 1];
            if (field->source_len == n && same_bytes(name, field->source, n)) {
                end = read_member(r, field->node, base + f - 1, pos, depth + 1, jdepth);
                if (end < 0) {
                    return end;
                }
            }
        }
    } else {
        for (ptrdiff_t i = 0; i < node->nfields; i++) {
            const Field *field = &fields[i];
            if (!field->is_typename && field->source_len == n &&
                memcmp(name, field->source, (size_t)n) == 0) {
                end = read_member(r, field->node, base + i, pos, depth + 1, jdepth);
                if (end < 0) {
                    return end;
                }
            }
        }
    }
    if (end < 0) {
        end = fq_skip_value(r->doc.s, pos, r->doc.len, jdepth);
        return end < 0 ? STOP_GIVEUP : end;
    }
    return end;
}

/*
 * The object whose members are in the slots from `base`, written field by field into `target`.
 * What its members wrote into r->tmp (from `mark`) is dropped; when `target` is r->tmp itself,
 * the object is moved down to `mark`.
 */
static int
write_object(Render *r, const Node *node, ptrdiff_t base, Buffer *target, int depth,
             ptrdiff_t mark)
{
    Buffer *tmp = &r->tmp;
    ptrdiff_t start = target->len;
    if (buf_char(target, '{') < 0) {
        return RS_NOMEM;
    }
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        const Field *field = &node->fields[i];
        /* the separator and the key in one reservation */
        if (buf_reserve(target, field->key_len + 1) < 0) {
            return RS_NOMEM;
        }
        if (i > 0) {
            target->data[target->len++] = ',';
        }
        copy_short(target->data + target->len, field->key_json, field->key_len);
        target->len += field->key_len;
        if (field->is_typename) {
            if (buf_write(target, node->typename_json, node->typename_len) < 0) {
                return RS_NOMEM;
            }
            continue;
        }
        const Token *slot = &r->slots[base + i];
        int status;
        if (slot->type == T_RENDERED) {
            ptrdiff_t n = slot->end - slot->start;
            if (buf_reserve(target, n) < 0) {
                return RS_NOMEM;
            }
            /* below `start`, so never overlapping even when target is tmp */
            memcpy(target->data + target->len, tmp->data + slot->start, (size_t)n);
            target->len += n;
            continue;
        }
        if (slot->type == T_MISSING) {
            if (!field->node->nullable) {
                return RS_GIVEUP;
            }
            status = buf_write(target, "null", 4) < 0 ? RS_NOMEM : RS_OK;
        } else {
            status = write_leaf_token(r, field->node, slot, target, depth + 1);
        }
        if (status != RS_OK) {
            return status;
        }
    }
    if (buf_char(target, '}') < 0) {
        return RS_NOMEM;
    }
    if (target == tmp) {
        ptrdiff_t n = tmp->len - start;
        memmove(tmp->data + mark, tmp->data + start, (size_t)n);
        tmp->len = mark + n;
    } else {
        tmp->len = mark;
    }
    return RS_OK;
}

/* The object at `pos`, read member by member, then written along `node`. */
static ptrdiff_t
render_object(Render *r, const Node *node, Buffer *target, ptrdiff_t pos, int depth, int jdepth)
{
    const unsigned char *s = r->doc.s;
    ptrdiff_t len = r->doc.len;
    ptrdiff_t mark = r->tmp.len;
    ptrdiff_t base = push_slots(r, node->nfields);
    if (base < 0) {
        return STOP_NOMEM;
    }
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        r->slots[base + i].type = T_MISSING;
    }
    pos = lex_ws(s, pos + 1, len);
    if (pos < len && s[pos] == '}') {
        pos++;
    } else {
        if (jdepth + 1 > MAX_DEPTH) {
            return STOP_GIVEUP; /* its members are too deep: Python decides */
        }
        for (;;) {
            Token key;
            if (pos >= len || s[pos] != '"' || (pos = lex_string(s, pos, len, &key)) < 0) {
                return STOP_GIVEUP;
            }
            if ((key.flags & F_ESCAPED) && node->reads) {
                return STOP_GIVEUP; /* an escaped key might spell a source: only Python can tell */
            }
            /* PostgreSQL writes '": ' after a key */
            if (FQ_LIKELY(len - pos > 2 && s[pos] == ':' && s[pos + 1] == ' ' && s[pos + 2] > ' ')) {
                pos += 2;
            } else {
                pos = lex_ws(s, pos, len);
                if (pos >= len || s[pos] != ':') {
                    return STOP_GIVEUP;
                }
                pos = lex_separator_space(s, pos + 1, len);
                if (pos >= len) {
                    return STOP_GIVEUP;
                }
            }
            pos = read_members(r, node, base, (const char *)s + key.start, key.end - key.start,
                               pos, depth, jdepth + 1);
            if (pos < 0) {
                return pos;
            }
            /* and ', ' between members */
            if (FQ_LIKELY(len - pos > 2 && s[pos] == ',' && s[pos + 1] == ' ' && s[pos + 2] == '"')) {
                pos += 2;
                continue;
            }
            pos = lex_ws(s, pos, len);
            if (pos >= len) {
                return STOP_GIVEUP;
            }
            unsigned char c = s[pos++];
            if (c == ',') {
                pos = lex_separator_space(s, pos, len);
                continue;
            }
            if (c == '}') {
                break;
            }
            return STOP_GIVEUP;
        }
    }
    int status = write_object(r, node, base, target, depth, mark);
    r->nslots = base;
    return status == RS_OK ? pos : stop(status);
}

/* ---------------------------------------------------------------------------------------- */
/* Entry points                                                                             */
/* ---------------------------------------------------------------------------------------- */

int
fq_render_text(Render *r, const Node *node, const char *text, ptrdiff_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    r->doc.s = s;
    r->doc.len = len;
    r->tmp.len = 0;
    r->nslots = 0;
    ptrdiff_t pos = lex_ws(s, 0, len);
    if (pos >= len) {
        return RS_GIVEUP;
    }
    pos = render_value(r, node, &r->out, pos, 0, 0);
    if (pos < 0) {
        return pos == STOP_NOMEM ? RS_NOMEM : RS_GIVEUP;
    }
    return lex_ws(s, pos, len) == len ? RS_OK : RS_GIVEUP;
}

void
fq_render_release(Render *r)
{
    if (r->out.resize == NULL) {
        fq_free(r->out.data);
    }
    fq_free(r->tmp.data);
    fq_free(r->scratch.data);
    fq_free(r->json.tokens);
    fq_free(r->slots);
    r->out.data = NULL;
    r->tmp.data = NULL;
    r->scratch.data = NULL;
    r->json.tokens = NULL;
    r->slots = NULL;
}
