// The WebAssembly verifier (Node build of crates/wasm, the binding of
// crates/verify's procedure) on the spec vectors: the 13-entry log of
// spec/vectors/merkle.json with the manifest of spec/vectors/log.json,
// under a checkpoint signed here with the demo log key (keys/demo/log.key:
// demo only, public by construction). The JSON is the procedure's
// structured result: checks with ids, statuses, codes and data.
//
// Run: node --test tests/browser/wasm-vectors.test.mjs, with WASM_NODE_DIR
// pointing at `scripts/build-wasm.sh --node DIR` output (run.sh does this).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createPrivateKey, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = process.env.WASM_NODE_DIR || path.join(ROOT, 'target/wasm-node');
const wasm = createRequire(import.meta.url)(path.join(dir, 'tallyboard_wasm.js'));

const merkle = JSON.parse(readFileSync(path.join(ROOT, 'spec/vectors/merkle.json'), 'utf8'));
const logv = JSON.parse(readFileSync(path.join(ROOT, 'spec/vectors/log.json'), 'utf8'));
const vkey = readFileSync(path.join(ROOT, 'keys/log.vkey'), 'utf8').trim();
const demoPolicy = readFileSync(path.join(ROOT, 'keys/policy.txt'), 'utf8');
const skey = readFileSync(path.join(ROOT, 'keys/demo/log.key'), 'utf8').trim();

const size = merkle.entries.length;
const rootHex = merkle.roots[size - 1];

/** A C2SP signed note of a checkpoint, signed with the demo log key. */
function signedCheckpoint(n, rootB64) {
  const [, , name, keyId, b64] = skey.split('+');
  const seed = Buffer.from(b64, 'base64').subarray(1);
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const text = `${name}\n${n}\n${rootB64}\n`;
  const sig = sign(null, Buffer.from(text), key);
  const payload = Buffer.concat([Buffer.from(keyId, 'hex'), sig]);
  return Buffer.from(`${text}\n— ${name} ${payload.toString('base64')}\n`);
}

const cp = signedCheckpoint(size, Buffer.from(rootHex, 'hex').toString('base64'));

function evidence({ tile, bundle, manifest, checkpoint } = {}) {
  const ev = new wasm.Evidence();
  assert.ok(ev.add('checkpoint', checkpoint || cp));
  assert.ok(ev.add(`tile/0/000.p/${size}`, tile || Buffer.from(merkle.tile_0_000, 'hex')));
  assert.ok(ev.add(`tile/entries/000.p/${size}`, bundle || Buffer.from(merkle.entry_bundle_000, 'hex')));
  assert.ok(ev.add('manifest', manifest || Buffer.from(logv.manifest, 'utf8')));
  return ev;
}

// Every tally in the vector log, with the index of its station's registration.
const tallies = [];
const regs = new Map();
merkle.entries.forEach((e, i) => {
  const station = (e.match(/^station (\S+)$/m) || [])[1];
  if (e.startsWith('tallyboard/station-key/v1\n')) regs.set(station, i);
  if (e.startsWith('tallyboard/tally')) tallies.push({ i, station });
});

function run(ev, t, policy) {
  return JSON.parse(
    wasm.verify_station_entry(ev, vkey, 'page', '', t.station, t.i, Float64Array.from([regs.get(t.station)]), policy)
  );
}
const check = (r, id) => r.checks.find((c) => c.id === id);
const status = (r, id) => check(r, id)?.status;
const code = (r, id) => check(r, id)?.code;

test('the fetch plan names the tile and bundle of the 13-entry log', () => {
  const plan = JSON.parse(wasm.fetch_plan(size, Float64Array.from([7])));
  assert.deepEqual(plan, { tiles: ['tile/0/000.p/13'], bundles: ['tile/entries/000.p/13'], entries: [0, 7] });
  assert.deepEqual(wasm.tiles_needed(7, size), ['tile/0/000.p/13']);
  assert.deepEqual(wasm.tiles_needed(-1, 70000), ['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
});

test('the checkpoint signed with the demo log key verifies; another origin does not', () => {
  const r = JSON.parse(wasm.verify_checkpoint(cp.toString(), vkey, ''));
  assert.equal(r.verified, true);
  assert.equal(r.size, size);
  assert.equal(Buffer.from(r.root, 'base64').toString('hex'), rootHex);
  assert.equal(JSON.parse(wasm.verify_checkpoint(cp.toString(), vkey, 'x.example/other')).verified, false);
});

test('every tally of the vector log verifies in WebAssembly', () => {
  assert.ok(tallies.length >= 2, 'the vectors hold tallies');
  for (const t of tallies) {
    const r = run(evidence(), t);
    assert.equal(r.verified, true, JSON.stringify(r, null, 1));
    for (const id of ['checkpoint-signature', 'tiles-root', 'manifest', 'registration-inclusion',
      'registration-signature', 'entry-inclusion', 'entry-signature', 'arithmetic']) {
      assert.equal(status(r, id), 'pass', id);
    }
    assert.equal(status(r, 'witness-cosignatures'), 'info');
    assert.deepEqual(check(r, 'witness-cosignatures').data.cosigned, []);
    assert.equal(check(r, 'entry-inclusion').data.entries[0].index, t.i);
    assert.equal(check(r, 'entry-signature').data.entries[0].key_index, regs.get(t.station));
    assert.equal(r.entry.station, t.station);
    assert.equal(r.entry.index, t.i);
  }
});

test('a witness policy is required when given: the demo policy is not met without cosignatures', () => {
  const t = tallies[0];
  const r = run(evidence(), t, demoPolicy);
  assert.equal(r.verified, false);
  assert.equal(status(r, 'witness-cosignatures'), 'fail');
  assert.equal(code(r, 'witness-cosignatures'), 'policy.quorum-not-met');
  assert.equal(check(r, 'witness-cosignatures').data.quorum, 'guardian-and-observers');
  // Everything else still holds.
  assert.equal(status(r, 'entry-signature'), 'pass');
  const none = run(evidence(), t, `log ${vkey}\nquorum none\n`);
  assert.equal(none.verified, true);
  assert.equal(status(none, 'witness-cosignatures'), 'pass');
  const bad = run(evidence(), t, 'quorum\n');
  assert.equal(bad.verified, false);
  assert.equal(bad.error, 'policy.malformed');
});

test('the checkpoint page verification passes on the vectors', () => {
  const r = JSON.parse(wasm.verify_log(evidence(), vkey, 'board', ''));
  assert.equal(r.verified, true);
  assert.deepEqual(r.checks.map((c) => c.id), ['log-key', 'checkpoint-signature', 'tiles-root', 'manifest', 'witness-cosignatures']);
  assert.equal(r.checks[0].data.source, 'board');
});

test('a flipped byte in the entry fails its inclusion', () => {
  const t = tallies[0];
  const bundle = Buffer.from(merkle.entry_bundle_000, 'hex');
  // Change one digit of the tally's "valid" line.
  const text = bundle.toString('latin1');
  let at = 0;
  for (let k = 0; k <= t.i; k++) at = text.indexOf('tallyboard/', at + 1);
  const v = text.indexOf('\nvalid ', text.lastIndexOf(`station ${t.station}\n`, text.indexOf('\n\n', at))) + 7;
  bundle[v] = bundle[v] === 0x39 ? 0x31 : bundle[v] + 1;
  const r = run(evidence({ bundle }), t);
  assert.equal(r.verified, false);
  assert.equal(status(r, 'entry-inclusion'), 'fail', JSON.stringify(r.checks));
  assert.equal(code(r, 'entry-inclusion'), 'proof.inclusion-failed');
});

test('a flipped byte in a tile fails the root', () => {
  const tile = Buffer.from(merkle.tile_0_000, 'hex');
  tile[5] ^= 0x80;
  const r = run(evidence({ tile }), tallies[0]);
  assert.equal(r.verified, false);
  assert.equal(status(r, 'tiles-root'), 'fail');
  assert.equal(code(r, 'tiles-root'), 'tile.root-mismatch');
});

test('a checkpoint for another root fails its signature check', () => {
  const bad = Buffer.from(cp);
  bad[bad.indexOf('\n') + 5] ^= 1; // inside the root line
  const r = run(evidence({ checkpoint: bad }), tallies[0]);
  assert.equal(r.verified, false);
  assert.equal(status(r, 'checkpoint-signature'), 'fail');
});

test('another manifest fails the commitment check', () => {
  const manifest = Buffer.from(logv.manifest.replace('"seats":1', '"seats":2'), 'utf8');
  const r = run(evidence({ manifest }), tallies[0]);
  assert.equal(status(r, 'manifest'), 'fail');
  assert.equal(code(r, 'manifest'), 'manifest.digest-mismatch');
});
