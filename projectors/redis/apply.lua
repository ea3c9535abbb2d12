-- Applies one batch of Nova's Redis ops and its checkpoints atomically (one EVAL).
-- KEYS[1]: the checkpoint hash. ARGV[1]: JSON {ops, checkpoints: [{field, value}]}; each op's
-- version and order (its commit order) are 16 hex digits (versionText): Lua's numbers are
-- doubles, exact only below 2^53, and versions carry the source epoch in their top bits.
-- An op runs only if its version is above the row's stored one (a snapshot read, version 0,
-- only where none is stored) and its (order, version) above the table's last TRUNCATE, so
-- replaying any range leaves the store as it was (runtime/decode/version.ts says why exact).
local payload = cjson.decode(ARGV[1])
local deferred, deferred_order = {}, {}

local function defer(c)
  local id = cjson.encode(c)
  if not deferred[id] then
    deferred[id] = c
    table.insert(deferred_order, id)
  end
end

local function each_key(pattern, visit)
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = page[1]
    for _, key in ipairs(page[2]) do visit(key) end
  until cursor == '0'
end

local function truncate(patterns)
  for _, pattern in ipairs(patterns) do
    each_key(pattern, function(key) redis.call('DEL', key) end)
  end
end

local function apply(c)
  local cmd = c.cmd
  if cmd == 'SADD' or cmd == 'SREM' or cmd == 'ZREM' or cmd == 'HDEL' then redis.call(cmd, c.key, c.member)
  elseif cmd == 'ZADD' then redis.call('ZADD', c.key, c.score, c.member)
  elseif cmd == 'HSET' then redis.call('HSET', c.key, c.member, c.value)
  elseif cmd == 'SET' then redis.call('SET', c.key, c.value)
  elseif cmd == 'DEL' then redis.call('DEL', c.key)
  elseif cmd == 'TRUNCATE' then truncate(c.patterns)
  else defer(c) end
end

-- derived state
local function count(c)
  redis.call('SET', c.key, redis.call('SCARD', c.set))
end

-- The index keeps every notification of the user, not just the newest `limit`: when one
-- of those is deleted, the next older one must move up, exactly as PostgreSQL would list.
local function recent(c)
  local ids = redis.call('ZREVRANGE', c.index, 0, c.limit - 1)
  if #ids == 0 then redis.call('DEL', c.key) return end
  local items = redis.call('HMGET', c.items, unpack(ids))
  redis.call('SET', c.key, '[' .. table.concat(items, ',') .. ']')
end

local participants_prefix = 'nova:conversation:participants:'
local function conversation(c)
  local conv = c.conversation
  local participants = redis.call('SMEMBERS', participants_prefix .. conv)
  for _, p in ipairs(participants) do
    local read = redis.call('HGET', 'nova:conversation:last-read:' .. conv, p) or '0'
    local unread, newest = 0, 0
    for _, sender in ipairs(participants) do
      local messages = 'nova:conversation:messages:' .. conv .. ':' .. sender
      if sender ~= p then unread = unread + redis.call('ZCOUNT', messages, '(' .. read, '+inf') end
      local top = redis.call('ZREVRANGE', messages, 0, 0, 'WITHSCORES')
      if top[2] and tonumber(top[2]) > newest then newest = tonumber(top[2]) end
    end
    redis.call('SET', 'conversation:unread:' .. p .. ':' .. conv, unread)
    redis.call('ZADD', 'user:conversations:' .. p, newest, conv)
  end
end

local function conversations()
  each_key(participants_prefix .. '*', function(key) conversation({ conversation = string.sub(key, #participants_prefix + 1) }) end)
end

-- a follow edge exists while at least one follows row for the pair is active
local function edge(c)
  local cmd = redis.call('SCARD', c.rows) > 0 and 'SADD' or 'SREM'
  redis.call(cmd, c.following, c.followee)
  redis.call(cmd, c.followers, c.follower)
end

-- Is fixed-width hex `a` above `b` as numbers? Not Lua's `>` on strings: that is strcoll, in
-- the server's locale; 8 digits at a time are below 2^32, exact as doubles.
local function above(a, b)
  for i = 1, #a, 8 do
    local x, y = tonumber(string.sub(a, i, i + 7), 16), tonumber(string.sub(b, i, i + 7), 16)
    if x ~= y then return x > y end
  end
  return false
end

-- A TRUNCATE empties the table's keys when it arrives, and leaves its (order, version) as the
-- table's watermark: whatever arrives later below it was before the truncate, so it is refused.
-- Known limitation: a row after the truncate that another partition applied first is emptied
-- with the rest (its keys cannot tell), so this is exact only when the partitions arrive in
-- commit order around a truncate.
local applied = 0
for _, op in ipairs(payload.ops) do
  local at = op.order .. op.version
  local truncated = redis.call('HGET', 'nova:truncated', op.table)
  local versions = 'nova:version:' .. op.table
  local is_truncate = op.commands[1] and op.commands[1].cmd == 'TRUNCATE'
  local stored = not is_truncate and redis.call('HGET', versions, op.id)
  if (not truncated or above(at, truncated)) and (is_truncate or not stored or above(op.version, stored)) then
    for _, c in ipairs(op.commands) do apply(c) end
    if is_truncate then
      redis.call('DEL', versions)
      redis.call('HSET', 'nova:truncated', op.table, at)
    else
      redis.call('HSET', versions, op.id, op.version)
    end
    applied = applied + 1
  end
end

for _, id in ipairs(deferred_order) do
  local c = deferred[id]
  if c.cmd == 'COUNT' then count(c)
  elseif c.cmd == 'RECENT' then recent(c)
  elseif c.cmd == 'CONVERSATION' then conversation(c)
  elseif c.cmd == 'CONVERSATIONS' then conversations()
  elseif c.cmd == 'EDGE' then edge(c) end
end

for _, checkpoint in ipairs(payload.checkpoints) do
  redis.call('HSET', KEYS[1], checkpoint.field, checkpoint.value)
end
return applied
