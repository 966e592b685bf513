/*
 * Small generic helpers shared by the command-line programs: exit codes
 * (the BSD sysexits values, so that scripts can tell usage errors from
 * runtime failures) and strict number parsing with ranges.
 */
#ifndef SCN_APP_CLI_H
#define SCN_APP_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes, values of <sysexits.h>, named here so that no program needs
 * that non-standard header. */
#define CLI_EX_OK          0
#define CLI_EX_USAGE       64 /* bad command line */
#define CLI_EX_DATAERR     65 /* bad input data */
#define CLI_EX_NOINPUT     66 /* input file missing or unreadable */
#define CLI_EX_UNAVAILABLE 69 /* service unavailable */
#define CLI_EX_SOFTWARE    70 /* internal error */
#define CLI_EX_OSERR       71 /* system error (e.g. cannot bind) */
#define CLI_EX_CANTCREAT   73 /* cannot create output file */
#define CLI_EX_IOERR       74 /* input/output error */
#define CLI_EX_TEMPFAIL    75 /* temporary failure, retry later */
#define CLI_EX_NOPERM      77 /* permission denied */
#define CLI_EX_CONFIG      78 /* configuration error */

/*
 * Each parser accepts the whole string or nothing (no trailing garbage, no
 * empty string, no leading space) and checks min <= value <= max. They
 * return 0 on success, -1 otherwise; *out is written only on success.
 */
int cli_parse_double(const char *s, double min, double max, double *out);
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_parse_int(const char *s, int min, int max, int *out);

/* A byte count with an optional binary suffix: "4096", "64K", "64KiB",
 * "2M", "2MiB", "1G", "1GiB" (K = 1024). */
int cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

struct option;
/* getopt_long accepts any unambiguous prefix of a long option, so "--key
 * SECRET" would silently mean "--key-file SECRET". Returns 0 when every
 * "--name" argument before "--" names an option exactly, else prints which
 * one does not to stderr (prefixed by prog) and returns -1. */
int cli_exact_long_options(const char *prog, int argc, char **argv,
                           const struct option *opts);

/* s made safe to print (scn_escape_text: control bytes, invalid UTF-8 and
 * terminal controls escaped), in buf; returns buf. For anything a peer
 * sent: drone answers, labels, error messages. */
const char *cli_escaped(char *buf, size_t cap, const char *s);

/* The exit code for a session's fatal error: 77 key rejected (invalid,
 * expired, revoked, address not allowed), 78 no usable key (missing,
 * unreadable, open to others, malformed), 69 anything else (unreachable,
 * attempts exhausted, device unknown). */
int cli_exit_for_error(int err);

#endif
