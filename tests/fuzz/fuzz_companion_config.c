/*
 * The companion's configuration files (apps/common/config_file.c). Every
 * setting read comes from one line no longer than the limit, without
 * control bytes; every problem names its line; and the settings read
 * (around any bad lines), written back as "key=value" lines, read the same
 * without a problem.
 */
#include "fuzz.h"

#include "config_file.h"

typedef struct settings {
    size_t n;
    char *kv[1024]; /* "key=value" */
} settings;

static int collect(const char *key, const char *value, void *user, char *why,
                   size_t why_cap)
{
    settings *s = user;
    size_t kn = strlen(key), vn = strlen(value);

    FUZZ_CHECK(kn > 0 && kn + vn <= CFG_LINE_MAX, "setting from a long line");
    FUZZ_CHECK(!strchr(key, '=') && !strchr(key, '#') && !strchr(value, '#'),
               "'=' in a key or '#' in a setting");
    for (const char *p = key; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t', "control byte");
    for (const char *p = value; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 || *p == '\t', "control byte");
    FUZZ_CHECK(key[0] != ' ' && key[0] != '\t' && key[kn - 1] != ' ' &&
                   key[kn - 1] != '\t',
               "key not trimmed");
    if (s->n == sizeof s->kv / sizeof s->kv[0]) {
        snprintf(why, why_cap, "too many settings");
        return -1;
    }
    s->kv[s->n] = malloc(kn + vn + 2);
    FUZZ_CHECK(s->kv[s->n] != NULL, "out of memory");
    snprintf(s->kv[s->n++], kn + vn + 2, "%s=%s", key, value);
    return 0;
}

typedef struct problems {
    unsigned n, last_line;
} problems;

static void problem(unsigned line, const char *what, void *user)
{
    problems *p = user;

    FUZZ_CHECK(line >= 1 && line > p->last_line && what[0] != '\0',
               "problem \"%s\" on line %u after line %u", what, line,
               p->last_line);
    p->last_line = line;
    p->n++;
}

static void clear(settings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->kv[i]);
    s->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    settings *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    problems pa = {0, 0}, pb = {0, 0};
    unsigned n;
    char *text;
    size_t len = 0;

    if (a == NULL || b == NULL)
        abort();
    n = cfg_parse((const char *)data, size, collect, a, problem, &pa);
    FUZZ_CHECK(n == pa.n, "%u problems, %u reported", n, pa.n);
    for (size_t i = 0; i < a->n; i++)
        len += strlen(a->kv[i]) + 1;
    text = malloc(len + 1);
    FUZZ_CHECK(text != NULL, "out of memory");
    len = 0;
    for (size_t i = 0; i < a->n; i++)
        len += (size_t)sprintf(text + len, "%s\n", a->kv[i]);
    n = cfg_parse(text, len, collect, b, problem, &pb);
    FUZZ_CHECK(n == 0, "written back, %u problems", n);
    FUZZ_CHECK(a->n == b->n, "%zu settings became %zu", a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        FUZZ_CHECK(strcmp(a->kv[i], b->kv[i]) == 0, "%s became %s", a->kv[i],
                   b->kv[i]);
    free(text);
    clear(a);
    clear(b);
    free(a);
    free(b);
    return 0;
}
