# The tenant rule on a 3-node Citus 13.2.2 cluster sharded by tenant_id
# (coordinator and two workers, shared_preload_libraries = 'citus,gtm_clarity'):
# each rejected statement changed nothing, each accepted one returned or
# wrote the right rows.  The checks are the TAP shell test
# test/shell/citus_cluster.sh, which builds its own cluster with the
# installation under test (GTM_CLUSTER_PG_CONFIG); it skips, saying why, when
# Citus is not installed there (test/lib/citus.sh) or on PostgreSQL 17/18.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

# no node of its own: a stand-in for the client environment of the script
my $node = PostgreSQL::Test::Cluster->new('citus_cluster');
my $pg_config = $node->config_data('--bindir') . '/pg_config';
gtm_shell_tap($node, 'test/shell/citus_cluster.sh',
	GTM_CLUSTER_PG_CONFIG => $ENV{GTM_CLUSTER_PG_CONFIG} || $pg_config);
done_testing();
