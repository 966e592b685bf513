#include "simopts.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int sim_bad_usage(const char *prog, const char *fmt, const char *arg)
{
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, arg);
    return cli_usage_error(prog, "%s", msg);
}

int sim_getopt_other(sim_opts *o, const char *prog, int opt, char **argv,
                     void (*usage)(FILE *f))
{
    switch (opt) {
    case SIM_OPT_KEYS:
        o->keys_path = optarg;
        return SIM_OPT_GO_ON;
    case SIM_OPT_LOG:
        o->log_path = optarg;
        return SIM_OPT_GO_ON;
    case SIM_OPT_QUIET:
        o->quiet = 1;
        return SIM_OPT_GO_ON;
    default:
        break;
    }
    if (opt == 'h') {
        usage(stdout);
        return CLI_EX_OK;
    }
    if (opt == ':')
        return sim_bad_usage(prog, "option %s needs a value", argv[optind - 1]);
    /* A short option is named alone (it may stand in a group, "-qx"). */
    if (strncmp(argv[optind - 1], "--", 2) && optopt > 0 && optopt < 256) {
        char flag[3] = {'-', (char)optopt, '\0'};

        return sim_bad_usage(prog, "unknown option: %s", flag);
    }
    return sim_bad_usage(prog, "unknown option: %s", argv[optind - 1]);
}

int sim_getopt_rest(const char *prog, int argc, char **argv)
{
    if (optind < argc)
        return sim_bad_usage(prog, "unexpected argument: %s", argv[optind]);
    return 0;
}

int sim_parse_host(const char *arg, const char **host)
{
    unsigned char addr[16];
    const char *h = strcmp(arg, "localhost") ? arg : "127.0.0.1";

    if (inet_pton(AF_INET, h, addr) != 1 && inet_pton(AF_INET6, h, addr) != 1)
        return -1;
    *host = h;
    return 0;
}
