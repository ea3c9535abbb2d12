-- Applies one batch of Nova's Redis ops and its checkpoints atomically (one EVAL).
-- KEYS[1]: the checkpoint hash. ARGV[1]: JSON {ops, checkpoints: [{field, value}]}.
-- Each op runs only if its LSN is newer than the row's stored version (and than the
-- table's last TRUNCATE), so replaying any range leaves the store as it was.
local payload = cjson.decode(ARGV[1])
local deferred, deferred_order = {}, {}

local function defer(c)
  local id = cjson.encode(c)
  if not deferred[id] then
    deferred[id] = c
    table.insert(deferred_order, id)
  end
end

local function truncate(patterns)
  for _, pattern in ipairs(patterns) do
    local cursor = '0'
    repeat
      local page = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = page[1]
      for _, key in ipairs(page[2]) do redis.call('DEL', key) end
    until cursor == '0'
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

local function conversation(c)
  local conv = c.conversation
  local participants = redis.call('SMEMBERS', 'nova:conversation:participants:' .. conv)
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

-- a follow edge exists while at least one follows row for the pair is active
local function edge(c)
  local cmd = redis.call('SCARD', c.rows) > 0 and 'SADD' or 'SREM'
  redis.call(cmd, c.following, c.followee)
  redis.call(cmd, c.followers, c.follower)
end

local applied = 0
for _, op in ipairs(payload.ops) do
  local lsn = tonumber(op.lsn)
  local truncated = tonumber(redis.call('HGET', 'nova:truncated', op.table) or '-1')
  local is_truncate = op.commands[1] and op.commands[1].cmd == 'TRUNCATE'
  local version = tonumber(redis.call('HGET', 'nova:version:' .. op.table, op.id) or '-1')
  if lsn > truncated and (is_truncate or lsn > version) then
    for _, c in ipairs(op.commands) do apply(c) end
    if is_truncate then
      redis.call('DEL', 'nova:version:' .. op.table)
      redis.call('HSET', 'nova:truncated', op.table, op.lsn)
    else
      redis.call('HSET', 'nova:version:' .. op.table, op.id, op.lsn)
    end
    applied = applied + 1
  end
end

for _, id in ipairs(deferred_order) do
  local c = deferred[id]
  if c.cmd == 'COUNT' then count(c)
  elseif c.cmd == 'RECENT' then recent(c)
  elseif c.cmd == 'CONVERSATION' then conversation(c)
  elseif c.cmd == 'EDGE' then edge(c) end
end

for _, checkpoint in ipairs(payload.checkpoints) do
  redis.call('HSET', KEYS[1], checkpoint.field, checkpoint.value)
end
return applied
