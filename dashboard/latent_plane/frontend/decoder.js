/*
 * The VAE decoder, run in the browser: z -> a 28 x 28 image in [0, 1].
 *
 * A copy of vae_core's decoders (MLPDecoder and ConvDecoder), layer for layer, computed from the weights
 * that dashboard/latent_plane/spec.py exports: Linear, ReLU, Unflatten (a reshape) and ConvTranspose2d,
 * then sigmoid (Bernoulli likelihood) or clamp to [0, 1] (Gaussian). Sums are accumulated in float64, so
 * the result matches PyTorch's float32 arithmetic to about 1e-6.
 *
 * A model with d > 2 latent dimensions is shown on a plane of its latent space, z = o + u e1 + v e2. The
 * first layer is linear, W1 z + b1 = u (W1 e1) + v (W1 e2) + (W1 o + b1), so setPlane() computes the three
 * vectors once and decodePlane(u, v) starts from them: the first layer costs O(h) whatever d is, and the rest
 * of the network runs as in decode(z).
 *
 * An ES module, used twice: the page imports it (blobs.js), and the parity tests run it under Node through
 * decode_cli.js (package.json here makes Node read this folder's files as ES modules), so both run the same
 * code.
 */

export const LatentDecoder = (function () {
  const FORMAT = "vae-decoder";
  const VERSION = 1;

  /** base64 -> Uint8Array, in a browser (atob) or under Node (Buffer). */
  function base64ToBytes(b64) {
    if (typeof atob === "function") {
      const s = atob(b64);
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    }
    return new Uint8Array(Buffer.from(b64, "base64"));
  }

  /** base64 of little-endian float32 values -> Float32Array (a fresh, aligned buffer). */
  function floatsFromBase64(b64) {
    const bytes = base64ToBytes(b64);
    if (bytes.byteLength % 4 !== 0) throw new Error("float32 data: length is not a multiple of 4 bytes");
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    if (!LITTLE_ENDIAN) {
      const v = new DataView(out.buffer);
      for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(4 * i, true);
    }
    return out;
  }

  const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  function prod(shape) {
    return shape.reduce((a, b) => a * b, 1);
  }

  function checkInt(v, what) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`decoder spec: ${what} must be a non-negative integer, got ${v}`);
    return v;
  }

  /*
   * A compiled decoder. spec = {format, version, latent_dim, output: "sigmoid" | "clamp" | "cb_mean",
   * image: [C, H, W], data: base64 float32, layers: [...]} where each layer is one of
   *   {type: "linear", in, out, w, b}              w: offset of the [out, in] row-major matrix, b: of the bias
   *   {type: "relu"} or {type: "tanh"}
   *   {type: "reshape", shape: [...]}
   *   {type: "conv_transpose", in, out, kernel: [kh, kw], stride: [sh, sw], padding: [ph, pw], w, b}
   *                                                w: offset of the [in, out, kh, kw] weights (PyTorch layout)
   */
  class Decoder {
    constructor(spec, weights) {
      if (!spec || spec.format !== FORMAT) throw new Error(`not a ${FORMAT} spec`);
      if (spec.version !== VERSION) throw new Error(`decoder spec version ${spec.version} is not supported`);
      this.latentDim = checkInt(spec.latent_dim, "latent_dim");
      this.output = spec.output;
      if (!["sigmoid", "clamp", "cb_mean"].includes(this.output)) throw new Error(`unknown output ${this.output}`);
      this.image = spec.image.slice();
      this.nPixels = prod(this.image);
      const w = weights || floatsFromBase64(spec.data);
      if (spec.n !== undefined && w.length !== spec.n) throw new Error(`decoder weights: ${w.length} floats, expected ${spec.n}`);
      this.weights = w;
      this.ops = [];
      let shape = [this.latentDim];
      let maxSize = this.latentDim;
      const view = (offset, n, what) => {
        checkInt(offset, what);
        if (offset + n > w.length) throw new Error(`decoder spec: ${what} runs past the end of the weights`);
        return w.subarray(offset, offset + n);
      };
      for (const layer of spec.layers) {
        const size = prod(shape);
        if (layer.type === "linear") {
          if (layer.in !== size) throw new Error(`linear layer expects ${layer.in} inputs, gets ${size}`);
          this.ops.push({ type: "linear", nIn: layer.in, nOut: checkInt(layer.out, "out"),
                          W: view(layer.w, layer.in * layer.out, "linear weight"), b: view(layer.b, layer.out, "linear bias") });
          shape = [layer.out];
        } else if (layer.type === "relu" || layer.type === "tanh") {
          this.ops.push({ type: layer.type, n: size });
        } else if (layer.type === "reshape") {
          if (prod(layer.shape) !== size) throw new Error(`reshape to ${layer.shape} from ${size} values`);
          shape = layer.shape.slice();
        } else if (layer.type === "conv_transpose") {
          if (shape.length !== 3 || shape[0] !== layer.in) throw new Error(`conv_transpose expects [${layer.in}, H, W], gets [${shape}]`);
          const [kh, kw] = layer.kernel, [sh, sw] = layer.stride, [ph, pw] = layer.padding;
          const H = shape[1], W = shape[2];
          const Ho = (H - 1) * sh - 2 * ph + kh, Wo = (W - 1) * sw - 2 * pw + kw;
          if (!(Ho > 0 && Wo > 0)) throw new Error("conv_transpose: empty output");
          this.ops.push({ type: "conv_transpose", cin: layer.in, cout: layer.out, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw,
                          Wt: view(layer.w, layer.in * layer.out * kh * kw, "conv weight"), b: view(layer.b, layer.out, "conv bias") });
          shape = [layer.out, Ho, Wo];
        } else {
          throw new Error(`unknown decoder layer type ${layer.type}`);
        }
        maxSize = Math.max(maxSize, prod(shape));
      }
      if (prod(shape) !== this.nPixels) throw new Error(`decoder output has ${prod(shape)} values, the image ${this.nPixels}`);
      // Two ping-pong activation buffers, allocated once: decoding allocates nothing.
      this.bufA = new Float64Array(maxSize);
      this.bufB = new Float64Array(maxSize);
    }

    /** Decode one latent code z (array-like of latentDim numbers) into out (Float32Array of nPixels, in [0, 1]). */
    decode(z, out) {
      const x = this.bufA;
      for (let i = 0; i < this.latentDim; i++) x[i] = +z[i] || 0;
      return this.run(0, out);
    }

    /**
     * Fix the plane that decodePlane(u, v) decodes: z = origin + u e1 + v e2 (each array-like of latentDim
     * numbers). Precomputes, in float64, a = W1 e1, c = W1 e2 and base = W1 origin + b1 for the first layer.
     */
    setPlane(origin, e1, e2) {
      const d = this.latentDim;
      const vec = (v, what) => {
        if (!v || v.length !== d) throw new Error(`setPlane: ${what} must have ${d} numbers, got ${v ? v.length : v}`);
        const out = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          out[i] = +v[i];
          if (!Number.isFinite(out[i])) throw new Error(`setPlane: ${what}[${i}] is not a finite number`);
        }
        return out;
      };
      const o = vec(origin, "origin"), u = vec(e1, "e1"), v = vec(e2, "e2");
      const first = this.ops[0];
      if (!first || first.type !== "linear") {  // no linear first layer to fold: decode z itself
        this.plane = { folded: false, o, e1: u, e2: v };
        return;
      }
      const { nIn, nOut, W, b } = first;
      const a = new Float64Array(nOut), c = new Float64Array(nOut), base = new Float64Array(nOut);
      for (let r = 0; r < nOut; r++) {
        const row = r * nIn;
        let sa = 0, sc = 0, so = 0;
        for (let i = 0; i < nIn; i++) {
          const w = W[row + i];
          sa += w * u[i];
          sc += w * v[i];
          so += w * o[i];
        }
        a[r] = sa; c[r] = sc; base[r] = b[r] + so;
      }
      this.plane = { folded: true, o, e1: u, e2: v, a, c, base, n: nOut };
    }

    /** Decode the point (u, v) of the plane set by setPlane into out, like decode(origin + u e1 + v e2). */
    decodePlane(u, v, out) {
      const p = this.plane;
      if (!p) throw new Error("decodePlane: call setPlane(origin, e1, e2) first");
      u = +u || 0; v = +v || 0;
      const x = this.bufA;
      if (!p.folded) {
        for (let i = 0; i < this.latentDim; i++) x[i] = p.o[i] + u * p.e1[i] + v * p.e2[i];
        return this.run(0, out);
      }
      const { a, c, base, n } = p;
      for (let r = 0; r < n; r++) x[r] = base[r] + u * a[r] + v * c[r];  // W1 z + b1 at z = o + u e1 + v e2
      return this.run(1, out);
    }

    /** Run ops[start..] on the activations in bufA; write the image into out. */
    run(start, out) {
      out = out || new Float32Array(this.nPixels);
      let x = this.bufA, y = this.bufB;
      for (let k = start; k < this.ops.length; k++) {
        const op = this.ops[k];
        if (op.type === "linear") {
          linear(op, x, y);
        } else if (op.type === "conv_transpose") {
          convTranspose(op, x, y);
        } else {  // relu or tanh, in place
          (op.type === "tanh" ? tanh : relu)(x, op.n);
          continue;
        }
        const t = x; x = y; y = t;
      }
      const n = this.nPixels;
      if (this.output === "sigmoid") {
        for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
      } else if (this.output === "cb_mean") {  // the continuous Bernoulli's mean (vae_core.losses.cb_mean)
        for (let i = 0; i < n; i++) {
          const e = x[i];
          out[i] = Math.abs(e) < 1e-2 ? 0.5 + e / 12 - e * e * e / 720 : -1 / Math.expm1(-e) - 1 / e;
        }
      } else {
        for (let i = 0; i < n; i++) { const v = x[i]; out[i] = v < 0 ? 0 : v > 1 ? 1 : v; }
      }
      return out;
    }
  }

  function linear(op, x, y) {
    const { nIn, nOut, W, b } = op;
    for (let o = 0; o < nOut; o++) {
      const row = o * nIn;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
      for (; i + 3 < nIn; i += 4) {
        s0 += W[row + i] * x[i];
        s1 += W[row + i + 1] * x[i + 1];
        s2 += W[row + i + 2] * x[i + 2];
        s3 += W[row + i + 3] * x[i + 3];
      }
      for (; i < nIn; i++) s0 += W[row + i] * x[i];
      y[o] = b[o] + ((s0 + s1) + (s2 + s3));
    }
  }

  function relu(x, n) {
    for (let i = 0; i < n; i++) if (x[i] < 0) x[i] = 0;
  }

  function tanh(x, n) {
    for (let i = 0; i < n; i++) x[i] = Math.tanh(x[i]);
  }

  // out[co, oy, ox] = b[co] + sum over ci, iy, ix, ky, kx with oy = iy*sh - ph + ky, ox = ix*sw - pw + kx
  //                   of in[ci, iy, ix] * Wt[ci, co, ky, kx]         (PyTorch's ConvTranspose2d, groups = 1)
  function convTranspose(op, x, y) {
    const { cin, cout, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, Wt, b } = op;
    const plane = Ho * Wo, kk = kh * kw;
    for (let co = 0; co < cout; co++) {
      const bias = b[co];
      for (let p = co * plane, end = p + plane; p < end; p++) y[p] = bias;
    }
    for (let ci = 0; ci < cin; ci++) {
      const wci = ci * cout * kk;
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          const v = x[(ci * H + iy) * W + ix];
          if (v === 0) continue;  // after a ReLU most inputs are 0
          for (let ky = 0; ky < kh; ky++) {
            const oy = iy * sh - ph + ky;
            if (oy < 0 || oy >= Ho) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ox = ix * sw - pw + kx;
              if (ox < 0 || ox >= Wo) continue;
              let wi = wci + ky * kw + kx;
              let oi = oy * Wo + ox;
              for (let co = 0; co < cout; co++, wi += kk, oi += plane) y[oi] += v * Wt[wi];
            }
          }
        }
      }
    }
  }

  return { FORMAT, VERSION, Decoder, base64ToBytes, floatsFromBase64 };
})();

