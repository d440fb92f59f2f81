# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# benchmarks/hugepages.sh: 2 MiB hugepages for the DPDK processes of the
# benchmarks and the demo (issue 11, item 5). bench.sh and tools/demo.sh
# source it: huge_reserve raises the kernel's pool of 2 MiB pages (per-size
# sysfs) to hold what they want and mounts hugetlbfs if nothing is mounted
# for that size; huge_release, from their EXIT trap, gives back exactly
# what huge_reserve took (the pool's old size, its own mount), never pages
# or mounts that were there before. Each benchmark part asks huge_usable
# whether its processes may use them, and huge_eal for the EAL options.
# The tests keep --no-huge (tools/lab's default): nothing here runs there.
# (A helper the demo shares belongs in tools/; the issue's work kept tools/
# but demo.sh unchanged, so it lives beside its main user.)
#
# Exported for the parts (bench.sh's children):
#   BENCH_HUGEPAGES  1: use hugepages; 0: --no-huge (HUGE_NOTE says why)
#   BENCH_HUGE_DIR   the hugetlbfs mount for 2 MiB pages
# Left for the caller: HUGE_NOTE, one line saying what was used and why.

HUGE_SYS=/sys/kernel/mm/hugepages/hugepages-2048kB
HUGE_NOTE=''
HUGE_OLD_NR=''    # the pool's size before huge_reserve changed it
HUGE_MOUNTED=''   # the mount huge_reserve made
HUGE_MADE_DIR=''  # the directory it made for it

# huge_free_mb: MiB of free 2 MiB pages.
huge_free_mb() {
	echo $(($(cat "$HUGE_SYS/free_hugepages" 2>/dev/null || echo 0) * 2))
}

# huge_mount_dir: a hugetlbfs mount of 2 MiB pages, or nothing.
huge_mount_dir() {
	local def
	def=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
	awk -v def="$def" '$3 == "hugetlbfs" {
		size = (def == 2048 ? "2M" : "")
		n = split($4, o, ",")
		for (i = 1; i <= n; i++) if (o[i] ~ /^pagesize=/) size = substr(o[i], 10)
		if (size == "2M" || size == "2048k") { print $2; exit }
	}' /proc/mounts
}

# huge_reserve MB [HEADROOM_MB]: make MB MiB of 2 MiB pages free and
# mounted, if the kernel has them and MemAvailable keeps HEADROOM_MB
# (default 4096) beside what is added. Sets and exports BENCH_HUGEPAGES
# and BENCH_HUGE_DIR, sets HUGE_NOTE. Always returns 0: without hugepages
# the DPDK processes run on --no-huge.
huge_reserve() {
	local want_mb=$1 headroom_mb=${2:-4096} want free nr add avail_mb dir did=''
	export BENCH_HUGEPAGES=0 BENCH_HUGE_DIR=''
	want=$(((want_mb + 1) / 2))
	if [[ ${BENCH_HUGE:-auto} == 0 ]]; then
		HUGE_NOTE="--no-huge (BENCH_HUGE=0)"
		return 0
	fi
	if [[ ! -w $HUGE_SYS/nr_hugepages ]] || ! grep -qw hugetlbfs /proc/filesystems; then
		HUGE_NOTE="--no-huge (the kernel has no 2 MiB hugepages or hugetlbfs, or they are not writable)"
		return 0
	fi
	free=$(cat "$HUGE_SYS/free_hugepages")
	nr=$(cat "$HUGE_SYS/nr_hugepages")
	if ((free < want)); then
		add=$((want - free))
		avail_mb=$(($(awk '/^MemAvailable:/ {print $2}' /proc/meminfo) / 1024))
		if ((avail_mb < add * 2 + headroom_mb)); then
			HUGE_NOTE="--no-huge (not enough free memory: $avail_mb MiB available, $((add * 2)) MiB of pages wanted beside $headroom_mb MiB for the rest)"
			return 0
		fi
		HUGE_OLD_NR=$nr
		echo $((nr + add)) >"$HUGE_SYS/nr_hugepages" 2>/dev/null
		free=$(cat "$HUGE_SYS/free_hugepages")
		if ((free < want)); then
			HUGE_NOTE="--no-huge (the kernel gave $((free * 2)) of $want_mb MiB of 2 MiB pages: memory too fragmented)"
			huge_release
			return 0
		fi
	fi
	dir=$(huge_mount_dir)
	if [[ -z $dir ]]; then
		dir=/dev/hugepages
		if mountpoint -q "$dir" 2>/dev/null || { [[ -e $dir && ! -d $dir ]]; }; then
			dir=$(mktemp -d /run/duet-hugepages.XXXXXX) && HUGE_MADE_DIR=$dir
		elif [[ ! -d $dir ]]; then
			mkdir -p "$dir" && HUGE_MADE_DIR=$dir
		fi
		if ! mount -t hugetlbfs -o pagesize=2M nodev "$dir" 2>/dev/null; then
			HUGE_NOTE="--no-huge (cannot mount hugetlbfs on $dir)"
			huge_release
			return 0
		fi
		HUGE_MOUNTED=$dir
	fi
	export BENCH_HUGEPAGES=1 BENCH_HUGE_DIR=$dir
	HUGE_NOTE="2 MiB hugepages, $((free * 2)) MiB free of $(($(cat "$HUGE_SYS/nr_hugepages") * 2)) MiB on $dir"
	[[ -n $HUGE_OLD_NR ]] && did="reserved $((($(cat "$HUGE_SYS/nr_hugepages") - HUGE_OLD_NR) * 2)) MiB"
	[[ -n $HUGE_MOUNTED ]] && did+="${did:+ and }mounted $HUGE_MOUNTED"
	if [[ -n $did ]]; then
		HUGE_NOTE+=" (the harness $did; undone at exit)"
	else
		HUGE_NOTE+=" (reserved and mounted before the run)"
	fi
	return 0
}

# huge_release: undo what huge_reserve did, and only that. For EXIT traps,
# after every DPDK process has stopped.
huge_release() {
	if [[ -n $HUGE_MOUNTED ]]; then
		umount "$HUGE_MOUNTED" 2>/dev/null || echo "hugepages: cannot unmount $HUGE_MOUNTED (busy?)" >&2
		HUGE_MOUNTED=''
	fi
	if [[ -n $HUGE_MADE_DIR ]]; then
		rmdir "$HUGE_MADE_DIR" 2>/dev/null
		HUGE_MADE_DIR=''
	fi
	if [[ -n $HUGE_OLD_NR ]]; then
		echo "$HUGE_OLD_NR" >"$HUGE_SYS/nr_hugepages" 2>/dev/null ||
			echo "hugepages: cannot set nr_hugepages back to $HUGE_OLD_NR" >&2
		HUGE_OLD_NR=''
	fi
}

# huge_usable MB: whether a part's DPDK processes, MB MiB together, may use
# hugepages now: not when the harness chose --no-huge (BENCH_HUGEPAGES=0);
# when run alone (BENCH_HUGEPAGES unset), if 2 MiB pages are mounted and
# enough of them free.
huge_usable() {
	[[ ${BENCH_HUGEPAGES:-auto} != 0 ]] || return 1
	[[ -n $(huge_mount_dir) ]] || return 1
	(($(huge_free_mb) >= $1))
}

# huge_eal ON MB: EAL memory options for one process: on hugepages
# (ON = 1), --in-memory, memory taken as it is needed; else --no-huge -m MB.
huge_eal() {
	if [[ $1 == 1 ]]; then echo "--in-memory"; else echo "--no-huge -m $2"; fi
}
