import { describeRealBreakages, tableCases } from "./fixtures/real";

/** The pack over gcp-prod's real plan, one breakage per test: the coverage table's broken copies of this stack. */
describeRealBreakages("gcp-prod", () => tableCases("gcp-prod"));
