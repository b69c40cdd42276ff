/* servesim-profile, the CUDA half: device set-up, and the timed GEMM, attention and
 * all-reduce loops. Implemented in device.cu, gemm.cu, attn.cu, attn_cudnn.cu and
 * allreduce.cu (compiled by
 * nvcc as CUDA C++), called from main.c (C) through this C interface.
 *
 * The header includes no project or CUDA header so that both compilers read it. Functions
 * return 0 on success; on failure they return -1 and write a one-line reason (naming the
 * CUDA/cuBLASLt/NCCL call and its error string) into err[SS_PROF_ERR_LEN]. Timing of one
 * point: `warmup` untimed calls, then `reps` calls each between two CUDA events on the
 * same stream (optionally after overwriting twice the L2 size, outside the events); the
 * per-call times in microseconds go to times_us[reps] and the caller takes the median. */
#ifndef SS_VALIDATION_PROFILER_PROF_CUDA_H
#define SS_VALIDATION_PROFILER_PROF_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SS_PROF_ERR_LEN 512

/* Element types the kernels take (not ss_dtype: this header stays free of project
 * headers). */
typedef enum ss_prof_elem { SS_PROF_E_BF16, SS_PROF_E_FP16, SS_PROF_E_FP8 } ss_prof_elem;

typedef struct ss_prof_devinfo {
    char name[256];
    int cc_major, cc_minor;
    int sms;
    int l2_bytes;
    int runtime_version;  /* cudaRuntimeGetVersion: 13000 = 13.0 */
    int driver_version;   /* cudaDriverGetVersion */
    size_t cublaslt_version; /* cublasLtGetVersion */
    int device_count;
} ss_prof_devinfo;

/* One device's context: stream, events, cuBLASLt handle, 32 MiB workspace, L2 flush
 * buffer. One owner: the caller of ss_prof_dev_open, who calls ss_prof_dev_close. */
typedef struct ss_prof_dev ss_prof_dev;

int ss_prof_dev_open(int device, int flush_l2, ss_prof_dev **out, ss_prof_devinfo *info,
                     char *err);
void ss_prof_dev_close(ss_prof_dev *dev);

/* cuBLASLt's choice for one GEMM: algo id, tile, stages, split-k, reduction scheme,
 * CTA swizzling, custom option (CUBLASLT_ALGO_CONFIG_* / CUBLASLT_ALGO_CONFIG_*), and the
 * heuristic's wavesCount. */
typedef struct ss_prof_algo {
    int cfg[7];
    float waves;
} ss_prof_algo;

/* D[m,n] = X[m,k] . W[n,k]^T for every m in ms[0..nm), W allocated once. fp8: E4M3
 * inputs, bf16 output, fp32 accumulate, unit scales. times_us is nm * reps (row per m),
 * algo is nm entries. An m for which cuBLASLt offers no algorithm is skipped: its
 * algo[i].cfg[0] is -1 and its times are not written. */
int ss_prof_gemm_sweep(ss_prof_dev *dev, ss_prof_elem e, int64_t n, int64_t k,
                       const int64_t *ms, size_t nm, int warmup, int reps, float *times_us,
                       ss_prof_algo *algo, char *err);

/* Correctness sample: one GEMM of m x n x k on the fill pattern; X [m,k] and W [n,k] (as
 * float, after quantisation to e) and D [m,n] copied back, for ss_prof_gemm_reference. */
int ss_prof_gemm_sample(ss_prof_dev *dev, ss_prof_elem e, int64_t m, int64_t n, int64_t k,
                        float *Xh, float *Wh, float *Dh, char *err);

/* Causal attention of batch requests, each q new query tokens on top of kv cached tokens
 * (keys = kv + q), contiguous K/V [batch][kv_heads][kv+q][head_dim], GQA (heads divisible
 * by kv_heads), head_dim 64, 128 or 256; servesim's FlashAttention-style kernel
 * (attn.cu, approximate). */
int ss_prof_attn_prefill(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t q, int64_t kv,
                         int heads, int kv_heads, int head_dim, int warmup, int reps,
                         float *times_us, char *err);
/* One new token per request attending kv tokens each (the new token included). */
int ss_prof_attn_decode(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t kv, int heads,
                        int kv_heads, int head_dim, int warmup, int reps, float *times_us,
                        char *err);

/* What an attention sample ran: cuDNN's global engine index (-1: not cuDNN, or unknown), and
 * 1 when that engine came from cuDNN's fallback list rather than its heuristics' choice (it
 * may not be the fused kernel). */
typedef struct ss_prof_attn_info {
    int engine;
    int fallback;
} ss_prof_attn_info;

/* Correctness sample: one call of the prefill kernel (decode = 0: q new tokens on a kv
 * prefix) or of the decode kernels (decode = 1: one token per request, kv keys, q unused)
 * on the fill pattern; the inputs and output are copied back as float in the layouts
 * above (keys = kv + q for prefill, kv for decode), for comparison with
 * ss_prof_attn_reference. Qh/Oh hold batch*heads*(decode ? 1 : q)*head_dim floats, Kh/Vh
 * batch*kv_heads*keys*head_dim. */
int ss_prof_attn_sample(ss_prof_dev *dev, ss_prof_elem e, int decode, int batch, int64_t q,
                        int64_t kv, int heads, int kv_heads, int head_dim, float *Qh, float *Kh,
                        float *Vh, float *Oh, ss_prof_attn_info *info, char *err);

/* The same three calls through cuDNN's fused flash attention (attn_cudnn.cu; production
 * kernel, rows approx=0), same layouts and semantics; head_dim a multiple of 8 up to 256.
 * Built only where CMake found cuDNN 9: otherwise ss_prof_cudnn_built() is 0 and the calls
 * fail with that reason. ss_prof_cudnn_version() is cudnnGetVersion() (91900 = 9.19.0), 0
 * without cuDNN. */
int ss_prof_cudnn_built(void);
size_t ss_prof_cudnn_version(void);
int ss_prof_cudnn_prefill(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t q, int64_t kv,
                          int heads, int kv_heads, int head_dim, int warmup, int reps,
                          float *times_us, char *err);
int ss_prof_cudnn_decode(ss_prof_dev *dev, ss_prof_elem e, int batch, int64_t kv, int heads,
                         int kv_heads, int head_dim, int warmup, int reps, float *times_us,
                         char *err);
int ss_prof_cudnn_sample(ss_prof_dev *dev, ss_prof_elem e, int decode, int batch, int64_t q,
                         int64_t kv, int heads, int kv_heads, int head_dim, float *Qh,
                         float *Kh, float *Vh, float *Oh, ss_prof_attn_info *info, char *err);

/* 1 if NCCL was found at configure time and the all-reduce is compiled in. */
int ss_prof_nccl_built(void);
/* NCCL version as "2.28.9" ("" when not built). */
void ss_prof_nccl_version(char *buf, size_t n);
/* In-place-free ncclAllReduce (sum) of `bytes` on devices 0..gpus-1 from one process
 * (ncclCommInitAll); the time of one call is the largest of the per-GPU event times. */
int ss_prof_allreduce(int gpus, ss_prof_elem e, const int64_t *bytes, size_t nb, int warmup,
                      int reps, float *times_us, char *err);

#ifdef __cplusplus
}
#endif

#endif
