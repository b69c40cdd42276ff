/* Private to the CUDA half of servesim-profile (device.cu, gemm.cu, attn.cu, attn_cudnn.cu,
 * allreduce.cu): the device context, error macros, owning device buffers, buffer fill and
 * the timing loop. C++ (nvcc) only. */
#ifndef SS_VALIDATION_PROFILER_CUDA_INT_H
#define SS_VALIDATION_PROFILER_CUDA_INT_H

#include <cstdint>
#include <cstdio>
#include <vector>

#include <cublasLt.h>
#include <cuda_runtime.h>

#include "validation/profiler/prof_cuda.h"

struct ss_prof_dev {
    int device = 0;
    int sms = 0, cc_major = 0, cc_minor = 0;
    size_t smem_optin = 0;       /* cudaDevAttrMaxSharedMemoryPerBlockOptin */
    cudaStream_t stream = nullptr;
    cublasLtHandle_t lt = nullptr;
    void *workspace = nullptr;
    size_t workspace_bytes = 0;
    void *flush = nullptr;       /* L2 flush buffer (2 x L2, then the sink word), or null */
    size_t flush_bytes = 0;
    void *dnn = nullptr;         /* cuDNN handle (attn_cudnn.cu), created on first use */
};

/* Destroys dev->dnn if it was created (ss_prof_dev_close calls it; a no-op in builds
 * without cuDNN). */
void ss_prof_dnn_release(ss_prof_dev *dev);

/* Queue a kernel that keeps the GPU busy for about us microseconds (ss_prof_time's
 * ahead_us). */
int ss_prof_gpu_sleep(ss_prof_dev *dev, int us, char *err);

/* Write "file:line: what: message" into err; returns -1. */
int ss_prof_fail(char *err, const char *file, int line, const char *what, const char *msg);

#define SS_CK(call)                                                                  \
    do {                                                                             \
        cudaError_t e_ = (call);                                                     \
        if (e_ != cudaSuccess)                                                       \
            return ss_prof_fail(err, __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
    } while (0)

#define SS_LT(call)                                                                  \
    do {                                                                             \
        cublasStatus_t s_ = (call);                                                  \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                             \
            return ss_prof_fail(err, __FILE__, __LINE__, #call, cublasLtGetStatusString(s_)); \
    } while (0)

/* An owning device allocation (freed by its destructor: one owner, no leak on early
 * return). */
struct ss_dbuf {
    void *p = nullptr;
    ss_dbuf() = default;
    ss_dbuf(const ss_dbuf &) = delete;
    ss_dbuf &operator=(const ss_dbuf &) = delete;
    ~ss_dbuf() { if (p) cudaFree(p); }
    int alloc(size_t bytes, char *err)
    {
        SS_CK(cudaMalloc(&p, bytes ? bytes : 1));
        return 0;
    }
};

/* Fill n elements of type e with reproducible values in [-0.5, 0.5) (zeros would let the
 * GPU run cooler and faster than on real activations). */
int ss_prof_fill(void *p, ss_prof_elem e, size_t n, uint32_t seed, cudaStream_t s, char *err);

/* Before a timed repetition with --flush-l2: read 2 x L2 bytes (device.cu says why a read,
 * not a memset). No-op without the flush buffer. */
int ss_prof_flush_l2(ss_prof_dev *dev, char *err);

/* Run launch() warmup times, then reps times each between two events on dev->stream (the
 * L2 flush, when on, goes before the first event of each repetition). Every call is queued
 * before the first synchronisation, so the GPU does not idle between repetitions; the
 * events are read at the end. launch() returns 0 or -1 (with err written).
 *
 * ahead_us > 0: first queue a GPU sleep of that many microseconds, so that the host queues
 * the whole loop before the GPU reaches it and the events time the calls back to back, not
 * the host's launch rate (a serving engine hides that with CUDA graphs). If the sleep has
 * already ended when the loop is queued, the loop is timed again behind a sleep twice as
 * long, up to three times; then it is an error. */
template <class F>
int ss_prof_time(ss_prof_dev *dev, int warmup, int reps, float *times_us, char *err, F &&launch,
                 int ahead_us = 0)
{
    struct events {
        std::vector<cudaEvent_t> ev;
        ~events() { for (cudaEvent_t e : ev) cudaEventDestroy(e); }
    } evs;
    for (int i = 0; i < 2 * reps + 1; i++) {
        cudaEvent_t e;
        SS_CK(cudaEventCreate(&e));
        evs.ev.push_back(e);
    }
    cudaEvent_t slept = evs.ev[2 * (size_t)reps];
    for (int attempt = 0;; attempt++) {
        if (ahead_us > 0) {
            if (ss_prof_gpu_sleep(dev, ahead_us << attempt, err)) return -1;
            SS_CK(cudaEventRecord(slept, dev->stream));
        }
        for (int i = 0; i < warmup; i++)
            if (launch()) return -1;
        SS_CK(cudaGetLastError());
        for (int r = 0; r < reps; r++) {
            if (ss_prof_flush_l2(dev, err)) return -1;
            SS_CK(cudaEventRecord(evs.ev[2 * r], dev->stream));
            if (launch()) return -1;
            SS_CK(cudaEventRecord(evs.ev[2 * r + 1], dev->stream));
        }
        SS_CK(cudaGetLastError());
        int behind = 0;
        if (ahead_us > 0) {
            cudaError_t q = cudaEventQuery(slept);
            if (q == cudaErrorNotReady) (void)cudaGetLastError(); /* not an error: still asleep */
            else SS_CK(q);
            behind = q == cudaSuccess;
        }
        SS_CK(cudaStreamSynchronize(dev->stream));
        if (!behind) break;
        if (attempt == 2) {
            std::snprintf(err, SS_PROF_ERR_LEN,
                          "timing: the host could not queue %d calls within a %d us GPU sleep",
                          warmup + reps, ahead_us << attempt);
            return -1;
        }
    }
    for (int r = 0; r < reps; r++) {
        float ms = 0;
        SS_CK(cudaEventElapsedTime(&ms, evs.ev[2 * r], evs.ev[2 * r + 1]));
        times_us[r] = ms * 1000.0f;
    }
    return 0;
}

/* The attention operands of one measurement, in the layouts both attention
 * implementations (servesim-fa, attn.cu; cuDNN, attn_cudnn.cu) take: Q and O
 * [batch][heads][q][D], K and V [batch][kv_heads][keys][D], contiguous; Q, K, V filled with
 * the reproducible pattern (same seeds for both, so the same inputs are timed). */
struct attn_bufs {
    ss_dbuf Q, K, V, O;
    size_t nq = 0, nk = 0;
    int alloc(ss_prof_dev *dev, ss_prof_elem e, size_t elem, int batch, int64_t q, int64_t keys,
              int heads, int kv_heads, int D, char *err)
    {
        nq = (size_t)batch * heads * q * D;
        nk = (size_t)batch * kv_heads * keys * D;
        if (Q.alloc(nq * elem, err) || K.alloc(nk * elem, err) || V.alloc(nk * elem, err) ||
            O.alloc(nq * elem, err))
            return -1;
        if (ss_prof_fill(Q.p, e, nq, 11, dev->stream, err) ||
            ss_prof_fill(K.p, e, nk, 12, dev->stream, err) ||
            ss_prof_fill(V.p, e, nk, 13, dev->stream, err))
            return -1;
        return 0;
    }
};

/* Host copies of a device buffer of n elements as float. */
template <class T>
int to_host_float(const void *d, size_t n, float *out, char *err)
{
    std::vector<T> tmp(n);
    SS_CK(cudaMemcpy(tmp.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++) out[i] = (float)tmp[i];
    return 0;
}

#endif
