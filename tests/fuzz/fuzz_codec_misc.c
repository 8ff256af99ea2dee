/* fuzz_codec_misc.c: the binary codecs of boolean, uuid, bytea, the text-like types, json, jsonb (see fuzz_codec.h). */
#include <stdlib.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct codec *const codecs[] = {&codec_bool, &codec_uuid, &codec_bytea, &codec_text, &codec_bpchar, &codec_json, &codec_jsonb, NULL};

    return fuzz_codec_family(codecs, data, size);
}
