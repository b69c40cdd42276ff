/* Device set-up of servesim-profile: the context one device's measurements share (stream,
 * cuBLASLt handle, 32 MiB workspace as cuBLASLt recommends for Hopper, optional L2 flush
 * buffer), device facts for meta.yaml, and the buffer fill kernel. */
#include <cstring>
#include <new>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "validation/profiler/cuda_int.h"

int ss_prof_fail(char *err, const char *file, int line, const char *what, const char *msg)
{
    const char *base = std::strrchr(file, '/');
    std::snprintf(err, SS_PROF_ERR_LEN, "%s:%d: %s: %s", base ? base + 1 : file, line, what,
                  msg ? msg : "(no message)");
    return -1;
}

/* ================================================================== fill */

__device__ static inline uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

__device__ static inline void store(__nv_bfloat16 *p, float v) { *p = __float2bfloat16(v); }
__device__ static inline void store(__half *p, float v) { *p = __float2half(v); }
__device__ static inline void store(__nv_fp8_e4m3 *p, float v) { *p = __nv_fp8_e4m3(v); }

template <class T>
__global__ void fill_kernel(T *p, size_t n, uint32_t seed)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        uint32_t h = mix32((uint32_t)i ^ mix32(seed ^ (uint32_t)(i >> 32)));
        store(&p[i], (float)(h >> 8) * (1.0f / 16777216.0f) - 0.5f);
    }
}

int ss_prof_fill(void *p, ss_prof_elem e, size_t n, uint32_t seed, cudaStream_t s, char *err)
{
    const unsigned blocks = 1024, threads = 256;
    switch (e) {
    case SS_PROF_E_BF16: fill_kernel<<<blocks, threads, 0, s>>>((__nv_bfloat16 *)p, n, seed); break;
    case SS_PROF_E_FP16: fill_kernel<<<blocks, threads, 0, s>>>((__half *)p, n, seed); break;
    case SS_PROF_E_FP8: fill_kernel<<<blocks, threads, 0, s>>>((__nv_fp8_e4m3 *)p, n, seed); break;
    }
    SS_CK(cudaGetLastError());
    return 0;
}

/* ================================================================== L2 flush */

/* Reads the whole flush buffer, so that L2 afterwards holds clean lines of it and none of
 * the measured kernel's operands. A memset would leave up to an L2's worth of dirty lines,
 * whose write-back then competes with the measured kernel's reads: on an H200 that made
 * a 235 MB GEMV 25 % slower (72 vs 57 us; 25 % = 60 MB of write-back over 235 MB read), an
 * artefact no model pass has. The sum is stored only if it hits an impossible value, so
 * the loads cannot be optimised away and nothing is written. */
__global__ void flush_read_kernel(const uint4 *p, size_t n, unsigned *sink)
{
    unsigned acc = 0;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        uint4 v = p[i];
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x9e3779b9U && threadIdx.x == 0x3ff) *sink = acc;
}

int ss_prof_flush_l2(ss_prof_dev *dev, char *err)
{
    if (!dev->flush) return 0;
    flush_read_kernel<<<(unsigned)(4 * dev->sms), 512, 0, dev->stream>>>(
        (const uint4 *)dev->flush, dev->flush_bytes / sizeof(uint4),
        (unsigned *)((char *)dev->flush + dev->flush_bytes));
    SS_CK(cudaGetLastError());
    return 0;
}

/* One thread spinning on the GPU's nanosecond timer (globaltimer) for `ns`. */
__global__ void sleep_kernel(unsigned long long ns)
{
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do {
        __nanosleep(1000);
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    } while (t - t0 < ns);
}

int ss_prof_gpu_sleep(ss_prof_dev *dev, int us, char *err)
{
    sleep_kernel<<<1, 1, 0, dev->stream>>>((unsigned long long)us * 1000ULL);
    SS_CK(cudaGetLastError());
    return 0;
}

/* ================================================================== device */

int ss_prof_dev_open(int device, int flush_l2, ss_prof_dev **out, ss_prof_devinfo *info,
                     char *err)
{
    *out = nullptr;
    std::memset(info, 0, sizeof *info);
    SS_CK(cudaGetDeviceCount(&info->device_count));
    if (device >= info->device_count) {
        std::snprintf(err, SS_PROF_ERR_LEN, "--device %d: this machine has %d CUDA device(s)",
                      device, info->device_count);
        return -1;
    }
    SS_CK(cudaSetDevice(device));
    cudaDeviceProp prop;
    SS_CK(cudaGetDeviceProperties(&prop, device));
    std::snprintf(info->name, sizeof info->name, "%s", prop.name);
    info->cc_major = prop.major;
    info->cc_minor = prop.minor;
    info->sms = prop.multiProcessorCount;
    info->l2_bytes = prop.l2CacheSize;
    SS_CK(cudaRuntimeGetVersion(&info->runtime_version));
    SS_CK(cudaDriverGetVersion(&info->driver_version));
    info->cublaslt_version = cublasLtGetVersion();

    ss_prof_dev *d = new (std::nothrow) ss_prof_dev;
    if (!d) return ss_prof_fail(err, __FILE__, __LINE__, "new ss_prof_dev", "out of memory");
    *out = d; /* partly built contexts are closed by the caller */
    d->device = device;
    d->sms = prop.multiProcessorCount;
    d->cc_major = prop.major;
    d->cc_minor = prop.minor;
    int optin = 0;
    SS_CK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    d->smem_optin = (size_t)optin;
    SS_CK(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking));
    SS_LT(cublasLtCreate(&d->lt));
    d->workspace_bytes = (size_t)32 << 20;
    SS_CK(cudaMalloc(&d->workspace, d->workspace_bytes));
    if (flush_l2) {
        d->flush_bytes = 2 * (size_t)(prop.l2CacheSize > 0 ? prop.l2CacheSize : (50 << 20));
        d->flush_bytes -= d->flush_bytes % sizeof(uint4);
        /* + one word: the read kernel's sink. Filled once, read before every repetition. */
        SS_CK(cudaMalloc(&d->flush, d->flush_bytes + sizeof(unsigned)));
        SS_CK(cudaMemset(d->flush, 0x5a, d->flush_bytes + sizeof(unsigned)));
    }
    return 0;
}

void ss_prof_dev_close(ss_prof_dev *d)
{
    if (!d) return;
    cudaSetDevice(d->device);
    if (d->stream) cudaStreamSynchronize(d->stream);
    if (d->flush) cudaFree(d->flush);
    if (d->workspace) cudaFree(d->workspace);
    ss_prof_dnn_release(d);
    if (d->lt) cublasLtDestroy(d->lt);
    if (d->stream) cudaStreamDestroy(d->stream);
    delete d;
}
