/**
 * @internal The collections a request reaches through relations (`include`, relation filters
 * in `where`, computed fields), for API keys limited to some collections.
 * @module
 */
import type { CollectionModel, Model } from "../model/model.js";
import { isPlainObject } from "../define/object-keys.js";

function walkWhere(model: Model, collection: CollectionModel, where: unknown, reached: Set<string>): void {
  if (Array.isArray(where)) {
    for (const part of where) walkWhere(model, collection, part, reached);
    return;
  }
  if (!isPlainObject(where)) return;
  for (const [key, value] of Object.entries(where)) {
    if (key === "and" || key === "or" || key === "not") {
      walkWhere(model, collection, value, reached);
      continue;
    }
    const relation = collection.relations.get(key);
    const target = relation === undefined ? undefined : model.collections.get(relation.target);
    if (relation === undefined || target === undefined) continue;
    reached.add(target.name);
    if (relation.kind === "one") walkWhere(model, target, value, reached);
    else if (isPlainObject(value)) for (const filter of Object.values(value)) walkWhere(model, target, filter, reached);
  }
}

/** The collections that the computed fields a read returns count in (those `select` keeps). */
function walkComputed(collection: CollectionModel, select: unknown, reached: Set<string>): void {
  for (const field of collection.computed) {
    if (Array.isArray(select) && !select.includes(field.name)) continue;
    reached.add(field.relation.target);
  }
}

function walkInclude(model: Model, collection: CollectionModel, include: unknown, reached: Set<string>): void {
  if (!isPlainObject(include)) return;
  for (const [key, value] of Object.entries(include)) {
    const relation = collection.relations.get(key);
    const target = relation === undefined ? undefined : model.collections.get(relation.target);
    if (target === undefined || value === undefined || value === false) continue;
    reached.add(target.name);
    walkComputed(target, isPlainObject(value) ? value["select"] : undefined, reached);
    if (!isPlainObject(value)) continue;
    walkInclude(model, target, value["include"], reached);
    walkWhere(model, target, value["where"], reached);
  }
}

/**
 * The other collections that a request on `name` reaches: those its `where` and `include` name,
 * and those the computed fields of the records it returns count in.
 */
export function reachedCollections(model: Model, name: string, options: Record<string, unknown>): Set<string> {
  const reached = new Set<string>();
  const collection = model.collections.get(name);
  if (collection === undefined) return reached;
  walkComputed(collection, options["select"], reached);
  walkWhere(model, collection, options["where"], reached);
  walkInclude(model, collection, options["include"], reached);
  reached.delete(name);
  return reached;
}
