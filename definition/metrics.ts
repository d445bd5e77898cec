/**
 * Prometheus metric names exported by the platform's services. Dashboards and alert rules
 * (components/k8s/monitoring) and the services (services/*) both import them from here, so a
 * rule can never query a metric that no service exports. Histograms are in seconds.
 */
export const METRICS = {
  /** features: HTTP request latency histogram, labels: route, status. */
  featuresRequestSeconds: "mlops_features_request_duration_seconds",
  /** features: entity keys requested from the online store, label: feature_view. */
  featuresKeysRequested: "mlops_features_keys_requested_total",
  /** features: pushed raw events refused for being later than allowedLateness, label: feature_view. */
  featuresLateEvents: "mlops_features_late_events_total",
  /** features and serving: online store errors, labels: store, operation. */
  storeErrors: "mlops_store_errors_total",
  /** features: rows read by materialization, label: feature_view. */
  materializationRows: "mlops_materialization_rows_total",
  /** features: seconds between now and the end of the last materialized window, label: feature_view. */
  materializationLagSeconds: "mlops_materialization_lag_seconds",
  /** serving: request latency histogram, labels: model, version, route, status. */
  servingRequestSeconds: "mlops_serving_request_duration_seconds",
  /** serving: predictions by outcome, labels: model, version, status (ok|error|shed). */
  servingPredictions: "mlops_serving_predictions_total",
  /** serving: requests in flight, labels: model, version. */
  servingInFlight: "mlops_serving_in_flight_requests",
  /** serving: feature fetch latency histogram, labels: model, version. */
  servingFeatureFetchSeconds: "mlops_serving_feature_fetch_duration_seconds",
  /** serving: model inference latency histogram, labels: model, version. */
  servingInferenceSeconds: "mlops_serving_inference_duration_seconds",
  /** serving: prediction log records dropped because the sink was slow, labels: model, version. */
  servingLogDropped: "mlops_serving_prediction_log_dropped_total",
  /** drift: per-feature drift score, labels: model, feature, method. */
  driftScore: "mlops_drift_score",
  /** drift: share of drifted features in the last check, label: model. */
  driftShare: "mlops_drift_dataset_drift_share",
  /** drift: 1 when the last check found dataset drift, label: model. */
  driftDetected: "mlops_drift_dataset_drift",
  /** drift: unix time of the last completed check, label: model. */
  driftLastCheck: "mlops_drift_last_check_timestamp_seconds",
} as const;

/** Metrics exported by others that the platform's rules and dashboards read. */
export const EXTERNAL_METRICS = {
  /** NVIDIA DCGM exporter: GPU utilisation in percent, labels include gpu, Hostname. */
  gpuUtilization: "DCGM_FI_DEV_GPU_UTIL",
  gpuMemoryUsed: "DCGM_FI_DEV_FB_USED",
  /** Istio standard metrics. */
  istioRequests: "istio_requests_total",
  istioRequestDuration: "istio_request_duration_milliseconds_bucket",
} as const;

/** Histogram buckets (seconds) fit for a 100 ms p99 SLO: dense below 100 ms, sparse above. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
