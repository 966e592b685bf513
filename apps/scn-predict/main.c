/*
 * scn-predict: one frame to POST /v1/predict, the inference printed
 * (docs/PROTOCOL.md section 9.6).
 *
 *   scn-predict [--url URL] [--key-file PATH] [--timeout MS] [--ca-file F]
 *               [--insecure] [FILE|-]
 *
 * The key comes from $SCENTIENCE_API_KEY or --key-file (or the default key
 * file); there is deliberately no option taking the key itself, which
 * would show in ps and shell history.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <scentience/cloud.h>
#include <scentience/error.h>

#include "cli.h"

#define INPUT_MAX (1u << 20)

static void usage(FILE *f)
{
    fprintf(f, "usage: scn-predict [--url URL] [--key-file PATH] "
               "[--timeout MS] [--ca-file FILE] [--insecure] [FILE|-]\n"
               "Posts one device frame (JSON) to the cloud's "
               "/v1/predict and prints the inference.\n"
               "Key: $SCENTIENCE_API_KEY or --key-file.\n");
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

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"key-file", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 't'},
        {"ca-file", required_argument, NULL, 'c'},
        {"insecure", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    scn_cloud_predict_options o;
    scn_cloud_prediction p;
    const char *path = NULL;
    char *buf;
    FILE *in;
    long len;
    int c, rc;
    char code[128], msg[1024];

    memset(&o, 0, sizeof(o));
    if (cli_exact_long_options("scn-predict", argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o.url = optarg;
            break;
        case 'k':
            o.key_file = optarg;
            break;
        case 't': {
            int ms;
            if (cli_parse_int(optarg, 1, 600000, &ms)) {
                fprintf(stderr, "scn-predict: bad --timeout\n");
                return CLI_EX_USAGE;
            }
            o.timeout_ms = (uint32_t)ms;
            break;
        }
        case 'c':
            o.ca_file = optarg;
            break;
        case 'i':
            o.insecure = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_EX_OK;
        default:
            usage(stderr);
            return CLI_EX_USAGE;
        }
    }
    if (argc - optind > 1) {
        usage(stderr);
        return CLI_EX_USAGE;
    }
    if (optind < argc)
        path = argv[optind];
    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "scn-predict: cannot open %s\n", path);
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
    print_prediction(&p);
    return CLI_EX_OK;
}
