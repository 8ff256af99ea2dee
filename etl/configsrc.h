/*
 * configsrc.h: where the config comes from: a file, or an S3 object
 * (`-c s3://bucket/key`, ANONETL_CONFIG=s3://...), so that ops ship rule changes without
 * a new image.
 *
 * An S3 config is read with a SigV4 GetObject (infra/s3.h) with the standard credential
 * chain and region (AWS_REGION, the profile; a bucket elsewhere is followed), parsed from
 * memory with messages naming "s3://bucket/key:line:column", and its version id and ETag
 * are kept: `configsrc_origin()` describes the config for the run record
 * (anonetl.runs.config_source) and the logs ("config_loaded": source, version id, ETag,
 * fingerprint). A missing object, bucket or a refused read is a config error (exit 2)
 * that says which (NoSuchKey, NoSuchBucket, AccessDenied) and what to check; S3 not
 * answering, an S3 error that is not about the object (SlowDown, InternalError) or no
 * AWS credentials is the environment's (exit 3), as for a secret (operations.md).
 */
#ifndef CONFIGSRC_H
#define CONFIGSRC_H

#include <stdbool.h>

#include "anonymise/anon_error.h"
#include "anonymise/config.h"

struct config_origin {
    char ref[1200]; /* the path or s3:// URL as given */
    bool s3;
    char version_id[1100];  /* S3: "" when the bucket is not versioned */
    char etag[130];         /* S3 */
    char fingerprint[65];   /* hex SHA-256 of the parsed config */
    char description[2600]; /* "s3://b/k version_id=... etag=..." or the path */
    /* Which config this is, whatever its version: the s3:// URL, or the file's absolute
     * path with symbolic links resolved (the path as given when it cannot be). The
     * tables a run publishes are recorded with it (anonetl.published.config_source). */
    char identity[1200];
};

/* Load ref (a path or an s3:// URL). Every problem is in err (as config_load). */
bool configsrc_load(const char *ref, struct config **out, struct anon_error *err) ANON_MUST_CHECK;

/* The exit code of the last failed load: EXIT_PREFLIGHT when it failed for a reason that
 * is not the config's (S3 gave no answer or an error not about the object, or no AWS
 * credentials could be obtained), else EXIT_USAGE. */
int configsrc_failure_exit(void);

/* The origin of the last config loaded (empty before any). */
const struct config_origin *configsrc_origin(void);

#endif
