// The one worker mechanism behind every background job (the jobs are the other files of this
// folder). A worker claims due items from the database (leased to this process, so no other
// process runs them meanwhile: claimDueRows in src/db.ts), runs up to `concurrency` of them at once,
// and claims again as slots free (an ordered job: when an item's end may have let more through,
// Job.queueOf) or when an announcement (the Database's onAnnouncement in src/db.ts: a commit in
// this service, or on PostgreSQL in any replica) says new work may be due. A poll every `pollMs`
// is the safety net: retries whose time came, leases of dead processes that ran out, and other
// processes on one SQLite file, which cannot announce across processes.
import type { Topic } from '../db.js'
import type { Deps } from '../deps.js'

export interface Backlog {
  /** Items due now (waiting for a slot, a claim, or an earlier item they are ordered behind). */
  due: number
  /** When the longest-waiting of them became due; null when nothing is due. */
  oldestDueAt: Date | null
}

export interface Job<Item> {
  /** Names the job in the logs and in the lag readings (src/workers/index.ts). */
  name: string
  /** At most this many items of this job run at once in one process. */
  concurrency: number
  /** How often to look for due items when nothing announced any. */
  pollMs: number
  /** Announcements after which items may be due at once (or, with announcesDueTimes, at the time they name). */
  wakeOn: readonly Topic[]
  /**
   * Claims woken by announcements (or, with queueOf, by an item whose queue may have more) are at
   * least this far apart (ms): one after a quiet spell claims at once, one within this long of the
   * last claim waits for the rest of it, together with whatever else is announced meanwhile. Work
   * committed close together (concurrent checkouts) is then claimed by one statement instead of
   * one each, and a lone event goes out at once. Default 0.
   */
  gatherMs?: number
  /**
   * true: an announcement's subject is when the announced work comes due (ISO 8601), and the
   * worker sets its timer for then instead of claiming at once (an announcement without one still
   * claims). For a job with nextDueAt.
   */
  announcesDueTimes?: boolean
  /**
   * Due times the worker looks at (announced, reported by run, or read by nextDueAt) are rounded up
   * to a multiple of this (ms), so that items coming due close together are claimed by one
   * statement. For jobs whose items need not run to the millisecond (a settlement check a second
   * after the payment). Default 0.
   */
  tickMs?: number
  /**
   * For a job whose items form ordered queues, where only the first item of a queue can be claimed
   * (a payment's webhook events): the queue of an item (undefined: the worker claims again after
   * it, as after any item of a job without queues). Announcements of new work name their queue as
   * their subject. One naming a queue with an item in flight claims nothing (its new item normally
   * waits behind that one) but has the worker claim when that item ends; one without a subject
   * does that for every item in flight, and claims. When an item ends, the worker claims again
   * only if its run answered `moreInQueue: true` (another item of its queue was waiting when its
   * outcome was written) or did not answer it, or threw, its queue was announced while it
   * ran, or, once at most half the slots are busy, the last claim took all it asked for or failed.
   * Without queueOf, the worker claims again as items end, whatever waits. Work whose only
   * announcement was lost, committed while an item of its queue ran but after that item's outcome
   * was written, waits for the poll.
   */
  queueOf?(item: Item): string | undefined
  /** Claims up to `limit` due items for this process (one statement: the Database's claimDueRows), due by the service's clock (deps.clock). */
  claim(limit: number): Promise<Item[]>
  /**
   * When the earliest item this process could claim (not leased to another) comes due, a next
   * check or a retry time, or null when there is none: the worker then wakes at that moment instead
   * of at its next poll. A time already past (an item that came due between the claim and this
   * question) makes it look again after a short pause. For jobs whose items come due on a
   * schedule soon enough for the poll to be late.
   */
  nextDueAt?(): Promise<Date | null>
  /**
   * Does one item's work and records its outcome. A throw is logged; the item's lease makes it due
   * again later. May answer what the worker should know of it (ItemOutcome).
   */
  run(item: Item): Promise<ItemOutcome | void>
  /** Releases what the job holds (connections) once the worker stopped. */
  close?(): Promise<void>
}

/** What a job's run tells the worker about the item it ran. */
export interface ItemOutcome {
  /**
   * When the item comes due again (a retry, a settlement's next check): the worker looks at that
   * time. For a job with nextDueAt, other items that came due while this one ran are found by the
   * look the worker takes once nothing is in flight.
   */
  dueAgainAt?: Date | null
  /** For a job with queueOf: whether another item of its queue was waiting (default true; see queueOf). */
  moreInQueue?: boolean
}

export interface Worker {
  /** Claims what is due now and runs it to the end; resolves to how many items ran (tests step with this). */
  runOnce(): Promise<number>
  /** Claims again soon (announcements and finished items call it). */
  wake(): void
  /** Stops claiming, then waits for the items in flight. */
  stop(): Promise<void>
}

/** The shortest wait before a look a job's nextDueAt asked for: no claim loop spins on a time already past. */
const MIN_LOOK_MS = 10

export interface WorkerOptions {
  /** false: no polling and no wake-ups; only runOnce() runs items (tests drive it step by step). Default true. */
  poll?: boolean
}

/** Runs `job` in this service: its logs go to deps.logger, its wake-ups come from deps.db's announcements. */
export function startWorker<Item>(deps: Deps, job: Job<Item>, options: WorkerOptions = {}): Worker {
  const log = deps.logger.child({ component: 'worker', job: job.name })
  const inFlight = new Set<Promise<void>>()
  let stopped = false
  let claiming: Promise<void> | undefined
  let lookAgain = false
  // The next look (a poll, or sooner): its timer and when it fires (by deps.clock).
  let nextLook: NodeJS.Timeout | undefined
  let nextLookAt: number | undefined
  // Whether due items may have been left behind: the last claim took as many as it asked for, none
  // could be asked for (every slot busy), or it failed.
  let moreMayBeDue = false
  // When the last claim began (performance.now(): the spacing of claims is real time, whatever
  // deps.clock says), for Job.gatherMs.
  let lastClaimAt = -Infinity
  // Ordered jobs (queueOf): the items in flight of each queue (usually one; two after a
  // redelivery), each marked when its queue is announced while it runs.
  const queuesInFlight = new Map<string, Set<{ announced: boolean }>>()

  function runItem(item: Item, afterwards?: (queueMayHaveMore: boolean) => void): Promise<void> {
    const queue = job.queueOf?.(item)
    const entry = { announced: false }
    if (queue !== undefined) {
      if (!queuesInFlight.has(queue)) queuesInFlight.set(queue, new Set())
      queuesInFlight.get(queue)!.add(entry)
    }
    let moreInQueue = true // unless the run says otherwise
    const running = job
      .run(item)
      .then(
        (outcome) => {
          if (outcome?.dueAgainAt) lookAt(outcome.dueAgainAt.getTime())
          moreInQueue = outcome?.moreInQueue ?? true
        },
        (error) => log.error({ err: error }, 'a background job item failed; it is retried when its lease ends'),
      )
      .finally(() => {
        inFlight.delete(running)
        if (queue !== undefined) {
          const entries = queuesInFlight.get(queue)!
          entries.delete(entry)
          if (entries.size === 0) queuesInFlight.delete(queue)
        }
        afterwards?.(queue === undefined || moreInQueue || entry.announced)
      })
    inFlight.add(running)
    return running
  }

  // One claim at a time per worker; wake-ups during a claim make it claim once more afterwards, so
  // a burst of commits or of finished items costs a few claims, not one each.
  async function claimWhileDue(): Promise<void> {
    try {
      while (lookAgain && !stopped) {
        lookAgain = false
        const free = job.concurrency - inFlight.size
        if (free <= 0) return void (moreMayBeDue = true) // every slot is busy: finishing items wake the worker (refill)
        lastClaimAt = performance.now()
        const items = await job.claim(free)
        for (const item of items) void runItem(item, refill)
        moreMayBeDue = items.length === free
        if (moreMayBeDue) lookAgain = true
      }
    } catch (error) {
      lookAgain = false
      moreMayBeDue = true // what it would have claimed is still due: the next item to end claims again
      log.error({ err: error }, 'claiming due work failed; trying again when an item ends or at the next poll')
    }
  }

  function wake(): void {
    if (stopped || options.poll === false) return
    lookAgain = true
    claiming ??= claimWhileDue().finally(() => {
      claiming = undefined
      if (lookAgain) wake() // woken after the loop's last look
      else void schedulePoll()
    })
  }

  // After an item: claim again once half the slots are free, so that a long backlog is claimed in
  // batches rather than one statement per item (an announcement still claims at once). A job that
  // knows its next due time claims again only when due items may have been left behind; otherwise,
  // once nothing is in flight, it reads when the next item comes due (items it could not see
  // while they were leased to it; an item's own retry time is looked at as it ends: runItem). An
  // ordered job (queueOf) claims again only when due items may have been left behind, or, gathered
  // like an announcement, when the item's queue may have more waiting.
  function refill(queueMayHaveMore: boolean): void {
    if (job.nextDueAt && !moreMayBeDue) {
      if (inFlight.size === 0) void schedulePoll()
    } else if (job.queueOf && !moreMayBeDue) {
      if (queueMayHaveMore) wakeGathered()
    } else if (inFlight.size <= job.concurrency / 2) wake()
  }

  /** Looks at `at` (by deps.clock) unless a look is set for earlier; rounded up to the job's tick. */
  function lookAt(at: number): void {
    if (stopped) return
    const tick = job.tickMs ?? 0
    const rounded = tick > 0 ? Math.ceil(at / tick) * tick : at
    if (nextLookAt !== undefined && nextLookAt <= rounded) return
    setLook(rounded)
  }

  function setLook(at: number): void {
    clearTimeout(nextLook)
    nextLookAt = at
    nextLook = setTimeout(
      () => {
        nextLookAt = undefined
        wake()
      },
      // A timer may fire a millisecond before the clock reads `at`: then the claim would find the
      // item not due yet. One millisecond later, it is.
      Math.max(MIN_LOOK_MS, at - deps.clock.now().getTime() + 1),
    ).unref()
  }

  // An announcement: work due at the time it names (announcesDueTimes), work of a queue (queueOf:
  // claimed now, or once the queue's item in flight ends), or work due now (claimed at once, or
  // gatherMs after the last claim together with whatever else is announced meanwhile).
  let gathering: NodeJS.Timeout | undefined
  function announced(subject: string | undefined): void {
    const dueAt = job.announcesDueTimes && subject ? Date.parse(subject) : NaN
    if (!Number.isNaN(dueAt)) return lookAt(dueAt)
    if (job.queueOf) {
      // Without a subject (a reconnected listener: announcements may have been lost), any queue may have news.
      const announcedQueues = subject === undefined ? [...queuesInFlight.values()] : [queuesInFlight.get(subject)]
      for (const entries of announcedQueues) for (const entry of entries ?? []) entry.announced = true
      if (subject !== undefined && queuesInFlight.has(subject)) return
    }
    wakeGathered()
  }

  function wakeGathered(): void {
    if (stopped) return
    const wait = lastClaimAt + (job.gatherMs ?? 0) - performance.now()
    if (wait <= 0 && !gathering) return wake()
    gathering ??= setTimeout(() => {
      gathering = undefined
      wake()
    }, wait).unref()
  }

  // The next look: at the poll, or sooner when the job knows an item comes due before it. The poll
  // is set first (the safety net while the job is asked); only the latest call may shorten it. With
  // every slot busy, the items finishing wake the worker anyway: the job is not asked.
  let looks = 0
  async function schedulePoll(): Promise<void> {
    if (stopped) return
    const pollAt = deps.clock.now().getTime() + job.pollMs
    if (nextLookAt === undefined || nextLookAt > pollAt) setLook(pollAt) // a look set sooner (announced) stays
    if (!job.nextDueAt || inFlight.size >= job.concurrency) return
    const look = ++looks
    const dueAt = await job.nextDueAt().catch((error) => {
      if (!stopped) log.error({ err: error }, 'reading when work comes due failed; looking at the next poll')
      return null
    })
    // Stopped, woken meanwhile (that claim schedules the next look), or a later look decides.
    if (stopped || claiming || look !== looks || !dueAt) return
    lookAt(dueAt.getTime())
  }

  const stopListening = options.poll === false ? [] : job.wakeOn.map((topic) => deps.db.onAnnouncement(topic, announced))
  wake() // work left over from before a restart starts now, not after the first poll

  return {
    wake,
    async runOnce() {
      const items = await job.claim(job.concurrency)
      await Promise.all(items.map((item) => runItem(item)))
      return items.length
    },
    async stop() {
      stopped = true
      clearTimeout(nextLook)
      clearTimeout(gathering)
      for (const stop of stopListening) stop()
      await claiming
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
      await job.close?.()
    },
  }
}
