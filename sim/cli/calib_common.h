/* Shared by `servesim calibrate` and `servesim validate calibration`: options, reading the
 * measurement sources, fitting, provenance. Internal to sim/cli. */
#ifndef SS_CLI_CALIB_COMMON_H
#define SS_CLI_CALIB_COMMON_H

#include <stdio.h>

#include "hwprofiles/calib/fit.h"

#define SS_CALIB_MAX_SOURCES 32
#define SS_CALIB_MAX_ASSERTS 32

typedef struct ss_calib_assert {
    char family[32]; /* ss_fam name */
    char scheme[32]; /* kfold, shapes, extrapolate, profile, profile-unseen */
    double median, p90;
} ss_calib_assert;

typedef struct ss_calib_args {
    const char *sources[SS_CALIB_MAX_SOURCES];
    int nsources;
    const char *skew[SS_CALIB_MAX_SOURCES]; /* LLMServingSim skew.csv[.gz] files */
    int nskew;
    char gpu[64];       /* canonical; empty with --profile and no --gpu (the profile's GPU) */
    const char *out, *stack, *json, *db;
    const char *rows;    /* validate calibration --rows: every evaluated row as CSV */
    const char *profile; /* validate calibration --profile: check this profile instead of fitting */
    int is_default, no_shapes, folds, lenient;
    unsigned long long seed;
    int nasserts;
    ss_calib_assert asserts[SS_CALIB_MAX_ASSERTS];
} ss_calib_args;

/* Parse options (calibrate: is_calibrate = 1). Returns -1 to go on, else the exit status. */
int ss_calib_parse_args(int argc, char **argv, ss_calib_args *a, int is_calibrate,
                        void (*usage)(FILE *));
/* Read every --source for the GPU into t (initialised here; the caller frees it), and
 * flag, with a note on stderr per series, rows faster than the GPU's peak (the GPU's
 * profile is loaded for its peaks). */
ss_rc ss_calib_read(const ss_calib_args *a, ss_meas_table *t, ss_diag *d);
/* Flag the series of t that are faster than hw's peak (ss_cal_check_peak) and say so on
 * out, one line per series. */
ss_rc ss_calib_report_peak(ss_meas_table *t, const ss_hw *hw, FILE *out, ss_diag *d);
/* Read the --skew files and fit the skew factors into c. */
ss_rc ss_calib_skew(const ss_calib_args *a, ss_calib *c, ss_diag *d);
/* Rows of kernels (not collectives or CPU overhead) the fit can use, of --stack if given. */
size_t ss_calib_kernel_rows(const ss_calib_args *a, const ss_meas_table *t);
/* Fit t into c (c->gpu set). */
ss_rc ss_calib_fit(const ss_calib_args *a, const ss_meas_table *t, int with_shapes, ss_calib *c,
                   ss_diag *d);
/* Command line and the sources that contributed rows, sorted by path. */
ss_rc ss_calib_provenance(const ss_calib_args *a, int argc, char **argv, const ss_meas_table *t,
                          ss_calib *c, ss_diag *d);
void ss_calib_sort_sources(ss_calib *c);
void ss_calib_print_summary(const ss_calib *c, FILE *out);

#endif
