/*
 * scn-companion: fuse olfaction frames with the drone state nearest in
 * time, send them to the cloud, report (and optionally act on) inference
 * pushes, serve a live fan-out and record everything to MCAP.
 *
 * SIGHUP re-reads and checks the key at once. A broken key file is
 * reported and the links keep the key they have (they never read the file
 * by themselves, so a reconnect cannot fail on it mid-flight). A new key
 * replaces the device and cloud links at once (the cloud's spool loses
 * nothing) and the drone's command link make-before-break, between
 * commands: a rotated key is usually about to be revoked, which would end
 * every link still on it. Details in keys.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "config_file.h"
#include "companion.h"
#include "fleet_gate.h"
#include "fleet_topic.h"

/* As the user typed it, for messages. */
#define P "scn-companion"

static volatile sig_atomic_t interrupted, hangup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        hangup = 1;
    else
        interrupted = 1;
}

static void usage(FILE *f)
{
    fputs(
        "usage: scn-companion --device-url URL [--drone-url ws://HOST:8889] "
        "\n                     [--cloud-url URL --spool-dir DIR] "
        "[options]\n"
        "  --device-url URL      the olfaction device (required)\n"
        "  --drone-url URL       the drone's command port; no drone "
        "without it\n"
        "  --cloud-url URL       the cloud inference stream; needs "
        "--spool-dir\n"
        "  --spool-dir DIR       where records wait for the cloud (made "
        "if missing)\n"
        "  --device UID          select the device by UID\n"
        "  --rate HZ             ask the device for this frame rate\n"
        "  --state-port N        drone state server port (8890; 0: off)\n"
        "  --video-port N        drone video server port (11111; 0: off)\n"
        "  --video-out FILE      append received video to FILE\n"
        "  --listen ADDR         address the state/video servers bind\n"
        "  --script FILE         drone commands, run in order once active\n"
        "  --follow COMPOUND|any send 'oio COMPOUND' once on a fresh "
        "inference\n"
        "  --follow-threshold X  minimum score (0.5)\n"
        "  --max-age S           oldest inference acted on "
        "(2)\n" LIVE_LISTEN_USAGE
        "  --live-queue-msgs N   messages queued per dashboard (128)\n"
        "  --live-queue-bytes SIZE  bytes queued per dashboard (32K)\n"
        "  --live-flush-ms MS    write to a dashboard at most every MS "
        "ms (100; 0: at once)\n"
        "  --spool-cap SIZE      bound on the cloud spool (64M); a smaller "
        "disk\n"
        "                        bounds it too (the oldest records go, "
        "reported)\n"
        "  --record FILE.mcap    record every stream\n"
        "  --key-file PATH       API key file (else $SCENTIENCE_API_KEY)\n"
        "  --config FILE         'key = value' lines, same names as the "
        "flags\n"
        "  --check-config FILE   report every problem in FILE; exit 0 only "
        "if it would start\n"
        "  --duration S          stop after S seconds\n"
        "  --no-status           no status line on a terminal\n"
        "  --no-land-on-exit     do not send 'land' when stopping in flight\n"
        "Fleet over MQTT (docs/PROTOCOL.md 12):\n"
        "  --mqtt-url URL        mqtt://HOST[:PORT] or mqtts://HOST[:PORT]: "
        "publish\n"
        "                        under scentience/v1/<drone-id>/\n"
        "  --drone-id NAME       this drone's name (1-23 of A-Z a-z 0-9 _ -); "
        "required\n"
        "  --mqtt-spool-dir DIR  where QoS 1 messages wait for the broker; "
        "required\n"
        "  --mqtt-spool-cap SIZE bound on that spool (16M)\n"
        "  --mqtt-username NAME  broker user name\n"
        "  --mqtt-password-file FILE  its password, one line (0600)\n"
        "  --mqtt-ca FILE        CA to verify an mqtts:// broker (besides "
        "the system's)\n"
        "  --mqtt-cert FILE --mqtt-key FILE  client certificate (mqtts)\n"
        "  --mqtt-rate HZ        olfaction and state at most HZ a second, "
        "newest wins\n"
        "                        (10; 0: every message)\n"
        "  --mqtt-data-qos N     their QoS: 0 (default) or 1 (spooled, "
        "none lost)\n"
        "  --mqtt-commands LIST  take these fleet commands: land, "
        "emergency, stop,\n"
        "                        streamon, streamoff, oiooff, follow "
        "(none;\n"
        "                        never motion)\n"
        "Signals: INT/TERM stop cleanly (landing first, recording "
        "finished);\n"
        "HUP: the key is read again now; a new one replaces the links\n"
        "(the drone's between commands), a bad file keeps the current "
        "key.\n"
        "Exit: 0 ok (--duration, INT/TERM), 64 usage, 65 invalid script "
        "or --follow,\n66 script unreadable, 69 a link failed for good "
        "(unreachable, refused), 70\ninternal error, 71 cannot listen "
        "(--live-port, --state-port, --video-port),\n73 cannot create the "
        "recording, the video file or the spool directory, 74\nrecords "
        "or fleet messages were dropped before the cloud or the broker "
        "had them\n(spool cap or full disk), or data was not recorded "
        "(a failed recording, a state,\nfused record, inference or event lost: "
        "see EXIT STATUS in the manual), 75 the\nspool is in use by "
        "another process, 76 the MQTT broker's certificate did not\n"
        "verify, 77 key rejected or the MQTT broker refused the user "
        "name\nor password, 78 no usable key or a bad --config file.\n",
        f);
}

enum {
    O_DEVURL = 256,
    O_DEV,
    O_RATE,
    O_DRONE,
    O_SPORT,
    O_VPORT,
    O_VOUT,
    O_LISTEN,
    O_SCRIPT,
    O_FOLLOW,
    O_THRESH,
    O_MAXAGE,
    O_LIVE,
    O_LIVE_MAX,
    O_LIVE_QMSGS,
    O_LIVE_QBYTES,
    O_LIVE_FLUSH,
    O_LIVE_BIND,
    O_LIVE_ALLOW,
    O_LIVE_TOKEN,
    O_LIVE_CERT,
    O_LIVE_KEY,
    O_LIVE_ORIGIN,
    O_LIVE_PERADDR,
    O_RECORD,
    O_KEY,
    O_CONFIG,
    O_DURATION,
    O_CLOUD,
    O_SPOOL,
    O_SPOOL_CAP,
    O_NOSTATUS,
    O_NOLAND,
    O_CHECK,
    O_MQTT_URL,
    O_DRONE_ID,
    O_MQTT_USER,
    O_MQTT_PASS,
    O_MQTT_CA,
    O_MQTT_CERT,
    O_MQTT_KEY,
    O_MQTT_SPOOL,
    O_MQTT_SPOOL_CAP,
    O_MQTT_RATE,
    O_MQTT_DATA_QOS,
    O_MQTT_COMMANDS,
    O_HELP
};

static const struct option longopts[] = {
    {"device-url", required_argument, NULL, O_DEVURL},
    {"device", required_argument, NULL, O_DEV},
    {"rate", required_argument, NULL, O_RATE},
    {"drone-url", required_argument, NULL, O_DRONE},
    {"state-port", required_argument, NULL, O_SPORT},
    {"video-port", required_argument, NULL, O_VPORT},
    {"video-out", required_argument, NULL, O_VOUT},
    {"listen", required_argument, NULL, O_LISTEN},
    {"script", required_argument, NULL, O_SCRIPT},
    {"follow", required_argument, NULL, O_FOLLOW},
    {"follow-threshold", required_argument, NULL, O_THRESH},
    {"max-age", required_argument, NULL, O_MAXAGE},
    {"live-port", required_argument, NULL, O_LIVE},
    {"live-max-subscribers", required_argument, NULL, O_LIVE_MAX},
    {"live-queue-msgs", required_argument, NULL, O_LIVE_QMSGS},
    {"live-queue-bytes", required_argument, NULL, O_LIVE_QBYTES},
    {"live-flush-ms", required_argument, NULL, O_LIVE_FLUSH},
    {"live-bind", required_argument, NULL, O_LIVE_BIND},
    {"live-allow", required_argument, NULL, O_LIVE_ALLOW},
    {"live-token-file", required_argument, NULL, O_LIVE_TOKEN},
    {"live-cert", required_argument, NULL, O_LIVE_CERT},
    {"live-key", required_argument, NULL, O_LIVE_KEY},
    {"live-origin", required_argument, NULL, O_LIVE_ORIGIN},
    {"live-max-per-address", required_argument, NULL, O_LIVE_PERADDR},
    {"record", required_argument, NULL, O_RECORD},
    {"key-file", required_argument, NULL, O_KEY},
    {"config", required_argument, NULL, O_CONFIG},
    {"duration", required_argument, NULL, O_DURATION},
    {"cloud-url", required_argument, NULL, O_CLOUD},
    {"spool-dir", required_argument, NULL, O_SPOOL},
    {"spool-cap", required_argument, NULL, O_SPOOL_CAP},
    {"no-status", no_argument, NULL, O_NOSTATUS},
    {"no-land-on-exit", no_argument, NULL, O_NOLAND},
    {"check-config", required_argument, NULL, O_CHECK},
    {"mqtt-url", required_argument, NULL, O_MQTT_URL},
    {"drone-id", required_argument, NULL, O_DRONE_ID},
    {"mqtt-username", required_argument, NULL, O_MQTT_USER},
    {"mqtt-password-file", required_argument, NULL, O_MQTT_PASS},
    {"mqtt-ca", required_argument, NULL, O_MQTT_CA},
    {"mqtt-cert", required_argument, NULL, O_MQTT_CERT},
    {"mqtt-key", required_argument, NULL, O_MQTT_KEY},
    {"mqtt-spool-dir", required_argument, NULL, O_MQTT_SPOOL},
    {"mqtt-spool-cap", required_argument, NULL, O_MQTT_SPOOL_CAP},
    {"mqtt-rate", required_argument, NULL, O_MQTT_RATE},
    {"mqtt-data-qos", required_argument, NULL, O_MQTT_DATA_QOS},
    {"mqtt-commands", required_argument, NULL, O_MQTT_COMMANDS},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0}};

/* Config file strings live until exit: the options point into them. */
static comp_settings cfg_settings;

/* The long name of an option value, for messages. */
static const char *opt_name(int opt)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == opt)
            return o->name;
    return "?";
}

/* Sets one option; -1 with what it accepts in why. */
static int apply(config *cf, int opt, const char *arg, char *why, size_t cap)
{
    /* The --live-* options are live_listen's, by name. */
    if (opt >= O_LIVE && opt <= O_LIVE_PERADDR)
        return live_listen_option(&cf->live, opt_name(opt), arg, why, cap);
    switch (opt) {
    case O_DEVURL:
        cf->device_url = arg;
        return 0;
    case O_DEV:
        cf->device = arg;
        return 0;
    case O_RATE:
        return cli_check_double(arg, 0, 1000, &cf->rate, why, cap);
    case O_DRONE:
        cf->drone_url = arg;
        return 0;
    case O_SPORT:
        return cli_check_int(arg, 0, 65535, &cf->state_port, why, cap);
    case O_VPORT:
        return cli_check_int(arg, 0, 65535, &cf->video_port, why, cap);
    case O_VOUT:
        cf->video_out = arg;
        return 0;
    case O_LISTEN:
        cf->listen = arg;
        return 0;
    case O_SCRIPT:
        cf->script = arg;
        return 0;
    case O_FOLLOW:
        cf->follow = arg;
        return 0;
    case O_THRESH:
        return cli_check_double(arg, 0, 1, &cf->threshold, why, cap);
    case O_MAXAGE:
        return cli_check_double(arg, 0, 3600, &cf->max_age, why, cap);
    case O_RECORD:
        cf->record = arg;
        return 0;
    case O_KEY:
        cf->key_file = arg;
        return 0;
    case O_DURATION:
        return cli_check_double(arg, 0, 1e7, &cf->duration, why, cap);
    case O_CLOUD:
        cf->cloud_url = arg;
        return 0;
    case O_SPOOL:
        cf->spool = arg;
        return 0;
    case O_SPOOL_CAP:
        return cli_check_size(arg, 16 * 1024, (uint64_t)1 << 40, &cf->spool_cap,
                              why, cap);
    case O_NOSTATUS:
        cf->no_status = 1;
        return 0;
    case O_NOLAND:
        cf->no_land = 1;
        return 0;
    case O_MQTT_URL:
        cf->mqtt_url = arg;
        return 0;
    case O_DRONE_ID:
        cf->drone_id = arg;
        return fleet_drone_id_check(arg, why, cap);
    case O_MQTT_USER:
        cf->mqtt_username = arg;
        return 0;
    case O_MQTT_PASS:
        cf->mqtt_password_file = arg;
        return 0;
    case O_MQTT_CA:
        cf->mqtt_ca = arg;
        return 0;
    case O_MQTT_CERT:
        cf->mqtt_cert = arg;
        return 0;
    case O_MQTT_KEY:
        cf->mqtt_key = arg;
        return 0;
    case O_MQTT_SPOOL:
        cf->mqtt_spool = arg;
        return 0;
    case O_MQTT_SPOOL_CAP:
        return cli_check_size(arg, 16 * 1024, (uint64_t)1 << 40,
                              &cf->mqtt_spool_cap, why, cap);
    case O_MQTT_RATE:
        return cli_check_double(arg, 0, 1000, &cf->mqtt_rate, why, cap);
    case O_MQTT_DATA_QOS:
        return cli_check_int(arg, 0, 1, &cf->mqtt_data_qos, why, cap);
    case O_MQTT_COMMANDS: {
        fleet_gate g;

        cf->mqtt_commands = arg;
        fleet_gate_init(&g);
        return fleet_gate_allow_list(&g, arg, why, cap);
    }
    default:
        snprintf(why, cap, "not a setting");
        return -1;
    }
}

void comp_config_defaults(config *cf)
{
    *cf = (config){.state_port = 8890,
                   .video_port = 11111,
                   .threshold = 0.5,
                   .max_age = 2,
                   /* A ground station rarely needs 100 Hz from every
                    * drone (docs/PROTOCOL.md 12.3). */
                   .mqtt_rate = 10};
    live_listen_defaults(&cf->live);
    /* A small board: 64 dashboards that all lag hold at most 64 x 32 KiB
     * of queues (docs/PROTOCOL.md 10.5); the kernel holds up to 64 KiB
     * more for each. */
    cf->live.queue_msgs = 128;
    cf->live.queue_bytes = 32 * 1024;
}

/* Keys are the long flag names, except those that are no setting. */
int comp_config_setting(const char *key, const char *value, void *settings,
                        char *why, size_t why_cap)
{
    comp_settings *s = settings;
    const struct option *o;
    char *kept, accepts[128];

    for (o = longopts; o->name; o++)
        if (strcmp(o->name, key) == 0)
            break;
    if (!o->name || o->val == O_CONFIG || o->val == O_HELP ||
        o->val == O_CHECK) {
        snprintf(why, why_cap, "unknown setting '%.64s'", key);
        return -1;
    }
    if (o->has_arg == required_argument && !*value) {
        snprintf(why, why_cap, "'%s' needs a value", key);
        return -1;
    }
    if (o->has_arg == no_argument && *value) {
        /* "no-status = no" would mean the opposite of what it says. */
        snprintf(why, why_cap, "'%s' takes no value", key);
        return -1;
    }
    if (s->nkept == s->capkept) {
        size_t cap = s->capkept ? 2 * s->capkept : 32;
        char **k = realloc(s->kept, cap * sizeof(*k));
        if (!k) {
            snprintf(why, why_cap, "out of memory");
            return -1;
        }
        s->kept = k;
        s->capkept = cap;
    }
    if (!(kept = strdup(value))) {
        snprintf(why, why_cap, "out of memory");
        return -1;
    }
    s->kept[s->nkept++] = kept;
    if (apply(s->cf, o->val, kept, accepts, sizeof(accepts))) {
        snprintf(why, why_cap, "bad value for '%s': '%.64s': %s", key, value,
                 accepts);
        return -1;
    }
    return 0;
}

void comp_settings_free(comp_settings *s)
{
    for (size_t i = 0; i < s->nkept; i++)
        free(s->kept[i]);
    free(s->kept);
    memset(s, 0, sizeof(*s));
}

static void config_problem(unsigned line, const char *what, void *path)
{
    if (line)
        fprintf(stderr, "scn-companion: %s:%u: %s\n", (const char *)path, line,
                what);
    else
        fprintf(stderr, "scn-companion: --config %s: %s\n", (const char *)path,
                what);
}

/* Every problem is reported; the companion starts only without any. Flags
 * given on the command line are applied after, so they win. The values
 * stay in settings for the process's life. */
static int load_config(comp_settings *settings, const char *path)
{
    return cfg_read_file(path, comp_config_setting, settings, config_problem,
                         (void *)path) != 0
               ? -1
               : 0;
}

static void status_line(comp *c)
{
    scn_cloud_stats cs = {0};

    if (c->cloud)
        scn_cloud_get_stats(c->cloud, &cs);
    fprintf(stderr,
            "\rframes %llu  states %llu  inferences %llu  spooled %llu  "
            "drone %s  \033[K",
            (unsigned long long)c->frames, (unsigned long long)c->states,
            (unsigned long long)c->inferences,
            (unsigned long long)(cs.submitted - cs.acked),
            c->active ? "active" : "-");
}

/* The drone's servers: the drone's host name (resolved for their allow
 * lists) or the port. Returns the exit code. */
static int drone_server_error(const config *cf, int rc, const char *opt,
                              int port)
{
    if (rc == SCN_ERR_NETWORK) {
        fprintf(stderr,
                "scn-companion: --drone-url %s: the drone's host name does "
                "not resolve\n",
                cf->drone_url);
        return CLI_EX_UNAVAILABLE;
    }
    return cli_listen_error(P, rc, opt, cf->listen, port);
}

/* Every link and server, each failure reported with the option and the
 * port, path or URL it concerns. Returns 0 or the exit code. */
static int create_all(comp *c, const config *cf)
{
    scn_uav_state_server_options so;
    scn_uav_video_server_options vo;
    int rc, status;

    /* One key for every link, resolved before anything connects. */
    if ((rc = scn_api_key_load(cf->key_file, &c->key)) != 0)
        return cli_link_error(P, rc, "--device-url", cf->device_url,
                              cf->key_file);
    if (cf->video_out &&
        (status = cli_check_appendable(P, "--video-out", cf->video_out)))
        return status;
    if (cf->record) {
        scn_recorder_options ro;
        scn_recorder_options_init(&ro);
        if ((rc = scn_recorder_new(cf->record, &ro, &c->rec)) != 0) {
            fprintf(stderr, "scn-companion: --record %s: %s\n", cf->record,
                    scn_strerror(rc));
            return CLI_EX_CANTCREAT;
        }
        c->record_path = cf->record;
    }
    if (cf->live.port && (rc = comp_live_start(c)) != 0)
        return rc;
    if ((rc = comp_status_start(c)) != 0) {
        fprintf(stderr, "scn-companion: %s\n", scn_strerror(rc));
        return cli_exit_for_error(rc);
    }
    if (cf->drone_url) {
        if ((rc = comp_new_channel(c, &c->ch)) != 0)
            return cli_link_error(P, rc, "--drone-url", cf->drone_url,
                                  cf->key_file);
        scn_uav_state_server_options_init(&so);
        scn_uav_video_server_options_init(&vo);
        wire_state(c, &so);
        so.drone_url = vo.drone_url = cf->drone_url;
        so.port = cf->state_port;
        vo.port = cf->video_port;
        vo.out_path = cf->video_out;
        if (cf->listen)
            so.bind_address = vo.bind_address = cf->listen;
        if (cf->state_port &&
            (rc = scn_uav_state_server_new(c->loop, &so, &c->state_srv)))
            return drone_server_error(cf, rc, "--state-port", cf->state_port);
        if (cf->video_port &&
            (rc = scn_uav_video_server_new(c->loop, &vo, &c->video_srv)))
            return drone_server_error(cf, rc, "--video-port", cf->video_port);
    }
    if (cf->cloud_url && (rc = comp_new_cloud(c)) != 0)
        return (status = cli_spool_error(P, rc, cf->spool))
                   ? status
                   : cli_link_error(P, rc, "--cloud-url", cf->cloud_url,
                                    cf->key_file);
    if ((rc = comp_new_device(c)) != 0)
        return cli_link_error(P, rc, "--device-url", cf->device_url,
                              cf->key_file);
    return comp_fleet_start(c);
}

static void close_session(comp *c, scn_session *s)
{
    uint64_t until;

    /* A clean close: the peer sees 1000, not a dropped link. */
    if (!s || scn_session_close(s) != 0)
        return;
    until = scn_loop_now_ms(c->loop) + 1000;
    while (scn_session_state(s) != SCN_STATE_CLOSED &&
           scn_loop_now_ms(c->loop) < until)
        scn_loop_run_once(c->loop, 20);
}

static void free_all(comp *c)
{
    int rc;

    c->closing = 1;
    comp_key_free_retired(c);
    close_session(c, c->dev);
    if (c->ch)
        close_session(c, scn_uav_channel_session(c->ch));
    scn_session_free(c->dev);
    scn_cloud_free(c->cloud);
    scn_uav_channel_free(c->ch);
    c->ch = NULL;
    /* After the channel: its pending fleet commands reply through it. */
    comp_fleet_stop(c);
    scn_timer_free(c->script_timer);
    scn_uav_video_server_free(c->video_srv);
    scn_uav_state_server_free(c->state_srv);
    comp_status_stop(c);
    comp_live_stop(c);
    if (c->rec && (rc = scn_recorder_finish(c->rec)) != 0) {
        fprintf(stderr, "scn-companion: %s: recording incomplete: %s\n",
                c->record_path, scn_strerror(rc));
        c->record_err = rc;
    }
    scn_recorder_free(c->rec);
    scn_loop_free(c->loop);
    fuse_free(&c->ring);
    script_free(&c->sc);
    scn_api_key_free(c->key);
    free(c->frame_json);
    free(c->cloud_rec.buf);
    free(c->inference_json.buf);
}

int main(int argc, char **argv)
{
    config cf;
    scn_loop_options lo;
    comp *c;
    char why[256];
    int opt, status, rc, lost;
    uint64_t end_ms = 0, next_status = 0;

    comp_config_defaults(&cf);
    cfg_settings.cf = &cf;
    if (cli_exact_long_options(P, argc, argv, longopts))
        return CLI_EX_USAGE;
    /* First pass: only --config, so the file is applied before the other
     * flags and they override it. */
    while ((opt = cli_getopt(P, argc, argv, "h", longopts)) != -1) {
        if (opt == O_CONFIG && load_config(&cfg_settings, optarg))
            return CLI_EX_CONFIG;
        if (opt == O_CHECK)
            return comp_check_config(optarg);
        if (opt == '?')
            return CLI_EX_USAGE; /* reported by cli_getopt */
        if (opt == 'h' || opt == O_HELP) {
            usage(stdout);
            return 0;
        }
    }
    optind = 1;
    opterr = 0; /* the first pass already reported bad flags */
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt != O_CONFIG && apply(&cf, opt, optarg, why, sizeof(why)))
            return cli_usage_error(P, "--%s %s: %s", opt_name(opt), optarg,
                                   why);
    }
    if (optind != argc)
        return cli_usage_error(P, "unexpected argument '%s'", argv[optind]);
    if (!cf.device_url)
        return cli_usage_error(P, "--device-url is required (the olfaction "
                                  "device, ws://HOST:9000)");
    if (cf.cloud_url && !cf.spool)
        return cli_usage_error(P, "--cloud-url needs --spool-dir (where "
                                  "records wait for the cloud)");
    if (comp_mqtt_settings_check(&cf, why, sizeof(why)))
        return cli_usage_error(P, "%s", why);
    if (!(c = calloc(1, sizeof(*c))))
        return CLI_EX_SOFTWARE;
    c->cf = &cf;
    /* A full disk or a hostile drone repeats its error with every frame:
     * one line at once, then at most one every 5 s. */
    c->rl_submit.interval_ms = c->rl_drop.interval_ms =
        c->rl_spool.interval_ms = c->rl_frame.interval_ms =
            c->rl_state.interval_ms = c->rl_record.interval_ms =
                c->rl_live.interval_ms = c->rl_event.interval_ms = 5000;
    c->follow.compound = cf.follow;
    c->follow.threshold = cf.threshold;
    c->follow.max_age_ns = (int64_t)(cf.max_age * 1e9);
    /* Nothing flies if any script line or the follow command is wrong. */
    if (cf.script &&
        (rc = script_load_file(&c->sc, cf.script, why, sizeof(why))) != 0) {
        int unreadable = rc == SCRIPT_UNREADABLE;

        fprintf(stderr, "scn-companion: --script %s: %s\n", cf.script, why);
        script_free(&c->sc);
        free(c);
        return unreadable ? CLI_EX_NOINPUT : CLI_EX_DATAERR;
    }
    if (cf.follow && strcasecmp(cf.follow, "any") != 0) {
        char line[SCN_UAV_LINE_MAX + 1];
        scn_uav_cmd cmd;
        snprintf(line, sizeof(line), "oio %s", cf.follow);
        if (scn_uav_cmd_parse(line, strlen(line), &cmd, why, sizeof(why))) {
            fprintf(stderr, "scn-companion: --follow: %s\n", why);
            script_free(&c->sc);
            free(c);
            return CLI_EX_DATAERR;
        }
    }
    /* 10 s of states at up to 100 Hz. */
    cli_loop_options(&lo);
    if (fuse_init(&c->ring, 1024, 10 * (int64_t)1000000000) ||
        scn_loop_new(&lo, &c->loop)) {
        script_free(&c->sc);
        free(c);
        return CLI_EX_SOFTWARE;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if ((status = create_all(c, &cf)) != 0)
        goto out;
    comp_event(c, "start", "companion", NULL);
    if (cf.duration > 0)
        end_ms = scn_loop_now_ms(c->loop) + (uint64_t)(cf.duration * 1000.0);
    int show = !cf.no_status && isatty(2);
    while (!interrupted && !c->fatal &&
           (!end_ms || scn_loop_now_ms(c->loop) < end_ms)) {
        scn_loop_run_once(c->loop, 100);
        if (hangup) {
            hangup = 0;
            comp_reload_key(c);
        }
        comp_key_poll(c);
        /* A failed flush loses its chunk: said (the error is sticky, the
         * writes after it count the messages). */
        if (c->rec && (rc = scn_recorder_poll(c->rec)) != 0)
            comp_record_failed(c, rc, 0);
        if (show && scn_loop_now_ms(c->loop) >= next_status) {
            status_line(c);
            next_status = scn_loop_now_ms(c->loop) + 500;
        }
    }
    if (show)
        fputs("\n", stderr);
    /* Leaving a drone in the air because the companion stops (signal,
     * --duration) is never what the operator wants. */
    if (c->ch && c->flying && c->active && !c->fatal && !cf.no_land) {
        fprintf(stderr, "scn-companion: stopping while flying: landing\n");
        interrupted = 0;
        if (comp_land(c) == 0) {
            uint64_t until = scn_loop_now_ms(c->loop) + 25000;
            while (!c->land_replied && !interrupted &&
                   scn_loop_now_ms(c->loop) < until)
                scn_loop_run_once(c->loop, 50);
        }
    }
    /* Records it was asked to keep and lost: not a clean run. */
    lost = comp_report_cloud_loss(c);
    comp_event(c, "stop", "companion", interrupted ? "signal" : NULL);
    status = c->fatal_status ? c->fatal_status
             : c->fatal      ? cli_exit_for_error(c->fatal)
                             : 0;
    if (c->mqtt_lost)
        fprintf(stderr,
                "scn-companion: %llu QoS 1 fleet messages will never reach "
                "the broker (its spool's cap, a full disk or a refusal)\n",
                (unsigned long long)c->mqtt_lost);
    if ((lost || c->frames_lost || c->mqtt_lost || c->states_lost ||
         c->cloud_records_lost || c->inferences_unrecorded ||
         c->events_incomplete) &&
        status == 0)
        status = CLI_EX_IOERR;
out:
    /* First: states and frames still come while the links close, and
     * are recorded; the line counts them too. */
    free_all(c);
    if (c->record_err && status == 0)
        status = CLI_EX_IOERR;
    fprintf(stderr,
            "scn-companion: %llu frames, %llu states (%llu frames fused), "
            "%llu inferences, %llu commands, %llu reconnects, key reloads "
            "%llu (%llu failed, %llu new keys), recording %s",
            (unsigned long long)c->frames, (unsigned long long)c->states,
            (unsigned long long)c->fused_with_state,
            (unsigned long long)c->inferences, (unsigned long long)c->commands,
            (unsigned long long)c->reconnects,
            (unsigned long long)c->key_reloads,
            (unsigned long long)c->key_reload_errors,
            (unsigned long long)c->key_rotations,
            c->record_path ? c->record_path : "(none)");
    if (c->record_err)
        fprintf(stderr, " (failed: %s; %llu messages not recorded)",
                scn_strerror(c->record_err),
                (unsigned long long)c->records_lost);
    fputc('\n', stderr);
    free(c);
    comp_settings_free(&cfg_settings);
    return status;
}
