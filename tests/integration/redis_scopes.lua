-- Rebuilds teiten's --summary scopes from Redis: every bucket of one kind
-- (ARGV[2]: d, h or m) summed per scope, unique sources as the PFCOUNT of
-- the union of the scope's HLL keys. ARGV[1] is the key prefix.
local prefix, kind = ARGV[1], ARGV[2]
local esc = prefix:gsub('[%^%$%(%)%%%.%[%]%*%+%-%?]', '%%%0')
local keys = {}
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', prefix .. ':{*}:' .. kind .. ':*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    local scope, metric = string.match(k, '^' .. esc .. ':{([^}]*)}:' .. kind .. ':%d+:(.*)$')
    if scope then
      keys[scope] = keys[scope] or {}
      keys[scope][metric] = keys[scope][metric] or {}
      table.insert(keys[scope][metric], k)
    end
  end
until cursor == '0'
local scopes = {}
for scope, metrics in pairs(keys) do
  local out = {}
  for metric, list in pairs(metrics) do
    if metric == 'totals' then
      local t = {}
      for _, k in ipairs(list) do
        local h = redis.call('HGETALL', k)
        for i = 1, #h, 2 do t[h[i]] = (t[h[i]] or 0) + tonumber(h[i + 1]) end
      end
      out[metric] = t
    elseif string.sub(metric, 1, 4) == 'srcs' then
      out[metric] = redis.call('PFCOUNT', unpack(list))
    else
      local z = {}
      for _, k in ipairs(list) do
        local m = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
        for i = 1, #m, 2 do z[m[i]] = (z[m[i]] or 0) + tonumber(m[i + 1]) end
      end
      out[metric] = z
    end
  end
  scopes[scope] = out
end
return cjson.encode({scopes = scopes})
