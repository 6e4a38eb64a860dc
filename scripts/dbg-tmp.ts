import { network } from "hardhat";
import { runGasBenchmark, type MeasuredTransactions } from "./gas/benchmark.js";
const { ethers, networkHelpers } = await network.create();
const measured: MeasuredTransactions = { hashes: new Map(), labels: {} };
await runGasBenchmark(ethers, networkHelpers, measured);
const hash = measured.hashes.get("session.native")!;
const t = await ethers.provider.send("debug_traceTransaction", [hash, { disableStorage: true, disableMemory: true }]);
const logs = t.structLogs;
const labels = measured.labels;
// find frames at depth 4 entered via CALL/STATICCALL from the validation frame; histogram per target
let target = ""; const hist: Record<string, Record<string, [number, number]>> = {};
for (let i = 0; i < logs.length; i++) {
  const s = logs[i];
  if (s.depth === 3 && (s.op === "CALL" || s.op === "STATICCALL") && logs[i+1]?.depth === 4) {
    const a = "0x" + BigInt(s.stack[s.stack.length-2]).toString(16).padStart(40,"0");
    target = labels[a] ?? a;
  }
  if (s.depth === 4 && target) {
    const h = (hist[target] ??= {}); const e = (h[s.op] ??= [0,0]); e[0]++; e[1]+= s.op.includes("CALL") ? 0 : s.gasCost;
  }
  if (s.depth < 4 && !(s.op === "CALL" || s.op === "STATICCALL")) {}
}
for (const [k, h] of Object.entries(hist)) {
  const total = Object.values(h).reduce((a, b) => a + b[1], 0);
  console.log(k, total, Object.entries(h).sort((a,b)=>b[1][1]-a[1][1]).slice(0,25).map(([op,[c,g]])=>`${op}:${c}/${g}`).join(" "));
}
