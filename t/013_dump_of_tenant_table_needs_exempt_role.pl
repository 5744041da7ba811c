# pg_dump works for exempt roles (superuser, BYPASSRLS) and is refused, like COPY,
# for an ordinary role; the dump restores rows and exemptions.
# The checks are the TAP shell test test/shell/enforce_dump.sh, run against a server of
# its own that preloads the library.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('enforce_dump');
gtm_shell_tap($node, 'test/shell/enforce_dump.sh');
$node->stop;
done_testing();
