#include "py_peer.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define MAX_ARGS 8

int py_peer_start(py_peer *p, const char *script, const char *log_name,
                  const char *const *args)
{
    char path[512], errlog[512];
    const char *src = getenv("SCN_SOURCE_DIR");
    const char *argv[MAX_ARGS + 3];
    int fds[2], n = 0;

    memset(p, 0, sizeof(*p));
    p->fd = -1;
    snprintf(path, sizeof(path), "%s/tests/integration/%s", src ? src : ".",
             script);
    test_log_path(log_name, errlog, sizeof(errlog));
    argv[n++] = "python3";
    argv[n++] = path;
    for (int i = 0; args && args[i]; i++) {
        if (i == MAX_ARGS)
            return -1;
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    if (pipe(fds) != 0)
        return -1;
    /* Later peers must not inherit this one's pipe. */
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    p->pid = fork();
    if (p->pid == 0) {
        int err = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0644);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], STDOUT_FILENO);
        if (err >= 0)
            dup2(err, STDERR_FILENO);
        execv("/usr/bin/python3", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    if (p->pid < 0) {
        close(fds[0]);
        return -1;
    }
    p->fd = fds[0];
    fcntl(p->fd, F_SETFL, O_NONBLOCK);
    return 0;
}

void py_peer_pump(py_peer *p)
{
    ssize_t n;

    while (p->fd >= 0 && p->len < sizeof(p->out) - 1 &&
           (n = read(p->fd, p->out + p->len, sizeof(p->out) - 1 - p->len)) > 0)
        p->len += (size_t)n;
    p->out[p->len] = '\0';
    if (p->pid > 0 && !p->exited && waitpid(p->pid, NULL, WNOHANG) == p->pid)
        p->exited = true;
}

void py_peers_pump(scn_loop *loop, py_peer *peers, int n, uint32_t ms)
{
    scn_loop_run_once(loop, ms);
    for (int i = 0; i < n; i++)
        py_peer_pump(&peers[i]);
}

/* Whether needle is in the complete lines p printed: a line still being
 * written (a peer may write a line in pieces) does not count yet. */
static bool printed(const py_peer *p, const char *needle)
{
    const char *end = strrchr(p->out, '\n');
    const char *at = strstr(p->out, needle);

    return at && end && at + strlen(needle) <= end + 1;
}

bool py_peer_wait(scn_loop *loop, py_peer *peers, int n, py_peer *p,
                  const char *needle, uint32_t timeout_ms)
{
    uint64_t end = deadline_ms(loop, timeout_ms);
    bool found;

    for (;;) {
        py_peers_pump(loop, peers, n, 10);
        found = printed(p, needle);
        if (found || p->exited || scn_loop_now_ms(loop) >= end)
            break;
    }
    /* What it wrote just before exiting. */
    py_peer_pump(p);
    found = printed(p, needle);
    if (!found)
        print_message("peer did not print \"%s\"; it printed:\n%s\n", needle,
                      p->out);
    return found;
}

bool py_peer_wait_exit(scn_loop *loop, py_peer *peers, int n, py_peer *p,
                       uint32_t timeout_ms)
{
    uint64_t end = deadline_ms(loop, timeout_ms);

    while (!p->exited && scn_loop_now_ms(loop) < end)
        py_peers_pump(loop, peers, n, 10);
    py_peer_pump(p);
    return p->exited;
}

void py_peer_stop(py_peer *p)
{
    if (p->pid > 0 && !p->exited) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        p->exited = true;
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}
