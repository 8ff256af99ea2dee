/* fuzz_copybin.c: the COPY binary reader on arbitrary messages: header, rows of 1..8
 * fields; writing a parsed row back must parse to the same fields. (The type codecs
 * have their own targets: fuzz_codec_*.) */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "etl/copybin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct copybin_field f[8], g[8];
    struct anon_error err;
    struct abuf out;
    size_t off, n;

    if (size < 1)
        return 0;
    n = 1 + data[0] % 8;
    data++, size--;
    if (!copybin_skip_header((const char *)data, size, &off, &err))
        return 0;
    if (copybin_parse_row((const char *)data, size, off, f, n, &err) != COPYBIN_ROW)
        return 0;
    abuf_init(&out, 1 << 24);
    copybin_put_row_start(&out, n);
    for (size_t i = 0; i < n; i++) {
        if (f[i].is_null)
            copybin_put_null(&out);
        else
            copybin_put_field(&out, f[i].data, f[i].len);
    }
    if (copybin_parse_row(out.data, out.len, 0, g, n, &err) != COPYBIN_ROW)
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (g[i].is_null != f[i].is_null || g[i].len != f[i].len ||
            memcmp(g[i].data, f[i].data, f[i].len) != 0)
            __builtin_trap();
    abuf_free(&out);
    return 0;
}
