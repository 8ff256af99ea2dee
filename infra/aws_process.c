/*
 * aws_process.c: credential_process, see aws_process.h.
 *
 * posix_spawnp with stdout on a close-on-exec pipe and stdin on /dev/null (a scheduled
 * job has no terminal to prompt on); the parent reads with poll() against a deadline and
 * kills the child when it passes, so a hung helper cannot hang the run. The output
 * buffer holds a secret: it is wiped before it is freed, and so are jansson's copies.
 */
#include "infra/aws_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

extern char **environ;

bool aws_process_split(const char *command, char *buf, size_t bufsz,
                       char *argv[AWS_PROCESS_ARGS_MAX + 1], int *argc, struct infra_error *err)
{
    const char *s = command;
    size_t o = 0;

    *argc = 0;
    if (!command || strlen(command) + 1 > bufsz) {
        infra_error_set(err, "credential_process: empty or too long");
        return false;
    }
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        if (*argc == AWS_PROCESS_ARGS_MAX) {
            infra_error_set(err, "credential_process: more than %d words", AWS_PROCESS_ARGS_MAX);
            return false;
        }
        argv[(*argc)++] = buf + o;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
            if (*s == '\'') { /* everything literal up to the next quote */
                const char *q = strchr(s + 1, '\'');
                if (!q)
                    goto unterminated;
                memcpy(buf + o, s + 1, (size_t)(q - s - 1));
                o += (size_t)(q - s - 1);
                s = q + 1;
            } else if (*s == '"') { /* backslash escapes only \ " $ ` inside */
                for (s++; *s && *s != '"'; s++) {
                    if (*s == '\\' && s[1] && strchr("\\\"$`", s[1]))
                        s++;
                    buf[o++] = *s;
                }
                if (!*s)
                    goto unterminated;
                s++;
            } else if (*s == '\\') {
                if (!s[1]) {
                    infra_error_set(err, "credential_process: trailing backslash");
                    return false;
                }
                buf[o++] = s[1];
                s += 2;
            } else {
                buf[o++] = *s++;
            }
        }
        buf[o++] = '\0';
    }
    argv[*argc] = NULL;
    if (*argc == 0) {
        infra_error_set(err, "credential_process: no command");
        return false;
    }
    return true;
unterminated:
    infra_error_set(err, "credential_process: unterminated quote");
    return false;
}

static void wipe_json_string(json_t *root, const char *key)
{
    json_t *s = json_object_get(root, key);

    if (json_is_string(s))
        OPENSSL_cleanse((void *)json_string_value(s), json_string_length(s));
}

bool aws_process_parse(const char *json, size_t len, struct aws_credentials *out,
                       struct infra_error *err)
{
    json_error_t jerr;
    json_t *root, *version;
    const char *exp;
    bool ok = false;

    memset(out, 0, sizeof(*out));
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        infra_error_set(err, "credential_process: output is not a JSON object (line %d)",
                        jerr.line);
        json_decref(root);
        return false;
    }
    version = json_object_get(root, "Version");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        infra_error_set(err, "credential_process: output must have \"Version\": 1");
        goto out;
    }
    if (!aws_credentials_fill(out, json_string_value(json_object_get(root, "AccessKeyId")),
                              json_string_value(json_object_get(root, "SecretAccessKey")),
                              json_string_value(json_object_get(root, "SessionToken")), "process",
                              err))
        goto out;
    exp = json_string_value(json_object_get(root, "Expiration"));
    if (exp && !aws_iso8601_parse(exp, &out->expiration)) {
        aws_credentials_wipe(out);
        infra_error_set(err, "credential_process: Expiration is not an ISO 8601 time");
        goto out;
    }
    ok = true;
out:
    wipe_json_string(root, "SecretAccessKey");
    wipe_json_string(root, "SessionToken");
    json_decref(root);
    return ok;
}

static long ms_left(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline->tv_sec - now.tv_sec) * 1000L + (deadline->tv_nsec - now.tv_nsec) / 1000000L;
}

/* Read the child's stdout until EOF, the size limit or the deadline. */
static bool read_output(int fd, char *buf, size_t *len, const char *name, struct infra_error *err)
{
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += AWS_PROCESS_TIMEOUT_S;
    *len = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        long left = ms_left(&deadline);
        if (left <= 0) {
            infra_error_set(err, "credential_process %s: no answer within %d s", name,
                            AWS_PROCESS_TIMEOUT_S);
            return false;
        }
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            infra_error_set(err, "credential_process %s: poll: %s", name, strerror(errno));
            return false;
        }
        if (pr == 0)
            continue;
        ssize_t n = read(fd, buf + *len, AWS_PROCESS_OUTPUT_MAX + 1 - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            infra_error_set(err, "credential_process %s: read: %s", name, strerror(errno));
            return false;
        }
        if (n == 0)
            return true;
        *len += (size_t)n;
        if (*len > AWS_PROCESS_OUTPUT_MAX) {
            infra_error_set(err, "credential_process %s: output larger than %d bytes", name,
                            AWS_PROCESS_OUTPUT_MAX);
            return false;
        }
    }
}

static bool spawn(char *const argv[], int *out_fd, pid_t *pid, struct infra_error *err)
{
    posix_spawn_file_actions_t fa;
    int fds[2];
    int rc;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        infra_error_set(err, "credential_process: pipe: %s", strerror(errno));
        return false;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        infra_error_set(err, "credential_process %.200s: cannot run: %s", argv[0], strerror(rc));
        return false;
    }
    *out_fd = fds[0];
    return true;
}

bool aws_process_credentials(const char *command, struct aws_credentials *out,
                             struct infra_error *err)
{
    char *argv[AWS_PROCESS_ARGS_MAX + 1];
    char *words = NULL, *buf = NULL;
    size_t len = 0, wsz = command ? strlen(command) + 1 : 1;
    int argc, fd = -1, status = 0;
    pid_t pid = -1;
    bool ok = false, read_ok;

    memset(out, 0, sizeof(*out));
    words = malloc(wsz);
    buf = malloc(AWS_PROCESS_OUTPUT_MAX + 1);
    if (!words || !buf) {
        infra_error_set(err, "out of memory");
        goto out;
    }
    if (!aws_process_split(command, words, wsz, argv, &argc, err) || !spawn(argv, &fd, &pid, err))
        goto out;
    read_ok = read_output(fd, buf, &len, argv[0], err);
    close(fd);
    if (!read_ok)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!read_ok)
        goto out;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            infra_error_set(err, "credential_process %.200s exited with status %d", argv[0],
                            WEXITSTATUS(status));
        else
            infra_error_set(err, "credential_process %.200s was killed by signal %d", argv[0],
                            WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        goto out;
    }
    ok = aws_process_parse(buf, len, out, err);
out:
    if (buf) {
        OPENSSL_cleanse(buf, AWS_PROCESS_OUTPUT_MAX + 1);
        free(buf);
    }
    if (words) {
        OPENSSL_cleanse(words, wsz);
        free(words);
    }
    return ok;
}
