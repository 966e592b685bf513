/*
 * scn-fleet: the ground station. Subscribes to the fleet tree on an MQTT
 * broker (docs/PROTOCOL.md, "Fleet over MQTT"), keeps the latest state of
 * every drone (duplicates dropped by seq, gaps counted), shows it as a
 * table, records the whole fleet to MCAP and serves it live (Foxglove,
 * the dashboard, /live).
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "station.h"
#include "latency.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fputs("usage: scn-fleet --mqtt-url mqtt://HOST:PORT [options]\n"
          "  --mqtt-url URL        the broker: mqtt://HOST[:1883] or "
          "mqtts://HOST[:8883]\n"
          "  --mqtt-username NAME  user name at the broker\n"
          "  --mqtt-password-file FILE  its password, one line (0600)\n"
          "  --mqtt-ca FILE        mqtts: CA certificates (PEM), besides the "
          "system's\n"
          "  --mqtt-cert FILE --mqtt-key FILE  mqtts: a client certificate\n"
          "  --mqtt-client-id ID   the client id (scn-fleet-PID)\n"
          "  --mqtt-persistent     a persistent session: the broker queues "
          "QoS 1 while\n"
          "                        scn-fleet is away (needs "
          "--mqtt-client-id)\n"
          "  --mqtt-keepalive S    MQTT keepalive, 5-3600 (10)\n"
          "  --drone ID[,ID...]    only these drones (all: "
          "scentience/v1/+/#)\n"
          "  --max-drones N        drones kept at most (1024)\n"
          "  --record FILE.mcap    record the fleet, a channel per drone and "
          "stream\n" LIVE_LISTEN_USAGE
          "  --live-queue-msgs N   messages queued per dashboard (1024)\n"
          "  --live-queue-bytes SIZE  bytes queued per dashboard (4M)\n"
          "  --live-flush-ms MS    write to a dashboard at most every MS ms "
          "(100; 0: at once)\n"
          "  --table-ms MS         print the table every MS ms (1000; 0: only "
          "at the end)\n"
          "  --latency             benchmarks: delay from each message's ts "
          "to the\n"
          "                        table, p50/p99 at the end\n"
          "  --duration S          stop after S seconds\n"
          "Signals: INT/TERM stop cleanly (recording finished).\n"
          "Exit: 0 ok, 64 usage, 69 the broker failed for good, 70 internal "
          "error,\n71 cannot listen (--live-port), 73 cannot create the "
          "recording, 74 the\nrecording failed (full disk), 76 the broker's "
          "certificate did not verify,\n77 the broker refused the "
          "credentials, 78 a bad password, token, CA or\ncertificate "
          "file.\n",
          f);
}

enum {
    O_URL = 256,
    O_USER,
    O_PWFILE,
    O_CA,
    O_CERT,
    O_KEY,
    O_CLIENT,
    O_PERSISTENT,
    O_KEEPALIVE,
    O_DRONE,
    O_MAXDRONES,
    O_RECORD,
    /* The --live-* options, live_listen_option()'s: O_LIVE_FIRST up to
     * O_LIVE_LAST, one value each (cli_getopt names a missing value's
     * option by its value). */
    O_LIVE_FIRST,
    O_LIVE_LAST = O_LIVE_FIRST + 11,
    O_TABLE,
    O_LATENCY,
    O_DURATION,
    O_HELP,
};

static const struct option longopts[] = {
    {"mqtt-url", required_argument, NULL, O_URL},
    {"mqtt-username", required_argument, NULL, O_USER},
    {"mqtt-password-file", required_argument, NULL, O_PWFILE},
    {"mqtt-ca", required_argument, NULL, O_CA},
    {"mqtt-cert", required_argument, NULL, O_CERT},
    {"mqtt-key", required_argument, NULL, O_KEY},
    {"mqtt-client-id", required_argument, NULL, O_CLIENT},
    {"mqtt-persistent", no_argument, NULL, O_PERSISTENT},
    {"mqtt-keepalive", required_argument, NULL, O_KEEPALIVE},
    {"drone", required_argument, NULL, O_DRONE},
    {"max-drones", required_argument, NULL, O_MAXDRONES},
    {"record", required_argument, NULL, O_RECORD},
    {"live-port", required_argument, NULL, O_LIVE_FIRST + 0},
    {"live-bind", required_argument, NULL, O_LIVE_FIRST + 1},
    {"live-allow", required_argument, NULL, O_LIVE_FIRST + 2},
    {"live-token-file", required_argument, NULL, O_LIVE_FIRST + 3},
    {"live-cert", required_argument, NULL, O_LIVE_FIRST + 4},
    {"live-key", required_argument, NULL, O_LIVE_FIRST + 5},
    {"live-origin", required_argument, NULL, O_LIVE_FIRST + 6},
    {"live-max-subscribers", required_argument, NULL, O_LIVE_FIRST + 7},
    {"live-max-per-address", required_argument, NULL, O_LIVE_FIRST + 8},
    {"live-queue-msgs", required_argument, NULL, O_LIVE_FIRST + 9},
    {"live-queue-bytes", required_argument, NULL, O_LIVE_FIRST + 10},
    {"live-flush-ms", required_argument, NULL, O_LIVE_FIRST + 11},
    {"table-ms", required_argument, NULL, O_TABLE},
    {"latency", no_argument, NULL, O_LATENCY},
    {"duration", required_argument, NULL, O_DURATION},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static gs_latency latency;

/* --drone a,b,c: each a valid drone id (the topic level). */
static int add_drones(gs_config *cf, char *list)
{
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        size_t n = strlen(tok);

        if (n == 0 || n > SCN_FLEET_ID_MAX ||
            strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-") != n)
            return cli_usage_error(P,
                                   "--drone %s: a drone id is 1-63 of "
                                   "A-Z a-z 0-9 _ -",
                                   tok);
        if (cf->drone_count == GS_MAX_CHOSEN)
            return cli_usage_error(P, "--drone: at most %d drones",
                                   GS_MAX_CHOSEN);
        cf->drones[cf->drone_count++] = tok;
    }
    return 0;
}

static const char *option_name(int val)
{
    const struct option *o = longopts;

    while (o->name && o->val != val)
        o++;
    return o->name;
}

static int parse(int argc, char **argv, gs_config *cf)
{
    char why[256];
    int opt, v;

    memset(cf, 0, sizeof(*cf));
    live_listen_defaults(&cf->live);
    cf->keepalive_s = 10;
    cf->table_ms = 1000;
    cf->max_drones = 1024;
    if (cli_exact_long_options(P, argc, argv, longopts) != 0)
        return CLI_EX_USAGE;
    while ((opt = cli_getopt(P, argc, argv, "h", longopts)) != -1) {
        const char *arg = optarg;

        if (opt >= O_LIVE_FIRST && opt <= O_LIVE_LAST) {
            const char *name = option_name(opt);

            if (live_listen_option(&cf->live, name, arg, why, sizeof(why)))
                return cli_usage_error(P, "--%s %s: %s", name, arg, why);
            continue;
        }

        switch (opt) {
        case O_URL:
            cf->mqtt_url = arg;
            break;
        case O_USER:
            cf->username = arg;
            break;
        case O_PWFILE:
            cf->password_file = arg;
            break;
        case O_CA:
            cf->ca = arg;
            break;
        case O_CERT:
            cf->cert = arg;
            break;
        case O_KEY:
            cf->key = arg;
            break;
        case O_CLIENT:
            cf->client_id = arg;
            break;
        case O_PERSISTENT:
            cf->persistent = 1;
            break;
        case O_KEEPALIVE:
            if (cli_opt_int(P, "--mqtt-keepalive", arg, 5, 3600,
                            &cf->keepalive_s))
                return CLI_EX_USAGE;
            break;
        case O_DRONE:
            if (add_drones(cf, optarg))
                return CLI_EX_USAGE;
            break;
        case O_MAXDRONES:
            if (cli_opt_int(P, "--max-drones", arg, 1, 100000, &cf->max_drones))
                return CLI_EX_USAGE;
            break;
        case O_RECORD:
            cf->record = arg;
            break;
        case O_TABLE:
            if (cli_opt_int(P, "--table-ms", arg, 0, 3600000, &v))
                return CLI_EX_USAGE;
            cf->table_ms = v;
            break;
        case O_LATENCY:
            latency.on = 1;
            break;
        case O_DURATION:
            if (cli_opt_double(P, "--duration", arg, 0.001, 1e9, &cf->duration))
                return CLI_EX_USAGE;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return CLI_EX_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(P, "unexpected argument '%s'", argv[optind]);
    if (!cf->mqtt_url)
        return cli_usage_error(P, "--mqtt-url is required");
    if (live_listen_check(&cf->live, why, sizeof(why)) != 0)
        return cli_usage_error(P, "%s", why);
    if (cf->persistent && !cf->client_id)
        return cli_usage_error(P, "--mqtt-persistent needs --mqtt-client-id "
                                  "(the session is the id's)");
    if (!cf->cert != !cf->key)
        return cli_usage_error(P, "--mqtt-cert and --mqtt-key go together");
    if (cf->password_file && !cf->username)
        return cli_usage_error(P, "--mqtt-password-file needs "
                                  "--mqtt-username");
    return 0;
}

/* One line when a drone's online flag changes (its birth, its will). */
static void note_status(gs_app *a, const scn_fleet_message *m)
{
    scn_fleet_drone d;
    int *shown = &a->chans[m->drone_index].shown_online;

    if (scn_fleet_drone_get(a->model, m->drone_index, &d) != 0 ||
        d.online + 2 == *shown)
        return;
    *shown = d.online + 2;
    fprintf(stderr, P ": drone %s %s\n", d.id,
            d.online == 1 ? "online" : "OFFLINE");
}

void gs_ingest(gs_app *a, const char *topic, const void *payload, size_t len)
{
    scn_fleet_message m;
    uint64_t t_ns = gs_now_ns();
    int rc = scn_fleet_ingest(a->model, topic, payload, len,
                              scn_loop_now_ms(a->loop), &m);

    if (rc < 0) {
        /* Counted by the model; the link stays up. Said once, as a
         * broker open to many publishers may carry a lot of it. */
        if (a->bad_messages++ == 0) {
            char shown[160];

            fprintf(stderr,
                    P ": ignoring %s: %s; such messages are counted from "
                      "now on\n",
                    cli_escaped(shown, sizeof(shown), topic),
                    rc == SCN_ERR_NOT_FOUND ? "not a drone's topic"
                    : rc == SCN_ERR_UNKNOWN_TYPE
                        ? "not a stream scn-fleet knows"
                    : rc == SCN_ERR_MALFORMED
                        ? "the payload is not a fleet envelope"
                    : rc == SCN_ERR_OUT_OF_RANGE ? "one drone more than "
                                                   "--max-drones"
                                                 : scn_strerror(rc));
        }
        return;
    }
    if (rc == SCN_FLEET_DUPLICATE)
        return;
    if (m.new_drone)
        fprintf(stderr, P ": new drone %s\n", m.drone_id);
    if (m.stream == SCN_FLEET_STATUS)
        note_status(a, &m);
    if (latency.on)
        gs_latency_add(&latency, m.ts_ns, t_ns);
    gs_record(a, &m, t_ns);
    gs_live_publish(a, &m, t_ns);
}

int main(int argc, char **argv)
{
    gs_config cf;
    scn_loop_options lo;
    gs_app a;
    scn_fleet_options fo;
    scn_fleet_stats st;
    uint64_t end_ms = 0;
    int status, rc;

    status = parse(argc, argv, &cf);
    if (status)
        return status;
    memset(&a, 0, sizeof(a));
    a.cf = &cf;
    a.table_tty = isatty(1);
    a.rl_table.interval_ms = 5000;
    scn_fleet_options_init(&fo);
    fo.max_drones = (size_t)cf.max_drones;
    cli_loop_options(&lo);
    a.chans = calloc((size_t)cf.max_drones, sizeof(*a.chans));
    if (!a.chans || scn_fleet_new(&fo, &a.model) != 0 ||
        scn_loop_new(&lo, &a.loop) != 0 ||
        (latency.on && gs_latency_init(&latency) != 0)) {
        fprintf(stderr, P ": out of memory\n");
        status = CLI_EX_SOFTWARE;
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if ((status = gs_record_start(&a)) != 0 ||
        (status = gs_live_start(&a)) != 0 || (status = gs_link_start(&a)) != 0)
        goto out;
    if (cf.duration > 0)
        end_ms = scn_loop_now_ms(a.loop) + (uint64_t)(cf.duration * 1000.0);
    while (!interrupted && !a.fatal &&
           (!end_ms || scn_loop_now_ms(a.loop) < end_ms)) {
        scn_loop_run_once(a.loop, 100);
        if (a.rec)
            scn_recorder_poll(a.rec);
        gs_table_poll(&a, 0);
    }
    gs_table_poll(&a, 1);
    status = a.fatal ? gs_link_exit(a.fatal) : 0;
out:
    gs_link_stop(&a);
    gs_live_stop(&a);
    rc = gs_record_stop(&a);
    if (rc && !status)
        status = rc;
    scn_fleet_get_stats(a.model, &st);
    fprintf(
        stderr,
        P ": %llu drones, %llu messages, %llu duplicates dropped, "
          "%llu refused (%llu topic, %llu payload, %llu over "
          "--max-drones), %llu broker outages, recording %s\n",
        (unsigned long long)st.drones, (unsigned long long)st.accepted,
        (unsigned long long)st.duplicates,
        (unsigned long long)(st.bad_topic + st.bad_payload + st.refused_full),
        (unsigned long long)st.bad_topic, (unsigned long long)st.bad_payload,
        (unsigned long long)st.refused_full, (unsigned long long)a.outages,
        cf.record ? cf.record : "(none)");
    if (latency.on)
        gs_latency_report(&latency);
    gs_latency_free(&latency);
    scn_fleet_free(a.model);
    scn_loop_free(a.loop);
    free(a.chans);
    return status;
}
