#!/usr/bin/env python3
"""Attention times from PyTorch's scaled_dot_product_attention, in the servesim-profile format.

An independent source of attention measurements for a GPU where PyTorch is installed
(servesim's own profiler, servesim-profile, is CUDA C and times its approximate servesim-fa
kernel; see docs/profiler.md). It measures the same grid servesim-profile does for each head
configuration and writes two servesim-profile directories that `servesim calibrate` and
`servesim validate calibration` read (`--source servesim:DIR`):

    OUT/prefill/  meta.yaml + attn_prefill.csv   one request of q new tokens, causal, on a
                                                  cached prefix of kv tokens (keys = kv + q)
    OUT/decode/   meta.yaml + attn_decode.csv    batch requests of one new token, each
                                                  attending kv keys

Kernels: the first SDPA backend that runs a small case and agrees with the math backend on
it (the one used is in `stack`): for prefill FlashAttention (its causal mask is aligned
bottom-right natively), then cuDNN, then memory-efficient; for decode cuDNN, then
FlashAttention, then memory-efficient. Prefill with a
prefix needs a bottom-right causal mask (torch.nn.attention.bias.causal_lower_right); its K/V
heads are repeated to the query heads first (outside the timed region: prefill is compute
bound, so the repeated heads change little). Decode passes the grouped K/V heads as they are
(enable_gqa=True), since its cost is reading them; a backend that cannot is not used for
decode. Every row has approx=0: these are production kernels, not servesim-fa.

Timing: `--warmup` untimed calls, then `--reps` calls between CUDA events on one stream,
all queued behind a GPU sleep of ~10 ms and before one synchronisation (so host overhead is
not timed); the median is written, in microseconds.

Usage: torch_attention.py --out DIR [--gpu h100-sxm] [--heads 32:8,16:4,...] [--head-dim 128]
"""
import argparse
import datetime
import os
import socket
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right

CUDNN = ("cudnn", SDPBackend.CUDNN_ATTENTION)
FLASH = ("flash", SDPBackend.FLASH_ATTENTION)
EFFICIENT = ("efficient", SDPBackend.EFFICIENT_ATTENTION)


def pow2(lo, hi):
    v, out = lo, []
    while v <= hi:
        out.append(v)
        v *= 2
    return out


def prefill_call(backend, h, kvh, d, q, kv, dev):
    Q = torch.rand(1, h, q, d, device=dev, dtype=torch.bfloat16) - 0.5
    K = torch.rand(1, kvh, kv + q, d, device=dev, dtype=torch.bfloat16) - 0.5
    V = torch.rand(1, kvh, kv + q, d, device=dev, dtype=torch.bfloat16) - 0.5
    K = K.repeat_interleave(h // kvh, dim=1)
    V = V.repeat_interleave(h // kvh, dim=1)
    mask = causal_lower_right(q, kv + q) if kv > 0 else None

    def run(b=backend):
        with sdpa_kernel([b]):
            if mask is None:
                return F.scaled_dot_product_attention(Q, K, V, is_causal=True)
            return F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    return run


def decode_call(backend, h, kvh, d, batch, kv, dev):
    Q = torch.rand(batch, h, 1, d, device=dev, dtype=torch.bfloat16) - 0.5
    K = torch.rand(batch, kvh, kv, d, device=dev, dtype=torch.bfloat16) - 0.5
    V = torch.rand(batch, kvh, kv, d, device=dev, dtype=torch.bfloat16) - 0.5

    def run(b=backend):
        with sdpa_kernel([b]):
            return F.scaled_dot_product_attention(Q, K, V, enable_gqa=(h != kvh))
    return run


def works(make, backend):
    """The backend runs the small case and agrees with the math backend."""
    try:
        run = make(backend)
        out = run().float()
        ref = run(SDPBackend.MATH).float()
        torch.cuda.synchronize()
        err = (out - ref).abs().max().item()
        return err <= 2e-2, err
    except RuntimeError as e:  # "No available kernel", unsupported shape, ...
        return False, str(e).splitlines()[0][:120]


def pick(kind, order, make_small):
    for name, b in order:
        ok, why = works(lambda be, b=b: make_small(be), b)
        print(f"{kind}: backend {name}: {'ok, max |error| %.2e' % why if ok else why}",
              file=sys.stderr)
        if ok:
            return name, b
    return None, None


def median_us(run, warmup, reps):
    for _ in range(warmup):
        run()
    ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
          for _ in range(reps)]
    # Keep the GPU busy while Python queues the calls, so that the time between two events
    # is the kernel's and not the host's (tens of microseconds per call here).
    if hasattr(torch.cuda, "_sleep"):
        torch.cuda._sleep(20_000_000)
    for a, b in ev:
        a.record()
        run()
        b.record()
    torch.cuda.synchronize()
    t = sorted(a.elapsed_time(b) * 1000.0 for a, b in ev)
    n = len(t)
    return t[n // 2] if n % 2 else 0.5 * (t[n // 2 - 1] + t[n // 2])


def driver_version():
    try:
        with open("/proc/driver/nvidia/version") as f:
            for w in f.readline().split():
                if w[:1].isdigit() and "." in w:
                    return w
    except OSError:
        pass
    return ""


def write_meta(path, args, stack):
    p = torch.cuda.get_device_properties(0)
    fields = [("format", "servesim-profile"), ("version", 1), ("gpu", p.name),
              ("gpu_canonical", args.gpu), ("stack", stack),
              ("cuda_version", torch.version.cuda or ""),
              ("driver_version", driver_version()),
              ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")),
              ("host", socket.gethostname()), ("command", " ".join(sys.argv)),
              ("model", "torch-sdpa-grid"), ("dtype", "bf16")]
    with open(path, "w") as f:
        f.write("# Written by validation/profiler/torch_attention.py; format: docs/profiler.md\n")
        for k, v in fields:
            f.write(f"{k}: {v}\n" if k == "version" else f'{k}: "{v}"\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--gpu", default="", help="servesim hardware name (h100-sxm, ...)")
    ap.add_argument("--heads", default="32:8,16:4,8:2,4:1,8:1,64:8",
                    help="query:kv heads per GPU, comma-separated")
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--max-tokens", type=int, default=16384)
    ap.add_argument("--max-ctx", type=int, default=32768)
    ap.add_argument("--max-kv-tokens", type=int, default=1 << 20)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    dev = torch.device("cuda", 0)
    torch.manual_seed(0)
    d = args.head_dim
    heads = [tuple(int(x) for x in s.split(":")) for s in args.heads.split(",")]
    tv = torch.__version__.split("+")[0]

    pname, pb = pick("prefill", [FLASH, CUDNN, EFFICIENT],
                     lambda be: prefill_call(be, 8, 2, d, 100, 37, dev))
    dname, db = pick("decode", [CUDNN, FLASH, EFFICIENT],
                     lambda be: decode_call(be, 8, 2, d, 3, 700, dev))

    prefill_q = pow2(16, args.max_tokens)
    prefill_kv = [0, 256, 1024, 4096, 16384]
    decode_b = pow2(1, 256)
    decode_kv = pow2(128, args.max_ctx)

    if pb is not None:
        out = os.path.join(args.out, "prefill")
        os.makedirs(out, exist_ok=True)
        write_meta(os.path.join(out, "meta.yaml"), args, f"torch-{tv}-sdpa-{pname}")
        with open(os.path.join(out, "attn_prefill.csv"), "w", buffering=1) as f:
            f.write("batch,q,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx\n")
            for h, kvh in heads:
                for q in prefill_q:
                    for kv in prefill_kv:
                        if q + kv > args.max_ctx:
                            continue
                        t = median_us(prefill_call(pb, h, kvh, d, q, kv, dev), args.warmup,
                                      args.reps)
                        f.write(f"1,{q},{kv},{h},{kvh},{d},bf16,bf16,{t:.3f},0\n")
                print(f"prefill {h}/{kvh} done", file=sys.stderr)
    if db is not None:
        out = os.path.join(args.out, "decode")
        os.makedirs(out, exist_ok=True)
        write_meta(os.path.join(out, "meta.yaml"), args, f"torch-{tv}-sdpa-{dname}")
        with open(os.path.join(out, "attn_decode.csv"), "w", buffering=1) as f:
            f.write("batch,kv,heads,kv_heads,head_dim,dtype,kv_dtype,time_us,approx\n")
            for h, kvh in heads:
                for b in decode_b:
                    for kv in decode_kv:
                        if b * kv > args.max_kv_tokens:
                            continue
                        t = median_us(decode_call(db, h, kvh, d, b, kv, dev), args.warmup,
                                      args.reps)
                        f.write(f"{b},{kv},{h},{kvh},{d},bf16,bf16,{t:.3f},0\n")
                print(f"decode {h}/{kvh} done", file=sys.stderr)
    return 0 if pb is not None or db is not None else 1


if __name__ == "__main__":
    sys.exit(main())
