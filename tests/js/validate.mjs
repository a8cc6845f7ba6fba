// Validate glTF 2.0 files (.gltf / .glb) with the Khronos glTF-Validator (npm "gltf-validator").
//
// usage: node validate.mjs FILE [FILE ...]
// Prints one JSON object per file on stdout:
//   {"file", "numErrors", "numWarnings", "numInfos", "numHints", "messages": [{code, severity, message, pointer}]}
// severity: 0 error, 1 warning, 2 info, 3 hint. Exit status: 0 when no file has errors, 1 otherwise,
// 2 on bad usage or a file the validator could not read at all.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import validator from "gltf-validator";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE [FILE ...]");
  process.exit(2);
}

let failed = false;
for (const file of files) {
  let report;
  try {
    const bytes = new Uint8Array(readFileSync(file));
    report = await validator.validateBytes(bytes, {
      uri: basename(file),
      maxIssues: 200,
      // Self-contained files only: an external reference is a bug in the writer.
      externalResourceFunction: (uri) => Promise.reject(`external resource ${uri} not allowed`),
    });
  } catch (err) {
    console.error(`${file}: validator could not read the file: ${err}`);
    process.exit(2);
  }
  const issues = report.issues;
  if (issues.numErrors > 0) failed = true;
  console.log(
    JSON.stringify({
      file,
      validatorVersion: report.validatorVersion,
      numErrors: issues.numErrors,
      numWarnings: issues.numWarnings,
      numInfos: issues.numInfos,
      numHints: issues.numHints,
      truncated: issues.truncated,
      messages: issues.messages.map((m) => ({
        code: m.code,
        severity: m.severity,
        message: m.message,
        pointer: m.pointer,
      })),
      info: report.info
        ? {
            animationCount: report.info.animationCount,
            meshCount: report.info.meshCount,
            nodeCount: report.info.nodeCount,
            maxAttributes: report.info.maxAttributes,
            totalVertexCount: report.info.totalVertexCount,
            totalTriangleCount: report.info.totalTriangleCount,
          }
        : null,
    }),
  );
}
process.exit(failed ? 1 : 0);
