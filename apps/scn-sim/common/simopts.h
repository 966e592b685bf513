/* Command-line pieces every simulator mode shares. */
#ifndef SCN_SIM_OPTS_H
#define SCN_SIM_OPTS_H

#include <stdio.h>

/* The modes, one line each (main.c), for a mode's --help. */
void sim_print_modes(FILE *f);

/* A usage error through the apps' one mechanism (cli_usage_error): fmt
 * with one %s for arg. Returns the exit code. */
int sim_bad_usage(const char *prog, const char *fmt, const char *arg);

/* What getopt_long's ':' (missing value) or '?' (unknown option) says,
 * as a usage error. Returns the exit code. */
int sim_getopt_error(const char *prog, int opt, char **argv);

/* --host: an IP address ("localhost" means 127.0.0.1). Returns 0 and sets
 * *host, or -1. */
int sim_parse_host(const char *arg, const char **host);

#endif
