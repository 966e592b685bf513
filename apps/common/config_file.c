/* Configuration files (see config_file.h). */
#include "config_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t cap, unsigned line, const char *what,
                const char *key)
{
    if (key)
        snprintf(err, cap, "line %u: '%.64s%s': %s", line, key,
                 strlen(key) > 64 ? "..." : "", what);
    else
        snprintf(err, cap, "line %u: %s", line, what);
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* s[*n] without blanks at both ends; returns the new start. */
static char *trim(char *s, size_t *n)
{
    while (*n > 0 && is_blank(*s)) {
        s++;
        (*n)--;
    }
    while (*n > 0 && is_blank(s[*n - 1]))
        (*n)--;
    s[*n] = '\0';
    return s;
}

/* One line (no line end, NUL-terminated, at most CFG_LINE_MAX bytes). */
static int parse_line(char *s, size_t n, unsigned line, cfg_setting_fn fn,
                      void *user, char *err, size_t cap)
{
    char *hash = memchr(s, '#', n), *eq, *key, *val = (char *)"";
    size_t kn, vn = 0;
    const char *why;

    if (hash)
        n = (size_t)(hash - s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(err, cap, line,
                        c == 0 ? "NUL byte" : "control character", NULL);
    }
    eq = memchr(s, '=', n);
    kn = eq ? (size_t)(eq - s) : n;
    key = trim(s, &kn);
    if (eq) {
        vn = n - (size_t)(eq - s) - 1;
        val = trim(eq + 1, &vn);
    }
    if (kn == 0) {
        if (eq)
            return fail(err, cap, line, "no setting name before '='", NULL);
        return 0; /* blank or comment */
    }
    if ((why = fn(key, val, user)) != NULL)
        return fail(err, cap, line, why, key);
    return 0;
}

int cfg_parse(const char *text, size_t len, cfg_setting_fn fn, void *user,
              char *err, size_t err_cap)
{
    char buf[CFG_LINE_MAX + 1];
    unsigned line = 0;

    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at, body = n;

        line++;
        /* A CR before the line end is not part of it (CRLF files). */
        if (n > 0 && text[at + n - 1] == '\r')
            body--;
        if (body > CFG_LINE_MAX) {
            snprintf(err, err_cap, "line %u is longer than %d bytes", line,
                     CFG_LINE_MAX);
            return -1;
        }
        memcpy(buf, text + at, body);
        buf[body] = '\0';
        if (parse_line(buf, body, line, fn, user, err, err_cap) != 0)
            return -1;
        at += n + 1;
    }
    return 0;
}

int cfg_read_file(const char *path, cfg_setting_fn fn, void *user, char *err,
                  size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    char *text;
    size_t n;
    int rc;

    if (!f) {
        snprintf(err, err_cap, "cannot read: %s", strerror(errno));
        return -1;
    }
    /* One byte more than allowed tells a file that is too large. */
    text = malloc(CFG_FILE_MAX + 1);
    if (!text) {
        fclose(f);
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    n = fread(text, 1, CFG_FILE_MAX + 1, f);
    if (ferror(f)) {
        snprintf(err, err_cap, "cannot read: %s", strerror(errno));
        rc = -1;
    } else if (n > CFG_FILE_MAX) {
        snprintf(err, err_cap, "larger than %u bytes", CFG_FILE_MAX);
        rc = -1;
    } else {
        rc = cfg_parse(text, n, fn, user, err, err_cap);
    }
    free(text);
    fclose(f);
    return rc;
}
