import { serve } from "../../../src/plugin/index.js";
import { awsPlugin } from "./index.js";

await serve(awsPlugin);
