# Native sharding with postgres_fdw (hash partitions as foreign tables on two shard
# databases): rejected statements contact no shard and change nothing.
# The checks are the TAP shell test test/shell/fdw_shards.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('fdw_shards');
gtm_shell_tap($node, 'test/shell/fdw_shards.sh');
$node->stop;
done_testing();
