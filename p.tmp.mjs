import * as pg from "libpg-query";
await pg.loadModule();
for (const s of process.argv.slice(2)) console.log(JSON.stringify(pg.parseSync(s).stmts.map(x=>x.stmt)));
