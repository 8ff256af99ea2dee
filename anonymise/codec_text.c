/*
 * codec_text.c: the types whose binary form is their text (see codec.h): text,
 * character varying, character (blank-padded, padding included both ways), name and
 * json send their characters as they are (client_encoding is UTF8), and so do enums
 * (their label), which the catalog maps to text. jsonb sends a version byte (1) and
 * then its text output, which is already canonical; the json rule works on that text.
 */
#include "anonymise/codec.h"

#define JSONB_VERSION 1

static bool same_bytes(const char *data, size_t len, struct abuf *out)
{
    return abuf_append(out, data, len);
}

static bool jsonb_to_text(const char *bin, size_t len, struct abuf *out)
{
    return len >= 1 && bin[0] == JSONB_VERSION && abuf_append(out, bin + 1, len - 1);
}

static bool jsonb_from_text(const char *text, size_t len, struct abuf *out)
{
    return abuf_putc(out, JSONB_VERSION) && abuf_append(out, text, len);
}

#define TEXT_CODEC(var, type, type_oid, type_array_oid)                                            \
    const struct codec var = {                                                                     \
        .name = type,                                                                              \
        .oid = type_oid,                                                                           \
        .array_oid = type_array_oid,                                                               \
        .text_like = true,                                                                         \
        .to_text = same_bytes,                                                                     \
        .from_text = same_bytes,                                                                   \
    }

TEXT_CODEC(codec_text, "text", 25, 1009);
TEXT_CODEC(codec_varchar, "character varying", 1043, 1015);
TEXT_CODEC(codec_bpchar, "character", 1042, 1014);
TEXT_CODEC(codec_name, "name", 19, 1003);
TEXT_CODEC(codec_json, "json", 114, 199);

const struct codec codec_jsonb = {
    .name = "jsonb",
    .oid = 3802,
    .array_oid = 3807,
    .to_text = jsonb_to_text,
    .from_text = jsonb_from_text,
};
