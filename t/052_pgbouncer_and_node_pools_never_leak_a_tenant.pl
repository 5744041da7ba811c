# Behind connection pools (PgBouncer in transaction mode, node-postgres pg.Pool):
# a tenant never leaks from one client to the next, prepared statements included.
# The checks are the TAP shell test test/shell/pool_clients.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('pool_clients', tcp => 1);
gtm_shell_tap($node, 'test/shell/pool_clients.sh');
$node->stop;
done_testing();
