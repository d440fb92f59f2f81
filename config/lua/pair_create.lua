-- SPDX-License-Identifier: BSD-3-Clause
-- pair_create.lua: allocate two free relay endpoints to a new pair, in one
-- atomic step, for any control plane (duetctl runs this same file). It takes
-- two endpoints out of the free set, records them as owned by the pair,
-- writes the pair hash and appends an `op put` entry to the events stream
-- that duetd follows. See docs/redis-contract.md.
--
-- KEYS[1] duet:{R}:free    SET of free endpoints "ip:port"
-- KEYS[2] duet:{R}:alloc   HASH endpoint -> owning pair id
-- KEYS[3] duet:{R}:pair:<id>
-- KEYS[4] duet:{R}:events  STREAM
-- ARGV[1] <id>: 1..64 characters of [A-Za-z0-9._:-]
-- ARGV[2] events stream max length (positive integer, trimmed with MAXLEN ~)
-- ARGV[3..] field, value, ... stored in the pair hash (mode, a_src, b_src,
--           idle_ms, expires, ...). `a` and `b` are chosen here and may not
--           be given; `mode` defaults to passthrough.
--
-- Reply: array {a, b}, the two endpoints given to the pair.
-- Errors (nothing is changed when one is returned):
--   "EXISTS pair <id> exists"
--   "NOFREE fewer than 2 free endpoints"
--   "BADARG <what is wrong>"

-- SPOP is not deterministic: before Redis 5 a script using it must replicate
-- its effects, not itself. Redis 5+ always does, and keeps this as a no-op.
if redis.replicate_commands then
	redis.replicate_commands()
end

local id = ARGV[1]
local maxlen = ARGV[2]

if id == nil or #id < 1 or #id > 64 or not string.find(id, '^[A-Za-z0-9%._:%-]+$') then
	return redis.error_reply('BADARG pair id must be 1..64 characters of [A-Za-z0-9._:-]')
end
-- The key is built by the caller (scripts may only touch declared keys), so
-- check it names this id: a mismatch would orphan the endpoints.
if string.sub(KEYS[3], -(#id + 6)) ~= ':pair:' .. id then
	return redis.error_reply('BADARG KEYS[3] is not the pair key of ' .. id)
end
if maxlen == nil or not string.find(maxlen, '^[1-9]%d*$') then
	return redis.error_reply('BADARG events max length must be a positive integer')
end
if (#ARGV - 2) % 2 ~= 0 then
	return redis.error_reply('BADARG pair fields must come as field value pairs')
end

local fields = {}
local has_mode = false
for i = 3, #ARGV, 2 do
	local f = ARGV[i]
	if f == 'a' or f == 'b' then
		return redis.error_reply('BADARG field ' .. f .. ' is chosen by the script')
	end
	if f == '' then
		return redis.error_reply('BADARG empty field name')
	end
	if f == 'mode' then
		has_mode = true
	end
	fields[#fields + 1] = f
	fields[#fields + 1] = ARGV[i + 1]
end

if redis.call('EXISTS', KEYS[3]) == 1 then
	return redis.error_reply('EXISTS pair ' .. id .. ' exists')
end

-- Take endpoints until two are really free. An endpoint that alloc says is
-- owned is a leftover of a control plane that bypassed the scripts: it is
-- dropped from free rather than handed out twice.
local got = {}
while #got < 2 do
	local ep = redis.call('SPOP', KEYS[1])
	if not ep then
		break
	end
	if redis.call('HEXISTS', KEYS[2], ep) == 0 then
		got[#got + 1] = ep
	end
end
if #got < 2 then
	for _, ep in ipairs(got) do
		redis.call('SADD', KEYS[1], ep)
	end
	return redis.error_reply('NOFREE fewer than 2 free endpoints')
end

local a, b = got[1], got[2]
redis.call('HSET', KEYS[2], a, id, b, id)
redis.call('HSET', KEYS[3], 'a', a, 'b', b, unpack(fields))
if not has_mode then
	redis.call('HSET', KEYS[3], 'mode', 'passthrough')
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', 'op', 'put', 'id', id)
return {a, b}
