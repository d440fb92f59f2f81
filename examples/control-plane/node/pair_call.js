#!/usr/bin/env node
// SPDX-License-Identifier: BSD-3-Clause
//
// pair_call.js: a reference control plane for duet, on ioredis.
//
// One call, start to end, the way a matchmaking service does it through
// Redis (docs/redis-contract.md is the contract; this file only uses it):
//
//   1. pick a relay among the candidates by their heartbeats (duet:{R}:relay);
//   2. create the pair with pair_create.lua, falling back to the next relay
//      when one cannot take it;
//   3. print the two endpoints, one for each caller;
//   4. wait for the pair's entry in duet:{R}:ended (the relay ended it);
//   5. if it has not ended by --timeout, delete it with pair_delete.lua.
//
//     node pair_call.js --redis unix:/run/redis/redis.sock --idle-ms 30000 \
//         r1=192.0.2.1,198.51.100.1 r2
//
// A candidate is a relay id, optionally with the service addresses that
// leg a and leg b must use (the a_ip and b_ip hints of pair_create.lua).
// Output on stdout, one "key value" line each: relay, id, a, b, then delete
// (deleted, or gone: only after --timeout) and ended (the reason, and the
// counters). Choices and errors go to stderr. Exit 0 once the call is
// over, 1 if no relay took it or Redis failed, 2 on a bad argument.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const Redis = require('ioredis');

const MAXLEN = '100000'; // events stream length, trimmed with MAXLEN ~ (as duetctl)
// Errors after which another relay may well succeed. EXISTS is not among
// them: a pair id names one call, it must not be tried on a second relay.
const NEXT_RELAY = ['NOFREE', 'NORELAY', 'FULL', 'DRAINING'];
const LUA_DIRS = [process.env.DUET_LUA_DIR, '/usr/share/duet/lua',
	path.join(__dirname, '../../../lib/contract/lua')];

// Every key of relay R is duet:{R}:<name>; {R} is a cluster hash tag.
const key = (relay, name) => `duet:{${relay}}:${name}`;
const log = (msg) => console.error(msg);

// The contract's Lua scripts: SCRIPT LOAD once, EVALSHA after.
class Scripts {
	constructor(r, luaDir) {
		this.r = r;
		this.src = {};
		this.sha = {};
		for (const name of ['pair_create', 'pair_delete'])
			this.src[name] = fs.readFileSync(path.join(luaDir, `${name}.lua`), 'utf8');
	}

	async load() {
		for (const name in this.src)
			this.sha[name] = await this.r.script('LOAD', this.src[name]);
	}

	async run(name, keys, args) {
		try {
			return await this.r.evalsha(this.sha[name], keys.length, ...keys, ...args);
		} catch (e) {
			if (!e.message.startsWith('NOSCRIPT'))
				throw e;
			// Redis restarted or someone ran SCRIPT FLUSH: load it again.
			this.sha[name] = await this.r.script('LOAD', this.src[name]);
			return await this.r.evalsha(this.sha[name], keys.length, ...keys, ...args);
		}
	}
}

// Free pair slots the heartbeat hash hb announces (a number), or why there
// are none (a string).
function room(hb, nowMs, maxAgeMs) {
	if (Object.keys(hb).length === 0)
		return 'no heartbeat (duetd down, or cut off from this Redis)';
	if ('stopped_ms' in hb)
		return 'stopped';
	const num = (f) => (/^\d+$/.test(hb[f] ?? '') ? Number(hb[f]) : NaN);
	const age = nowMs - num('updated_ms');
	const free = num('capacity') - num('pairs');
	const endpointsFree = num('endpoints_free');
	if (Number.isNaN(age + free + endpointsFree))
		return 'heartbeat without updated_ms, capacity, pairs, endpoints_free';
	if (age > maxAgeMs)
		return `stale heartbeat (${age} ms old)`;
	if (hb.draining === '1') // a missing field means not draining
		return 'draining';
	if (free <= 0 || endpointsFree < 2)
		return `full (${free} free slots, ${endpointsFree} free endpoints)`;
	return free;
}

// The usable candidates, most free slots first.
async function pickRelays(r, candidates, maxAgeMs) {
	const nowMs = Date.now();
	const usable = [];
	for (const c of candidates) {
		const verdict = room(await r.hgetall(key(c.relay, 'relay')), nowMs, maxAgeMs);
		log(`relay ${c.relay}: ${typeof verdict === 'string' ? verdict : `${verdict} free slots`}`);
		if (typeof verdict === 'number')
			usable.push({ ...c, free: verdict });
	}
	return usable.sort((x, y) => y.free - x.free); // stable: ties keep the given order
}

// pair_create.lua on one relay: [a, b], or an error text.
async function create(scripts, c, pairId, fields) {
	const keys = ['free', 'alloc', `pair:${pairId}`, 'events', 'relay'].map((n) => key(c.relay, n));
	const args = [pairId, MAXLEN, ...fields];
	if (c.aIp) args.push('a_ip', c.aIp);
	if (c.bIp) args.push('b_ip', c.bIp);
	try {
		return await scripts.run('pair_create', keys, args);
	} catch (e) {
		if (e instanceof Redis.ReplyError)
			return e.message;
		throw e;
	}
}

// The pair's entry in duet:{R}:ended (an object) once duetd writes it,
// reading from stream id `after` on; null at the deadline (Date.now() ms).
async function waitEnded(r, relay, pairId, after, deadline) {
	const stream = key(relay, 'ended');
	for (;;) {
		const leftMs = deadline - Date.now();
		if (leftMs <= 0)
			return null;
		// BLOCK 0 would wait forever: at least 1 ms.
		const reply = await r.xread('COUNT', 100, 'BLOCK', Math.max(leftMs, 1), 'STREAMS', stream, after);
		for (const [, entries] of reply ?? []) {
			for (const [entryId, flat] of entries) {
				after = entryId;
				const fields = {};
				for (let i = 0; i + 1 < flat.length; i += 2)
					fields[flat[i]] = flat[i + 1];
				if (fields.id === pairId)
					return fields;
			}
		}
	}
}

function usage(msg) {
	log(`pair_call.js: ${msg}\nusage: pair_call.js [--redis host:port|unix:/path] [--id ID] ` +
		'[--idle-ms N] [--timeout S] [--max-age-ms N] [--lua-dir DIR] RELAY[=A_IP,B_IP]...');
	process.exit(2);
}

async function main() {
	let opt;
	try {
		opt = parseArgs({
			allowPositionals: true,
			options: {
				redis: { type: 'string', default: '127.0.0.1:6379' },
				id: { type: 'string', default: `call-${crypto.randomBytes(6).toString('hex')}` },
				'idle-ms': { type: 'string' },
				timeout: { type: 'string', default: '3600' }, // seconds to wait for the end
				'max-age-ms': { type: 'string', default: '5000' }, // oldest fresh heartbeat
				'lua-dir': { type: 'string' },
			},
		});
	} catch (e) {
		usage(e.message);
	}
	const o = opt.values;
	const timeoutMs = Number(o.timeout) * 1000;
	const maxAgeMs = Number(o['max-age-ms']);
	if (opt.positionals.length === 0) usage('no relay given');
	if (!(timeoutMs > 0) || !(maxAgeMs > 0)) usage('--timeout and --max-age-ms take a positive number');
	if (o['idle-ms'] !== undefined && !/^\d+$/.test(o['idle-ms'])) usage('--idle-ms takes a number');
	const candidates = opt.positionals.map((c) => {
		const [relay, ips = ''] = c.split('=');
		const [aIp, bIp] = ips.split(',');
		return { relay, aIp, bIp };
	});
	const luaDir = (o['lua-dir'] ? [o['lua-dir']] : LUA_DIRS)
		.find((d) => d && fs.existsSync(path.join(d, 'pair_create.lua')));
	if (!luaDir) usage('pair_create.lua not found: give --lua-dir');

	// One connection, no reconnecting: a one-shot tool fails rather than
	// waits. (A long-running service keeps ioredis's retries and re-runs
	// Scripts.load(), or relies on the NOSCRIPT path, after a reconnect.)
	const target = o.redis.startsWith('unix:') || o.redis.startsWith('/')
		? { path: o.redis.replace(/^unix:/, '') }
		: { host: o.redis.slice(0, o.redis.lastIndexOf(':')).replace(/^\[|\]$/g, ''),
			port: Number(o.redis.slice(o.redis.lastIndexOf(':') + 1)) };
	const r = new Redis({ ...target, retryStrategy: () => null, maxRetriesPerRequest: 0 });
	r.on('error', () => {}); // each failed command reports it

	// The pair's own fields (mode defaults to passthrough: no keys needed).
	const fields = ['mode', 'passthrough'];
	if (o['idle-ms'] !== undefined) fields.push('idle_ms', o['idle-ms']);

	try {
		const scripts = new Scripts(r, luaDir);
		await scripts.load();
		let chosen = null;
		let after;
		let got;
		for (const c of await pickRelays(r, candidates, maxAgeMs)) {
			// Read the ended stream's last id before the create: the pair's
			// entry, however fast it comes, is after it.
			const last = await r.xrevrange(key(c.relay, 'ended'), '+', '-', 'COUNT', 1);
			after = last.length ? last[0][0] : '0-0';
			got = await create(scripts, c, o.id, fields);
			if (Array.isArray(got)) {
				chosen = c.relay;
				break;
			}
			log(`relay ${c.relay} refused pair ${o.id}: ${got}`);
			if (!NEXT_RELAY.some((code) => got.startsWith(code)))
				return 1;
		}
		if (chosen === null) {
			log(`no relay could take pair ${o.id}`);
			return 1;
		}
		const [a, b] = got;
		// What the signalling tells each caller: send your media here.
		console.log(`relay ${chosen}\nid ${o.id}\na ${a}\nb ${b}`);

		let ended = await waitEnded(r, chosen, o.id, after, Date.now() + timeoutMs);
		if (ended === null) {
			// The call outlived --timeout: end it. Naming its endpoints
			// leaves alone a pair created again under the id meanwhile.
			log(`pair ${o.id}: no end within ${o.timeout} s, deleting it`);
			const keys = ['free', 'alloc', `pair:${o.id}`, 'events'].map((n) => key(chosen, n));
			const done = await scripts.run('pair_delete', keys, [o.id, MAXLEN, a, b]);
			console.log(`delete ${done === 1 ? 'deleted' : 'gone'}`);
			if (done === 1) // duetd writes its call record for the pair we ended
				ended = await waitEnded(r, chosen, o.id, after, Date.now() + 5000);
		}
		// Else nothing to delete: after idle or expired duetd deletes the
		// record itself, after deleted it is gone, and after replaced the
		// record is whatever the writer who changed it made it.
		if (ended !== null)
			console.log(`ended ${ended.reason} duration_ms=${ended.duration_ms} ` +
				`a_pkts=${ended.a_pkts} b_pkts=${ended.b_pkts}`);
		return 0;
	} catch (e) {
		log(`redis: ${e.message}`);
		return 1;
	} finally {
		r.disconnect();
	}
}

main().then((rc) => { process.exitCode = rc; });
