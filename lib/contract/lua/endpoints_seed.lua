-- SPDX-License-Identifier: BSD-3-Clause
-- endpoints_seed.lua: put configured relay endpoints into the free set, run
-- by duetd's control thread at start, in chunks of at most 5000 endpoints.
-- An endpoint that a pair already owns (listed in alloc) stays out of free,
-- so seeding while pairs exist never hands an endpoint out twice. Endpoints
-- that left the config are pruned by duetd separately. See
-- docs/redis-contract.md.
--
-- KEYS[1] duet:{R}:free    SET of free endpoints
-- KEYS[2] duet:{R}:alloc   HASH endpoint -> owning pair id
-- ARGV[1..] endpoints "ip:port" ("[v6]:port"), spelled as duetd writes them
--          (duet_addr_format: IPv6 in lower case, shortest form). Not
--          checked here: checking 5000 IPv6 texts in Lua would hold Redis
--          for tens of milliseconds per call. pair_create.lua never hands
--          out a member spelled otherwise, and duetd prunes them.
--
-- Reply: the number of endpoints newly added to free (already free or
-- allocated ones are not counted).

local added = 0
for _, ep in ipairs(ARGV) do
	if redis.call('HEXISTS', KEYS[2], ep) == 0 then
		added = added + redis.call('SADD', KEYS[1], ep)
	end
end
return added
