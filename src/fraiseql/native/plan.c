/* Plans: freeing them, and the member lookup of object nodes. See core.h. */
#include "core.h"

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

/*
 * Chain the fields that read a member into buckets by member_hash() of their source, so that
 * the renderer compares each member of an object with the few fields of its bucket instead of
 * with all of them. Fields are chained in reverse order; the renderer takes every match.
 */
void
fq_node_index(Node *node)
{
    memset(node->bucket, 0, sizeof node->bucket);
    node->indexed = 0;
    node->reads = 0;
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        node->reads |= !node->fields[i].is_typename;
    }
    if (node->kind != N_OBJECT || node->nfields > MAX_INDEXED_FIELDS) {
        return;
    }
    for (ptrdiff_t i = 0; i < node->nfields; i++) {
        Field *field = &node->fields[i];
        field->next_in_bucket = 0;
        if (field->is_typename) {
            continue;
        }
        unsigned h = member_hash(field->source, field->source_len);
        field->next_in_bucket = node->bucket[h];
        node->bucket[h] = (unsigned char)(i + 1);
    }
    node->indexed = 1;
}
