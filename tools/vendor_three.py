"""Refresh the vendored three.js files of the web app from the npm registry (a maintainer's tool, not shipped).

Reads the pinned version from ``src/keyframeface/web/package.json``, downloads that package with ``npm pack`` and
copies the files the page imports (listed in ``FILES``) into ``src/keyframeface/web/static/vendor/three/``, with the
licence and a VERSION file. Run from the repository root: ``python tools/vendor_three.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "keyframeface" / "web"
DEST = WEB / "static" / "vendor" / "three"
#: npm package path -> path under DEST (the page's import map maps "three" and "three/addons/" here).
FILES = {
    "build/three.module.js": "build/three.module.js",
    "build/three.core.js": "build/three.core.js",
    "examples/jsm/loaders/GLTFLoader.js": "addons/loaders/GLTFLoader.js",
    "examples/jsm/utils/BufferGeometryUtils.js": "addons/utils/BufferGeometryUtils.js",
    "examples/jsm/utils/SkeletonUtils.js": "addons/utils/SkeletonUtils.js",
    "examples/jsm/controls/OrbitControls.js": "addons/controls/OrbitControls.js",
    "LICENSE": "LICENSE",
}


def main() -> int:
    version = json.loads((WEB / "package.json").read_text())["dependencies"]["three"]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"three@{version}", "--silent"], cwd=tmp, check=True)
        with tarfile.open(next(Path(tmp).glob("three-*.tgz"))) as tar:
            tar.extractall(tmp, filter="data")
        for src, dst in FILES.items():
            target = DEST / dst
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(tmp) / "package" / src, target)
    (DEST / "VERSION").write_text(version + "\n")
    print(f"three {version} -> {DEST}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
