-- Writes conversations' (unread, newest) on one participant's slot, as apply.lua published them
-- on the conversations' slots: an entry applies iff its sequence is above the one this user last
-- took for that conversation, so a replayed or reordered publication never moves a view back.
-- KEYS[1]: the user's `conversation-seqs` hash. ARGV[1]: JSON {prefix, user, entries: [[conversation, "seq|unread|newest" or "seq|gone"]]}.
local payload = cjson.decode(ARGV[1])
local P, U = payload.prefix, '{' .. payload.user .. '}'
local conversations = P .. 'user:conversations:' .. U
for _, e in ipairs(payload.entries) do
  local conv, value = e[1], e[2]
  local bar = string.find(value, '|', 1, true)
  local seq, rest = tonumber(string.sub(value, 1, bar - 1)), string.sub(value, bar + 1)
  local unread_key = P .. 'conversation:unread:' .. U .. ':' .. conv
  if seq > tonumber(redis.call('HGET', KEYS[1], conv) or '0') then
    if rest == 'gone' then
      redis.call('ZREM', conversations, conv)
      redis.call('DEL', unread_key)
    else
      local sep = string.find(rest, '|', 1, true)
      redis.call('SET', unread_key, string.sub(rest, 1, sep - 1))
      redis.call('ZADD', conversations, string.sub(rest, sep + 1), conv)
    end
    redis.call('HSET', KEYS[1], conv, seq)
  end
end
return 1
