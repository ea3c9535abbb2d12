-- Applies one tag's share of a batch (every key it touches carries the tag: one Redis Cluster
-- slot) together with that tag's bookkeeping, atomically (one EVAL).
-- KEYS[1]: the tag's `seen` hash. ARGV[1]: JSON {prefix, tag, truncated, ops, derive}; keys in it come
-- without the generation's prefix. Versions and orders are 16 hex digits (versionText): Lua's
-- numbers are doubles, exact only below 2^53, and versions carry the source epoch in their top
-- bits. Offsets are below 2^53.
--
-- Why each op applies at most once, and none that should is refused. The tag keeps, per source
-- partition p, `next` (the offset after the last op from p it processed) and `high` (the largest
-- (order, version) of a streamed change from p it processed), and each row it holds with that
-- row's version. An op from p at offset o:
--   1. o < next: a replay of what this tag processed already: skipped. Within one partition ops
--      reach a tag in offset order (the runtime applies a partition's batches in order), so
--      nothing unprocessed lies below `next`.
--   2. below the table's last TRUNCATE in (order, version): refused (it was before it).
--   3. the row is held: applies iff its version is above the stored one (a snapshot read,
--      version 0, never overwrites): runtime/decode/version.ts says why that is exact.
--   4. the row is not held (never seen, deleted, or evicted by a bound): an incremental
--      snapshot read (order above 0) applies (it is PostgreSQL's row when read, newer than
--      every change of it before it in the partition); an initial snapshot read (order 0)
--      applies iff nothing streamed from p reached the tag yet (an initial snapshot precedes all
--      streaming, so one after it is a stale read: a row deleted since is not brought back); a
--      streamed change applies iff above `high`. A row's changes all come from one
--      partition, in increasing (order, version) (commit order; equal only for one record's ops
--      on one tag, which share an offset), so a fresh change is above `high` and a redelivered
--      one (Debezium after a crash: same change, a new offset) is not. A dead letter handed back
--      (its own topic, old positions) applies if its row is not held: a row a newer change
--      then evicted, deleted or made inactive comes back (no tombstone is kept: named in the
--      README, with its repair).
-- `next`, `high`, the row versions and the effects change in one script, so each holds for the
-- tag whatever crashes between scripts; the checkpoint is written after every tag's script
-- (sink.ts), and a restart from it skips what each tag processed.
local payload = cjson.decode(ARGV[1])
local P = payload.prefix
local function k(name) return P .. name end
local ZERO = '0000000000000000'
local deferred, deferred_order, report = {}, {}, {}

-- Is fixed-width hex `a` above `b` as numbers? Not Lua's `>` on strings: that is strcoll, in
-- the server's locale; 8 digits at a time are below 2^32, exact as doubles.
local function above(a, b)
  for i = 1, #a, 8 do
    local x, y = tonumber(string.sub(a, i, i + 7), 16), tonumber(string.sub(b, i, i + 7), 16)
    if x ~= y then return x > y end
  end
  return false
end

local function defer(c)
  local id = cjson.encode(c)
  if not deferred[id] then
    deferred[id] = c
    table.insert(deferred_order, id)
  end
end

local function apply(c)
  local cmd = c.cmd
  if cmd == 'SADD' or cmd == 'SREM' or cmd == 'ZREM' or cmd == 'HDEL' then redis.call(cmd, k(c.key), c.member)
  elseif cmd == 'ZADD' then redis.call('ZADD', k(c.key), c.score, c.member)
  elseif cmd == 'HSET' then redis.call('HSET', k(c.key), c.member, c.value)
  elseif cmd == 'SET' then redis.call('SET', k(c.key), c.value)
  elseif cmd == 'DEL' then redis.call('DEL', k(c.key))
  else defer(c) end
end

-- HDEL of many fields, in chunks Lua's unpack can take
local function hdel_all(key, fields)
  for i = 1, #fields, 1000 do redis.call('HDEL', key, unpack(fields, i, math.min(i + 999, #fields))) end
end

-- derived state
local function count(c)
  redis.call('SET', k(c.key), redis.call('SCARD', k(c.set)))
end

-- The newest `limit` as JSON. Held: the newest `keep` and every unread item older than them; a read
-- item ranked below `keep` goes, its version with it (rule 4 covers its later changes).
local function recent(c)
  local index, items = k(c.index), k(c.items)
  local beyond, gone = redis.call('ZREVRANGE', index, c.keep, -1), {}
  for _, id in ipairs(beyond) do
    if redis.call('SISMEMBER', k(c.unread), id) == 0 then table.insert(gone, id) end
  end
  if #gone > 0 then
    for i = 1, #gone, 1000 do redis.call('ZREM', index, unpack(gone, i, math.min(i + 999, #gone))) end
    hdel_all(items, gone)
    hdel_all(k(c.rows), gone)
  end
  local ids = redis.call('ZREVRANGE', index, 0, c.limit - 1)
  if #ids == 0 then redis.call('DEL', k(c.key)) return end
  local values = redis.call('HMGET', items, unpack(ids))
  redis.call('SET', k(c.key), '[' .. table.concat(values, ',') .. ']')
end

-- A conversation's (unread, newest) per participant, published with a sequence number for the
-- participants' own slots (sink.ts writes it there, newest sequence wins). Held per sender: the
-- ids some other participant has not read, and the conversation's newest KEEP_NEWEST (so newest
-- survives deletes of a few of them); the rest go. Nothing goes before the participants are
-- known. A last read moving back would count evicted ids as read: PostgreSQL refuses that
-- (sql/009-read-marks-forward.sql).
local KEEP_NEWEST = 8
local function conversation(c)
  local T = '{' .. c.conversation .. '}'
  local participants = redis.call('SMEMBERS', k('nova:conversation:participants:' .. T))
  local last_read = k('nova:conversation:last-read:' .. T)
  local function messages(sender) return k('nova:conversation:messages:' .. T .. ':' .. sender) end
  local read, tops = {}, {}
  for _, p in ipairs(participants) do
    read[p] = tonumber(redis.call('HGET', last_read, p) or '0')
    local top = redis.call('ZREVRANGE', messages(p), 0, KEEP_NEWEST - 1, 'WITHSCORES')
    for i = 2, #top, 2 do table.insert(tops, tonumber(top[i])) end
  end
  table.sort(tops, function(a, b) return a > b end)
  local newest, kept_from = tops[1] or 0, tops[KEEP_NEWEST] or 0
  if #participants >= 2 and kept_from > 0 then
    local rows = k('nova:rows:public.messages:' .. T)
    for _, s in ipairs(participants) do
      local floor
      for _, p in ipairs(participants) do
        if p ~= s and (floor == nil or read[p] < floor) then floor = read[p] end
      end
      local upto = math.min(floor, kept_from - 1)
      if upto > 0 then
        local gone = redis.call('ZRANGEBYSCORE', messages(s), '-inf', upto)
        if #gone > 0 then
          redis.call('ZREMRANGEBYSCORE', messages(s), '-inf', upto)
          hdel_all(rows, gone)
        end
      end
    end
  end
  local published = k('nova:conversation:published:' .. T)
  local seq = redis.call('INCR', k('nova:conversation:publish-seq:' .. T))
  local current = {}
  for _, p in ipairs(participants) do
    local unread = 0
    for _, s in ipairs(participants) do
      if s ~= p then unread = unread + redis.call('ZCOUNT', messages(s), '(' .. read[p], '+inf') end
    end
    current[p] = true
    redis.call('HSET', published, p, seq .. '|' .. unread .. '|' .. newest)
  end
  for _, p in ipairs(redis.call('HKEYS', published)) do
    if not current[p] then redis.call('HSET', published, p, seq .. '|gone') end
  end
end

-- a follow edge exists while at least one follows row for the pair is active
local function edge(c)
  redis.call(redis.call('SCARD', k(c.rows)) > 0 and 'SADD' or 'SREM', k(c.edge), c.member)
end

local seen, loaded = {}, {}
local function seen_of(source)
  if not seen[source] then
    local stored = redis.call('HGET', KEYS[1], source)
    local s = { next = 0, high = '', high_offset = -1 }
    if stored then
      local bar = string.find(stored, '|', 1, true)
      s.next, s.high = tonumber(string.sub(stored, 1, bar - 1)), string.sub(stored, bar + 1)
    end
    seen[source], loaded[source] = s, s.next
  end
  return seen[source]
end

-- derived state to recompute whatever applies (after a truncate swept what it derives from)
for _, c in ipairs(payload.derive) do
  defer(c)
  if c.cmd == 'CONVERSATION' then report[c.conversation] = true end
end

local applied = 0
for _, op in ipairs(payload.ops) do
  local s = seen_of(op.source)
  for _, c in ipairs(op.commands) do
    if c.cmd == 'CONVERSATION' then report[c.conversation] = true end
  end
  if op.offset >= loaded[op.source] then
    local at = op.order .. op.version
    local cut = payload.truncated[op.table]
    local rows = k('nova:rows:' .. op.table .. ':{' .. payload.tag .. '}')
    local stored = redis.call('HGET', rows, op.id)
    local streamed = not op.letter and op.version ~= ZERO
    local fresh
    if cut and not above(at, cut) then fresh = false
    elseif stored then fresh = above(op.version, stored)
    elseif not streamed then fresh = op.letter or op.order ~= ZERO or s.high == ''
    else fresh = s.high == '' or above(at, s.high) or (at == s.high and op.offset == s.high_offset) end
    if fresh then
      for _, c in ipairs(op.commands) do apply(c) end
      if op.holds then redis.call('HSET', rows, op.id, op.version) else redis.call('HDEL', rows, op.id) end
      applied = applied + 1
    end
    if op.offset + 1 > s.next then s.next = op.offset + 1 end
    if streamed and (s.high == '' or above(at, s.high)) then s.high, s.high_offset = at, op.offset end
  end
end
for source, s in pairs(seen) do
  if s.next > loaded[source] then redis.call('HSET', KEYS[1], source, string.format('%d', s.next) .. '|' .. s.high) end
end

for _, id in ipairs(deferred_order) do
  local c = deferred[id]
  if c.cmd == 'COUNT' then count(c)
  elseif c.cmd == 'RECENT' then recent(c)
  elseif c.cmd == 'CONVERSATION' then conversation(c)
  elseif c.cmd == 'EDGE' then edge(c) end
end

-- every conversation an op named, applied or skipped: a crash between this script and the
-- participants' slots leaves them to the replay, which skips the ops but publishes again
local out = { applied }
for conv, _ in pairs(report) do
  local published = redis.call('HGETALL', k('nova:conversation:published:{' .. conv .. '}'))
  for i = 1, #published, 2 do
    table.insert(out, conv)
    table.insert(out, published[i])
    table.insert(out, published[i + 1])
  end
end
return out
