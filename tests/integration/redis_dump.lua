-- Every key teiten writes, one line per field or member, for diffing two
-- Redis servers; HyperLogLogs as their PFCOUNT. The health hash, the
-- instance key, the sensors' metadata (they name the appliance) and the
-- flush bookkeeping (flushed, tmp) differ between runs by design; left out.
local out = {}
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    if not (string.find(k, ':appliance:', 1, true) or string.find(k, ':flushed', 1, true)
        or string.find(k, ':sensor:', 1, true)
        or string.find(k, ':tmp:', 1, true)) then
      local t = redis.call('TYPE', k)['ok']
      if t == 'hash' then
        local h = redis.call('HGETALL', k)
        for i = 1, #h, 2 do table.insert(out, k .. ' ' .. h[i] .. ' ' .. h[i + 1]) end
      elseif t == 'zset' then
        local z = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
        for i = 1, #z, 2 do table.insert(out, k .. ' ' .. z[i] .. ' ' .. z[i + 1]) end
      elseif t == 'string' then
        table.insert(out, k .. ' pfcount ' .. redis.call('PFCOUNT', k))
      else
        table.insert(out, k .. ' ' .. t)
      end
    end
  end
until cursor == '0'
return out
