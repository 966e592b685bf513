/* `scn-sim uav [options]`: the command line of the drone simulator. */
#include "uav_sim.h"

#include <arpa/inet.h>
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
    fprintf(f,
            "usage: scn-sim uav [options]\n"
            "A drone speaking UAV-Sockets: commands on ws://HOST:PORT; after\n"
            "hello_scentience it connects to the app for state (and video\n"
            "after streamon).\n"
            "  --host ADDR             listen address (default 127.0.0.1)\n"
            "  --port N                command port, 0 = ephemeral (default "
            "8889)\n"
            "  --keys FILE             JSON key store (default: any valid "
            "key)\n"
            "  --seed N                plume and noise seed (default: "
            "random, logged)\n"
            "  --time-scale X          simulated seconds per second, "
            "0.01-1000 (default 1)\n"
            "  --battery PCT           battery at start, 0-100 (default "
            "100)\n"
            "  --battery-drain S       flight seconds per 1%% of battery "
            "(default 20)\n"
            "  --state-host ADDR       the app's address for state and video\n"
            "                          (default: the peer that sent "
            "hello_scentience)\n"
            "  --state-port N          the app's state port (default 8890)\n"
            "  --video-port N          the app's video port (default 11111)\n"
            "  --state-rate HZ         state strings per second, 0.1-100 "
            "(default 10)\n"
            "  --video-fps N           video frames per second, 1-120 "
            "(default 30)\n"
            "  --reconnect-delay S     before a link to the app is tried "
            "again (default 1)\n"
            "  --duration S            exit after S seconds\n"
            "  --log FILE              JSON event log, one object per line "
            "(appended)\n"
            "  --drop-every S          drop command connections every S "
            "seconds\n"
            "  --stall-every S         stall command connections every S "
            "seconds\n"
            "  --stall-for S           stall length (default 30)\n"
            "  --garbage-state-every N every Nth state string is garbage\n"
            "  --state-extra PAIRS     'key:value;' pairs added to every state "
            "string\n"
            "                          (firmware fields the app does not "
            "know)\n"
            "  --late-answers MS       delay every answer by MS "
            "milliseconds\n"
            "  --quiet                 no human messages on stderr\n"
            "signals: HUP reloads keys, USR1 stalls the command connections,\n"
            "USR2 drops every connection (the links to the app come back)\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
    return sim_bad_usage("scn-sim uav", fmt, arg);
}

enum {
    OPT_TIME_SCALE = SIM_OPT_MODE,
    OPT_BATTERY,
    OPT_BATTERY_DRAIN,
    OPT_STATE_HOST,
    OPT_STATE_PORT,
    OPT_VIDEO_PORT,
    OPT_STATE_RATE,
    OPT_VIDEO_FPS,
    OPT_RECONNECT,
    OPT_DURATION,
    OPT_STALL_EVERY,
    OPT_GARBAGE,
    OPT_STATE_EXTRA,
    OPT_LATE
};

/* Seconds for time options: 1 ms to a year. */
static int seconds(const char *s, double *out, char *why, size_t cap)
{
    return cli_check_double(s, 0.001, 366.0 * 86400, out, why, cap);
}

/* An IP address of the given family, "localhost" meaning 127.0.0.1.
 * Returns the address text or NULL. */
static const char *address(const char *a, int family)
{
    unsigned char buf[16];

    if (!strcmp(a, "localhost"))
        a = family == AF_INET6 ? "::1" : "127.0.0.1";
    return inet_pton(family, a, buf) == 1 ? a : NULL;
}

static const struct option uav_options[] = {
    SIM_OPTIONS_COMMON,
    {"time-scale", required_argument, NULL, OPT_TIME_SCALE},
    {"battery", required_argument, NULL, OPT_BATTERY},
    {"battery-drain", required_argument, NULL, OPT_BATTERY_DRAIN},
    {"state-host", required_argument, NULL, OPT_STATE_HOST},
    {"state-port", required_argument, NULL, OPT_STATE_PORT},
    {"video-port", required_argument, NULL, OPT_VIDEO_PORT},
    {"state-rate", required_argument, NULL, OPT_STATE_RATE},
    {"video-fps", required_argument, NULL, OPT_VIDEO_FPS},
    {"reconnect-delay", required_argument, NULL, OPT_RECONNECT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"stall-every", required_argument, NULL, OPT_STALL_EVERY},
    {"garbage-state-every", required_argument, NULL, OPT_GARBAGE},
    {"state-extra", required_argument, NULL, OPT_STATE_EXTRA},
    {"late-answers", required_argument, NULL, OPT_LATE},
    {NULL, 0, NULL, 0}};

/* Options that take a number; 0 when opt is not one of them. *bad is set
 * with what the option accepts in why. */
static int number_option(int opt, const char *a, uav_opts *o, int *bad,
                         char *why, size_t cap)
{
    uint64_t u;
    int ms;

    switch (opt) {
    case SIM_OPT_PORT:
        *bad = cli_check_int(a, 0, 65535, &o->base.port, why, cap);
        return 1;
    case OPT_STATE_PORT:
        *bad = cli_check_int(a, 1, 65535, &o->state_port, why, cap);
        return 1;
    case OPT_VIDEO_PORT:
        *bad = cli_check_int(a, 1, 65535, &o->video_port, why, cap);
        return 1;
    case OPT_TIME_SCALE:
        *bad = cli_check_double(a, 0.01, 1000, &o->time_scale, why, cap);
        return 1;
    case OPT_BATTERY:
        *bad = cli_check_double(a, 0, 100, &o->battery0, why, cap);
        return 1;
    case OPT_BATTERY_DRAIN:
        *bad = seconds(a, &o->battery_drain_s, why, cap);
        return 1;
    case OPT_STATE_RATE:
        *bad = cli_check_double(a, 0.1, 100, &o->state_rate_hz, why, cap);
        return 1;
    case OPT_VIDEO_FPS:
        *bad = cli_check_double(a, 1, 120, &o->video_fps, why, cap);
        return 1;
    case OPT_RECONNECT:
        *bad = seconds(a, &o->reconnect_s, why, cap);
        return 1;
    case OPT_DURATION:
        *bad = seconds(a, &o->base.duration_s, why, cap);
        return 1;
    case SIM_OPT_DROP_EVERY:
        *bad = seconds(a, &o->base.drop_every_s, why, cap);
        return 1;
    case OPT_STALL_EVERY:
        *bad = seconds(a, &o->base.stall_every_s, why, cap);
        return 1;
    case SIM_OPT_STALL_FOR:
        *bad = seconds(a, &o->stall_for_s, why, cap);
        return 1;
    case OPT_GARBAGE:
        *bad = cli_check_u64(a, 1, UINT32_MAX, &u, why, cap);
        o->garbage_state_every = *bad ? 0 : u;
        return 1;
    case OPT_LATE:
        *bad = cli_check_int(a, 0, 600000, &ms, why, cap);
        o->late_answers_ms = *bad ? 0 : (unsigned)ms;
        return 1;
    default:
        return 0;
    }
}

static const char *option_name(int opt)
{
    size_t i;

    for (i = 0; uav_options[i].name; i++)
        if (uav_options[i].val == opt)
            return uav_options[i].name;
    return "?";
}

int uav_main(int argc, char **argv)
{
    static uav_opts o;
    const char *state_host = NULL;
    unsigned char probe[16];
    int opt, rc, have_seed = 0, bad, family;
    char why[128];

    memset(&o, 0, sizeof(o));
    o.base.host = "127.0.0.1";
    o.base.port = 8889;
    o.time_scale = 1.0;
    o.battery0 = 100;
    o.battery_drain_s = 20;
    o.state_port = 8890;
    o.video_port = 11111;
    o.state_rate_hz = 10;
    o.video_fps = 30;
    o.reconnect_s = 1.0;
    o.stall_for_s = 30;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:h", uav_options, NULL)) != -1) {
        const char *a = optarg;

        if (number_option(opt, a, &o, &bad, why, sizeof(why))) {
            if (bad)
                return cli_usage_error("scn-sim uav", "--%s %s: %s",
                                       option_name(opt), a, why);
            continue;
        }
        switch (opt) {
        case SIM_OPT_HOST:
            if (sim_parse_host(a, &o.base.host))
                return bad_usage("--host: not an IP address: %s", a);
            break;
        case OPT_STATE_EXTRA:
            /* Pairs only: one line of printable text, each ending ';'. */
            if (!*a || a[strlen(a) - 1] != ';' || strpbrk(a, "\r\n") ||
                strlen(a) > 1024)
                return bad_usage("--state-extra: expected 'key:value;' "
                                 "pairs: %s",
                                 a);
            o.state_extra = a;
            break;
        case SIM_OPT_SEED:
            if (cli_parse_u64(a, 0, UINT64_MAX, &o.base.seed))
                return bad_usage("--seed: expected an unsigned integer, "
                                 "got %s",
                                 a);
            have_seed = 1;
            break;
        case OPT_STATE_HOST:
            state_host = a;
            break;
        default:
            if ((rc = sim_getopt_other(&o.base, "scn-sim uav", opt, argv,
                                       usage)) != SIM_OPT_GO_ON)
                return rc;
        }
    }
    if ((rc = sim_getopt_rest("scn-sim uav", argc, argv)))
        return rc;
    /* The links share the listener's context, which speaks one address
     * family (IPv6 is off for an IPv4 listener). */
    family = inet_pton(AF_INET, o.base.host, probe) == 1 ? AF_INET : AF_INET6;
    if (state_host && !(o.state_host = address(state_host, family)))
        return bad_usage("--state-host: expected an IP address of the "
                         "--host family, got %s",
                         state_host);
    o.base.seed = have_seed ? o.base.seed : sim_random_seed();
    if (simsig_install())
        return CLI_EX_OSERR;
    return uav_run(&o);
}
