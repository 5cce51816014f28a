// Writes that many concurrent items make (a delivery's outcome, say) go to the database together:
// the first item waits `gatherMs` for others to join it, and items that arrive while a write is in
// flight go in the next one. Each caller's promise settles when the write that carried its item
// committed (with what that write answered), or failed.
export function batchWrites<T, Result>(write: (items: T[]) => Promise<Result>, { gatherMs }: { gatherMs: number }): (item: T) => Promise<Result> {
  let queued: { item: T; done: (result: Result) => void; failed: (error: unknown) => void }[] = []
  let writing = false

  async function writeQueued(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued
      queued = []
      try {
        const result = await write(batch.map((entry) => entry.item))
        for (const entry of batch) entry.done(result)
      } catch (error) {
        for (const entry of batch) entry.failed(error)
      }
    }
    writing = false
  }

  return (item) =>
    new Promise<Result>((done, failed) => {
      queued.push({ item, done, failed })
      if (!writing) {
        writing = true
        setTimeout(() => void writeQueued(), gatherMs)
      }
    })
}
