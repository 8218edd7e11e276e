import { serve } from "tailkit/plugin";
import { corePlugin } from "./index.js";

await serve(corePlugin);
