# vm-nvme: zoned=true,zoned.zone_size=4M; zoned=true,zoned.zone_size=4M,logical_block_size=4096,physical_block_size=4096
#
# Zoned namespaces (QEMU's emulated NVMe ZNS: 64 MiB of 4 MiB zones, all
# sequential write required, zone append native) with 512- and 4096-byte
# blocks: the checks of t/64-zoned.sh (selftests/zoned.sh) on each, rcrypt
# against crypt. The namespaces are found by their block size, since the
# kernel scans them in parallel.
. "$SELFTESTS/lib.sh"
. "$SELFTESTS/zoned.sh"
zoned() { echo "zoned: $(cat $1/queue/zoned), $(cat $1/queue/nr_zones) zones"; }
nvme_namespaces zoned
zoned_checks "$ns512" 0
zoned_checks "$ns4k" 0
[ $bad = 0 ] && echo "zoned namespaces behave as under crypt"
[ $bad = 0 ]
