# A flood of invalidations (cache resets) while the check plans: the backend
# survives and every verdict stays right.
# The checks are the TAP shell test test/shell/inval_flood.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('inval_flood');
gtm_shell_tap($node, 'test/shell/inval_flood.sh');
$node->stop;
done_testing();
