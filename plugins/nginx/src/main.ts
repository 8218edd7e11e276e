import { serve } from "../../../src/plugin/index.js";
import { nginxPlugin } from "./index.js";

await serve(nginxPlugin);
