/**
 * The dispatch signal behind the scheduler's `poll()`: every landing of a
 * runtime operation netkit has in flight (a read, an accept, a receive) and
 * every batch of scheduler timers reports here. Nobody listens almost
 * always, so a report costs one comparison.
 *
 * @module
 */

let watchers: ((count: number) => void)[] = [];
let counted = 0;
let flushing = false;

/** Hands the batch counted so far to the watchers, once the current microtasks have run. */
function flush(): void {
  flushing = false;
  const list = watchers;
  const count = counted;
  watchers = [];
  counted = 0;
  for (const watcher of list) watcher(count);
}

/**
 * Reports `count` dispatched completions. The landings the runtime
 * resolves together (in one turn of the event loop) are counted as one
 * batch: the watchers hear of it after the microtasks already queued.
 */
export function dispatched(count = 1): void {
  if (watchers.length === 0) return;
  counted += count;
  if (!flushing) {
    flushing = true;
    queueMicrotask(flush);
  }
}

/** Calls `watcher` with the size of the next batch; the returned function stops it. */
export function watchDispatch(watcher: (count: number) => void): () => void {
  watchers.push(watcher);
  return () => {
    const at = watchers.indexOf(watcher);
    if (at !== -1) watchers.splice(at, 1);
  };
}
