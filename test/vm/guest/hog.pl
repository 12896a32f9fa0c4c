#!/usr/bin/perl
# Memory hog for the vm tier's guest checks: hog.pl BYTES [READY_FILE [SECONDS]]
# Allocates BYTES of anonymous memory, writes a non-zero byte into every page (zero-filled pages would
# not be written to swap the same way), creates READY_FILE (when given) and sleeps SECONDS (default 600).
use strict;
use warnings;
my ($bytes, $ready, $secs) = @ARGV;
die "usage: hog.pl BYTES [READY_FILE [SECONDS]]\n" unless defined $bytes && $bytes =~ /^\d+$/ && $bytes > 0;
$secs //= 600;
my $x = "";
vec($x, $bytes - 1, 8) = 1;
for (my $i = 0; $i < $bytes; $i += 4096) { vec($x, $i, 8) = 1 }
if (defined $ready && $ready ne "") { open(my $f, ">", $ready) or die "$ready: $!"; close $f }
sleep $secs;
