// DuckDB values to the JSON-safe cell values of a ResultPayload.
//
// Numbers that fit a double exactly (up to INTEGER/UINTEGER, FLOAT, DOUBLE) stay
// numbers; BIGINT, HUGEINT and DECIMAL become their exact decimal text. Temporal
// values, INTERVAL, UUID, ENUM and BLOB use DuckDB's own text form (dates and
// timestamps as 'YYYY-MM-DD hh:mm:ss[.ffffff][+hh]', blobs with \xNN escapes).
// Nested values (LIST, ARRAY, STRUCT, MAP, UNION) become JSON text whose leaves
// follow the same rules, so a BIGINT inside a list keeps its precision.

import {
  DuckDBDateValue,
  DuckDBMapType,
  DuckDBMapValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBType,
  DuckDBTypeId,
  DuckDBValue,
  DuckDBValueConverter,
  Json,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';
import type { ResultValue } from './resultPayload';

/** One top-level cell value for the payload. */
export function toResultValue(value: DuckDBValue, type: DuckDBType): ResultValue {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return value === true;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return Number(value);
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return floatValue(value, type);
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION:
    case DuckDBTypeId.VARIANT:
      return JSON.stringify(toNestedJson(value, type));
    default:
      return scalarText(value, type);
  }
}

/** A finite FLOAT/DOUBLE as a number (FLOAT in its shortest form: 0.1, not 0.10000000149011612); NaN and ±Infinity, which JSON lacks, as text. */
function floatValue(value: Exclude<DuckDBValue, null>, type: DuckDBType): number | string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  if (type.typeId !== DuckDBTypeId.FLOAT) return value;
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(value.toPrecision(digits));
    if (Math.fround(shorter) === value) return shorter;
  }
  return value;
}

/** DuckDB's text for a scalar, fixing the infinities node-api prints as far-off dates. */
function scalarText(value: Exclude<DuckDBValue, null>, type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.DATE:
      if (value instanceof DuckDBDateValue) {
        if (value.days === DuckDBDateValue.PosInf.days) return 'infinity';
        if (value.days === DuckDBDateValue.NegInf.days) return '-infinity';
      }
      break;
    case DuckDBTypeId.TIMESTAMP_S:
      if (value instanceof DuckDBTimestampSecondsValue) {
        return infinityText(value.seconds, DuckDBTimestampSecondsValue.PosInf.seconds) ?? String(value);
      }
      break;
    case DuckDBTypeId.TIMESTAMP_MS:
      if (value instanceof DuckDBTimestampMillisecondsValue) {
        return infinityText(value.millis, DuckDBTimestampMillisecondsValue.PosInf.millis) ?? String(value);
      }
      break;
    case DuckDBTypeId.TIMESTAMP_NS:
      if (value instanceof DuckDBTimestampNanosecondsValue) {
        return infinityText(value.nanos, DuckDBTimestampNanosecondsValue.PosInf.nanos) ?? String(value);
      }
      break;
  }
  return String(value);
}

function infinityText(stored: bigint, posInf: bigint): string | undefined {
  if (stored === posInf) return 'infinity';
  if (stored === -posInf) return '-infinity';
  return undefined;
}

/**
 * node-api's JSON converter with these changes: INTERVAL and temporal values as
 * DuckDB text (not an object of months/days/micros), FLOATs in shortest form,
 * MAPs with VARCHAR keys as JSON objects, and any type it cannot convert as
 * text instead of an error.
 */
const nestedConverter: DuckDBValueConverter<Json> = (value, type, _converter) => {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return floatValue(value, type);
    case DuckDBTypeId.INTERVAL:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return scalarText(value, type);
    case DuckDBTypeId.MAP:
      if (value instanceof DuckDBMapValue && type instanceof DuckDBMapType && type.keyType.typeId === DuckDBTypeId.VARCHAR) {
        const object: { [key: string]: Json } = {};
        for (const entry of value.entries) {
          object[String(entry.key)] = nestedConverter(entry.value, type.valueType, nestedConverter);
        }
        return object;
      }
      break;
  }
  try {
    return JsonDuckDBValueConverter(value, type, nestedConverter);
  } catch {
    return String(value);
  }
};

function toNestedJson(value: DuckDBValue, type: DuckDBType): Json {
  return nestedConverter(value, type, nestedConverter);
}
