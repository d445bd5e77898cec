import { describeScan } from "./run-scan";

describeScan("local", false);
