-- SPDX-License-Identifier: BSD-3-Clause
-- relay_lease.lua: the lease that makes one duetd process the owner of
-- relay id R. duetd takes it before it seeds, prunes, loads or writes
-- anything under duet:{R}:, and renews it with every heartbeat; a second
-- process started with the same id finds it held and waits (it says so in
-- its log) instead of pruning the first one's endpoints or ending its
-- pairs. A control plane may read the key to see which process owns R; it
-- never writes it. See docs/redis-contract.md.
--
-- KEYS[1] duet:{R}:lease   STRING: the holder's token, with a PX expiry
-- ARGV[1] the caller's token: 1..200 printable characters, no spaces
-- ARGV[2] lease time, ms: 1..86400000; 0 gives the lease back (deleted
--         only if the caller holds it)
-- ARGV[3] optional: a token the caller knows to be dead (a process of its
--         own host that is gone); taken over if it is still the holder
--
-- Reply: {1, previous holder or ''} when the caller holds the lease now
-- (taken, renewed or taken over); {0, holder, remaining ms} when another
-- process holds it.
-- Errors: "BADARG <what is wrong>", checked before the only write.

if #KEYS ~= 1 or string.sub(KEYS[1], -6) ~= ':lease' then
	return redis.error_reply('BADARG script takes 1 key, duet:{R}:lease')
end
local token, ms, dead = ARGV[1], ARGV[2], ARGV[3]
local function is_token(t)
	return t ~= nil and #t >= 1 and #t <= 200 and string.find(t, '^[%w%p]+$') ~= nil
end
if not is_token(token) then
	return redis.error_reply('BADARG token must be 1..200 printable characters')
end
if ms == nil or #ms > 8 or not string.find(ms, '^%d+$') or tonumber(ms) > 86400000 or
	(#ms > 1 and string.sub(ms, 1, 1) == '0') then
	return redis.error_reply('BADARG lease time must be 0..86400000 ms')
end
if dead ~= nil and dead ~= '' and not is_token(dead) then
	return redis.error_reply('BADARG dead token must be 1..200 printable characters')
end
if #ARGV > 3 then
	return redis.error_reply('BADARG script takes at most 3 arguments')
end
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'none' and t ~= 'string' then
	return redis.error_reply('BADARG ' .. KEYS[1] .. ' holds a ' .. t)
end

local holder = redis.call('GET', KEYS[1])
if ms == '0' then
	if holder == token then
		redis.call('DEL', KEYS[1])
	end
	return {1, ''}
end
if holder == false or holder == token or (dead ~= nil and dead ~= '' and holder == dead) then
	redis.call('SET', KEYS[1], token, 'PX', ms)
	if holder == false or holder == token then
		return {1, ''}
	end
	return {1, holder}
end
return {0, holder, redis.call('PTTL', KEYS[1])}
