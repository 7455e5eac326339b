// bench.mjs: the SMS-reminder outbox workload on pg-boss.
//
//   (a) enqueue N reminder jobs with pg-boss's batch insert (timed on its own),
//   (b) workers claim jobs in batches, POST each job's payload as JSON to the
//       gateway over keep-alive connections (at most C requests in flight),
//       2xx -> complete, anything else -> fail (pg-boss retries it),
//   (c) stop when all N are completed, verify with SQL that exactly N jobs are
//       in state 'completed' and none failed, print one JSON line on stdout.
//
// Written for pg-boss 10.4.2 (the newest that supports Node 20); the same file
// also runs against pg-boss 12.x on Node >= 22.12 (the few API differences are
// switched on the installed major version).
//
// Diagnostics (settings used, per-state counts, HTTP counts, enqueue CPU) go
// to stderr as one JSON line prefixed "# ", so stdout stays one JSON line.
//
// Run `node bench.mjs --help` for the options.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { Pool as HttpPool } from 'undici'
import * as pgBossModule from 'pg-boss'

// pg-boss 10 is CommonJS (default export); 11+ is ESM with a named export.
const PgBoss = pgBossModule.PgBoss ?? pgBossModule.default
const require = createRequire(import.meta.url)
const PGBOSS_VERSION = JSON.parse(readFileSync(require.resolve('pg-boss/package.json'), 'utf8')).version
const PGBOSS_MAJOR = Number(PGBOSS_VERSION.split('.')[0])

const HELP = `usage: node bench.mjs [options]
  --db URL             postgres://postgres@127.0.0.1:5432/bench_pgboss (database is created if missing;
                       pg-boss's schema is dropped before the run)
  --jobs N             jobs to enqueue and process (100000)
  --concurrency C      HTTP requests in flight at most, across all workers (64)
  --batch B            jobs claimed per fetch (100)
  --gateway URL        http://127.0.0.1:14500/send
  --mode M             fetch:  W loops of boss.fetch({batchSize}) -> POST the batch -> one
                               boss.complete(ids) + one boss.fail(ids) per batch (default)
                       stream: boss.fetch() refills a buffer, C senders drain it, completions are
                               batched B at a time (or every 20 ms)
                       work:   boss.work({batchSize}) handlers; pg-boss completes the batch on return
                               (12.x: localConcurrency, burstWhenBatchFull, perJobResults)
  --workers W          fetch/work: loops or work() workers (default: ceil(2*C/B), at least 2)
                       stream: claim queries in flight at once (default 1)
  --pool P             pg-boss connection pool size, the 'max' constructor option (10 = pg-boss default)
  --insert-chunk K     jobs per boss.insert() call (2000)
  --insert-parallel I  boss.insert() calls in flight (2)
  --priority BOOL      fetch option 'priority': ORDER BY priority desc first (false; pg-boss's own
                       default is true, which only matters with job priorities, and this workload has none)
  --analyze BOOL       ANALYZE the job table after enqueue, untimed (true): gives the fresh table the
                       statistics autovacuum would have given a long-lived one
  --record-output      complete each job on its own with the gateway's reply as output
                       (one round trip per job instead of one per batch)
  --poll-ms MS         fetch mode: sleep when a fetch comes back empty (100)
  --timeout-s S        give up after S seconds of processing (900)
  --schema NAME        pg-boss schema (pgboss)
  --queue NAME         queue name (sms-reminder)`

const { values: a } = parseArgs({
  options: {
    db: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/bench_pgboss' },
    jobs: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '64' },
    batch: { type: 'string', default: '100' },
    gateway: { type: 'string', default: 'http://127.0.0.1:14500/send' },
    mode: { type: 'string', default: 'fetch' },
    workers: { type: 'string' },
    pool: { type: 'string', default: '10' },
    'insert-chunk': { type: 'string', default: '2000' },
    'insert-parallel': { type: 'string', default: '2' },
    priority: { type: 'string', default: 'false' },
    analyze: { type: 'string', default: 'true' },
    'record-output': { type: 'boolean', default: false },
    'poll-ms': { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '900' },
    schema: { type: 'string', default: 'pgboss' },
    queue: { type: 'string', default: 'sms-reminder' },
    help: { type: 'boolean', default: false }
  }
})
if (a.help) { console.log(HELP); process.exit(0) }

const int = (name, v, min = 1) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) { console.error(`--${name} must be an integer >= ${min}`); process.exit(64) }
  return n
}
const N = int('jobs', a.jobs)
const C = int('concurrency', a.concurrency)
const B = int('batch', a.batch)
const W = a.workers !== undefined
  ? int('workers', a.workers)
  : a.mode === 'stream' ? 1 : Math.max(2, Math.ceil((2 * C) / B))
const POOL = int('pool', a.pool)
const INSERT_CHUNK = int('insert-chunk', a['insert-chunk'])
const INSERT_PAR = int('insert-parallel', a['insert-parallel'])
const POLL_MS = int('poll-ms', a['poll-ms'], 0)
const TIMEOUT_MS = int('timeout-s', a['timeout-s']) * 1000
const PRIORITY = a.priority === 'true'
const ANALYZE = a.analyze !== 'false'
const RECORD_OUTPUT = a['record-output']
const MODE = a.mode
const SCHEMA = a.schema
const QUEUE = a.queue
if (!['fetch', 'stream', 'work'].includes(MODE)) { console.error('--mode must be fetch, stream or work'); process.exit(64) }
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(SCHEMA)) { console.error('--schema: letters, digits, _'); process.exit(64) }

const log = (msg) => process.stderr.write(`# ${msg}\n`)
const die = (msg) => { process.stderr.write(`bench: ${msg}\n`); process.exit(2) }

// ---------------------------------------------------------------- payloads
const DAYS = ['Senin', 'Selasa', 'Rabu', 'Kamis', 'Jumat', 'Sabtu']
const PLACES = ['Klinik Sehat Sentosa', 'RS Harapan Kita', 'Puskesmas Menteng', 'Klinik Gigi Ceria']
const TEXT_LEN = 150 // one GSM-7 SMS segment, plain ASCII

function reminderText (i) {
  const day = DAYS[i % DAYS.length]
  const place = PLACES[(i >> 3) % PLACES.length]
  const hh = String(8 + (i % 9)).padStart(2, '0')
  const mm = ['00', '15', '30', '45'][(i >> 2) % 4]
  const head = `Yth Pasien, jadwal kontrol di ${place} hari ${day} pukul ${hh}.${mm} WIB. Mohon hadir 15 menit lebih awal. Balas YA utk konfirmasi. Ref `
  const width = TEXT_LEN - head.length
  return head + String(i).padStart(width, '0').slice(-width)
}

function reminder (i) {
  return {
    reminder_id: i,
    to: '+62812' + String(10_000_000 + (i * 7919) % 90_000_000).padStart(8, '0'),
    text: reminderText(i)
  }
}

// ---------------------------------------------------------------- database
async function withClient (connectionString, fn) {
  const c = new pg.Client({ connectionString, application_name: 'bench-pgboss-admin' })
  await c.connect()
  try { return await fn(c) } finally { await c.end() }
}

async function prepareDatabase () {
  const url = new URL(a.db)
  const dbName = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (!dbName) die('--db must name a database')
  const admin = new URL(a.db)
  admin.pathname = '/postgres'
  await withClient(admin.toString(), async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])
    if (rowCount === 0) {
      await c.query(`CREATE DATABASE "${dbName.replaceAll('"', '""')}"`)
      log(`created database ${dbName}`)
    }
  })
  return await withClient(a.db, async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
    // Flush the previous run's dirty pages now rather than during this run.
    try { await c.query('CHECKPOINT') } catch (err) { log(`CHECKPOINT skipped: ${err.message}`) }
    const { rows } = await c.query(`SELECT name, setting FROM pg_settings
      WHERE name IN ('server_version','fsync','synchronous_commit','shared_buffers','max_connections')`)
    return Object.fromEntries(rows.map(r => [r.name, r.setting]))
  })
}

async function stateCounts (c) {
  const { rows } = await c.query(
    `SELECT state::text AS state, count(*)::int AS n, sum(retry_count)::int AS retries,
            count(DISTINCT (data->>'reminder_id'))::int AS distinct_ids
       FROM ${SCHEMA}.job WHERE name = $1 GROUP BY state`, [QUEUE])
  const out = { total: 0, retries: 0 }
  for (const r of rows) { out[r.state] = r.n; out.total += r.n; out.retries += r.retries; out[`${r.state}_distinct`] = r.distinct_ids }
  out.archived = 0 // pg-boss 10 moves old jobs to an archive table; 11+ has none
  const { rows: [{ t }] } = await c.query('SELECT to_regclass($1) AS t', [`${SCHEMA}.archive`])
  if (t) out.archived = (await c.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.archive WHERE name = $1`, [QUEUE])).rows[0].n
  return out
}

// ---------------------------------------------------------------- gateway
const gw = new URL(a.gateway)
const gwPath = gw.pathname + gw.search
const http = new HttpPool(gw.origin, {
  connections: C, // keep-alive sockets; never more than C requests in flight (see sem below)
  pipelining: 1,
  keepAliveTimeout: 60_000
})

class Semaphore {
  constructor (n) { this.free = n; this.waiters = [] }
  acquire () {
    if (this.free > 0) { this.free--; return null }
    return new Promise(resolve => this.waiters.push(resolve))
  }

  release () {
    const next = this.waiters.shift()
    if (next) next(); else this.free++
  }
}
const sem = new Semaphore(C)
let httpOk = 0
let httpFail = 0
let inFlight = 0
let maxInFlight = 0

// POST one job's payload. Resolves { ok, status, body } and never rejects.
async function post (job) {
  const wait = sem.acquire()
  if (wait) await wait
  inFlight++
  if (inFlight > maxInFlight) maxInFlight = inFlight
  try {
    const res = await http.request({
      path: gwPath,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(job.data)
    })
    const body = await res.body.text()
    const ok = res.statusCode >= 200 && res.statusCode < 300
    if (ok) httpOk++; else httpFail++
    return { ok, status: res.statusCode, body }
  } catch (err) {
    httpFail++
    return { ok: false, status: 0, body: String(err?.message ?? err) }
  } finally {
    inFlight--
    sem.release()
  }
}

// Send a batch; report which ids succeeded and which failed.
async function sendBatch (jobs) {
  const results = await Promise.all(jobs.map(post))
  const okIds = []
  const failIds = []
  const okResults = []
  let lastError = null
  for (let i = 0; i < jobs.length; i++) {
    if (results[i].ok) { okIds.push(jobs[i].id); okResults.push(results[i]) } else { failIds.push(jobs[i].id); lastError = results[i] }
  }
  return { okIds, failIds, okResults, lastError }
}

// ---------------------------------------------------------------- main
const settings = await prepareDatabase()

const boss = new PgBoss({ connectionString: a.db, schema: SCHEMA, max: POOL, application_name: 'bench-pgboss' })
let bossError = null
boss.on('error', (err) => { bossError = err; process.stderr.write(`pg-boss error: ${err?.message ?? err}\n`) })
await boss.start()
// Retries for gateway failures: 3 retries, 1 s base delay, exponential backoff.
await boss.createQueue(QUEUE, { retryLimit: 3, retryDelay: 1, retryBackoff: true })

// (a) enqueue
const payloads = new Array(N)
for (let i = 0; i < N; i++) payloads[i] = reminder(i + 1)

const cpu0 = process.cpuUsage()
const tEnq0 = performance.now()
{
  let next = 0
  const inserter = async () => {
    while (next < N) {
      const from = next
      next = Math.min(N, next + INSERT_CHUNK)
      const jobs = new Array(next - from)
      if (PGBOSS_MAJOR >= 11) {
        for (let i = from; i < next; i++) jobs[i - from] = { data: payloads[i] }
        await boss.insert(QUEUE, jobs)
      } else {
        for (let i = from; i < next; i++) jobs[i - from] = { name: QUEUE, data: payloads[i] }
        await boss.insert(jobs)
      }
    }
  }
  await Promise.all(Array.from({ length: INSERT_PAR }, inserter))
}
const enqueueS = (performance.now() - tEnq0) / 1000
const cpuEnq = process.cpuUsage(cpu0)
payloads.length = 0

const verifyDb = new pg.Client({ connectionString: a.db, application_name: 'bench-pgboss-verify' })
await verifyDb.connect()
{
  const s = await stateCounts(verifyDb)
  if (s.created !== N || s.total !== N) die(`after enqueue expected ${N} created jobs, found ${JSON.stringify(s)}`)
  if (ANALYZE) await verifyDb.query(`ANALYZE ${SCHEMA}.job`)
}

// (b) process
const sinkBefore = await sinkCount()
let completed = 0 // jobs pg-boss reported as moved to 'completed' (fetch mode)
let sentOk = 0 // jobs whose POST returned 2xx
let failCalls = 0
let settleError = null
let done = false
let tEnd = 0 // when the N-th completion was acknowledged by the database
const pending = new Set()
const fetchMs = [] // fetch mode: latency of each non-empty boss.fetch()
const completeMs = [] // fetch mode: latency of each batch boss.complete()
const track = (p) => { pending.add(p); p.finally(() => pending.delete(p)) }

function addCompleted (n) {
  completed += n
  if (completed >= N && !tEnd) tEnd = performance.now()
}

async function settle (jobs, { okIds, failIds, okResults, lastError }) {
  const tasks = []
  if (okIds.length) {
    if (RECORD_OUTPUT) {
      for (let i = 0; i < okIds.length; i++) {
        tasks.push(boss.complete(QUEUE, okIds[i], { status: okResults[i].status, gateway: okResults[i].body })
          .then(r => { addCompleted(r.affected) }))
      }
    } else {
      const tc = performance.now()
      tasks.push(boss.complete(QUEUE, okIds).then(r => { completeMs.push(performance.now() - tc); addCompleted(r.affected) }))
    }
  }
  if (failIds.length) {
    failCalls++
    tasks.push(boss.fail(QUEUE, failIds, { message: `gateway answered ${lastError.status}`, body: lastError.body.slice(0, 200) }))
  }
  await Promise.all(tasks)
}

// 'priority' is a fetch option in pg-boss 10; 12.30+ ignores it (always priority order, by index).
const FETCH_OPTS = PGBOSS_MAJOR >= 12 ? { batchSize: B } : { batchSize: B, priority: PRIORITY }

const cpu1 = process.cpuUsage()
const t0 = performance.now()
const deadline = Date.now() + TIMEOUT_MS

if (MODE === 'fetch') {
  // The documented fetch-then-complete workflow: claim a batch with fetch(),
  // send it, then complete()/fail() the ids in one call each. Settling is not
  // awaited before the next fetch (pg-boss's own work() does the same); all
  // settles are awaited before the run is declared finished.
  let lastProbe = 0
  const loop = async () => {
    while (!done) {
      const tf = performance.now()
      const jobs = await boss.fetch(QUEUE, FETCH_OPTS)
      if (jobs.length > 0) fetchMs.push(performance.now() - tf)
      if (jobs.length === 0) {
        if (Date.now() > deadline) die(`timeout: ${completed}/${N} completed`)
        if (Date.now() - lastProbe > 1000) {
          lastProbe = Date.now()
          const s = await stateCounts(verifyDb)
          if ((s.created ?? 0) + (s.retry ?? 0) + (s.active ?? 0) === 0 && (s.completed ?? 0) < N && pending.size === 0) {
            die(`no runnable jobs left but only ${s.completed ?? 0}/${N} completed: ${JSON.stringify(s)}`)
          }
        }
        await sleep(POLL_MS)
        continue
      }
      const r = await sendBatch(jobs)
      sentOk += r.okIds.length
      const p = settle(jobs, r).catch(err => { settleError = err })
      track(p)
      if (sentOk >= N) { await p; await Promise.all([...pending]) }
      if (completed >= N) done = true
    }
  }
  await Promise.all(Array.from({ length: W }, loop))
  await Promise.all([...pending])
} else if (MODE === 'stream') {
  // fetch() + complete() again, arranged as a pipeline: one fetch in flight at
  // a time (--workers allows more) refills a buffer of claimed jobs whenever it
  // holds less than one batch; C senders take jobs from the buffer one by one;
  // 2xx ids are collected and completed with one complete() call per B ids (or
  // every 20 ms, whichever comes first), failures likewise with fail(). This
  // keeps C requests in flight all the time instead of waiting at the end of
  // each batch, and never runs two claim queries at once by default.
  const maxFetches = W
  let buf = []
  let head = 0
  let fetches = 0
  let waiters = []
  let okIds = []
  let failIds = []
  let lastError = null
  let lastProbe = 0
  const wakeAll = () => { const w = waiters; waiters = []; for (const r of w) r() }
  const available = () => buf.length - head
  const flushOk = () => {
    if (!okIds.length) return
    const ids = okIds
    okIds = []
    const tc = performance.now()
    track(boss.complete(QUEUE, ids).then(r => { completeMs.push(performance.now() - tc); addCompleted(r.affected); if (completed >= N) { done = true; wakeAll() } })
      .catch(err => { settleError = err; done = true; wakeAll() }))
  }
  const flushFail = () => {
    if (!failIds.length) return
    const ids = failIds
    failIds = []
    failCalls++
    track(boss.fail(QUEUE, ids, { message: `gateway answered ${lastError.status}`, body: lastError.body.slice(0, 200) })
      .catch(err => { settleError = err; done = true; wakeAll() }))
  }
  const timer = setInterval(() => { flushOk(); flushFail() }, 20)
  const refill = async () => {
    fetches++
    try {
      const tf = performance.now()
      const jobs = await boss.fetch(QUEUE, FETCH_OPTS)
      if (jobs.length > 0) {
        fetchMs.push(performance.now() - tf)
        if (head > 0 && head === buf.length) { buf = []; head = 0 }
        for (const j of jobs) buf.push(j)
      } else if (!done) {
        if (Date.now() > deadline) die(`timeout: ${completed}/${N} completed`)
        if (Date.now() - lastProbe > 1000) {
          lastProbe = Date.now()
          const s = await stateCounts(verifyDb)
          if ((s.created ?? 0) + (s.retry ?? 0) + (s.active ?? 0) === 0 && (s.completed ?? 0) < N && pending.size === 0) {
            die(`no runnable jobs left but only ${s.completed ?? 0}/${N} completed: ${JSON.stringify(s)}`)
          }
        }
        await sleep(POLL_MS)
      }
    } finally {
      fetches--
      wakeAll()
    }
  }
  const refills = new Set()
  const startRefill = () => {
    const p = refill().catch(err => { settleError = settleError || err; done = true; wakeAll() })
    refills.add(p)
    p.finally(() => refills.delete(p))
  }
  const next = async () => {
    while (!done) { // eslint-disable-line no-unmodified-loop-condition -- set by completion callbacks
      if (available() < B && fetches < maxFetches) startRefill()
      if (available() > 0) return buf[head++]
      await new Promise(resolve => waiters.push(resolve))
    }
    return null
  }
  const sender = async () => {
    for (let job = await next(); job; job = await next()) {
      const r = await post(job)
      if (r.ok) {
        sentOk++
        okIds.push(job.id)
        if (okIds.length >= B) flushOk()
      } else {
        lastError = r
        failIds.push(job.id)
        if (failIds.length >= B) flushFail()
      }
    }
  }
  await Promise.all(Array.from({ length: C }, sender))
  clearInterval(timer)
  await Promise.all([...pending])
  await Promise.allSettled([...refills])
} else {
  // work(): pg-boss polls, hands the handler a batch, and completes every job
  // of the batch when the handler returns (its fail() below takes the failed
  // ones out of 'active' first, so complete() skips them). pollingIntervalSeconds
  // is set to its minimum, 0.5 s; a worker whose batch came back full is
  // notified (notifyWorker) so it fetches again without waiting out the interval.
  if (PGBOSS_MAJOR >= 12) {
    // pg-boss 12 has what the notify trick below works around: localConcurrency
    // (W workers from one work() call), burstWhenBatchFull (fetch again at once
    // while batches come back full) and perJobResults (the handler returns one
    // outcome per job; pg-boss settles all completed jobs in one statement and
    // all failed ones in another, each with its own output).
    await boss.work(QUEUE, {
      batchSize: B,
      localConcurrency: W,
      burstWhenBatchFull: true,
      perJobResults: true,
      pollingIntervalSeconds: 0.5
    }, async (jobs) => {
      const results = await Promise.all(jobs.map(post))
      return jobs.map((job, i) => {
        const r = results[i]
        if (r.ok) {
          sentOk++
          return RECORD_OUTPUT ? { id: job.id, status: 'completed', output: { status: r.status, gateway: r.body } } : { id: job.id, status: 'completed' }
        }
        failCalls++
        return { id: job.id, status: 'failed', output: { message: `gateway answered ${r.status}`, body: r.body.slice(0, 200) } }
      })
    })
  }
  const ids = []
  for (let w = 0; w < (PGBOSS_MAJOR >= 12 ? 0 : W); w++) {
    const slot = w
    ids[slot] = await boss.work(QUEUE, { batchSize: B, priority: PRIORITY, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      const r = await sendBatch(jobs)
      sentOk += r.okIds.length
      if (r.failIds.length) {
        failCalls++
        await boss.fail(QUEUE, r.failIds, { message: `gateway answered ${r.lastError.status}`, body: r.lastError.body.slice(0, 200) })
      }
      if (RECORD_OUTPUT) {
        await Promise.all(r.okIds.map((id, i) => boss.complete(QUEUE, id, { status: r.okResults[i].status, gateway: r.okResults[i].body })))
      }
      if (jobs.length === B) boss.notifyWorker(ids[slot])
    })
  }
  // Completion is done by pg-boss itself, so count it in the database.
  while (true) {
    if (Date.now() > deadline) die(`timeout: ${sentOk}/${N} sent`)
    if (sentOk >= N) {
      const { rows } = await verifyDb.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.job WHERE name = $1 AND state = 'completed'`, [QUEUE])
      completed = rows[0].n
      if (completed >= N) { tEnd = performance.now(); break }
      await sleep(10)
    } else {
      await sleep(20)
    }
  }
}
const processS = ((tEnd || performance.now()) - t0) / 1000
const cpuProc = process.cpuUsage(cpu1)

if (MODE === 'work') await boss.offWork(QUEUE)
done = true

// (c) verify
const sinkAfter = await sinkCount()
const s = await stateCounts(verifyDb)
await boss.stop({ graceful: true, wait: true, timeout: 5000 })
await verifyDb.end()
await http.close()

const diag = {
  mode: MODE,
  jobs: N,
  concurrency: C,
  batch: B,
  workers: W,
  pool: POOL,
  pgboss_version: PGBOSS_VERSION,
  insert_chunk: INSERT_CHUNK,
  insert_parallel: INSERT_PAR,
  priority: PRIORITY,
  analyze: ANALYZE,
  record_output: RECORD_OUTPUT,
  node: process.version,
  http_2xx: httpOk,
  http_fail: httpFail,
  max_in_flight: maxInFlight,
  fail_calls: failCalls,
  gateway_count_delta: sinkBefore === null || sinkAfter === null ? null : sinkAfter - sinkBefore,
  enqueue_cpu_user_s: +(cpuEnq.user / 1e6).toFixed(3),
  enqueue_cpu_sys_s: +(cpuEnq.system / 1e6).toFixed(3),
  fetch_ms: summary(fetchMs),
  complete_ms: summary(completeMs),
  states: s,
  pg: settings
}
log(JSON.stringify(diag))

const problems = []
if (settleError) problems.push(`complete/fail call failed: ${settleError.message}`)
if (bossError) problems.push(`pg-boss emitted an error: ${bossError.message}`)
if (s.completed !== N) problems.push(`completed=${s.completed} expected ${N}`)
if (s.completed_distinct !== N) problems.push(`distinct reminder_id among completed=${s.completed_distinct} expected ${N}`)
if ((s.failed ?? 0) !== 0) problems.push(`failed=${s.failed}`)
if (s.total !== N) problems.push(`jobs in table=${s.total} expected ${N}`)
if (s.archived !== 0) problems.push(`archived=${s.archived}`)
if (httpOk < N) problems.push(`only ${httpOk} 2xx answers for ${N} jobs`)
if (diag.gateway_count_delta !== null && diag.gateway_count_delta < N) problems.push(`gateway counted ${diag.gateway_count_delta} sends for ${N} jobs`)
if (problems.length) die(`verification failed: ${problems.join('; ')}`)

console.log(JSON.stringify({
  jobs: N,
  enqueue_s: +enqueueS.toFixed(3),
  process_s: +processS.toFixed(3),
  // Wall-clock bounds of the processing phase (Unix seconds), so a sampler
  // outside can cut PostgreSQL's CPU to the same phase.
  process_started_at: +((performance.timeOrigin + t0) / 1000).toFixed(3),
  process_ended_at: +((performance.timeOrigin + (tEnd || performance.now())) / 1000).toFixed(3),
  jobs_per_s: Math.round(N / processS),
  node_cpu_user_s: +(cpuProc.user / 1e6).toFixed(3),
  node_cpu_sys_s: +(cpuProc.system / 1e6).toFixed(3),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  pgboss_version: PGBOSS_VERSION
}))
process.exit(0)

function summary (xs) {
  if (!xs.length) return null
  const v = [...xs].sort((x, y) => x - y)
  const q = (p) => +v[Math.min(v.length - 1, Math.floor(p * v.length))].toFixed(1)
  return { n: v.length, mean: +(v.reduce((x, y) => x + y, 0) / v.length).toFixed(1), p50: q(0.5), p95: q(0.95), max: +v[v.length - 1].toFixed(1) }
}

// GET <gateway origin>/count if the gateway offers it (sink.mjs does); null otherwise.
async function sinkCount () {
  try {
    const res = await http.request({ path: '/count', method: 'GET' })
    const text = await res.body.text()
    if (res.statusCode !== 200) return null
    const n = JSON.parse(text).count
    return Number.isInteger(n) ? n : null
  } catch { return null }
}
