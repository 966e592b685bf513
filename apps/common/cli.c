/* Strict number parsing for command-line options, and usage errors. */
#include "cli.h"

#include <scentience/error.h>
#include <scentience/log.h>
#include <scentience/loop.h>
#include <scentience/session.h>

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
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

int cli_link_error(const char *prog, int rc, const char *url_opt,
                   const char *url, const char *key_file)
{
    const char *env = getenv("SCENTIENCE_API_KEY");

    switch (rc) {
    case SCN_ERR_URL:
    case SCN_ERR_INVALID_ARG:
        return cli_usage_error(prog,
                               "%s %s: %s (ws://HOST:PORT/PATH or "
                               "wss://...)",
                               url_opt, url ? url : "", scn_strerror(rc));
    case SCN_ERR_KEY_FORMAT:
    case SCN_ERR_KEY_FILE:
    case SCN_ERR_KEY_FILE_PERMS:
        if (rc == SCN_ERR_KEY_FORMAT && env && *env)
            fprintf(stderr, "%s: $SCENTIENCE_API_KEY: %s\n", prog,
                    scn_strerror(rc));
        else
            fprintf(stderr, "%s: %s: %s\n", prog,
                    key_file ? key_file
                             : "the default key file "
                               "($XDG_CONFIG_HOME/scentience/api-key)",
                    scn_strerror(rc));
        return CLI_EX_CONFIG;
    default:
        fprintf(stderr, "%s: %s\n", prog, scn_strerror(rc));
        return cli_exit_for_error(rc);
    }
}

int cli_listen_error(const char *prog, int rc, const char *opt,
                     const char *bind, int port)
{
    if (!bind)
        bind = "0.0.0.0";
    if (rc == SCN_ERR_INVALID_ARG)
        return cli_usage_error(prog,
                               "cannot listen on %s:%d (%s): not an IP "
                               "address and port",
                               bind, port, opt);
    fprintf(stderr, "%s: %s %d: cannot listen on %s:%d: %s\n", prog, opt, port,
            bind, port, scn_strerror(rc));
    switch (rc) {
    case SCN_ERR_ADDRESS_IN_USE:
    case SCN_ERR_ADDRESS_UNAVAILABLE:
    case SCN_ERR_PERMISSION:
    case SCN_ERR_IO:
        return CLI_EX_OSERR;
    default:
        return CLI_EX_SOFTWARE;
    }
}

int cli_check_appendable(const char *prog, const char *opt, const char *path)
{
    FILE *f = fopen(path, "ab");

    if (!f) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, opt, path,
                scn_strerror(scn_err_from_errno(errno)));
        return CLI_EX_CANTCREAT;
    }
    fclose(f);
    return 0;
}

int cli_spool_error(const char *prog, int rc, const char *dir)
{
    switch (rc) {
    case SCN_ERR_SPOOL_BUSY:
    case SCN_ERR_PERMISSION:
    case SCN_ERR_NO_SUCH_FILE:
    case SCN_ERR_NO_SPACE:
    case SCN_ERR_READ_ONLY:
    case SCN_ERR_IS_DIRECTORY:
    case SCN_ERR_EXISTS:
    case SCN_ERR_IO:
        fprintf(stderr, "%s: --spool-dir %s: %s\n", prog, dir,
                scn_strerror(rc));
        return rc == SCN_ERR_SPOOL_BUSY ? CLI_EX_TEMPFAIL : CLI_EX_CANTCREAT;
    default:
        return 0;
    }
}

const char *cli_escaped(char *buf, size_t cap, const char *s)
{
    scn_escape_text(buf, cap, s, s ? strlen(s) : 0);
    return buf;
}

const char *cli_answer(char *buf, size_t cap, const char *raw, int cut)
{
    size_t n;

    cli_escaped(buf, cap, raw);
    n = strlen(buf);
    /* Said, never silent: the rest of a long answer is not kept. */
    if (cut && n < cap)
        snprintf(buf + n, cap - n, " [answer cut: first %zu bytes kept]",
                 raw ? strlen(raw) : (size_t)0);
    return buf;
}

int cli_exit_for_read_error(int err)
{
    switch (err) {
    case SCN_ERR_NO_SUCH_FILE:
    case SCN_ERR_PERMISSION:
    case SCN_ERR_IS_DIRECTORY:
        return CLI_EX_NOINPUT;
    case SCN_ERR_IO:
        return CLI_EX_IOERR;
    case SCN_ERR_NOMEM:
        return CLI_EX_OSERR;
    default:
        return CLI_EX_DATAERR;
    }
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

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun '%s --help' for the options.\n", prog);
    return CLI_EX_USAGE;
}

/* "a whole number 1-1000", or "... 1 or more" when max is the type's or
 * too large to matter. */
static int bad_whole(char *why, size_t cap, unsigned long long min,
                     unsigned long long max, unsigned long long type_max)
{
    if (max == type_max || max >= UINT32_MAX)
        snprintf(why, cap, "must be a whole number %llu or more", min);
    else
        snprintf(why, cap, "must be a whole number %llu-%llu", min, max);
    return -1;
}

int cli_check_int(const char *arg, int min, int max, int *out, char *why,
                  size_t cap)
{
    if (cli_parse_int(arg, min, max, out) == 0)
        return 0;
    if (min < 0) {
        snprintf(why, cap, "must be a whole number %d to %d", min, max);
        return -1;
    }
    return bad_whole(why, cap, (unsigned long long)min, (unsigned long long)max,
                     INT_MAX);
}

int cli_check_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *out,
                  char *why, size_t cap)
{
    if (cli_parse_u64(arg, min, max, out) == 0)
        return 0;
    return bad_whole(why, cap, min, max, UINT64_MAX);
}

int cli_check_double(const char *arg, double min, double max, double *out,
                     char *why, size_t cap)
{
    if (cli_parse_double(arg, min, max, out) == 0)
        return 0;
    snprintf(why, cap, "must be a number %g-%g", min, max);
    return -1;
}

/* 4096 as "4K", 64 MiB as "64M": sizes as the user writes them. */
static const char *size_text(uint64_t v, char *buf, size_t cap)
{
    static const char units[] = "GMK";

    for (int i = 0; i < 3; i++) {
        uint64_t m = (uint64_t)1 << (10 * (3 - i));

        if (v >= m && v % m == 0) {
            snprintf(buf, cap, "%llu%c", (unsigned long long)(v / m), units[i]);
            return buf;
        }
    }
    snprintf(buf, cap, "%llu", (unsigned long long)v);
    return buf;
}

int cli_check_size(const char *arg, uint64_t min, uint64_t max, uint64_t *out,
                   char *why, size_t cap)
{
    char lo[32], hi[32];

    if (cli_parse_size(arg, min, max, out) == 0)
        return 0;
    snprintf(why, cap, "must be a size %s-%s (bytes, or with K, M, G)",
             size_text(min, lo, sizeof(lo)), size_text(max, hi, sizeof(hi)));
    return -1;
}

/* The cli_opt_* reports: "PROG: OPT ARG: WHY". */
static int bad_value(const char *prog, const char *opt, const char *arg,
                     const char *why)
{
    cli_usage_error(prog, "%s %s: %s", opt, arg, why);
    return -1;
}

int cli_opt_int(const char *prog, const char *opt, const char *arg, int min,
                int max, int *out)
{
    char why[128];

    return cli_check_int(arg, min, max, out, why, sizeof(why))
               ? bad_value(prog, opt, arg, why)
               : 0;
}

int cli_opt_u64(const char *prog, const char *opt, const char *arg,
                uint64_t min, uint64_t max, uint64_t *out)
{
    char why[128];

    return cli_check_u64(arg, min, max, out, why, sizeof(why))
               ? bad_value(prog, opt, arg, why)
               : 0;
}

int cli_opt_double(const char *prog, const char *opt, const char *arg,
                   double min, double max, double *out)
{
    char why[128];

    return cli_check_double(arg, min, max, out, why, sizeof(why))
               ? bad_value(prog, opt, arg, why)
               : 0;
}

int cli_opt_size(const char *prog, const char *opt, const char *arg,
                 uint64_t min, uint64_t max, uint64_t *out)
{
    char why[128];

    return cli_check_size(arg, min, max, out, why, sizeof(why))
               ? bad_value(prog, opt, arg, why)
               : 0;
}

int cli_getopt(const char *prog, int argc, char **argv, const char *shortopts,
               const struct option *opts)
{
    char spec[64];
    const char *bad;
    int c;

    /* A leading ':' tells a missing value (':') from an unknown option. */
    snprintf(spec, sizeof(spec), ":%s", shortopts);
    opterr = 0;
    c = getopt_long(argc, argv, spec, opts, NULL);
    if (c != '?' && c != ':')
        return c;
    bad = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (c == ':') {
        for (const struct option *o = opts; o->name; o++)
            if (!o->flag && o->val == optopt) {
                cli_usage_error(prog, "--%s needs a value", o->name);
                return '?';
            }
        cli_usage_error(prog, "-%c needs a value", optopt);
    } else if (optopt && optopt < 256 && strncmp(bad, "--", 2) != 0) {
        cli_usage_error(prog, "unknown option '-%c'", optopt);
    } else if (strchr(bad, '=')) {
        cli_usage_error(prog, "'%s': %.*s takes no value", bad,
                        (int)strcspn(bad, "="), bad);
    } else {
        cli_usage_error(prog, "unknown option '%s'", bad);
    }
    return '?';
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
            cli_usage_error(prog, "unknown option '--%.*s'", (int)n, a);
            return -1;
        }
    }
    return 0;
}

void cli_loop_options(scn_loop_options *lo)
{
    scn_loop_options_init(lo);
    lo->log = scn_log_to_stderr;
    lo->log_level = SCN_LOG_ERROR;
}

const char *cli_failed_why(const scn_state_event *ev, char *buf, size_t cap)
{
    if (ev->reason == SCN_ERR_ATTEMPTS_EXHAUSTED && ev->last_error)
        snprintf(buf, cap, "%s (last attempt: %s)", scn_strerror(ev->reason),
                 scn_strerror(ev->last_error));
    else
        snprintf(buf, cap, "%s", scn_strerror(ev->reason));
    return buf;
}
