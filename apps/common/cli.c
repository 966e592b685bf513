/* Strict number parsing for command-line options. */
#include "cli.h"

#include <scentience/error.h>
#include <scentience/log.h>

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_double(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    /* strtod skips leading space and accepts "nan"/"inf": refuse both. */
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end;

    /* strtoull accepts "-1" (wrapping it): digits only. */
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_int(const char *s, int min, int max, int *out)
{
    long v;
    char *end;

    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    static const char *const suffixes[] = {"K", "M", "G"};
    unsigned long long v;
    uint64_t mult = 1;
    char *end;
    size_t i;

    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (*end) {
        for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
            uint64_t m = (uint64_t)1024 << (10 * i);

            if (toupper((unsigned char)end[0]) == suffixes[i][0] &&
                (!end[1] || !strcmp(end + 1, "iB") || !strcmp(end + 1, "B")))
                mult = m;
        }
        if (mult == 1)
            return -1;
    }
    if (v > UINT64_MAX / mult)
        return -1;
    v *= mult;
    if (v < min || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

const char *cli_escaped(char *buf, size_t cap, const char *s)
{
    scn_escape_text(buf, cap, s, s ? strlen(s) : 0);
    return buf;
}

int cli_exit_for_error(int err)
{
    switch (err) {
    case SCN_ERR_KEY_INVALID:
    case SCN_ERR_KEY_EXPIRED:
    case SCN_ERR_KEY_REVOKED:
    case SCN_ERR_ADDRESS_NOT_ALLOWED:
        return CLI_EX_NOPERM;
    case SCN_ERR_NO_KEY:
    case SCN_ERR_KEY_FILE:
    case SCN_ERR_KEY_FILE_PERMS:
    case SCN_ERR_KEY_FORMAT:
        return CLI_EX_CONFIG;
    default:
        return CLI_EX_UNAVAILABLE;
    }
}

int cli_exact_long_options(const char *prog, int argc, char **argv,
                           const struct option *opts)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t n;
        int known = 0;

        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) != 0)
            continue;
        a += 2;
        n = strcspn(a, "=");
        for (const struct option *o = opts; o->name; o++) {
            if (strlen(o->name) == n && strncmp(o->name, a, n) == 0) {
                known = 1;
                /* Its argument is the next word: skip it. */
                if (o->has_arg == required_argument && !a[n])
                    i++;
                break;
            }
        }
        if (!known) {
            fprintf(stderr, "%s: unknown option '--%.*s'\n", prog, (int)n, a);
            return -1;
        }
    }
    return 0;
}
