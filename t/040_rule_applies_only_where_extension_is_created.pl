# The tenant rule applies only in databases where CREATE EXTENSION ran, seen by
# sessions already connected (invalidation), and no longer after DROP EXTENSION.
# The checks are the TAP shell test test/shell/enforce_databases.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('enforce_databases');
gtm_shell_tap($node, 'test/shell/enforce_databases.sh');
$node->stop;
done_testing();
