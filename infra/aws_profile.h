/*
 * aws_profile.h: the AWS shared config and credentials files, read as the AWS CLI reads
 * them.
 *
 *   - files: AWS_CONFIG_FILE (default ~/.aws/config, sections "[default]" and
 *     "[profile NAME]", "[services NAME]", "[sso-session NAME]") and
 *     AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials, sections "[NAME]"); a
 *     missing file is an empty file, an unreadable one an error;
 *   - a profile's settings are the union of both files, the credentials file winning for a
 *     key set in both (botocore merges them the same way);
 *   - the profile in use: the one named by the caller, else AWS_PROFILE, else "default";
 *   - nested settings ("sts =\n  endpoint_url = ...") are read by aws_ini_get_nested, e.g.
 *     the services section of a profile (services = NAME -> [services NAME] sts.endpoint_url).
 *
 * Text is read with bounded lines and no allocation besides the file buffers, which are
 * wiped when freed (the credentials file holds secrets). Errors name the file and line,
 * never a value.
 */
#ifndef AWS_PROFILE_H
#define AWS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/infra_error.h"

#define AWS_PROFILE_NAME_MAX 128
#define AWS_PROFILE_FILE_MAX (1024 * 1024)

struct aws_shared_file {
    char path[1024]; /* "" when no path could be formed (no HOME and no variable) */
    char *text;      /* NULL when the file does not exist */
    size_t len;
};

/* Both shared files, loaded once for a lookup session. */
struct aws_profile_files {
    struct aws_shared_file config;
    struct aws_shared_file credentials;
};

/* Load both files (missing files are fine). On false, nothing is left to free. */
bool aws_profile_files_load(struct aws_profile_files *f, struct infra_error *err) INFRA_MUST_CHECK;
/* Wipe and free the buffers; f may be empty or NULL. */
void aws_profile_files_free(struct aws_profile_files *f);

/* The profile in use: explicit (non-NULL, non-empty), else AWS_PROFILE, else "default". */
const char *aws_profile_name(const char *explicit_name);

/*
 * key of profile: [NAME] of the credentials file first, else the profile's section of
 * the config file ([default] or [profile NAME]). *found says whether it was set;
 * *where (may be NULL) receives the path of the file that had it.
 */
bool aws_profile_get(const struct aws_profile_files *f, const char *profile, const char *key,
                     char *out, size_t outsz, bool *found, const char **where,
                     struct infra_error *err) INFRA_MUST_CHECK;

/* Does the profile have a section in either file? */
bool aws_profile_exists(const struct aws_profile_files *f, const char *profile, bool *exists,
                        struct infra_error *err) INFRA_MUST_CHECK;

/*
 * The endpoint a profile configures for service_id ("sts", "ec2", "s3"; the SDK's service
 * id in lower case with spaces as '_'): [services NAME] "<service_id> =\n  endpoint_url = U"
 * where the profile says "services = NAME". *found false when none.
 */
bool aws_profile_service_endpoint(const struct aws_profile_files *f, const char *profile,
                                  const char *service_id, char *out, size_t outsz, bool *found,
                                  struct infra_error *err) INFRA_MUST_CHECK;

/*
 * Read a whole file (at most max bytes) into a NUL-terminated malloc'd buffer. *missing
 * tells a file that does not exist from other errors. Free with aws_profile_free_secret
 * when it may hold a secret.
 */
char *aws_profile_read_file(const char *path, size_t max, size_t *len, bool *missing,
                            struct infra_error *err);
void aws_profile_free_secret(char *p, size_t n);

/*
 * The strict INI reader behind the shared files, exposed for tests and fuzzing.
 * Looks up key in [section] of text[0..len) (need not be NUL-terminated). Lines:
 * "[section]", "key = value", "# ..." / "; ..." comments, blank; indented lines (the
 * nested sub-sections of the AWS config, "s3 =\n  x = y") are not top-level keys. Keys
 * compare case-insensitively; whitespace runs in section names count as one space; the
 * first occurrence wins. Lines over 4 KiB, a key outside a section, or a line without '='
 * are errors (with the line number, never the value).
 * Returns false on a syntax error; *found says whether the key was there (out filled).
 * section_found (may be NULL) says whether the section exists.
 */
bool aws_ini_get(const char *text, size_t len, const char *section, const char *key, char *out,
                 size_t outsz, bool *found, bool *section_found,
                 struct infra_error *err) INFRA_MUST_CHECK;

/* The same for a nested key: "key =" with an empty value in [section], followed by
 * indented "subkey = value" lines. */
bool aws_ini_get_nested(const char *text, size_t len, const char *section, const char *key,
                        const char *subkey, char *out, size_t outsz, bool *found,
                        struct infra_error *err) INFRA_MUST_CHECK;

#endif
