import { describeScan } from "./run-scan";

describeScan("gcp-prod", true);
