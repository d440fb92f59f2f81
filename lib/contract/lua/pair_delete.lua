-- SPDX-License-Identifier: BSD-3-Clause
-- pair_delete.lua: end a pair for any control plane (duetctl, and duetd
-- itself when a pair idles out or expires). It gives the pair's endpoints
-- back to the free set, deletes the pair hash and appends an `op del` entry
-- to the events stream, in one atomic step. See docs/redis-contract.md.
--
-- KEYS[1] duet:{R}:free    SET of free endpoints
-- KEYS[2] duet:{R}:alloc   HASH endpoint -> owning pair id
-- KEYS[3] duet:{R}:pair:<id>
-- KEYS[4] duet:{R}:events  STREAM
-- ARGV[1] <id>
-- ARGV[2] events stream max length (positive integer, trimmed with MAXLEN ~)
--
-- Reply: 1 when the pair existed and was deleted; 0 when there was no such
-- pair (then nothing is written, not even an event).
-- Errors: "BADARG <what is wrong>" (nothing changed).

local id = ARGV[1]
local maxlen = ARGV[2]

if id == nil or #id < 1 or #id > 64 or not string.find(id, '^[A-Za-z0-9%._:%-]+$') then
	return redis.error_reply('BADARG pair id must be 1..64 characters of [A-Za-z0-9._:-]')
end
if string.sub(KEYS[3], -(#id + 6)) ~= ':pair:' .. id then
	return redis.error_reply('BADARG KEYS[3] is not the pair key of ' .. id)
end
if maxlen == nil or not string.find(maxlen, '^[1-9]%d*$') then
	return redis.error_reply('BADARG events max length must be a positive integer')
end

if redis.call('EXISTS', KEYS[3]) == 0 then
	return 0
end

-- Free an endpoint only if this pair owns it: a hash edited by hand may
-- name an endpoint that another pair holds, and that one must stay taken.
local eps = redis.call('HMGET', KEYS[3], 'a', 'b')
for _, ep in ipairs(eps) do
	if ep and redis.call('HGET', KEYS[2], ep) == id then
		redis.call('HDEL', KEYS[2], ep)
		redis.call('SADD', KEYS[1], ep)
	end
end
redis.call('DEL', KEYS[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', 'op', 'del', 'id', id)
return 1
