/**
 * Hand-off to a SOC's own tools: idc-audit's events, with what it worked out about them, as OCSF 1.8.0
 * (NDJSON, or Parquet in Amazon Security Lake's custom-source layout).
 *
 *   const ocsf = auditEventToOcsf(event, { person });
 *   const { events } = await exportFromStore(runtime.store, runtime.roleQueries, { since });
 *   await writeSecurityLake("out/", events);
 */
export {
  type AuditEventContext,
  auditEventToOcsf,
  OCSF_VERSION,
  OcsfClass,
  type OcsfEvent,
  type Person,
  PRODUCT_NAME,
  PRODUCT_VERSION,
  personOf,
  type RoleEventContext,
  roleEventToOcsf,
  statedPerson,
} from "./ocsf.ts";
export { ocsfParquet, SOURCE_NAMES, type WrittenPartition, writeSecurityLake } from "./parquet.ts";
export { OcsfSchema, type ResolvedClass, type SchemaViolation } from "./schema.ts";
export { type ExportCounts, type ExportRange, exportFromStore } from "./store.ts";
