/* Reader of a measured run directory (validation.h): meta.json, requests.jsonl and
 * timeseries.csv, each checked field by field. cJSON gives no positions, so an error in
 * meta.json is placed at the first line where its key path occurs in the text (parent keys
 * first, then the key after them); requests.jsonl and timeseries.csv are read line by line
 * and errors name the exact line. */
#include "validation/validation.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXACT_MAX 9007199254740991.0 /* 2^53 - 1 */

/* ================================================================== files */

static ss_rc read_text(const char *path, char **out, ss_diag *d)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: %s",
                           strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: not a regular file");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "cannot open file: %s",
                           strerror(errno));
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return ss_diag_set(d, SS_ERR_NOMEM, path, 0, 0, NULL, "out of memory");
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return ss_diag_set(d, SS_ERR_NOMEM, path, 0, 0, NULL, "out of memory");
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return ss_diag_set(d, SS_ERR_IO, path, 0, 0, NULL, "read error");
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        return ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL, "contains a NUL byte");
    }
    *out = buf;
    return SS_OK;
}

/* ================================================================== meta.json */

typedef struct meta_ctx {
    const char *path, *text;
    ss_diag *d;
} meta_ctx;

/* Line of key path "a.b.c" in the text: "a" is searched from the start, "b" after it, ...;
 * a missing part gives the line of the deepest part found (1 if none). */
static int key_line(const char *text, const char *keypath)
{
    const char *from = text, *at = text;
    char part[128];
    for (const char *k = keypath; *k;) {
        const char *dot = strchr(k, '.');
        size_t len = dot ? (size_t)(dot - k) : strlen(k);
        if (len + 3 > sizeof part) break;
        part[0] = '"';
        memcpy(part + 1, k, len);
        part[len + 1] = '"';
        part[len + 2] = '\0';
        const char *hit = strstr(from, part);
        if (!hit) break;
        at = hit;
        from = hit + len + 2;
        k = dot ? dot + 1 : k + len;
    }
    int line = 1;
    for (const char *q = text; q < at; q++)
        if (*q == '\n') line++;
    return line;
}

static ss_rc meta_err(meta_ctx *m, ss_rc rc, const char *keypath, const char *fmt, const char *a)
{
    return ss_diag_set(m->d, rc, m->path, key_line(m->text, keypath), 0, keypath, fmt, a);
}

static const char *type_name(const cJSON *v)
{
    if (!v) return "nothing";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "a number";
}

/* The value at key path ("a.b") or NULL. */
static const cJSON *get_path(const cJSON *root, const char *keypath)
{
    const cJSON *v = root;
    char part[128];
    for (const char *k = keypath; *k && v;) {
        const char *dot = strchr(k, '.');
        size_t len = dot ? (size_t)(dot - k) : strlen(k);
        if (len >= sizeof part) return NULL;
        memcpy(part, k, len);
        part[len] = '\0';
        v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, part) : NULL;
        k = dot ? dot + 1 : k + len;
    }
    return v;
}

/* First of the key paths present (not null); *which = its path. */
static const cJSON *get_first(const cJSON *root, const char *const *paths, const char **which)
{
    for (; *paths; paths++) {
        const cJSON *v = get_path(root, *paths);
        if (v && !cJSON_IsNull(v)) {
            *which = *paths;
            return v;
        }
    }
    return NULL;
}

/* Integer in [lo, hi] from the first present path; `required` = 0 keeps *out (default). */
static ss_rc meta_int(meta_ctx *m, const cJSON *root, const char *const *paths, int64_t lo,
                      int64_t hi, int required, int64_t *out, ss_val_where *at)
{
    const char *which = paths[0];
    const cJSON *v = get_first(root, paths, &which);
    if (!v) {
        if (required) return meta_err(m, SS_ERR_INVALID, paths[0], "%smissing required key", "");
        return SS_OK;
    }
    char msg[200];
    if (!cJSON_IsNumber(v)) {
        snprintf(msg, sizeof msg, "expected an integer, got %s", type_name(v));
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    double x = v->valuedouble;
    if (x != floor(x) || fabs(x) > EXACT_MAX) {
        snprintf(msg, sizeof msg, "expected an integer, got %.17g", x);
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    if (x < (double)lo || x > (double)hi) {
        snprintf(msg, sizeof msg, "%.17g is out of range [%lld, %lld]", x, (long long)lo,
                 (long long)hi);
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    *out = (int64_t)x;
    if (at) *at = (ss_val_where){key_line(m->text, which), which};
    return SS_OK;
}

static ss_rc meta_num(meta_ctx *m, const cJSON *root, const char *const *paths, double lo,
                      double hi, double *out)
{
    const char *which = paths[0];
    const cJSON *v = get_first(root, paths, &which);
    if (!v) return SS_OK;
    char msg[200];
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        if (cJSON_IsNumber(v))
            snprintf(msg, sizeof msg, "%.17g is out of range [%g, %g]", v->valuedouble, lo, hi);
        else
            snprintf(msg, sizeof msg, "expected a number, got %s", type_name(v));
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    *out = v->valuedouble;
    return SS_OK;
}

static ss_rc meta_bool(meta_ctx *m, const cJSON *root, const char *const *paths, int *out,
                       ss_val_where *at)
{
    const char *which = paths[0];
    const cJSON *v = get_first(root, paths, &which);
    if (!v) return SS_OK;
    if (!cJSON_IsBool(v)) {
        char msg[120];
        snprintf(msg, sizeof msg, "expected true or false, got %s", type_name(v));
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    if (at) *at = (ss_val_where){key_line(m->text, which), which};
    return SS_OK;
}

static ss_rc meta_str(meta_ctx *m, const cJSON *root, const char *const *paths, int required,
                      char *out, size_t n, ss_val_where *at)
{
    const char *which = paths[0];
    const cJSON *v = get_first(root, paths, &which);
    if (!v) {
        if (required) return meta_err(m, SS_ERR_INVALID, paths[0], "%smissing required key", "");
        return SS_OK;
    }
    char msg[120];
    if (!cJSON_IsString(v)) {
        snprintf(msg, sizeof msg, "expected a string, got %s", type_name(v));
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    if (strlen(v->valuestring) >= n || !v->valuestring[0]) {
        snprintf(msg, sizeof msg, "expected a non-empty string of at most %zu characters", n - 1);
        return meta_err(m, SS_ERR_INVALID, which, "%s", msg);
    }
    snprintf(out, n, "%s", v->valuestring);
    if (at) *at = (ss_val_where){key_line(m->text, which), which};
    return SS_OK;
}

/* Present and not null (a configured feature such as speculative decoding). */
static bool present(const cJSON *root, const char *path, ss_val_where *at, const char *text)
{
    const cJSON *v = get_path(root, path);
    if (!v || cJSON_IsNull(v)) return false;
    *at = (ss_val_where){key_line(text, path), path};
    return true;
}

static int days_from_civil(int y, int mth, int day)
{
    /* H. Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date. */
    y -= mth <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mth + (mth > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int ss_val_parse_utc(const char *s, double *unix_s)
{
    int y, mo, da, h, mi, se, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &da, &h, &mi, &se, &used) != 6 ||
        used != 19)
        return -1;
    if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || se > 60 || h < 0 ||
        mi < 0 || se < 0)
        return -1;
    const char *p = s + used;
    double frac = 0;
    if (*p == '.') {
        double scale = 0.1;
        p++;
        if (*p < '0' || *p > '9') return -1;
        while (*p >= '0' && *p <= '9') {
            frac += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    if (strcmp(p, "Z") && strcmp(p, "+00:00")) return -1;
    *unix_s = (double)days_from_civil(y, mo, da) * 86400.0 + h * 3600.0 + mi * 60.0 + se + frac;
    return 0;
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})

/* engine_kwargs keys that map to a scenario value or are checked below. */
static const char *const kwargs_known[] = {
    "model", "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size",
    "enable_expert_parallel", "max_num_seqs", "max_num_batched_tokens", "max_model_len",
    "dtype", "kv_cache_dtype", "block_size", "gpu_memory_utilization", "enable_prefix_caching",
    "enforce_eager", "enable_chunked_prefill", "num_gpu_blocks_override", NULL};
/* ... and keys that change nothing servesim simulates (with the lengths given). */
static const char *const kwargs_inert[] = {"seed", "tokenizer", "served_model_name", "revision",
                                           "trust_remote_code", "download_dir", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return true;
    return false;
}

static ss_rc read_meta(ss_val_run *run, ss_diag *d)
{
    char *text;
    ss_rc rc = read_text(run->meta_path, &text, d);
    if (rc) return rc;
    meta_ctx m = {.path = run->meta_path, .text = text, .d = d};
    const char *at = NULL; /* where parsing stopped (per call: no cJSON global state) */
    cJSON *root = cJSON_ParseWithOpts(text, &at, 1);
    if (!root) {
        /* cJSON points at the offending byte: turn it into a line. */
        int line = 1;
        if (at)
            for (const char *q = text; q < at && *q; q++)
                if (*q == '\n') line++;
        free(text);
        return ss_diag_set(d, SS_ERR_INVALID, run->meta_path, line, 0, NULL,
                           "not valid JSON near here");
    }
    ss_val_engine *e = &run->eng;
    int64_t v;
    int b;
    e->tp = e->pp = e->dp = 1;
    e->device_count = 1;
    e->gpu_memory_utilization = 0.9;
    snprintf(e->dtype, sizeof e->dtype, "auto");
    snprintf(e->kv_cache_dtype, sizeof e->kv_cache_dtype, "auto");
    snprintf(e->policy, sizeof e->policy, "fcfs");
    e->async_scheduling = e->chunked_prefill = e->enforce_eager = -1;
    if (!cJSON_IsObject(root)) {
        rc = ss_diag_set(d, SS_ERR_INVALID, run->meta_path, 1, 0, NULL,
                         "expected a JSON object at the top");
        goto out;
    }
    const cJSON *sv = get_path(root, "schema_version");
    if (sv && (!cJSON_IsNumber(sv) || sv->valuedouble != 1)) {
        rc = meta_err(&m, SS_ERR_UNSUPPORTED, "schema_version", "%sunsupported version (this "
                      "servesim reads version 1)", "");
        goto out;
    }
    const cJSON *kw = get_path(root, "engine_kwargs");
    if (!cJSON_IsObject(kw)) {
        rc = meta_err(&m, SS_ERR_INVALID, "engine_kwargs", "expected an object of engine "
                      "arguments, got %s", type_name(kw));
        goto out;
    }
    if ((rc = meta_str(&m, root, P("engine_kwargs.model", "model"), 1, e->model,
                       sizeof e->model, &e->at_model)) ||
        (rc = meta_str(&m, root, P("vllm_version"), 0, e->engine_version,
                       sizeof e->engine_version, NULL)) ||
        (rc = meta_str(&m, root, P("hardware.device_name"), 1, e->device_name,
                       sizeof e->device_name, &e->at_device)))
        goto out;
    v = 1;
    if ((rc = meta_int(&m, root, P("hardware.device_count"), 1, 1 << 20, 0, &v, NULL))) goto out;
    e->device_count = (int)v;
    v = 1;
    if ((rc = meta_int(&m, root, P("engine_kwargs.tensor_parallel_size",
                                   "resolved_config.parallel_config.tensor_parallel_size"),
                       1, 1024, 0, &v, &e->at_tp)))
        goto out;
    e->tp = (int)v;
    v = 1;
    if ((rc = meta_int(&m, root, P("engine_kwargs.pipeline_parallel_size",
                                   "resolved_config.parallel_config.pipeline_parallel_size"),
                       1, 1024, 0, &v, &e->at_pp)))
        goto out;
    e->pp = (int)v;
    v = 1;
    if ((rc = meta_int(&m, root, P("engine_kwargs.data_parallel_size",
                                   "resolved_config.parallel_config.data_parallel_size"),
                       1, 1024, 0, &v, &e->at_dp)))
        goto out;
    e->dp = (int)v;
    b = 0;
    if ((rc = meta_bool(&m, root, P("engine_kwargs.enable_expert_parallel",
                                    "resolved_config.parallel_config.enable_expert_parallel"),
                        &b, &e->at_ep)))
        goto out;
    e->expert_parallel = b;
    if ((rc = meta_int(&m, root, P("engine_kwargs.max_num_seqs",
                                   "resolved_config.scheduler_config.max_num_seqs"),
                       1, 1 << 20, 1, &v, NULL)))
        goto out;
    e->max_num_seqs = (int)v;
    if ((rc = meta_int(&m, root, P("engine_kwargs.max_num_batched_tokens",
                                   "resolved_config.scheduler_config.max_num_batched_tokens"),
                       1, 1000000000, 1, &e->max_num_batched_tokens, NULL)) ||
        (rc = meta_int(&m, root, P("engine_kwargs.max_model_len",
                                   "resolved_config.model_config.max_model_len"),
                       1, 1000000000, 1, &e->max_model_len, NULL)) ||
        (rc = meta_int(&m, root, P("kv_cache.num_gpu_blocks",
                                   "resolved_config.cache_config.num_gpu_blocks"),
                       1, 1000000000000LL, 1, &e->num_gpu_blocks, NULL)))
        goto out;
    if ((rc = meta_int(&m, root, P("kv_cache.block_size", "engine_kwargs.block_size",
                                   "resolved_config.cache_config.block_size"),
                       1, 65536, 1, &v, NULL)))
        goto out;
    e->block_size = (int)v;
    if ((rc = meta_num(&m, root, P("kv_cache.gpu_memory_utilization",
                                   "engine_kwargs.gpu_memory_utilization"),
                       1e-9, 1, &e->gpu_memory_utilization)))
        goto out;
    b = 0;
    if ((rc = meta_bool(&m, root, P("kv_cache.enable_prefix_caching",
                                    "engine_kwargs.enable_prefix_caching",
                                    "resolved_config.cache_config.enable_prefix_caching"),
                        &b, NULL)))
        goto out;
    e->prefix_caching = b;
    if ((rc = meta_str(&m, root, P("engine_kwargs.dtype"), 0, e->dtype, sizeof e->dtype,
                       &e->at_dtype)) ||
        (rc = meta_str(&m, root, P("engine_kwargs.kv_cache_dtype",
                                   "resolved_config.cache_config.cache_dtype"),
                       0, e->kv_cache_dtype, sizeof e->kv_cache_dtype, &e->at_kv_dtype)) ||
        (rc = meta_str(&m, root, P("resolved_config.scheduler_config.policy"), 0, e->policy,
                       sizeof e->policy, &e->at_policy)))
        goto out;
    if ((rc = meta_bool(&m, root, P("resolved_config.scheduler_config.async_scheduling"),
                        &e->async_scheduling, NULL)) ||
        (rc = meta_bool(&m, root, P("engine_kwargs.enable_chunked_prefill",
                                    "resolved_config.scheduler_config.enable_chunked_prefill"),
                        &e->chunked_prefill, &e->at_chunked)) ||
        (rc = meta_bool(&m, root, P("engine_kwargs.enforce_eager",
                                    "resolved_config.model_config.enforce_eager"),
                        &e->enforce_eager, NULL)))
        goto out;
    if ((rc = meta_int(&m, root,
                       P("resolved_config.scheduler_config.long_prefill_token_threshold"), 0,
                       1000000000, 0, &e->long_prefill_token_threshold, NULL)))
        goto out;
    const cJSON *cg = get_path(root, "resolved_config.compilation_config.cudagraph_mode");
    if (cg && !cJSON_IsNull(cg)) {
        char *s = cJSON_PrintUnformatted(cg);
        if (s) snprintf(e->cudagraph_mode, sizeof e->cudagraph_mode, "%s", s);
        free(s);
    }
    e->speculative = present(root, "resolved_config.speculative_config", &e->at_spec, text) ||
                     present(root, "engine_kwargs.speculative_config", &e->at_spec, text);
    e->lora = present(root, "resolved_config.lora_config", &e->at_lora, text) ||
              present(root, "engine_kwargs.enable_lora", &e->at_lora, text);
    if (e->lora) { /* enable_lora: false is not LoRA */
        const cJSON *el = get_path(root, "engine_kwargs.enable_lora");
        if (el && cJSON_IsFalse(el) && !present(root, "resolved_config.lora_config",
                                                &e->at_lora, text))
            e->lora = false;
    }
    e->quantized = present(root, "resolved_config.model_config.quantization", &e->at_quant,
                           text) ||
                   present(root, "engine_kwargs.quantization", &e->at_quant, text);
    const cJSON *st = get_path(root, "started_at");
    if (st && !cJSON_IsNull(st)) {
        if (!cJSON_IsString(st) || ss_val_parse_utc(st->valuestring, &e->started_unix)) {
            rc = meta_err(&m, SS_ERR_INVALID, "started_at", "%sexpected an ISO 8601 UTC time "
                          "such as 2026-08-20T23:19:39.992496Z", "");
            goto out;
        }
        e->have_started = true;
    }
    /* engine arguments that servesim neither maps nor can ignore safely: listed */
    for (const cJSON *it = kw->child; it; it = it->next) {
        if (in_list(kwargs_known, it->string) || in_list(kwargs_inert, it->string)) continue;
        char *val = cJSON_PrintUnformatted(it);
        size_t len = strlen(e->unmodelled);
        snprintf(e->unmodelled + len, sizeof e->unmodelled - len, "%s%s=%s", len ? ", " : "",
                 it->string, val ? val : "?");
        free(val);
    }
out:
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* ================================================================== requests.jsonl */

enum { R_ID, R_IN, R_OUT, R_ARR, R_QUEUED, R_SCHED, R_FIRST, R_LAST, R_COUNT };
static const char *const rkeys[R_COUNT] = {"request_id",   "input_toks",     "output_toks",
                                           "arrival_time", "queued_ts",      "scheduled_ts",
                                           "first_token_ts", "last_token_ts"};

static ss_rc parse_request(const char *path, int line, const char *text, ss_val_request *r,
                           ss_diag *d)
{
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithOpts(text, &end, 1); /* nothing may follow the object */
    if (!o)
        return ss_diag_set(d, SS_ERR_INVALID, path, line, 0, NULL,
                           "not a valid JSON object (at column %d)",
                           end ? (int)(end - text) + 1 : 1);
    ss_rc rc = SS_OK;
    if (!cJSON_IsObject(o)) {
        rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, NULL, "expected a JSON object, got %s",
                         type_name(o));
        goto out;
    }
    const cJSON *val[R_COUNT] = {0};
    for (const cJSON *it = o->child; it; it = it->next) {
        int k = 0;
        while (k < R_COUNT && strcmp(it->string, rkeys[k])) k++;
        if (k == R_COUNT) {
            rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, it->string,
                             "unknown key (expected: request_id, input_toks, output_toks, "
                             "arrival_time, queued_ts, scheduled_ts, first_token_ts, "
                             "last_token_ts)");
            goto out;
        }
        if (val[k]) {
            rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, it->string, "repeated key");
            goto out;
        }
        val[k] = it;
    }
    for (int k = 0; k < R_COUNT; k++)
        if (!val[k]) {
            rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, rkeys[k], "missing key");
            goto out;
        }
    if (!cJSON_IsString(val[R_ID]) || !val[R_ID]->valuestring[0] ||
        strlen(val[R_ID]->valuestring) >= sizeof r->id) {
        rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, rkeys[R_ID],
                         "expected a non-empty string of at most %zu characters, got %s",
                         sizeof r->id - 1,
                         cJSON_IsString(val[R_ID])
                             ? (val[R_ID]->valuestring[0] ? "a longer one" : "an empty one")
                             : type_name(val[R_ID]));
        goto out;
    }
    snprintf(r->id, sizeof r->id, "%s", val[R_ID]->valuestring);
    int64_t *tok[2] = {&r->input_toks, &r->output_toks};
    for (int k = R_IN; k <= R_OUT; k++) {
        const cJSON *x = val[k];
        if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) ||
            x->valuedouble < 1 || x->valuedouble > 1e9) {
            if (cJSON_IsNumber(x))
                rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, rkeys[k],
                                 "expected a positive integer of at most 1e9, got %.17g",
                                 x->valuedouble);
            else
                rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, rkeys[k],
                                 "expected a positive integer, got %s", type_name(x));
            goto out;
        }
        *tok[k - R_IN] = (int64_t)x->valuedouble;
    }
    double *ts[5] = {&r->arrival_time, &r->queued_ts, &r->scheduled_ts, &r->first_token_ts,
                     &r->last_token_ts};
    for (int k = R_ARR; k <= R_LAST; k++) {
        const cJSON *x = val[k];
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble < 0) {
            rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, rkeys[k],
                             "expected a non-negative time in seconds, got %s",
                             cJSON_IsNumber(x) ? "a negative number" : type_name(x));
            goto out;
        }
        *ts[k - R_ARR] = x->valuedouble;
    }
    /* engine timestamps must follow the request's life */
    for (int k = R_SCHED; k <= R_LAST; k++)
        if (*ts[k - R_ARR] < *ts[k - R_ARR - 1]) {
            rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, rkeys[k],
                             "%.9f is before %s (%.9f)", *ts[k - R_ARR], rkeys[k - 1],
                             *ts[k - R_ARR - 1]);
            goto out;
        }
out:
    cJSON_Delete(o);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    const ss_val_request *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int cmp_queued(const void *a, const void *b)
{
    const ss_val_request *x = a, *y = b;
    if (x->queued_ts != y->queued_ts) return x->queued_ts < y->queued_ts ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static ss_rc read_requests(ss_val_run *run, ss_diag *d)
{
    char *text;
    ss_rc rc = read_text(run->requests_path, &text, d);
    if (rc) return rc;
    size_t cap = 0;
    int line = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        line++;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[--len] = '\0';
        if (len) {
            if (run->nreq == cap) {
                size_t nc = cap ? cap * 2 : 256;
                ss_val_request *nr = realloc(run->req, nc * sizeof *nr);
                if (!nr) {
                    rc = ss_diag_set(d, SS_ERR_NOMEM, run->requests_path, line, 0, NULL,
                                     "out of memory");
                    break;
                }
                run->req = nr;
                cap = nc;
            }
            ss_val_request *r = &run->req[run->nreq];
            memset(r, 0, sizeof *r);
            r->line = line;
            if ((rc = parse_request(run->requests_path, line, p, r, d))) break;
            run->nreq++;
        } else if (nl && nl[1]) {
            rc = ss_diag_set(d, SS_ERR_INVALID, run->requests_path, line, 0, NULL,
                             "empty line (one JSON object per line)");
            break;
        }
        if (!nl) break;
        p = nl + 1;
    }
    free(text);
    if (rc) return rc;
    if (!run->nreq)
        return ss_diag_set(d, SS_ERR_INVALID, run->requests_path, 0, 0, NULL, "no requests");
    /* request ids are unique: sort by (id, line), a repeat is then next to its first use */
    qsort(run->req, run->nreq, sizeof *run->req, cmp_id);
    for (size_t i = 1; i < run->nreq; i++)
        if (!strcmp(run->req[i].id, run->req[i - 1].id)) {
            /* report the first repeat in file order */
            size_t first = i;
            for (size_t j = i + 1; j < run->nreq; j++)
                if (!strcmp(run->req[j].id, run->req[j - 1].id) &&
                    run->req[j].line < run->req[first].line)
                    first = j;
            return ss_diag_set(d, SS_ERR_INVALID, run->requests_path, run->req[first].line, 0,
                               "request_id", "'%s' repeats line %d", run->req[first].id,
                               run->req[first - 1].line);
        }
    qsort(run->req, run->nreq, sizeof *run->req, cmp_queued);
    run->q0 = run->req[0].queued_ts;
    return SS_OK;
}

/* ================================================================== timeseries.csv */

enum { T_T, T_PROMPT, T_GEN, T_RUN, T_WAIT, T_KV, T_COUNT };
static const char *const tcols[T_COUNT] = {"t",       "prompt_throughput", "gen_throughput",
                                           "running", "waiting",           "kv_cache_pct"};

static ss_rc parse_tick(const char *path, int line, char *s, ss_val_tick *t, ss_diag *d)
{
    double v[T_COUNT];
    char *field = s;
    for (int k = 0; k < T_COUNT; k++) {
        char *comma = strchr(field, ',');
        if (k < T_COUNT - 1 && !comma)
            return ss_diag_set(d, SS_ERR_INVALID, path, line, 0, tcols[k + 1],
                               "missing field (expected %d comma-separated fields)", T_COUNT);
        if (k == T_COUNT - 1 && comma)
            return ss_diag_set(d, SS_ERR_INVALID, path, line, 0, NULL,
                               "more than %d fields", T_COUNT);
        if (comma) *comma = '\0';
        char *end;
        errno = 0;
        v[k] = strtod(field, &end);
        if (!field[0] || *end || errno || !isfinite(v[k]) || v[k] < 0)
            return ss_diag_set(d, SS_ERR_INVALID, path, line, 0, tcols[k],
                               "expected a non-negative number, got '%.40s'", field);
        if ((k == T_RUN || k == T_WAIT) && (v[k] != floor(v[k]) || v[k] > 1e9))
            return ss_diag_set(d, SS_ERR_INVALID, path, line, 0, tcols[k],
                               "expected a request count, got '%.40s'", field);
        if (k == T_KV && v[k] > 100)
            return ss_diag_set(d, SS_ERR_INVALID, path, line, 0, tcols[k],
                               "%g is not a percentage (0 to 100)", v[k]);
        field = comma ? comma + 1 : field;
    }
    t->line = line;
    t->t = v[T_T];
    t->prompt_throughput = v[T_PROMPT];
    t->gen_throughput = v[T_GEN];
    t->running = (int64_t)v[T_RUN];
    t->waiting = (int64_t)v[T_WAIT];
    t->kv_cache_pct = v[T_KV];
    return SS_OK;
}

static ss_rc read_timeseries(ss_val_run *run, ss_diag *d)
{
    char *text;
    const char *path = run->timeseries_path;
    ss_rc rc = read_text(path, &text, d);
    if (rc) return rc;
    size_t cap = 0;
    int line = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        line++;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[--len] = '\0';
        if (line == 1) {
            char want[128] = "";
            for (int k = 0; k < T_COUNT; k++) {
                strcat(want, k ? "," : "");
                strcat(want, tcols[k]);
            }
            if (strcmp(p, want)) {
                rc = ss_diag_set(d, SS_ERR_INVALID, path, 1, 0, NULL,
                                 "expected the header '%s'", want);
                break;
            }
        } else if (len) {
            if (run->ntick == cap) {
                size_t nc = cap ? cap * 2 : 256;
                ss_val_tick *nt = realloc(run->tick, nc * sizeof *nt);
                if (!nt) {
                    rc = ss_diag_set(d, SS_ERR_NOMEM, path, line, 0, NULL, "out of memory");
                    break;
                }
                run->tick = nt;
                cap = nc;
            }
            ss_val_tick *t = &run->tick[run->ntick];
            if ((rc = parse_tick(path, line, p, t, d))) break;
            if (run->ntick && t->t <= run->tick[run->ntick - 1].t) {
                rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, "t",
                                 "%g does not increase (previous row: %g)", t->t,
                                 run->tick[run->ntick - 1].t);
                break;
            }
            run->ntick++;
        } else if (nl && nl[1]) {
            rc = ss_diag_set(d, SS_ERR_INVALID, path, line, 0, NULL, "empty line");
            break;
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (!rc && line == 0) rc = ss_diag_set(d, SS_ERR_INVALID, path, 0, 0, NULL, "empty file");
    free(text);
    return rc;
}

/* ================================================================== the run */

ss_rc ss_val_run_read(const char *dir, ss_val_run **out, ss_diag *d)
{
    *out = NULL;
    if (strlen(dir) >= sizeof((ss_val_run *)0)->dir)
        return ss_diag_set(d, SS_ERR_INVALID, dir, 0, 0, NULL, "run directory name too long");
    struct stat st;
    if (stat(dir, &st) != 0)
        return ss_diag_set(d, SS_ERR_IO, dir, 0, 0, NULL, "cannot open run directory: %s",
                           strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ss_diag_set(d, SS_ERR_IO, dir, 0, 0, NULL, "not a directory (a run directory "
                           "holds meta.json, requests.jsonl and timeseries.csv)");
    ss_val_run *run = calloc(1, sizeof *run);
    if (!run) return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory");
    snprintf(run->dir, sizeof run->dir, "%s", dir);
    size_t n = strlen(dir);
    const char *sep = n && dir[n - 1] == '/' ? "" : "/";
    snprintf(run->meta_path, sizeof run->meta_path, "%s%smeta.json", dir, sep);
    snprintf(run->requests_path, sizeof run->requests_path, "%s%srequests.jsonl", dir, sep);
    snprintf(run->timeseries_path, sizeof run->timeseries_path, "%s%stimeseries.csv", dir, sep);
    ss_rc rc;
    if ((rc = read_meta(run, d)) || (rc = read_requests(run, d)) ||
        (rc = read_timeseries(run, d))) {
        ss_val_run_free(run);
        return rc;
    }
    if (run->eng.have_started) {
        double c = -INFINITY; /* wall - monotonic */
        for (size_t i = 0; i < run->nreq; i++) {
            double off = run->req[i].arrival_time - run->req[i].queued_ts;
            if (off > c) c = off;
        }
        run->tick_offset_s = run->eng.started_unix - c - run->q0;
    }
    *out = run;
    return SS_OK;
}

void ss_val_run_free(ss_val_run *r)
{
    if (!r) return;
    free(r->req);
    free(r->tick);
    free(r);
}
