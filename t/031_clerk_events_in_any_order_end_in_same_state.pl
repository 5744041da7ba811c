# gtm_apply_clerk_event is order-independent: every permutation of a realistic
# sequence of Clerk webhooks (5,040 and 40,320 orders) ends in the in-order state.
# The checks are the TAP shell test test/shell/clerk_permutations.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('clerk_permutations');
gtm_shell_tap($node, 'test/shell/clerk_permutations.sh');
$node->stop;
done_testing();
