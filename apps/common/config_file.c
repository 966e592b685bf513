/* Configuration files (see config_file.h). */
#include "config_file.h"

#include <scentience/error.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    cfg_setting_fn setting;
    void *setting_user;
    cfg_problem_fn problem;
    void *problem_user;
    unsigned problems;
} reader;

static void report(reader *r, unsigned line, const char *what)
{
    r->problems++;
    r->problem(line, what, r->problem_user);
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
static void parse_line(reader *r, char *s, size_t n, unsigned line)
{
    char *hash = memchr(s, '#', n), *eq, *key, *val = (char *)"";
    char why[CFG_LINE_MAX + 128];
    size_t kn, vn = 0;

    if (hash)
        n = (size_t)(hash - s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            report(r, line,
                   c == 0 ? "contains a NUL byte"
                          : "contains a control character");
            return;
        }
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
            report(r, line, "no setting name before '='");
        return; /* else blank or a comment */
    }
    why[0] = '\0';
    if (r->setting(key, val, r->setting_user, why, sizeof why) != 0)
        report(r, line, why[0] ? why : "refused");
}

unsigned cfg_parse(const char *text, size_t len, cfg_setting_fn setting,
                   void *setting_user, cfg_problem_fn problem,
                   void *problem_user)
{
    reader r = {setting, setting_user, problem, problem_user, 0};
    char buf[CFG_LINE_MAX + 1], what[64];
    unsigned line = 0;

    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at, body = n;

        line++;
        /* A CR before the line end is not part of it (CRLF files). */
        if (n > 0 && text[at + n - 1] == '\r')
            body--;
        if (body > CFG_LINE_MAX) {
            snprintf(what, sizeof what, "longer than %d bytes", CFG_LINE_MAX);
            report(&r, line, what);
        } else {
            memcpy(buf, text + at, body);
            buf[body] = '\0';
            parse_line(&r, buf, body, line);
        }
        at += n + 1;
    }
    return r.problems;
}

unsigned cfg_read_file(const char *path, cfg_setting_fn setting,
                       void *setting_user, cfg_problem_fn problem,
                       void *problem_user)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL, what[128] = "";
    size_t n = 0;
    unsigned problems = 0;

    if (!f) {
        snprintf(what, sizeof what, "%s",
                 scn_strerror(scn_err_from_errno(errno)));
    } else if (!(text = malloc(CFG_FILE_MAX + 1))) {
        snprintf(what, sizeof what, "out of memory");
    } else {
        /* One byte more than allowed tells a file that is too large. */
        n = fread(text, 1, CFG_FILE_MAX + 1, f);
        if (ferror(f))
            snprintf(what, sizeof what, "%s",
                     scn_strerror(scn_err_from_errno(errno)));
        else if (n > CFG_FILE_MAX)
            snprintf(what, sizeof what, "larger than %u bytes", CFG_FILE_MAX);
    }
    if (what[0]) {
        problem(0, what, problem_user);
        problems = 1;
    } else {
        problems =
            cfg_parse(text, n, setting, setting_user, problem, problem_user);
    }
    free(text);
    if (f)
        fclose(f);
    return problems;
}
