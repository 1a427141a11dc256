/**
 * Adds `value` to the list `map` holds under `key`, in place. Copying the list on every addition
 * (`[...(map.get(key) ?? []), value]`) costs time in the square of its length: one address behind ten thousand
 * failed sign-ins or role-session calls is what an attack looks like, and then that cost is what matters.
 */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
