import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The OCSF schema, read from the OCSF project's own sources (`dictionary.json`, `categories.json`,
 * `objects/`, `events/`, `profiles/`) and resolved the way the OCSF server resolves them: a class or object
 * inherits its `extends` chain, `$include`s pull in profile and shared attribute files, each attribute takes
 * its type, enum and array-ness from the dictionary unless the class or object overrides them. Nothing of the
 * schema is copied into idc-audit: validation and the Parquet layout both read it from here.
 */

/** One attribute as a class or object uses it, after resolution. */
export interface ResolvedAttribute {
  readonly name: string;
  /** A scalar type (`string_t`, `integer_t`, …) or an object name (`user`, `metadata`, …). */
  readonly type: string;
  readonly isArray: boolean;
  readonly requirement: "required" | "recommended" | "optional";
  /** Allowed values, when the attribute is an enum (keys as the schema writes them: `"1"`, `"GET"`). */
  readonly enum?: ReadonlySet<string>;
  /** The profile the attribute belongs to: it is part of a record only when the record declares it. */
  readonly profile?: string;
}

export interface Constraints {
  readonly atLeastOne?: readonly string[];
  readonly justOne?: readonly string[];
}

export interface ResolvedShape {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, ResolvedAttribute>;
  readonly constraints: Constraints;
}

export interface ResolvedClass extends ResolvedShape {
  readonly uid: number;
  readonly categoryUid: number;
  readonly caption: string;
}

interface ScalarType {
  readonly base: "string_t" | "integer_t" | "long_t" | "float_t" | "boolean_t" | "json_t";
  readonly regex?: RegExp;
  readonly maxLength?: number;
  readonly range?: readonly [number, number];
}

type Json = Record<string, unknown>;

/** One problem of one record: where in it (`user.uid`), and what. */
export interface SchemaViolation {
  readonly path: string;
  readonly message: string;
}

const SCALAR_BASES = new Set(["string_t", "integer_t", "long_t", "float_t", "boolean_t", "json_t"]);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, "utf8")) as Json;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? jsonFiles(join(dir, entry.name))
      : entry.name.endsWith(".json")
        ? [join(dir, entry.name)]
        : [],
  );
}

function asRecord(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** Child attribute definitions override the parent's key by key; enums are merged (a class adds activities). */
function mergeAttribute(parent: Json | undefined, child: Json): Json {
  if (!parent) return child;
  const merged: Json = { ...parent, ...child };
  if (parent.enum || child.enum) merged.enum = { ...asRecord(parent.enum), ...asRecord(child.enum) };
  return merged;
}

export class OcsfSchema {
  readonly version: string;
  private readonly dictionary: Json;
  private readonly types = new Map<string, ScalarType>();
  private readonly rawObjects = new Map<string, Json>();
  private readonly rawEvents = new Map<string, Json>();
  private readonly categories = new Map<string, number>();
  private readonly objects = new Map<string, ResolvedShape>();
  private readonly classesByUid = new Map<number, ResolvedClass>();

  /** Reads the schema sources under `dir` (the OCSF repository layout, e.g. `ocsf-schema-1.8.0/`). */
  constructor(private readonly dir: string) {
    this.version = String(readJson(join(dir, "version.json")).version);
    this.dictionary = readJson(join(dir, "dictionary.json"));
    const types = asRecord(asRecord(this.dictionary.types).attributes);
    for (const name of Object.keys(types)) this.types.set(name, this.scalar(name, types));
    for (const [name, category] of Object.entries(
      asRecord(readJson(join(dir, "categories.json")).attributes),
    ))
      this.categories.set(name, Number(asRecord(category).uid));
    for (const file of jsonFiles(join(dir, "objects"))) {
      const object = readJson(file);
      this.rawObjects.set(String(object.name), object);
    }
    for (const file of jsonFiles(join(dir, "events"))) {
      const event = readJson(file);
      this.rawEvents.set(String(event.name), event);
    }
    for (const name of this.rawEvents.keys()) {
      const resolved = this.resolveClass(name);
      if (resolved) this.classesByUid.set(resolved.uid, resolved);
    }
  }

  private scalar(name: string, types: Json): ScalarType {
    const definition = asRecord(types[name]);
    // A type is its base (`email_t` is a `string_t`) with the base's limits and its own.
    const base = SCALAR_BASES.has(name) ? name : String(definition.type ?? "string_t");
    const parent = SCALAR_BASES.has(name) || base === name ? undefined : this.scalar(base, types);
    const range = Array.isArray(definition.range) ? (definition.range as number[]) : undefined;
    return {
      base: (parent?.base ?? (SCALAR_BASES.has(base) ? base : "string_t")) as ScalarType["base"],
      ...(typeof definition.regex === "string" ? { regex: new RegExp(definition.regex) } : {}),
      ...(typeof definition.max_len === "number" ? { maxLength: definition.max_len } : {}),
      ...(range && range.length === 2 ? { range: [range[0] as number, range[1] as number] as const } : {}),
    };
  }

  /** The attributes of a definition with its `$include`s expanded, each tagged with the profile it came from. */
  private ownAttributes(definition: Json): Map<string, Json> {
    const attributes = new Map<string, Json>();
    const own = asRecord(definition.attributes);
    const includes = Array.isArray(own.$include) ? (own.$include as string[]) : [];
    for (const include of includes) {
      const included = readJson(join(this.dir, include));
      const profile = included.meta === "profile" ? String(included.name) : undefined;
      for (const [name, attribute] of this.ownAttributes(included)) {
        attributes.set(
          name,
          profile && attribute.profile === undefined ? { ...attribute, profile } : attribute,
        );
      }
    }
    for (const [name, attribute] of Object.entries(own)) {
      if (name === "$include") continue;
      attributes.set(name, mergeAttribute(attributes.get(name), asRecord(attribute)));
    }
    return attributes;
  }

  /** Attribute definitions along the `extends` chain, root first, child overriding. */
  private chain(
    raw: ReadonlyMap<string, Json>,
    name: string,
  ): { attributes: Map<string, Json>; constraints: Json } {
    const definition = raw.get(name);
    if (!definition) throw new Error(`OCSF schema has no definition named ${name}`);
    const parentName = typeof definition.extends === "string" ? definition.extends : undefined;
    const inherited = parentName
      ? this.chain(raw, parentName)
      : { attributes: new Map<string, Json>(), constraints: {} };
    for (const [attribute, own] of this.ownAttributes(definition)) {
      inherited.attributes.set(attribute, mergeAttribute(inherited.attributes.get(attribute), own));
    }
    const constraints = definition.constraints ? asRecord(definition.constraints) : inherited.constraints;
    return { attributes: inherited.attributes, constraints };
  }

  private resolveAttributes(attributes: ReadonlyMap<string, Json>): Map<string, ResolvedAttribute> {
    const dictionary = asRecord(this.dictionary.attributes);
    const resolved = new Map<string, ResolvedAttribute>();
    for (const [name, local] of attributes) {
      const definition = mergeAttribute(asRecord(dictionary[name]), local);
      if (definition.type === undefined)
        throw new Error(`OCSF attribute ${name} has no type in the dictionary`);
      const enumKeys = definition.enum ? new Set(Object.keys(asRecord(definition.enum))) : undefined;
      const requirement = String(definition.requirement ?? "optional") as ResolvedAttribute["requirement"];
      resolved.set(name, {
        name,
        type: String(definition.type),
        isArray: definition.is_array === true,
        requirement,
        ...(enumKeys ? { enum: enumKeys } : {}),
        ...(typeof definition.profile === "string" ? { profile: definition.profile } : {}),
      });
    }
    return resolved;
  }

  private constraintsOf(raw: Json): Constraints {
    return {
      ...(Array.isArray(raw.at_least_one) ? { atLeastOne: raw.at_least_one as string[] } : {}),
      ...(Array.isArray(raw.just_one) ? { justOne: raw.just_one as string[] } : {}),
    };
  }

  private resolveClass(name: string): ResolvedClass | undefined {
    const definition = this.rawEvents.get(name);
    if (!definition || typeof definition.uid !== "number") return undefined;
    // The category is declared by the nearest definition of the chain that names one (`iam`, `application`).
    let categoryName: string | undefined;
    for (let current: Json | undefined = definition; current && !categoryName; ) {
      if (typeof current.category === "string") categoryName = current.category;
      current = typeof current.extends === "string" ? this.rawEvents.get(current.extends) : undefined;
    }
    const categoryUid = categoryName ? this.categories.get(categoryName) : undefined;
    if (categoryUid === undefined) return undefined;
    const { attributes, constraints } = this.chain(this.rawEvents, name);
    const uid = categoryUid * 1000 + definition.uid;
    const resolved = this.resolveAttributes(attributes);
    // The base event's enums of these two hold only "0": a class's own values are its uid and its category's,
    // as the OCSF server fills them in.
    for (const [attribute, value] of [
      ["class_uid", uid],
      ["category_uid", categoryUid],
    ] as const) {
      const known = resolved.get(attribute);
      if (known) resolved.set(attribute, { ...known, enum: new Set([String(value)]) });
    }
    return {
      name,
      uid,
      categoryUid,
      caption: String(definition.caption),
      attributes: resolved,
      constraints: this.constraintsOf(constraints),
    };
  }

  classByUid(uid: number): ResolvedClass | undefined {
    return this.classesByUid.get(uid);
  }

  /** An object type (`user`, `metadata`), resolved; undefined for a scalar type. */
  object(name: string): ResolvedShape | undefined {
    if (this.types.has(name)) return undefined;
    const known = this.objects.get(name);
    if (known) return known;
    const { attributes, constraints } = this.chain(this.rawObjects, name);
    const resolved = {
      name,
      attributes: this.resolveAttributes(attributes),
      constraints: this.constraintsOf(constraints),
    };
    this.objects.set(name, resolved);
    return resolved;
  }

  /** The scalar base of a type (`timestamp_t` → `long_t`), or undefined for an object type. */
  scalarBase(type: string): ScalarType["base"] | undefined {
    return this.types.get(type)?.base;
  }

  /**
   * Every way `record` departs from the class it claims (`class_uid`): unknown class or attribute, missing
   * required attribute, wrong type, value outside an enum, broken constraint, inconsistent `type_uid`.
   */
  validate(record: unknown): SchemaViolation[] {
    const violations: SchemaViolation[] = [];
    const event = asRecord(record);
    const eventClass = typeof event.class_uid === "number" ? this.classByUid(event.class_uid) : undefined;
    if (!eventClass)
      return [{ path: "class_uid", message: `no OCSF ${this.version} class ${String(event.class_uid)}` }];
    const profiles = new Set(
      Array.isArray(asRecord(event.metadata).profiles) ? (asRecord(event.metadata).profiles as string[]) : [],
    );
    this.checkShape(eventClass, event, "", profiles, violations);
    if (event.category_uid !== eventClass.categoryUid)
      violations.push({
        path: "category_uid",
        message: `must be ${eventClass.categoryUid} for class ${eventClass.uid}`,
      });
    if (typeof event.activity_id === "number" && event.type_uid !== eventClass.uid * 100 + event.activity_id)
      violations.push({
        path: "type_uid",
        message: `must be class_uid * 100 + activity_id = ${eventClass.uid * 100 + event.activity_id}`,
      });
    return violations;
  }

  private checkShape(
    shape: ResolvedShape,
    value: Json,
    path: string,
    profiles: ReadonlySet<string>,
    violations: SchemaViolation[],
  ): void {
    const at = (name: string) => (path ? `${path}.${name}` : name);
    for (const [name, attribute] of shape.attributes) {
      const active = attribute.profile === undefined || profiles.has(attribute.profile);
      if (
        attribute.requirement === "required" &&
        active &&
        (value[name] === undefined || value[name] === null)
      )
        violations.push({ path: at(name), message: "required attribute missing" });
    }
    for (const [name, field] of Object.entries(value)) {
      const attribute = shape.attributes.get(name);
      if (!attribute) {
        violations.push({ path: at(name), message: `not an attribute of ${shape.name}` });
        continue;
      }
      if (attribute.profile !== undefined && !profiles.has(attribute.profile))
        violations.push({
          path: at(name),
          message: `belongs to profile ${attribute.profile}, not in metadata.profiles`,
        });
      if (attribute.isArray) {
        if (!Array.isArray(field)) violations.push({ path: at(name), message: "must be an array" });
        else
          for (const [index, item] of field.entries())
            this.checkValue(attribute, item, `${at(name)}[${index}]`, profiles, violations);
      } else this.checkValue(attribute, field, at(name), profiles, violations);
    }
    const present = (names: readonly string[]) => names.filter((name) => value[name] !== undefined);
    const { atLeastOne, justOne } = shape.constraints;
    if (atLeastOne && present(atLeastOne).length === 0)
      violations.push({ path: path || "(event)", message: `needs at least one of ${atLeastOne.join(", ")}` });
    if (justOne && present(justOne).length !== 1)
      violations.push({ path: path || "(event)", message: `needs exactly one of ${justOne.join(", ")}` });
  }

  private checkValue(
    attribute: ResolvedAttribute,
    value: unknown,
    path: string,
    profiles: ReadonlySet<string>,
    violations: SchemaViolation[],
  ): void {
    const fail = (message: string) => violations.push({ path, message });
    if (attribute.enum && !attribute.enum.has(String(value))) {
      fail(`${JSON.stringify(value)} is not one of the enum's values`);
      return;
    }
    const scalar = this.types.get(attribute.type);
    if (!scalar) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail(`must be a ${attribute.type} object`);
        return;
      }
      // The generic `object` (e.g. `unmapped`) holds whatever the source had: no attributes to check.
      if (attribute.type === "object") return;
      const shape = this.object(attribute.type);
      if (shape) this.checkShape(shape, value as Json, path, profiles, violations);
      return;
    }
    switch (scalar.base) {
      case "json_t":
        return;
      case "boolean_t":
        if (typeof value !== "boolean") fail("must be a boolean");
        return;
      case "float_t":
        if (typeof value !== "number" || !Number.isFinite(value)) fail("must be a number");
        return;
      case "integer_t":
      case "long_t": {
        const limits =
          scalar.base === "integer_t"
            ? [INT32_MIN, INT32_MAX]
            : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
        if (
          !Number.isInteger(value) ||
          (value as number) < (limits[0] as number) ||
          (value as number) > (limits[1] as number)
        )
          fail(`must be an ${scalar.base === "integer_t" ? "integer" : "long"}`);
        else if (scalar.range && ((value as number) < scalar.range[0] || (value as number) > scalar.range[1]))
          fail(`must be within ${scalar.range[0]}..${scalar.range[1]}`);
        return;
      }
      case "string_t": {
        if (typeof value !== "string") {
          fail(`must be a string (${attribute.type})`);
          return;
        }
        if (scalar.maxLength !== undefined && value.length > scalar.maxLength)
          fail(`longer than ${scalar.maxLength} characters`);
        if (scalar.regex && !scalar.regex.test(value)) fail(`does not match ${attribute.type}`);
        return;
      }
    }
  }
}
