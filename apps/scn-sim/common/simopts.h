/* Command-line pieces every simulator mode shares. */
#ifndef SCN_SIM_OPTS_H
#define SCN_SIM_OPTS_H

#include <stdio.h>

/* The modes, one line each (main.c), for a mode's --help. */
void sim_print_modes(FILE *f);

/* A usage error through the apps' one mechanism (cli_usage_error): fmt
 * with one %s for arg. Returns the exit code. */
int sim_bad_usage(const char *prog, const char *fmt, const char *arg);

/* What getopt_long returned that is no option of the mode's own: 'h'
 * (-h, --help: usage on stdout), ':' (a missing value) or '?' (an unknown
 * option), as a usage error. Returns the exit code. */
int sim_getopt_other(const char *prog, int opt, char **argv,
                     void (*usage)(FILE *f));

/* After getopt_long: an argument left over is a usage error. Returns 0 or
 * the exit code. */
int sim_getopt_rest(const char *prog, int argc, char **argv);

/* --host: an IP address ("localhost" means 127.0.0.1). Returns 0 and sets
 * *host, or -1. */
int sim_parse_host(const char *arg, const char **host);

#endif
