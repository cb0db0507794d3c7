/*
 * commands.h - the heaplab subcommands, one file each.  Each takes argv with
 * argv[0] = its own name and returns the process exit status.
 */
#ifndef HEAPLAB_COMMANDS_H
#define HEAPLAB_COMMANDS_H

int hl_cmd_replay(int argc, char **argv);
int hl_cmd_gen(int argc, char **argv);
int hl_cmd_layout(int argc, char **argv);
int hl_cmd_plot(int argc, char **argv);
int hl_cmd_selftest(int argc, char **argv);
int hl_cmd_run(int argc, char **argv);
int hl_cmd_record(int argc, char **argv);
int hl_cmd_check_trace(int argc, char **argv);
int hl_cmd_import(int argc, char **argv);
int hl_cmd_sweep(int argc, char **argv);
int hl_cmd_merge(int argc, char **argv);

#endif
