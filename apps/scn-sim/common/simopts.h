/* Command-line pieces every simulator mode shares. */
#ifndef SCN_SIM_OPTS_H
#define SCN_SIM_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "simserver.h"

/* The options every mode has, first in its getopt_long table; a mode's own
 * are numbered from SIM_OPT_MODE. */
enum {
    SIM_OPT_HOST = 256,
    SIM_OPT_PORT,
    SIM_OPT_KEYS,
    SIM_OPT_SEED,
    SIM_OPT_LOG,
    SIM_OPT_DROP_EVERY,
    SIM_OPT_STALL_FOR,
    SIM_OPT_QUIET,
    SIM_OPT_MODE
};

/* clang-format off */
#define SIM_OPTIONS_COMMON                                                    \
    {"host", required_argument, NULL, SIM_OPT_HOST},                          \
    {"port", required_argument, NULL, SIM_OPT_PORT},                          \
    {"keys", required_argument, NULL, SIM_OPT_KEYS},                          \
    {"seed", required_argument, NULL, SIM_OPT_SEED},                          \
    {"log", required_argument, NULL, SIM_OPT_LOG},                            \
    {"drop-every", required_argument, NULL, SIM_OPT_DROP_EVERY},              \
    {"stall-for", required_argument, NULL, SIM_OPT_STALL_FOR},                \
    {"quiet", no_argument, NULL, SIM_OPT_QUIET},                              \
    {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* getopt_long's return values a mode need not handle itself */
#define SIM_OPT_GO_ON (-1)

/* The modes, one line each (main.c), for a mode's --help. */
void sim_print_modes(FILE *f);

/* A usage error through the apps' one mechanism (cli_usage_error): fmt
 * with one %s for arg. Returns the exit code. */
int sim_bad_usage(const char *prog, const char *fmt, const char *arg);

/* What getopt_long returned that a mode leaves to this: --keys, --log,
 * --quiet (into o: SIM_OPT_GO_ON), 'h' (-h, --help: usage on stdout, exit
 * code 0), ':' (a missing value) or '?' (an unknown option) as a usage
 * error (its exit code). */
int sim_getopt_other(sim_opts *o, const char *prog, int opt, char **argv,
                     void (*usage)(FILE *f));

/* After getopt_long: an argument left over is a usage error. Returns 0 or
 * the exit code. */
int sim_getopt_rest(const char *prog, int argc, char **argv);

/* --host: an IP address ("localhost" means 127.0.0.1). Returns 0 and sets
 * *host, or -1. */
int sim_parse_host(const char *arg, const char **host);

#endif
