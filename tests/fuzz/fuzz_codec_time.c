/* fuzz_codec_time.c: the binary codecs of date, time, timetz, timestamp, timestamptz, interval (see fuzz_codec.h). */
#include <stdlib.h>

#include "fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct codec *const codecs[] = {&codec_date, &codec_time, &codec_timetz, &codec_timestamp, &codec_timestamptz, &codec_interval, NULL};

    return fuzz_codec_family(codecs, data, size);
}
