-- SPDX-License-Identifier: BSD-3-Clause
-- pair_delete.lua: end a pair for any control plane (duetctl, and duetd
-- itself when a pair idles out or expires). It gives the pair's endpoints
-- back to the free set, deletes the pair hash and appends an `op del` entry
-- to the events stream, in one atomic step. See docs/redis-contract.md.
--
-- KEYS (exactly 4, all of one relay R, named as below)
-- KEYS[1] duet:{R}:free    SET of free endpoints
-- KEYS[2] duet:{R}:alloc   HASH endpoint -> owning pair id
-- KEYS[3] duet:{R}:pair:<id>
-- KEYS[4] duet:{R}:events  STREAM
-- ARGV (2, or 4)
-- ARGV[1] <id>
-- ARGV[2] events stream max length, trimmed with MAXLEN ~: 1 to
--         999999999999999 (at most 15 digits, no sign, no leading zero)
-- ARGV[3], ARGV[4] optional: the endpoints a and b the pair must still
--         have; if the hash names others (the id was created again), it is
--         left alone. duetd passes them when it ends a pair itself.
--
-- Reply: 1 when the pair existed and was deleted; 0 when there was no such
-- pair, or it was not the one expected (then nothing is written, not even
-- an event).
-- Errors: "BADARG <what is wrong>". Redis is left exactly as it was: every
-- check runs before the first write.
--
-- The argument and key checks are the same as pair_create.lua's; each
-- script is one self-contained file (control planes load it as is), so a
-- change to one belongs in the other too.

-- The keys this script takes: KEYS[i] other than the pair key (KEYS[3]),
-- its name after the relay's "duet:{R}:" and the type it must hold when it
-- exists.
local NKEYS = 4
local ROLES = {{1, 'free', 'set'}, {2, 'alloc', 'hash'}, {4, 'events', 'stream'}}

-- Checks shared with pair_create.lua: keep the two copies identical. -----
local MAXLEN_DIGITS = 15 -- 10^15 - 1: exact in Lua's doubles, fits int64
-- XADD * fails once a stream has handed out this ID.
local LAST_ID = '18446744073709551615-18446744073709551615'

local function bad(why)
	return redis.error_reply('BADARG ' .. why)
end

-- The keys, the id and the max length, before reading Redis: nil when all
-- is well, else the error reply.
local function check_call()
	if #KEYS ~= NKEYS then
		return bad('script takes ' .. NKEYS .. ' keys')
	end
	local id, maxlen = ARGV[1], ARGV[2]
	if id == nil or #id < 1 or #id > 64 or not string.find(id, '^[A-Za-z0-9%._:%-]+$') then
		return bad('pair id must be 1..64 characters of [A-Za-z0-9._:-]')
	end
	-- The caller builds the keys (a script may only touch declared keys):
	-- they must be this id's and one relay's, or endpoints end up orphaned
	-- or in another relay's set.
	local tail = ':pair:' .. id
	if string.sub(KEYS[3], -#tail) ~= tail then
		return bad('KEYS[3] is not the pair key of ' .. id)
	end
	local relay = string.sub(KEYS[3], 1, #KEYS[3] - #tail + 1)
	for _, k in ipairs(ROLES) do
		if KEYS[k[1]] ~= relay .. k[2] then
			return bad('KEYS[' .. k[1] .. '] must be ' .. relay .. k[2])
		end
	end
	if maxlen == nil or #maxlen > MAXLEN_DIGITS or not string.find(maxlen, '^[1-9]%d*$') then
		return bad('events max length must be an integer from 1 to 999999999999999')
	end
	return nil
end

-- What a later write could trip over in KEYS[i]: a type other than want,
-- or a stream that has no entry ID left. nil when all is well.
local function check_key(i, want)
	local t = redis.call('TYPE', KEYS[i])['ok']
	if t ~= 'none' and t ~= want then
		return bad('KEYS[' .. i .. '] holds a ' .. t .. ', not a ' .. want)
	end
	if t == 'stream' then
		local info = redis.call('XINFO', 'STREAM', KEYS[i])
		for j = 1, #info - 1, 2 do
			if info[j] == 'last-generated-id' and info[j + 1] == LAST_ID then
				return bad('KEYS[' .. i .. '] has no entry ID left')
			end
		end
	end
	return nil
end

local function check_keys()
	for _, k in ipairs(ROLES) do
		local err = check_key(k[1], k[3])
		if err then
			return err
		end
	end
	return nil
end
-- End of the shared checks. --------------------------------------------

local err = check_call()
if err then
	return err
end
if #ARGV ~= 2 and #ARGV ~= 4 then
	return bad('script takes 2 arguments, or 4 with the endpoints expected')
end
local id, maxlen = ARGV[1], ARGV[2]
local want_a, want_b = ARGV[3], ARGV[4]
if want_a ~= nil and (#want_a < 1 or #want_a > 64 or #want_b < 1 or #want_b > 64) then
	return bad('expected endpoints must be 1..64 characters')
end

err = check_keys() or check_key(3, 'hash')
if err then
	return err
end
if redis.call('EXISTS', KEYS[3]) == 0 then
	return 0
end
-- Guarded delete (duetd ending a pair it ran, maybe replayed after an
-- outage): the hash must still be that pair, not one created again under
-- the same id meanwhile.
if want_a ~= nil then
	local cur = redis.call('HMGET', KEYS[3], 'a', 'b')
	if cur[1] ~= want_a or cur[2] ~= want_b then
		return 0
	end
end

-- Free an endpoint only if this pair owns it: a hash edited by hand may
-- name an endpoint that another pair holds, and that one must stay taken.
-- Writes from here on: none can fail on the keys and arguments checked.
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
