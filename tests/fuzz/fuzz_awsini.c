/* fuzz_awsini.c: the shared credentials/config file reader (~/.aws/credentials) on
 * arbitrary text: every lookup, top-level and nested (the services sections), must stay
 * in bounds and terminate. */
#include <stddef.h>
#include <stdint.h>

#include "infra/aws_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const sections[] = {"default", "profile dev", "dev", "services x"};
    static const char *const keys[] = {"aws_access_key_id", "region", "role_arn", "sts"};
    struct infra_error err;
    char out[256];
    bool found, section_found;

    for (size_t s = 0; s < 4; s++) {
        for (size_t k = 0; k < 4; k++) {
            (void)aws_ini_get((const char *)data, size, sections[s], keys[k], out, sizeof(out),
                              &found, &section_found, &err);
            (void)aws_ini_get_nested((const char *)data, size, sections[s], keys[k], "endpoint_url",
                                     out, sizeof(out), &found, &err);
        }
    }
    return 0;
}
