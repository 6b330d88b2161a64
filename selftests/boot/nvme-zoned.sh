# vm-nvme: zoned=true,zoned.zone_size=4M; zoned=true,zoned.zone_size=4M,logical_block_size=4096,physical_block_size=4096
#
# Zoned namespaces (QEMU's emulated NVMe ZNS: 64 MiB of 4 MiB zones, all
# sequential write required, zone append native) with 512- and 4096-byte
# blocks: the checks of t/64-zoned.sh (selftests/zoned.sh) on each, rcrypt
# against crypt. The namespaces are found by their block size, since the
# kernel scans them in parallel.
. "$SELFTESTS/lib.sh"
. "$SELFTESTS/zoned.sh"
ns512= ns4k=
for sys in /sys/block/nvme0n*; do
	[ -d "$sys" ] || continue
	ns=${sys##*/} bs=$(cat $sys/queue/logical_block_size)
	echo "$ns: $bs-byte blocks, zoned: $(cat $sys/queue/zoned), $(cat $sys/queue/nr_zones) zones"
	[ "$(cat $sys/queue/zoned)" = host-managed ] || continue
	case $bs in
	512) ns512=/dev/$ns ;;
	4096) ns4k=/dev/$ns ;;
	esac
done
[ -b "$ns512" ] && [ -b "$ns4k" ] ||
	die "no zoned NVMe namespaces of 512- and 4096-byte blocks (/dev: $(ls /dev | grep nvme | tr '\n' ' '))"
zoned_checks "$ns512" 0
zoned_checks "$ns4k" 0
[ $bad = 0 ] && echo "zoned namespaces behave as under crypt"
[ $bad = 0 ]
