import { serve } from "tailkit/plugin";
import { awsPlugin } from "./index.js";

await serve(awsPlugin);
