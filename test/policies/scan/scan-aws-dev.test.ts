import { describeScan } from "./run-scan";

describeScan("aws-dev", true);
