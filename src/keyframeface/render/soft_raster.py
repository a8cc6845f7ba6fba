"""A pure-numpy triangle rasteriser: the 3D head renderer's fallback when moderngl / EGL is not available.

A z-buffer, vectorised per triangle: triangles are grouped by the size of their screen bounding box (rounded up
to a power of two), and for each group every pixel centre of every box is tested at once with barycentric edge
functions; the nearest fragment of each pixel wins (a sort, not a loop). The winning pixels are then shaded
once each (deferred shading) with the same Blinn-Phong terms as the OpenGL shader in :mod:`.gl_backend`, so
both back ends give nearly the same picture. No anti-aliasing unless ``supersample`` > 1.

Only numpy: this module must work wherever keyframeface installs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .head3d import Camera, HeadMesh, Lighting

__all__ = ["SoftRasterizer", "linear_to_srgb", "project", "rasterize", "shade"]

# Fragments tested per vectorised step; bounds the temporary arrays to some tens of MB.
_CHUNK_FRAGMENTS = 1 << 20


def project(
    positions: np.ndarray, view_projection: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World (N, 3) -> pixel coordinates (N, 2) float32 (x right, y down; pixel ``i`` spans [i, i+1)),
    NDC depth (N,) float32 (smaller is nearer) and clip ``w`` (N,) float32 (> 0 in front of the camera)."""
    p = np.asarray(positions, dtype=np.float32)
    clip = p @ view_projection[:3, :3].T + view_projection[:3, 3]
    w = p @ view_projection[3, :3] + view_projection[3, 3]
    safe_w = np.where(np.abs(w) < 1e-12, 1e-12, w)
    ndc = clip / safe_w[:, None]
    xy = np.stack([(ndc[:, 0] + 1.0) * 0.5 * size, (1.0 - ndc[:, 1]) * 0.5 * size], axis=1)
    return xy.astype(np.float32), ndc[:, 2].astype(np.float32), w.astype(np.float32)


def rasterize(
    xy: np.ndarray,
    depth: np.ndarray,
    triangles: np.ndarray,
    width: int,
    height: int,
    *,
    cull_back_faces: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Visibility of (M, 3) triangles over (N, 2) pixel-space vertices with (N,) depths.

    Returns ``tri_id`` (height, width) int32, the nearest triangle covering each pixel centre or -1, and
    ``bary`` (height, width, 3) float32, that triangle's screen-space barycentric weights at the pixel centre.
    Both windings are drawn unless ``cull_back_faces``, which skips triangles that are clockwise on screen
    (counter-clockwise in y-down pixel coordinates; i.e. triangles wound counter-clockwise seen from outside
    and seen from behind); the z-buffer hides the rest of what is behind.
    """
    t = np.asarray(triangles, dtype=np.int64)
    xy = np.asarray(xy, dtype=np.float32)
    z = np.asarray(depth, dtype=np.float32)
    tri_id = np.full((height, width), -1, dtype=np.int32)
    bary = np.zeros((height, width, 3), dtype=np.float32)
    if len(t) == 0:
        return tri_id, bary
    ax, ay = xy[t[:, 0], 0], xy[t[:, 0], 1]
    bx, by = xy[t[:, 1], 0], xy[t[:, 1], 1]
    cx, cy = xy[t[:, 2], 0], xy[t[:, 2], 1]
    area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    # Pixel i is covered when its centre i + 0.5 is inside: the centres from ceil(min - 0.5) to floor(max - 0.5).
    x0 = np.clip(np.ceil(np.minimum(np.minimum(ax, bx), cx) - 0.5), 0, width).astype(np.int64)
    x1 = np.clip(np.floor(np.maximum(np.maximum(ax, bx), cx) - 0.5), -1, width - 1).astype(np.int64)
    y0 = np.clip(np.ceil(np.minimum(np.minimum(ay, by), cy) - 0.5), 0, height).astype(np.int64)
    y1 = np.clip(np.floor(np.maximum(np.maximum(ay, by), cy) - 0.5), -1, height - 1).astype(np.int64)
    finite = np.isfinite(area) & np.isfinite(z[t]).all(axis=1)
    # With y pointing down, a triangle counter-clockwise as seen by the camera has a negative area here.
    facing = area < -1e-9 if cull_back_faces else np.abs(area) > 1e-9
    keep = finite & facing & (x1 >= x0) & (y1 >= y0)
    ids = np.flatnonzero(keep)
    if len(ids) == 0:
        return tri_id, bary
    extent = np.maximum(x1[ids] - x0[ids], y1[ids] - y0[ids]) + 1
    bucket = (1 << np.ceil(np.log2(extent)).astype(np.int64)).astype(np.int64)

    pix_parts: list[np.ndarray] = []
    z_parts: list[np.ndarray] = []
    tri_parts: list[np.ndarray] = []
    l_parts: list[np.ndarray] = []
    for k in np.unique(bucket):
        k = int(k)
        sel_all = ids[bucket == k]
        oy, ox = np.divmod(np.arange(k * k, dtype=np.int64), k)
        step = max(1, _CHUNK_FRAGMENTS // (k * k))
        for start in range(0, len(sel_all), step):
            s = sel_all[start : start + step]
            px = x0[s, None] + ox[None, :]
            py = y0[s, None] + oy[None, :]
            valid = (px <= x1[s, None]) & (py <= y1[s, None])
            fx = px.astype(np.float32) + 0.5
            fy = py.astype(np.float32) + 0.5
            inv = (1.0 / area[s])[:, None]
            sax, say, sbx, sby, scx, scy = (v[s, None] for v in (ax, ay, bx, by, cx, cy))
            l0 = ((sbx - fx) * (scy - fy) - (sby - fy) * (scx - fx)) * inv
            l1 = ((scx - fx) * (say - fy) - (scy - fy) * (sax - fx)) * inv
            l2 = 1.0 - l0 - l1
            inside = valid & (l0 >= 0.0) & (l1 >= 0.0) & (l2 >= 0.0)
            rows, cols = np.nonzero(inside)
            if len(rows) == 0:
                continue
            tri = s[rows]
            a0, a1 = l0[rows, cols], l1[rows, cols]
            zz = a0 * z[t[tri, 0]] + a1 * z[t[tri, 1]] + (1.0 - a0 - a1) * z[t[tri, 2]]
            pix_parts.append(py[rows, cols] * width + px[rows, cols])
            z_parts.append(zz)
            tri_parts.append(tri)
            l_parts.append(np.stack([a0, a1], axis=1))
    if not pix_parts:
        return tri_id, bary
    pix = np.concatenate(pix_parts)
    zf = np.concatenate(z_parts)
    # Nearest fragment per pixel: sort by pixel, then depth; the first of each pixel's run wins.
    order = np.lexsort((zf, pix))
    sorted_pix = pix[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_pix[1:] != sorted_pix[:-1]
    win = order[first]
    winners_pix = pix[win]
    lam = np.concatenate(l_parts)[win]
    flat_id = tri_id.reshape(-1)
    flat_id[winners_pix] = np.concatenate(tri_parts)[win].astype(np.int32)
    flat_bary = bary.reshape(-1, 3)
    flat_bary[winners_pix, 0] = lam[:, 0]
    flat_bary[winners_pix, 1] = lam[:, 1]
    flat_bary[winners_pix, 2] = 1.0 - lam[:, 0] - lam[:, 1]
    return tri_id, bary


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values (IEC 61966-2-1 transfer function), same dtype."""
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1.0 / 2.4) - 0.055).astype(c.dtype)


def shade(
    albedo: np.ndarray,
    material: np.ndarray,
    normals: np.ndarray,
    positions: np.ndarray,
    *,
    eye: np.ndarray,
    lighting: Lighting,
) -> np.ndarray:
    """Blinn-Phong of (K, 3) points: albedo (linear RGB), material (K, 2) (specular strength, shininess),
    normals, world positions -> (K, 3) float32 sRGB in [0, 1]. The terms are :class:`.head3d.Lighting`'s and
    match the fragment shader in :mod:`.gl_backend`."""
    n = normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    v = eye[None, :] - positions
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    ndv = np.einsum("ij,ij->i", n, v)
    n = np.where((ndv < 0.0)[:, None], -n, n)  # two-sided: light the side that faces the camera
    ndv = np.abs(ndv)
    dirs, colors, spec_w = lighting.arrays()
    ndl = np.maximum(n @ dirs.T, 0.0)  # (K, 4)
    diffuse = ndl @ colors
    h = dirs[None, :, :] + v[:, None, :]
    h = h / np.maximum(np.linalg.norm(h, axis=2, keepdims=True), 1e-12)
    ndh = np.maximum(np.einsum("kj,klj->kl", n, h), 0.0)
    spec = np.where(ndl > 0.0, np.power(ndh, material[:, 1:2]), 0.0) * spec_w[None, :]
    specular = (spec @ colors) * material[:, 0:1]
    rim = lighting.rim * (1.0 - np.clip(ndv, 0.0, 1.0)) ** 3
    color = (
        albedo * (np.asarray(lighting.ambient, dtype=np.float32) + diffuse)
        + specular
        + rim[:, None] * np.asarray(lighting.rim_color, dtype=np.float32)
    )
    return linear_to_srgb(color.astype(np.float32))


class SoftRasterizer:
    """Draws a posed :class:`.head3d.HeadMesh` with numpy only (``name = "numpy"``).

    ``supersample``: render at this multiple of the size and average down (anti-aliasing; cost grows with its
    square).
    """

    name = "numpy"

    def __init__(self, mesh: HeadMesh, *, supersample: int = 1) -> None:
        if supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {supersample}")
        self.mesh = mesh
        self.supersample = int(supersample)

    def draw(
        self, positions: np.ndarray, normals: np.ndarray, *, camera: Camera, lighting: Lighting, size: int
    ) -> np.ndarray:
        """(V, 3) positions and normals -> (size, size, 4) float32 premultiplied RGBA (alpha = coverage)."""
        ss = self.supersample
        big = size * ss
        xy, depth, w = project(positions, camera.view_projection(), big)
        tris = self.mesh.triangles.astype(np.int64)
        # Drop triangles that reach behind the near plane (the default camera never gets that close).
        front = (w[tris] > camera.near * 0.5).all(axis=1) & (np.abs(depth[tris]) <= 1.0).all(axis=1)
        # The head's triangles are wound counter-clockwise seen from outside (HeadModel's contract) and its
        # openings (mouth, eyes) show inner surfaces that face the camera, so back faces are never visible:
        # culling them halves the work with the same picture (checked against drawing both sides).
        tri_id, bary = rasterize(xy, depth, tris[front], big, big, cull_back_faces=True)
        covered = tri_id >= 0
        rgba = np.zeros((big, big, 4), dtype=np.float32)
        if covered.any():
            t = tris[front][tri_id[covered]]  # (K, 3) vertex ids
            lam = bary[covered]
            # Perspective-correct weights: screen-space weights divided by each vertex's w, renormalised.
            pw = lam / w[t]
            pw /= np.maximum(pw.sum(axis=1, keepdims=True), 1e-12)

            def interp(attr: np.ndarray) -> np.ndarray:
                return np.einsum("kj,kjc->kc", pw, attr[t]).astype(np.float32)

            rgb = shade(
                interp(self.mesh.albedo),
                interp(self.mesh.material),
                interp(normals),
                interp(positions),
                eye=camera.eye,
                lighting=lighting,
            )
            rgba[covered, :3] = rgb
            rgba[covered, 3] = 1.0
        if ss > 1:
            rgba = rgba.reshape(size, ss, size, ss, 4).mean(axis=(1, 3))
        return rgba
