// Splits an entries file (uint16-BE length-prefixed entries) so the last N
// entries are held back: the board imports the rest, and the live-update
// test submits a held one while a page is open.
//   node split.mjs IN OUT HELD_DIR N
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
const [inFile, outFile, heldDir, n] = process.argv.slice(2);
const buf = readFileSync(inFile);
const entries = [];
for (let at = 0; at < buf.length; ) {
  const len = buf.readUInt16BE(at);
  entries.push(buf.subarray(at, at + 2 + len));
  at += 2 + len;
}
const keep = entries.length - Number(n);
writeFileSync(outFile, Buffer.concat(entries.slice(0, keep)));
mkdirSync(heldDir, { recursive: true });
entries.slice(keep).forEach((e, i) => writeFileSync(`${heldDir}/${i}.entry`, e.subarray(2)));
console.error(`split: ${keep} entries to import, ${entries.length - keep} held in ${heldDir}`);
