// Counts in words: "1 host", "2 hosts", "1 meets", "2 meet". Every count a person reads
// goes through here, so none says "1 targets".

/** `n` and the noun that agrees with it: counted(1, 'host') is "1 host", counted(2, 'address', 'addresses') "2 addresses". */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The word that agrees with `n`, without it: agree(1, 'meets', 'meet') is "meets". */
export function agree(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
