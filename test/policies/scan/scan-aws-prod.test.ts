import { describeScan } from "./run-scan";

describeScan("aws-prod", true);
