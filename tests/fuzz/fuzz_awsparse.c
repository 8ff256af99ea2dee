/* fuzz_awsparse.c: the small parsers of the AWS client on arbitrary bytes: the
 * credential_process command splitter and its JSON output, the HTTP Date header, and the
 * STS credentials document, and an s3:// URL. Each must stay in bounds, terminate, and never leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "infra/aws_process.h"
#include "infra/aws_retry.h"
#include "infra/aws_sts.h"
#include "infra/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *buf = malloc(size + 1);
    char *argv[AWS_PROCESS_ARGS_MAX + 1];
    struct aws_credentials c;
    struct infra_error err;
    time_t t;
    int argc;

    if (!s || !buf)
        goto out;
    memcpy(s, data, size);
    s[size] = '\0';
    (void)aws_process_split(s, buf, size + 1, argv, &argc, &err);
    if (aws_process_parse((const char *)data, size, &c, &err))
        aws_credentials_wipe(&c);
    (void)aws_http_date_parse(s, &t);
    {
        char bucket[S3_BUCKET_MAX], key[S3_KEY_MAX];
        (void)s3_url_parse(s, bucket, key, &err);
    }
    if (aws_sts_parse_credentials((const char *)data, size, "AssumeRole", "fuzz", &c, &err))
        aws_credentials_wipe(&c);
out:
    free(s);
    free(buf);
    return 0;
}
