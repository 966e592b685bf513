/*
 * scn-predict: one frame to POST /v1/predict, the inference printed
 * (docs/PROTOCOL.md section 9.6).
 *
 *   scn-predict [--url URL] [--json] [--key-file PATH] [--timeout MS]
 *               [--ca-file F] [--insecure] [--quiet] [FILE|-]
 *
 * The key comes from $SCENTIENCE_API_KEY or --key-file (or the default key
 * file); there is deliberately no option taking the key itself, which
 * would show in ps and shell history.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/cloud.h>
#include <scentience/error.h>

#include "cli.h"

#define INPUT_MAX (1u << 20)

#define P "scn-predict"

static void usage(FILE *f)
{
    fputs("usage: scn-predict [--url URL] [options] [FILE|-]\n"
          "Posts one device frame (JSON, from FILE or stdin) to the cloud's "
          "/v1/predict\nand prints the inference.\n"
          "  --url URL        where to post (default "
          "https://api.scentience.ai/v1/predict,\n"
          "                   the production service). A stream URL "
          "(ws://, wss://) or a\n"
          "                   base URL (no path, or ending in /) gets "
          "/v1/predict\n"
          "                   (docs/PROTOCOL.md 9.6). The target is "
          "printed on stderr.\n"
          "  --json           print the inference as one JSON object\n"
          "  --key-file PATH  read the API key from PATH (else "
          "$SCENTIENCE_API_KEY)\n"
          "  --timeout MS     for the whole exchange (10000)\n"
          "  --ca-file FILE   trust this CA for https://\n"
          "  --insecure       do not verify TLS certificates (testing)\n"
          "  --quiet          do not print the target on stderr\n"
          "Exit: 0 ok, 64 usage, 65 the frame or the answer is malformed "
          "(400, 413),\n66 FILE cannot be read, 69 unreachable, timed out "
          "or a server error, 70\ninternal error, 75 quota exhausted "
          "(retry later), 77 key rejected (401, 403),\n78 no usable "
          "key.\n",
          f);
}

/* Reads the whole input; returns its length or -1 (too big, read error). */
static long read_all(FILE *in, char *buf, size_t cap)
{
    size_t n = 0, r;

    while ((r = fread(buf + n, 1, cap - n, in)) > 0) {
        n += r;
        if (n == cap)
            return -1;
    }
    return ferror(in) ? -1 : (long)n;
}

static int exit_for(int rc)
{
    switch (rc) {
    case SCN_ERR_MALFORMED:
    case SCN_ERR_WRONG_TYPE:
    case SCN_ERR_OUT_OF_RANGE:
    case SCN_ERR_TOO_DEEP:
    case SCN_ERR_MISSING_FIELD:
    case SCN_ERR_MESSAGE_TOO_BIG:
        return CLI_EX_DATAERR;
    case SCN_ERR_QUOTA:
        return CLI_EX_TEMPFAIL;
    case SCN_ERR_URL:
        return CLI_EX_USAGE;
    default:
        return cli_exit_for_error(rc);
    }
}

/* The cloud's strings are escaped (cli_escaped): they reach a terminal. */
static void print_prediction(const scn_cloud_prediction *p)
{
    char e[256];
    size_t i;

    printf("model %s\n", cli_escaped(e, sizeof(e), p->model));
    for (i = 0; i < p->label_count; i++)
        printf("label %s %.3f\n", cli_escaped(e, sizeof(e), p->labels[i].label),
               p->labels[i].score);
    if (p->has_target) {
        printf("target %s", cli_escaped(e, sizeof(e), p->compound));
        if (p->has_bearing)
            printf(" bearing_deg %.1f", p->bearing_deg);
        printf("\n");
    }
}

/* The inference as one compact JSON object (cJSON escapes the cloud's
 * strings). */
static int print_json(const scn_cloud_prediction *p)
{
    cJSON *root = cJSON_CreateObject(), *labels, *l, *t;
    char *text;

    if (!root)
        return -1;
    cJSON_AddStringToObject(root, "model", p->model);
    labels = cJSON_AddArrayToObject(root, "labels");
    for (size_t i = 0; labels && i < p->label_count; i++) {
        if ((l = cJSON_CreateObject()) == NULL)
            break;
        cJSON_AddStringToObject(l, "label", p->labels[i].label);
        cJSON_AddNumberToObject(l, "score", p->labels[i].score);
        cJSON_AddItemToArray(labels, l);
    }
    if (p->has_target && (t = cJSON_AddObjectToObject(root, "target"))) {
        cJSON_AddStringToObject(t, "compound", p->compound);
        if (p->has_bearing)
            cJSON_AddNumberToObject(t, "bearing_deg", p->bearing_deg);
    }
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        return -1;
    puts(text);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"key-file", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'c'},
        {"insecure", no_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    scn_cloud_predict_options o;
    scn_cloud_prediction p;
    const char *path = NULL;
    char *buf, target[2048];
    FILE *in;
    long len;
    int c, rc, ms, json = 0, quiet = 0;
    char code[128], msg[1024];

    scn_cloud_predict_options_init(&o);
    if (cli_exact_long_options(P, argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((c = cli_getopt(P, argc, argv, "h", longopts)) != -1) {
        switch (c) {
        case 'u':
            o.url = optarg;
            break;
        case 'k':
            o.key_file = optarg;
            break;
        case 't':
            if (cli_opt_int(P, "--timeout", optarg, 1, 600000, &ms))
                return CLI_EX_USAGE;
            o.timeout_ms = (uint32_t)ms;
            break;
        case 'c':
            o.ca_file = optarg;
            break;
        case 'i':
            o.insecure = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_EX_OK;
        default:
            return CLI_EX_USAGE; /* reported by cli_getopt */
        }
    }
    if (argc - optind > 1)
        return cli_usage_error(P, "unexpected argument '%s'", argv[optind + 1]);
    if ((rc = scn_cloud_predict_url(o.url, target, sizeof(target))) != 0)
        return cli_usage_error(P,
                               "--url %s: %s (http://, https://, ws:// "
                               "or wss://)",
                               o.url ? o.url : "", scn_strerror(SCN_ERR_URL));
    /* The target is never silent: the default is the production service. */
    if (!quiet)
        fprintf(stderr, "scn-predict: POST %s%s\n", target,
                o.url ? "" : " (the default; --url to change)");
    if (optind < argc)
        path = argv[optind];
    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "scn-predict: %s: %s\n", path,
                    scn_strerror(scn_err_from_errno(errno)));
            return CLI_EX_NOINPUT;
        }
    } else {
        in = stdin;
    }
    buf = malloc(INPUT_MAX);
    if (!buf)
        return CLI_EX_OSERR;
    len = read_all(in, buf, INPUT_MAX);
    if (in != stdin)
        fclose(in);
    if (len < 0) {
        fprintf(stderr, "scn-predict: cannot read the input (1 MiB max)\n");
        free(buf);
        return CLI_EX_DATAERR;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                       buf[len - 1] == ' '))
        len--; /* a file's trailing newline is not part of the frame */
    rc = scn_cloud_predict(&o, buf, (size_t)len, &p);
    free(buf);
    if (rc == SCN_ERR_NO_KEY || rc == SCN_ERR_KEY_FILE ||
        rc == SCN_ERR_KEY_FILE_PERMS || rc == SCN_ERR_KEY_FORMAT)
        return cli_link_error(P, rc, "--url", o.url, o.key_file);
    if (rc) {
        fprintf(stderr, "scn-predict: %s", scn_strerror(rc));
        if (p.http_status)
            fprintf(stderr, " (HTTP %d%s%s%s%s)", p.http_status,
                    p.error_code[0] ? ", " : "",
                    cli_escaped(code, sizeof(code), p.error_code),
                    p.error_message[0] ? ": " : "",
                    cli_escaped(msg, sizeof(msg), p.error_message));
        if (p.retry_after_ms)
            fprintf(stderr, "; retry after %u ms", p.retry_after_ms);
        fprintf(stderr, "\n");
        return exit_for(rc);
    }
    if (json ? print_json(&p) : (print_prediction(&p), 0))
        return CLI_EX_SOFTWARE;
    return CLI_EX_OK;
}
