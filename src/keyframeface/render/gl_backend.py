"""OpenGL drawing of the 3D head with moderngl on a headless EGL context (extra ``[render]``).

Works without a display and without a GPU: Mesa's llvmpipe software driver provides OpenGL 3.3 through EGL
(about 0.1 s per 512 px frame on two CPU cores). One context serves the whole process (llvmpipe starts worker
threads per context); every draw makes it current in the calling thread under a lock, so renderers may be
used from several threads. Frames are drawn with 4x MSAA and shaded per pixel with the same Blinn-Phong terms
as :func:`keyframeface.render.soft_raster.shade`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BackendUnavailableError

if TYPE_CHECKING:
    from .head3d import Camera, HeadMesh, Lighting

__all__ = ["GLRasterizer", "gl_availability"]

_VERTEX_SHADER = """
#version 330
uniform mat4 mvp;
in vec3 in_pos;
in vec3 in_nrm;
in vec3 in_albedo;
in vec2 in_mat;
out vec3 v_pos;
out vec3 v_nrm;
out vec3 v_albedo;
out vec2 v_mat;
void main() {
    v_pos = in_pos;
    v_nrm = in_nrm;
    v_albedo = in_albedo;
    v_mat = in_mat;
    gl_Position = mvp * vec4(in_pos, 1.0);
}
"""

# Keep in step with soft_raster.shade: two-sided Blinn-Phong, ambient, rim term, sRGB encoding.
_FRAGMENT_SHADER = """
#version 330
uniform vec3 eye;
uniform vec3 ambient;
uniform vec3 light_dir[4];
uniform vec3 light_col[4];
uniform float light_spec[4];
uniform float rim;
uniform vec3 rim_col;
in vec3 v_pos;
in vec3 v_nrm;
in vec3 v_albedo;
in vec2 v_mat;
out vec4 frag;
vec3 to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(12.92 * c, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(vec3(0.0031308), c));
}
void main() {
    vec3 n = normalize(v_nrm);
    vec3 v = normalize(eye - v_pos);
    float ndv = dot(n, v);
    if (ndv < 0.0) { n = -n; ndv = -ndv; }
    vec3 diffuse = vec3(0.0);
    vec3 spec = vec3(0.0);
    for (int i = 0; i < 4; i++) {
        float ndl = max(dot(n, light_dir[i]), 0.0);
        diffuse += light_col[i] * ndl;
        vec3 h = normalize(light_dir[i] + v);
        float s = ndl > 0.0 ? pow(max(dot(n, h), 0.0), v_mat.y) : 0.0;
        spec += light_col[i] * light_spec[i] * s;
    }
    float r = rim * pow(1.0 - clamp(ndv, 0.0, 1.0), 3.0);
    vec3 color = v_albedo * (ambient + diffuse) + v_mat.x * spec + r * rim_col;
    frag = vec4(to_srgb(color), 1.0);
}
"""

_SAMPLES = 4  # MSAA samples; llvmpipe supports 4
_lock = threading.Lock()
_state: dict[str, Any] = {}


def _context() -> Any:
    """The process's moderngl context (created on first use), or raise BackendUnavailableError."""
    with _lock:
        if "ctx" in _state:
            return _state["ctx"]
        if "error" in _state:
            raise BackendUnavailableError(_state["error"])
        try:
            import moderngl
        except ImportError:
            _state["error"] = (
                "the OpenGL 3D renderer needs moderngl: pip install 'keyframeface[render]' (or use "
                "backend='numpy')"
            )
            raise BackendUnavailableError(_state["error"]) from None
        try:
            # moderngl's type stubs declare ``backend`` as a dict; the runtime takes the backend name.
            ctx = moderngl.create_context(standalone=True, backend="egl", require=330)  # type: ignore[arg-type]
        except Exception as exc:  # moderngl raises plain Exception subclasses for EGL / driver failures
            _state["error"] = (
                f"no OpenGL 3.3 context through EGL ({type(exc).__name__}: {exc}); install Mesa's EGL "
                "(Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri) or use backend='numpy'"
            )
            raise BackendUnavailableError(_state["error"]) from None
        _state["ctx"] = ctx
        return ctx


def gl_availability() -> tuple[bool, str]:
    """(usable, reason): whether moderngl can open an EGL context here, and why not."""
    try:
        _context()
    except BackendUnavailableError as exc:
        return False, str(exc)
    return True, "moderngl on EGL"


class GLRasterizer:
    """Draws a posed :class:`.head3d.HeadMesh` with OpenGL (``name = "gl"``).

    Raises :class:`keyframeface.errors.BackendUnavailableError` when moderngl or an EGL context is missing.
    """

    name = "gl"

    def __init__(self, mesh: HeadMesh) -> None:
        self.mesh = mesh
        ctx = _context()
        self._ctx = ctx
        try:
            self._setup(ctx, mesh)
        except BackendUnavailableError:
            raise
        except Exception as exc:  # moderngl.Error and driver errors: report them as an unusable back end
            raise BackendUnavailableError(f"OpenGL setup failed ({type(exc).__name__}: {exc})") from None
        self._targets: dict[int, tuple[Any, Any]] = {}
        self._samples = min(_SAMPLES, int(getattr(ctx, "max_samples", _SAMPLES)))

    def _setup(self, ctx: Any, mesh: HeadMesh) -> None:
        with _lock, ctx:
            self._prog = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
            n = mesh.n_vertices
            self._dynamic = ctx.buffer(reserve=n * 6 * 4, dynamic=True)
            static = np.concatenate([mesh.albedo, mesh.material], axis=1).astype(np.float32)
            self._static = ctx.buffer(np.ascontiguousarray(static).tobytes())
            self._ibo = ctx.buffer(np.ascontiguousarray(mesh.triangles, dtype=np.uint32).tobytes())
            self._vao = ctx.vertex_array(
                self._prog,
                [
                    (self._dynamic, "3f 3f", "in_pos", "in_nrm"),
                    (self._static, "3f 2f", "in_albedo", "in_mat"),
                ],
                index_buffer=self._ibo,
                index_element_size=4,
            )

    def _framebuffers(self, size: int) -> tuple[Any, Any]:
        if size not in self._targets:
            if len(self._targets) >= 4:  # a few sizes are reused (preview, thumbnails); free the rest
                for ms, resolve in self._targets.values():
                    ms.release()
                    resolve.release()
                self._targets.clear()
            ctx = self._ctx
            ms = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer((size, size), 4, samples=self._samples)],
                depth_attachment=ctx.depth_renderbuffer((size, size), samples=self._samples),
            )
            resolve = ctx.framebuffer(color_attachments=[ctx.renderbuffer((size, size), 4)])
            self._targets[size] = (ms, resolve)
        return self._targets[size]

    def draw(
        self, positions: np.ndarray, normals: np.ndarray, *, camera: Camera, lighting: Lighting, size: int
    ) -> np.ndarray:
        """(V, 3) positions and normals -> (size, size, 4) float32 premultiplied RGBA (alpha = coverage)."""
        import moderngl

        data = np.concatenate([positions, normals], axis=1).astype(np.float32)
        dirs, colors, spec = lighting.arrays()
        prog = self._prog
        with _lock, self._ctx as ctx:
            ms, resolve = self._framebuffers(size)
            self._dynamic.write(np.ascontiguousarray(data).tobytes())
            # OpenGL matrices are column-major: upload the transpose of the row-major numpy matrix.
            prog["mvp"].write(np.ascontiguousarray(camera.view_projection().T).tobytes())
            prog["eye"].value = tuple(float(x) for x in camera.eye)
            prog["ambient"].value = tuple(float(x) for x in lighting.ambient)
            prog["light_dir"].write(dirs.tobytes())
            prog["light_col"].write(colors.tobytes())
            prog["light_spec"].write(spec.tobytes())
            prog["rim"].value = float(lighting.rim)
            prog["rim_col"].value = tuple(float(x) for x in lighting.rim_color)
            ms.use()
            ms.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
            ctx.enable(moderngl.DEPTH_TEST)
            # Triangles are counter-clockwise seen from outside (HeadModel's contract) and no back face is
            # ever visible through the head's openings, as in soft_raster: cull them, which saves fill time.
            ctx.front_face = "ccw"
            ctx.enable(moderngl.CULL_FACE)
            self._vao.render(moderngl.TRIANGLES)
            ctx.copy_framebuffer(resolve, ms)
            raw = resolve.read(components=4, alignment=1)
        img = np.frombuffer(raw, dtype=np.uint8).reshape(size, size, 4)[
            ::-1
        ]  # OpenGL rows start at the bottom
        return img.astype(np.float32) / 255.0

    def release(self) -> None:
        """Free this renderer's GPU objects (the shared context stays)."""
        with _lock, self._ctx:
            for ms, resolve in self._targets.values():
                ms.release()
                resolve.release()
            self._targets.clear()
            for obj in (self._vao, self._ibo, self._static, self._dynamic, self._prog):
                obj.release()
