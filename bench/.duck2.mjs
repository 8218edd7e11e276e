import { DuckDBInstance } from "@duckdb/node-api";
const inst = await DuckDBInstance.create(":memory:");
const con = await inst.connect();
for (const q of process.argv.slice(2)) {
  const t = performance.now();
  await con.run(q);
  console.log(((performance.now()-t)/1000).toFixed(2), "s", q.slice(0, 150));
}
