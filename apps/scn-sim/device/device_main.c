/* `scn-sim device [options]`, the default mode: its command line. */
#include "device.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/simclock.h"
#include "common/simopts.h"
#include "common/simsig.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: scn-sim [MODE] [options]\n"
               "modes:\n");
    sim_print_modes(f);
    fprintf(f,
            "device options:\n"
            "  --host ADDR            listen address (default 127.0.0.1)\n"
            "  --port N               port, 0 = ephemeral (default 9000)\n"
            "  --devices UID,...      devices served (default SCN001)\n"
            "                         (UIDs of up to 1536 of A-Za-z0-9-_.:)\n"
            "  --rate HZ              default frame rate, 0.1-1000 (default "
            "10)\n"
            "  --keys FILE            JSON key store (default: any valid key)\n"
            "  --seed N               plume seed (default: random, logged)\n"
            "  --duration S           exit after S seconds\n"
            "  --log FILE             JSON event log, one object per line "
            "(appended)\n"
            "  --drop-every S         drop all connections every S seconds\n"
            "  --stall-every S        stall all connections every S seconds\n"
            "  --stall-for S          stall length (default 30)\n"
            "  --malformed-every N    replace every Nth frame by a malformed "
            "one\n"
            "  --oversize-every N     add an oversize message every N frames\n"
            "  --oversize-bytes B     oversize message size (default 2MiB)\n"
            "  --tls-cert FILE        serve wss:// with this PEM certificate\n"
            "  --tls-key FILE         and its PEM private key (both or "
            "neither)\n"
            "  --tls-client-ca FILE   require client certificates signed by "
            "this CA\n"
            "  --quiet                no human messages on stderr\n"
            "signals: HUP reloads keys, USR1 stalls, USR2 drops connections\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
    return sim_bad_usage("scn-sim", fmt, arg);
}

/* A UID goes into JSON and HTTP headers unescaped: keep it plain. */
static int uid_ok(const char *u)
{
    size_t n = strlen(u), i;

    if (!n || n > DEV_UID_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!(u[i] >= 'A' && u[i] <= 'Z') && !(u[i] >= 'a' && u[i] <= 'z') &&
            !(u[i] >= '0' && u[i] <= '9') && !strchr("-_.:", u[i]))
            return 0;
    return 1;
}

/* Splits list in place into o->uids. */
static int parse_devices(char *list, device_opts *o)
{
    char *save = NULL, *u;
    int i;

    o->n_uids = 0;
    if (!*list || list[strlen(list) - 1] == ',' || *list == ',' ||
        strstr(list, ",,"))
        return -1;
    for (u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
        if (!uid_ok(u) || o->n_uids == DEV_MAX_DEVICES)
            return -1;
        for (i = 0; i < o->n_uids; i++)
            if (!strcmp(o->uids[i], u))
                return -1;
        o->uids[o->n_uids++] = u;
    }
    return o->n_uids ? 0 : -1;
}

enum {
    OPT_DEVICES = SIM_OPT_MODE,
    OPT_RATE,
    OPT_DURATION,
    OPT_STALL_EVERY,
    OPT_MALFORMED_EVERY,
    OPT_OVERSIZE_EVERY,
    OPT_OVERSIZE_BYTES,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_TLS_CLIENT_CA
};

/* Seconds for time options: 1 ms to a year. */
static int seconds(const char *s, double *out)
{
    return cli_parse_double(s, 0.001, 366.0 * 86400, out);
}

static const struct option device_options[] = {
    SIM_OPTIONS_COMMON,
    {"devices", required_argument, NULL, OPT_DEVICES},
    {"rate", required_argument, NULL, OPT_RATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"stall-every", required_argument, NULL, OPT_STALL_EVERY},
    {"malformed-every", required_argument, NULL, OPT_MALFORMED_EVERY},
    {"oversize-every", required_argument, NULL, OPT_OVERSIZE_EVERY},
    {"oversize-bytes", required_argument, NULL, OPT_OVERSIZE_BYTES},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"tls-client-ca", required_argument, NULL, OPT_TLS_CLIENT_CA},
    {NULL, 0, NULL, 0}};

int device_main(int argc, char **argv)
{
    static char default_uid[] = "SCN001";
    device_opts o;
    int opt, rc, have_seed = 0;
    faults *f = &o.faults;

    memset(&o, 0, sizeof(o));
    o.base.host = "127.0.0.1";
    o.base.port = 9000;
    o.uids[0] = default_uid;
    o.n_uids = 1;
    o.rate_hz = 10;
    faults_init(f);

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:h", device_options, NULL)) != -1) {
        const char *a = optarg;

        switch (opt) {
        case SIM_OPT_HOST:
            if (sim_parse_host(a, &o.base.host))
                return bad_usage("--host: not an IP address: %s", a);
            break;
        case SIM_OPT_PORT:
            if (cli_parse_int(a, 0, 65535, &o.base.port))
                return bad_usage("--port: expected 0-65535, got %s", a);
            break;
        case OPT_DEVICES:
            if (parse_devices(optarg, &o))
                return bad_usage("--devices: expected distinct UIDs "
                                 "([A-Za-z0-9._:-], up to 64 each) "
                                 "separated by commas: %s",
                                 a);
            break;
        case OPT_RATE:
            if (cli_parse_double(a, DEV_RATE_MIN, DEV_RATE_MAX, &o.rate_hz))
                return bad_usage("--rate: expected 0.1-1000 Hz, got %s", a);
            break;
        case SIM_OPT_SEED:
            if (cli_parse_u64(a, 0, UINT64_MAX, &o.base.seed))
                return bad_usage("--seed: expected an unsigned integer, "
                                 "got %s",
                                 a);
            have_seed = 1;
            break;
        case OPT_DURATION:
            if (seconds(a, &o.base.duration_s))
                return bad_usage("--duration: expected seconds > 0, got %s", a);
            break;
        case SIM_OPT_DROP_EVERY:
            if (seconds(a, &o.base.drop_every_s))
                return bad_usage("--drop-every: expected seconds > 0, "
                                 "got %s",
                                 a);
            break;
        case OPT_STALL_EVERY:
            if (seconds(a, &o.base.stall_every_s))
                return bad_usage("--stall-every: expected seconds > 0, "
                                 "got %s",
                                 a);
            break;
        case SIM_OPT_STALL_FOR:
            if (seconds(a, &f->stall_for_s))
                return bad_usage("--stall-for: expected seconds > 0, got %s",
                                 a);
            break;
        case OPT_MALFORMED_EVERY:
            if (cli_parse_u64(a, 1, UINT32_MAX, &f->malformed_every))
                return bad_usage("--malformed-every: expected a count >= 1, "
                                 "got %s",
                                 a);
            break;
        case OPT_OVERSIZE_EVERY:
            if (cli_parse_u64(a, 1, UINT32_MAX, &f->oversize_every))
                return bad_usage("--oversize-every: expected a count >= 1, "
                                 "got %s",
                                 a);
            break;
        case OPT_OVERSIZE_BYTES:
            if (cli_parse_size(a, 128, 256u * 1024 * 1024, &f->oversize_bytes))
                return bad_usage("--oversize-bytes: expected 128 to 256MiB "
                                 "(suffixes K, M), got %s",
                                 a);
            break;
        case OPT_TLS_CERT:
            o.base.tls_cert = a;
            break;
        case OPT_TLS_KEY:
            o.base.tls_key = a;
            break;
        case OPT_TLS_CLIENT_CA:
            o.base.tls_client_ca = a;
            break;
        default:
            if ((rc = sim_getopt_other(&o.base, "scn-sim", opt, argv, usage)) !=
                SIM_OPT_GO_ON)
                return rc;
        }
    }
    if ((rc = sim_getopt_rest("scn-sim", argc, argv)))
        return rc;
    /* A certificate without its key (or the reverse) is a typo, not a
     * request for plain ws://. */
    if (!o.base.tls_cert != !o.base.tls_key)
        return bad_usage("%s", "--tls-cert and --tls-key go together");
    if (o.base.tls_client_ca && !o.base.tls_cert)
        return bad_usage("%s", "--tls-client-ca needs --tls-cert");
    o.base.seed = have_seed ? o.base.seed : sim_random_seed();
    if (simsig_install())
        return CLI_EX_OSERR;
    return device_run(&o);
}
