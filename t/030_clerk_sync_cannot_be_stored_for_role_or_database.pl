# gtm.clerk_sync stored with ALTER ROLE / ALTER DATABASE is ignored at session
# start, and that session still cannot remove a tenant's last admin.
# The checks are the TAP shell test test/shell/clerk_guc.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('clerk_guc');
gtm_shell_tap($node, 'test/shell/clerk_guc.sh');
$node->stop;
done_testing();
