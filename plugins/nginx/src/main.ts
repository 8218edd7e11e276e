import { serve } from "tailkit/plugin";
import { nginxPlugin } from "./index.js";

await serve(nginxPlugin);
