/*
 * The scn-record subcommands. Each takes its own argv (argv[0] is the
 * subcommand's name) and returns a sysexits code (cli.h).
 */
#ifndef SCN_RECORD_CMDS_H
#define SCN_RECORD_CMDS_H

int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
