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
--         have, written as duetd writes them ("192.0.2.1:20000",
--         "[2001:db8::1]:20000"); if the hash names others (the id was
--         created again), it is left alone. duetd passes them when it ends
--         a pair itself.
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

-- Endpoint text, the same in pair_create.lua, pair_delete.lua and
-- endpoints_seed.lua: keep the copies identical. ------------------------
-- Redis compares endpoints as text, so an endpoint has one spelling,
-- duetd's (glibc's inet_ntop): "192.0.2.1:20000" and "[2001:db8::1]:20000",
-- IPv6 in lower case without leading zeros, its longest run of two or
-- more zero groups (the first of equals) written "::".

-- The four octets of dotted quad s (0..255, no leading zero), or nil.
local function ip4_octets(s)
	local o = {string.match(s, '^(%d+)%.(%d+)%.(%d+)%.(%d+)$')}
	if #o ~= 4 then
		return nil
	end
	for i = 1, 4 do
		if #o[i] > 3 or (#o[i] > 1 and string.sub(o[i], 1, 1) == '0') or
			tonumber(o[i]) > 255 then
			return nil
		end
		o[i] = tonumber(o[i])
	end
	return o
end

-- The 16-bit groups of part (IPv6 text on one side of "::", maybe empty)
-- appended to w, or nil; a dotted quad may come last when v4_last.
local function ip6_groups(part, v4_last, w)
	if part == '' then
		return w
	end
	local items = {}
	for g in string.gmatch(part .. ':', '([^:]*):') do
		items[#items + 1] = g
	end
	for i, g in ipairs(items) do
		if v4_last and i == #items and string.find(g, '.', 1, true) then
			local o = ip4_octets(g)
			if not o then
				return nil
			end
			w[#w + 1] = o[1] * 256 + o[2]
			w[#w + 1] = o[3] * 256 + o[4]
		elseif string.find(g, '^%x%x?%x?%x?$') then
			w[#w + 1] = tonumber(g, 16)
		else
			return nil
		end
	end
	return w
end

-- The eight groups of IPv6 address s (any spelling inet_pton takes), or nil.
local function ip6_words(s)
	if #s > 45 or not string.find(s, '^[%x:%.]+$') then
		return nil
	end
	local dbl = string.find(s, '::', 1, true)
	if not dbl then
		local w = ip6_groups(s, true, {})
		if not w or #w ~= 8 then
			return nil
		end
		return w
	end
	if string.find(s, '::', dbl + 1, true) then
		return nil
	end
	local w = ip6_groups(string.sub(s, 1, dbl - 1), false, {})
	local tail = ip6_groups(string.sub(s, dbl + 2), true, {})
	-- "::" stands for one zero group at least.
	if not w or not tail or #w + #tail > 7 then
		return nil
	end
	for _ = 1, 8 - #w - #tail do
		w[#w + 1] = 0
	end
	for _, x in ipairs(tail) do
		w[#w + 1] = x
	end
	return w
end

-- IPv6 groups w as duetd writes them (glibc's inet_ntop, including its
-- "::a.b.c.d" and "::ffff:a.b.c.d" forms).
local function ip6_text(w)
	local base, len, run = 0, 0, 0
	for i = 1, 8 do
		run = w[i] == 0 and run + 1 or 0
		if run > len then
			base, len = i - run + 1, run
		end
	end
	if len < 2 then
		base = 0
	end
	local out = {}
	for i = 1, 8 do
		if base > 0 and i >= base and i < base + len then
			if i == base then
				out[#out + 1] = ':'
			end
		else
			if i > 1 then
				out[#out + 1] = ':'
			end
			if i == 7 and base == 1 and (len == 6 or (len == 5 and w[6] == 0xffff)) then
				out[#out + 1] = string.format('%d.%d.%d.%d', math.floor(w[7] / 256),
					w[7] % 256, math.floor(w[8] / 256), w[8] % 256)
				return table.concat(out)
			end
			out[#out + 1] = string.format('%x', w[i])
		end
	end
	if base > 0 and base + len == 9 then
		out[#out + 1] = ':'
	end
	return table.concat(out)
end

-- The IP of endpoint ep and its family (4 or 6) when ep is spelled as
-- duetd writes endpoints, else nil.
local function endpoint_ip(ep)
	if type(ep) ~= 'string' or #ep > 55 then
		return nil
	end
	local fam, ip, port = 6, string.match(ep, '^%[([%x:%.]+)%]:(%d+)$')
	if ip then
		local w = ip6_words(ip)
		if not w or ip6_text(w) ~= ip then
			return nil
		end
	else
		fam, ip, port = 4, string.match(ep, '^(%d+%.%d+%.%d+%.%d+):(%d+)$')
		if not ip or not ip4_octets(ip) then
			return nil
		end
	end
	if #port > 5 or string.sub(port, 1, 1) == '0' or tonumber(port) > 65535 then
		return nil
	end
	return ip, fam
end
-- End of the endpoint text. ---------------------------------------------

local err = check_call()
if err then
	return err
end
if #ARGV ~= 2 and #ARGV ~= 4 then
	return bad('script takes 2 arguments, or 4 with the endpoints expected')
end
local id, maxlen = ARGV[1], ARGV[2]
local want_a, want_b = ARGV[3], ARGV[4]
if want_a ~= nil and (not endpoint_ip(want_a) or not endpoint_ip(want_b)) then
	return bad('expected endpoints must be ip:port or [v6]:port, written as duetd writes them')
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
