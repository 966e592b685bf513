/*
 * scn-replay: serves an MCAP recording back as a live device server (and
 * drone state and inference), with the recorded timing scaled, so that
 * dashboards and the companion can be exercised offline.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/error.h>

#include "cli.h"
#include "replay.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

#define P "scn-replay"

static void usage(FILE *f)
{
    fputs(
        "usage: scn-replay FILE [options]\n"
        "  --host ADDR      IP address to listen on (127.0.0.1)\n"
        "  --port N         port (9000; 0: any free port)\n"
        "  --speed X        play X times faster (1.0; 0 < X <= 1000)\n"
        "  --loop           start again at the end, forever\n"
        "  --channel TOPIC  the device frames' channel (/olfaction)\n"
        "  --live-port N    also serve the built-in dashboard, /live and\n"
        "                   Foxglove on this port of HOST (loopback; 0: any)\n"
        "Serves the frames as a scentience.v1 device on any path, and the\n"
        "recorded /uav/state and /inference JSON on those two paths.\n"
        "Prints 'scn-replay: listening on HOST:PORT' first. Playback\n"
        "starts with the first client (device, dashboard or Foxglove).\n"
        "Without --loop, the end of the recording closes every connection\n"
        "with 4010 (end of stream: clients stop, scn-stream exits 0) and\n"
        "scn-replay exits.\n"
        "Exit: 0 done (end of the recording, or SIGINT/SIGTERM), 64 "
        "usage, 65 no frames\nor corrupt file, 66 cannot read, 70 "
        "internal error, 71 cannot listen.\n",
        f);
}

typedef struct opts {
    const char *file, *host, *channel;
    int port, live_port; /* live_port -1: no live listener */
} opts;

/* Returns -1 to exit 64, 1 to exit 0 (help), 0 to run. */
static int parse(int argc, char **argv, rp_app *a, opts *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"speed", required_argument, NULL, 's'},
        {"loop", no_argument, NULL, 'l'},
        {"channel", required_argument, NULL, 'c'},
        {"live-port", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;

    if (cli_exact_long_options(P, argc, argv, longopts))
        return -1;
    while ((ch = cli_getopt(P, argc, argv, "h", longopts)) != -1) {
        switch (ch) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            if (cli_opt_int(P, "--port", optarg, 0, 65535, &o->port))
                return -1;
            break;
        case 's':
            if (cli_parse_double(optarg, 0, 1000, &a->speed) ||
                !(a->speed > 0)) {
                cli_usage_error(P,
                                "--speed %s: must be a number above 0, at "
                                "most 1000",
                                optarg);
                return -1;
            }
            break;
        case 'l':
            a->loop_mode = 1;
            break;
        case 'c':
            o->channel = optarg;
            break;
        case 'L':
            if (cli_opt_int(P, "--live-port", optarg, 0, 65535, &o->live_port))
                return -1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            return -1;
        }
    }
    if (optind == argc) {
        cli_usage_error(P, "the recording to play is missing (FILE)");
        return -1;
    }
    if (optind != argc - 1) {
        cli_usage_error(P, "unexpected argument '%s'", argv[optind + 1]);
        return -1;
    }
    if (o->live_port >= 0 && !rp_live_bind_ok(o->host)) {
        cli_usage_error(P, "--live-port serves loopback only (--host "
                           "127.0.0.1): off the board a dashboard needs a "
                           "token");
        return -1;
    }
    o->file = argv[optind];
    return 0;
}

static int kind_of(const scn_recording_channel *ch, const char *olfaction)
{
    if (!strcmp(ch->topic, olfaction))
        return KIND_DEVICE;
    if (!strcmp(ch->topic, "/uav/state"))
        return KIND_STATE;
    if (!strcmp(ch->topic, "/inference"))
        return KIND_INFERENCE;
    return -1;
}

/* Reads the served channels' messages (every channel's with a live
 * listener) into a->msgs (they point into the mapped file), in the
 * reader's log time order. Returns an exit code. */
static int load(rp_app *a, const opts *o)
{
    scn_recording_message m;
    scn_recording_info info;
    size_t cap = 0;
    int rc, kind;

    rc = scn_recording_open(o->file, 0, &a->rec);
    if (rc) {
        fprintf(stderr, "scn-replay: %s: %s\n", o->file, scn_strerror(rc));
        return cli_exit_for_read_error(rc);
    }
    scn_recording_get_info(a->rec, &info);
    if (!scn_recording_find_channel(a->rec, o->channel)) {
        fprintf(stderr, "scn-replay: %s: no %s channel\n", o->file, o->channel);
        return CLI_EX_DATAERR;
    }
    while (scn_recording_next(a->rec, &m)) {
        kind = kind_of(m.channel, o->channel);
        if (kind < 0 && o->live_port < 0)
            continue;
        if (kind < 0)
            kind = KIND_OTHER;
        if (a->n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            rp_msg *p = realloc(a->msgs, nc * sizeof(*p));

            if (!p) {
                fputs("scn-replay: out of memory\n", stderr);
                return CLI_EX_SOFTWARE;
            }
            a->msgs = p;
            cap = nc;
        }
        a->msgs[a->n].t = m.log_time_ns;
        a->msgs[a->n].data = m.data;
        a->msgs[a->n].len = m.len;
        a->msgs[a->n].kind = kind;
        a->msgs[a->n].ch = m.channel;
        a->n++;
        a->has[kind] = 1;
        if (kind == KIND_DEVICE)
            a->frames++;
    }
    if (!a->frames) {
        fprintf(stderr, "scn-replay: %s: no frames on %s\n", o->file,
                o->channel);
        return CLI_EX_DATAERR;
    }
    if (!info.complete)
        fprintf(stderr,
                "scn-replay: %s: incomplete recording, playing what "
                "was read\n",
                o->file);
    return 0;
}

/* Pacing facts, and the hello every device connection gets first. */
static int prepare(rp_app *a)
{
    uint64_t first = 0, last = 0;
    const char *uid = NULL;
    size_t i, seen = 0;
    cJSON *h, *devs, *units;
    char *s;

    for (i = 0; i < a->n; i++) {
        if (a->msgs[i].kind != KIND_DEVICE)
            continue;
        if (!seen++)
            first = a->msgs[i].t;
        last = a->msgs[i].t;
        /* A copy: the next parse would overwrite the frame's strings. */
        if (!uid && !scn_frame_parse(a->frame, a->msgs[i].data, a->msgs[i].len))
            uid = strdup(scn_frame_uid(a->frame));
    }
    /* Between passes, the recorded mean frame interval: the stream goes on
     * at its usual pace instead of bursting or pausing. */
    a->loop_gap_ns = 1000000000u;
    if (a->frames > 1 && last > first) {
        a->loop_gap_ns = (last - first) / (a->frames - 1);
        a->rate_hz = 1e9 / (double)a->loop_gap_ns * a->speed;
    }
    h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "type", "hello");
    cJSON_AddStringToObject(h, "protocol", "scentience.v1");
    devs = cJSON_AddArrayToObject(h, "devices");
    if (uid) {
        cJSON_AddStringToObject(h, "uid", uid);
        cJSON_AddItemToArray(devs, cJSON_CreateString(uid));
    }
    if (a->rate_hz > 0)
        cJSON_AddNumberToObject(h, "rate_hz", a->rate_hz);
    /* Recordings do not keep the device's hello: the defaults of
     * docs/PROTOCOL.md 3.3 are the best statement of units there is. */
    units = cJSON_AddObjectToObject(h, "units");
    cJSON_AddStringToObject(units, "compounds", "ppb");
    cJSON_AddStringToObject(units, "ENV_temperatureC", "degC");
    cJSON_AddStringToObject(units, "ENV_humidity", "%RH");
    cJSON_AddStringToObject(units, "ENV_pressureHpa", "hPa");
    cJSON_AddStringToObject(units, "BATT_v", "V");
    cJSON_AddStringToObject(units, "BATT_charge", "%");
    cJSON_AddStringToObject(units, "BATT_health", "%");
    cJSON_AddStringToObject(units, "BATT_time", "h");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(h, "_replay"), "speed",
                            a->speed);
    s = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    free((void *)uid);
    if (!s)
        return -1;
    a->hello = s;
    a->hello_len = strlen(s);
    return 0;
}

static int serve(rp_app *a, const opts *o)
{
    scn_server_options so;
    int rc;

    scn_server_options_init(&so);
    so.bind_address = o->host;
    so.port = o->port;
    so.subprotocol = "scentience.v1";
    so.callbacks.on_connect = rp_on_connect;
    so.callbacks.on_message = rp_on_message;
    so.callbacks.on_close = rp_on_close;
    so.user = a;
    rc = scn_server_new(a->loop, &so, &a->srv);
    if (rc) {
        fprintf(stderr, "scn-replay: cannot listen on %s:%d: %s\n", o->host,
                o->port, scn_strerror(rc));
        return rc == SCN_ERR_INVALID_ARG ? CLI_EX_USAGE : CLI_EX_OSERR;
    }
    printf("scn-replay: listening on %s:%d\n", o->host,
           scn_server_port(a->srv));
    fflush(stdout);
    if (o->live_port >= 0 && (rc = rp_live_start(a, o->host, o->live_port)))
        return rc;
    /* The loop wakes for the timer and the sockets; the 100 ms bound is
     * only how soon a signal (or a first dashboard) is noticed. */
    while (!a->done && !interrupted) {
        scn_loop_run_once(a->loop, 100);
        if (!a->started && rp_live_watched(a))
            rp_start(a);
    }
    fprintf(stderr,
            "scn-replay: %llu frames sent, %llu passes, %llu skipped%s\n",
            (unsigned long long)a->sent_frames,
            (unsigned long long)a->passes + (a->started ? 1 : 0),
            (unsigned long long)a->skipped, interrupted ? " (signal)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    rp_app a;
    scn_loop_options lo;
    opts o = {NULL, "127.0.0.1", "/olfaction", 9000, -1};
    int rc;

    memset(&a, 0, sizeof(a));
    a.speed = 1.0;
    rc = parse(argc, argv, &a, &o);
    if (rc)
        return rc > 0 ? CLI_EX_OK : CLI_EX_USAGE;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (scn_frame_new(&a.frame)) {
        fputs("scn-replay: out of memory\n", stderr);
        return CLI_EX_SOFTWARE;
    }
    a.olfaction_topic = o.channel;
    cli_loop_options(&lo);
    rc = load(&a, &o);
    if (!rc && prepare(&a))
        rc = CLI_EX_SOFTWARE;
    if (!rc && (scn_loop_new(&lo, &a.loop) ||
                scn_timer_new(a.loop, rp_tick, &a, &a.timer)))
        rc = CLI_EX_SOFTWARE;
    if (!rc)
        rc = serve(&a, &o);
    /* The servers go first: their on_close calls still use the app. */
    rp_live_stop(&a);
    scn_server_free(a.srv);
    scn_timer_free(a.timer);
    scn_loop_free(a.loop);
    while (a.conns) {
        rp_conn *c = a.conns;

        a.conns = c->next;
        free(c);
    }
    scn_recording_close(a.rec);
    scn_frame_free(a.frame);
    free(a.msgs);
    free(a.hello);
    free(a.pre);
    free(a.suf);
    free(a.out);
    return rc;
}
