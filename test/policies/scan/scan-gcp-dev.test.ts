import { describeScan } from "./run-scan";

describeScan("gcp-dev", true);
