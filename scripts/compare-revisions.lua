-- SPDX-License-Identifier: BSD-3-Clause
-- scripts/compare-revisions: the full contents of the keys in KEYS, one
-- line per field, member or entry, each line starting with its key, for
-- `sort` and `diff`. ARGV[1] is the appliance's health key
-- (<prefix>:appliance:<id>). Unlike tests/integration/redis_dump.lua it
-- leaves no key out and keeps every byte, but for the normalisations that
-- compare-revisions' header lists (marked NORMALISED below):
--   <key> type <type> ttl <days, to the nearest | none>
--   <key> hash <field> <value>
--   <key> zset <member> <score>
--   <key> set <member>
--   <key> list <position> <value>
--   <key> stream <field> <value> <field> <value> ...   (an entry)
--   <key> stream-info length <n> entries-added <n> groups <n>
--   <key> hll sha1 <SHA-1 of the raw bytes> bytes <n> pfcount <n>
--   <key> string <value>
-- Control bytes and backslashes are written as \xHH, so a line is a line.
local health = ARGV[1]
local instance = health .. ':instance'
local volatile_health = {
  instance = true, started = true, last_flush = true, flush_seq = true, redis_errors = true,
}

local out = {}

local function esc(s)
  return (string.gsub(tostring(s), '[%c\\]', function(c)
    return string.format('\\x%02x', string.byte(c))
  end))
end

local function emit(key, ...)
  local parts = { esc(key) }
  for _, v in ipairs({ ... }) do
    parts[#parts + 1] = esc(v)
  end
  out[#out + 1] = table.concat(parts, ' ')
end

local function ends_with(s, tail)
  return #s >= #tail and string.sub(s, -#tail) == tail
end

for _, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  -- NORMALISED: a TTL falls with the wall time since the EXPIRE; in whole
  -- days, to the nearest, which a run on a busy machine stays well within.
  local pttl = redis.call('PTTL', k)
  local ttl = 'none'
  if pttl >= 0 then
    ttl = string.format('%dd', math.floor(pttl / 86400000 + 0.5))
  end
  emit(k, 'type', t, 'ttl', ttl)
  if t == 'hash' then
    local h = redis.call('HGETALL', k)
    for i = 1, #h, 2 do
      local v = h[i + 1]
      -- NORMALISED: a flush record holds the flush sequence, which starts
      -- from the wall clock; the health hash's run token, wall times and
      -- reply timeouts.
      if ends_with(k, ':flushed') then
        v = '<flush-seq>'
      elseif k == health and volatile_health[h[i]] then
        v = '<' .. h[i] .. '>'
      end
      emit(k, 'hash', h[i], v)
    end
  elseif t == 'zset' then
    local z = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
    for i = 1, #z, 2 do
      emit(k, 'zset', z[i], z[i + 1])
    end
  elseif t == 'set' then
    for _, m in ipairs(redis.call('SMEMBERS', k)) do
      emit(k, 'set', m)
    end
  elseif t == 'list' then
    for i, v in ipairs(redis.call('LRANGE', k, 0, -1)) do
      emit(k, 'list', string.format('%06d', i), v)
    end
  elseif t == 'stream' then
    -- NORMALISED: XADD * makes entry ids of the wall clock, and the order
    -- of alerts of minute and hour buckets follows how much of the replay
    -- each collection brought; an entry is one line, without its id, and
    -- the entries are sorted with the rest.
    for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
      emit(k, 'stream', unpack(e[2]))
    end
    local info = redis.call('XINFO', 'STREAM', k)
    local m = {}
    for i = 1, #info, 2 do
      m[info[i]] = info[i + 1]
    end
    emit(k, 'stream-info', 'length', m['length'], 'entries-added', m['entries-added'],
      'groups', m['groups'])
  elseif t == 'string' then
    local v = redis.call('GET', k)
    if string.sub(v, 1, 4) == 'HYLL' then
      -- The raw bytes, before PFCOUNT rewrites the cached cardinality.
      emit(k, 'hll', 'sha1', redis.sha1hex(v), 'bytes', #v, 'pfcount', redis.call('PFCOUNT', k))
    elseif k == instance then
      -- NORMALISED: a run's random token (a clean stop deletes the key).
      emit(k, 'string', '<token>')
    else
      emit(k, 'string', v)
    end
  end
end
return out
