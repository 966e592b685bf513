/*
 * The test drivers' command input: stdin read raw (not through stdio, so
 * that poll() sees every line not yet handled) between turns of the
 * loop, one command per line.
 */
#ifndef SCN_TEST_STDIN_LINES_H
#define SCN_TEST_STDIN_LINES_H

#include <scentience/loop.h>

/* Turns the loop (10 ms at most) and hands every whole line on stdin to
 * fn, until *quit is set or stdin ends. A line longer than 8 KiB is
 * dropped. */
void stdin_lines_run(scn_loop *loop, void (*fn)(void *user, char *line),
                     void *user, const int *quit);

#endif
