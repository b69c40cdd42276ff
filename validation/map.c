/* A measured run -> the scenario that replays it (validation.h). The scenario is produced as
 * YAML text and loaded by the caller through the normal loader, so every check of a
 * scenario file applies to it, and `--set` overrides work on it as on a file. */
#include "validation/validation.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hwprofiles/hw.h"
#include "models/model.h"

/* ================================================================== text buffer */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + (size_t)k + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
}

/* A YAML double-quoted scalar. */
static void sb_quoted(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sb_printf(b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) sb_printf(b, "\\x%02x", (unsigned char)*s);
        else sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\"");
}

/* ================================================================== names */

int ss_val_model_name(const char *hf_name, char *out, size_t n)
{
    static const char host[] = "huggingface.co/";
    size_t len = strlen(hf_name);
    for (const ss_embedded_file *f = ss_model_zoo; f->name; f++) {
        if (!strcasecmp(f->name, hf_name)) {
            snprintf(out, n, "%s", f->name);
            return 0;
        }
        ss_model m;
        ss_diag d;
        ss_diag_clear(&d);
        if (ss_model_load(f->name, ".", &m, &d)) continue;
        const char *h = strstr(m.source, host);
        if (!h) continue;
        h += sizeof host - 1;
        if (!strncasecmp(h, hf_name, len) && (h[len] == '/' || h[len] == '\0')) {
            snprintf(out, n, "%s", f->name);
            return 0;
        }
    }
    return -1;
}

/* vLLM dtype spellings -> servesim's; NULL if not a dtype servesim knows. */
static const char *map_dtype(const char *v, int kv)
{
    static const struct {
        const char *vllm, *ss;
    } tab[] = {{"auto", "auto"},      {"bfloat16", "bf16"}, {"bf16", "bf16"},
               {"float16", "fp16"},   {"half", "fp16"},     {"fp16", "fp16"},
               {"float32", "fp32"},   {"float", "fp32"},    {"fp32", "fp32"},
               {"torch.bfloat16", "bf16"}, {"torch.float16", "fp16"},
               {"torch.float32", "fp32"}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcasecmp(v, tab[i].vllm)) return tab[i].ss;
    if (kv && (!strcasecmp(v, "fp8") || !strcasecmp(v, "fp8_e4m3") || !strcasecmp(v, "fp8_e5m2")))
        return "fp8";
    return NULL;
}

static void note(ss_val_notes *nt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(ss_val_notes *nt, const char *fmt, ...)
{
    if (nt->n >= SS_VAL_MAX_NOTES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nt->text[nt->n++], sizeof nt->text[0], fmt, ap);
    va_end(ap);
}

/* ================================================================== the scenario */

ss_rc ss_val_scenario_yaml(const ss_val_run *run, const ss_val_opts *o, char **yaml,
                           ss_val_notes *notes, ss_diag *d)
{
    *yaml = NULL;
    memset(notes, 0, sizeof *notes);
    const ss_val_engine *e = &run->eng;
    const char *mp = run->meta_path;

    /* Refusals: what the engine cannot simulate at all. */
    if (e->pp > 1)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_pp.line, 0, e->at_pp.key,
                           "the run used pipeline parallelism (pp = %d); servesim simulates "
                           "tp only, so it cannot replay this run", e->pp);
    if (e->dp > 1)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_dp.line, 0, e->at_dp.key,
                           "the run used data parallelism (dp = %d); servesim simulates one "
                           "engine instance, so it cannot replay this run", e->dp);
    if (e->expert_parallel)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_ep.line, 0, e->at_ep.key,
                           "the run used expert parallelism; servesim does not simulate it "
                           "yet, so it cannot replay this run");
    if (e->speculative)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_spec.line, 0, e->at_spec.key,
                           "the run used speculative decoding, which servesim does not "
                           "simulate");
    if (e->lora)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_lora.line, 0, e->at_lora.key,
                           "the run served LoRA adapters, which servesim does not simulate");
    if (e->quantized)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_quant.line, 0, e->at_quant.key,
                           "the run used a quantized model, which servesim does not simulate "
                           "(only the weight_dtype of a dense checkpoint)");
    if (e->chunked_prefill == 0)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_chunked.line, 0, e->at_chunked.key,
                           "chunked prefill was off; servesim's vllm_v1 scheduler always "
                           "chunks, as vLLM's v1 engine does by default");
    if (strcmp(e->policy, "fcfs"))
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_policy.line, 0, e->at_policy.key,
                           "scheduling policy '%s': requests.jsonl carries no priorities, so "
                           "only fcfs can be replayed", e->policy);
    char model[64];
    if (ss_val_model_name(e->model, model, sizeof model))
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_model.line, 0, e->at_model.key,
                           "no built-in model matches '%s' (built-ins are matched by name or "
                           "by the Hugging Face repository in their `source`; `servesim list "
                           "models`)", e->model);
    const char *wdt = map_dtype(e->dtype, 0), *kdt = map_dtype(e->kv_cache_dtype, 1);
    if (!wdt)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_dtype.line, 0, e->at_dtype.key,
                           "dtype '%s' has no servesim equivalent", e->dtype);
    if (!kdt)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_kv_dtype.line, 0, e->at_kv_dtype.key,
                           "kv_cache_dtype '%s' has no servesim equivalent", e->kv_cache_dtype);
    const char *gpu = ss_hw_canonical(e->device_name);
    if (!o->hw && !gpu)
        return ss_diag_set(d, SS_ERR_UNSUPPORTED, mp, e->at_device.line, 0, e->at_device.key,
                           "no hardware profile for GPU '%s' in the alias table "
                           "(hwprofiles/data/aliases.yaml); name one with --hw NAME|FILE",
                           e->device_name);

    /* Caveats: settings that change the measurement and that servesim does not model. */
    if (e->prefix_caching)
        note(notes, "prefix caching was on in the run; servesim does not model it yet. A "
                    "request whose leading blocks were already cached skips their prefill and "
                    "shares them: where prompts shared prefixes, and when a preempted request "
                    "came back while its freed blocks were still cached, the real engine did "
                    "less prefill work than simulated (servesim recomputes a preempted "
                    "request in full). The run records no hit rate, so the size of the "
                    "effect is unknown");
    if (e->async_scheduling == 1)
        note(notes, "async scheduling was on (the CPU schedules step n+1 while the GPU runs "
                    "step n); servesim does not model that overlap: whatever host time per "
                    "iteration the cost model charges (the roofline's iteration_overhead) is "
                    "added in series");
    if (e->enforce_eager == 0)
        note(notes, "CUDA graphs were on (enforce_eager false%s%s); the cost model does not "
                    "distinguish graph-captured from eager iterations",
             e->cudagraph_mode[0] ? ", cudagraph_mode " : "", e->cudagraph_mode);
    else if (e->enforce_eager == 1)
        note(notes, "eager mode (no CUDA graphs); the cost model does not add kernel-launch "
                    "overheads for it");
    if (e->unmodelled[0])
        note(notes, "engine arguments not modelled: %s", e->unmodelled);
    if (o->hw)
        note(notes, "hardware profile chosen with --hw: %s (the run's GPU: %s%s%s)", o->hw,
             e->device_name, gpu ? ", profile " : ", no profile", gpu ? gpu : "");
    if (e->device_count > e->tp * e->pp * e->dp)
        note(notes, "the machine had %d GPUs and the engine used %d; only those are simulated",
             e->device_count, e->tp * e->pp * e->dp);
    if (e->engine_version[0] && strncmp(e->engine_version, "0.19", 4))
        note(notes, "the run used vLLM %s; servesim's vllm_v1 scheduler follows vLLM 0.19",
             e->engine_version);
    note(notes, "KV capacity taken from the run: %lld blocks of %d tokens (not derived from "
                "memory)", (long long)e->num_gpu_blocks, e->block_size);
    if (!e->have_started)
        note(notes, "meta.json has no started_at: the timeline assumes timeseries t = 0 at "
                    "the first queued request");
    note(notes, "ITL is not in the data and is not compared");

    sbuf b = {0};
    sb_printf(&b, "# Generated by `servesim validate e2e` from a measured run\n");
    sb_printf(&b, "schema_version: 1\nname: ");
    sb_quoted(&b, "validate-e2e");
    sb_printf(&b, "\ndescription: ");
    char desc[1200];
    snprintf(desc, sizeof desc, "replay of the measured run %s", run->dir);
    sb_quoted(&b, desc);
    sb_printf(&b, "\nseed: 1\nmodel: %s\ncluster:\n  pools:\n    - hardware: ", model);
    sb_quoted(&b, o->hw ? o->hw : gpu);
    sb_printf(&b, "\n      parallelism: {tp: %d, pp: 1, ep: 1, dp: 1}\n", e->tp);
    sb_printf(&b, "replica:\n  scheduler: vllm_v1\n");
    if (o->cost_model) {
        sb_printf(&b, "  cost_model: ");
        sb_quoted(&b, o->cost_model);
        sb_printf(&b, "\n");
    }
    sb_printf(&b,
              "  max_num_seqs: %d\n  max_num_batched_tokens: %lld\n  max_model_len: %lld\n"
              "  block_size: %d\n  num_gpu_blocks: %lld\n  gpu_memory_utilization: %.17g\n"
              "  weight_dtype: %s\n  kv_dtype: %s\n  priority: fcfs\n",
              e->max_num_seqs, (long long)e->max_num_batched_tokens,
              (long long)e->max_model_len, e->block_size, (long long)e->num_gpu_blocks,
              e->gpu_memory_utilization, wdt, kdt);
    if (e->long_prefill_token_threshold > 0)
        sb_printf(&b, "  long_prefill_token_threshold: %lld\n",
                  (long long)e->long_prefill_token_threshold);
    sb_printf(&b, "workload:\n  requests:\n");
    for (size_t i = 0; i < run->nreq; i++) {
        const ss_val_request *r = &run->req[i];
        /* integer ns: the explicit list is exact and time never decreases */
        long long at = llround((r->queued_ts - run->q0) * 1e9);
        char id[sizeof r->id];
        for (size_t k = 0; k < sizeof id; k++) /* a comment ends at a line break */
            id[k] = r->id[k] && (unsigned char)r->id[k] < 0x20 ? '?' : r->id[k];
        sb_printf(&b, "    - {at: %lldns, prompt_tokens: %lld, output_tokens: %lld}  # %s\n",
                  at, (long long)r->input_toks, (long long)r->output_toks, id);
    }
    ss_time_ns dt = o->sample_interval > 0 ? o->sample_interval : 10000000LL /* 10 ms */;
    sb_printf(&b, "output:\n  kv_sample_interval: %lldns\n", (long long)dt);
    if (b.oom) {
        free(b.p);
        return ss_diag_fail(d, SS_ERR_NOMEM, "out of memory building the scenario");
    }
    *yaml = b.p;
    return SS_OK;
}

void ss_val_note_profile(const ss_val_run *run, const char *profile, ss_val_notes *notes)
{
    const char *gpu = ss_hw_canonical(run->eng.device_name);
    if (!gpu || strcmp(gpu, profile))
        note(notes, "the simulated profile %s is not the built-in profile of the run's GPU "
                    "(%s: %s); the comparison validates it only if it describes that GPU",
             profile, run->eng.device_name, gpu ? gpu : "none");
}
