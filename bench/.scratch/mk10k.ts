import { writeProject } from "../support/project.js";
import { rmSync } from "node:fs";
rmSync("/tmp/b10k", { recursive: true, force: true });
writeProject("/tmp/b10k", 10000, "empty", "/work/main/dist/index.js");
