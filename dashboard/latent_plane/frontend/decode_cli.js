/*
 * Run decoder.js under Node: `node decode_cli.js input.json` prints the decoded images as base64 float32.
 *
 * input.json = {"spec": <decoder_spec(model)>, "z": [[z1, ..., zd], ...]}. Used by the parity test
 * (tests/test_latent_plane_node.py) and handy for checking a checkpoint by hand. Also prints the median
 * time per decode on stderr.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { Decoder } = require(path.join(__dirname, "decoder.js"));

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const dec = new Decoder(input.spec);
const out = new Float32Array(input.z.length * dec.nPixels);
const times = [];
input.z.forEach((z, i) => {
  const t0 = process.hrtime.bigint();
  dec.decode(z, out.subarray(i * dec.nPixels, (i + 1) * dec.nPixels));
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
});
times.sort((a, b) => a - b);
process.stderr.write(`median decode ${times[Math.floor(times.length / 2)].toFixed(3)} ms\n`);
process.stdout.write(Buffer.from(out.buffer).toString("base64"));
