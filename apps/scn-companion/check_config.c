/*
 * scn-companion --check-config FILE: reads the config file as --config
 * does, but reports every problem instead of stopping at the first, then
 * checks what the companion needs to start with it: the settings it
 * requires, URLs it can connect to, a key it can use (file, permissions,
 * format; the key itself is never shown), a flight script and follow
 * command that validate, directories it can write, ports that do not
 * collide. scn-companion.service runs it before every start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "companion.h"
#include "config_file.h"

typedef struct checker {
    const char *path;
    unsigned problems;
    int unread; /* the file as a whole could not be read */
} checker;

static void problem(checker *k, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(checker *k, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (line)
        fprintf(stderr, "scn-companion: %s:%u: ", k->path, line);
    else
        fprintf(stderr, "scn-companion: %s: ", k->path);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    k->problems++;
}

/* A problem the reader found (apps/common/config_file.c: the same reader
 * and the same settings as --config, so that both agree). */
static void read_problem(unsigned line, const char *what, void *user)
{
    checker *k = user;

    k->unread = k->unread || line == 0;
    problem(k, line, "%s", what);
}

static void check_url(checker *k, const char *name, const char *url)
{
    char host[256]; /* any host a valid URL can name */

    if (url && scn_url_host(url, host, sizeof(host)) != 0)
        problem(k, 0, "%s '%s' is not a ws:// or wss:// URL", name, url);
}

/* dir must exist and be writable, or be creatable in a writable parent
 * (the spool makes its last component). */
static void check_dir(checker *k, const char *name, const char *dir)
{
    struct stat st;
    char parent[4096];
    char *slash;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            problem(k, 0, "%s %s is not a directory", name, dir);
        else if (access(dir, W_OK | X_OK) != 0)
            problem(k, 0, "%s %s is not writable", name, dir);
        return;
    }
    snprintf(parent, sizeof parent, "%s", dir);
    slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (access(parent, W_OK | X_OK) != 0)
        problem(k, 0, "%s %s does not exist and cannot be made in %s", name,
                dir, parent);
}

/* The file may not exist yet; its directory must be writable. */
static void check_out_file(checker *k, const char *name, const char *file)
{
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof dir, "%s", file);
    slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        problem(k, 0, "%s %s: directory %s is not writable", name, file, dir);
}

/* What the whole config needs, once every line has been read. */
static void check_whole(checker *k, const config *cf)
{
    scn_api_key *key = NULL;
    char why[256];
    int rc;

    if (!cf->device_url)
        problem(k, 0, "no device-url");
    check_url(k, "device-url", cf->device_url);
    check_url(k, "drone-url", cf->drone_url);
    check_url(k, "cloud-url", cf->cloud_url);
    if (cf->cloud_url && !cf->spool)
        problem(k, 0, "cloud-url needs a spool-dir");
    if (cf->spool)
        check_dir(k, "spool-dir", cf->spool);
    if (comp_mqtt_settings_check(cf, why, sizeof why))
        problem(k, 0, "%s", why + (why[0] == '-' ? 2 : 0));
    if (cf->mqtt_spool)
        check_dir(k, "mqtt-spool-dir", cf->mqtt_spool);
    if (live_listen_check(&cf->live, why, sizeof why))
        problem(k, 0, "%s", why + (why[0] == '-' ? 2 : 0));
    if (cf->record)
        check_out_file(k, "record", cf->record);
    if (cf->video_out)
        check_out_file(k, "video-out", cf->video_out);
    if (cf->drone_url) {
        int ports[3] = {cf->state_port, cf->video_port, cf->live.port};
        const char *names[3] = {"state-port", "video-port", "live-port"};
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (ports[i] && ports[i] == ports[j])
                    problem(k, 0, "%s and %s are both %d", names[i], names[j],
                            ports[i]);
    }
    if (cf->script) {
        script sc = {0};
        if (script_load_file(&sc, cf->script, why, sizeof why) != 0)
            problem(k, 0, "script %s: %s", cf->script, why);
        script_free(&sc);
    }
    if (cf->follow && strcasecmp(cf->follow, "any") != 0) {
        char line[SCN_UAV_LINE_MAX + 1];
        scn_uav_cmd cmd;
        snprintf(line, sizeof line, "oio %s", cf->follow);
        if (scn_uav_cmd_parse(line, strlen(line), &cmd, why, sizeof why))
            problem(k, 0, "follow: %s", why);
    }
    /* The key as the companion resolves it: file (or environment), mode,
     * format. Only the error is shown, never the key. */
    if ((rc = scn_api_key_load(cf->key_file, &key)) != 0)
        problem(k, 0, "API key%s%s: %s", cf->key_file ? " " : "",
                cf->key_file ? cf->key_file : "", scn_strerror(rc));
    scn_api_key_free(key);
}

int comp_check_config(const char *path)
{
    checker k = {.path = path};
    config cf;
    comp_settings values = {.cf = &cf};

    comp_config_defaults(&cf);
    /* Every line is read; what the whole config needs is checked even
     * after a bad line, so that every problem is reported at once. */
    cfg_read_file(path, comp_config_setting, &values, read_problem, &k);
    if (!k.unread)
        check_whole(&k, &cf);
    comp_settings_free(&values);
    if (k.problems) {
        fprintf(stderr, "scn-companion: %s: %u problem%s\n", path, k.problems,
                k.problems == 1 ? "" : "s");
        return CLI_EX_CONFIG;
    }
    fprintf(stderr, "scn-companion: %s: ok\n", path);
    return 0;
}
