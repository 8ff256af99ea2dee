/*
 * codec_bench.c: the COPY text codec (etl/copytext.c) on real PostgreSQL output.
 *
 *   codec_bench FILE NFIELDS
 *
 * FILE holds the output of `COPY t TO STDOUT` (one row per line). Every row is split
 * (it must have NFIELDS fields), every non-NULL field decoded and encoded again, and the
 * rebuilt row must equal the input byte for byte: PostgreSQL's text output is canonical,
 * so this checks the codec against the server on every row. Prints the CPU time per row
 * of split alone and of split + decode + encode of every field (the worst case: a run
 * passes `keep` columns through without decoding). Exit 1 on any mismatch.
 * Built and run by tests/bench/bench.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etl/copytext.h"

#define MAX_FIELDS 256

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        *len = (size_t)size;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Split + decode + encode one row into out; false on a malformed row or wrong count. */
static bool recode_row(const char *row, size_t len, size_t nfields, struct copytext_field *f,
                       struct abuf *dec, struct abuf *out, struct anon_error *err)
{
    size_t i;

    abuf_reset(out);
    if (!copytext_split_exact(row, len, f, nfields, err))
        return false;
    for (i = 0; i < nfields; i++) {
        if (i && !abuf_putc(out, '\t'))
            return false;
        if (f[i].is_null) {
            if (!copytext_encode_null(out))
                return false;
            continue;
        }
        abuf_reset(dec);
        if (!copytext_decode(f[i].raw, f[i].len, dec) || !copytext_encode_abuf(dec, out))
            return false;
    }
    return abuf_putc(out, '\n');
}

int main(int argc, char **argv)
{
    struct copytext_field f[MAX_FIELDS];
    struct anon_error err;
    struct abuf dec, out;
    size_t len, nfields, rows = 0, escaped = 0;
    volatile size_t sink = 0; /* keeps the split-only loop */
    const char *p, *end, *nl;
    double t0, t_split, t_all;
    char *data;
    int rc = 0;

    if (argc != 3 || (nfields = strtoul(argv[2], NULL, 10)) == 0 || nfields > MAX_FIELDS) {
        fprintf(stderr, "usage: codec_bench FILE NFIELDS (1..%d)\n", MAX_FIELDS);
        return 2;
    }
    if (!(data = read_file(argv[1], &len))) {
        fprintf(stderr, "codec_bench: cannot read %s\n", argv[1]);
        return 2;
    }
    anon_error_clear(&err);
    abuf_init(&dec, 64u << 20);
    abuf_init(&out, 64u << 20);
    end = data + len;

    t0 = cpu_seconds();
    for (p = data; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        nl = nl ? nl : end - 1;
        sink += copytext_split(p, (size_t)(nl + 1 - p), f, MAX_FIELDS);
    }
    t_split = cpu_seconds() - t0;

    t0 = cpu_seconds();
    for (p = data; p < end; p = nl + 1) {
        size_t rlen;

        nl = memchr(p, '\n', (size_t)(end - p));
        nl = nl ? nl : end - 1;
        rlen = (size_t)(nl + 1 - p);
        if (!recode_row(p, rlen, nfields, f, &dec, &out, &err) || out.len != rlen ||
            memcmp(out.data, p, rlen) != 0) {
            fprintf(stderr, "codec_bench: row %zu (byte %zu) does not round-trip: %s\n", rows + 1,
                    (size_t)(p - data), err.msg[0] ? err.msg : "re-encoded bytes differ");
            rc = 1;
            break;
        }
        escaped += memchr(p, '\\', rlen) != NULL;
        rows++;
    }
    t_all = cpu_seconds() - t0;

    if (rc == 0 && rows > 0)
        printf("codec: %zu rows, %.1f MB, %zu with escapes, all identical after "
               "split+decode+encode; split %.0f ns/row, split+decode+encode %.0f ns/row "
               "(%.0f MB/s)\n",
               rows, (double)len / 1e6, escaped, t_split / (double)rows * 1e9,
               t_all / (double)rows * 1e9, (double)len / 1e6 / t_all);
    abuf_free(&dec);
    abuf_free(&out);
    free(data);
    return rc;
}
