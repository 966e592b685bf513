/* `scn-sim cloud` command line (the server is cloud_server.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cloud_sim.h"
#include "common/simopts.h"
#include "common/simsig.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: scn-sim cloud [options]\n"
            "the cloud inference service: ws /v1/stream "
            "(scentience.cloud.v1), POST /v1/predict\n"
            "  --host ADDR           listen address (default 127.0.0.1)\n"
            "  --port N              port, 0 = ephemeral (default 8080)\n"
            "  --keys FILE           JSON key store (default: any valid key)\n"
            "  --seed N              plume seed, fixes the sources bearings "
            "point to\n"
            "                        (default 1)\n"
            "  --log FILE            JSON event log, one object per line\n"
            "  --drop-every S        drop all connections every S seconds\n"
            "  --stall-for S         SIGUSR1 stalls streams for S s "
            "(default 30)\n"
            "  --refuse-429-for S    answer 429 to every handshake and "
            "predict\n"
            "                        for S seconds after start\n"
            "  --drop-after-accept N drop the connection carrying record N\n"
            "                        once it is accepted, before its "
            "inference\n"
            "                        and ack go out (once)\n"
            "  --control-labels      test option: 16 labels of 63 control "
            "characters\n"
            "                        in every inference\n"
            "  --quiet               no human messages on stderr\n"
            "signals: HUP reloads keys (revoked: error + close 4001), USR1 "
            "stalls,\n"
            "USR2 drops connections; acks are sent after every record\n");
}

/* A usage error through the apps' one mechanism (cli_usage_error). */
static int bad(const char *what, const char *arg)
{
    return cli_usage_error("scn-sim cloud", "%s: %s", what, arg);
}

enum { O_REFUSE = SIM_OPT_MODE, O_DROP_AFTER, O_CONTROL_LABELS };

static const struct option opts[] = {
    SIM_OPTIONS_COMMON,
    {"refuse-429-for", required_argument, NULL, O_REFUSE},
    {"drop-after-accept", required_argument, NULL, O_DROP_AFTER},
    {"control-labels", no_argument, NULL, O_CONTROL_LABELS},
    {NULL, 0, NULL, 0}};

int cloud_main(int argc, char **argv)
{
    cloud_opts o;
    int opt, rc;

    memset(&o, 0, sizeof(o));
    o.base.host = "127.0.0.1";
    o.base.port = 8080;
    o.base.seed = 1; /* fixed: tests compute bearings from it */
    o.stall_for_s = 30;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        const char *a = optarg;

        switch (opt) {
        case SIM_OPT_HOST:
            if (sim_parse_host(a, &o.base.host))
                return bad("--host: not an IP address", a);
            break;
        case SIM_OPT_PORT:
            if (cli_parse_int(a, 0, 65535, &o.base.port))
                return bad("--port: expected 0-65535", a);
            break;
        case SIM_OPT_SEED:
            if (cli_parse_u64(a, 0, UINT64_MAX, &o.base.seed))
                return bad("--seed: expected an unsigned integer", a);
            break;
        case SIM_OPT_DROP_EVERY:
            if (cli_parse_double(a, 0.001, 366.0 * 86400, &o.base.drop_every_s))
                return bad("--drop-every: expected seconds > 0", a);
            break;
        case SIM_OPT_STALL_FOR:
            if (cli_parse_double(a, 0.001, 366.0 * 86400, &o.stall_for_s))
                return bad("--stall-for: expected seconds > 0", a);
            break;
        case O_REFUSE:
            if (cli_parse_double(a, 0.001, 366.0 * 86400, &o.refuse_429_for))
                return bad("--refuse-429-for: expected seconds > 0", a);
            break;
        case O_DROP_AFTER:
            if (cli_parse_u64(a, 1, UINT64_C(9007199254740991), &o.drop_after))
                return bad("--drop-after-accept: expected a seq >= 1", a);
            break;
        case O_CONTROL_LABELS:
            o.control_labels = 1;
            break;
        case ':':
            return bad("option needs a value", argv[optind - 1]);
        case '?':
            return bad("unknown option", argv[optind - 1]);
        default:
            if ((rc = sim_getopt_other(&o.base, "scn-sim cloud", opt, argv,
                                       usage)) != SIM_OPT_GO_ON)
                return rc;
        }
    }
    if (optind < argc)
        return bad("unexpected argument", argv[optind]);
    if (simsig_install())
        return CLI_EX_OSERR;
    return cloud_run(&o);
}
