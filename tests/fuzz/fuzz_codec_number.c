/* fuzz_codec_number.c: the binary codecs of smallint, integer, bigint, real, double precision, numeric (see fuzz_codec.h). */
#include <stdlib.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct codec *const codecs[] = {&codec_int2, &codec_int4, &codec_int8, &codec_float4, &codec_float8, &codec_numeric, NULL};

    return fuzz_codec_family(codecs, data, size);
}
