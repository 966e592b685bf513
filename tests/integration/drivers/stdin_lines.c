/* The test drivers' command input (stdin_lines.h). */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "stdin_lines.h"

void stdin_lines_run(scn_loop *loop, void (*fn)(void *user, char *line),
                     void *user, const int *quit)
{
    char buf[8192];
    size_t have = 0;

    while (!*quit) {
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        char *nl;
        ssize_t n;

        scn_loop_run_once(loop, 10);
        if (poll(&p, 1, 0) <= 0)
            continue;
        n = read(STDIN_FILENO, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        while ((nl = strchr(buf, '\n'))) {
            *nl = '\0';
            fn(user, buf);
            have -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, have + 1);
        }
        if (have == sizeof(buf) - 1)
            have = 0; /* a line longer than any command: dropped */
    }
}
