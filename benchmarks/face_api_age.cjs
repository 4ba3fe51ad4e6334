// Age and sex of faces, estimated by face-api (@vladmandic/face-api, models trained on real photographs), offline.
//
//   node benchmarks/face_api_age.cjs NODE_MODULES IMAGES.rgb N SIZE > estimates.json
//
// IMAGES.rgb holds N images of SIZE x SIZE RGB bytes, one after another (written by benchmarks/realism.py).
// Runs TensorFlow.js on its WebAssembly backend from NODE_MODULES (no native build, no download): the
// SSD MobileNet v1 detector, then the age and gender network on the face it finds. Prints a JSON list with,
// per image, {"age": years, "gender": "male" | "female", "p": probability} or null where no face was found.
const fs = require("fs");
const path = require("path");

async function main() {
  const [modules, rawPath, nText, sizeText] = process.argv.slice(2);
  const n = Number(nText);
  const size = Number(sizeText);
  const faceapi = require(path.join(modules, "@vladmandic/face-api/dist/face-api.node-wasm.js"));
  const tf = faceapi.tf;
  await tf.setBackend("wasm");
  await tf.ready();
  const modelDir = path.join(modules, "@vladmandic/face-api/model");
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.ageGenderNet.loadFromDisk(modelDir);
  const bytes = fs.readFileSync(rawPath);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.2 });
  const out = [];
  for (let i = 0; i < n; i++) {
    const pixels = new Int32Array(size * size * 3);
    for (let k = 0; k < pixels.length; k++) pixels[k] = bytes[i * size * size * 3 + k];
    const image = tf.tensor3d(pixels, [size, size, 3], "int32");
    const found = await faceapi.detectSingleFace(image, options).withAgeAndGender();
    out.push(found ? { age: found.age, gender: found.gender, p: found.genderProbability } : null);
    image.dispose();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`face-api failed: ${err.message}\n`);
  process.exit(1);
});
