# pg_dump keeps the operator's Clerk role keys and the state of the Clerk events
# applied; a restored database goes on applying events from where the source stood.
# The checks are the TAP shell test test/shell/clerk_dump.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('clerk_dump');
gtm_shell_tap($node, 'test/shell/clerk_dump.sh');
$node->stop;
done_testing();
