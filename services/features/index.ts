export { createFeaturesServer, type FeaturesServerOptions } from "./server";
export {
  openOnlineStore,
  type OnlineStore,
  type OnlineView,
  type OnlineRow,
  type OnlineWrite,
  type EntityKey,
  type ViewRead,
} from "./online/store";
export { onlineViewOf } from "./online/view";
export { openOfflineStore, type OfflineStore } from "./offline/store";
export { materialize, FileMaterializationState, MemoryMaterializationState, type MaterializeSummary } from "./materialize";
export { buildTrainingSet } from "./training-set";
export { getOnlineFeatures, type GetOnlineFeaturesRequest, type GetOnlineFeaturesResponse } from "./online-features";
