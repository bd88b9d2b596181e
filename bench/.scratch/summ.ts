import { readdirSync } from "node:fs";
import { join } from "node:path";
import { formatProfile, summariseProfile } from "../support/cpuprofile.js";
const dir = process.argv[2]!;
for (const f of readdirSync(dir)) console.log(formatProfile(summariseProfile(join(dir, f), [{ prefix: "/work/main/dist", label: "retort dist", byFolder: true }], Number(process.argv[3] ?? 25))));
