/*
 * Small generic helpers shared by the command-line programs: exit codes
 * (the BSD sysexits values, so that scripts can tell usage errors from
 * runtime failures), strict number parsing with ranges, and the one way
 * every program reports a usage error: one line naming the option and
 * what it accepts ("scn-stream: --rate 5000: must be a number 0.1-1000"),
 * then where the options are listed.
 */
#ifndef SCN_APP_CLI_H
#define SCN_APP_CLI_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Exit codes, values of <sysexits.h>, named here so that no program needs
 * that non-standard header. */
#define CLI_EX_OK          0
#define CLI_EX_USAGE       64  /* bad command line */
#define CLI_EX_DATAERR     65  /* bad input data */
#define CLI_EX_NOINPUT     66  /* input file missing or unreadable */
#define CLI_EX_UNAVAILABLE 69  /* service unavailable */
#define CLI_EX_SOFTWARE    70  /* internal error */
#define CLI_EX_OSERR       71  /* system error (e.g. cannot bind) */
#define CLI_EX_CANTCREAT   73  /* cannot create output file */
#define CLI_EX_IOERR       74  /* input/output error */
#define CLI_EX_TEMPFAIL    75  /* temporary failure, retry later */
#define CLI_EX_PROTOCOL    76  /* remote error in protocol (a TLS peer) */
#define CLI_EX_NOPERM      77  /* permission denied */
#define CLI_EX_CONFIG      78  /* configuration error */
#define CLI_EX_INTERRUPTED 130 /* stopped by SIGINT or SIGTERM (128 + 2) */

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

/*
 * Usage errors. prog is what the user typed to get here ("scn-record
 * record"). cli_usage_error prints "PROG: MESSAGE" and "Run 'PROG --help'
 * for the options." to stderr and returns CLI_EX_USAGE (64), so that
 * `return cli_usage_error(...)` ends a program's parsing.
 */
int cli_usage_error(const char *prog, const char *fmt, ...) CLI_PRINTF(2, 3);

/*
 * Values checked with the sentence a user needs: parse arg as the parsers
 * above do; on failure write what is accepted into why ("must be a whole
 * number 0-65535") and return -1. For values from a config file.
 */
int cli_check_int(const char *arg, int min, int max, int *out, char *why,
                  size_t cap);
int cli_check_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *out,
                  char *why, size_t cap);
int cli_check_double(const char *arg, double min, double max, double *out,
                     char *why, size_t cap);
int cli_check_size(const char *arg, uint64_t min, uint64_t max, uint64_t *out,
                   char *why, size_t cap);

/*
 * Option values: checked as above; on failure "PROG: OPT ARG: must be ..."
 * is reported through cli_usage_error and -1 returned. 0 on success.
 */
int cli_opt_int(const char *prog, const char *opt, const char *arg, int min,
                int max, int *out);
int cli_opt_u64(const char *prog, const char *opt, const char *arg,
                uint64_t min, uint64_t max, uint64_t *out);
int cli_opt_double(const char *prog, const char *opt, const char *arg,
                   double min, double max, double *out);
int cli_opt_size(const char *prog, const char *opt, const char *arg,
                 uint64_t min, uint64_t max, uint64_t *out);

struct option;
/* getopt_long accepts any unambiguous prefix of a long option, so "--key
 * SECRET" would silently mean "--key-file SECRET". Returns 0 when every
 * "--name" argument before "--" names an option exactly, else reports the
 * one that does not (cli_usage_error) and returns -1. */
int cli_exact_long_options(const char *prog, int argc, char **argv,
                           const struct option *opts);

/*
 * getopt_long with getopt's own messages replaced by one usage error that
 * names the option ("PROG: --url needs a value", "PROG: unknown option
 * '-x'"). Returns the option's value, -1 after the last option, or '?'
 * once the error was reported (the caller exits 64).
 */
int cli_getopt(const char *prog, int argc, char **argv, const char *shortopts,
               const struct option *opts);

/*
 * Reports why a link could not be created (scn_session_new, scn_cloud_new,
 * scn_uav_channel_new) and returns the exit code: 64 for a URL the library
 * refuses (naming url_opt and url), 78 for a key that cannot be used
 * (naming where it came from: key_file, the default key file or
 * $SCENTIENCE_API_KEY), else as cli_exit_for_error().
 */
int cli_link_error(const char *prog, int rc, const char *url_opt,
                   const char *url, const char *key_file);

/*
 * Reports that a server could not start listening on bind:port, given by
 * option opt ("--state-port"): "PROG: OPT PORT: cannot listen on
 * BIND:PORT: CAUSE". Returns 71 (cannot listen), 64 for an address that
 * is not an IP (INVALID_ARG), 70 otherwise. bind NULL: "0.0.0.0".
 */
int cli_listen_error(const char *prog, int rc, const char *opt,
                     const char *bind, int port);

/*
 * Loop options for a program: the library's error lines go to stderr,
 * where the program's own words go. They carry what no error code does
 * (which certificate or key did not load, and why); what the program
 * learns otherwise (a link given up, a port in use) it says itself. Never
 * a secret: the library logs none.
 */
struct scn_loop_options;
void cli_loop_options(struct scn_loop_options *lo);

/*
 * Opens path for appending (creating it, keeping what it holds) and closes
 * it, so that an output file that cannot be written is reported before
 * anything starts: "PROG: OPT PATH: CAUSE". Returns 0 or 73.
 */
int cli_check_appendable(const char *prog, const char *opt, const char *path);

/*
 * Reports a scn_cloud_new() error that concerns the spool directory dir
 * (given as --spool-dir): "PROG: --spool-dir DIR: CAUSE". Returns 75 when
 * another process holds the spool, 73 for a directory that cannot be made
 * or used, 0 when rc is not about the spool (nothing printed).
 */
int cli_spool_error(const char *prog, int rc, const char *dir);

/* s made safe to print (scn_escape_text: control bytes, invalid UTF-8 and
 * terminal controls escaped), in buf; returns buf. For anything a peer
 * sent: drone answers, labels, error messages. */
const char *cli_escaped(char *buf, size_t cap, const char *s);

/* Room for cli_answer() of any answer the UAV library keeps (used where
 * scentience/uav.h is included). */
#define CLI_ANSWER_MAX (4 * SCN_UAV_RAW_MAX + 64)
/* A drone's answer as kept (raw) made safe to print, as cli_escaped(),
 * and said to be cut when the drone sent more than was kept (cut). */
const char *cli_answer(char *buf, size_t cap, const char *raw, int cut);

/* The exit code for an error opening or reading a recording: 66 cannot
 * read (missing, permission, a directory), 74 I/O error, 65 corrupt or not
 * MCAP, 71 out of memory. */
int cli_exit_for_read_error(int err);

/* The exit code for a session's fatal error: 77 key rejected (invalid,
 * expired, revoked, address not allowed), 78 no usable key (missing,
 * unreadable, open to others, malformed), 69 anything else (unreachable,
 * attempts exhausted, device unknown). */
int cli_exit_for_error(int err);

struct scn_state_event;

/* Why a link failed for good, in words for stderr: the reason and, when
 * it was the attempt limit, why the last attempt failed ("gave up after
 * the reconnect attempt limit (last attempt: timed out)"). Returns buf. */
const char *cli_failed_why(const struct scn_state_event *ev, char *buf,
                           size_t cap);

#endif
