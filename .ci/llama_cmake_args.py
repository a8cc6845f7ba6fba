"""Print CMAKE_ARGS for building llama-cpp-python on this CPU.

Native builds crashed on these machines with "Illegal instruction" (AMX on one kind of machine; on the AMD EPYC
machines an AVX-512 build died on the first token). The AVX2-level build below is the one measured to work on both,
so instruction sets up to AVX2 are enabled from /proc/cpuinfo and AVX-512 / AVX-VNNI / AMX are always off.
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
]:
    args.append(f"-D{option}={'ON' if cpu_flag in flags else 'OFF'}")
args += [f"-D{o}=OFF" for o in ("GGML_AVX512", "GGML_AVX512_VBMI", "GGML_AVX512_VNNI", "GGML_AVX512_BF16", "GGML_AVX_VNNI")]
print(" ".join(args))
