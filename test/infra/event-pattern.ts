/**
 * A small EventBridge event-pattern matcher for the tests (no maintained npm library does this offline).
 * Supports what EventBridge documents for content filtering that a rule here may use: literal lists,
 * nested objects, `$or`, `prefix`, `suffix`, `wildcard`, `anything-but`, `exists`, `equals-ignore-case`, `numeric`.
 * Any other operator throws, so a pattern using one cannot pass unnoticed.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Pattern = { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function matchNumeric(value: Json, conditions: Json[]): boolean {
  if (typeof value !== "number") return false;
  for (let i = 0; i < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1];
    if (typeof bound !== "number") throw new Error(`numeric: bad bound ${JSON.stringify(bound)}`);
    const ok =
      op === "="
        ? value === bound
        : op === "<"
          ? value < bound
          : op === "<="
            ? value <= bound
            : op === ">"
              ? value > bound
              : op === ">="
                ? value >= bound
                : undefined;
    if (ok === undefined) throw new Error(`numeric: unknown operator ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

/**
 * EventBridge's `wildcard`: `*` matches any run of characters (`\\*` a literal one); two wildcards in a row
 * are refused by EventBridge, so here too.
 */
function wildcardRegExp(pattern: string): RegExp {
  if (/(?<!\\)\*\*/.test(pattern)) throw new Error(`wildcard: consecutive wildcards in ${pattern}`);
  const parts = pattern
    .split(/(?<!\\)\*/)
    .map((part) => part.replace(/\\\*/g, "*").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`, "s");
}

/** Whether one (scalar) event value matches one element of a pattern list. */
function matchElement(value: Json, element: Json): boolean {
  if (!isObject(element)) return value === element;
  const [operator, ...rest] = Object.keys(element);
  if (operator === undefined || rest.length > 0) throw new Error(`bad matcher ${JSON.stringify(element)}`);
  const argument = element[operator] as Json;
  switch (operator) {
    case "prefix":
      if (isObject(argument) && typeof argument["equals-ignore-case"] === "string") {
        return (
          typeof value === "string" &&
          value.toLowerCase().startsWith(argument["equals-ignore-case"].toLowerCase())
        );
      }
      return typeof value === "string" && typeof argument === "string" && value.startsWith(argument);
    case "wildcard":
      if (typeof argument !== "string") throw new Error("wildcard needs a string");
      return typeof value === "string" && wildcardRegExp(argument).test(value);
    case "suffix":
      return typeof value === "string" && typeof argument === "string" && value.endsWith(argument);
    case "equals-ignore-case":
      return (
        typeof value === "string" &&
        typeof argument === "string" &&
        value.toLowerCase() === argument.toLowerCase()
      );
    case "anything-but": {
      if (isObject(argument)) return !matchElement(value, argument);
      return !(Array.isArray(argument) ? argument : [argument]).some((excluded) => value === excluded);
    }
    case "numeric":
      if (!Array.isArray(argument)) throw new Error("numeric needs a list");
      return matchNumeric(value, argument);
    case "exists":
      // Handled by the caller, which knows whether the field is present.
      return argument === true;
    default:
      throw new Error(`unsupported pattern operator ${JSON.stringify(operator)}`);
  }
}

function matchField(present: boolean, value: Json | undefined, pattern: Json): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((element) => {
      if (isObject(element) && "exists" in element) return element.exists === present;
      if (!present || value === undefined) return false;
      const values = Array.isArray(value) ? value : [value];
      return values.some((item) => matchElement(item, element));
    });
  }
  if (isObject(pattern)) {
    if (!present || value === undefined) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((item) => isObject(item) && matches(pattern, item));
  }
  throw new Error(`pattern leaves must be lists: ${JSON.stringify(pattern)}`);
}

/** Whether `event` matches the EventBridge `pattern`. */
export function matches(pattern: Pattern, event: Record<string, Json>): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === "$or") {
      if (!Array.isArray(expected) || expected.length === 0) throw new Error("$or needs a non-empty list");
      if (!expected.some((branch) => isObject(branch) && matches(branch, event))) return false;
      continue;
    }
    if (!matchField(key in event, event[key], expected)) return false;
  }
  return true;
}

export type { Json, Pattern };
