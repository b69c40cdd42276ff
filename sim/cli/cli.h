/* Commands of the servesim executable. Each returns the process exit status:
 * 0 success, 1 bad input or failed run, 2 bad command line. */
#ifndef SS_CLI_CLI_H
#define SS_CLI_CLI_H

#include <stdio.h>

#include "sim/core/diag.h"

#define SS_VERSION "0.1.0"

/* t_start: ss_cli_now() when main() began, for start-up timing. */
int ss_cmd_run(int argc, char **argv, double t_start);
int ss_cmd_list(int argc, char **argv);
int ss_cmd_bench(int argc, char **argv, double t_start);
int ss_cmd_doc(int argc, char **argv);
int ss_cmd_capacity(int argc, char **argv);
int ss_cmd_search(int argc, char **argv);
/* Sweeps (cmd_sweep.c, docs/sweeps.md). */
int ss_cmd_sweep(int argc, char **argv, double t_start);
int ss_cmd_sweep_dump(int argc, char **argv);
int ss_cmd_pareto(int argc, char **argv);
/* `validate e2e` (and, after the merge, `validate calibration`); see cmd_validate.c. */
int ss_cmd_validate(int argc, char **argv, double t_start);
/* `servesim calibrate` and `servesim validate calibration` (cmd_calibrate.c,
 * cmd_validate_calib.c). */
int ss_cmd_calibrate(int argc, char **argv);
int ss_cmd_validate_calibration(int argc, char **argv);
int ss_cmd_measurements(int argc, char **argv);

/* Print "servesim: error: <diag>" to stderr. */
void ss_cli_report(const ss_diag *d);
/* Monotonic seconds since an arbitrary origin. */
double ss_cli_now(void);

#endif
