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
--           be given; `mode` defaults to passthrough. Two fields are
--           consumed, not stored: `a_ip` and `b_ip` ask for that leg's
--           endpoint on a given service address (e.g. the one on the
--           network that leg's caller reaches); without them any free
--           endpoint is taken.
--
-- Reply: array {a, b}, the two endpoints given to the pair.
-- Errors (nothing is changed when one is returned):
--   "EXISTS pair <id> exists"
--   "NOFREE fewer than 2 free endpoints" (or "NOFREE no free endpoint on <ip>")
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
local want = {}
for i = 3, #ARGV, 2 do
	local f = ARGV[i]
	if f == 'a_ip' or f == 'b_ip' then
		if not string.find(ARGV[i + 1], '^[0-9A-Fa-f%.:]+$') then
			return redis.error_reply('BADARG field ' .. f .. ' is not an IP address')
		end
		want[string.sub(f, 1, 1)] = ARGV[i + 1]
	elseif f == 'a' or f == 'b' then
		return redis.error_reply('BADARG field ' .. f .. ' is chosen by the script')
	elseif f == '' then
		return redis.error_reply('BADARG empty field name')
	else
		if f == 'mode' then
			has_mode = true
		end
		fields[#fields + 1] = f
		fields[#fields + 1] = ARGV[i + 1]
	end
end

if redis.call('EXISTS', KEYS[3]) == 1 then
	return redis.error_reply('EXISTS pair ' .. id .. ' exists')
end

-- An endpoint that alloc says is owned is a leftover of a control plane
-- that bypassed the scripts: it is dropped from free rather than handed out
-- twice.
local function usable(ep)
	if redis.call('HEXISTS', KEYS[2], ep) == 1 then
		redis.call('SREM', KEYS[1], ep)
		return false
	end
	return true
end

-- A free endpoint on service address ip ("[v6]:port" form for IPv6).
local function take_on(ip)
	local pattern
	if string.find(ip, ':', 1, true) then
		pattern = '\\[' .. ip .. '\\]:*'
	else
		pattern = ip .. ':*'
	end
	local cursor = '0'
	repeat
		local r = redis.call('SSCAN', KEYS[1], cursor, 'MATCH', pattern, 'COUNT', 256)
		cursor = r[1]
		for _, ep in ipairs(r[2]) do
			if usable(ep) then
				redis.call('SREM', KEYS[1], ep)
				return ep
			end
		end
	until cursor == '0'
	return nil
end

local function take_any()
	while true do
		local ep = redis.call('SPOP', KEYS[1])
		if not ep then
			return nil
		end
		if redis.call('HEXISTS', KEYS[2], ep) == 0 then
			return ep
		end
	end
end

local got = {}
local short = 'NOFREE fewer than 2 free endpoints'
for _, leg in ipairs({'a', 'b'}) do
	local ep
	if want[leg] then
		ep = take_on(want[leg])
		if not ep then
			short = 'NOFREE no free endpoint on ' .. want[leg]
		end
	else
		ep = take_any()
	end
	if not ep then
		break
	end
	got[#got + 1] = ep
end
if #got < 2 then
	for _, ep in ipairs(got) do
		redis.call('SADD', KEYS[1], ep)
	end
	return redis.error_reply(short)
end

local a, b = got[1], got[2]
redis.call('HSET', KEYS[2], a, id, b, id)
redis.call('HSET', KEYS[3], 'a', a, 'b', b, unpack(fields))
if not has_mode then
	redis.call('HSET', KEYS[3], 'mode', 'passthrough')
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', 'op', 'put', 'id', id)
return {a, b}
