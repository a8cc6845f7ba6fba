// Re-import glTF 2.0 files with three.js's GLTFLoader in node (no browser) and summarise what it built.
//
// usage: node load_three.mjs FILE [FILE ...]
// Prints one JSON object per file on stdout:
//   {"file", "meshes": [{name, morphTargetNames, morphTargetCount, vertexCount}], "nodes": [names],
//    "animations": [{name, duration, tracks: [{name, type, times, values, interpolation}]}]}
// Exit status 1 when a file fails to load.
import { readFileSync } from "node:fs";
import { GLTFLoader } from "three/examples/jsm/loaders/GLTFLoader.js";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node load_three.mjs FILE [FILE ...]");
  process.exit(2);
}

// Tiny polyfills for browser globals that three.js touches outside a browser: `self` (GLTFLoader's URL helper)
// and ProgressEvent (FileLoader reports progress while it fetches the data: URI buffer of a .gltf file).
globalThis.self ??= globalThis;
globalThis.ProgressEvent ??= class ProgressEvent extends Event {
  constructor(type, init = {}) {
    super(type);
    this.lengthComputable = Boolean(init.lengthComputable);
    this.loaded = init.loaded ?? 0;
    this.total = init.total ?? 0;
  }
};

function parse(bytes) {
  const loader = new GLTFLoader();
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return new Promise((resolve, reject) => loader.parse(buffer, "", resolve, reject));
}

let failed = false;
for (const file of files) {
  try {
    const gltf = await parse(readFileSync(file));
    const meshes = [];
    const nodes = [];
    gltf.scene.traverse((obj) => {
      nodes.push(obj.name);
      if (obj.isMesh) {
        const dict = obj.morphTargetDictionary || {};
        const names = Object.keys(dict).sort((a, b) => dict[a] - dict[b]);
        const morphs = obj.geometry.morphAttributes.position || [];
        let maxDelta = 0;
        for (const attr of morphs) {
          for (let i = 0; i < attr.array.length; i++) maxDelta = Math.max(maxDelta, Math.abs(attr.array[i]));
        }
        meshes.push({
          name: obj.name,
          morphTargetNames: names,
          morphTargetCount: morphs.length,
          influences: obj.morphTargetInfluences ? obj.morphTargetInfluences.length : 0,
          vertexCount: obj.geometry.attributes.position.count,
          hasNormals: obj.geometry.attributes.normal !== undefined,
          maxMorphDelta: maxDelta,
        });
      }
    });
    const animations = gltf.animations.map((clip) => ({
      name: clip.name,
      duration: clip.duration,
      valid: clip.validate(),
      tracks: clip.tracks.map((t) => ({
        name: t.name,
        type: t.ValueTypeName,
        times: t.times.length,
        values: t.values.length,
        interpolation: t.getInterpolation(),
        firstTime: t.times[0],
        lastTime: t.times[t.times.length - 1],
      })),
    }));
    console.log(JSON.stringify({ file, meshes, nodes, animations }));
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ file, error: String(err && err.stack ? err.stack : err) }));
  }
}
process.exit(failed ? 1 : 0);
