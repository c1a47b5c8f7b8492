-- SPDX-License-Identifier: BSD-3-Clause
-- Every key in Redis, with the wall time folded out, one line per field,
-- member or entry, for `sort` and `diff` (reload_test.sh compares two live
-- runs whose buckets fall in different minutes, hours, even days). ARGV[1]
-- is the key prefix (teiten), ARGV[2] a set of the keys that existed at the
-- reload point ('' when there is none). Scratch keys start with
-- "reloadtest:" and are not listed.
--
-- A bucket key <p>:{<scope>}:<m|h|d>:<date>:<metric> (and <p>:{src}:d:<date>:
-- <what>) folds with the others of its scope, resolution and metric into
-- <p>:{<scope>}:<res>:*:<metric>:
--   hash  each field summed over the buckets        <fkey> hash <field> <sum>
--   zset  each member's score summed                <fkey> zset <member> <sum>
--   HLL   PFCOUNT of the union of the buckets (PFMERGE into a scratch key)
--                                                   <fkey> hll pfcount <n>
-- and its TTL, in whole days to the nearest, joins a set per resolution,
-- type and side of the reload point (the key existed then: pre, or came
-- after: post):                                     ttl <res> <type> <pre|post> <days>
-- A reload, like a restart, must leave a key that existed with its TTL
-- (EXPIRE NX) and give one created after it the new retention; which keys
-- those are depends on the minute a run reaches, so per key they cannot be
-- compared, but as these sets they must agree.
--
-- Any other key is listed whole, as scripts/compare-revisions.lua lists it
-- (<key> type <type> ttl <days|none>, then its content), but for what the
-- wall clock writes:
--   <p>:{<tag>}:flushed      each value (a flush sequence) reads <flush-seq>
--   <p>:{src}:host:<ip>      first_seen and last_seen read <wall>
--   <p>:{src}:<rolling set>  scores (last-seen times) read <wall>
--   <p>:appliance:<id>:instance  the run's token reads <token>
--   a stream                 entries without their ids (XADD *), sorted
-- Control bytes and backslashes are written as \xHH, so a line is a line.
local prefix = ARGV[1]
local pre = ARGV[2] or ''
local union = 'reloadtest:union'

local out = {}
local function esc(s)
  return (string.gsub(tostring(s), '[%c\\]', function(c)
    return string.format('\\x%02x', string.byte(c))
  end))
end
local function emit(...)
  local parts = {}
  for _, v in ipairs({ ... }) do
    parts[#parts + 1] = esc(v)
  end
  out[#out + 1] = table.concat(parts, ' ')
end
local function num(x)
  return string.format('%.17g', x)
end
local function starts_with(s, head)
  return string.sub(s, 1, #head) == head
end
local function ends_with(s, tail)
  return #s >= #tail and string.sub(s, -#tail) == tail
end
local function days(k)
  local pttl = redis.call('PTTL', k)
  if pttl < 0 then
    return 'none'
  end
  return string.format('%dd', math.floor(pttl / 86400000 + 0.5))
end
local function type_of(k)
  local t = redis.call('TYPE', k)['ok']
  if t == 'string' and string.sub(redis.call('GETRANGE', k, 0, 3), 1, 4) == 'HYLL' then
    return 'hll'
  end
  return t
end

local keys = {}
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if not starts_with(k, 'reloadtest:') then
      keys[#keys + 1] = k
    end
  end
until cursor == '0'
table.sort(keys)

local folds = {}                -- fkey -> { type, sums or hll keys }
local fold_order = {}
local ttls = {}                 -- "ttl <res> <type> <side> <days>" -> true
local digits = { m = 12, h = 10, d = 8 }

for _, k in ipairs(keys) do
  local head, res, date, metric = string.match(k, '^(.-:{[^}]*}):([mhd]):(%d+):(.+)$')
  local t = type_of(k)
  if head and #date == digits[res] and starts_with(k, prefix .. ':') then
    local fk = head .. ':' .. res .. ':*:' .. metric
    local f = folds[fk]
    local side = 'post'
    if pre ~= '' and redis.call('SISMEMBER', pre, k) == 1 then
      side = 'pre'
    end
    ttls['ttl ' .. res .. ' ' .. t .. ' ' .. side .. ' ' .. days(k)] = true
    if f == nil then
      f = { t = t, sums = {}, order = {}, hlls = {} }
      folds[fk] = f
      fold_order[#fold_order + 1] = fk
    elseif f.t ~= t then
      emit(fk, 'mixed-types', f.t, t)
    end
    if t == 'hash' or t == 'zset' then
      local v = t == 'hash' and redis.call('HGETALL', k) or
        redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
      for i = 1, #v, 2 do
        if f.sums[v[i]] == nil then
          f.sums[v[i]] = 0
          f.order[#f.order + 1] = v[i]
        end
        f.sums[v[i]] = f.sums[v[i]] + (tonumber(v[i + 1]) or 0 / 0)
      end
    elseif t == 'hll' then
      f.hlls[#f.hlls + 1] = k
    else
      emit(k, 'unexpected-bucket-type', t)
    end
  else
    emit(k, 'type', t, 'ttl', days(k))
    if t == 'hash' then
      local h = redis.call('HGETALL', k)
      for i = 1, #h, 2 do
        local v = h[i + 1]
        if ends_with(k, ':flushed') then
          v = '<flush-seq>'
        elseif string.find(k, ':{src}:host:', 1, true) and
            (h[i] == 'first_seen' or h[i] == 'last_seen') then
          v = '<wall>'
        end
        emit(k, 'hash', h[i], v)
      end
    elseif t == 'zset' then
      local wall = string.find(k, ':{src}:', 1, true) ~= nil
      local z = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
      for i = 1, #z, 2 do
        emit(k, 'zset', z[i], wall and '<wall>' or z[i + 1])
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
      for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
        emit(k, 'stream', unpack(e[2]))
      end
      emit(k, 'stream-length', redis.call('XLEN', k))
    elseif t == 'hll' then
      emit(k, 'hll', 'pfcount', redis.call('PFCOUNT', k))
    elseif t == 'string' then
      local v = redis.call('GET', k)
      if ends_with(k, ':instance') and starts_with(k, prefix .. ':appliance:') then
        v = '<token>'
      end
      emit(k, 'string', v)
    end
  end
end

for _, fk in ipairs(fold_order) do
  local f = folds[fk]
  if f.t == 'hll' then
    redis.call('DEL', union)
    -- a hundred at a time: unpack() is bounded by Lua's stack
    for i = 1, #f.hlls, 100 do
      redis.call('PFMERGE', union, unpack(f.hlls, i, math.min(i + 99, #f.hlls)))
    end
    emit(fk, 'hll', 'pfcount', redis.call('PFCOUNT', union))
    redis.call('DEL', union)
  else
    for _, m in ipairs(f.order) do
      emit(fk, f.t, m, num(f.sums[m]))
    end
  end
end
for line in pairs(ttls) do
  out[#out + 1] = line
end
return out
