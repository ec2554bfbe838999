"""The speed harness's work in PyTorch, the peer of workbench/speed.

Same layers as the Go harness: q, k, v [B, n, H, D] float32, KERPLE-log bias
b_k = -r1 log(1 + r2 |k|) with r1, r2 learnable per head (Chi et al. 2022), causal or not.

  softmax      exact attention with the bias (F.scaled_dot_product_attention where it exists)
  fftrpe-mM    Luo et al. 2021: PRF features of l2-normalised q, k; the Toeplitz product
               exp(b_{j-i}) phi(K)^T [V, 1] by a real FFT of length 2n
  performer-mM FAVOR+ (Choromanski et al. 2021) without RPE; causal by prefix sums

Writes a JSON list of {variant, n, mode, median_s, min_s, max_s, peak_mb, skipped}.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F


def kerple_log_coef(r1, r2, n, causal, device):
    """Toeplitz coefficients exp(b_k) for k = j - i in [-(n-1), n-1], [H, 2n-1]."""
    k = torch.arange(-(n - 1), n, device=device, dtype=torch.float32)
    b = -r1[:, None] * torch.log1p(r2[:, None] * k.abs()[None, :])
    c = torch.exp(b)
    if causal:
        c = torch.where(k[None, :] > 0, torch.zeros_like(c), c)
    return b, c


def softmax_attn(q, k, v, r1, r2, causal):
    B, n, H, D = q.shape
    b, _ = kerple_log_coef(r1, r2, n, False, q.device)
    i = torch.arange(n, device=q.device)
    idx = (i[None, :] - i[:, None]) + (n - 1)  # j - i + n - 1
    bias = b[:, idx]  # [H, n, n]
    if causal:
        bias = bias.masked_fill(i[None, :] > i[:, None], float("-inf"))
    qt, kt, vt = (x.transpose(1, 2) for x in (q, k, v))  # [B, H, n, D]
    if hasattr(F, "scaled_dot_product_attention"):
        out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=bias[None])
    else:
        s = qt @ kt.transpose(-1, -2) / math.sqrt(D) + bias[None]
        out = torch.softmax(s, -1) @ vt
    return out.transpose(1, 2)


def prf(x, w):
    """Positive random features exp(w.x - |x|^2/2 - max) / sqrt(m) of x [B, n, H, D]."""
    wx = torch.einsum("bnhd,hmd->bnhm", x, w)
    wx = wx - 0.5 * (x * x).sum(-1, keepdim=True)
    wx = wx - wx.amax(dim=(1, 3), keepdim=True).detach()
    return torch.exp(wx) / math.sqrt(w.shape[1]) + 1e-6


def fftrpe_attn(q, k, v, r1, r2, w, causal):
    B, n, H, D = q.shape
    q = F.normalize(q, dim=-1) * D ** 0.25
    k = F.normalize(k, dim=-1) * D ** 0.25
    pq, pk = prf(q, w), prf(k, w)  # [B, n, H, m]
    ones = torch.ones_like(v[..., :1])
    x = pk[..., :, None] * torch.cat([v, ones], -1)[..., None, :]  # [B, n, H, m, D+1]
    _, c = kerple_log_coef(r1, r2, n, causal, q.device)
    # y_i = sum_j c_{j-i} x_j = sum_t a_t x_{i-t}, a_t = c_{-t}: a circular convolution of length 2n.
    L = 2 * n
    a = torch.zeros(H, L, device=q.device)
    t = torch.arange(-(n - 1), n, device=q.device)
    a = a.index_copy(1, t % L, c.flip(1))
    y = torch.fft.irfft(torch.fft.rfft(x, n=L, dim=1) * torch.fft.rfft(a, n=L, dim=1).t()[None, :, :, None, None], n=L, dim=1)[:, :n]
    num = torch.einsum("bnhm,bnhme->bnhe", pq, y)
    return num[..., :D] / num[..., D:].clamp_min(1e-6)


def performer_attn(q, k, v, w, causal):
    D = q.shape[-1]
    pq, pk = prf(q / D ** 0.25, w), prf(k / D ** 0.25, w)
    if causal:
        kv = torch.cumsum(pk[..., :, None] * v[..., None, :], 1)  # [B, n, H, m, D]
        num = torch.einsum("bnhm,bnhmd->bnhd", pq, kv)
        den = torch.einsum("bnhm,bnhm->bnh", pq, torch.cumsum(pk, 1))[..., None]
    else:
        kv = torch.einsum("bnhm,bnhd->bhmd", pk, v)
        num = torch.einsum("bnhm,bhmd->bnhd", pq, kv)
        den = torch.einsum("bnhm,bhm->bnh", pq, pk.sum(1))[..., None]
    return num / den.clamp_min(1e-6)


def selftest():
    """The FFT Toeplitz product and the causal prefix sums against dense O(n^2) forms, float64."""
    torch.set_default_dtype(torch.float64)
    g = torch.Generator().manual_seed(3)
    for n, causal in ((1, True), (7, False), (7, True), (33, True)):
        B, H, D, m = 2, 3, 8, 5
        q, k, v = (torch.randn(B, n, H, D, generator=g) for _ in range(3))
        r1, r2 = torch.rand(H, generator=g) + 0.5, torch.rand(H, generator=g) + 0.5
        w = torch.randn(H, m, D, generator=g)
        got = fftrpe_attn(q, k, v, r1, r2, w, causal)
        qn, kn = F.normalize(q, dim=-1) * D ** 0.25, F.normalize(k, dim=-1) * D ** 0.25
        pq, pk = prf(qn, w), prf(kn, w)
        i = torch.arange(n)
        rel = (i[None, :] - i[:, None]).abs().double()  # |j - i|
        c = torch.exp(-r1[:, None, None] * torch.log1p(r2[:, None, None] * rel))  # [H, n, n]
        if causal:
            c = c * (i[None, :] <= i[:, None])
        a = torch.einsum("bihm,bjhm->bhij", pq, pk) * c[None]
        want = torch.einsum("bhij,bjhd->bihd", a, v) / a.sum(-1).transpose(1, 2)[..., None]
        err = (got - want).abs().max().item() / want.abs().max().item()
        if err > 1e-6:
            raise SystemExit(f"torch_peer selftest: fftrpe n={n} causal={causal}: relative error {err:.3g}")
        got = performer_attn(q, k, v, w, causal)
        pq, pk = prf(q / D ** 0.25, w), prf(k / D ** 0.25, w)
        a = torch.einsum("bihm,bjhm->bhij", pq, pk) * (i[None, :] <= i[:, None] if causal else 1)
        want = torch.einsum("bhij,bjhd->bihd", a, v) / a.sum(-1).transpose(1, 2)[..., None]
        err = (got - want).abs().max().item() / want.abs().max().item()
        if err > 1e-6:
            raise SystemExit(f"torch_peer selftest: performer n={n} causal={causal}: relative error {err:.3g}")
    print("torch_peer selftest: ok")


def layer(name, H, D, device):
    """Returns (forward(q, k, v, causal), parameters) of a variant."""
    g = torch.Generator().manual_seed(1)
    r1 = torch.full((H,), 1.0, device=device, requires_grad=True)
    r2 = torch.full((H,), 1.0, device=device, requires_grad=True)
    if name == "softmax":
        return (lambda q, k, v, c: softmax_attn(q, k, v, r1, r2, c)), [r1, r2]
    for prefix in ("fftrpe-m", "performer-m"):
        if name.startswith(prefix):
            m = int(name[len(prefix):])
            w = torch.randn(H, m, D, generator=g).to(device)
            if prefix == "fftrpe-m":
                return (lambda q, k, v, c: fftrpe_attn(q, k, v, r1, r2, w, c)), [r1, r2]
            return (lambda q, k, v, c: performer_attn(q, k, v, w, c)), []
    raise SystemExit(f"torch_peer: variant {name!r} is unknown, valid: softmax, fftrpe-mM, performer-mM")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(fn, params, n, a, device, bwd):
    g = torch.Generator().manual_seed(n)
    q, k, v = (torch.randn(a.batch, n, a.heads, a.dim, generator=g).to(device).requires_grad_(bwd) for _ in range(3))

    def call():
        out = fn(q, k, v, a.causal)
        if bwd:
            torch.autograd.grad((out * out).sum(), [q, k, v] + params)
        sync(device)

    for _ in range(a.warmup):
        call()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2] if len(times) % 2 else 0.5 * (times[len(times) // 2 - 1] + times[len(times) // 2])
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else 0.0
    return {"median_s": med, "min_s": times[0], "max_s": times[-1], "peak_mb": peak}


def blas_rate(device):
    """GFLOP/s of a float32 1024 x 1024 matmul."""
    x = torch.randn(1024, 1024, device=device)
    for _ in range(2):
        x @ x
    sync(device)
    reps, t0 = 5, time.perf_counter()
    for _ in range(reps):
        x @ x
    sync(device)
    return reps * 2 * 1024**3 / (time.perf_counter() - t0) / 1e9


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="softmax,fftrpe-m16,fftrpe-m64,performer-m64")
    p.add_argument("--lengths", default="256,512,1024,2048")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--causal", type=int, default=1)
    p.add_argument("--backward", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--time_budget", type=float, default=60.0, help="skip larger sizes after a call slower than this (s)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads; 0 = every core")
    p.add_argument("--min_gflops", type=float, default=0.0, help="refuse to report when the BLAS is slower than this")
    p.add_argument("--out", default="")
    p.add_argument("--selftest", action="store_true", help="check the layers against dense forms and exit")
    p.add_argument("--check", action="store_true", help="report the version and the BLAS rate (refusing one below --min_gflops) and exit")
    a = p.parse_args()
    if a.selftest:
        return selftest()
    if not a.out:
        raise SystemExit("torch_peer: --out is required")
    device = torch.device(a.device)
    torch.set_num_threads(a.threads if a.threads > 0 else (os.cpu_count() or 1))
    rate = blas_rate(device)
    info = {"torch": torch.__version__, "device": str(device), "threads": torch.get_num_threads(),
            "matmul_gflops": rate, "python": platform.python_version()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    print("torch_peer:", json.dumps(info), file=sys.stderr)
    if rate < a.min_gflops:
        raise SystemExit(f"torch_peer: float32 matmul runs at {rate:.1f} GFLOP/s, below --min_gflops {a.min_gflops:g}: "
                         "this is not an optimised BLAS (on Debian install libopenblas0-pthread), so no numbers are reported")
    if a.check:
        with open(a.out, "w") as f:
            json.dump({"info": info, "results": []}, f, indent=1)
        return
    lengths = sorted(int(x) for x in a.lengths.split(","))
    rows = []
    for name in a.variants.split(","):
        fn, params = layer(name, a.heads, a.dim, device)
        for bwd in ([False, True] if a.backward else [False]):
            mode, skip = ("fwdbwd" if bwd else "fwd"), ""
            for n in lengths:
                row = {"variant": name, "n": n, "mode": mode, "median_s": 0.0, "min_s": 0.0, "max_s": 0.0, "peak_mb": 0.0}
                if skip:
                    row["skipped"] = skip
                else:
                    try:
                        row.update(measure(fn, params, n, a, device, bwd))
                        print(f"torch:{name:<14} n={n:<6} {mode:<6} {row['median_s']:8.4f} s", file=sys.stderr)
                        if row["median_s"] > a.time_budget:
                            skip = f"n={n} took {row['median_s']:.2f} s, above the {a.time_budget:g} s budget"
                    except (RuntimeError, MemoryError) as e:  # out of memory, typically
                        skip = f"failed at n={n}: {str(e).splitlines()[0][:200]}"
                        row["skipped"] = skip
                        if device.type == "cuda":
                            torch.cuda.empty_cache()
                rows.append(row)
    with open(a.out, "w") as f:
        json.dump({"info": info, "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
