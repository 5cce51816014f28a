// Every background job of the service, each in its own file of this folder, run by one mechanism
// (worker.ts). Each process (replica) runs all of them; the database decides which process runs
// which item (leased claims), so they need no coordination beyond it. Each job's factory takes the
// service's deps (src/deps.ts): its database, configuration, logger and clock (due times and leases).
import type { Deps } from '../deps.js'
import { checkSettlementsJob, settlementCheckBacklog } from './check-settlements.js'
import { cleanUpWalletsJob, walletCleanupBacklog } from './clean-up-wallets.js'
import { deliverWebhooksJob, webhookDeliveryBacklog } from './deliver-webhooks.js'
import { abandonedCheckoutBacklog, expireAbandonedCheckoutsJob } from './expire-abandoned-checkouts.js'
import { finishResumeBacklog, resumeFinishesJob } from './resume-finishes.js'
import { startWorker, type Backlog } from './worker.js'

export interface RunningWorkers {
  /** Stops claiming and waits for the work in flight. */
  stop(): Promise<void>
}

export function startWorkers(deps: Deps): RunningWorkers {
  const workers = [
    startWorker(deps, deliverWebhooksJob(deps)),
    startWorker(deps, checkSettlementsJob(deps)),
    startWorker(deps, resumeFinishesJob(deps)),
    startWorker(deps, cleanUpWalletsJob(deps)),
    startWorker(deps, expireAbandonedCheckoutsJob(deps)),
  ]
  return {
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()))
    },
  }
}

/** How far behind a job is: what is due now, and how long the longest-waiting item has been due. */
export interface WorkerLag {
  due: number
  oldestDueAgeMs: number | null
}

const backlogs = {
  'deliver-webhooks': webhookDeliveryBacklog,
  'check-settlements': settlementCheckBacklog,
  'resume-finishes': finishResumeBacklog,
  'clean-up-wallets': walletCleanupBacklog,
  'expire-abandoned-checkouts': abandonedCheckoutBacklog,
} satisfies Record<string, (deps: Deps, now: Date) => Promise<Backlog>>

export type JobName = keyof typeof backlogs

/**
 * The lag of every job, read from the database (shared by all replicas: the same answer on each).
 * One aggregate query per job; for /metrics, at `now` on the service's clock.
 */
export async function readWorkerLag(deps: Deps, now: Date): Promise<Record<JobName, WorkerLag>> {
  const entries = await Promise.all(
    Object.entries(backlogs).map(async ([name, read]) => {
      const { due, oldestDueAt } = await read(deps, now)
      return [name, { due, oldestDueAgeMs: oldestDueAt ? Math.max(0, now.getTime() - oldestDueAt.getTime()) : null }] as const
    }),
  )
  return Object.fromEntries(entries) as Record<JobName, WorkerLag>
}
