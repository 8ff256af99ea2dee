/*
 * aws_process.h: credentials from an external command, a profile's credential_process,
 * as the AWS CLI runs it.
 *
 * The command line is split into words as a POSIX shell would split it (blanks separate,
 * '...' and "..." quote, backslash escapes; no expansion, no pipes, no redirection) and
 * executed directly (execvp, no shell). Its standard output must be one JSON document:
 *   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
 *    "SessionToken": "..." (optional), "Expiration": "ISO 8601" (optional)}
 * at most 64 KiB, written within AWS_PROCESS_TIMEOUT_S seconds, and the command must exit
 * 0. Its standard error is left to the caller's (the command's own messages reach the
 * operator). Errors name the command's first word and the problem, never the output.
 */
#ifndef AWS_PROCESS_H
#define AWS_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "infra/aws_creds.h"
#include "infra/infra_error.h"

#define AWS_PROCESS_OUTPUT_MAX (64 * 1024)
#define AWS_PROCESS_TIMEOUT_S 60
#define AWS_PROCESS_ARGS_MAX 64

/* Run command and parse its output into *out (source "process"). */
bool aws_process_credentials(const char *command, struct aws_credentials *out,
                             struct infra_error *err) INFRA_MUST_CHECK;

/*
 * Split command into at most AWS_PROCESS_ARGS_MAX words, written NUL-separated into
 * buf (bufsz >= strlen(command) + 1) with argv pointing into it and argv[*argc] = NULL.
 * False on an unterminated quote, a trailing backslash, no word, or too many words.
 */
bool aws_process_split(const char *command, char *buf, size_t bufsz,
                       char *argv[AWS_PROCESS_ARGS_MAX + 1], int *argc,
                       struct infra_error *err) INFRA_MUST_CHECK;

/* Parse the JSON document of a credential process (exposed for tests). */
bool aws_process_parse(const char *json, size_t len, struct aws_credentials *out,
                       struct infra_error *err) INFRA_MUST_CHECK;

#endif
