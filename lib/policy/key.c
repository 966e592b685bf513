/* API keys. The key is a credential: it lives in one page kept out of core
 * dumps and swap where the system allows, is wiped before the page is
 * released, and only its last four characters are ever shown. */
#include "key.h"

#include <scentience/api_key.h>
#include <scentience/error.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct scn_secret {
    size_t page_size; /* the whole mapping, this header included */
    size_t len;
    char text[]; /* NUL-terminated, at most SCN_KEY_MAX bytes */
};

int scn__secret_new(scn_secret **out)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t size = ps > 0 ? (size_t)ps : 4096;
    scn_secret *s;

    *out = NULL;
    while (size < sizeof(scn_secret) + SCN_KEY_MAX + 1)
        size *= 2;
    s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (s == MAP_FAILED)
        return SCN_ERR_NOMEM;
    /* A key in a core file outlives the process; refuse rather than risk
     * it. */
    if (madvise(s, size, MADV_DONTDUMP) != 0) {
        munmap(s, size);
        return SCN_ERR_NOMEM;
    }
    /* Keeps the key out of swap. RLIMIT_MEMLOCK is often tiny for
     * unprivileged users, so failure is accepted. */
    (void)mlock(s, size);
    s->page_size = size;
    s->len = 0;
    s->text[0] = '\0';
    *out = s;
    return 0;
}

void scn__secret_free(scn_secret *s)
{
    size_t size;

    if (!s)
        return;
    size = s->page_size;
    explicit_bzero(s, size);
    munlock(s, size);
    munmap(s, size);
}

void scn__secret_wipe(scn_secret *s)
{
    if (!s)
        return;
    explicit_bzero(s->text, SCN_KEY_MAX + 1);
    s->len = 0;
}

int scn__key_check(const char *text, size_t len)
{
    size_t i;

    if (!text || len < SCN_KEY_MIN || len > SCN_KEY_MAX)
        return SCN_ERR_KEY_FORMAT;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        /* Visible ASCII only: a space, CR or LF would split or end the
         * Authorization header. */
        if (c <= 0x20 || c >= 0x7f)
            return SCN_ERR_KEY_FORMAT;
    }
    return 0;
}

int scn__password_check(const char *text, size_t len)
{
    if (!text || len == 0 || len > SCN_KEY_MAX)
        return SCN_ERR_KEY_FORMAT;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        /* Spaces are fine in a password; control characters are a file
         * that holds something else. */
        if (c < 0x20 || c == 0x7f)
            return SCN_ERR_KEY_FORMAT;
    }
    return 0;
}

typedef int (*text_check_fn)(const char *text, size_t len);

static int secret_store(scn_secret *s, const char *text, size_t len,
                        text_check_fn check)
{
    int rc = check(text, len);

    if (rc)
        return rc;
    scn__secret_wipe(s);
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    return 0;
}

int scn__secret_set(scn_secret *s, const char *text, size_t len)
{
    return secret_store(s, text, len, scn__key_check);
}

const char *scn__secret_str(const scn_secret *s)
{
    return s ? s->text : "";
}

size_t scn__secret_len(const scn_secret *s)
{
    return s ? s->len : 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads path into dst; *missing tells a file that does not exist apart
 * from one that exists but is unusable. */
static int read_key_file(scn_secret *dst, const char *path, bool *missing,
                         text_check_fn check)
{
    char buf[SCN_KEY_MAX + 2];
    size_t n = 0, start = 0;
    struct stat st;
    int fd, rc = 0;

    *missing = false;
    if (!dst || !path || !*path)
        return SCN_ERR_KEY_FILE;
    /* O_NONBLOCK: opening a FIFO must not hang; fstat refuses it next. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        *missing = errno == ENOENT || errno == ENOTDIR;
        return SCN_ERR_KEY_FILE;
    }
    /* fstat on the descriptor, not stat on the name: the checked file is
     * the one read, whatever happens to the path meanwhile. */
    if (fstat(fd, &st) != 0) {
        close(fd);
        return SCN_ERR_KEY_FILE;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        close(fd);
        return SCN_ERR_KEY_FILE_PERMS;
    }
    if (st.st_size > (off_t)sizeof(buf)) {
        close(fd);
        return SCN_ERR_KEY_FORMAT;
    }
    while (n < sizeof(buf)) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = SCN_ERR_KEY_FILE;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (rc == 0) {
        if (n > 0 && buf[n - 1] == '\n') {
            n--;
            if (n > 0 && buf[n - 1] == '\r')
                n--;
        }
        while (n > 0 && is_blank(buf[n - 1]))
            n--;
        while (start < n && is_blank(buf[start]))
            start++;
        rc = secret_store(dst, buf + start, n - start, check);
    }
    explicit_bzero(buf, sizeof(buf));
    return rc;
}

int scn__key_read_file(scn_secret *dst, const char *path)
{
    bool missing;

    return read_key_file(dst, path, &missing, scn__key_check);
}

int scn__password_read_file(scn_secret *dst, const char *path)
{
    bool missing;

    return read_key_file(dst, path, &missing, scn__password_check);
}

int scn__key_default_path(char *buf, size_t cap, const char *xdg_config_home,
                          const char *home)
{
    int n;

    /* The XDG spec says to ignore relative values. */
    if (xdg_config_home && xdg_config_home[0] == '/')
        n = snprintf(buf, cap, "%s/scentience/api-key", xdg_config_home);
    else if (home && *home)
        n = snprintf(buf, cap, "%s/.config/scentience/api-key", home);
    else
        return SCN_ERR_NOT_FOUND;
    if (n < 0 || (size_t)n >= cap)
        return SCN_ERR_NOMEM;
    return 0;
}

int scn__key_resolve(scn_secret *dst, const char *option_key,
                     const char *env_value, const char *key_file,
                     const char *xdg_config_home, const char *home,
                     const char **source)
{
    char path[4096];
    bool missing;
    int rc;

    if (source)
        *source = NULL;
    if (option_key && *option_key) {
        rc = scn__secret_set(dst, option_key, strlen(option_key));
        if (rc == 0 && source)
            *source = "option";
        return rc;
    }
    if (env_value && *env_value) {
        rc = scn__secret_set(dst, env_value, strlen(env_value));
        if (rc == 0 && source)
            *source = "environment";
        return rc;
    }
    if (key_file && *key_file) {
        rc = read_key_file(dst, key_file, &missing, scn__key_check);
    } else {
        rc = scn__key_default_path(path, sizeof(path), xdg_config_home, home);
        if (rc == SCN_ERR_NOT_FOUND)
            return SCN_ERR_NO_KEY;
        if (rc)
            return rc;
        rc = read_key_file(dst, path, &missing, scn__key_check);
        /* No default file is simply "no key configured"; a named file
         * that is missing is a mistake worth its own error. */
        if (rc == SCN_ERR_KEY_FILE && missing)
            return SCN_ERR_NO_KEY;
    }
    if (rc == 0 && source)
        *source = "file";
    return rc;
}

void scn__key_redact(const char *key, size_t len,
                     char out[SCN_KEY_REDACTED_SIZE])
{
    /* Below 12 characters, four would be a third of the key or more. */
    if (!key || len < 12) {
        memcpy(out, "****", 5);
        return;
    }
    memcpy(out, "****", 4);
    memcpy(out + 4, key + len - 4, 4);
    out[8] = '\0';
}

/* ---- scn_api_key: a key resolved once by the application ---- */

struct scn_api_key {
    scn_secret *secret;
    const char *source;
    char redacted[SCN_KEY_REDACTED_SIZE];
};

int scn_api_key_load(const char *key_file, scn_api_key **out)
{
    scn_api_key *k;
    int rc;

    if (!out)
        return SCN_ERR_INVALID_ARG;
    *out = NULL;
    if (!(k = calloc(1, sizeof(*k))))
        return SCN_ERR_NOMEM;
    if ((rc = scn__secret_new(&k->secret)) != 0 ||
        (rc = scn__key_resolve(k->secret, NULL, getenv("SCENTIENCE_API_KEY"),
                               key_file, getenv("XDG_CONFIG_HOME"),
                               getenv("HOME"), &k->source)) != 0) {
        scn_api_key_free(k);
        return rc;
    }
    scn__key_redact(scn__secret_str(k->secret), scn__secret_len(k->secret),
                    k->redacted);
    *out = k;
    return 0;
}

void scn_api_key_free(scn_api_key *k)
{
    if (!k)
        return;
    scn__secret_free(k->secret);
    free(k);
}

const char *scn_api_key_text(const scn_api_key *k)
{
    return k ? scn__secret_str(k->secret) : "";
}

const char *scn_api_key_redacted(const scn_api_key *k)
{
    return k ? k->redacted : "";
}

const char *scn_api_key_source(const scn_api_key *k)
{
    return k && k->source ? k->source : "";
}

int scn_api_key_equal(const scn_api_key *a, const scn_api_key *b)
{
    size_t la, lb, i;
    const char *sa, *sb;
    unsigned char diff = 0;

    if (!a || !b)
        return 0;
    la = scn__secret_len(a->secret);
    lb = scn__secret_len(b->secret);
    if (la != lb)
        return 0;
    sa = scn__secret_str(a->secret);
    sb = scn__secret_str(b->secret);
    /* No early exit: the time taken says nothing about where they differ. */
    for (i = 0; i < la; i++)
        diff |= (unsigned char)(sa[i] ^ sb[i]);
    return diff == 0;
}
