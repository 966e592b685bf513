/*
 * scn-uav: fly a drone over UAV-Sockets. Activates the SDK, sends each
 * command in order and prints "> command" / "< answer"; serves the state
 * and video ports the drone pushes to.
 *
 * Every command (arguments and script) is validated before anything is
 * sent: one invalid command and nothing flies (exit 65).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/scentience.h>
#include <scentience/uav_channel.h>
#include <scentience/uav_state_server.h>
#include <scentience/uav_video_server.h>

#include "cli.h"
#include "flight_script.h"

typedef struct app {
    scn_loop *loop;
    scn_uav_channel *ch;
    scn_uav_state_server *state_srv;
    scn_uav_video_server *video_srv;
    int state_jsonl;
    int keep_going;
    int failed_exit; /* exit code once the link failed for good */
    int active;
    int flying;  /* takeoff ok and no land/emergency ok since */
    int waiting; /* a command is out */
    int last_err;
    int closing; /* our own close: link loss is expected */
    const char *url;
} app;

/* As the user typed it, for messages. */
#define P "scn-uav"
/* A person at a terminal wants an answer, not retries for ever: about
 * 15 s of backoff (0.5 + 1 + 2 + 4 + 8 s ceilings) before exit 69. */
#define DEFAULT_MAX_ATTEMPTS 6

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fputs("usage: scn-uav --drone ws://HOST:8889 [options] [COMMAND ...]\n"
          "  --script FILE        commands from FILE (one per line, # "
          "comments, 'wait S')\n"
          "  --state-port N       serve drone state on N (8890; 0: off)\n"
          "  --video-port N       serve drone video on N (11111; 0: off)\n"
          "  --video-out FILE     append received video (H.264) to FILE\n"
          "  --state jsonl        print every state update as JSON\n"
          "  --listen ADDR        address the state/video servers bind "
          "(0.0.0.0)\n"
          "  --allow-any-peer     accept state/video from any address, not "
          "only the drone\n"
          "  --linger S           keep serving state/video S seconds after "
          "the commands\n"
          "  --keep-going         do not stop at the first error\n"
          "  --no-land-on-exit    do not send 'land' on Ctrl-C while "
          "flying\n"
          "  --max-attempts N     give up after N failed connection "
          "attempts in a row\n"
          "                       (6, about 15 s; 0: never give up)\n"
          "  --key-file PATH      API key file (else $SCENTIENCE_API_KEY)\n"
          "  --short-timeout MS, --long-timeout MS   answer timeouts\n"
          "Commands: takeoff land 'up 50' 'go 100 0 50 30' battery? ... "
          "(docs/PROTOCOL.md 8.2)\n"
          "Exit: 0 every command ok, 1 a command failed, 64 usage, 65 "
          "invalid command or\nscript, 66 script unreadable, 69 drone "
          "unreachable after --max-attempts or\nrefused, 70 internal "
          "error, 71 cannot listen on the state or video port, 73\ncannot "
          "write --video-out, 77 key rejected, 78 no usable key, 130 "
          "interrupted\n(Ctrl-C; landed first unless --no-land-on-exit).\n",
          f);
}

static void on_state(scn_uav_channel *ch, const scn_state_event *ev, void *user)
{
    app *a = user;

    (void)ch;
    if (ev->state == SCN_STATE_RECONNECTING)
        fprintf(stderr, "scn-uav: drone link: %s; reconnecting in %u ms\n",
                scn_strerror(ev->reason), ev->delay_ms);
    if (ev->state == SCN_STATE_FAILED) {
        if (ev->reason == SCN_ERR_ATTEMPTS_EXHAUSTED)
            fprintf(stderr,
                    "scn-uav: the drone at %s is unreachable: gave up after "
                    "%u attempts (--max-attempts); the last: %s\n",
                    a->url, ev->attempt,
                    scn_strerror(ev->last_error ? ev->last_error : ev->reason));
        else
            fprintf(stderr, "scn-uav: drone link failed: %s\n",
                    scn_strerror(ev->reason));
        a->failed_exit = cli_exit_for_error(ev->reason);
    }
}

static void on_active(scn_uav_channel *ch, int active, void *user)
{
    app *a = user;

    (void)ch;
    a->active = active;
    if (!a->closing)
        fprintf(stderr, "scn-uav: SDK mode %s\n", active ? "on" : "lost");
}

static void on_error(scn_uav_channel *ch, int err, const char *detail,
                     void *user)
{
    (void)ch;
    (void)user;
    fprintf(stderr, "scn-uav: %s: %s\n", detail, scn_strerror(err));
}

static void on_reply(scn_uav_channel *ch, const scn_uav_reply *r, void *user)
{
    app *a = user;
    char raw[CLI_ANSWER_MAX];

    (void)ch;
    a->waiting = 0;
    a->last_err = r->err;
    if (r->answer && r->answer->raw_len)
        printf("< %s\n", cli_answer(raw, sizeof(raw), r->answer->raw,
                                    r->answer->raw_truncated));
    else
        printf("< (%s)\n", scn_strerror(r->err));
    fflush(stdout);
    if (r->err == 0) {
        if (strcmp(r->line, "takeoff") == 0)
            a->flying = 1;
        else if (strcmp(r->line, "land") == 0 ||
                 strcmp(r->line, "emergency") == 0)
            a->flying = 0;
    }
}

static void on_drone_state(scn_uav_state_server *srv, const scn_uav_state *st,
                           void *user)
{
    app *a = user;
    /* Any state the parser accepts (2048 bytes missed the longest). */
    char json[SCN_UAV_STATE_JSON_MAX + 1];

    (void)srv;
    if (a->state_jsonl &&
        scn_uav_state_to_json(st, json, sizeof(json), NULL) == 0) {
        printf("%s\n", json);
        fflush(stdout);
    }
}

static void on_stale(scn_uav_state_server *srv, int stale, void *user)
{
    (void)srv;
    (void)user;
    fprintf(stderr, "scn-uav: drone state %s\n",
            stale ? "STALE: none received lately" : "flowing again");
}

/* A state or video server that did not start: the drone's host name
 * (resolved for the allow list) or the port. Returns the exit code. */
static int server_error(const app *a, int rc, const char *opt, const char *bind,
                        int port)
{
    if (rc == SCN_ERR_NETWORK) {
        fprintf(stderr,
                "scn-uav: --drone %s: the drone's host name does not "
                "resolve\n",
                a->url);
        return CLI_EX_UNAVAILABLE;
    }
    return cli_listen_error(P, rc, opt, bind, port);
}

/* Runs the loop until the pending reply arrives, the link fails for good
 * or Ctrl-C. */
static void wait_reply(app *a)
{
    while (a->waiting && !interrupted && !a->failed_exit)
        scn_loop_run_once(a->loop, 50);
}

static void run_for(app *a, double seconds)
{
    uint64_t end = scn_loop_now_ms(a->loop) + (uint64_t)(seconds * 1000.0);

    while (!interrupted && !a->failed_exit && scn_loop_now_ms(a->loop) < end)
        scn_loop_run_once(a->loop, 50);
}

static int send_cmd(app *a, const scn_uav_cmd *cmd)
{
    char line[SCN_UAV_LINE_MAX + 1], why[256];
    int rc;

    scn_uav_cmd_format_redacted(cmd, line, sizeof(line), NULL, why,
                                sizeof(why));
    printf("> %s\n", line);
    fflush(stdout);
    a->waiting = 1;
    rc = scn_uav_channel_send(a->ch, cmd, on_reply, a, why, sizeof(why));
    if (rc) {
        a->waiting = 0;
        fprintf(stderr, "scn-uav: %s: %s\n", line, why[0] ? why : "");
        return rc;
    }
    wait_reply(a);
    return a->waiting ? SCN_ERR_TIMEOUT : a->last_err;
}

static int fly(app *a, const script *sc)
{
    int failures = 0;

    /* Commands wait for the SDK mode; nothing here is sent before it. */
    while (!a->active && !interrupted && !a->failed_exit)
        scn_loop_run_once(a->loop, 50);
    for (size_t i = 0; i < sc->count && !interrupted && !a->failed_exit; i++) {
        const script_step *st = &sc->steps[i];

        if (st->is_wait) {
            run_for(a, st->wait_s);
            continue;
        }
        if (send_cmd(a, &st->cmd) != 0) {
            failures++;
            if (!a->keep_going)
                break;
        }
    }
    return failures;
}

static void land_on_exit(app *a)
{
    scn_uav_cmd land;
    char why[64];

    if (!a->flying || !a->active)
        return;
    fprintf(stderr, "scn-uav: interrupted while flying: landing\n");
    interrupted = 0;
    scn_uav_cmd_simple(&land, SCN_UAV_LAND, why, sizeof(why));
    send_cmd(a, &land);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"drone", required_argument, NULL, 'd'},
        {"script", required_argument, NULL, 's'},
        {"state-port", required_argument, NULL, 'p'},
        {"video-port", required_argument, NULL, 'V'},
        {"video-out", required_argument, NULL, 'o'},
        {"state", required_argument, NULL, 'S'},
        {"listen", required_argument, NULL, 'l'},
        {"allow-any-peer", no_argument, NULL, 'A'},
        {"linger", required_argument, NULL, 'L'},
        {"keep-going", no_argument, NULL, 'k'},
        {"no-land-on-exit", no_argument, NULL, 'n'},
        {"key-file", required_argument, NULL, 'K'},
        {"short-timeout", required_argument, NULL, 't'},
        {"long-timeout", required_argument, NULL, 'T'},
        {"max-attempts", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    scn_uav_channel_options co;
    scn_loop_options lo;
    scn_session_options link_so;
    scn_uav_state_server_options so;
    scn_uav_video_server_options vo;
    script sc = {0};
    app a;
    char why[256];
    const char *script_path = NULL;
    int state_port = 8890, video_port = 11111, land_on_int = 1, status = 0;
    double linger = 0;
    int opt, rc, failures;
    uint64_t ms, attempts = DEFAULT_MAX_ATTEMPTS;

    memset(&a, 0, sizeof(a));
    scn_uav_channel_options_init(&co);
    scn_session_options_init(&link_so);
    co.session = &link_so;
    scn_uav_state_server_options_init(&so);
    scn_uav_video_server_options_init(&vo);
    if (cli_exact_long_options(P, argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((opt = cli_getopt(P, argc, argv, "h", longopts)) != -1) {
        switch (opt) {
        case 'd':
            link_so.url = optarg;
            break;
        case 's':
            script_path = optarg;
            break;
        case 'p':
            if (cli_opt_int(P, "--state-port", optarg, 0, 65535, &state_port))
                return CLI_EX_USAGE;
            break;
        case 'V':
            if (cli_opt_int(P, "--video-port", optarg, 0, 65535, &video_port))
                return CLI_EX_USAGE;
            break;
        case 'o':
            vo.out_path = optarg;
            break;
        case 'S':
            if (strcmp(optarg, "jsonl") != 0)
                return cli_usage_error(P, "--state %s: must be jsonl", optarg);
            a.state_jsonl = 1;
            break;
        case 'l':
            so.bind_address = vo.bind_address = optarg;
            break;
        case 'A':
            so.allow_any_peer = vo.allow_any_peer = 1;
            break;
        case 'L':
            if (cli_opt_double(P, "--linger", optarg, 0, 86400, &linger))
                return CLI_EX_USAGE;
            break;
        case 'k':
            a.keep_going = 1;
            break;
        case 'n':
            land_on_int = 0;
            break;
        case 'K':
            link_so.key_file = optarg;
            break;
        case 't':
            if (cli_opt_u64(P, "--short-timeout", optarg, 1, 600000, &ms))
                return CLI_EX_USAGE;
            co.short_timeout_ms = (uint32_t)ms;
            break;
        case 'T':
            if (cli_opt_u64(P, "--long-timeout", optarg, 1, 600000, &ms))
                return CLI_EX_USAGE;
            co.long_timeout_ms = (uint32_t)ms;
            break;
        case 'm':
            if (cli_opt_u64(P, "--max-attempts", optarg, 0, UINT32_MAX,
                            &attempts))
                return CLI_EX_USAGE;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return CLI_EX_USAGE; /* reported by cli_getopt */
        }
    }
    if (!link_so.url)
        return cli_usage_error(P, "--drone is required (ws://HOST:8889)");
    link_so.backoff.max_attempts = (uint32_t)attempts;
    a.url = link_so.url;
    /* Validate everything before connecting: nothing flies if any command
     * is wrong, and nothing starts if the video file cannot be written. */
    if (vo.out_path &&
        (rc = cli_check_appendable(P, "--video-out", vo.out_path)) != 0)
        return rc;
    if (script_path &&
        (rc = script_load_file(&sc, script_path, why, sizeof(why))) != 0) {
        fprintf(stderr, "scn-uav: --script %s: %s\n", script_path, why);
        script_free(&sc);
        return rc == SCRIPT_UNREADABLE ? CLI_EX_NOINPUT : CLI_EX_DATAERR;
    }
    for (int i = optind; i < argc; i++) {
        if (script_add_line(&sc, argv[i], (unsigned)(i - optind + 1), why,
                            sizeof(why))) {
            fprintf(stderr, "scn-uav: argument %s\n", why);
            script_free(&sc);
            return CLI_EX_DATAERR;
        }
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    cli_loop_options(&lo);
    if ((rc = scn_loop_new(&lo, &a.loop)) != 0) {
        fprintf(stderr, "scn-uav: %s\n", scn_strerror(rc));
        return CLI_EX_SOFTWARE;
    }
    co.on_state = on_state;
    co.on_active = on_active;
    co.on_error = on_error;
    co.user = &a;
    so.drone_url = vo.drone_url = link_so.url;
    so.port = state_port;
    so.on_state = on_drone_state;
    so.on_stale = on_stale;
    so.user = &a;
    vo.port = video_port;
    /* The drone's URL and the key first, then the ports (the servers
     * allow the drone's address only); the video file was checked above. */
    if ((rc = scn_uav_channel_new(a.loop, &co, &a.ch)) != 0)
        status =
            cli_link_error(P, rc, "--drone", link_so.url, link_so.key_file);
    else if (state_port &&
             (rc = scn_uav_state_server_new(a.loop, &so, &a.state_srv)) != 0)
        status =
            server_error(&a, rc, "--state-port", so.bind_address, state_port);
    else if (video_port &&
             (rc = scn_uav_video_server_new(a.loop, &vo, &a.video_srv)) != 0)
        status =
            server_error(&a, rc, "--video-port", vo.bind_address, video_port);
    if (status) {
        scn_uav_channel_free(a.ch);
        scn_uav_video_server_free(a.video_srv);
        scn_uav_state_server_free(a.state_srv);
        scn_loop_free(a.loop);
        script_free(&sc);
        return status;
    }

    failures = fly(&a, &sc);
    if (!interrupted && !a.failed_exit && linger > 0)
        run_for(&a, linger);
    int was_interrupted = interrupted;
    if (was_interrupted && land_on_int)
        land_on_exit(&a);

    if (a.video_srv) {
        scn_uav_video_stats vs;
        scn_uav_video_server_get_stats(a.video_srv, &vs);
        fprintf(stderr,
                "scn-uav: video %llu frames, %llu bytes, %llu dropped, "
                "crc32 %08lx\n",
                (unsigned long long)vs.frames, (unsigned long long)vs.bytes,
                (unsigned long long)vs.dropped_frames, (unsigned long)vs.crc32);
    }
    /* A clean close: the drone sees 1000, not a dropped link. */
    scn_session *ss = scn_uav_channel_session(a.ch);
    a.closing = 1;
    if (scn_session_close(ss) == 0) {
        uint64_t until = scn_loop_now_ms(a.loop) + 1000;
        while (scn_session_state(ss) != SCN_STATE_CLOSED &&
               scn_loop_now_ms(a.loop) < until)
            scn_loop_run_once(a.loop, 20);
    }
    scn_uav_channel_free(a.ch);
    scn_uav_video_server_free(a.video_srv);
    scn_uav_state_server_free(a.state_srv);
    scn_loop_free(a.loop);
    script_free(&sc);
    if (a.failed_exit)
        return a.failed_exit;
    if (was_interrupted)
        return CLI_EX_INTERRUPTED;
    return failures ? 1 : 0;
}
