"""Print CMAKE_ARGS for building llama-cpp-python on this CPU.

A native build (-march=native) crashed on these machines (AMX, and AVX-VNNI on AMD EPYC, are advertised or assumed but
not usable), so instruction sets are enabled one by one from /proc/cpuinfo, and AMX never.
"""

from __future__ import annotations

from pathlib import Path

flags: set[str] = set()
try:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
except OSError:
    pass

args = ["-DGGML_NATIVE=OFF", "-DLLAVA_BUILD=OFF", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"]
for cpu_flag, option in [
    ("avx", "GGML_AVX"),
    ("avx2", "GGML_AVX2"),
    ("fma", "GGML_FMA"),
    ("f16c", "GGML_F16C"),
    ("bmi2", "GGML_BMI2"),
    ("avx512f", "GGML_AVX512"),
    ("avx512vbmi", "GGML_AVX512_VBMI"),
    ("avx512_vnni", "GGML_AVX512_VNNI"),
    ("avx512_bf16", "GGML_AVX512_BF16"),
    ("avx_vnni", "GGML_AVX_VNNI"),
]:
    args.append(f"-D{option}={'ON' if cpu_flag in flags else 'OFF'}")
print(" ".join(args))
