# The pgTAP files of test/pgtap (who may execute what, SECURITY DEFINER
# with a pinned search_path, comments, what pg_dump keeps), each run in a
# database of a server that preloads the library, as pg_prove runs them.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('pgtap');
$node->safe_psql('postgres', 'CREATE DATABASE gtm_tap');
for my $file (sort glob(gtm_top() . '/test/pgtap/*.sql'))
{
	$file =~ s{^\Q@{[gtm_top()]}\E/}{};
	gtm_pgtap($node, 'gtm_tap', $file);
}
$node->stop;
done_testing();
