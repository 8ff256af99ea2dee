/*
 * codec_array.h: PostgreSQL's binary array format (array_send / array_recv), for
 * arrays of any type with a codec (codec.h):
 *
 *   int32 ndim (0 for an empty array, at most 6), int32 flags (1 when some element is
 *   NULL), uint32 element type OID, then per dimension int32 length and int32 lower
 *   bound, then the elements in row-major order, each an int32 length (-1 for NULL)
 *   and that many bytes in the element type's binary form.
 *
 * A rule on an array column applies to each element: the engine walks the elements
 * (codec_array_next), writes a new header with the output element type's OID
 * (codec_array_put_header, flags fixed up by codec_array_end), and the new elements.
 * The element OID of the input is not checked: enums and domains send their own OIDs
 * and the catalog maps them to built-in types.
 */
#ifndef CODEC_ARRAY_H
#define CODEC_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anonymise/abuf.h"
#include "anonymise/codec.h"

#define CODEC_ARRAY_MAX_DIM 6

struct codec_array {
    int ndim;
    uint32_t elem_oid;
    int32_t dims[CODEC_ARRAY_MAX_DIM];
    int32_t lbounds[CODEC_ARRAY_MAX_DIM];
    size_t nitems;
    const char *data; /* the elements */
    size_t len;
};

/* Parse the header; false on a malformed one (bad ndim, flags, negative lengths, more
 * items than the bytes could hold). */
bool codec_array_parse(const char *bin, size_t len, struct codec_array *a);
/* The next element at *off (start at 0): false at the end or on a truncated element
 * (*bad set). */
bool codec_array_next(const struct codec_array *a, size_t *off, const char **elem, size_t *len,
                      bool *is_null, bool *bad);
/* Write a's dimensions with another element OID; returns the header's offset in out,
 * for codec_array_end. */
size_t codec_array_put_header(const struct codec_array *a, uint32_t elem_oid, struct abuf *out);
/* Set the header's null flag once the elements are written. */
void codec_array_end(struct abuf *out, size_t header, bool has_null);
/* The array's text output ("{1,NULL,\"a b\"}", "[0:1]={x,y}", "{{1,2},{3,4}}") with
 * each element through elem->to_text. false on malformed input. */
bool codec_array_to_text(const struct codec *elem, const char *bin, size_t len, struct abuf *out);

#endif
