/* `servesim measurements`: read calibration sources the way `servesim calibrate` will and
 * show what was read -- per file its format, GPU, stack, rows, SHA-256 and rows per operator
 * family -- and optionally every row as CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwprofiles/calib/meas.h"
#include "sim/cli/calib_common.h"
#include "sim/cli/cli.h"

#define MAX_SOURCES 64

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: servesim measurements --source [FORMAT:]PATH [--source ...] [--gpu NAME]\n"
            "                             [--csv OUT.csv] [--lenient]\n\n"
            "Reads calibration measurements (a file, or a directory searched recursively in\n"
            "sorted order; gzip or plain) and prints, per file, the format, GPU, software\n"
            "stack, rows, SHA-256 and rows per operator family. Files under a directory that\n"
            "are not read are listed with the reason.\n\n"
            "  --source [FORMAT:]PATH  a measurement file or directory; FORMAT is detected\n"
            "                          from names and header lines when omitted\n"
            "  --gpu NAME              keep only this GPU's files (any alias, e.g. h100_sxm)\n"
            "  --csv OUT.csv           also write every row as CSV (seconds, bytes)\n"
            "  --lenient               read a file that lacks its header line with the\n"
            "                          format's documented columns (counted and listed)\n\n"
            "Formats:\n");
    for (size_t i = 0; ss_meas_format_name(i); i++)
        fprintf(out, "  %-15s %s\n", ss_meas_format_name(i), ss_meas_format_help(i));
    fprintf(out, "\nUnits, conversions and quirks: docs/calibration-data.md\n");
}

/* Families whose rows carry a dtype / a KV dtype (the others leave the fields 0). */
static int uses_dtype(int f) { return f != SS_FAM_CPU_OVERHEAD && f != SS_FAM_SAMPLER; }
static int is_attn(int f)
{
    return f == SS_FAM_ATTN_PREFILL || f == SS_FAM_ATTN_DECODE || f == SS_FAM_ATTN_MIXED;
}

static int write_csv(const ss_meas_table *t, const char *path, ss_diag *d)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot create file");
        return -1;
    }
    fprintf(f, "file,line,format,gpu,stack,family,op,model,dtype,kv_dtype,flags,gpus,m,n,k,"
               "batch,q,kv,n_decode,kv_decode,heads,kv_heads,head_dim,bytes,experts,topk,"
               "active_experts,hidden,inter,time_s\n");
    for (size_t i = 0; i < t->n; i++) {
        const ss_meas *m = &t->rows[i];
        const ss_meas_source *s = &t->sources[m->src];
        fprintf(f,
                "%s,%u,%s,%s,%s,%s,%s,%s,%s,%s,%u,%d,%lld,%lld,%lld,%d,%lld,%lld,%d,%lld,%d,%d,"
                "%d,%lld,%d,%d,%d,%lld,%lld,%.9g\n",
                s->path, m->line, s->format, s->gpu, s->stack, ss_fam_name((ss_fam)m->family),
                ss_meas_str(t, m->op), ss_meas_str(t, m->model),
                uses_dtype(m->family) ? ss_dtype_name((ss_dtype)m->dtype) : "",
                is_attn(m->family) ? ss_dtype_name((ss_dtype)m->kv_dtype) : "",
                m->flags, m->gpus, (long long)m->m, (long long)m->n, (long long)m->k, m->batch,
                (long long)m->q, (long long)m->kv, m->n_decode, (long long)m->kv_decode, m->heads,
                m->kv_heads, m->head_dim, (long long)m->bytes, m->experts, m->topk,
                m->active_experts, (long long)m->hidden, (long long)m->inter, m->time_s);
    }
    int bad = ferror(f);
    if (fclose(f) || bad) {
        ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "write failed");
        return -1;
    }
    return 0;
}

static void print_table(const ss_meas_table *t, size_t s0, size_t s1)
{
    uint64_t counts[SS_FAM_COUNT];
    for (size_t i = s0; i < s1; i++) {
        const ss_meas_source *s = &t->sources[i];
        if (!s->rows) {
            printf("%s\n  %s%s%s\n", s->path, s->format[0] ? s->format : "", s->format[0] ? ": " : "",
                   s->note);
            continue;
        }
        printf("%s\n  format %s  gpu %s  stack %s  rows %llu\n  sha256 %s\n", s->path, s->format,
               s->gpu, s->stack, (unsigned long long)s->rows, s->sha256);
        ss_meas_count_families(t, (uint32_t)i, counts);
        printf("  families:");
        for (int f = 0; f < SS_FAM_COUNT; f++)
            if (counts[f]) printf(" %s %llu", ss_fam_name((ss_fam)f), (unsigned long long)counts[f]);
        printf("\n");
        if (s->note[0]) printf("  note: %s\n", s->note);
    }
}

int ss_cmd_measurements(int argc, char **argv)
{
    const char *sources[MAX_SOURCES];
    int nsrc = 0;
    const char *gpu = NULL, *csv = NULL;
    ss_meas_opts opts = {.lenient = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 < argc && !strcmp(a, "--source")) {
            if (nsrc == MAX_SOURCES) {
                fprintf(stderr, "servesim measurements: more than %d --source\n", MAX_SOURCES);
                return 2;
            }
            sources[nsrc++] = argv[++i];
        } else if (i + 1 < argc && !strcmp(a, "--gpu")) {
            gpu = argv[++i];
        } else if (i + 1 < argc && !strcmp(a, "--csv")) {
            csv = argv[++i];
        } else if (!strcmp(a, "--lenient")) {
            opts.lenient = 1;
        } else {
            fprintf(stderr, "servesim measurements: unknown or incomplete option '%s' (see "
                            "--help)\n", a);
            return 2;
        }
    }
    if (!nsrc) {
        fprintf(stderr, "servesim measurements: give at least one --source (see --help)\n");
        return 2;
    }
    ss_meas_table t;
    ss_meas_table_init(&t);
    ss_diag d;
    ss_diag_clear(&d);
    double t0 = ss_cli_now();
    int status = 0;
    for (int i = 0; i < nsrc && !status; i++) {
        size_t s0 = t.nsources, r0 = t.n;
        double ts = ss_cli_now();
        if (ss_meas_read_source_opts(&t, sources[i], gpu, &opts, &d)) {
            ss_cli_report(&d);
            status = 1;
            break;
        }
        print_table(&t, s0, t.nsources);
        size_t files = 0;
        for (size_t s = s0; s < t.nsources; s++) files += t.sources[s].rows > 0;
        printf("source %s: %zu files read, %zu rows, %.2f s\n\n", sources[i], files, t.n - r0,
               ss_cli_now() - ts);
    }
    if (!status) {
        uint64_t total[SS_FAM_COUNT] = {0};
        for (size_t i = 0; i < t.n; i++) total[t.rows[i].family]++;
        printf("total: %zu rows", t.n);
        for (int f = 0; f < SS_FAM_COUNT; f++)
            if (total[f]) printf(", %s %llu", ss_fam_name((ss_fam)f), (unsigned long long)total[f]);
        printf(" (%.2f s)\n", ss_cli_now() - t0);
        size_t lenient = 0;
        for (size_t s = 0; s < t.nsources; s++)
            lenient += !strncmp(t.sources[s].note, "lenient:", 8);
        /* rows faster than their GPU's peak, per GPU of the sources (one with no servesim
         * profile is not checked: its source says so) */
        for (size_t s = 0; s < t.nsources && !status; s++) {
            size_t p = 0;
            while (p < s && (!t.sources[p].rows || strcmp(t.sources[p].gpu, t.sources[s].gpu)))
                p++;
            ss_hw hw;
            ss_diag hd;
            ss_diag_clear(&hd);
            if (p < s || !t.sources[s].rows || ss_hw_load(t.sources[s].gpu, NULL, &hw, &hd))
                continue;
            if (ss_calib_report_peak(&t, &hw, stdout, &d)) {
                ss_cli_report(&d);
                status = 1;
            }
        }
        if (lenient) printf("lenient: %zu files read without their header line\n", lenient);
        if (csv) {
            if (write_csv(&t, csv, &d)) {
                ss_cli_report(&d);
                status = 1;
            } else {
                printf("wrote %s\n", csv);
            }
        }
    }
    ss_meas_table_free(&t);
    return status;
}
