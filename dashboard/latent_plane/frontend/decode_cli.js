/*
 * Run decoder.js under Node: `node decode_cli.js input.json` prints the decoded images as base64 float32.
 *
 * input.json = {"spec": <decoder_spec(model)>, "z": [[z1, ..., zd], ...]}                  decode(z), or
 *              {"spec": ..., "plane": {"origin": [d], "e1": [d], "e2": [d]}, "uv": [[u, v], ...]}
 *                                                              setPlane once, then decodePlane(u, v) each
 * Used by the parity tests (tests/test_latent_plane_node.py) and bench/latent_analysis.py, and handy for
 * checking a checkpoint by hand. Prints the median time per decode on stderr ("median decode 0.123 ms").
 */
import { readFileSync } from "node:fs";
import { LatentDecoder } from "./decoder.js";

const { Decoder } = LatentDecoder;
const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const dec = new Decoder(input.spec);
const points = input.plane ? input.uv : input.z;
if (input.plane) dec.setPlane(input.plane.origin, input.plane.e1, input.plane.e2);
const decodeOne = input.plane ? (p, out) => dec.decodePlane(p[0], p[1], out) : (p, out) => dec.decode(p, out);
const out = new Float32Array(points.length * dec.nPixels);
const times = [];
points.forEach((p, i) => {
  const t0 = process.hrtime.bigint();
  decodeOne(p, out.subarray(i * dec.nPixels, (i + 1) * dec.nPixels));
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
});
times.sort((a, b) => a - b);
process.stderr.write(`median decode ${times[Math.floor(times.length / 2)].toFixed(3)} ms\n`);
process.stdout.write(Buffer.from(out.buffer).toString("base64"));
