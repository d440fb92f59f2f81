-- SPDX-License-Identifier: BSD-3-Clause
-- pair_create.lua: allocate two free relay endpoints to a new pair, in one
-- atomic step, for any control plane (duetctl runs this same file). It takes
-- two endpoints out of the free set, records them as owned by the pair,
-- writes the pair hash and appends an `op put` entry to the events stream
-- that duetd follows. See docs/redis-contract.md.
--
-- KEYS (exactly 5, all of one relay R, named as below)
-- KEYS[1] duet:{R}:free    SET of free endpoints "ip:port" ("[v6]:port")
-- KEYS[2] duet:{R}:alloc   HASH endpoint -> owning pair id
-- KEYS[3] duet:{R}:pair:<id>
-- KEYS[4] duet:{R}:events  STREAM
-- KEYS[5] duet:{R}:relay   HASH: the relay's heartbeat (read only)
-- ARGV[1] <id>: 1..64 characters of [A-Za-z0-9._:-]
-- ARGV[2] events stream max length, trimmed with MAXLEN ~: 1 to
--         999999999999999 (at most 15 digits, no sign, no leading zero)
-- ARGV[3..] at most 256 field, value pairs stored in the pair hash (mode,
--           a_src, b_src, idle_ms, expires, ...), each field non-empty and
--           given once. `a` and `b` are chosen here and may not be given;
--           `mode` defaults to passthrough. Two fields are consumed, not
--           stored: `a_ip` and `b_ip` ask for that leg's endpoint on a
--           given service address (e.g. the one on the network that leg's
--           caller reaches): IPv4 or IPv6, in any spelling, IPv6 with or
--           without brackets ("2001:db8::1", "[2001:DB8:0::1]"); without
--           them a leg pinned by `a_src`/`b_src` takes an endpoint of its
--           pin's family, and any other leg any free endpoint. The two
--           legs may be of different families (duetd bridges v4 and v6).
--           `relay_check off` skips the relay check below (provisioning
--           while duetd is stopped: tests, migrations, a benchmark's
--           preload); a control plane matching callers never sends it.
--
-- The relay check: a pair is only useful on a relay that runs, takes new
-- pairs and has room for one. duetd rewrites its heartbeat hash (KEYS[5])
-- every stats interval with a TTL of [relay] heartbeat_ttl_ms, so the hash
-- exists only while the relay lives, and marks it `stopped_ms` when it
-- stops cleanly. It writes `draining` 1 while the operator's drain flag
-- (duet:{R}:drain, `duetctl relay drain`) is set: the relay keeps its
-- calls and takes no new pair. The relay is full when its pairs (the
-- larger of the pairs alloc holds and the heartbeat's `pairs`, which
-- counts pairs kept through a resync hold) reach the heartbeat's
-- `capacity`. `relay_check off` skips all of this.
--
-- Reply: array {a, b}, the two endpoints given to the pair.
-- Errors (Redis is left exactly as it was: every check below runs before
-- the first write, so not even an undone write reaches the AOF or
-- replicas):
--   "EXISTS pair <id> exists"
--   "NOFREE fewer than 2 free endpoints" (or "NOFREE no free endpoint on <ip>",
--   or "NOFREE no free IPv6 endpoint for the pin b_src")
--   "NORELAY relay <R> has no fresh heartbeat ..." (or "... was stopped")
--   "DRAINING relay <R> is draining: it takes no new pairs"
--   "FULL relay <R> is full: <n> pairs of capacity <c>"
--   "BADARG <what is wrong>"
--
-- The argument and key checks are the same as pair_delete.lua's; each
-- script is one self-contained file (control planes load it as is), so a
-- change to one belongs in the other too.

-- SRANDMEMBER is not deterministic: before Redis 5 a script using it must
-- replicate its effects, not itself. Redis 5+ always does, and keeps this as
-- a no-op.
if redis.replicate_commands then
	redis.replicate_commands()
end

-- The keys this script takes: KEYS[i] other than the pair key (KEYS[3]),
-- its name after the relay's "duet:{R}:" and the type it must hold when it
-- exists.
local NKEYS = 5
local ROLES = {{1, 'free', 'set'}, {2, 'alloc', 'hash'}, {4, 'events', 'stream'},
	{5, 'relay', 'hash'}}

-- Checks shared with pair_delete.lua: keep the two copies identical. -----
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

local FIELDS_MAX = 256 -- far below Lua's unpack() limit (about 8000 values)

local err = check_call()
if err then
	return err
end
local id, maxlen = ARGV[1], ARGV[2]
local relay = string.sub(KEYS[5], 1, #KEYS[5] - #'relay')

if (#ARGV - 2) % 2 ~= 0 then
	return bad('pair fields must come as field value pairs')
end
if (#ARGV - 2) / 2 > FIELDS_MAX then
	return bad('at most ' .. FIELDS_MAX .. ' pair fields')
end
local fields = {}
local given = {}
local want = {}
local relay_check = true
for i = 3, #ARGV, 2 do
	local f = ARGV[i]
	if f == '' then
		return bad('empty field name')
	elseif given[f] then
		return bad('field ' .. f .. ' given twice')
	end
	given[f] = true
	if f == 'a_ip' or f == 'b_ip' then
		-- Any spelling of the address, IPv6 with or without brackets;
		-- matched in the spelling duetd writes.
		local v = ARGV[i + 1]
		local ip = string.match(v, '^%[(.*)%]$')
		local w = ip6_words(ip or v)
		if w then
			ip = ip6_text(w)
		elseif not ip and ip4_octets(v) then
			ip = v
		else
			return bad('field ' .. f .. ' is not an IP address')
		end
		want[string.sub(f, 1, 1)] = ip
	elseif f == 'relay_check' then
		if ARGV[i + 1] ~= 'on' and ARGV[i + 1] ~= 'off' then
			return bad('field relay_check must be on or off')
		end
		relay_check = ARGV[i + 1] == 'on'
	elseif f == 'a' or f == 'b' then
		return bad('field ' .. f .. ' is chosen by the script')
	else
		fields[#fields + 1] = f
		fields[#fields + 1] = ARGV[i + 1]
	end
end
-- A pin has its leg's family (duetd refuses the record otherwise), so a
-- pinned leg without an a_ip/b_ip hint takes an endpoint of the pin's
-- family. Values are duetd's to validate: one that names neither family
-- leaves the choice free.
local pin_family = {}
for i = 3, #ARGV, 2 do
	local f, v = ARGV[i], ARGV[i + 1]
	if f == 'a_src' or f == 'b_src' then
		if string.find(v, '^%[') then
			pin_family[string.sub(f, 1, 1)] = 6
		elseif string.find(v, '^%d+%.%d+%.%d+%.%d+:') then
			pin_family[string.sub(f, 1, 1)] = 4
		end
	end
end
if not given['mode'] then
	fields[#fields + 1] = 'mode'
	fields[#fields + 1] = 'passthrough'
end

if redis.call('EXISTS', KEYS[3]) == 1 then
	return redis.error_reply('EXISTS pair ' .. id .. ' exists')
end
err = check_keys()
if err then
	return err
end

-- A count the heartbeat wrote: nil unless it is a plain decimal number.
local function count(v)
	if type(v) ~= 'string' or #v > MAXLEN_DIGITS or not string.find(v, '^%d+$') then
		return nil
	end
	return tonumber(v)
end

if relay_check then
	local name = string.match(relay, '^duet:{(.*)}:$') or relay
	if redis.call('EXISTS', KEYS[5]) == 0 then
		return redis.error_reply('NORELAY relay ' .. name .. ' has no fresh heartbeat: ' ..
			'its duetd is not running, has not loaded yet, or cannot reach this Redis')
	end
	local hb = redis.call('HMGET', KEYS[5], 'capacity', 'pairs', 'stopped_ms', 'draining')
	if hb[3] then
		return redis.error_reply('NORELAY relay ' .. name .. ' was stopped')
	end
	if hb[4] == '1' then
		return redis.error_reply('DRAINING relay ' .. name ..
			' is draining: it takes no new pairs')
	end
	local cap, running = count(hb[1]), count(hb[2])
	if cap == nil or running == nil then
		return redis.error_reply('NORELAY relay ' .. name ..
			' has a heartbeat without capacity and pairs')
	end
	local n = math.floor(redis.call('HLEN', KEYS[2]) / 2)
	if running > n then
		n = running
	end
	if n >= cap then
		return redis.error_reply('FULL relay ' .. name .. ' is full: ' .. n ..
			' pairs of capacity ' .. cap)
	end
end

-- Choosing reads only: nothing is written until both legs have one.
-- An endpoint that alloc says is owned is a leftover of a control plane
-- that bypassed the scripts, and a member not spelled as duetd writes
-- endpoints is junk another writer added: neither is ever handed out, and
-- they are dropped from free (in `stale`) only when the create succeeds.
local chosen = {}
local stale, is_stale = {}, {}

-- True when ep may be given to a leg (of family fam, when given); notes a
-- leftover it comes across.
local function usable(ep, fam)
	if chosen[ep] or is_stale[ep] then
		return false
	end
	local ip, ep_fam = endpoint_ip(ep)
	if not ip or redis.call('HEXISTS', KEYS[2], ep) == 1 then
		is_stale[ep] = true
		stale[#stale + 1] = ep
		return false
	end
	return fam == nil or fam == ep_fam
end

-- A free endpoint on service address ip, written as duetd writes it
-- (checked above: only hex digits, '.' and ':', no glob character). An
-- IPv6 endpoint is "[ip]:port", so its brackets are matched escaped.
local function pick_on(ip)
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
				return ep
			end
		end
	until cursor == '0'
	return nil
end

-- Any free endpoint (of family fam, when given), at random. Each round
-- asks for twice as many distinct members as the last, so leftovers, the
-- other family and the other leg's pick cannot hide a usable one: the last
-- round covers the whole set.
local function pick_any(fam)
	local size = redis.call('SCARD', KEYS[1])
	local n = 2
	while true do
		for _, ep in ipairs(redis.call('SRANDMEMBER', KEYS[1], n)) do
			if usable(ep, fam) then
				return ep
			end
		end
		if n >= size then
			return nil
		end
		n = n * 2
	end
end

-- A leg with a hint or a pin chooses first, so a leg that takes any
-- endpoint cannot take the only one the other could have.
local order = {'a', 'b'}
if (want['b'] or pin_family['b']) and not (want['a'] or pin_family['a']) then
	order = {'b', 'a'}
end
local got = {}
for _, leg in ipairs(order) do
	local ep
	if want[leg] then
		ep = pick_on(want[leg])
		if not ep then
			return redis.error_reply('NOFREE no free endpoint on ' .. want[leg])
		end
	elseif pin_family[leg] then
		ep = pick_any(pin_family[leg])
		if not ep then
			return redis.error_reply('NOFREE no free IPv' .. pin_family[leg] ..
				' endpoint for the pin ' .. leg .. '_src')
		end
	else
		ep = pick_any()
		if not ep then
			return redis.error_reply('NOFREE fewer than 2 free endpoints')
		end
	end
	chosen[ep] = true
	got[leg] = ep
end

-- Writes: none of these can fail on the keys and arguments checked above.
local a, b = got['a'], got['b']
redis.call('SREM', KEYS[1], a, b)
for _, ep in ipairs(stale) do
	redis.call('SREM', KEYS[1], ep)
end
redis.call('HSET', KEYS[2], a, id, b, id)
redis.call('HSET', KEYS[3], 'a', a, 'b', b, unpack(fields))
redis.call('XADD', KEYS[4], 'MAXLEN', '~', maxlen, '*', 'op', 'put', 'id', id)
return {a, b}
