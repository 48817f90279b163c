// The WGAN generator page: one ES module, no framework, no build step (docs/export.md, "web").
// The exported functions are the portable latent rule, the pixel rule and the grid of wgan-sample
// (wgan_edge.contract, wgan_edge.png), bit for bit; node imports them in the tests. The page code at
// the bottom runs only in a browser.

const PHILOX_M = [0xD2511F53, 0xCD9E8D57];  // Philox4x32 (Salmon et al. 2011): multipliers
const PHILOX_W = [0x9E3779B9, 0xBB67AE85];  // and Weyl key increments

function mulHiLo(a, m) {
  // The 64-bit product of two uint32 words as [hi, lo]: every float64 step below is exact (< 2^49).
  const hi = Math.floor(((a >>> 16) * m + Math.floor(((a & 0xFFFF) * m) / 65536)) / 65536);
  return [hi >>> 0, Math.imul(a, m) >>> 0];
}

export function philox4x32(counter, key, rounds = 10) {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let r = 0; r < rounds; r++) {
    const [hi0, lo0] = mulHiLo(c0, PHILOX_M[0]);
    const [hi1, lo1] = mulHiLo(c2, PHILOX_M[1]);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + PHILOX_W[0]) >>> 0;
    k1 = (k1 + PHILOX_W[1]) >>> 0;
  }
  return [c0, c1, c2, c3];
}

const unit = (hi, lo) => ((hi >>> 5) * 67108864 + (lo >>> 6)) * 2 ** -53;  // 53 bits, [0, 1)

export const MAX_SEED = 2n ** 64n - 1n;

export function parseSeed(text) {
  // A seed as wgan-sample takes it: a decimal integer in [0, 2^64); null when it is not one.
  const s = String(text).trim();
  if (!/^[0-9]{1,20}$/.test(s) || BigInt(s) > MAX_SEED) return null;
  return BigInt(s);
}

export function latentVectors(n, latentDim, seed = 0n, stream = 0) {
  // wgan_edge.contract.latent_vectors: element k is half of Box-Muller pair k >> 1, whose uniforms
  // come from Philox4x32-10(counter (pair lo, pair hi, stream, 0), key (seed lo, seed hi)).
  seed = BigInt(seed);
  const key = [Number(seed & 0xFFFFFFFFn), Number(seed >> 32n)];
  const total = n * latentDim;
  const z = new Float32Array(total);  // assignment rounds float64 -> float32 to nearest, like numpy
  for (let p = 0; 2 * p < total; p++) {
    const w = philox4x32([p >>> 0, Math.floor(p / 4294967296), stream >>> 0, 0], key);
    const radius = Math.sqrt(-2 * Math.log(1 - unit(w[0], w[1])));
    const angle = 2 * Math.PI * unit(w[2], w[3]);
    z[2 * p] = radius * Math.cos(angle);
    if (2 * p + 1 < total) z[2 * p + 1] = radius * Math.sin(angle);
  }
  return z;
}

export function toUint8(images) {
  // wgan_edge.contract.to_uint8: floor(images * 127.5 + 128) in float32, clipped to [0, 255].
  const out = new Uint8Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const v = Math.floor(Math.fround(Math.fround(images[i] * 127.5) + 128));
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

function roundHalfEven(x) {  // numpy.rint
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function quantize(values, scale, zeroPoint, bits = 8) {
  // wgan_edge.runner's integer z: clip(rint(z / scale) + zero_point) in the int range, float32 divide.
  const lo = -(2 ** (bits - 1)), hi = 2 ** (bits - 1) - 1, s = Math.fround(scale);
  const out = bits === 16 ? new Int16Array(values.length) : new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.min(hi, Math.max(lo, roundHalfEven(Math.fround(values[i] / s)) + zeroPoint));
  }
  return out;
}

export function imageGrid(pixels, n, shape, columns = 0, padding = 2) {
  // wgan_edge.png.image_grid: n images (h, w, c) in rows of `columns` (default a square), black padding.
  const [h, w, c] = shape;
  columns = columns || Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / columns);
  const height = rows * (h + padding) + padding, width = columns * (w + padding) + padding;
  const data = new Uint8Array(height * width * c);
  for (let i = 0; i < n; i++) {
    const y0 = padding + Math.floor(i / columns) * (h + padding), x0 = padding + (i % columns) * (w + padding);
    for (let y = 0; y < h; y++) {
      const from = ((i * h + y) * w) * c;
      data.set(pixels.subarray(from, from + w * c), ((y0 + y) * width + x0) * c);
    }
  }
  return {height, width, channels: c, data};
}

export function slerp(a, b, t) {
  // The walk between two latent points: spherical interpolation keeps |z| typical of N(0, I).
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    out[i] = omega < 1e-6 ? (1 - t) * a[i] + t * b[i]
      : (Math.sin((1 - t) * omega) * a[i] + Math.sin(t * omega) * b[i]) / Math.sin(omega);
  }
  return out;
}


// ---------------------------------------------------------------- the page (browser only)

const MODEL = "generator.tflite", METADATA = "generator.json";
const $ = (id) => document.getElementById(id);
const page = {state: "loading", error: null, timings: {firstGridMs: null, gridMs: []}, grid: null};

function fail(what, help) {
  // One clear sentence in the page (and in `wgan.error` for scripts): what is missing, how to fix it. -> null
  page.state = "error";
  page.error = what;
  $("status").className = "error";
  $("status").textContent = what;
  if (help) $("help").hidden = false;
  return null;
}

async function loadLiteRt() {
  const src = globalThis.LITERT;
  try {
    return await import("@litertjs/core");
  } catch (e) {
    const url = new URL(location.href);
    if (!url.searchParams.has("litert")) {  // no node_modules here: the documented default
      url.searchParams.set("litert", src.fallback);
      url.searchParams.set("missing", "node_modules");
      location.replace(url);
      return new Promise(() => {});
    }
    const tried = url.searchParams.get("missing") === "node_modules"
      ? `./node_modules/@litertjs/core (run "npm install" in this folder) nor from ${src.core}` : src.core;
    fail(`LiteRT.js ${src.version} could not be loaded from ${tried}: ${e.message}`, true);
    return null;
  }
}

class Generator {
  // The model's `generate` signature with the metadata's shapes and quantization (like wgan_edge.runner).
  constructor(litert, model, meta) {
    this.litert = litert;
    this.runner = model.signatures.generate || model;
    this.meta = meta;
    this.tensors = meta.tensors;
    this.batch = this.tensors.z.shape[0];
    this.latentDim = meta.latent_dim;
    this.shape = meta.image_shape;
    this.size = this.shape[0] * this.shape[1] * this.shape[2];
    this.extra = this.runner.getInputDetails().filter((d) => d.name !== "z");  // a class label, if any
  }

  input(name, values) {
    const t = this.tensors[name];
    const typed = t.dtype === "float32" ? Float32Array.from(values)
      : quantize(values, t.scale, t.zero_point, t.dtype === "int16" ? 16 : 8);
    return new this.litert.Tensor(typed, t.shape);
  }

  labels(label) {
    const inputs = {};
    for (const d of this.extra) {  // an integer index per sample, or a one-hot row (whichever the model takes)
      const shape = Array.from(d.shape), per = shape.slice(1).reduce((a, b) => a * b, 1);
      const values = new (d.dtype === "float32" ? Float32Array : Int32Array)(shape[0] * per);
      for (let i = 0; i < shape[0]; i++) values[i * per + (per > 1 ? label : 0)] = per > 1 ? 1 : label;
      inputs[d.name] = new this.litert.Tensor(values, shape);
    }
    return inputs;
  }

  async pixels(z, label = 0) {
    // z: Float32Array (n * latentDim) -> uint8 pixels (n * H * W * C), fixed batches, the last one padded.
    const n = z.length / this.latentDim, out = new Uint8Array(n * this.size);
    for (let i = 0; i < n; i += this.batch) {
      const chunk = new Float32Array(this.batch * this.latentDim);
      chunk.set(z.subarray(i * this.latentDim, Math.min(n, i + this.batch) * this.latentDim));
      const inputs = {z: this.input("z", chunk), ...this.labels(label)};
      const result = await this.runner.run(inputs);
      const take = Math.min(this.batch, n - i) * this.size;
      out.set(this.outputPixels(result).subarray(0, take), i * this.size);
      for (const t of [...Object.values(inputs), ...Object.values(result)]) t.delete();
    }
    return out;
  }

  outputPixels(result) {
    if (result.pixels) return result.pixels.toTypedArray();
    const t = this.tensors.images, q = result.images.toTypedArray();
    if (t.dtype === "float32") return toUint8(q);
    const s = Math.fround(t.scale);  // dequantize as wgan_edge.runner does, then the pixel rule
    return toUint8(Float32Array.from(q, (v) => Math.fround(Math.fround(v - t.zero_point) * s)));
  }
}

function draw(canvas, grid, width) {  // shown about `width` CSS pixels wide, whole pixels per pixel
  const zoom = Math.max(1, Math.round(width / grid.width));
  const rgba = new ImageData(grid.width, grid.height);
  for (let i = 0, p = 0; i < grid.width * grid.height; i++, p += grid.channels) {
    const g = grid.data[p];
    rgba.data.set(grid.channels === 3 ? [g, grid.data[p + 1], grid.data[p + 2], 255] : [g, g, g, 255], 4 * i);
  }
  canvas.width = grid.width;
  canvas.height = grid.height;
  canvas.style.width = `${grid.width * zoom}px`;
  canvas.getContext("2d").putImageData(rgba, 0, 0);
}

async function loadGenerator() {
  // metadata, LiteRT.js, its Wasm, the model: a Generator, or null after saying on the page what is missing.
  let meta;
  try {
    const r = await fetch(METADATA);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    meta = await r.json();
  } catch (e) {
    return fail(`${METADATA} (the model's shapes and quantization) could not be read: ${e.message}; serve this ` +
                "folder with a web server (python -m http.server), not from file://");
  }
  const litert = await loadLiteRt();
  if (!litert) return null;
  try {
    await litert.loadLiteRt(globalThis.LITERT.wasm);
  } catch (e) {
    return fail(`LiteRT.js's Wasm files are missing at ${globalThis.LITERT.wasm}: ${e.message}`, true);
  }
  try {
    return new Generator(litert, await litert.loadAndCompile(MODEL, {accelerator: "wasm"}), meta);
  } catch (e) {
    const io = `z ${meta.tensors.z.dtype}, images ${meta.tensors.images.dtype}`;
    return fail(`LiteRT.js cannot run ${MODEL} (--quantize ${meta.quantize}: ${io}): ${e.message}`);
  }
}

function describe(gen) {
  const meta = gen.meta;
  $("about").textContent = `${MODEL}: --quantize ${meta.quantize}, batch ${gen.batch}, z[${gen.latentDim}] -> ` +
    `${gen.shape.join("x")}; LiteRT.js ${globalThis.LITERT.version} (Wasm) from ${globalThis.LITERT.source}`;
  if (meta.num_classes) {  // a conditional generator: the class picker
    const names = meta.class_names || Array.from({length: meta.num_classes}, (_, i) => String(i));
    $("label").replaceChildren(...names.map((name, i) => new Option(name, i)));
    $("classes").hidden = false;
  }
}

function controls(gen, num) {
  // The grid for a seed, the walk, the seed field: returns the function that draws the field's seed.
  let z = null;
  const label = () => +$("label").value || 0;

  async function walk() {  // the slider: from sample 1 of the grid to sample 2
    const d = gen.latentDim, t = $("walk").value / 100;
    const point = slerp(z.subarray(0, d), z.subarray(d, 2 * d), t);
    draw($("between"), imageGrid(await gen.pixels(point, label()), 1, gen.shape), 192);
  }

  async function sample(seed) {
    const t0 = performance.now();
    z = latentVectors(num, gen.latentDim, seed);
    page.grid = imageGrid(await gen.pixels(z, label()), num, gen.shape);
    draw($("grid"), page.grid, 560);
    page.timings.gridMs.push(performance.now() - t0);
    if (page.timings.firstGridMs === null) page.timings.firstGridMs = performance.now();  // since navigation
    await walk();
  }

  async function fromField() {
    const seed = parseSeed($("seed").value);
    if (seed === null) {
      $("status").textContent = "the seed must be a whole number from 0 to 18446744073709551615";
      return;
    }
    const url = new URL(location.href);
    url.searchParams.set("seed", seed.toString());
    history.replaceState(null, "", url);
    $("status").textContent = "sampling...";
    await sample(seed);
    // The command that draws this very grid: a conditional page shows one class, so the hint names it.
    const picked = gen.meta.num_classes ? ` --label ${label()}` : "";
    $("status").textContent = `seed ${seed}: ${num} samples in ${page.timings.gridMs.at(-1).toFixed(0)} ms ` +
      `(wgan-sample --model ${MODEL} --num ${num} --seed ${seed}${picked} draws the same grid)`;
  }

  $("new").onclick = () => {
    $("seed").value = crypto.getRandomValues(new Uint32Array(1))[0];
    return fromField();
  };
  $("seed").onchange = fromField;
  $("label").onchange = fromField;
  $("walk").oninput = walk;
  return fromField;
}

async function boot() {
  const params = new URL(location.href).searchParams;
  const num = Math.min(1024, Math.max(1, parseInt(params.get("num") || "64", 10) || 64));
  const gen = await loadGenerator();
  if (!gen) return;
  describe(gen);
  const fromField = controls(gen, num);
  // For scripts and tests: the uint8 pixels of explicit z (flat float32), as wgan_edge.runner returns them.
  page.pixels = async (values) => Array.from(await gen.pixels(Float32Array.from(values)));
  page.sample = async (seed) => { $("seed").value = seed; await fromField(); return page.grid; };
  page.meta = gen.meta;
  $("seed").value = parseSeed(params.get("seed") || "") ?? 0n;
  await fromField();
  page.state = "ready";
}

if (globalThis.document) {
  globalThis.wgan = page;
  boot().catch((e) => fail(`unexpected error: ${e.message}`));
}
