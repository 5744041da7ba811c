#!/usr/bin/perl
#-------------------------------------------------------------------------
#
# code_footprint.pl
#		The code a statement runs, in cache lines and pages: from two
#		callgrind files of the same program (--dump-instr=yes), one run with
#		n statements and one with none, the instruction addresses of an
#		object executed at least n times more in the first, counted as
#		distinct 64-byte lines and 4 kB pages.
#
#	  perl code_footprint.pl full.cg base.cg n object-pattern...
#
# Prints, for each pattern (a substring of the object's path), one line:
# "<pattern> lines <l> pages <p> instructions <i>".  Used by
# bench/instructions.sh (FOOTPRINT=1).
#
# IDENTIFICATION
#	  bench/code_footprint.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

my ($full, $base, $n, @patterns) = @ARGV;
die "usage: code_footprint.pl full.cg base.cg n pattern...\n" unless @patterns;

# address => times executed, for each pattern, from one callgrind file
sub counts
{
	my ($path) = @_;
	my (%name, %count, $pattern, $addr, $after_call);
	open(my $fh, '<', $path) or die "$path: $!\n";
	while (my $line = <$fh>)
	{
		chomp $line;
		if ($line =~ /^c?ob=\((\d+)\)(?: (.*))?$/)
		{
			my ($id, $obj) = ($1, $2);
			$name{$id} = $obj if defined $obj;
			next if $line =~ /^cob=/;    # a callee's object: names it only
			$pattern = undef;
			foreach my $p (@patterns)
			{
				$pattern = $p if defined $name{$id} && index($name{$id}, $p) >= 0;
			}
			next;
		}
		if ($line =~ /^calls=/) { $after_call = 1; next; }
		if ($line =~ /^(0x[0-9a-f]+|[+-]\d+|\*)\s+\S+\s+(\d+)/)
		{
			my ($pos, $ir) = ($1, $2);
			if    ($pos =~ /^0x/) { $addr = hex($pos); }
			elsif ($pos =~ /^\+(\d+)/) { $addr += $1; }
			elsif ($pos =~ /^-(\d+)/)  { $addr -= $1; }
			# the line after calls= is the call's inclusive cost, not its own
			if ($after_call) { $after_call = 0; next; }
			$count{$pattern}{$addr} += $ir if defined $pattern;
			next;
		}
		$after_call = 0;
	}
	close $fh;
	return \%count;
}

my $f = counts($full);
my $b = counts($base);
foreach my $p (@patterns)
{
	my (%lines, %pages, $instr);
	while (my ($a, $c) = each %{ $f->{$p} || {} })
	{
		next if $c - ($b->{$p}{$a} // 0) < $n;
		$instr++;
		$lines{ $a >> 6 } = 1;
		$pages{ $a >> 12 } = 1;
	}
	printf "%s lines %d pages %d instructions %d\n", $p,
	  scalar(keys %lines), scalar(keys %pages), $instr // 0;
}
