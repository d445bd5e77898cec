export * from "./chisquare";
export * from "./jensen-shannon";
export * from "./kolmogorov";
export * from "./ks";
export * from "./psi";
export * from "./wasserstein";
export * from "./ztest";
