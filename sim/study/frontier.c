/* `servesim pareto`: the frontier of a sweep database as an AIPerf-style table and a
 * gnuplot plot (pareto.h). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/output/output.h"
#include "sim/study/pareto.h"

static const char *const aliases[][2] = {
    {"throughput_per_gpu", "throughput.output_tokens_per_s_per_gpu"},
    {"tokens_per_s_per_user", "interactivity.tokens_per_s_per_user"},
    {"interactivity", "interactivity.tokens_per_s_per_user"},
    {"ttft_p50", "ttft_s.p50"},
    {"ttft_p99", "ttft_s.p99"},
    {"tpot_p50", "tpot_s.p50"},
    {"e2e_p99", "e2e_s.p99"},
    {"qps", "throughput.requests_per_s"},
    {"throughput", "throughput.output_tokens_per_s"},
};

const char *ss_frontier_metric_alias(const char *name)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i][0])) return aliases[i][1];
    return name;
}

/* Axis label of a metric: words for the common ones, the metric name otherwise. */
static const char *label_of(const char *metric)
{
    static const char *const names[][2] = {
        {"throughput.output_tokens_per_s_per_gpu", "Output throughput per GPU"},
        {"throughput.total_tokens_per_s_per_gpu", "Total throughput per GPU"},
        {"interactivity.tokens_per_s_per_user", "Interactivity"},
        {"throughput.output_tokens_per_s", "Output throughput"},
        {"throughput.requests_per_s", "Request throughput"},
        {"ttft_s.p50", "TTFT P50"},
        {"ttft_s.p99", "TTFT P99"},
        {"tpot_s.p50", "TPOT P50"},
        {"e2e_s.p99", "E2E latency P99"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(metric, names[i][0])) return names[i][1];
    return metric;
}

typedef struct pointrow {
    char *family;
    char *config;
    char *calibration; /* points.calibration; "" in databases written before it existed */
    char ratec[64]; /* the rate or concurrency this point set, for the table */
    double x, y, qps, ttft50, ttft99, tpot50, tput, tgpu, tuser;
    bool front;
} pointrow;

typedef struct frontier {
    sqlite3 *db;
    const char *path;
    char study[128];
    size_t n;
    pointrow *p;
} frontier;

static ss_rc db_err(frontier *f, ss_diag *d, const char *what)
{
    return ss_diag_set(d, SS_ERR_DB, f->path, 0, 0, NULL, "%s: %s", what,
                       f->db ? sqlite3_errmsg(f->db) : "cannot open");
}

static char *dup_col(sqlite3_stmt *st, int c)
{
    const unsigned char *t = sqlite3_column_text(st, c);
    const char *s = t ? (const char *)t : "";
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* Means of `metric` over the points (NaN where NULL); unit and direction out. */
static ss_rc read_metric(frontier *f, const char *metric, size_t field, char *unit,
                         size_t unit_n, int *better, ss_diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, "SELECT unit, better FROM metrics WHERE metric = ?", -1, &st,
                           NULL))
        return db_err(f, d, "not a sweep database");
    sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        if (unit) snprintf(unit, unit_n, "%s", (const char *)sqlite3_column_text(st, 0));
        if (better) *better = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    if (!found)
        return ss_diag_set(d, SS_ERR_INVALID, f->path, 0, 0, NULL,
                           "unknown metric '%s' (the database's `metrics` table lists them; "
                           "short names: throughput_per_gpu, tokens_per_s_per_user, "
                           "ttft_p50, ttft_p99, tpot_p50, e2e_p99, qps, throughput)",
                           metric);
    if (sqlite3_prepare_v2(f->db, "SELECT point, mean FROM point_stats WHERE metric = ?", -1,
                           &st, NULL))
        return db_err(f, d, "not a sweep database");
    sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 i = sqlite3_column_int64(st, 0);
        if (i < 0 || (size_t)i >= f->n) continue;
        double v = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
        *(double *)((char *)&f->p[i] + field) = v;
    }
    sqlite3_finalize(st);
    return s == SQLITE_DONE ? SS_OK : db_err(f, d, "cannot read point_stats");
}

static ss_rc read_points(frontier *f, ss_diag *d)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, "SELECT name, points FROM study", -1, &st, NULL))
        return db_err(f, d, "not a sweep database");
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return ss_diag_set(d, SS_ERR_INVALID, f->path, 0, 0, NULL, "no study in the database");
    }
    snprintf(f->study, sizeof f->study, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_int64 n = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (n <= 0 || n > 100000000)
        return ss_diag_set(d, SS_ERR_INVALID, f->path, 0, 0, NULL, "the study has no points");
    f->n = (size_t)n;
    if (!(f->p = calloc(f->n, sizeof *f->p))) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->n; i++) {
        pointrow *p = &f->p[i];
        p->x = p->y = p->qps = p->ttft50 = p->ttft99 = p->tpot50 = p->tput = p->tgpu =
            p->tuser = NAN;
        snprintf(p->ratec, sizeof p->ratec, "-");
    }
    int has_calib = 1;
    if (sqlite3_prepare_v2(f->db, "SELECT point, family, overrides, calibration FROM points", -1,
                           &st, NULL)) {
        sqlite3_finalize(st);
        st = NULL;
        has_calib = 0;
        if (sqlite3_prepare_v2(f->db, "SELECT point, family, overrides FROM points", -1, &st,
                               NULL))
            return db_err(f, d, "not a sweep database");
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 i = sqlite3_column_int64(st, 0);
        if (i < 0 || (size_t)i >= f->n) continue;
        free(f->p[i].family);
        free(f->p[i].config);
        f->p[i].family = dup_col(st, 1);
        f->p[i].config = dup_col(st, 2);
        free(f->p[i].calibration);
        f->p[i].calibration = has_calib && sqlite3_column_type(st, 3) == SQLITE_TEXT
                                  ? dup_col(st, 3)
                                  : strdup("");
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(f->db, "SELECT point, key, value FROM point_params", -1, &st, NULL))
        return db_err(f, d, "not a sweep database");
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_int64 i = sqlite3_column_int64(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        const char *v = (const char *)sqlite3_column_text(st, 2);
        if (i < 0 || (size_t)i >= f->n || !k || !v) continue;
        size_t kl = strlen(k);
        if (kl >= 4 && !strcmp(k + kl - 4, "rate"))
            snprintf(f->p[i].ratec, sizeof f->p[i].ratec, "rate %s", v);
        else if ((kl >= 11 && !strcmp(k + kl - 11, "concurrency")) ||
                 (kl >= 15 && !strcmp(k + kl - 15, "arrival.clients")))
            snprintf(f->p[i].ratec, sizeof f->p[i].ratec, "conc %s", v);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < f->n; i++)
        if (!f->p[i].family || !f->p[i].config || !f->p[i].calibration)
            return ss_diag_set(d, SS_ERR_INVALID, f->path, 0, 0, NULL,
                               "point %zu is missing from the points table", i);
    return SS_OK;
}

static void frontier_free(frontier *f)
{
    for (size_t i = 0; f->p && i < f->n; i++) {
        free(f->p[i].family);
        free(f->p[i].config);
        free(f->p[i].calibration);
    }
    free(f->p);
    sqlite3_close(f->db);
}

typedef struct xkey {
    double x;
    size_t i;
} xkey;

/* x ascending (NaN last), then point index: a total order */
static int cmp_x(const void *a, const void *b)
{
    const xkey *p = a, *q = b;
    int pn = isnan(p->x), qn = isnan(q->x);
    if (pn != qn) return pn - qn;
    if (!pn && p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* idx[] = the points ordered by x. */
static ss_rc sort_by_x(size_t *idx, const frontier *f, ss_diag *d)
{
    xkey *k = malloc((f->n ? f->n : 1) * sizeof *k);
    if (!k) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f->n; i++) k[i] = (xkey){f->p[i].x, i};
    qsort(k, f->n, sizeof *k, cmp_x);
    for (size_t i = 0; i < f->n; i++) idx[i] = k[i].i;
    free(k);
    return SS_OK;
}

static void print_ms(FILE *out, double s, int w)
{
    if (isnan(s)) fprintf(out, " %*s", w, "-");
    else fprintf(out, " %*.2f", w, 1e3 * s);
}

static void print_num(FILE *out, double v, int w, int prec)
{
    if (isnan(v)) fprintf(out, " %*s", w, "-");
    else fprintf(out, " %*.*f", w, prec, v);
}

/* The metrics the table always shows; x and y get a column of their own only when they are
 * not among them. */
static const char *const fixed_cols[] = {
    "throughput.requests_per_s", "ttft_s.p50", "ttft_s.p99", "tpot_s.p50",
    "throughput.output_tokens_per_s", "throughput.output_tokens_per_s_per_gpu",
    "interactivity.tokens_per_s_per_user"};

static bool is_fixed(const char *m)
{
    for (size_t i = 0; i < sizeof fixed_cols / sizeof fixed_cols[0]; i++)
        if (!strcmp(m, fixed_cols[i])) return true;
    return false;
}

static void print_table(const frontier *f, const size_t *idx, size_t n, bool all,
                        const char *xm, const char *ym, FILE *out)
{
    bool sx = !is_fixed(xm), sy = !is_fixed(ym);
    fprintf(out, " point %s%-12s %8s %9s %9s %9s %10s %10s %10s", all ? "front " : "",
            "rate/conc", "QPS", "TTFT P50", "TTFT P99", "TPOT P50", "out tok/s", "tok/s/GPU",
            "tok/s/user");
    if (sx) fprintf(out, " %12s", "x");
    if (sy) fprintf(out, " %12s", "y");
    fprintf(out, "  %-12s  configuration\n", "calibration");
    fprintf(out, " %5s %s%-12s %8s %9s %9s %9s\n", "", all ? "      " : "", "", "req/s", "ms",
            "ms", "ms");
    for (size_t k = 0; k < n; k++) {
        const pointrow *p = &f->p[idx[k]];
        if (!all && !p->front) continue;
        fprintf(out, " %5zu %s%-12.12s", idx[k], all ? (p->front ? "  *   " : "      ") : "",
                p->ratec);
        print_num(out, p->qps, 8, 2);
        print_ms(out, p->ttft50, 9);
        print_ms(out, p->ttft99, 9);
        print_ms(out, p->tpot50, 9);
        print_num(out, p->tput, 10, 0);
        print_num(out, p->tgpu, 10, 0);
        print_num(out, p->tuser, 10, 1);
        if (sx) print_num(out, p->x, 12, 4);
        if (sy) print_num(out, p->y, 12, 4);
        int named = p->family[0] && strcmp(p->family, "all");
        fprintf(out, "  %-12s  %s%s%s%s\n", ss_calibration_word(p->calibration), p->config, named ? "  [" : "", named ? p->family : "",
                named ? "]" : "");
    }
}

/* A gnuplot single-quoted string: '' stands for one quote. */
static void gp_quote(FILE *g, const char *s)
{
    fputc('\'', g);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', g);
        fputc(*s, g);
    }
    fputc('\'', g);
}

static ss_rc write_plot(const frontier *f, const size_t *idx, const ss_frontier_opts *o,
                        const char *xm, const char *xu, const char *ym, const char *yu,
                        double xs, double ys, bool ylog_ok, char **script_out, ss_diag *d)
{
    size_t plottable = 0;
    for (size_t i = 0; i < f->n; i++) plottable += !isnan(f->p[i].x) && !isnan(f->p[i].y);
    if (!plottable)
        return ss_diag_set(d, SS_ERR_INVALID, f->path, 0, 0, NULL,
                           "cannot plot: none of the %zu points has both x (%s) and y (%s) "
                           "defined (NULL in point_stats: e.g. an SLO metric of a sweep "
                           "without SLOs)", f->n, xm, ym);
    const char *img = o->png ? o->png : o->svg;
    char stem[4096];
    snprintf(stem, sizeof stem, "%s", img);
    char *dot = strrchr(stem, '.'), *slash = strrchr(stem, '/');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    char gp[4200], dat[4200], fdat[4200];
    snprintf(gp, sizeof gp, "%s.gp", stem);
    snprintf(dat, sizeof dat, "%s.dat", stem);
    snprintf(fdat, sizeof fdat, "%s.front.dat", stem);

    /* families in order of first appearance */
    const char **fam = calloc(f->n, sizeof *fam);
    if (!fam) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    size_t nf = 0;
    for (size_t i = 0; i < f->n; i++) {
        size_t k = 0;
        while (k < nf && strcmp(fam[k], f->p[i].family)) k++;
        if (k == nf) fam[nf++] = f->p[i].family;
    }
    FILE *g = fopen(dat, "w");
    if (!g) {
        free(fam);
        return ss_diag_set(d, SS_ERR_IO, dat, 0, 0, NULL, "cannot write the plot data");
    }
    fprintf(g, "# x: %s (%s), y: %s (%s), frontier (1) or dominated (0), point\n", xm, xu, ym,
            yu);
    for (size_t k = 0; k < nf; k++) {
        fprintf(g, "%s# family %zu: %s\n", k ? "\n\n" : "", k, fam[k]);
        for (size_t j = 0; j < f->n; j++) {
            const pointrow *p = &f->p[idx[j]];
            if (strcmp(p->family, fam[k]) || isnan(p->x) || isnan(p->y)) continue;
            fprintf(g, "%.10g %.10g %d %zu\n", p->x * xs, p->y * ys, p->front ? 1 : 0, idx[j]);
        }
    }
    int bad = fclose(g) != 0;
    g = fopen(fdat, "w");
    if (bad || !g) {
        if (g) fclose(g);
        free(fam);
        return ss_diag_set(d, SS_ERR_IO, fdat, 0, 0, NULL, "cannot write the plot data");
    }
    fprintf(g, "# the Pareto frontier, by x: x y point\n");
    for (size_t j = 0; j < f->n; j++) {
        const pointrow *p = &f->p[idx[j]];
        if (p->front) fprintf(g, "%.10g %.10g %zu\n", p->x * xs, p->y * ys, idx[j]);
    }
    bad = fclose(g) != 0;
    g = bad ? NULL : fopen(gp, "w");
    if (!g) {
        free(fam);
        return ss_diag_set(d, SS_ERR_IO, gp, 0, 0, NULL, "cannot write the gnuplot script");
    }
    fprintf(g, "# Pareto frontier of sweep '%s' (servesim pareto); run: gnuplot %s\n", f->study,
            gp);
    double ymin = INFINITY, ymax = 0;
    for (size_t i = 0; i < f->n; i++)
        if (!isnan(f->p[i].x) && f->p[i].y > 0 && !isinf(f->p[i].y)) {
            if (f->p[i].y < ymin) ymin = f->p[i].y;
            if (f->p[i].y > ymax) ymax = f->p[i].y;
        }
    bool ylog = ylog_ok && ymax > 100 * ymin;
    for (int t = 0; t < 2; t++) {
        const char *outp = t == 0 ? o->png : o->svg;
        if (!outp) continue;
        fprintf(g, "\nset terminal %s size 1000,680 font 'sans,11' noenhanced\nset output ",
                t == 0 ? "pngcairo" : "svg");
        gp_quote(g, outp);
        fprintf(g, "\nset title ");
        char title[512];
        snprintf(title, sizeof title, "Sweep '%s': %s against %s",
                 f->study, label_of(ym), label_of(xm));
        gp_quote(g, title);
        char lx[256], ly[256];
        snprintf(lx, sizeof lx, "%s (%s)", label_of(xm), xu);
        snprintf(ly, sizeof ly, "%s (%s)", label_of(ym), yu);
        fprintf(g, "\nset xlabel ");
        gp_quote(g, lx);
        fprintf(g, "\nset ylabel ");
        gp_quote(g, ly);
        fprintf(g, "\nset grid\nset key outside right top box width 2\nset xrange [0:*]\n");
        /* latencies of overloaded points run to minutes: a log axis keeps the rest readable */
        if (ylog) fprintf(g, "set logscale y\nset yrange [*:*]\nplot ");
        else fprintf(g, "set yrange [0:*]\nplot ");
        /* the frontier first, as a wide grey band, so that the family curves stay visible
         * on top of it; its points are then circled */
        gp_quote(g, fdat);
        fprintf(g, " using 1:2 with lines lw 8 lc rgb '#c0c0c0' title 'Pareto frontier', \\\n     ");
        for (size_t k = 0; k < nf; k++) {
            gp_quote(g, dat);
            fprintf(g, " index %zu using 1:2 with linespoints lc %zu pt 7 ps 0.8 title ", k,
                    k + 1);
            gp_quote(g, fam[k]);
            fprintf(g, ", \\\n     ");
        }
        gp_quote(g, fdat);
        fprintf(g, " using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'on the frontier'\n"
                   "unset output\n");
    }
    bad = fclose(g) != 0;
    free(fam);
    if (bad) return ss_diag_set(d, SS_ERR_IO, gp, 0, 0, NULL, "cannot write the gnuplot script");
    size_t n = strlen(gp) + 1;
    if (!(*script_out = malloc(n))) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    memcpy(*script_out, gp, n);
    return SS_OK;
}

ss_rc ss_frontier_report(const char *db_path, const ss_frontier_opts *o, FILE *out,
                         char **script_out, ss_diag *d)
{
    *script_out = NULL;
    frontier f = {.path = db_path};
    const char *xm = ss_frontier_metric_alias(o->x ? o->x : "throughput_per_gpu");
    const char *ym = ss_frontier_metric_alias(o->y ? o->y : "tokens_per_s_per_user");
    char xu[64] = "", yu[64] = "";
    int xb = 0, yb = 0;
    ss_rc rc;
    bool *front = NULL;
    size_t *idx = NULL;
    double *x = NULL, *y = NULL;
    if (sqlite3_open_v2(db_path, &f.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = db_err(&f, d, "cannot open the sweep database");
        goto done;
    }
#define FIELD(m) offsetof(pointrow, m)
    if ((rc = read_points(&f, d)) ||
        (rc = read_metric(&f, xm, FIELD(x), xu, sizeof xu, &xb, d)) ||
        (rc = read_metric(&f, ym, FIELD(y), yu, sizeof yu, &yb, d)) ||
        (rc = read_metric(&f, "throughput.requests_per_s", FIELD(qps), NULL, 0, NULL, d)) ||
        (rc = read_metric(&f, "ttft_s.p50", FIELD(ttft50), NULL, 0, NULL, d)) ||
        (rc = read_metric(&f, "ttft_s.p99", FIELD(ttft99), NULL, 0, NULL, d)) ||
        (rc = read_metric(&f, "tpot_s.p50", FIELD(tpot50), NULL, 0, NULL, d)) ||
        (rc = read_metric(&f, "throughput.output_tokens_per_s", FIELD(tput), NULL, 0, NULL,
                          d)) ||
        (rc = read_metric(&f, "throughput.output_tokens_per_s_per_gpu", FIELD(tgpu), NULL, 0,
                          NULL, d)) ||
        (rc = read_metric(&f, "interactivity.tokens_per_s_per_user", FIELD(tuser), NULL, 0,
                          NULL, d)))
        goto done;
#undef FIELD
    if (xb < 0) {
        rc = ss_diag_fail(d, SS_ERR_INVALID, "--x %s: the x axis is maximised, and lower %s is "
                          "better; choose a throughput-like metric for x", xm, xm);
        goto done;
    }
    int yb_use = o->y_better ? o->y_better : yb;
    if (!yb_use) {
        rc = ss_diag_fail(d, SS_ERR_INVALID, "--y %s: neither higher nor lower is better for "
                          "this metric; say which with --y-max or --y-min", ym);
        goto done;
    }
    front = calloc(f.n, sizeof *front);
    idx = calloc(f.n, sizeof *idx);
    x = calloc(f.n, sizeof *x);
    y = calloc(f.n, sizeof *y);
    if (!front || !idx || !x || !y) {
        rc = ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < f.n; i++) {
        x[i] = f.p[i].x;
        y[i] = f.p[i].y;
        idx[i] = i;
    }
    size_t nfront = 0;
    if ((rc = ss_pareto(x, y, f.n, yb_use > 0, front, &nfront, d))) goto done;
    for (size_t i = 0; i < f.n; i++) f.p[i].front = front[i];
    if ((rc = sort_by_x(idx, &f, d))) goto done;
    fprintf(out, "Pareto frontier of sweep '%s': %zu of %zu points (means over replications)\n",
            f.study, nfront, f.n);
    fprintf(out, "  x = %s (%s), higher is better\n  y = %s (%s), %s is better\n\n", xm, xu,
            ym, yu, yb_use > 0 ? "higher" : "lower");
    print_table(&f, idx, f.n, o->all, xm, ym, out);
    /* issue 5: the full caveat of every calibration status the table shows */
    for (size_t i = 0; i < f.n; i++) {
        const char *c = f.p[idx[i]].calibration;
        bool shown = !c[0] || (!o->all && !f.p[idx[i]].front);
        for (size_t j = 0; j < i && !shown; j++)
            shown = (o->all || f.p[idx[j]].front) && !strcmp(f.p[idx[j]].calibration, c);
        if (!shown) fprintf(out, "  cost model: %s\n", c);
    }
    if (o->png || o->svg) {
        double xs = !strcmp(xu, "s") ? 1e3 : 1, ys = !strcmp(yu, "s") ? 1e3 : 1;
        /* a log y axis for latencies that span more than two decades */
        rc = write_plot(&f, idx, o, xm, xs > 1 ? "ms" : xu, ym, ys > 1 ? "ms" : yu, xs, ys,
                        ys > 1, script_out, d);
    }
done:
    free(front);
    free(idx);
    free(x);
    free(y);
    frontier_free(&f);
    return rc;
}
